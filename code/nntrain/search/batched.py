"""Many trials at once: K fully connected nets trained side by side in one computation.

A hyperparameter search trains the same small network many times with different learning
rates, regularization strengths and initial scales. Trained one after the other, each run
spends much of its time in Python and in small array operations around a few small matrix
products per minibatch; trained together, the K runs become a few large batched products
per minibatch. Every parameter
gets a leading trial dimension, :math:`W_\\ell \\in \\mathbb{R}^{K \\times D_{\\ell-1}
\\times D_\\ell}`, and every step is the one :func:`nntrain.train.train` takes, for all
trials at once:

.. math::
    v_k \\leftarrow \\mu v_k - \\eta_k \\nabla_{\\theta_k} L_k, \\qquad
    \\theta_k \\leftarrow \\theta_k + v_k, \\qquad k = 1, \\dots, K,

with :math:`L_k` the softmax loss of trial :math:`k` plus its penalty
:math:`\\tfrac12 \\lambda_k \\sum_\\ell \\lVert W_{k\\ell} \\rVert^2`. The forward and backward
passes are written out (as in :class:`nntrain.reference.FullyConnectedNet`) with batched
matrix products. The trials share nothing but the minibatches: each trial's numbers depend
on its own slice only, so a trial that diverges cannot disturb the others.

A trial stops early (the rule of :func:`should_stop`) when its loss becomes NaN or infinite
or exceeds three times its first value: its parameters stay as they were before that
minibatch, its history ends there, and the other trials go on without it. It also leaves
the computation: the stacked parameters are compacted to the trials still running
(``index_select`` along the trial dimension), so every later product has one matrix fewer
and a stopped trial costs nothing more (``make bench`` times 64 trials that all stop at
their second iteration against 64 that run to the end).

:func:`resume_batched` trains the trials of an earlier call for more epochs, from their
parameters and momentum, with the minibatch order they would have had: training for
:math:`e_1` epochs and resuming to :math:`e_2` gives what training for :math:`e_2` at once
gives. Successive halving (:mod:`nntrain.search.halving`) resumes the trials it keeps.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import validation as check
from ..train import History

__all__ = ["TRIAL_KEYS", "should_stop", "TrialResult", "train_batched", "resume_batched"]

#: The hyperparameters a trial of :func:`train_batched` may set, with the value a missing
#: key takes (the defaults of :func:`nntrain.train.train` and
#: :class:`nntrain.reference.FullyConnectedNet`).
TRIAL_KEYS = {"learning_rate": 1e-2, "reg": 0.0, "weight_scale": 1e-2}

#: The factor of :func:`should_stop` used by :func:`train_batched`.
STOP_FACTOR = 3.0

#: The accuracies and the validation loss are measured in chunks of examples whose hidden
#: activations, for all K trials, take about this many bytes (small enough for the CPU's
#: caches: chunks of 1000 digits for 64 trials run twice as slowly).
EVAL_BYTES = 8 * 2**20


def should_stop(costs, factor=STOP_FACTOR):
    """The early-stop rule of a search: give up on a run whose cost has exploded.

    True when the latest cost is NaN or infinite, or exceeds ``factor`` times the first
    (initial) cost: a run whose loss has tripled is diverging, and a search gains nothing by
    finishing it (the cs231n rule of thumb; a loss that fluctuates that much means a learning
    rate far too high).

    Args:
        costs: the costs so far (losses per iteration), first to latest; at least one.
        factor: the allowed growth, a real number > 0.

    Returns:
        A bool.

    Example:
        >>> should_stop([2.3, 2.1, 7.0])
        True
        >>> should_stop([2.3, 2.1, 1.2])
        False
    """
    check.positive("factor", factor)
    costs = [float(c) for c in costs]
    if not costs:
        raise ValueError("costs must hold at least one cost, got an empty sequence")
    latest = costs[-1]
    return not math.isfinite(latest) or latest > factor * costs[0]


@dataclass(frozen=True)
class _Run:
    """What the trials of one :func:`train_batched` call share: the architecture, the data's
    sizes and the training arguments (a resumed trial must keep them all)."""

    hidden_dims: tuple
    input_dim: int
    num_classes: int
    n_train: int
    n_val: int
    batch_size: int
    momentum: float
    seed: int
    device: torch.device
    dtype: torch.dtype


@dataclass
class TrialResult:
    """What :func:`train_batched` returns for one trial.

    Attributes:
        trial: the trial's hyperparameters, with the defaults of missing keys filled in.
        history: the run's :class:`nntrain.train.History`: the loss at every iteration (with
            the penalty) and the accuracies and validation loss after every completed epoch;
            ``best_epoch`` is the epoch of the highest validation accuracy; ``seconds`` is
            the wall-clock time of the whole batched run, shared by all its trials.
        params: the final parameters, NumPy arrays keyed ``W1, b1, ..., WL, bL`` as in
            :class:`nntrain.reference.FullyConnectedNet` (no best-epoch restore).
        stopped: whether the trial stopped early (see :func:`should_stop`).
        stop_iteration: the iteration (counted from 1) whose loss stopped it, or None.
        stop_reason: why it stopped, in words; empty when it did not.

    A result also keeps the trial's momentum and the run's shared arguments, so that
    :func:`resume_batched` can train it further.
    """

    trial: dict
    history: History
    params: dict
    stopped: bool = False
    stop_iteration: int | None = None
    stop_reason: str = ""
    _run: _Run | None = field(default=None, repr=False, init=False)
    _velocity: dict = field(default_factory=dict, repr=False, init=False)

    @property
    def best_val_acc(self) -> float:
        """The highest validation accuracy of any completed epoch (NaN if none completed)."""
        return max(self.history.val_acc, default=math.nan)

    def net(self):
        """The trained network as a :class:`nntrain.reference.FullyConnectedNet` holding
        copies of ``params`` (with the trial's ``reg``), ready for ``loss``,
        :func:`nntrain.train.accuracy` or more training."""
        from ..reference.fc_net import FullyConnectedNet

        net = FullyConnectedNet(
            list(self._run.hidden_dims),
            input_dim=self._run.input_dim,
            num_classes=self._run.num_classes,
            weight_scale=self.trial["weight_scale"],
            reg=self.trial["reg"],
            dtype=self.params["W1"].dtype,
        )
        for name, value in self.params.items():
            net.params[name] = value.copy()
        return net


def _check_trials(trials):
    """The trials as dicts with every key of :data:`TRIAL_KEYS`, as plain floats."""
    if isinstance(trials, dict) or not isinstance(trials, (list, tuple)):
        raise TypeError(
            f"trials must be a list of dicts such as {{'learning_rate': 1e-2, "
            f"'reg': 1e-4, 'weight_scale': 1e-2}}, got {type(trials).__name__}"
        )
    if not trials:
        raise ValueError("trials must hold at least one trial (K >= 1), got an empty list")
    filled = []
    for i, trial in enumerate(trials):
        if not isinstance(trial, dict):
            raise TypeError(f"trials[{i}] must be a dict, got {type(trial).__name__}")
        unknown = sorted(set(trial) - set(TRIAL_KEYS), key=str)
        if unknown:
            raise ValueError(
                f"trials[{i}] has unknown keys {unknown}; train_batched varies "
                f"only {sorted(TRIAL_KEYS)} (the others are arguments shared by "
                f"all trials)"
            )
        trial = {**TRIAL_KEYS, **trial}
        check.positive(f"trials[{i}]['learning_rate']", trial["learning_rate"])
        check.positive(f"trials[{i}]['reg']", trial["reg"], allow_zero=True)
        check.positive(f"trials[{i}]['weight_scale']", trial["weight_scale"])
        filled.append({k: float(trial[k]) for k in TRIAL_KEYS})
    return filled


def _device_and_dtype(device, dtype):
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating-point torch.dtype, got {dtype!r}")
    if device is None:
        from .. import device as best_device

        device = best_device()
    device = torch.device(device)
    if device.type == "mps" and dtype == torch.float64:
        raise TypeError("MPS has no float64: pass dtype=torch.float32 (or device='cpu')")
    return device, dtype


# --------------------------------------------------------------------------------------
# The batched network: parameters W (K, D_in, D_out), b (K, D_out); inputs shared.
# --------------------------------------------------------------------------------------


def _forward(Ws, bs, X):
    """Scores ``(K, B, C)`` and each hidden layer's ReLU output ``(K, B, D_l)``; the inputs
    ``X`` ``(B, D)`` are shared by all trials (expanded, not copied)."""
    h, hidden = X.expand(Ws[0].shape[0], *X.shape), []
    for W, b in zip(Ws[:-1], bs[:-1]):
        h = torch.baddbmm(b.unsqueeze(1), h, W).relu_()  # relu(h W + b), trial by trial
        hidden.append(h)
    return torch.baddbmm(bs[-1].unsqueeze(1), h, Ws[-1]), hidden


def _log_softmax(scores):
    """Log-probabilities over the last axis, shifted by the row maximum as in the
    reference's ``softmax_loss`` (and, for ten classes, faster than ``torch.log_softmax``
    on the CPU)."""
    shifted = scores - scores.amax(-1, keepdim=True)
    return shifted - shifted.exp().sum(-1, keepdim=True).log()


def _data_loss(log_probs, y):
    """The softmax loss of every trial, ``(K,)``, from its log-probabilities."""
    picked = log_probs.gather(-1, y.expand(log_probs.shape[0], -1).unsqueeze(-1))
    return -picked.squeeze(-1).mean(-1)


def _loss_and_grads(Ws, bs, reg, X, y):
    """The loss ``(K,)`` of every trial (data loss plus penalty) and the gradients of every
    ``W`` and ``b``, by the backward pass of the reference network."""
    scores, hidden = _forward(Ws, bs, X)
    log_probs = _log_softmax(scores)
    loss = _data_loss(log_probs, y) + 0.5 * reg * sum((W * W).sum((1, 2)) for W in Ws)
    n = X.shape[0]
    dz = log_probs.exp_()  # the softmax, minus 1 at the label, over the batch size
    dz[:, torch.arange(n, device=X.device), y] -= 1
    dz /= n
    inputs = [X.expand(Ws[0].shape[0], *X.shape), *hidden]
    dWs, dbs = [None] * len(Ws), [None] * len(Ws)
    for i in range(len(Ws) - 1, -1, -1):
        # dW = h^T dz + reg W; db = sum of dz over the batch
        dWs[i] = torch.baddbmm(reg[:, None, None] * Ws[i], inputs[i].transpose(1, 2), dz)
        dbs[i] = dz.sum(1)
        if i > 0:  # back through W, then through the ReLU: zero where its output is 0
            # (relu_backward of the reference; aten's kernel is many times faster on the
            # CPU than a mask product or torch.where)
            dz = torch.ops.aten.threshold_backward(
                torch.bmm(dz, Ws[i].transpose(1, 2)), inputs[i], 0
            )
    return loss, dWs, dbs


@torch.no_grad()
def _evaluate(Ws, bs, X, y):
    """Correct predictions ``(K,)`` (a count) and data loss ``(K,)`` of every trial on
    ``(X, y)``, in chunks."""
    K = Ws[0].shape[0]
    width = max(W.shape[2] for W in Ws)
    chunk = max(16, EVAL_BYTES // (K * width * Ws[0].element_size()))
    correct = torch.zeros(K, dtype=torch.int64, device=X.device)
    loss_sum = torch.zeros(K, dtype=Ws[0].dtype, device=X.device)
    for start in range(0, X.shape[0], chunk):
        xb, yb = X[start : start + chunk], y[start : start + chunk]
        scores, _ = _forward(Ws, bs, xb)
        correct += (scores.argmax(-1) == yb).sum(1)
        loss_sum += _data_loss(_log_softmax(scores), yb) * xb.shape[0]
    return correct, loss_sum / X.shape[0]


def _stop_reason(loss, first, factor):
    if not math.isfinite(loss):
        return f"the loss is {loss} (not finite)"
    return f"the loss {loss:.4g} exceeds {factor:g} times the first loss {first:.4g}"


@torch.no_grad()
def train_batched(
    data,
    trials,
    *,
    hidden_dims,
    epochs,
    batch_size,
    momentum=0.9,
    seed=0,
    device=None,
    dtype=torch.float64,
):
    """Train one fully connected ReLU net per trial, all K in one batched computation.

    Trial ``k`` is trained exactly as ::

        net = nntrain.reference.FullyConnectedNet(hidden_dims, input_dim, num_classes,
                                                  weight_scale=..., reg=..., seed=seed)
        train(net, data, learning_rate=..., momentum=momentum, batch_size=batch_size,
              epochs=epochs, seed=seed, keep_best=False)

    would train it: the same initial draws (one ``np.random.default_rng(seed)`` standard
    normal matrix per layer, scaled by each trial's ``weight_scale``; zero biases), the same
    minibatch order (``np.random.default_rng(seed).permutation`` every epoch, shared by all
    trials), the same softmax loss with the penalty :math:`\\tfrac12 \\lambda \\sum \\lVert W
    \\rVert^2`, and the same momentum update, so in float64 the results agree to rounding.
    Only the divergence rule differs: a trial is stopped when :func:`should_stop` says so
    (NaN, infinite, or more than three times its first loss), instead of raising
    :class:`~nntrain.train.TrainingDiverged` as ``train`` does for a thousandfold growth;
    from then on it is left out of the batched products, so it costs nothing (the stop test
    reads one flag per iteration on the host, the only synchronization of a GPU run before
    the end).

    Random search over the learning rate, ``reg`` and ``weight_scale`` (Bergstra & Bengio
    2012) then costs a fraction of the sequential runs: ``make bench`` measures the speed-up
    (2.4x in float64 for 64 trials against the NumPy reference on two CPU cores, at 59
    GFLOP/s against a matrix-product peak of 108, the limit on a CPU).

    Args:
        data: dict with ``X_train, y_train, X_val, y_val`` (NumPy arrays; inputs of any
            shape are flattened; the number of classes is the largest label plus one).
        trials: a non-empty list of dicts with keys among ``learning_rate``, ``reg`` and
            ``weight_scale`` (:data:`TRIAL_KEYS`; a missing key takes its default), e.g. the
            output of :func:`nntrain.search.spaces.random_search`.
        hidden_dims: widths of the hidden layers, shared by all trials, e.g. ``[100]``.
        epochs: passes over the training set.
        batch_size: examples per update.
        momentum: :math:`\\mu \\in [0, 1)`, shared by all trials.
        seed: seed of the initial weights and of the minibatch order.
        device: where to compute; None picks :func:`nntrain.device`.
        dtype: the floating dtype of parameters and computations (float64 matches the
            reference net; float32 is faster, and needed on Apple's MPS).

    Returns:
        A list of K :class:`TrialResult`, in the order of ``trials``; pass it to
        :func:`resume_batched` to train them further.

    Raises:
        ValueError: no trials, a trial with a key other than those of :data:`TRIAL_KEYS`, a
            value out of range, or malformed data.

    Example:
        >>> from nntrain.data import load_digits_split
        >>> from nntrain.search import LogUniform, random_search
        >>> data = load_digits_split(seed=0)
        >>> trials = random_search({"learning_rate": LogUniform(1e-3, 1)}, 64, 0)
        >>> results = train_batched(data, trials, hidden_dims=[100], epochs=5,
        ...                         batch_size=100, device="cpu")
        >>> best = max(results, key=lambda r: r.best_val_acc)
        >>> best.best_val_acc > 0.9
        True
    """
    trials = _check_trials(trials)
    arrays, num_classes = check.classification_splits(data)
    (X_train, y_train), (_, y_val) = arrays["train"], arrays["val"]
    sizes = check.relu_net_sizes(hidden_dims, X_train.shape[1], num_classes)
    _check_run(epochs, batch_size, momentum, seed)
    device, dtype = _device_and_dtype(device, dtype)
    run = _Run(
        tuple(hidden_dims),
        X_train.shape[1],
        num_classes,
        len(y_train),
        len(y_val),
        int(batch_size),
        float(momentum),
        int(seed),
        device,
        dtype,
    )

    start = time.perf_counter()
    Ws, bs = _initial_parameters(sizes, trials, seed, device, dtype)
    params = [*Ws, *bs]
    velocity = [torch.zeros_like(p) for p in params]
    records = _train(run, arrays, trials, params, velocity, None, range(epochs))
    return _results(run, trials, records, time.perf_counter() - start)


@torch.no_grad()
def resume_batched(data, results, *, epochs):
    """Train the trials of an earlier :func:`train_batched` call further, to ``epochs``
    epochs in all.

    Each trial that was still running goes on from its parameters and its momentum, with
    the minibatch orders that epochs :math:`e_0 + 1, \\dots, e` of one run of ``epochs``
    epochs would have drawn (the orders of the first :math:`e_0` are drawn again and
    skipped), and with the stop rule measured against its first loss. So
    ``resume_batched(data, train_batched(data, trials, epochs=3, ...), epochs=9)`` gives
    what ``train_batched(data, trials, epochs=9, ...)`` gives, to rounding, for the cost of
    six epochs: this is how successive halving (:mod:`nntrain.search.halving`) trains the
    trials it keeps. A trial that had stopped is returned unchanged.

    Args:
        data: the data the results were trained on (same splits and sizes).
        results: a non-empty list of :class:`TrialResult` from :func:`train_batched` (or
            from this function) with the same shared arguments (``hidden_dims``,
            ``batch_size``, ``momentum``, ``seed``, ``device``, ``dtype``); those still
            running must have run the same number of epochs :math:`e_0`. A subset of one
            call's results is fine (the trials do not depend on each other).
        epochs: the number of epochs in all, more than :math:`e_0`.

    Returns:
        A list of :class:`TrialResult` in the order of ``results``: each running trial with
        its history extended (losses, accuracies, ``best_epoch`` over all epochs;
        ``seconds`` adds this call's time), each stopped one as it was.

    Raises:
        TypeError: ``results`` is not a list of results of :func:`train_batched`.
        ValueError: results of runs with different shared arguments, running trials that
            ran different numbers of epochs, ``epochs`` not more than they ran, or data of
            other sizes.

    Example:
        >>> from nntrain.data import load_digits_split
        >>> data = load_digits_split(seed=0)
        >>> trials = [{"learning_rate": 0.05}, {"learning_rate": 0.01}]
        >>> short = train_batched(data, trials, hidden_dims=[20], epochs=1, batch_size=100,
        ...                       device="cpu")
        >>> longer = resume_batched(data, short, epochs=3)
        >>> [len(r.history.val_acc) for r in longer]
        [3, 3]
    """
    run, done = _check_results(results)
    check.positive_int("epochs", epochs)
    if epochs <= done:
        raise ValueError(
            f"epochs must be more than the {done} epochs the running trials have run (it "
            f"counts all epochs), got {epochs}"
        )
    arrays, num_classes = check.classification_splits(data)
    sizes = (arrays["train"][0].shape[1], num_classes, *(len(a[1]) for a in arrays.values()))
    expected = (run.input_dim, run.num_classes, run.n_train, run.n_val)
    if sizes != expected:
        raise ValueError(
            f"data must be the data the results were trained on, with (features, classes, "
            f"training examples, validation examples) {expected}; got {sizes}"
        )
    running = [k for k, r in enumerate(results) if not r.stopped]
    out = list(results)
    if not running:
        return out
    start = time.perf_counter()
    earlier = [results[k] for k in running]
    names = _param_names(len(run.hidden_dims) + 1)

    def stacked(arrays_of):
        return [
            torch.from_numpy(np.stack([arrays_of(r)[name] for r in earlier])).to(
                run.device, run.dtype
            )
            for name in names
        ]

    params, velocity = stacked(lambda r: r.params), stacked(lambda r: r._velocity)
    first = torch.tensor([r.history.loss[0] for r in earlier], dtype=run.dtype, device=run.device)
    trials = [r.trial for r in earlier]
    records = _train(run, arrays, trials, params, velocity, first, range(done, epochs))
    for k, result in zip(
        running, _results(run, trials, records, time.perf_counter() - start, earlier)
    ):
        out[k] = result
    return out


def _check_results(results):
    """The shared :class:`_Run` of ``results`` and the epochs its running trials have run."""
    if isinstance(results, TrialResult) or not isinstance(results, (list, tuple)):
        raise TypeError(
            f"results must be a list of TrialResult from train_batched, got "
            f"{type(results).__name__}"
        )
    if not results:
        raise ValueError("results must hold at least one TrialResult, got an empty list")
    for i, result in enumerate(results):
        if not isinstance(result, TrialResult) or result._run is None:
            raise TypeError(
                f"results[{i}] must be a TrialResult returned by train_batched, got "
                f"{type(result).__name__}"
                + (" made by hand" if isinstance(result, TrialResult) else "")
            )
    runs = {r._run for r in results}
    if len(runs) > 1:
        raise ValueError(
            f"results must come from runs with the same shared arguments (hidden_dims, "
            f"batch_size, momentum, seed, device, dtype, data sizes), got {len(runs)} "
            f"different ones"
        )
    done = sorted({len(r.history.val_acc) for r in results if not r.stopped})
    if len(done) > 1:
        raise ValueError(
            f"the running trials of results must have run the same number of epochs, got {done}"
        )
    return runs.pop(), (done[0] if done else 0)


def _param_names(layers):
    """``W1, ..., WL, b1, ..., bL``: the order of the stacked parameters."""
    return [f"W{i}" for i in range(1, layers + 1)] + [f"b{i}" for i in range(1, layers + 1)]


def _check_run(epochs, batch_size, momentum, seed):
    """The arguments every trial shares."""
    check.positive_int("epochs", epochs)
    check.positive_int("batch_size", batch_size)
    check.positive("momentum", momentum, allow_zero=True)
    if momentum >= 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")


def _momentum_update(params, velocity, grads, lr, momentum):
    """``v = mu v - lr g`` and ``p += v`` for every trial of the stacks, in place; each trial
    has its own learning rate ``lr`` ``(K,)``."""
    for p, v, g in zip(params, velocity, grads):
        v.mul_(momentum).addcmul_(lr.view(len(lr), *[1] * (p.dim() - 1)), g, value=-1)
        p.add_(v)


def _initial_parameters(sizes, trials, seed, device, dtype):
    """Weights ``(K, D_in, D_out)`` and zero biases ``(K, D_out)`` of every layer: the draws
    of ``FullyConnectedNet(seed=seed)`` (one generator, one standard normal matrix per
    layer, in order), scaled by each trial's ``weight_scale`` in float64, then cast."""
    scale = torch.tensor([t["weight_scale"] for t in trials], dtype=torch.float64)[:, None, None]
    rng = np.random.default_rng(seed)
    Ws, bs = [], []
    for d_in, d_out in zip(sizes[:-1], sizes[1:]):
        draw = torch.from_numpy(rng.standard_normal((d_in, d_out)))
        Ws.append((scale * draw).to(device, dtype))
        bs.append(torch.zeros(len(trials), d_out, dtype=dtype, device=device))
    return Ws, bs


def _train(run, arrays, trials, params, velocity, first, epochs):
    """Train the stacked trials over the epochs of the range ``epochs`` (the minibatch
    orders of the epochs before it are drawn and skipped), taking each trial out of the
    stacks at the iteration that stops it.

    ``params`` and ``velocity`` are lists of ``(K, ...)`` tensors in the order of
    :func:`_param_names`, ``first`` the first loss of every trial ``(K,)`` (None: the first
    iteration's). Returns a dict of the run's records over the K trials: ``losses``
    ``(iterations, K)``, NaN where a trial no longer ran; ``counts`` ``(epochs, 3, K)``
    (running at the epoch's end, correct on the training set, correct on the validation
    set); ``val_losses`` ``(epochs, K)``; ``stopped_at`` ``(K,)``, the iteration of this run
    (counted from 1) whose loss stopped the trial, 0 if none; ``final``, the parameters then
    the velocities as they were when the trial stopped or at the end (NumPy arrays)."""
    device, dtype = run.device, run.dtype
    (X, y), (Xv, yv) = (
        (torch.as_tensor(a, device=device).to(dtype), torch.as_tensor(b, device=device).long())
        for a, b in (arrays["train"], arrays["val"])
    )
    lr = torch.tensor([t["learning_rate"] for t in trials], dtype=dtype, device=device)
    reg = torch.tensor([t["reg"] for t in trials], dtype=dtype, device=device)
    K, n, layers = len(trials), X.shape[0], len(params) // 2
    order_rng = np.random.default_rng(run.seed)  # the order train(seed=seed) uses
    for _ in range(epochs.start):
        order_rng.permutation(n)
    final = [torch.empty_like(p) for p in [*params, *velocity]]
    rows = torch.arange(K, device=device)  # the trial that each row of the stacks holds
    stopped_at = np.zeros(K, dtype=np.int64)
    segments = [(rows, [])]  # stretches of iterations with the same rows, and their losses
    per_epoch = []  # rows, correct predictions (training, validation), validation loss
    iteration = 0
    for _ in epochs:
        order = torch.as_tensor(order_rng.permutation(n), device=device)
        for idx in order.split(run.batch_size):
            loss, dWs, dbs = _loss_and_grads(params[:layers], params[layers:], reg, X[idx], y[idx])
            iteration += 1
            first = loss if first is None else first
            segments[-1][1].append(loss)
            grads = [*dWs, *dbs]
            # should_stop for every trial at once (NaN fails both tests), before the update
            stop = ~(torch.isfinite(loss) & (loss <= STOP_FACTOR * first))
            if stop.any():  # out of the stacks, as they were before this minibatch
                gone, keep = stop.nonzero().squeeze(1), (~stop).nonzero().squeeze(1)
                stopped_at[rows[gone].cpu().numpy()] = iteration
                for f, p in zip(final, [*params, *velocity]):
                    f[rows[gone]] = p[gone]
                params, velocity, grads = (
                    [t.index_select(0, keep) for t in ts] for ts in (params, velocity, grads)
                )
                lr, reg, first, rows = (t.index_select(0, keep) for t in (lr, reg, first, rows))
                segments.append((rows, []))
                if not len(rows):
                    break
            _momentum_update(params, velocity, grads, lr, run.momentum)
        if not len(rows):
            break
        train_correct, _ = _evaluate(params[:layers], params[layers:], X, y)
        val_correct, val_loss = _evaluate(params[:layers], params[layers:], Xv, yv)
        per_epoch.append((rows, torch.stack([train_correct, val_correct]), val_loss))
    for f, p in zip(final, [*params, *velocity]):
        f[rows] = p

    losses, start = np.full((iteration, K), np.nan), 0
    for seg_rows, seg in segments:
        if seg:
            losses[start : start + len(seg)][:, seg_rows.cpu().numpy()] = (
                torch.stack(seg).cpu().numpy()
            )
            start += len(seg)
    counts = np.zeros((len(epochs), 3, K), dtype=np.int64)
    val_losses = np.full((len(epochs), K), np.nan)
    for e, (ep_rows, correct, val_loss) in enumerate(per_epoch):
        ep_rows = ep_rows.cpu().numpy()
        counts[e, 0, ep_rows] = 1
        counts[e][1:, ep_rows] = correct.cpu().numpy()
        val_losses[e, ep_rows] = val_loss.cpu().numpy()
    return dict(
        losses=losses,
        counts=counts,
        val_losses=val_losses,
        stopped_at=stopped_at,
        final=[f.cpu().numpy() for f in final],
    )


def _results(run, trials, records, seconds, earlier=None):
    """One :class:`TrialResult` per trial from the records of :func:`_train`; with
    ``earlier`` (the results a resumed run started from, one per trial) each history
    continues the earlier one."""
    names = _param_names(len(run.hidden_dims) + 1)
    layers = len(names) // 2
    # in the reference's order: W1, b1, W2, b2, ...
    order = [i for pair in zip(range(layers), range(layers, 2 * layers)) for i in pair]
    losses, counts, val_losses = records["losses"], records["counts"], records["val_losses"]
    final = records["final"]
    results = []
    for k, trial in enumerate(trials):
        before = earlier[k].history if earlier else History()
        stop = int(records["stopped_at"][k])
        done = counts[:, 0, k] > 0  # the epochs that ended with the trial still running
        history = History(
            loss=before.loss + [float(x) for x in losses[: stop or len(losses), k]],
            train_acc=before.train_acc + [int(c) / run.n_train for c in counts[done, 1, k]],
            val_acc=before.val_acc + [int(c) / run.n_val for c in counts[done, 2, k]],
            val_loss=before.val_loss + [float(x) for x in val_losses[done, k]],
            seconds=before.seconds + seconds,
        )
        if history.val_acc:
            history.best_epoch = int(np.argmax(history.val_acc)) + 1
        params = {names[i]: final[i][k].copy() for i in order}
        result = TrialResult(trial=trial, history=history, params=params)
        result._run = run
        result._velocity = {names[i]: final[2 * layers + i][k].copy() for i in order}
        if stop:
            result.stopped, result.stop_iteration = True, len(before.loss) + stop
            result.stop_reason = f"stopped at iteration {result.stop_iteration}: " + _stop_reason(
                history.loss[-1], history.loss[0], STOP_FACTOR
            )
        results.append(result)
    return results
