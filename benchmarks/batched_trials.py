"""Benchmark: K trials trained in one batched computation against K sequential runs.

Times :func:`nntrain.search.train_batched` on K random-search trials (learning rate, L2
strength and initial weight scale drawn log-uniformly) against K calls of
:func:`nntrain.train.train`, the loop every chapter uses, on the normalized digits, on the
CPU. Two sequential baselines: the NumPy :class:`nntrain.reference.FullyConnectedNet` (the
fastest way to train one such small net on a CPU) and its PyTorch twin
:class:`nntrain.torch.FullyConnectedNet` (the net a chapter moves to a GPU). The batched
run and the NumPy one compute the same numbers (the script checks the final weights of every
trial that ran to the end), so their ratio is the speed-up of batching alone.

What limits the speed-up on a CPU: every trial still does all its own arithmetic. The
benchmark counts the floating-point operations of the matrix products (forward, both
backward products, and the per-epoch evaluation of both splits) and reports the rate the
batched run achieves beside the machine's peak, measured here on square matrix products of
the same dtype. Batching removes Python's per-step overhead but cannot beat that peak; on a
GPU (``--device cuda``) the same products run at the accelerator's rate.

Two more figures: what stopped trials cost, the time of K trials that all stop at their
second iteration (a learning rate of 1000: the loss explodes after the first update) beside
K trials that run to the end, measured side by side, with a target of at most 0.35 (a
stopped trial leaves the batched products); and, when a CUDA GPU is present, the speed-up
of the same batched run on it over the CPU, with its achieved rate beside its own peak (on
a machine without one, a record says the GPU part was skipped).

``make bench`` runs it with the defaults (64 trials, [100] hidden, 5 epochs); alone::

    .venv/bin/python -m benchmarks.batched_trials --trials 16 --epochs 10 --dtype float32

Each side is timed ``--repeat`` times and the fastest run is kept.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("NNTRAIN_QUIET", "1")

import nntrain  # noqa: E402
import nntrain.torch  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from nntrain.data import load_digits_split, map_inputs  # noqa: E402
from nntrain.reference.preprocessing import Standardize  # noqa: E402
from nntrain.search import LogUniform, random_search, train_batched  # noqa: E402
from nntrain.timing import side_by_side  # noqa: E402
from nntrain.train import TrainingDiverged, train  # noqa: E402

SPACE = {
    "learning_rate": LogUniform(1e-3, 1e-1),
    "reg": LogUniform(1e-5, 1e-1),
    "weight_scale": LogUniform(1e-3, 1e-1),
}

#: The most that K trials which all stop at their second iteration may take, as a share of
#: K trials that run to the end: a stopped trial must cost (almost) nothing.
STOPPED_SHARE = 0.35

#: The side of the square matrices whose product measures a device's peak rate: large
#: enough to reach it (a GPU needs far larger products than a CPU core).
PEAK_SIZE = {"cpu": 2048, "cuda": 8192}


def sequential(data, trials, hidden, epochs, batch_size, tree="reference", dtype=torch.float64):
    """Train each trial on its own, as a chapter would, with the NumPy reference net or its
    torch twin (on the CPU); the nets (None where training diverged)."""
    nets = []
    for t in trials:
        if tree == "reference":
            net = nntrain.FullyConnectedNet(
                hidden,
                input_dim=64,
                num_classes=10,
                weight_scale=t["weight_scale"],
                reg=t["reg"],
                seed=0,
            )
        else:
            net = nntrain.torch.FullyConnectedNet(
                hidden,
                input_dim=64,
                num_classes=10,
                weight_scale=t["weight_scale"],
                reg=t["reg"],
                seed=0,
                dtype=dtype,
            )
        try:
            train(
                net,
                data,
                learning_rate=t["learning_rate"],
                momentum=0.9,
                batch_size=batch_size,
                epochs=epochs,
                seed=0,
                keep_best=False,
                progress=False,
            )
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


def training_flops(sizes, n_train, n_val, batch_size, epochs):
    """Floating-point operations of the matrix products of one trial's training: per
    example and layer, 2 d_in d_out for the forward product and twice that for the two
    backward ones; after every epoch, one forward pass over both splits."""
    per_example = 2 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    return epochs * (3 * per_example * n_train + per_example * (n_train + n_val))


def matmul_peak(dtype, device, n, repeat=5):
    """The device's rate of square ``n x n`` matrix products, in GFLOP/s."""
    a = torch.randn(n, n, dtype=dtype, device=device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    a @ a
    sync()

    def product():
        a @ a
        sync()

    seconds, _ = fastest(product, repeat)
    return 2 * n**3 / seconds / 1e9


def measure(
    report,
    trials=64,
    hidden=(100,),
    epochs=5,
    batch_size=100,
    dtype="float64",
    repeat=3,
    device="cpu",
):
    """Add to ``report`` the batched and sequential times, the speed-ups, the achieved rate
    beside the peak, the share of the time that stopped trials take and, on the CPU, the
    speed-up a CUDA GPU gives (when there is one)."""
    raw = load_digits_split(seed=0)
    data = map_inputs(raw, Standardize().fit(raw["X_train"]).transform)
    space = random_search(SPACE, trials, np.random.default_rng(0))
    hidden, dtype, device = list(hidden), getattr(torch, dtype), torch.device(device)
    label = f"{trials} trials, {epochs} epochs, {device.type}, {str(dtype)[6:]}"

    def batched(trials, on=device):
        return train_batched(
            data,
            trials,
            hidden_dims=hidden,
            epochs=epochs,
            batch_size=batch_size,
            device=on,
            dtype=dtype,
        )

    t_batched, results = fastest(lambda: batched(space), repeat)
    t_numpy, nets = fastest(lambda: sequential(data, space, hidden, epochs, batch_size), repeat)
    t_torch, _ = fastest(
        lambda: sequential(data, space, hidden, epochs, batch_size, "torch", dtype), repeat
    )
    finished = [(r, n) for r, n in zip(results, nets) if n is not None and not r.stopped]
    error = max(
        (float(np.abs(r.params[k] - n.params[k]).max()) for r, n in finished for k in n.params),
        default=float("nan"),
    )

    report.add(f"batched trials ({label}): batched time", t_batched, "s")
    report.add(f"batched trials ({label}): sequential NumPy time", t_numpy, "s")
    report.add(f"batched trials ({label}): sequential torch twin time", t_torch, "s")
    report.add(
        f"batched trials ({label}): speed-up over sequential NumPy",
        t_numpy / t_batched,
        "x",
        at_least=1.5,
    )
    report.add(
        f"batched trials ({label}): speed-up over sequential torch twin",
        t_torch / t_batched,
        "x",
        at_least=1.5,
    )
    report.add(
        f"batched trials ({label}): largest weight difference from NumPy",
        error,
        "",
        at_most=1e-8 if dtype == torch.float64 else 1e-2,
    )
    sizes = [data["X_train"].shape[1], *hidden, 10]
    flops = trials * training_flops(
        sizes, len(data["X_train"]), len(data["X_val"]), batch_size, epochs
    )
    rate(report, label, device, dtype, flops / t_batched / 1e9)
    stopped_share(report, label, batched, space, repeat)
    if device.type == "cpu":
        gpu_speed_up(report, label, batched, space, dtype, flops, t_batched, repeat)


def rate(report, label, device, dtype, achieved):
    """Record the achieved rate, the device's matrix-product peak and their ratio."""
    n = PEAK_SIZE.get(device.type, PEAK_SIZE["cuda"])
    peak = matmul_peak(dtype, device, n)
    report.add(f"batched trials ({label}): achieved rate", achieved, "GFLOP/s")
    report.add(f"matrix-product peak ({device.type}, {str(dtype)[6:]}, {n} x {n})", peak, "GFLOP/s")
    report.add(f"batched trials ({label}): share of the peak", achieved / peak, "")


def stopped_share(report, label, batched, space, repeat):
    """Record the time of ``len(space)`` trials that all stop at their second iteration (a
    learning rate of 1000) against that of ``space``'s, timed side by side."""
    stopping = [dict(t, learning_rate=1e3, weight_scale=0.1) for t in space]
    seconds, runs = side_by_side(
        {"healthy": lambda: batched(space), "stopping": lambda: batched(stopping)},
        repeat=repeat,
        threads=None,
    )
    at_two = sum(r.stop_iteration == 2 for r in runs["stopping"])
    report.add(
        f"batched trials ({label}): trials of the stopping run stopped at iteration 2",
        at_two,
        "",
        at_least=len(space),
    )
    report.add(
        f"batched trials ({label}): time of {len(space)} trials stopped at iteration 2 "
        f"/ {len(space)} that run to the end",
        seconds["stopping"] / seconds["healthy"],
        "x",
        at_most=STOPPED_SHARE,
    )


def gpu_speed_up(report, label, batched, space, dtype, flops, t_cpu, repeat):
    """With a CUDA GPU: record the batched run's time there, its speed-up over the CPU and
    its achieved rate beside the GPU's peak. Without one: a record that says so."""
    if not torch.cuda.is_available():
        report.add(f"batched trials ({label}) on a CUDA GPU", "skipped: no CUDA GPU", "")
        return
    cuda = torch.device("cuda")
    batched(space, cuda)  # CUDA's start-up and the kernels' first launches, not timed
    seconds, _ = side_by_side(
        {"cuda": lambda: batched(space, cuda)},
        repeat=repeat,
        sync=torch.cuda.synchronize,
        threads=None,
    )
    gpu = label.replace("cpu", "cuda")
    report.add(f"batched trials ({gpu}): batched time", seconds["cuda"], "s")
    report.add(f"batched trials ({gpu}): speed-up over the CPU", t_cpu / seconds["cuda"], "x")
    rate(report, gpu, cuda, dtype, flops / seconds["cuda"] / 1e9)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=64)
    parser.add_argument("--hidden", type=int, nargs="+", default=[100])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from benchmarks.report import Report

    report = Report()
    measure(
        report,
        args.trials,
        args.hidden,
        args.epochs,
        args.batch_size,
        args.dtype,
        args.repeat,
        args.device,
    )
    raise SystemExit(report.finish())


if __name__ == "__main__":
    main()
