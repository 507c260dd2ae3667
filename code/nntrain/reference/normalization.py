r"""Batch normalization, NumPy reference (cs231n convention).

Ioffe and Szegedy (2015), *Batch Normalization: Accelerating Deep Network Training by
Reducing Internal Covariate Shift*. Each feature is standardized with the mean and variance
of the current mini-batch, then scaled and shifted by two learned vectors, :math:`\gamma`
and :math:`\beta`. For one feature and a mini-batch :math:`\mathcal{B} = \{x_1, \dots,
x_m\}`, Algorithm 1 of the paper is

.. math::
    \mu_{\mathcal{B}} &\leftarrow \frac{1}{m} \sum_{i=1}^{m} x_i
        \qquad \text{(mini-batch mean)} \\
    \sigma_{\mathcal{B}}^2 &\leftarrow \frac{1}{m} \sum_{i=1}^{m} (x_i - \mu_{\mathcal{B}})^2
        \qquad \text{(mini-batch variance)} \\
    \hat{x}_i &\leftarrow \frac{x_i - \mu_{\mathcal{B}}}{\sqrt{\sigma_{\mathcal{B}}^2 + \epsilon}}
        \qquad \text{(normalize)} \\
    y_i &\leftarrow \gamma \hat{x}_i + \beta \equiv \mathrm{BN}_{\gamma, \beta}(x_i)
        \qquad \text{(scale and shift)}

The layer can undo itself: :math:`\gamma = \sqrt{\sigma_{\mathcal{B}}^2 + \epsilon}` and
:math:`\beta = \mu_{\mathcal{B}}` give back the input.

**Train and test mode.** At test time a prediction must not depend on the other examples of
the batch, so the layer uses running estimates of the mean and variance instead, updated at
every training step. Which estimates, exactly, depends on the convention:

* **PyTorch's (used here).** ``momentum = 0.1`` is the weight of the *new* batch:
  :math:`r \leftarrow (1 - \mathrm{momentum})\, r + \mathrm{momentum}\, s`, where :math:`s`
  is the batch mean for the running mean and the *unbiased* batch variance
  :math:`\frac{m}{m - 1} \sigma_{\mathcal{B}}^2` for the running variance (the estimate of
  Algorithm 2 of the paper). ``momentum=None`` makes the running statistics plain
  (cumulative) averages over every batch seen so far,
  :math:`r \leftarrow r + (s - r) / t` after the :math:`t`-th batch, as in
  ``torch.nn.BatchNorm1d(momentum=None)``. The running statistics start at 0 (mean) and
  1 (variance), as in PyTorch. The normalization itself always uses the *biased*
  :math:`\sigma_{\mathcal{B}}^2`.
* **cs231n's and Keras's.** ``momentum = 0.9`` is the weight of the *old* value:
  :math:`r \leftarrow \mathrm{momentum}\, r + (1 - \mathrm{momentum})\, s`, and the running
  variance averages the *biased* batch variances. PyTorch's ``momentum = 0.1`` is cs231n's
  ``0.9``; the two running variances differ by the factor :math:`m / (m - 1)`
  (cs231n's running statistics also start at 0 for the variance).

With the ``(N, D)`` inputs of :func:`batchnorm_forward`, :math:`m = N` and every one of the
``D`` columns is a feature. :func:`spatial_batchnorm_forward` normalizes images
``(N, C, H, W)`` with one mean and variance per channel, over :math:`m = N H W` values.

Every forward pass returns ``(out, cache)``, and the backward passes return
``(dx, dgamma, dbeta)``. :func:`batchnorm_backward` walks the computational graph node by
node; :func:`batchnorm_backward_alt` is the closed form, several times faster. Both accept
the cache of a test-mode forward pass too, where the layer is a fixed affine map.

The state of the layer lives in the dict ``bn_param``: ``mode`` (``"train"`` or ``"test"``,
required), ``eps`` (default ``1e-5``), ``momentum`` (default ``0.1``; ``None`` for the
cumulative average), and ``running_mean``, ``running_var`` and ``num_batches_tracked``,
which the forward pass creates on first use, stores there and updates in place.

**Layer normalization** (Ba, Kiros and Hinton, 2016), :func:`layernorm_forward` and
:func:`layernorm_backward`, takes the mean and variance of each *example* over its features
instead: no batch statistics, hence no modes and no running state.

Used in chapter 4 (batch normalization).
"""

from __future__ import annotations

import numpy as np

from .. import validation as check

__all__ = [
    "batchnorm_forward",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "spatial_batchnorm_forward",
    "spatial_batchnorm_backward",
    "layernorm_forward",
    "layernorm_backward",
]


def _dout(dout, cache):
    """Check the upstream gradient against the cached input."""
    check.upstream(dout, cache["x"].shape, check.ndarray, x=cache["x"])


# --------------------------------------------------------------------------- batch norm


def batchnorm_forward(x, gamma, beta, bn_param):
    r"""Batch normalization of ``(N, D)`` inputs: every column standardized, then scaled by
    ``gamma`` and shifted by ``beta``.

    In **train** mode, with the batch mean :math:`\mu` and the biased batch variance
    :math:`\sigma^2` of each column,

    .. math::
        \hat{x} = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad
        \mathrm{out} = \gamma \hat{x} + \beta,

    and the running statistics in ``bn_param`` are updated in place, PyTorch's way (see the
    module docstring): :math:`r \leftarrow (1 - \mathrm{momentum})\, r +
    \mathrm{momentum}\, s` with the mean and the *unbiased* variance
    :math:`\frac{N}{N - 1} \sigma^2` as :math:`s`, or the cumulative average when
    ``momentum`` is ``None``; ``num_batches_tracked`` goes up by one.

    In **test** mode the running mean and variance take the place of :math:`\mu` and
    :math:`\sigma^2`, and nothing is updated: the layer is a fixed affine map of each
    example on its own.

    Args:
        x: inputs of shape ``(N, D)``; in train mode ``N >= 2``.
        gamma: scale of shape ``(D,)``.
        beta: shift of shape ``(D,)``.
        bn_param: a dict with ``mode`` (``"train"`` or ``"test"``, required) and optionally
            ``eps`` (``>= 0``, default ``1e-5``), ``momentum`` (in ``[0, 1]``, default
            ``0.1``, or ``None``), ``running_mean`` and ``running_var`` (arrays of shape
            ``(D,)``, created as zeros and ones in the dtype of ``x`` when absent) and
            ``num_batches_tracked`` (an int, 0 when absent).

    Returns:
        ``(out, cache)``: ``out`` of shape ``(N, D)`` and a dict for the backward pass.

    Example:
        >>> bn_param = {"mode": "train"}
        >>> out, _ = batchnorm_forward(np.array([[1.0], [3.0]]), np.ones(1), np.zeros(1),
        ...                            bn_param)
        >>> np.round(out, 4)
        array([[-1.],
               [ 1.]])
        >>> bn_param["running_mean"], bn_param["running_var"], bn_param["num_batches_tracked"]
        (array([0.2]), array([1.1]), 1)
    """
    check.ndarray("x", x, ndim=2)
    n, d = x.shape
    inputs = check.bn_inputs(x, gamma, beta, bn_param, check.ndarray)
    mode, eps, momentum, running_mean, running_var, count = inputs
    if running_mean is None:
        running_mean = bn_param["running_mean"] = np.zeros(d, dtype=x.dtype)
    if running_var is None:
        running_var = bn_param["running_var"] = np.ones(d, dtype=x.dtype)

    if mode == "test":
        # the running statistics in x's dtype (they may have been kept in float64)
        istd = 1.0 / np.sqrt(running_var.astype(x.dtype, copy=False) + eps)
        xhat = (x - running_mean.astype(x.dtype, copy=False)) * istd
        out = gamma * xhat + beta
        return out, {"mode": "test", "x": x, "xhat": xhat, "gamma": gamma, "istd": istd}

    mu = x.mean(axis=0)  # (D,) batch mean
    xmu = x - mu  # (N, D) centred inputs
    var = (xmu * xmu).mean(axis=0)  # (D,) biased batch variance
    std = np.sqrt(var + eps)  # (D,)
    istd = 1.0 / std  # (D,)
    xhat = xmu * istd  # (N, D) normalized inputs
    out = gamma * xhat + beta  # (N, D)

    bn_param["num_batches_tracked"] = count = count + 1
    factor = 1.0 / count if momentum is None else momentum
    unbiased = var * (n / (n - 1))
    running_mean *= 1 - factor
    running_mean += factor * mu
    running_var *= 1 - factor
    running_var += factor * unbiased

    cache = {
        "mode": "train",
        "x": x,
        "xmu": xmu,
        "var": var,
        "std": std,
        "istd": istd,
        "xhat": xhat,
        "gamma": gamma,
        "eps": eps,
    }
    return out, cache


def _test_backward(dout, cache):
    """Backward of a test-mode forward pass: the fixed affine map
    ``out = gamma * (x - running_mean) * istd + beta``."""
    dbeta = dout.sum(axis=0)
    dgamma = (dout * cache["xhat"]).sum(axis=0)
    dx = dout * (cache["gamma"] * cache["istd"])
    return dx, dgamma, dbeta


def batchnorm_backward(dout, cache):
    r"""Backward pass of :func:`batchnorm_forward`, node by node through the computational
    graph.

    The forward pass of train mode is a chain of simple steps, each with an easy local
    gradient:

    .. math::
        \mu = \tfrac{1}{N} \textstyle\sum_i x_i, \quad
        x_\mu = x - \mu, \quad
        \sigma^2 = \tfrac{1}{N} \textstyle\sum_i x_{\mu, i}^2, \quad
        s = \sqrt{\sigma^2 + \epsilon}, \quad
        t = 1 / s, \quad
        \hat{x} = x_\mu\, t, \quad
        \mathrm{out} = \gamma \hat{x} + \beta.

    The backward pass visits them in reverse, turning the gradient of each output into the
    gradient of its inputs. A quantity used twice receives the sum of the gradients of
    both uses (:math:`x_\mu` feeds both :math:`\sigma^2` and :math:`\hat{x}`, and :math:`x`
    both :math:`\mu` and :math:`x_\mu`), and a per-feature quantity broadcast over the
    batch (:math:`\mu`, :math:`t`, :math:`\gamma`, :math:`\beta`) receives the sum over the
    batch. :func:`batchnorm_backward_alt` computes the same numbers in one formula.

    For a test-mode cache the layer is the fixed map
    :math:`\mathrm{out} = \gamma (x - \mu_{\mathrm{run}}) / \sqrt{\sigma^2_{\mathrm{run}} +
    \epsilon} + \beta`, so ``dx = dout * gamma / sqrt(running_var + eps)``.

    Args:
        dout: upstream gradient of shape ``(N, D)``.
        cache: the dict returned by :func:`batchnorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` with the shapes of ``x``, ``gamma`` and ``beta``.
    """
    cache = check.bn_cache(cache)
    _dout(dout, cache)
    if cache["mode"] == "test":
        return _test_backward(dout, cache)
    xmu, std, istd = cache["xmu"], cache["std"], cache["istd"]
    xhat, gamma = cache["xhat"], cache["gamma"]
    n = dout.shape[0]

    # out = gamma * xhat + beta
    dbeta = dout.sum(axis=0)  # beta is added to every row: sum over rows
    dgamma = (dout * xhat).sum(axis=0)  # gamma scales every row: sum over rows
    dxhat = dout * gamma  # (N, D)
    # xhat = xmu * istd
    dxmu1 = dxhat * istd  # first use of xmu, (N, D)
    distd = (dxhat * xmu).sum(axis=0)  # istd is shared by every row, (D,)
    # istd = 1 / std
    dstd = -distd / (std * std)  # d(1/s)/ds = -1/s^2
    # std = sqrt(var + eps)
    dvar = dstd * 0.5 / std  # d(sqrt(v + eps))/dv = 1 / (2 sqrt(v + eps))
    # var = mean over rows of sq, with sq = xmu ** 2
    dsq = np.ones_like(xmu) * (dvar / n)  # every row weighs 1/N in the mean, (N, D)
    dxmu2 = 2 * xmu * dsq  # second use of xmu: d(xmu^2)/dxmu = 2 xmu
    dxmu = dxmu1 + dxmu2  # xmu is used twice: add both gradients
    # xmu = x - mu
    dx1 = dxmu  # first use of x
    dmu = -dxmu.sum(axis=0)  # mu is subtracted from every row, (D,)
    # mu = mean over rows of x
    dx2 = np.ones_like(xmu) * (dmu / n)  # second use of x: every row weighs 1/N
    dx = dx1 + dx2  # x is used twice: add both gradients
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    r"""Backward pass of :func:`batchnorm_forward` in closed form.

    Write :math:`\sigma = \sqrt{\sigma^2_{\mathcal{B}} + \epsilon}` (per feature) and
    :math:`\delta_i = \partial L / \partial \hat{x}_i = \gamma\, \mathrm{dout}_i`. Since
    :math:`\hat{x}_j = (x_j - \mu) / \sigma` and both :math:`\mu` and :math:`\sigma`
    depend on every :math:`x_i`,

    .. math::
        \frac{\partial \mu}{\partial x_i} = \frac{1}{N}, \qquad
        \frac{\partial \sigma}{\partial x_i} = \frac{1}{2 \sigma} \cdot
        \frac{2}{N} (x_i - \mu) = \frac{\hat{x}_i}{N}

    (the term through :math:`\mu` vanishes because :math:`\sum_j (x_j - \mu) = 0`), so

    .. math::
        \frac{\partial \hat{x}_j}{\partial x_i}
        = \frac{\delta_{ij} - 1/N}{\sigma} - \frac{x_j - \mu}{\sigma^2}
          \frac{\hat{x}_i}{N}
        = \frac{1}{N \sigma} \bigl(N \delta_{ij} - 1 - \hat{x}_i \hat{x}_j\bigr),

    with :math:`\delta_{ij}` the Kronecker delta. Summing over :math:`j`,

    .. math::
        \frac{\partial L}{\partial x_i} = \sum_j \delta_j
        \frac{\partial \hat{x}_j}{\partial x_i}
        = \frac{1}{N \sigma} \Bigl(N \delta_i - \sum_j \delta_j
          - \hat{x}_i \sum_j \delta_j \hat{x}_j\Bigr)
        = \frac{\gamma}{N \sigma} \bigl(N\, \mathrm{dout}_i - d\beta
          - \hat{x}_i\, d\gamma\bigr),

    where :math:`d\beta = \sum_j \mathrm{dout}_j` and
    :math:`d\gamma = \sum_j \mathrm{dout}_j \hat{x}_j` are the gradients of the
    parameters, computed anyway. The last form is the one computed: two reductions over the
    batch and one elementwise pass, instead of the graph's many intermediates. The gradient
    of a feature sums to 0 over the batch and is orthogonal to :math:`\hat{x}`: shifting or
    scaling a feature's inputs does not change its output.

    A test-mode cache is handled as in :func:`batchnorm_backward`.

    Args:
        dout: upstream gradient of shape ``(N, D)``.
        cache: the dict returned by :func:`batchnorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` with the shapes of ``x``, ``gamma`` and ``beta``.
    """
    cache = check.bn_cache(cache)
    _dout(dout, cache)
    if cache["mode"] == "test":
        return _test_backward(dout, cache)
    xhat, gamma, istd = cache["xhat"], cache["gamma"], cache["istd"]
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dx = (gamma * istd / n) * (n * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


# --------------------------------------------------------------------------- spatial


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    r"""Spatial batch normalization of images ``(N, C, H, W)``: one mean and one variance
    per channel, over the batch and every position.

    Ioffe and Szegedy (2015), section 3.2: in a convolutional layer, every position of a
    feature map is normalized the same way, so that normalization keeps the convolution's
    property of treating all positions alike. The ``N H W`` values of a channel form the
    mini-batch of Algorithm 1 (the module docstring); ``gamma`` and ``beta`` hold one value
    per channel. Computed by moving the channel axis last, flattening to ``(N H W, C)`` and
    calling :func:`batchnorm_forward`; ``bn_param`` is the same dict, with running statistics
    of shape ``(C,)``. Same as ``torch.nn.BatchNorm2d``.

    Args:
        x: inputs of shape ``(N, C, H, W)``; in train mode ``N H W >= 2``.
        gamma: scale of shape ``(C,)``.
        beta: shift of shape ``(C,)``.
        bn_param: as for :func:`batchnorm_forward`.

    Returns:
        ``(out, cache)``: ``out`` of shape ``(N, C, H, W)`` and the cache.

    Example:
        >>> x = np.arange(8.0).reshape(1, 2, 2, 2)
        >>> out, _ = spatial_batchnorm_forward(x, np.ones(2), np.zeros(2), {"mode": "train"})
        >>> np.round(out.mean(axis=(0, 2, 3)), 12), np.round(out.std(axis=(0, 2, 3)), 4)
        (array([0., 0.]), array([1., 1.]))
    """
    check.ndarray("x", x, ndim=4)
    mode, _, _ = check.bn_settings(bn_param)
    n, c, h, w = x.shape
    if mode == "train":
        check.two_values_per_feature(x.shape, n * h * w)
    x_flat = x.transpose(0, 2, 3, 1).reshape(n * h * w, c)
    out_flat, cache = batchnorm_forward(x_flat, gamma, beta, bn_param)
    out = out_flat.reshape(n, h, w, c).transpose(0, 3, 1, 2)
    return out, (cache, x.shape)


def spatial_batchnorm_backward(dout, cache):
    r"""Backward pass of :func:`spatial_batchnorm_forward`.

    The upstream gradient is flattened the way the forward pass flattened ``x``, passed to
    :func:`batchnorm_backward_alt` (the closed form; the channel's ``N H W`` values are its
    batch) and reshaped back.

    Args:
        dout: upstream gradient of shape ``(N, C, H, W)``.
        cache: the cache returned by :func:`spatial_batchnorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` with the shapes of ``x``, ``gamma`` and ``beta``.
    """
    if not (isinstance(cache, tuple) and len(cache) == 2):
        raise TypeError(
            "cache must be the (cache, shape) pair returned by spatial_batchnorm_forward, got "
            f"{type(cache).__name__}"
        )
    flat, shape = cache
    check.ndarray("dout", dout, ndim=4)
    check.shape("dout", dout, tuple(shape))
    n, c, h, w = shape
    dout_flat = dout.transpose(0, 2, 3, 1).reshape(n * h * w, c)
    dx_flat, dgamma, dbeta = batchnorm_backward_alt(dout_flat, flat)
    dx = dx_flat.reshape(n, h, w, c).transpose(0, 3, 1, 2)
    return dx, dgamma, dbeta


# --------------------------------------------------------------------------- layer norm


def layernorm_forward(x, gamma, beta, eps=1e-5):
    r"""Layer normalization of ``(N, D)`` inputs: every *row* (one example) standardized
    over its ``D`` features, then scaled by ``gamma`` and shifted by ``beta``.

    Ba, Kiros and Hinton (2016), *Layer Normalization*. Batch normalization's statistics
    run down the columns (over the examples); layer normalization's run along the rows, so
    that for the example :math:`x_i` with features :math:`x_{i1}, \dots, x_{iD}`

    .. math::
        \mu_i = \frac{1}{D} \sum_{j=1}^{D} x_{ij}, \qquad
        \sigma_i^2 = \frac{1}{D} \sum_{j=1}^{D} (x_{ij} - \mu_i)^2, \qquad
        \mathrm{out}_{ij} = \gamma_j \frac{x_{ij} - \mu_i}{\sqrt{\sigma_i^2 + \epsilon}}
            + \beta_j.

    An example's output depends on that example alone: there is no train or test mode, no
    running statistics and no minimum batch size.

    Args:
        x: inputs of shape ``(N, D)``.
        gamma: scale of shape ``(D,)``.
        beta: shift of shape ``(D,)``.
        eps: added to each variance before the square root, ``>= 0``.

    Returns:
        ``(out, cache)``: ``out`` of shape ``(N, D)`` and a dict for the backward pass.

    Example:
        >>> out, _ = layernorm_forward(np.array([[1.0, 3.0], [0.0, 10.0]]), np.ones(2),
        ...                            np.zeros(2))
        >>> np.round(out, 4)
        array([[-1.,  1.],
               [-1.,  1.]])
    """
    check.ndarray("x", x, ndim=2)
    d = x.shape[1]
    check.ndarray("gamma", gamma, ndim=1)
    check.ndarray("beta", beta, ndim=1)
    check.shape("gamma", gamma, (d,))
    check.shape("beta", beta, (d,))
    check.positive("eps", eps, allow_zero=True)
    mu = x.mean(axis=1, keepdims=True)  # (N, 1) mean of each example
    xmu = x - mu  # (N, D)
    var = (xmu * xmu).mean(axis=1, keepdims=True)  # (N, 1) biased variance of each example
    istd = 1.0 / np.sqrt(var + eps)  # (N, 1)
    xhat = xmu * istd  # (N, D)
    out = gamma * xhat + beta
    return out, {"x": x, "xhat": xhat, "istd": istd, "gamma": gamma}


def layernorm_backward(dout, cache):
    r"""Backward pass of :func:`layernorm_forward`: ``(dx, dgamma, dbeta)``.

    :math:`d\beta` and :math:`d\gamma` sum over the examples as in batch norm; ``dx`` is
    batch norm's closed form (:func:`batchnorm_backward_alt`) with the roles of the axes
    exchanged, the means taken over each example's ``D`` features:

    .. math::
        dx = \frac{1}{\sigma_i} \Bigl(d\hat{x} - \overline{d\hat{x}}
            - \hat{x}\, \overline{d\hat{x}\, \hat{x}}\Bigr), \qquad
        d\hat{x} = \gamma\, \mathrm{dout},

    where :math:`\overline{v}` is the mean of :math:`v` along the row and
    :math:`\sigma_i = \sqrt{\sigma_i^2 + \epsilon}`.

    Args:
        dout: upstream gradient of shape ``(N, D)``.
        cache: the cache returned by :func:`layernorm_forward`.

    Returns:
        ``(dx, dgamma, dbeta)`` with the shapes of ``x``, ``gamma`` and ``beta``.
    """
    check.upstream(dout, cache["x"].shape, check.ndarray, x=cache["x"])
    xhat, istd = cache["xhat"], cache["istd"]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dxhat = dout * cache["gamma"]
    mean = dxhat.mean(axis=1, keepdims=True)
    mean_xhat = (dxhat * xhat).mean(axis=1, keepdims=True)
    dx = istd * (dxhat - mean - xhat * mean_xhat)
    return dx, dgamma, dbeta
