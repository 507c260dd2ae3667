"""Many trials at once: K fully connected nets trained side by side in one computation.

A hyperparameter search trains the same small network many times with different learning
rates, regularization strengths and initial scales. Trained one after the other, each run
spends much of its time in Python and in small array operations around a few small matrix
products per minibatch; trained together, the K runs become a few large batched products
per minibatch. Every parameter gets a leading trial dimension, and every step is the one
:func:`nntrain.train.train` takes (SGD with momentum on the softmax loss plus an L2
penalty), for all trials at once; :mod:`nntrain.search.stacked` holds that math. The trials
share nothing but the minibatches, so a trial that diverges cannot disturb the others.

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
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import validation as check
from ..train import History
from . import stacked

__all__ = [
    "TRIAL_KEYS",
    "STOP_FACTOR",
    "should_stop",
    "TrainSpec",
    "TrialResult",
    "train_batched",
    "resume_batched",
]

#: The hyperparameters a trial of :func:`train_batched` may set, with the value a missing
#: key takes (the defaults of :func:`nntrain.train.train` and
#: :class:`nntrain.reference.fc_net.FullyConnectedNet`).
TRIAL_KEYS = {"learning_rate": 1e-2, "reg": 0.0, "weight_scale": 1e-2}

#: The rules of a trial's values.
_TRIAL_RULES = {
    "learning_rate": check.POSITIVE,
    "reg": check.NON_NEGATIVE,
    "weight_scale": check.POSITIVE,
}

#: The factor of :func:`should_stop` used by :func:`train_batched`.
STOP_FACTOR = 3.0


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
        raise check.InvalidArgument("costs must hold at least one cost, got an empty sequence")
    latest = costs[-1]
    return not math.isfinite(latest) or latest > factor * costs[0]


@dataclass(frozen=True)
class TrainSpec:
    """The arguments of :func:`train_batched` that all its trials share (all but ``data``,
    ``trials`` and ``epochs``), as one value: ``train_batched(data, trials, epochs=3,
    **dataclasses.asdict(spec))``. :func:`~nntrain.search.halving.batched_fit` takes one.

    Example:
        >>> spec = TrainSpec([50], batch_size=50, seed=1)
        >>> spec.momentum, spec.dtype  # the defaults of train_batched
        (0.9, torch.float64)
    """

    hidden_dims: list
    batch_size: int
    momentum: float = 0.9
    seed: int = 0
    device: str | torch.device | None = None
    dtype: torch.dtype = torch.float64


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
            :class:`nntrain.reference.fc_net.FullyConnectedNet` (no best-epoch restore).
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
        """The trained network as a :class:`nntrain.reference.fc_net.FullyConnectedNet` holding
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
    trials = check.non_empty_list("trials", trials, check.Instance(dict, "a dict"), "trial dicts")
    example = "{'learning_rate': 1e-2, 'reg': 1e-4, 'weight_scale': 1e-2}"
    return [
        {**TRIAL_KEYS, **check.settings(f"trials[{i}]", trial, _TRIAL_RULES, example=example)}
        for i, trial in enumerate(trials)
    ]


def _device_and_dtype(device, dtype):
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise check.InvalidArgument(f"dtype must be a floating-point torch.dtype, got {dtype!r}")
    if device is None:
        from .. import device as best_device

        device = best_device()
    device = torch.device(device)
    if device.type == "mps" and dtype == torch.float64:
        raise check.InvalidArgument(
            "MPS has no float64: pass dtype=torch.float32 (or device='cpu')"
        )
    return device, dtype


def _stop_reason(loss, first, factor):
    if not math.isfinite(loss):
        return f"the loss is {loss} (not finite)"
    return f"the loss {loss:.4g} exceeds {factor:g} times the first loss {first:.4g}"


@torch.no_grad()
@check.declared(
    epochs=check.POSITIVE_INT, batch_size=check.POSITIVE_INT, momentum=check.RATE, seed=check.SEED
)
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
    2012) then costs a fraction of the sequential runs (``make bench`` measures the speed-up
    and the achieved rate against the machine's matrix-product peak).

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
        nntrain.validation.InvalidArgument: no trials, a trial with a key other than those
            of :data:`TRIAL_KEYS`, a value out of range, or malformed data.

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
    Ws, bs = stacked.initial_parameters(
        sizes, [t["weight_scale"] for t in trials], seed, device, dtype
    )
    params = [*Ws, *bs]
    velocity = [torch.zeros_like(p) for p in params]
    records = _train(run, arrays, trials, params, velocity, None, range(epochs))
    return _results(run, trials, records, time.perf_counter() - start)


@torch.no_grad()
@check.declared(epochs=check.POSITIVE_INT)
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
        nntrain.validation.InvalidArgument: ``results`` not a list of results of
            :func:`train_batched`, results of runs with different shared arguments, running
            trials that ran different numbers of epochs, ``epochs`` not more than they ran,
            or data of other sizes.

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
    if epochs <= done:
        raise check.InvalidArgument(
            f"epochs must be more than the {done} epochs the running trials have run (it "
            f"counts all epochs), got {epochs}"
        )
    arrays = _same_data(data, run)
    running = [k for k, r in enumerate(results) if not r.stopped]
    out = list(results)
    if not running:
        return out
    start = time.perf_counter()
    earlier = [results[k] for k in running]
    params = _stack([r.params for r in earlier], run)
    velocity = _stack([r._velocity for r in earlier], run)
    first = torch.tensor([r.history.loss[0] for r in earlier], dtype=run.dtype, device=run.device)
    trials = [r.trial for r in earlier]
    records = _train(run, arrays, trials, params, velocity, first, range(done, epochs))
    seconds = time.perf_counter() - start
    for k, result in zip(running, _results(run, trials, records, seconds, earlier)):
        out[k] = result
    return out


def _same_data(data, run):
    """The arrays of ``data`` (see :func:`nntrain.validation.classification_splits`), which
    must have the sizes of the data the run was trained on."""
    arrays, num_classes = check.classification_splits(data)
    sizes = (arrays["train"][0].shape[1], num_classes, *(len(a[1]) for a in arrays.values()))
    expected = (run.input_dim, run.num_classes, run.n_train, run.n_val)
    if sizes != expected:
        raise check.InvalidArgument(
            f"data must be the data the results were trained on, with (features, classes, "
            f"training examples, validation examples) {expected}; got {sizes}"
        )
    return arrays


def _stack(dicts, run):
    """Tensors ``(K, ...)`` on the run's device, one per parameter name in the order of
    :func:`~nntrain.search.stacked.param_names`, from K dicts of NumPy arrays."""
    names = stacked.param_names(len(run.hidden_dims) + 1)
    return [
        torch.from_numpy(np.stack([d[name] for d in dicts])).to(run.device, run.dtype)
        for name in names
    ]


def _check_results(results):
    """The shared :class:`_Run` of ``results`` and the epochs its running trials have run."""
    from_train_batched = check.Instance(TrialResult, "a TrialResult returned by train_batched")
    results = check.non_empty_list("results", results, from_train_batched, "TrialResults")
    for i, result in enumerate(results):
        if result._run is None:
            raise check.InvalidArgument(
                f"results[{i}] must be a TrialResult returned by train_batched, got one made "
                f"by hand"
            )
    runs = {r._run for r in results}
    if len(runs) > 1:
        raise check.InvalidArgument(
            f"results must come from runs with the same shared arguments (hidden_dims, "
            f"batch_size, momentum, seed, device, dtype, data sizes), got {len(runs)} "
            f"different ones"
        )
    done = sorted({len(r.history.val_acc) for r in results if not r.stopped})
    if len(done) > 1:
        raise check.InvalidArgument(
            f"the running trials of results must have run the same number of epochs, got {done}"
        )
    return runs.pop(), (done[0] if done else 0)


def _train(run, arrays, trials, params, velocity, first, epochs):
    """Train the stacked trials over the epochs of the range ``epochs`` (the minibatch
    orders of the epochs before it are drawn and skipped), taking each trial out of the
    stacks at the iteration that stops it.

    ``params`` and ``velocity`` are lists of ``(K, ...)`` tensors in the order of
    :func:`~nntrain.search.stacked.param_names`, ``first`` the first loss of every trial
    ``(K,)`` (None: the first iteration's). Returns the records of :meth:`_Records.arrays`.
    """
    (X, y), (Xv, yv) = (
        (
            torch.as_tensor(a, device=run.device).to(run.dtype),
            torch.as_tensor(b, device=run.device).long(),
        )
        for a, b in (arrays["train"], arrays["val"])
    )
    stack = _Stack.start(run, trials, params, velocity, first)
    records = _Records(stack)
    order_rng = np.random.default_rng(run.seed)  # the order train(seed=seed) uses
    for _ in range(epochs.start):
        order_rng.permutation(len(y))
    for _ in epochs:
        order = torch.as_tensor(order_rng.permutation(len(y)), device=run.device)
        for idx in order.split(run.batch_size):
            loss, dWs, dbs = stacked.loss_and_grads(*stack.layers(), stack.reg, X[idx], y[idx])
            records.loss(stack.rows, loss)
            stack.first = loss if stack.first is None else stack.first
            grads = [*dWs, *dbs]
            # should_stop for every trial at once (NaN fails both tests), before the update
            stop = ~(torch.isfinite(loss) & (loss <= STOP_FACTOR * stack.first))
            if stop.any():  # out of the stacks, as they were before this minibatch
                records.stopped(stack, stop)
                grads = stack.drop(stop, grads)
                if not stack.running():
                    break
            stacked.momentum_update(stack.params, stack.velocity, grads, stack.lr, run.momentum)
        if not stack.running():
            break
        train_correct, _ = stacked.evaluate(*stack.layers(), X, y)
        val_correct, val_loss = stacked.evaluate(*stack.layers(), Xv, yv)
        records.epoch(stack.rows, torch.stack([train_correct, val_correct]), val_loss)
    records.finish(stack)
    return records.arrays(len(epochs))


@dataclass
class _Stack:
    """The trials of a :func:`_train` run still running, stacked: row ``i`` of every tensor
    belongs to trial ``rows[i]`` of the run."""

    rows: torch.Tensor
    params: list  # W1, ..., WL, b1, ..., bL, each (rows, ...)
    velocity: list  # the same shapes
    lr: torch.Tensor
    reg: torch.Tensor
    first: torch.Tensor | None  # each trial's first loss (None before the first iteration)

    @classmethod
    def start(cls, run, trials, params, velocity, first):
        def per_trial(key):
            return torch.tensor([t[key] for t in trials], dtype=run.dtype, device=run.device)

        rows = torch.arange(len(trials), device=run.device)
        return cls(rows, params, velocity, per_trial("learning_rate"), per_trial("reg"), first)

    def layers(self):
        """The weights and the biases, two lists."""
        layers = len(self.params) // 2
        return self.params[:layers], self.params[layers:]

    def running(self):
        return len(self.rows) > 0

    def drop(self, stop, grads):
        """Keep the rows where ``stop`` is False; return those of ``grads``."""
        keep = (~stop).nonzero().squeeze(1)
        self.params, self.velocity, grads = (
            [t.index_select(0, keep) for t in ts] for ts in (self.params, self.velocity, grads)
        )
        self.lr, self.reg, self.first, self.rows = (
            t.index_select(0, keep) for t in (self.lr, self.reg, self.first, self.rows)
        )
        return grads


class _Records:
    """What a :func:`_train` run records for its K trials as it goes, on the device (read
    on the host at the end, by :meth:`arrays`)."""

    def __init__(self, stack):
        self.final = [torch.empty_like(p) for p in [*stack.params, *stack.velocity]]
        self.stopped_at = np.zeros(len(stack.rows), dtype=np.int64)
        self.segments = []  # stretches of iterations with the same rows: (rows, losses)
        self.per_epoch = []  # rows, correct predictions (training, validation), validation loss
        self.iteration = 0

    def loss(self, rows, loss):
        self.iteration += 1
        if not self.segments or self.segments[-1][0] is not rows:
            self.segments.append((rows, []))
        self.segments[-1][1].append(loss)

    def stopped(self, stack, stop):
        """The rows of ``stack`` where ``stop`` is True stopped at this iteration: keep their
        parameters and velocities as they are, and the iteration."""
        gone = stop.nonzero().squeeze(1)
        self.stopped_at[stack.rows[gone].cpu().numpy()] = self.iteration
        self._keep(stack.rows[gone], [t[gone] for t in [*stack.params, *stack.velocity]])

    def finish(self, stack):
        """The run is over: keep the parameters and velocities of the rows still running."""
        self._keep(stack.rows, [*stack.params, *stack.velocity])

    def _keep(self, rows, tensors):
        for f, t in zip(self.final, tensors):
            f[rows] = t

    def epoch(self, rows, correct, val_loss):
        self.per_epoch.append((rows, correct, val_loss))

    def arrays(self, epochs):
        """The records as NumPy arrays over the K trials: ``losses`` ``(iterations, K)``,
        NaN where a trial no longer ran; ``counts`` ``(epochs, 3, K)`` (running at the
        epoch's end, correct on the training set, correct on the validation set);
        ``val_losses`` ``(epochs, K)``; ``stopped_at`` ``(K,)``, the iteration of this run
        (counted from 1) whose loss stopped the trial, 0 if none; ``final``, the parameters
        then the velocities as they were when the trial stopped or at the end."""
        K = len(self.stopped_at)
        losses, start = np.full((self.iteration, K), np.nan), 0
        for rows, seg in self.segments:
            losses[start : start + len(seg)][:, rows.cpu().numpy()] = torch.stack(seg).cpu().numpy()
            start += len(seg)
        counts = np.zeros((epochs, 3, K), dtype=np.int64)
        val_losses = np.full((epochs, K), np.nan)
        for e, (rows, correct, val_loss) in enumerate(self.per_epoch):
            rows = rows.cpu().numpy()
            counts[e, 0, rows] = 1
            counts[e][1:, rows] = correct.cpu().numpy()
            val_losses[e, rows] = val_loss.cpu().numpy()
        return dict(
            losses=losses,
            counts=counts,
            val_losses=val_losses,
            stopped_at=self.stopped_at,
            final=[f.cpu().numpy() for f in self.final],
        )


def _results(run, trials, records, seconds, earlier=None):
    """One :class:`TrialResult` per trial from the records of :func:`_train`; with
    ``earlier`` (the results a resumed run started from, one per trial) each history
    continues the earlier one."""
    names = stacked.param_names(len(run.hidden_dims) + 1)
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
