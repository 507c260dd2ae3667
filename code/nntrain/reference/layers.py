"""Layers with weights, NumPy reference (cs231n convention).

Each layer is a pair of functions: ``<name>_forward(x, ...) -> (out, cache)`` computes the
output and keeps what the backward pass needs, and ``<name>_backward(dout, cache)`` turns the
upstream gradient ``dout = dL/dout`` into the gradients of every input, in argument order.
"""

from __future__ import annotations

from .. import validation as check

__all__ = [
    "affine_forward",
    "affine_backward",
]


def affine_forward(x, w, b):
    r"""Fully connected (affine) layer: every input unit feeds every output unit.

    Each example is flattened to a row vector of length :math:`D_{in}`, then

    .. math::
        \mathrm{out} = x W + b, \qquad x \in \mathbb{R}^{N \times D_{in}},\;
        W \in \mathbb{R}^{D_{in} \times D_{out}},\; b \in \mathbb{R}^{D_{out}}.

    The weight layout ``(D_in, D_out)`` is the cs231n one; ``torch.nn.Linear`` stores the
    transpose, ``(D_out, D_in)``.

    Args:
        x: inputs of shape ``(N, d_1, ..., d_k)``, with ``D_in = d_1 * ... * d_k``.
        w: weights of shape ``(D_in, D_out)``.
        b: biases of shape ``(D_out,)``.

    Returns:
        ``(out, cache)``: ``out`` of shape ``(N, D_out)`` and the cache ``(x, w, b)``.

    Example:
        >>> import numpy as np
        >>> out, cache = affine_forward(np.ones((2, 3)), np.ones((3, 4)), np.zeros(4))
        >>> out.shape
        (2, 4)

    Used in every chapter, introduced in chapter 0.
    """
    d_in = check.affine_inputs(x, w, b, check.ndarray)
    out = x.reshape(x.shape[0], d_in) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    r"""Backward pass of :func:`affine_forward`.

    .. math::
        \frac{\partial L}{\partial x} = \frac{\partial L}{\partial \mathrm{out}} W^\top, \quad
        \frac{\partial L}{\partial W} = x^\top \frac{\partial L}{\partial \mathrm{out}}, \quad
        \frac{\partial L}{\partial b} = \sum_{n} \frac{\partial L}{\partial \mathrm{out}_n}.

    Args:
        dout: upstream gradient of shape ``(N, D_out)``.
        cache: the ``(x, w, b)`` returned by :func:`affine_forward`.

    Returns:
        ``(dx, dw, db)`` with the shapes of ``x``, ``w`` and ``b``.
    """
    x, w, b = cache
    check.upstream(dout, (x.shape[0], w.shape[1]), check.ndarray, x=x, w=w)
    x2 = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x2.T @ dout
    db = dout.sum(0)
    return dx, dw, db
