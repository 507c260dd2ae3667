r"""Batch normalization, PyTorch twin of :mod:`nntrain.reference.normalization`.

The functions take tensors on any device and implement the reference's math with tensor
operations (not ``torch.nn.functional.batch_norm``), with the same arguments, the same
``bn_param`` dict (its running statistics are tensors, updated in place) and the same
conventions: PyTorch's momentum, the unbiased running variance, ``momentum=None`` for the
cumulative average. ``num_batches_tracked`` may be an int or, as in the modules, a 0-d
integer tensor, which is then incremented in place.

:class:`BatchNormFunction` and :class:`SpatialBatchNormFunction` run them under autograd
with the closed-form backward pass (:func:`batchnorm_backward_alt`). The modules
:class:`BatchNorm1d` and :class:`BatchNorm2d` are drop-in replacements for
``torch.nn.BatchNorm1d`` and ``torch.nn.BatchNorm2d``: same constructor arguments, same
parameters (``weight``, ``bias``) and buffers (``running_mean``, ``running_var``,
``num_batches_tracked``), so ``state_dict`` and ``load_state_dict`` work across, and the
same behaviour under ``.train()`` and ``.eval()``, ``momentum=None``, ``affine=False`` and
``track_running_stats=False``.

:func:`layernorm_forward`, :class:`LayerNormFunction` and the module :class:`LayerNorm`
(``torch.nn.LayerNorm`` over the last axis) are the twins of the reference's layer
normalization.

Used in chapter 4 (batch normalization).
"""

from __future__ import annotations

import torch
from torch import nn

from .. import validation as check
from ._function import layer_function

__all__ = [
    "batchnorm_forward",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "spatial_batchnorm_forward",
    "spatial_batchnorm_backward",
    "layernorm_forward",
    "layernorm_backward",
    "BatchNormFunction",
    "SpatialBatchNormFunction",
    "LayerNormFunction",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
]


def _dout(dout, cache):
    """Check the upstream gradient against the cached input."""
    check.upstream(dout, cache["x"].shape, check.tensor, x=cache["x"])


def _count_batch(bn_param, count, momentum):
    """Count one more training batch in ``bn_param['num_batches_tracked']`` (a tensor in
    place, an int by replacing it) and return the weight of the new batch in the running
    averages: ``momentum``, or ``1 / count`` (the cumulative average) when it is ``None``."""
    if check.is_tensor(count):
        count.add_(1)
        return 1.0 / float(count) if momentum is None else momentum
    bn_param["num_batches_tracked"] = count = count + 1
    return 1.0 / count if momentum is None else momentum


def _per_channel(v, x):
    """A ``(C,)`` vector viewed to broadcast along axis 1 of ``x``: ``(1, C, 1, ...)``."""
    return v.view((1, -1) + (1,) * (x.ndim - 2))


def _other_axes(x):
    """Every axis of ``x`` but the channel axis 1: the axes a batch statistic runs over."""
    return (0,) + tuple(range(2, x.ndim))


# --------------------------------------------------------------------------- batch norm


def _forward(x, gamma, beta, bn_param):
    """The math of :func:`batchnorm_forward` and :func:`spatial_batchnorm_forward`: channels
    on axis 1, one mean and variance per channel over every other axis. The statistics in
    the cache keep their axes (shape ``(1, C, 1, ...)``) to broadcast against ``x``."""
    inputs = check.bn_inputs(x, gamma, beta, bn_param, check.tensor)
    mode, eps, momentum, running_mean, running_var, count = inputs
    c, m = x.shape[1], x.numel() // x.shape[1]  # m: the values per channel
    if running_mean is None:
        running_mean = bn_param["running_mean"] = torch.zeros(c, dtype=x.dtype, device=x.device)
    if running_var is None:
        running_var = bn_param["running_var"] = torch.ones(c, dtype=x.dtype, device=x.device)
    gamma, beta = _per_channel(gamma, x), _per_channel(beta, x)

    if mode == "test":
        istd = 1.0 / torch.sqrt(_per_channel(running_var, x).to(x.dtype) + eps)
        xhat = (x - _per_channel(running_mean, x).to(x.dtype)) * istd
        out = torch.addcmul(beta, gamma, xhat)
        return out, {"mode": "test", "x": x, "xhat": xhat, "gamma": gamma, "istd": istd}

    axes = _other_axes(x)
    mu = x.mean(dim=axes, keepdim=True)
    xhat = x - mu  # x - mu until it is scaled in place below
    var = xhat.square().mean(dim=axes, keepdim=True)
    std = torch.sqrt(var + eps)
    istd = 1.0 / std
    xhat.mul_(istd)
    out = torch.addcmul(beta, gamma, xhat)  # gamma * xhat + beta, fused

    with torch.no_grad():
        factor = _count_batch(bn_param, count, momentum)
        unbiased = var.view(-1) * (m / (m - 1))
        running_mean.mul_(1 - factor).add_(factor * mu.view(-1))
        running_var.mul_(1 - factor).add_(factor * unbiased)

    cache = {
        "mode": "train",
        "x": x,
        "mu": mu,
        "var": var,
        "std": std,
        "istd": istd,
        "xhat": xhat,
        "gamma": gamma,
        "eps": eps,
    }
    return out, cache


def _backward_alt(dout, cache):
    """The closed-form backward pass of :func:`_forward`, for any number of axes."""
    xhat, gamma, istd = cache["xhat"], cache["gamma"], cache["istd"]
    axes = _other_axes(dout)
    dbeta = dout.sum(dim=axes, keepdim=True)
    dgamma = (dout * xhat).sum(dim=axes, keepdim=True)
    scale = gamma * istd
    if cache["mode"] == "test":  # a fixed affine map
        dx = dout * scale
    else:  # (gamma istd / m) (m dout - dbeta - xhat dgamma), in two passes over the data
        m = dout.numel() // dout.shape[1]
        dx = torch.addcmul(-scale * dbeta / m, dout, scale)
        dx.addcmul_(xhat, scale * dgamma / m, value=-1)
    return dx, dgamma.view(-1), dbeta.view(-1)


def batchnorm_forward(x, gamma, beta, bn_param):
    r"""Batch normalization of ``(N, D)`` tensors; the running statistics in ``bn_param``
    are tensors, created on ``x``'s device in its dtype and updated in place.

    Same arguments, math, conventions and checks as
    :func:`nntrain.reference.normalization.batchnorm_forward`; ``x``, ``gamma`` and
    ``beta`` must share one dtype and device. The cache keeps ``mu``, not ``x - mu``, and
    its vectors have shape ``(1, D)``: the twin makes one pass less over the batch.

    Example:
        >>> bn_param = {"mode": "train"}
        >>> out, _ = batchnorm_forward(torch.tensor([[1.0], [3.0]]), torch.ones(1),
        ...                            torch.zeros(1), bn_param)
        >>> out
        tensor([[-1.0000],
                [ 1.0000]])
        >>> bn_param["running_mean"], bn_param["running_var"]
        (tensor([0.2000]), tensor([1.1000]))
    """
    check.tensor("x", x, ndim=2)
    return _forward(x, gamma, beta, bn_param)


def batchnorm_backward(dout, cache):
    r"""Backward pass of :func:`batchnorm_forward` through the computational graph, node by
    node: ``(dx, dgamma, dbeta)``. Same steps as
    :func:`nntrain.reference.normalization.batchnorm_backward`; a test-mode cache gives
    ``dx = dout * gamma / sqrt(running_var + eps)``."""
    cache = check.bn_cache(cache)
    _dout(dout, cache)
    if cache["mode"] == "test":
        return _backward_alt(dout, cache)
    x, mu, std, istd = cache["x"], cache["mu"], cache["std"], cache["istd"]
    xhat, gamma = cache["xhat"], cache["gamma"]
    n = dout.shape[0]
    xmu = x - mu

    # out = gamma * xhat + beta
    dbeta = dout.sum(dim=0)
    dgamma = (dout * xhat).sum(dim=0)
    dxhat = dout * gamma
    # xhat = xmu * istd
    dxmu1 = dxhat * istd
    distd = (dxhat * xmu).sum(dim=0)
    # istd = 1 / std
    dstd = -distd / (std * std)
    # std = sqrt(var + eps)
    dvar = dstd * 0.5 / std
    # var = mean over rows of xmu ** 2
    dsq = torch.ones_like(xmu) * (dvar / n)
    dxmu2 = 2 * xmu * dsq
    dxmu = dxmu1 + dxmu2
    # xmu = x - mu
    dx1 = dxmu
    dmu = -dxmu.sum(dim=0)
    # mu = mean over rows of x
    dx2 = torch.ones_like(xmu) * (dmu / n)
    dx = dx1 + dx2
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    r"""Backward pass of :func:`batchnorm_forward` in closed form: ``(dx, dgamma, dbeta)``
    with

    .. math::
        dx = \frac{\gamma}{N \sigma} \bigl(N\, \mathrm{dout} - d\beta - \hat{x}\, d\gamma
        \bigr), \qquad \sigma = \sqrt{\sigma^2_{\mathcal{B}} + \epsilon},

    derived in :func:`nntrain.reference.normalization.batchnorm_backward_alt`."""
    cache = check.bn_cache(cache)
    _dout(dout, cache)
    return _backward_alt(dout, cache)


BatchNormFunction = layer_function("BatchNormFunction", batchnorm_forward, batchnorm_backward_alt)


# --------------------------------------------------------------------------- spatial


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    r"""Spatial batch normalization of ``(N, C, H, W)`` tensors, one mean and variance per
    channel over ``N``, ``H`` and ``W``. Same arguments and math as
    :func:`nntrain.reference.normalization.spatial_batchnorm_forward`, which moves the
    channel axis last and reuses the ``(N, D)`` layer; the twin reduces over the three
    axes in place instead, which spares two copies of the batch each way.

    Example:
        >>> x = torch.arange(8.0).reshape(1, 2, 2, 2)
        >>> out, _ = spatial_batchnorm_forward(x, torch.ones(2), torch.zeros(2),
        ...                                    {"mode": "train"})
        >>> out.mean(dim=(0, 2, 3)).abs().max() < 1e-6
        tensor(True)
    """
    check.tensor("x", x, ndim=4)
    out, cache = _forward(x, gamma, beta, bn_param)
    return out, (cache, tuple(x.shape))


def spatial_batchnorm_backward(dout, cache):
    r"""Backward pass of :func:`spatial_batchnorm_forward`: ``(dx, dgamma, dbeta)``, the
    closed form of :func:`batchnorm_backward_alt` over ``N``, ``H`` and ``W``."""
    if not (isinstance(cache, tuple) and len(cache) == 2):
        raise TypeError(
            "cache must be the (cache, shape) pair returned by spatial_batchnorm_forward, got "
            f"{type(cache).__name__}"
        )
    cache = check.bn_cache(cache[0])
    _dout(dout, cache)
    return _backward_alt(dout, cache)


SpatialBatchNormFunction = layer_function(
    "SpatialBatchNormFunction", spatial_batchnorm_forward, spatial_batchnorm_backward
)


# --------------------------------------------------------------------------- modules


class _BatchNorm(nn.Module):
    """What :class:`BatchNorm1d` and :class:`BatchNorm2d` share: the parameters, buffers
    and mode logic of ``torch.nn.modules.batchnorm._BatchNorm``."""

    # PyTorch's batch norms are at state-dict version 2 (the one with num_batches_tracked)
    _version = 2

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        device=None,
        dtype=None,
        *,
        bias=True,
    ):
        super().__init__()
        check.positive_int("num_features", num_features)
        check.positive("eps", eps, allow_zero=True)
        check.momentum_rate("momentum", momentum)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        kw = {"device": device, "dtype": dtype}
        if self.affine:
            self.weight = nn.Parameter(torch.empty(num_features, **kw))
            if bias:
                self.bias = nn.Parameter(torch.empty(num_features, **kw))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **kw))
            self.register_buffer("running_var", torch.ones(num_features, **kw))
            self.register_buffer(
                "num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        """Running mean 0, running variance 1, no batch seen (as PyTorch's)."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        """Running statistics reset, ``weight`` 1 and ``bias`` 0 (as PyTorch's)."""
        self.reset_running_stats()
        if self.affine:
            nn.init.ones_(self.weight)
            if self.bias is not None:
                nn.init.zeros_(self.bias)

    def _check_input_dim(self, x):
        raise NotImplementedError

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
        # as PyTorch's: a state dict from before version 2 has no num_batches_tracked
        version = local_metadata.get("version")
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats:
            state_dict.setdefault(key, torch.tensor(0, dtype=torch.long))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)

    def _bn_param(self):
        """The ``bn_param`` of this call, with PyTorch's rules: batch statistics in training
        and whenever there are no running statistics; the running statistics are updated
        in training when tracked."""
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        update = self.training and self.track_running_stats
        if use_batch and not update:  # batch statistics, and the running ones stay put
            return {"mode": "train", "eps": self.eps, "momentum": 0.0}
        bn_param = {
            "mode": "train" if use_batch else "test",
            "eps": self.eps,
            "momentum": self.momentum,
            "running_mean": self.running_mean,
            "running_var": self.running_var,
        }
        if update and self.num_batches_tracked is not None:
            bn_param["num_batches_tracked"] = self.num_batches_tracked
        return bn_param

    def forward(self, x):
        check.tensor("x", x)
        self._check_input_dim(x)
        c = self.num_features
        check.shape("x", x, (None, c) + (None,) * (x.ndim - 2))
        bn_param = self._bn_param()
        if bn_param["mode"] == "train":
            check.two_values_per_feature(x.shape, x.numel() // c)
        gamma, beta = self.weight, self.bias
        if gamma is None:
            gamma = torch.ones(c, dtype=x.dtype, device=x.device)
        if beta is None:
            beta = torch.zeros(c, dtype=x.dtype, device=x.device)
        if x.ndim == 2:
            return BatchNormFunction.apply(x, gamma, beta, bn_param)
        if x.ndim == 3:
            return SpatialBatchNormFunction.apply(x.unsqueeze(-1), gamma, beta, bn_param)[..., 0]
        return SpatialBatchNormFunction.apply(x, gamma, beta, bn_param)

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of ``(N, C)`` or ``(N, C, L)`` inputs as an ``nn.Module``, a
    drop-in replacement for ``torch.nn.BatchNorm1d``, computed by
    :class:`BatchNormFunction` (``(N, C)``) and :class:`SpatialBatchNormFunction`
    (``(N, C, L)``, as ``(N, C, L, 1)``: one mean and variance per channel over ``N`` and
    ``L``, as in PyTorch).

    Args:
        num_features: ``C``.
        eps: added to the variance before the square root, ``>= 0``.
        momentum: weight of the new batch in the running statistics, in ``[0, 1]``, or
            ``None`` for their cumulative average (PyTorch's convention; see
            :mod:`nntrain.reference.normalization`).
        affine: learn ``weight`` (:math:`\\gamma`, starting at 1) and ``bias``
            (:math:`\\beta`, starting at 0); without, both are ``None``.
        track_running_stats: keep ``running_mean``, ``running_var`` and
            ``num_batches_tracked`` buffers, used in eval mode; without, they are ``None``
            and the batch statistics are used in both modes.
        device: where the parameters and buffers are created.
        dtype: their floating dtype.
        bias: with ``affine``, learn ``bias`` too; without, ``bias`` is ``None`` (keyword
            only, as in recent PyTorch versions; older ones lack it).

    Shapes:
        input ``(N, C)`` or ``(N, C, L)``; output the same shape. In training, more than
        one value per channel (``N L >= 2``).
    """

    def _check_input_dim(self, x):
        if x.ndim not in (2, 3):
            raise ValueError(
                f"x must have 2 or 3 dimensions, (N, C) or (N, C, L), got shape {tuple(x.shape)}"
            )


class BatchNorm2d(_BatchNorm):
    """Spatial batch normalization of ``(N, C, H, W)`` inputs as an ``nn.Module``, a
    drop-in replacement for ``torch.nn.BatchNorm2d``, computed by
    :class:`SpatialBatchNormFunction`: one mean and variance per channel, over ``N``,
    ``H`` and ``W``.

    Args:
        num_features: ``C``.
        eps: as for :class:`BatchNorm1d`.
        momentum: as for :class:`BatchNorm1d`.
        affine: as for :class:`BatchNorm1d`.
        track_running_stats: as for :class:`BatchNorm1d`.
        device: as for :class:`BatchNorm1d`.
        dtype: as for :class:`BatchNorm1d`.
        bias: as for :class:`BatchNorm1d`.

    Shapes:
        input ``(N, C, H, W)``; output the same shape. In training, more than one value
        per channel (``N H W >= 2``).
    """

    def _check_input_dim(self, x):
        if x.ndim != 4:
            raise ValueError(f"x must have 4 dimensions, (N, C, H, W), got shape {tuple(x.shape)}")


# --------------------------------------------------------------------------- layer norm


def layernorm_forward(x, gamma, beta, eps=1e-5):
    r"""Layer normalization of ``(N, D)`` tensors: every row standardized over its ``D``
    features, then scaled by ``gamma`` and shifted by ``beta``. Same arguments, math and
    checks as :func:`nntrain.reference.normalization.layernorm_forward`; ``x``, ``gamma``
    and ``beta`` must share one dtype and device.

    Example:
        >>> out, _ = layernorm_forward(torch.tensor([[1.0, 3.0]]), torch.ones(2), torch.zeros(2))
        >>> out
        tensor([[-1.0000,  1.0000]])
    """
    check.tensor("x", x, ndim=2)
    check.tensor("gamma", gamma, ndim=1)
    check.tensor("beta", beta, ndim=1)
    check.same_kind(("x", "gamma", "beta"), x, gamma, beta)
    check.same_dtype(("x", "gamma", "beta"), x, gamma, beta)
    check.shape("gamma", gamma, (x.shape[1],))
    check.shape("beta", beta, (x.shape[1],))
    check.positive("eps", eps, allow_zero=True)
    mu = x.mean(dim=1, keepdim=True)
    xhat = x - mu  # x - mu until it is scaled in place below
    var = xhat.square().mean(dim=1, keepdim=True)
    istd = 1.0 / torch.sqrt(var + eps)
    xhat.mul_(istd)
    out = torch.addcmul(beta, gamma, xhat)  # gamma * xhat + beta, fused
    return out, {"x": x, "xhat": xhat, "istd": istd, "gamma": gamma}


def layernorm_backward(dout, cache):
    r"""Backward pass of :func:`layernorm_forward`: ``(dx, dgamma, dbeta)``, the closed form
    derived in :func:`nntrain.reference.normalization.layernorm_backward`."""
    check.upstream(dout, tuple(cache["x"].shape), check.tensor, x=cache["x"])
    xhat, istd = cache["xhat"], cache["istd"]
    dbeta = dout.sum(dim=0)
    dgamma = (dout * xhat).sum(dim=0)
    dxhat = dout * cache["gamma"]
    mean = dxhat.mean(dim=1, keepdim=True)
    mean_xhat = (dxhat * xhat).mean(dim=1, keepdim=True)
    dx = istd * (dxhat - mean - xhat * mean_xhat)
    return dx, dgamma, dbeta


LayerNormFunction = layer_function("LayerNormFunction", layernorm_forward, layernorm_backward)


class LayerNorm(nn.Module):
    """Layer normalization over the last axis as an ``nn.Module``, a drop-in replacement for
    ``torch.nn.LayerNorm`` with a single normalized dimension, computed by
    :class:`LayerNormFunction`: one mean and variance per example, the same in training
    and evaluation.

    Args:
        normalized_shape: ``D``, the size of the last axis (an int, or a tuple of one int).
        eps: added to each variance before the square root, ``>= 0``.
        elementwise_affine: learn ``weight`` (:math:`\\gamma`, starting at 1) and ``bias``
            (:math:`\\beta`, starting at 0); without, both are ``None``.
        bias: with ``elementwise_affine``, learn ``bias`` too; without, ``bias`` is ``None``.
        device: where the parameters are created.
        dtype: their floating dtype.

    Shapes:
        input ``(*, D)``; output the same shape.
    """

    def __init__(
        self,
        normalized_shape,
        eps=1e-5,
        elementwise_affine=True,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if isinstance(normalized_shape, tuple) and len(normalized_shape) == 1:
            normalized_shape = normalized_shape[0]
        check.positive_int("normalized_shape", normalized_shape)
        check.positive("eps", eps, allow_zero=True)
        self.normalized_shape = (normalized_shape,)
        self.eps = eps
        self.elementwise_affine = bool(elementwise_affine)
        kw = {"device": device, "dtype": dtype}
        self.weight = self.bias = None
        if self.elementwise_affine:
            self.weight = nn.Parameter(torch.ones(normalized_shape, **kw))
            if bias:
                self.bias = nn.Parameter(torch.zeros(normalized_shape, **kw))

    def forward(self, x):
        check.tensor("x", x, min_ndim=1)
        (d,) = self.normalized_shape
        check.shape("x", x, (None,) * (x.ndim - 1) + (d,))
        gamma, beta = self.weight, self.bias
        if gamma is None:
            gamma = torch.ones(d, dtype=x.dtype, device=x.device)
        if beta is None:
            beta = torch.zeros(d, dtype=x.dtype, device=x.device)
        out = LayerNormFunction.apply(x.reshape(-1, d), gamma, beta, self.eps)
        return out.view(x.shape)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )
