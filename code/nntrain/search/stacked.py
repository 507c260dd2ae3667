"""The math of K fully connected ReLU nets stacked along a leading trial dimension.

Every parameter gets a leading trial dimension, :math:`W_\\ell \\in \\mathbb{R}^{K \\times
D_{\\ell-1} \\times D_\\ell}` and :math:`b_\\ell \\in \\mathbb{R}^{K \\times D_\\ell}`, and the
inputs of a minibatch are shared by all trials. The forward and backward passes are those
of :class:`nntrain.reference.fc_net.FullyConnectedNet`, written with batched matrix products, and
the update is SGD with momentum, for all trials at once:

.. math::
    v_k \\leftarrow \\mu v_k - \\eta_k \\nabla_{\\theta_k} L_k, \\qquad
    \\theta_k \\leftarrow \\theta_k + v_k, \\qquad k = 1, \\dots, K,

with :math:`L_k` the softmax loss of trial :math:`k` plus its penalty
:math:`\\tfrac12 \\lambda_k \\sum_\\ell \\lVert W_{k\\ell} \\rVert^2`. The trials share
nothing but the minibatches: each trial's numbers depend on its own slice only, so a trial
that diverges cannot disturb the others.

These functions check nothing: :func:`~nntrain.search.batched.train_batched` checks the
trials and the data, then runs them (as torch tensors, without autograd).

Example:
    >>> import torch
    >>> Ws, bs = initial_parameters([64, 20, 10], [0.01, 0.1, 1.0], 0, "cpu", torch.float64)
    >>> X, y = torch.randn(5, 64, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 4])
    >>> reg = torch.tensor([0.0, 1e-3, 1e-2], dtype=torch.float64)
    >>> loss, dWs, dbs = loss_and_grads(Ws, bs, reg, X, y)
    >>> loss.shape, [tuple(dW.shape) for dW in dWs], [tuple(db.shape) for db in dbs]
    (torch.Size([3]), [(3, 64, 20), (3, 20, 10)], [(3, 20), (3, 10)])

Written for chapter 7 (hyperparameter optimization), through
:mod:`nntrain.search.batched`.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = [
    "EVAL_BYTES",
    "param_names",
    "initial_parameters",
    "forward",
    "log_softmax",
    "data_loss",
    "loss_and_grads",
    "evaluate",
    "momentum_update",
]

#: The accuracies and the validation loss are measured in chunks of examples whose hidden
#: activations, for all K trials, take about this many bytes (small enough for the CPU's
#: caches: chunks of 1000 digits for 64 trials run twice as slowly).
EVAL_BYTES = 8 * 2**20


def param_names(layers):
    """``W1, ..., WL, b1, ..., bL``: the order of the stacked parameters of ``layers``
    layers."""
    return [f"W{i}" for i in range(1, layers + 1)] + [f"b{i}" for i in range(1, layers + 1)]


def initial_parameters(sizes, weight_scales, seed, device, dtype):
    """Weights ``(K, D_in, D_out)`` and zero biases ``(K, D_out)`` of every layer of a net
    of layer widths ``sizes``: the draws of ``FullyConnectedNet(seed=seed)`` (one generator,
    one standard normal matrix per layer, in order), scaled by each trial's weight scale in
    float64, then cast."""
    scale = torch.tensor(weight_scales, dtype=torch.float64)[:, None, None]
    rng = np.random.default_rng(seed)
    Ws, bs = [], []
    for d_in, d_out in zip(sizes[:-1], sizes[1:]):
        draw = torch.from_numpy(rng.standard_normal((d_in, d_out)))
        Ws.append((scale * draw).to(device, dtype))
        bs.append(torch.zeros(len(weight_scales), d_out, dtype=dtype, device=device))
    return Ws, bs


def forward(Ws, bs, X):
    """Scores ``(K, B, C)`` and each hidden layer's ReLU output ``(K, B, D_l)``; the inputs
    ``X`` ``(B, D)`` are shared by all trials (expanded, not copied)."""
    h, hidden = X.expand(Ws[0].shape[0], *X.shape), []
    for W, b in zip(Ws[:-1], bs[:-1]):
        h = torch.baddbmm(b.unsqueeze(1), h, W).relu_()  # relu(h W + b), trial by trial
        hidden.append(h)
    return torch.baddbmm(bs[-1].unsqueeze(1), h, Ws[-1]), hidden


def log_softmax(scores):
    """Log-probabilities over the last axis, shifted by the row maximum as in the
    reference's ``softmax_loss`` (and, for ten classes, faster than ``torch.log_softmax``
    on the CPU)."""
    shifted = scores - scores.amax(-1, keepdim=True)
    return shifted - shifted.exp().sum(-1, keepdim=True).log()


def data_loss(log_probs, y):
    """The softmax loss of every trial, ``(K,)``, from its log-probabilities."""
    picked = log_probs.gather(-1, y.expand(log_probs.shape[0], -1).unsqueeze(-1))
    return -picked.squeeze(-1).mean(-1)


def loss_and_grads(Ws, bs, reg, X, y):
    """The loss ``(K,)`` of every trial (data loss plus penalty, ``reg`` ``(K,)``) and the
    gradients of every ``W`` and ``b``, by the backward pass of the reference network."""
    scores, hidden = forward(Ws, bs, X)
    log_probs = log_softmax(scores)
    loss = data_loss(log_probs, y) + 0.5 * reg * sum((W * W).sum((1, 2)) for W in Ws)
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
def evaluate(Ws, bs, X, y):
    """Correct predictions ``(K,)`` (a count) and data loss ``(K,)`` of every trial on
    ``(X, y)``, in chunks of :data:`EVAL_BYTES`."""
    K = Ws[0].shape[0]
    width = max(W.shape[2] for W in Ws)
    chunk = max(16, EVAL_BYTES // (K * width * Ws[0].element_size()))
    correct = torch.zeros(K, dtype=torch.int64, device=X.device)
    loss_sum = torch.zeros(K, dtype=Ws[0].dtype, device=X.device)
    for start in range(0, X.shape[0], chunk):
        xb, yb = X[start : start + chunk], y[start : start + chunk]
        scores, _ = forward(Ws, bs, xb)
        correct += (scores.argmax(-1) == yb).sum(1)
        loss_sum += data_loss(log_softmax(scores), yb) * xb.shape[0]
    return correct, loss_sum / X.shape[0]


def momentum_update(params, velocity, grads, lr, momentum):
    """``v = mu v - lr g`` and ``p += v`` for every trial of the stacks, in place; each trial
    has its own learning rate ``lr`` ``(K,)``."""
    for p, v, g in zip(params, velocity, grads):
        v.mul_(momentum).addcmul_(lr.view(len(lr), *[1] * (p.dim() - 1)), g, value=-1)
        p.add_(v)
