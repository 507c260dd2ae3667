"""Coarse-to-fine search: narrow a space around the best trials, and notice when the best
value sits at the edge of a range, where the range should grow instead.

A search usually runs in stages: a coarse stage over wide ranges and a few epochs, then a
finer stage over the region where the best trials fell (Bergstra & Bengio 2012 argue for
random rather than grid points in every stage). :func:`narrow` computes that region.
A best value near the edge of its range is a warning sign: the optimum may lie outside, and
narrowing would only zoom in on the edge. :func:`edge_warnings` lists those cases and
:func:`widen` moves the edge out::

    trials = random_search(space, 50, rng)
    scores = [run(**t) for t in trials]
    best = trials[int(np.argmax(scores))]
    for message in edge_warnings(space, best):
        print(message)                 # e.g. learning_rate sits at the high edge ...
    space = narrow(space, trials, scores)            # never leaves the old ranges
    space = widen(space, "learning_rate", edge="high")  # only where a warning said so
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from .. import validation as check
from .spaces import Choice, IntUniform, LogUniform, Uniform, check_space

__all__ = ["PAD", "MIN_PAD", "KEEP", "MARGIN", "FACTOR", "narrow", "edge_warnings", "widen"]

#: The padding :func:`narrow` adds on each side of the best trials' span, as a fraction of
#: that span; at least ``MIN_PAD`` of the old range's width, so that a single best trial
#: still leaves a range.
PAD = 0.1
MIN_PAD = 0.05


#: The fraction of trials :func:`narrow` keeps; the share of a range, at each end, in
#: which :func:`edge_warnings` warns (below a half: the two zones must not cover it all);
#: how far :func:`widen` widens.
KEEP = check.Interval(Real, 0, 1, closed="right")
MARGIN = check.Interval(Real, 0, 0.5, closed="left")
FACTOR = check.Interval(Real, 1, None, closed="neither")


def _value(name, dim, value) -> float:
    """A range's value: a finite number (a positive one for a log range)."""
    return (check.POSITIVE if isinstance(dim, LogUniform) else check.FINITE).check(
        f"the value of {name!r}", value
    )


def _best(trials, scores, keep, higher_is_better):
    """The best ``ceil(keep * len(trials))`` trials (at least one), best first; NaN scores
    (a diverged run) rank last and are never kept."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (len(trials),):
        raise check.InvalidArgument(
            f"scores must hold one number per trial ({len(trials)}), got shape {scores.shape}"
        )
    finite = ~np.isnan(scores)
    if not finite.any():
        raise check.InvalidArgument("every score is NaN: no trial to narrow the space around")
    ranked = np.where(finite, scores if higher_is_better else -scores, -np.inf)
    order = np.argsort(-ranked, kind="stable")
    count = min(max(1, math.ceil(keep * len(trials))), int(finite.sum()))
    return [trials[i] for i in order[:count]]


def narrow(space, trials, scores, keep=0.2, higher_is_better=True):
    """A new space spanning the best ``keep`` fraction of ``trials``, slightly padded.

    For each range, the new bounds are the smallest and largest value among the best trials
    (on the log scale for :class:`~nntrain.search.spaces.LogUniform`), moved outward by
    ``PAD`` (10%) of that span, or by ``MIN_PAD`` (5%) of the old range's width if that is
    more, then clipped to the old range: ``narrow`` never leaves the old range. An
    :class:`~nntrain.search.spaces.IntUniform` range is rounded outward to integers. A
    :class:`~nntrain.search.spaces.Choice` keeps the options that occur among the best
    trials, in their original order. To search beyond a range's edge, check
    :func:`edge_warnings` and call :func:`widen`.

    Args:
        space: a dict of name -> dimension.
        trials: the trials that were run, dicts holding a value for every name of ``space``
            (other keys are ignored).
        scores: one number per trial; NaN (a run that diverged) counts as the worst.
        keep: the fraction of trials to keep, in (0, 1]; at least one trial is kept.
        higher_is_better: True for accuracies, False for losses.

    Returns:
        A new space (dict) with the same names; the input is not modified.

    Raises:
        ValueError: no trials, a score count that does not match, a trial without a value
            for some name, ``keep`` outside (0, 1], or every score NaN.
    """
    check_space(space)
    keep = KEEP.check("keep", keep)
    for i, trial in enumerate(check.non_empty_list("trials", trials, check.Constraint(), "dicts")):
        check.has_keys(f"trials[{i}]", trial, space)
    best = _best(trials, scores, keep, bool(higher_is_better))
    narrowed = {}
    for name, dim in space.items():
        values = [trial[name] for trial in best]
        if isinstance(dim, Choice):
            narrowed[name] = Choice(
                [o for o in dim.options if any(type(o) is type(v) and o == v for v in values)]
                or list(dim.options)
            )
            continue
        for v in values:
            _value(name, dim, v)
        old_lo, old_hi = dim.to_scale(dim.low), dim.to_scale(dim.high)
        scaled = [dim.to_scale(v) for v in values]
        pad = max(PAD * (max(scaled) - min(scaled)), MIN_PAD * (old_hi - old_lo))
        if min(scaled) >= old_hi:  # every best value lies beyond the high edge
            lo, hi = max(old_hi - 2 * pad, old_lo), old_hi
        elif max(scaled) <= old_lo:  # ... or beyond the low edge
            lo, hi = old_lo, min(old_lo + 2 * pad, old_hi)
        else:
            lo, hi = max(min(scaled) - pad, old_lo), min(max(scaled) + pad, old_hi)
        if isinstance(dim, IntUniform):
            low = max(dim.low, math.floor(lo))
            high = min(dim.high, math.ceil(hi))
            if low == high:
                low, high = (low, low + 1) if high < dim.high else (high - 1, high)
            narrowed[name] = IntUniform(int(low), int(high))
        else:
            # an edge kept is kept exactly (exp(log(x)) need not give x back)
            low = dim.low if lo <= old_lo else max(dim.from_scale(lo), dim.low)
            high = dim.high if hi >= old_hi else min(dim.from_scale(hi), dim.high)
            narrowed[name] = type(dim)(float(low), float(high))
    return narrowed


def edge_warnings(space, best_trial, margin=0.1):
    """Warnings for the best values that lie near the edge of their range.

    A value warns when it lies within ``margin`` of the range's width from ``low`` or
    ``high`` (on the log scale for :class:`~nntrain.search.spaces.LogUniform`), or outside
    the range: the best setting may be beyond the edge, and the range should be widened
    (:func:`widen`) rather than narrowed. :class:`~nntrain.search.spaces.Choice` dimensions
    have no edge and never warn.

    The warnings are returned, not emitted: nothing goes through :mod:`warnings`, so a
    notebook can print them, a test can assert on them, and a search loop can act on them.

    Args:
        space: a dict of name -> dimension.
        best_trial: a dict holding a value for every name of ``space``.
        margin: the width of the edge zone, as a fraction of the range, in [0, 0.5).

    Returns:
        A list of human-readable strings, one per dimension at an edge, in the order of
        ``space``; empty when every best value is comfortably inside its range.

    Example:
        >>> edge_warnings({"lr": LogUniform(1e-4, 1e-1)}, {"lr": 0.09})  # doctest: +ELLIPSIS
        ["lr = 0.09 lies at the high edge of LogUniform(low=0.0001, high=0.1) ..."]
    """
    check_space(space)
    margin = MARGIN.check("margin", margin)
    check.has_keys("best_trial", best_trial, space)
    messages = []
    for name, dim in space.items():
        if isinstance(dim, Choice):
            continue
        value = best_trial[name]
        _value(name, dim, value)
        t = dim.position(value)
        scale = " (on the log scale)" if isinstance(dim, LogUniform) else ""
        for edge, distance in (("low", t), ("high", 1 - t)):
            if distance <= margin:
                where = "outside the range, beyond" if distance < 0 else "at"
                messages.append(
                    f"{name} = {value:.4g} lies {where} the {edge} edge of {dim!r} (within "
                    f"{margin:.0%} of the range{scale}): the best {name} may lie beyond "
                    f"{getattr(dim, edge):g}. Widen the range there, e.g. "
                    f"widen(space, {name!r}, edge={edge!r}), rather than narrowing it."
                )
                break
    return messages


def widen(space, name, factor=10, *, edge="both"):
    """A copy of ``space`` whose range ``name`` reaches further beyond one edge (or both).

    For a :class:`~nntrain.search.spaces.LogUniform` range the edge moves by the factor:
    ``low / factor`` or ``high * factor`` (a decade for the default 10). For
    :class:`~nntrain.search.spaces.Uniform` and :class:`~nntrain.search.spaces.IntUniform`
    the width grows ``factor`` times, the added width placed beyond the chosen edge (split
    evenly for ``"both"``; an integer range is rounded outward). Only the range changes:
    a learning rate's ``Uniform`` range may cross zero, so prefer ``LogUniform`` for what
    must stay positive.

    Args:
        space: a dict of name -> dimension.
        name: the range to widen, a key of ``space``.
        factor: how far to widen, a real number > 1.
        edge: ``"low"``, ``"high"`` or ``"both"``; :func:`edge_warnings` says which.

    Returns:
        A new space (dict); the input is not modified.

    Raises:
        KeyError: ``name`` is not in ``space``.
        ValueError: ``factor <= 1``, an unknown ``edge``, or ``name`` is a ``Choice``
            (which has no edge: add options to it instead).
    """
    check_space(space)
    if name not in space:
        raise KeyError(f"{name!r} is not a hyperparameter of the space (it has {list(space)})")
    FACTOR.check("factor", factor)
    check.one_of("edge", edge, ("low", "high", "both"))
    dim = space[name]
    if isinstance(dim, Choice):
        raise check.InvalidArgument(
            f"{name!r} is a Choice, which has no edge to widen; build a new "
            f"Choice with more options instead"
        )
    low, high = dim.low, dim.high
    if isinstance(dim, LogUniform):
        low = low / factor if edge in ("low", "both") else low
        high = high * factor if edge in ("high", "both") else high
        new = LogUniform(float(low), float(high))
    else:
        extra = (factor - 1) * (high - low)
        if edge == "both":
            low, high = low - extra / 2, high + extra / 2
        elif edge == "low":
            low = low - extra
        else:
            high = high + extra
        if isinstance(dim, IntUniform):
            new = IntUniform(int(math.floor(low)), int(math.ceil(high)))
        else:
            new = Uniform(float(low), float(high))
    return {**space, name: new}
