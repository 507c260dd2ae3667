"""Independent pieces of work spread over the machine's cores, in forked processes.

A chapter's sweep (one training run per learning rate and seed) and the frames of a static
slider figure are lists of independent, seeded computations: :func:`fork_map` computes
``[fn(item) for item in items]`` in worker processes forked from this one, so ``fn`` may be
a closure or a lambda defined in a notebook (the workers inherit it, nothing is pickled but
the results), and the results are those the loop would give, in order.

Forking is used on Linux only, where it is cheap and safe for NumPy and matplotlib work
(elsewhere, and in a worker, the loop runs here), with one worker per core this process may
use, at most :data:`MAX_WORKERS`. Each worker computes on one thread (its BLAS and torch
thread pools limited to 1, so that the workers do not fight over the cores) and runs with
``NNTRAIN_QUIET=1``, so no progress bar of theirs reaches the notebook. On a one-core
machine, or a busy one, the result is the same and only the time changes.

Used by chapters 0 to 4 for their sweeps, and by :mod:`nntrain.widgets` for the frames.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import sys

import threadpoolctl

__all__ = ["MAX_WORKERS", "workers", "fork_map", "frozen_heap"]

#: The most worker processes :func:`fork_map` starts.
MAX_WORKERS = 4

# What the forked workers compute: (fn, items), inherited from the parent at the fork.
_work = None
_in_worker = False


def workers(tasks, *, min_per_worker=1):
    """How many processes :func:`fork_map` uses for ``tasks`` tasks: one per core this
    process may run on, at most :data:`MAX_WORKERS` and at most one per ``min_per_worker``
    tasks; 1 (no fork) off Linux and inside a worker."""
    if sys.platform != "linux" or _in_worker:
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), MAX_WORKERS, tasks // min_per_worker))


def fork_map(fn, items, *, min_per_worker=1):
    """``[fn(item) for item in items]``, computed in forked worker processes where that
    helps (see :func:`workers`); ``fn``'s results must be picklable.

    Example:
        >>> fork_map(lambda x: x * x, [1, 2, 3])
        [1, 4, 9]
    """
    global _work
    items = list(items)
    count = workers(len(items), min_per_worker=min_per_worker)
    if count < 2:
        return [fn(item) for item in items]
    _work = fn, items
    try:
        with (
            frozen_heap(),
            multiprocessing.get_context("fork").Pool(count, initializer=_start_worker) as pool,
        ):
            return pool.map(_run, range(len(items)), chunksize=1)  # balances uneven tasks
    finally:
        _work = None


@contextlib.contextmanager
def frozen_heap():
    """Keep the objects that exist now out of the garbage collector's scans for the block.

    A notebook's kernel holds hundreds of thousands of long-lived objects (PyTorch's, the
    data's), and work that makes many short-lived cycles (a matplotlib frame makes
    thousands) triggers collections that scan them all: about a quarter of a frame's time.
    ``gc.freeze`` moves them to a generation that is never scanned (and, before a fork,
    spares the workers copying the pages a scan would touch); new objects are collected as
    usual. Does nothing when something else has frozen objects already.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _start_worker():
    global _in_worker
    _in_worker = True
    os.environ["NNTRAIN_QUIET"] = "1"
    threadpoolctl.threadpool_limits(1)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _run(index):
    fn, items = _work
    return fn(items[index])
