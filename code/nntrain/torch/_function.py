"""Turn a cs231n-style ``forward``/``backward`` pair into a ``torch.autograd.Function``.

Every technique in :mod:`nntrain.torch` is written as two plain functions, exactly like the
NumPy reference. Wrapping them here lets autograd call *our* backward instead of deriving
one itself, so a model built from these pieces trains with gradients computed by the math
the book derives, and a test can compare them with PyTorch's built-ins.
"""

from __future__ import annotations

import torch
from torch.autograd.function import once_differentiable

__all__ = ["layer_function", "loss_function"]

# Stands for the forward's output in a cache kept on ctx (see layer_function).
_OUTPUT = object()


def _swap(cache, old, new):
    """``cache`` with ``old`` (compared by identity) replaced by ``new``, inside tuples,
    lists and dicts too."""
    if cache is old:
        return new
    if isinstance(cache, (tuple, list)):
        return type(cache)(_swap(item, old, new) for item in cache)
    if isinstance(cache, dict):
        return {key: _swap(value, old, new) for key, value in cache.items()}
    return cache


def _autograd_class(name, forward, backward, doc, module):
    """A ``torch.autograd.Function`` subclass named ``name``, with ``forward(ctx, ...)`` and
    ``backward(ctx, ...)`` as its static methods, shown as defined in ``module``."""
    namespace = {
        "forward": staticmethod(forward),
        "backward": staticmethod(backward),
        "__doc__": doc,
        "__module__": module,
        "__qualname__": name,
    }
    return type(name, (torch.autograd.Function,), namespace)


def layer_function(name, forward, backward):
    """A ``torch.autograd.Function`` class named ``name`` from a forward/backward pair.

    ``forward(*inputs) -> (out, cache)``; ``backward(dout, cache)`` returns the gradient of
    each tensor input in order (a single tensor when there is one). Inputs that are not
    tensors (hyperparameters such as a slope) get no gradient.
    """

    def fwd(ctx, *inputs):
        """Run the forward function and keep its cache for the backward pass. The output
        itself, which some caches hold (the sigmoid's), goes through ``save_for_backward``:
        kept on ``ctx`` it would make a reference cycle (output, graph, ctx, output) that
        only the garbage collector frees, so every step would take fresh memory."""
        out, cache = forward(*inputs)
        ctx.save_for_backward(out)
        ctx.cache, ctx.n_inputs = _swap(cache, out, _OUTPUT), len(inputs)
        return out

    @once_differentiable
    def bwd(ctx, dout):
        """Run the backward function; inputs that are not tensors get ``None``."""
        grads = backward(dout, _swap(ctx.cache, _OUTPUT, ctx.saved_tensors[0]))
        grads = grads if isinstance(grads, tuple) else (grads,)
        return grads + (None,) * (ctx.n_inputs - len(grads))

    doc = f"Autograd wrapper of :func:`{forward.__name__}` / :func:`{backward.__name__}`."
    return _autograd_class(name, fwd, bwd, doc, forward.__module__)


def loss_function(name, loss, *, target_grad=False):
    """A ``torch.autograd.Function`` class named ``name`` from ``loss(scores, target, *args)
    -> (loss, dscores)``: the forward returns the loss as a 0-d tensor and the backward
    scales the saved ``dscores`` by the incoming gradient.

    With ``target_grad`` (regression losses, which depend on ``scores - target`` only) the
    target gets the opposite gradient, as with ``F.mse_loss``; class labels get ``None``.
    """

    def fwd(ctx, scores, target, *args):
        """Compute the loss and keep its gradient with respect to the scores."""
        value, ctx.dscores = loss(scores, target, *args)
        ctx.n_args = len(args)
        return value

    @once_differentiable
    def bwd(ctx, grad_output):
        """Scale the saved gradient by the incoming one; the targets get ``None``."""
        dscores = grad_output * ctx.dscores
        dtarget = -dscores if target_grad and ctx.needs_input_grad[1] else None
        return (dscores, dtarget) + (None,) * ctx.n_args

    doc = f"Autograd wrapper of :func:`{loss.__name__}`."
    return _autograd_class(name, fwd, bwd, doc, loss.__module__)
