"""The Colab path: what a reader gets who opens a chapter on Colab.

Colab gives a Python with numpy, matplotlib, torch, ipywidgets, scikit-learn (and tqdm,
ipykernel, nbclient) but not the package. The test builds such an environment, a fresh
virtual environment holding only those (at the versions requirements.txt pins, and nothing
else of the book's), copies a chapter notebook out of the repository, and runs it there from
top to bottom. The notebook's own setup cell installs the package: from the path in
NNTRAIN_SOURCE (a copy of code/) instead of the repository URL it uses on Colab.

Where the package is already installed (the book's own environment), the setup cell installs
nothing: `test_setup_cell_does_nothing_where_the_package_is_installed`.

The Colab run is marked `colab` (deselect with `-m "not colab"`); it runs in `make test`.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
#: What Colab has preinstalled and the chapters need, besides the standard library.
COLAB_PACKAGES = (
    "numpy",
    "matplotlib",
    "ipywidgets",
    "scikit-learn",
    "tqdm",
    "torch",
    "ipykernel",
    "nbclient",
)
#: The chapter that runs end to end on the Colab-like environment.
COLAB_CHAPTER = "00_network"
#: Environment variables of the book's build and tests that a Colab kernel does not have.
NOT_ON_COLAB = (
    "MPLBACKEND",
    "NNTRAIN_QUIET",
    "NNTRAIN_STATIC",
    "NNTRAIN_SOURCE",
    "PYTHONPATH",
    "PYTHONHOME",
    "VIRTUAL_ENV",
    "JUPYTER_PATH",
    "JUPYTER_CONFIG_DIR",
    "JUPYTER_DATA_DIR",
    "IPYTHONDIR",
)


def pinned(names):
    """`name==version` for each name, as requirements.txt pins it."""
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("#")[0].strip().split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return [f"{name}=={pins[name]}" for name in names]


def setup_cell(chapter):
    notebook = json.loads((ROOT / "book" / f"{chapter}.ipynb").read_text())
    return "".join(notebook["cells"][0]["source"])


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} failed:\n{(result.stdout + result.stderr)[-6000:]}"
    )
    return result.stdout


@pytest.fixture(scope="module")
def colab(tmp_path_factory, book_report):
    """A fresh virtual environment with only Colab's packages, and an environment for its
    processes with none of the book's settings. Returns (python, env, folder)."""
    start = time.perf_counter()
    folder = tmp_path_factory.mktemp("colab")
    run([sys.executable, "-m", "venv", folder / "venv"])
    python = folder / "venv" / "bin" / "python"
    run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *pinned(COLAB_PACKAGES),
        ],
        timeout=900,
    )
    env = {k: v for k, v in os.environ.items() if k not in NOT_ON_COLAB}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    # Kernels read no user-level IPython or Jupyter settings of this machine.
    for name, sub in (
        ("IPYTHONDIR", "ipython"),
        ("JUPYTER_CONFIG_DIR", "jupyter-config"),
        ("JUPYTER_DATA_DIR", "jupyter-data"),
    ):
        env[name] = str(folder / sub)
    book_report["timings"]["Colab: fresh environment"] = time.perf_counter() - start
    return python, env, folder


def importable(python, env, name):
    code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({name!r}) is None)"
    return subprocess.run([python, "-c", code], env=env).returncode == 0


@pytest.mark.colab
def test_the_colab_environment_holds_only_what_colab_has(colab):
    python, env, _ = colab
    for name in ("numpy", "matplotlib", "torch", "ipywidgets", "sklearn", "tqdm", "ipykernel"):
        assert importable(python, env, name), name
    for name in ("nntrain", "jupyter_book", "nbval", "hypothesis", "selenium"):
        assert not importable(python, env, name), f"{name} should not be in the Colab venv"


# Runs in the Colab environment: execute a notebook with its own kernel, as Colab does.
RUN_NOTEBOOK = """
import sys, nbformat
from nbclient import NotebookClient
path, out = sys.argv[1], sys.argv[2]
allow_errors = sys.argv[4:] == ["--allow-errors"]
nb = nbformat.read(path, as_version=4)
try:
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": sys.argv[3]}}).execute()
finally:
    nbformat.write(nb, out)
"""


@pytest.mark.colab
def test_chapter_runs_on_a_colab_like_environment(colab, book_report):
    """A copy of the chapter, outside the repository, run top to bottom: its setup cell
    installs the package from NNTRAIN_SOURCE, and every later cell runs."""
    python, env, folder = colab
    assert not importable(python, env, "nntrain"), "the package must not be there before"
    source = folder / "nntrain-source"
    shutil.copytree(
        ROOT / "code",
        source,
        ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build", "*.pyc"),
    )
    workdir = folder / "notebooks"
    workdir.mkdir()
    notebook = workdir / f"{COLAB_CHAPTER}.ipynb"
    shutil.copy(ROOT / "book" / f"{COLAB_CHAPTER}.ipynb", notebook)
    executed = workdir / f"{COLAB_CHAPTER}.executed.ipynb"
    script = folder / "run_notebook.py"
    script.write_text(RUN_NOTEBOOK)

    start = time.perf_counter()
    result = subprocess.run(
        [python, script, notebook, executed, workdir],
        env={**env, "NNTRAIN_SOURCE": str(source)},
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    book_report["timings"]["Colab: chapter run, package install included"] = (
        time.perf_counter() - start
    )
    assert result.returncode == 0, f"the chapter failed on Colab:\n{result.stderr[-8000:]}"

    cells = nbformat.read(executed, as_version=4).cells
    setup_text = "".join(o.get("text", "") for o in cells[0].outputs)
    assert "you may need to restart the kernel" in setup_text, (
        "the setup cell did not run pip:\n" + setup_text
    )
    where = run([python, "-c", "import nntrain; print(nntrain.__file__)"], env=env).strip()
    assert Path(where).is_relative_to(folder / "venv"), f"nntrain imported from {where}"
    errors = [
        o for c in cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    code = [c for c in cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "a cell did not run"


@pytest.mark.colab
def test_student_version_runs_on_a_colab_like_environment(colab, tmp_path):
    """The student version of a chapter (nntrain.classroom, through nbgrader) on Colab:
    every cell runs, and only graded cells fail, as their answers are stubs that raise."""
    from nntrain import classroom

    python, env, folder = colab
    classroom.assign(tmp_path / "course", [COLAB_CHAPTER], commit="0" * 40)
    workdir = tmp_path / "student"
    workdir.mkdir()
    notebook = workdir / f"{COLAB_CHAPTER}.ipynb"
    shutil.copy(tmp_path / "course" / "release" / COLAB_CHAPTER / notebook.name, notebook)
    executed = workdir / "executed.ipynb"
    script = folder / "run_notebook.py"
    script.write_text(RUN_NOTEBOOK)
    source = folder / "nntrain-source"
    if not source.exists():
        shutil.copytree(ROOT / "code", source, ignore=shutil.ignore_patterns("*.egg-info"))
    result = subprocess.run(
        [python, script, notebook, executed, workdir, "--allow-errors"],
        env={**env, "NNTRAIN_SOURCE": str(source)},
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-8000:]
    cells = [c for c in nbformat.read(executed, as_version=4).cells if c.cell_type == "code"]
    assert all(c.execution_count for c in cells), "a cell did not run"
    failed = {
        i: [o.ename for o in c.outputs if o.output_type == "error"]
        for i, c in enumerate(cells)
        if any(o.output_type == "error" for o in c.outputs)
    }
    graded = {i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade")}
    assert failed and set(failed) <= graded, f"cells {sorted(set(failed) - graded)} failed"
    assert {e for errors in failed.values() for e in errors} <= {
        "AssertionError",
        "NotImplementedError",
    }


def test_setup_cell_does_nothing_where_the_package_is_installed(monkeypatch):
    """In the book's own environment, where nntrain is installed, the setup cell of every
    chapter makes no %pip call, even with NNTRAIN_SOURCE naming a path that does not exist.
    The control at the end shows the recorder would have seen one."""
    monkeypatch.setenv("NNTRAIN_SOURCE", "/nonexistent/nntrain")
    from nntrain import __file__ as installed  # the book's environment has it

    record = (
        "pip_calls = []\n"
        "get_ipython().register_magic_function(\n"
        "    lambda line: pip_calls.append(line), magic_kind='line', magic_name='pip')"
    )
    hide = (
        "import importlib.util\n"
        "_find_spec = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *args: (\n"
        "    None if name == 'nntrain' else _find_spec(name, *args))"
    )
    chapters = sorted(p.stem for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    cells = [record]
    for chapter in chapters:
        cells += [setup_cell(chapter), "print('calls:', pip_calls)"]
    cells += [hide, setup_cell(chapters[0]), "print('calls:', pip_calls)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=300, kernel_name="python3").execute()

    calls = [
        o["text"].strip()
        for c in nb.cells
        for o in c.outputs
        if o.get("text", "").startswith("calls:")
    ]
    assert installed
    assert calls[:-1] == ["calls: []"] * len(chapters), "a setup cell ran pip"
    assert calls[-1] == "calls: ['install --quiet /nonexistent/nntrain']", (
        "the control (package hidden) did not reach %pip"
    )
