"""Benchmark: K trials trained in one batched computation against K sequential runs.

Times :func:`nntrain.search.train_batched` on K random-search trials (learning rate, L2
strength and initial weight scale drawn log-uniformly) against K calls of
:func:`nntrain.train.train`, the loop every chapter uses, on the normalized digits, on the
CPU. Two sequential baselines: the NumPy :class:`nntrain.reference.FullyConnectedNet` (the
fastest way to train one such small net on a CPU) and its PyTorch twin
:class:`nntrain.torch.FullyConnectedNet` (the net a chapter moves to a GPU). The batched
run and the NumPy one compute the same numbers (the script checks the final weights of every
trial that ran to the end), so their ratio is the speed-up of batching alone.

Not a test: run it by hand from the repository root::

    .venv/bin/python benchmarks/batched_trials.py            # K=64, [100] hidden, 5 epochs
    .venv/bin/python benchmarks/batched_trials.py --trials 16 --epochs 10 --dtype float32

Timings depend on the machine and on what else runs on it; each side is timed ``--repeat``
times and the fastest run is reported.

What limits the speed-up on a CPU: every trial still does all its own arithmetic (about
18 GFLOP for the default settings, the per-epoch accuracies included). The sequential NumPy
runs do it at an effective 17 GFLOP/s: their matrix products alone run at about 65 GFLOP/s,
and the rest of their time goes to Python and small array operations. Batching removes most
of that overhead, but it cannot beat the CPU's peak matrix-product rate (about 110 GFLOP/s
in float64 and 210 in float32 on two cores of an AMD EPYC), which caps the float64 speed-up
near 6x; the passes over the K activation tensors, too large for the caches, keep the batched
run at about half of that peak. On that machine the default run measured 0.38 s batched
against 1.04 s for the NumPy runs (2.8x) and 3.3 s for the torch twin (8.6x); float32
(``--dtype float32``) measured about 4x against the NumPy runs, and ``--batch-size 32``
3.5x (float64) and 6x (float32).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NNTRAIN_QUIET", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import nntrain  # noqa: E402
import nntrain.torch  # noqa: E402
from nntrain.data import load_digits_split, map_inputs  # noqa: E402
from nntrain.reference.preprocessing import Standardize  # noqa: E402
from nntrain.search import LogUniform, random_search, train_batched  # noqa: E402
from nntrain.train import TrainingDiverged, train  # noqa: E402

SPACE = {
    "learning_rate": LogUniform(1e-3, 1e-1),
    "reg": LogUniform(1e-5, 1e-1),
    "weight_scale": LogUniform(1e-3, 1e-1),
}


def sequential(data, trials, hidden, epochs, batch_size, tree="reference", dtype=torch.float64):
    """Train each trial on its own, as a chapter would, with the NumPy reference net or its
    torch twin (on the CPU); the nets (None where training diverged)."""
    nets = []
    for t in trials:
        if tree == "reference":
            net = nntrain.FullyConnectedNet(hidden, input_dim=64, num_classes=10,
                                            weight_scale=t["weight_scale"], reg=t["reg"], seed=0)
        else:
            net = nntrain.torch.FullyConnectedNet(hidden, input_dim=64, num_classes=10,
                                                  weight_scale=t["weight_scale"], reg=t["reg"],
                                                  seed=0, dtype=dtype)
        try:
            train(net, data, learning_rate=t["learning_rate"], momentum=0.9,
                  batch_size=batch_size, epochs=epochs, seed=0, keep_best=False,
                  progress=False)
        except TrainingDiverged:
            net = None
        nets.append(net)
    return nets


def fastest(fn, repeat):
    best, out = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=64)
    parser.add_argument("--hidden", type=int, nargs="+", default=[100])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    raw = load_digits_split(seed=0)
    data = map_inputs(raw, Standardize().fit(raw["X_train"]).transform)
    trials = random_search(SPACE, args.trials, np.random.default_rng(0))
    dtype = getattr(torch, args.dtype)
    print(f"{args.trials} trials, hidden {args.hidden}, {args.epochs} epochs, batch size "
          f"{args.batch_size}, {len(data['X_train'])} training digits; CPU, "
          f"{torch.get_num_threads()} torch threads, batched in {args.dtype}")

    t_batched, results = fastest(lambda: train_batched(
        data, trials, hidden_dims=args.hidden, epochs=args.epochs,
        batch_size=args.batch_size, device="cpu", dtype=dtype), args.repeat)
    t_numpy, nets = fastest(lambda: sequential(data, trials, args.hidden, args.epochs,
                                               args.batch_size), args.repeat)
    t_torch, _ = fastest(lambda: sequential(data, trials, args.hidden, args.epochs,
                                            args.batch_size, "torch", dtype), args.repeat)

    finished = [(r, n) for r, n in zip(results, nets) if n is not None and not r.stopped]
    error = max((float(np.abs(r.params[k] - n.params[k]).max()) for r, n in finished
                 for k in n.params), default=float("nan"))
    rows = [(f"batched, train_batched ({args.dtype})", t_batched,
             f"{sum(r.stopped for r in results)} trials stopped early"),
            ("sequential, NumPy reference (float64)", t_numpy,
             f"{sum(n is None for n in nets)} runs diverged"),
            (f"sequential, torch twin ({args.dtype})", t_torch, "")]
    for name, seconds, note in rows:
        print(f"{name:40} {seconds:7.3f} s   speed-up of batching {seconds / t_batched:5.1f}x"
              f"   {note}".rstrip())
    print(f"largest weight difference from the NumPy runs over the {len(finished)} trials "
          f"both finished: {error:.2e}")


if __name__ == "__main__":
    main()
