"""Timing computations side by side, for the claims that compare their speed.

A ratio of two times means something only when both were measured under the same
conditions, and on a shared machine (Colab's CPU, an autograder grading a class, a laptop
running a browser) the load changes from one second to the next. :func:`side_by_side`
therefore times the computations in alternation, ``repeat`` rounds in which each runs
``number`` times, and keeps each one's fastest round: a burst of load slows one round of
every computation instead of all the rounds of one. And each computation runs on one
thread (BLAS and PyTorch alike), since a busy machine takes cores from multi-threaded work
first: a two-thread computation next to a one-thread one would lose most of its time to
waiting for a descheduled thread, and a ratio that holds on an idle machine would flip on
a loaded one (chapter 7's did, at 0.7x). Chapters assert only how such times
compare (one computation at least so many times faster than another), never a time itself;
the times they print are those of the machine that ran them.

Used by chapters 1, 4 and 7, and by ``make bench``.

:data:`HANG_SECONDS` is the one wall-clock limit a cell of the book ever meets (the book
build, nbval and the classroom grader): it stops a cell that hangs, never a slow one.
"""

from __future__ import annotations

import contextlib
import sys
import time

import threadpoolctl

from . import validation as check

__all__ = ["HANG_SECONDS", "side_by_side"]

#: The longest one cell may run in the book build (``_config.yml``), nbval (``pytest.ini``)
#: and the classroom grader before it is taken for a hang: an hour. No slow or busy machine
#: comes near it (the slowest cell takes about 10 s on a quiet 2-core machine, 40 s with
#: four other processes on its two cores); tests/test_busy_machine.py keeps the three in step.
HANG_SECONDS = 3600


def side_by_side(computations, *, repeat=5, number=1, sync=None, threads=1):
    """Time every computation in alternation; return the fastest seconds per call of each,
    and the result of each one's last call.

    Args:
        computations: a dict from a name to a function of no arguments.
        repeat: rounds; each computation's fastest round is kept.
        number: calls of each computation per round (their mean is the round's time).
        sync: a function called before each clock read, e.g. ``torch.cuda.synchronize``,
            so that work queued on a GPU is counted where it belongs.
        threads: the CPU threads each computation may use (NumPy's BLAS and PyTorch's), for
            the timing only; None leaves them as they are.

    Returns:
        ``(seconds, results)``: two dicts keyed like ``computations``.

    Example:
        >>> seconds, results = side_by_side({"sum": lambda: sum(range(1000)),
        ...                                  "len": lambda: len(range(1000))})
        >>> results["sum"], seconds["sum"] > 0
        (499500, True)
    """
    if not isinstance(computations, dict) or not computations:
        raise ValueError(
            f"computations must be a non-empty dict of functions, got {computations!r}"
        )
    check.positive_int("repeat", repeat)
    check.positive_int("number", number)
    sync = sync or (lambda: None)
    seconds = {name: float("inf") for name in computations}
    results = {}
    with _threads(threads):
        for _ in range(repeat):
            for name, fn in computations.items():
                sync()
                start = time.perf_counter()
                for _ in range(number):
                    results[name] = fn()
                sync()
                seconds[name] = min(seconds[name], (time.perf_counter() - start) / number)
    return seconds, results


@contextlib.contextmanager
def _threads(count):
    """At most ``count`` BLAS and PyTorch threads for the block (None: no limit)."""
    if count is None:
        yield
        return
    check.positive_int("threads", count)
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch else None
    try:
        with threadpoolctl.threadpool_limits(count):
            if torch:
                torch.set_num_threads(count)
            yield
    finally:
        if torch:
            torch.set_num_threads(before)
