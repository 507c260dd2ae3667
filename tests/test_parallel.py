"""nntrain.parallel: the loop's results, in order, computed in forked workers."""

import os

import numpy as np
import pytest
from nntrain import parallel
from nntrain.parallel import fork_map

MANY_CORES = parallel.workers(64) >= 2
needs_cores = pytest.mark.skipif(not MANY_CORES, reason="needs two free cores on Linux")


@needs_cores
def test_results_are_the_loop_s_in_order_from_other_processes():
    scale = 3.0  # a closure over a local, as a notebook cell's lambda would be
    out = fork_map(lambda i: (i, scale * np.arange(i).sum(), os.getpid()), range(10))
    assert [(i, s) for i, s, _ in out] == [(i, scale * np.arange(i).sum()) for i in range(10)]
    assert os.getpid() not in {pid for *_, pid in out}


@needs_cores
def test_workers_are_quiet_and_do_not_fork_again(monkeypatch):
    monkeypatch.delenv("NNTRAIN_QUIET", raising=False)
    out = fork_map(lambda _: (os.environ.get("NNTRAIN_QUIET"), parallel.workers(64)), [0, 1])
    assert out == [("1", 1), ("1", 1)]
    assert "NNTRAIN_QUIET" not in os.environ


@needs_cores
def test_an_error_in_a_worker_reaches_the_caller():
    def fail(i):
        if i == 3:
            raise ValueError("item 3 is bad")
        return i

    with pytest.raises(ValueError, match="item 3 is bad"):
        fork_map(fail, range(6))


def test_one_worker_runs_the_loop_here(monkeypatch):
    monkeypatch.setattr(parallel, "MAX_WORKERS", 1)
    assert fork_map(lambda _: os.getpid(), range(3)) == [os.getpid()] * 3
    assert fork_map(len, []) == []


def test_workers(monkeypatch):
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    monkeypatch.setattr(parallel.sys, "platform", "linux")
    assert [parallel.workers(n) for n in (1, 3, 100)] == [1, 3, parallel.MAX_WORKERS]
    assert [parallel.workers(n, min_per_worker=4) for n in (3, 8, 12)] == [1, 2, 3]
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert parallel.workers(100) == 1
    monkeypatch.setattr(parallel.sys, "platform", "darwin")
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert parallel.workers(100) == 1


def test_frozen_heap_freezes_for_the_block_only_and_respects_others(monkeypatch):
    import gc

    assert gc.get_freeze_count() == 0
    with parallel.frozen_heap():
        assert gc.get_freeze_count() > 0
        cycle = []
        cycle.append(cycle)  # made inside the block: still collected
        del cycle
        assert gc.collect() >= 1
    assert gc.get_freeze_count() == 0
    gc.freeze()  # someone else's freeze is left as it is: neither redone nor undone
    try:
        calls = []
        monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
        monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
        with parallel.frozen_heap():
            pass
        assert calls == []
    finally:
        monkeypatch.undo()
        gc.unfreeze()


def test_training_diverged_crosses_from_a_worker():
    """A diverged run in a worker reaches the caller as TrainingDiverged (unpicklable
    exceptions used to hang the pool)."""
    import pickle

    from nntrain.train import History, TrainingDiverged

    error = TrainingDiverged("diverged at iteration 3", 3, History())
    again = pickle.loads(pickle.dumps(error))
    assert (str(again), again.iteration) == ("diverged at iteration 3", 3)
    with pytest.raises(TrainingDiverged, match="iteration 3"):
        fork_map(_diverge, [0, 1, 2, 3], min_per_worker=1)


def _diverge(x):
    from nntrain.train import History, TrainingDiverged

    if x == 2:
        raise TrainingDiverged("diverged at iteration 3", 3, History())
    return x
