"""One Optuna study shared by worker processes through a real PostgreSQL server, as machines
of a cluster would share it: nntrain.search.create_study with a postgresql+psycopg URL.

The fixture makes a throwaway cluster (initdb) in a temporary folder, starts its server on
a free port of 127.0.0.1 with its socket in that folder, creates a database, and stops the
server and removes the folder afterwards, whatever happens. PostgreSQL refuses to run as
root, so under root (as CI runs) the server programs run as Debian's `postgres` user.
Without PostgreSQL (Debian's package `postgresql`) or psycopg these tests skip with a
notice; under CI=true they fail instead (.ci/run installs the package).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from nntrain.data import load_digits_split, map_inputs
from nntrain.reference.preprocessing import Standardize
from nntrain.search import Choice, LogUniform, create_study, optuna_objective

optuna = pytest.importorskip("optuna")


#: The workers' search space (written out in WORKER too).
SPACE = {
    "learning_rate": LogUniform(1e-3, 0.3),
    "weight_scale": LogUniform(1e-2, 0.3),
    "batch_size": Choice([64, 128]),
}


def unavailable(message):
    """Skip with ``message``, or fail under CI, which requires these tests."""
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; CI requires the PostgreSQL tests")
    pytest.skip(message + ": PostgreSQL tests skipped")


def server_programs():
    """The folder of PostgreSQL's initdb, pg_ctl and createdb: the one of an initdb on the
    PATH, or Debian's /usr/lib/postgresql/<version>/bin (newest version first); None if
    there is neither."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """The URL of a database on a fresh PostgreSQL server, stopped and removed at the end."""
    bin_dir = server_programs()
    if bin_dir is None:
        unavailable(
            "PostgreSQL is not installed (Debian package postgresql; no initdb on the PATH "
            "or in /usr/lib/postgresql/*/bin)"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -r requirements.txt)")
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    folder = Path(tempfile.mkdtemp(prefix="nntrain-postgres-"))  # in /tmp: postgres can reach it
    if as_root:
        shutil.chown(folder, "postgres", "postgres")
    data, log, port = folder / "data", folder / "server.log", free_port()

    def run(*command):
        done = subprocess.run(
            [*run_as, *map(str, command)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"{command[0]} failed:\n{done.stdout}\n{done.stderr}"

    started = False
    try:
        run(bin_dir / "initdb", "-D", data, "-U", "nntrain", "--auth=trust", "-E", "UTF8",
            "--locale=C", "--no-sync")  # fmt: skip
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        started = True
        run(bin_dir / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "30", "start")
        run(bin_dir / "createdb", "-h", "127.0.0.1", "-p", port, "-U", "nntrain", "study")
        yield f"postgresql+psycopg://nntrain@127.0.0.1:{port}/study"
    finally:
        if started:
            subprocess.run(
                [*run_as, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def quiet_optuna():
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(before)


# A worker: opens the study with a heartbeat and runs trials of a tiny net on the digits.
# With a `hang` trial number, that trial writes the file `marker` and sleeps, to be killed.
WORKER = textwrap.dedent("""
    import os, sys, time, warnings
    os.environ["NNTRAIN_QUIET"] = "1"
    import optuna
    from nntrain.data import load_digits_split, map_inputs
    from nntrain.reference.preprocessing import Standardize
    from nntrain.search import Choice, LogUniform, create_study, optuna_objective

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    url, name, worker, n_trials, hang, marker = sys.argv[1:7]
    worker, n_trials, hang = int(worker), int(n_trials), int(hang)
    raw = load_digits_split(seed=0)
    data = map_inputs(raw, Standardize().fit(raw["X_train"]).transform)
    space = {"learning_rate": LogUniform(1e-3, 0.3), "weight_scale": LogUniform(1e-2, 0.3),
             "batch_size": Choice([64, 128])}  # SPACE
    objective = optuna_objective(data, hidden_dims=[8], epochs=2, space=space)

    def tagged(trial):
        trial.set_user_attr("worker", worker)
        if trial.number == hang:
            open(marker, "w").close()
            time.sleep(600)
        return objective(trial)

    study = create_study(url, name, sampler=optuna.samplers.RandomSampler(seed=worker),
                         heartbeat_interval=1, grace_period=2)
    study.optimize(tagged, n_trials=n_trials)
    print("done", worker)
""")


def start_worker(script, url, name, worker, n_trials, hang=-1, marker=""):
    return subprocess.Popen(
        [sys.executable, str(script), url, name, str(worker), str(n_trials), str(hang), marker],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def count_rows(url, study_name):
    """The trials of ``study_name`` in the database, by state, read with SQL (not Optuna)."""
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT t.state, count(*) FROM trials t JOIN studies s USING (study_id) "
            "WHERE s.study_name = %s GROUP BY t.state",
            (study_name,),
        ).fetchall()
    return dict(rows)


def test_two_worker_processes_share_one_study_on_postgres(postgres, tmp_path, quiet_optuna):
    create_study(postgres, "shared")  # created once, so that the workers only load it
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    workers = [start_worker(script, postgres, "shared", w, 3) for w in (0, 1)]
    for w, proc in enumerate(workers):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
        assert out.strip() == f"done {w}"
    study = create_study(postgres, "shared")
    assert len(study.trials) == 6
    assert sorted(t.user_attrs["worker"] for t in study.trials) == [0, 0, 0, 1, 1, 1]
    assert sorted(t.number for t in study.trials) == list(range(6))
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    assert all(t.state in finished for t in study.trials)
    rows = count_rows(postgres, "shared")  # every trial is in the server's tables
    assert sum(rows.values()) == 6 and set(rows) <= {"COMPLETE", "PRUNED"}


def test_a_killed_worker_s_trial_is_failed_and_the_study_resumes(postgres, tmp_path, quiet_optuna):
    """A worker killed in its third trial: without the heartbeat Optuna would leave that
    trial RUNNING; with it, the next worker's study.optimize marks it FAIL and goes on."""
    script, marker = tmp_path / "worker.py", tmp_path / "hanging"
    script.write_text(WORKER)
    proc = start_worker(script, postgres, "killed", 0, 5, hang=2, marker=str(marker))
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the worker never reached its third trial"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # mid-trial: no chance to record anything
    proc.communicate(timeout=30)
    State = optuna.trial.TrialState
    loaded = optuna.load_study(study_name="killed", storage=postgres)
    assert [t.state for t in loaded.trials] == [State.COMPLETE] * 2 + [State.RUNNING]

    time.sleep(2.5)  # longer than the grace period since the last heartbeat
    with pytest.warns(optuna.exceptions.ExperimentalWarning, match="heartbeat_interval"):
        study = create_study(postgres, "killed", heartbeat_interval=1, grace_period=2)
    before = [(t.number, t.params, t.value) for t in loaded.trials[:2]]
    raw = load_digits_split(seed=0)
    data = map_inputs(raw, Standardize().fit(raw["X_train"]).transform)
    study.optimize(optuna_objective(data, hidden_dims=[8], epochs=2, space=SPACE), n_trials=2)
    states = [t.state for t in study.trials]
    finished = (State.COMPLETE, State.PRUNED)
    assert states[:3] == [State.COMPLETE, State.COMPLETE, State.FAIL]
    assert len(states) == 5 and all(state in finished for state in states[3:])
    assert [(t.number, t.params, t.value) for t in study.trials[:2]] == before
    assert study.trials[2].user_attrs["worker"] == 0  # the interrupted trial, kept
    rows = count_rows(postgres, "killed")
    assert rows["FAIL"] == 1 and rows["COMPLETE"] + rows.get("PRUNED", 0) == 4


def test_create_study_tells_a_path_from_a_url_and_checks_the_heartbeat(postgres, tmp_path):
    assert create_study(postgres, "directions").direction.name == "MAXIMIZE"
    with pytest.raises(ValueError, match=r"'directions' in postgresql\+psycopg://nntrain@"):
        create_study(postgres, "directions", direction="minimize")
    with pytest.raises(ValueError, match="grace_period needs heartbeat_interval"):
        create_study(postgres, "other", grace_period=2)
    with pytest.raises(ValueError, match="heartbeat_interval must be a positive integer"):
        create_study(postgres, "other", heartbeat_interval=0)
    with pytest.raises(TypeError, match="storage must be a file path or a database URL"):
        create_study(5432, "other")
    # a path is still an SQLite file, with the heartbeat too
    with pytest.warns(optuna.exceptions.ExperimentalWarning):
        study = create_study(tmp_path / "local.db", "local", heartbeat_interval=1)
    assert (tmp_path / "local.db").exists() and study.study_name == "local"
