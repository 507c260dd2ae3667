"""A fully connected network of any depth, NumPy reference (cs231n ``FullyConnectedNet``)."""

from __future__ import annotations

import numpy as np

from .. import validation as check
from .activations import (
    elu_backward,
    elu_forward,
    gelu_backward,
    gelu_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    silu_backward,
    silu_forward,
    tanh_backward,
    tanh_forward,
)
from .dropout import dropout_backward, dropout_forward
from .layers import affine_backward, affine_forward
from .losses import l1_loss, l2_loss, softmax_loss, svm_loss
from .normalization import batchnorm_backward_alt, batchnorm_forward
from .penalties import elastic_net_penalty, l1_penalty, l2_penalty

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "PENALTIES",
    "FullyConnectedNet",
    "set_up",
]

#: Nonlinearities a hidden layer may use, by name, each a pair ``(forward, backward)``. The
#: network calls ``forward(h)`` alone, so hyperparameters (the leaky ReLU's slope, the ELU's
#: ``alpha``) keep their defaults.
ACTIVATIONS = {
    "relu": (relu_forward, relu_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
    "elu": (elu_forward, elu_backward),
    "gelu": (gelu_forward, gelu_backward),
    "silu": (silu_forward, silu_backward),
}
#: Losses the network may be trained with, by name.
LOSSES = {"softmax": softmax_loss, "svm": svm_loss, "l2": l2_loss, "l1": l1_loss}
#: Penalties on the weights, by name, each ``penalty(w, reg, l1_ratio) -> (loss, dw)``.
PENALTIES = {
    "l2": lambda w, reg, l1_ratio: l2_penalty(w, reg),
    "l1": lambda w, reg, l1_ratio: l1_penalty(w, reg),
    "elastic_net": elastic_net_penalty,
}


class FullyConnectedNet:
    r"""An L-layer fully connected network with the cs231n interface.

    The architecture is
    ``{affine - [batchnorm] - activation - [dropout]} x (L - 1) - affine - loss``: every
    hidden layer is an affine map followed by the nonlinearity (with
    ``normalization="batchnorm"``, a batch normalization before it, or after it with
    ``norm_placement="after"``) and, with ``dropout_keep_ratio < 1``, dropout as its last
    step: after the nonlinearity, as in cs231n's ``affine - [batchnorm] - relu -
    [dropout]``, and after a batch normalization placed after the nonlinearity too. The
    output layer has none of these, its values being the class scores. Without
    normalization and dropout, with :math:`h_0 = x`,

    .. math::
        h_\ell = f(h_{\ell-1} W_\ell + b_\ell) \; (\ell < L), \qquad
        s = h_{L-1} W_L + b_L,

    and the objective is the data loss plus a penalty on the weights only (not the biases,
    :math:`\gamma` or :math:`\beta`), :math:`\mathrm{reg} \sum_\ell R(W_\ell)` with
    :math:`R` the penalty of :mod:`nntrain.reference.penalties` named by ``reg_type`` at
    unit strength: by default the L2 penalty
    :math:`\tfrac{1}{2}\,\mathrm{reg} \sum_\ell \lVert W_\ell \rVert^2`.

    **Dropout and batch normalization.** A batch normalization never sees the units its
    own layer drops, but with two or more hidden layers each later one sees the previous
    layer's dropped units through the affine map between them. Dropout changes the
    variance of what it passes on between training and test, so those normalizations learn
    a running variance that is too large for test time (Li et al. 2019, *Understanding the
    disharmony between dropout and batch normalization by variance shift*; chapter 5
    measures it). Only dropout after the last batch normalization avoids the shift;
    re-estimating the running statistics with dropout off after training removes it.

    **Dropout's masks.** Dropout (:func:`~nntrain.reference.dropout.dropout_forward`, with
    cs231n's keep probability) acts in train mode only: in ``loss(X, y)``, not in
    ``loss(X)``. Its state is the dict ``dropout_param``, shared by every layer, as in
    cs231n: with a ``seed`` the net puts the same seed there, so every call draws the
    same masks, which is what a gradient check needs (every layer's draws then start from
    the same seed, so layers of equal width share a mask). A training run wants fresh
    masks at every step: build the net without a seed, or remove it after construction,
    ``del net.dropout_param["seed"]``; the masks then come from NumPy's global generator
    (:func:`nntrain.seed`).

    Args:
        hidden_dims: widths of the hidden layers, e.g. ``[100, 100]``.
        input_dim: number of input features (each example is flattened).
        num_classes: number of classes (outputs; the target size for regression).
        activation: the hidden nonlinearity, a key of :data:`ACTIVATIONS`.
        weight_scale: weights start as ``weight_scale * standard normal``; biases are zero.
        reg: L2 strength; a plain attribute that may be changed after construction.
        dtype: the floating dtype of parameters and computations.
        seed: seed of the ``numpy.random.Generator`` that draws the initial weights.
        loss: ``"softmax"`` (default), ``"svm"``, ``"l2"`` or ``"l1"``.
        normalization: None (default) or ``"batchnorm"``
            (:func:`~nntrain.reference.normalization.batchnorm_forward`, Ioffe & Szegedy
            2015) in every hidden layer.
        norm_placement: ``"before"`` (default, as in the paper) or ``"after"`` the
            nonlinearity.
        dropout_keep_ratio: the probability of keeping a hidden unit in training, in
            ``(0, 1]`` (cs231n's name and convention; PyTorch's drop probability is
            ``1 - dropout_keep_ratio``); 1 (default) means no dropout.
        reg_type: the penalty, a key of :data:`PENALTIES`: ``"l2"`` (default), ``"l1"`` or
            ``"elastic_net"``; a plain attribute, like ``reg``.
        l1_ratio: the share of the L1 term in the elastic net, in ``[0, 1]`` (used by
            ``reg_type="elastic_net"`` only; a plain attribute).

    Attributes:
        params: dict of arrays ``W1, b1, ..., WL, bL``; ``W\ell`` has shape
            ``(D_{\ell-1}, D_\ell)``. With batch normalization also ``gamma\ell`` (ones)
            and ``beta\ell`` (zeros) for each hidden layer.
        bn_params: with batch normalization, one dict per hidden layer holding the
            running statistics (see ``batchnorm_forward``). ``loss(X)`` runs in test mode
            (running statistics), ``loss(X, y)`` in train mode (batch statistics, running
            statistics updated), the cs231n convention.
        dropout_param: with dropout, the dict of
            :func:`~nntrain.reference.dropout.dropout_forward` (``mode``, ``p`` and, with
            ``seed``, ``seed``); empty without.

    Example:
        >>> net = FullyConnectedNet([4, 4], input_dim=3, num_classes=1, seed=0)
        >>> sum(p.size for p in net.params.values())  # 3*4+4 + 4*4+4 + 4*1+1
        41

    Used from chapter 0 on.
    """

    def __init__(
        self,
        hidden_dims,
        input_dim=3 * 32 * 32,
        num_classes=10,
        activation="relu",
        weight_scale=1e-2,
        reg=0.0,
        dtype=np.float64,
        seed=None,
        loss="softmax",
        normalization=None,
        norm_placement="before",
        dropout_keep_ratio=1.0,
        reg_type="l2",
        l1_ratio=0.5,
    ):
        params = set_up(self, locals())
        if not np.issubdtype(np.dtype(dtype), np.floating):
            raise TypeError(f"dtype must be a floating-point dtype, got {dtype}")
        self.dtype = np.dtype(dtype)
        self.params = {name: p.astype(dtype) for name, p in params.items()}
        self.bn_params = [{"mode": "train"} for _ in self.hidden_dims] if normalization else []

    def loss(self, X, y=None):
        """Scores for ``X``, or ``(loss, grads)`` when targets ``y`` are given.

        Args:
            X: inputs of shape ``(N, d_1, ..., d_k)`` with ``d_1 * ... * d_k = input_dim``.
            y: labels of shape ``(N,)`` (classification) or targets (regression), or None.

        Returns:
            ``scores`` of shape ``(N, num_classes)`` if ``y`` is None, else ``(loss, grads)``
            with ``grads`` a dict holding the gradient of every entry of ``params``.
        """
        y = check.net_targets(self, X, y, self.num_classes, check.ndarray)
        scores, caches, _ = self.forward(X, mode="test" if y is None else "train")
        if y is None:
            return scores
        data_loss, dscores = LOSSES[self.loss_name](scores, y)
        grads, _ = self.backward(dscores, caches)
        return data_loss + self.penalty(), grads

    def penalty(self):
        r"""The penalty on the weights, :math:`\mathrm{reg} \sum_\ell R(W_\ell)` (a float)."""
        return self.reg * sum(self._penalty(i)[0] for i in range(1, self.num_layers + 1))

    def _penalty(self, i):
        """``(loss, dW)`` of the penalty on ``W{i}`` at unit strength: ``reg`` scales both,
        which for the default ``"l2"`` gives the loss and gradient
        ``0.5 * reg * sum(W * W)`` and ``reg * W`` to the last bit."""
        return PENALTIES[self.reg_type](self.params[f"W{i}"], 1.0, self.l1_ratio)

    def forward(self, X, mode="test"):
        """The forward pass alone: ``(scores, caches, hidden)``.

        ``caches`` holds what :meth:`backward` needs, ``hidden`` each hidden layer's
        ``(z, h)``, the input and output of its nonlinearity (:mod:`nntrain.diagnostics`
        reads them; ``h`` is the nonlinearity's output, before a batch normalization after
        it and dropout). ``mode`` is the batch normalization's and dropout's: ``"test"``
        normalizes with the running statistics and keeps every unit, ``"train"``
        normalizes with the batch's own statistics, updates the running ones and drops
        units, as a training step does. :meth:`loss` calls it in the cs231n convention,
        test mode without targets and train mode with them.
        """
        act_forward = ACTIVATIONS[self.activation][0]
        h = X.reshape(X.shape[0], -1).astype(self.dtype, copy=False)
        caches, hidden = [], []
        for i in range(1, self.num_layers):
            z, affine_cache = affine_forward(h, self.params[f"W{i}"], self.params[f"b{i}"])
            norm_cache = None
            if self.normalization and self.norm_placement == "before":
                z, norm_cache = self._batchnorm(z, i, mode)
            h, act_cache = act_forward(z)
            hidden.append((z, h))
            if self.normalization and self.norm_placement == "after":
                h, norm_cache = self._batchnorm(h, i, mode)
            drop_cache = None
            if self.dropout_param:
                self.dropout_param["mode"] = mode
                h, drop_cache = dropout_forward(h, self.dropout_param)
            caches.append((affine_cache, norm_cache, act_cache, drop_cache))
        L = self.num_layers
        scores, last_cache = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])
        return scores, [*caches, last_cache], hidden

    def backward(self, dscores, caches):
        """The backward pass from the gradient of the scores, through the ``caches`` of
        :meth:`forward`: ``(grads, dhidden)``, the gradient of every parameter (the
        penalty's included) and the gradient of the loss with respect to each hidden
        layer's output ``h``."""
        act_backward = ACTIVATIONS[self.activation][1]
        L = self.num_layers
        grads, dhidden = {}, []
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, caches[-1])
        for i in range(L - 1, 0, -1):
            affine_cache, norm_cache, act_cache, drop_cache = caches[i - 1]
            if drop_cache is not None:
                dh = dropout_backward(dh, drop_cache)
            if self.normalization and self.norm_placement == "after":
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = batchnorm_backward_alt(dh, norm_cache)
            dhidden.insert(0, dh)
            dh = act_backward(dh, act_cache)
            if self.normalization and self.norm_placement == "before":
                dh, grads[f"gamma{i}"], grads[f"beta{i}"] = batchnorm_backward_alt(dh, norm_cache)
            dh, grads[f"W{i}"], grads[f"b{i}"] = affine_backward(dh, affine_cache)
        for i in range(1, L + 1):
            grads[f"W{i}"] = grads[f"W{i}"] + self.reg * self._penalty(i)[1]
        return {name: grads[name] for name in self.params}, dhidden

    def _batchnorm(self, x, i, mode):
        bn_param = self.bn_params[i - 1]
        bn_param["mode"] = mode
        return batchnorm_forward(x, self.params[f"gamma{i}"], self.params[f"beta{i}"], bn_param)


def set_up(net, arguments):
    """The constructor arguments both trees' :class:`FullyConnectedNet` share, handled once.

    Checks ``arguments`` (the constructor's ``locals()``; ``dtype`` is left to each tree),
    stores on ``net`` the settings both trees keep (``hidden_dims``, a list, ``input_dim``,
    ``num_classes``, ``num_layers``, ``activation``, ``loss_name``, ``normalization``,
    ``norm_placement``, ``reg``, ``reg_type``, ``l1_ratio`` and ``dropout_param``) and
    returns the initial parameters ``W1, b1, [gamma1, beta1,] ..., WL, bL`` in float64:
    weights ``weight_scale * standard normal`` drawn by ``np.random.default_rng(seed)``,
    biases and ``beta`` zeros, ``gamma`` ones.
    """
    a = arguments
    sizes = check.net_architecture(
        a["hidden_dims"],
        a["input_dim"],
        a["num_classes"],
        a["activation"],
        a["weight_scale"],
        a["loss"],
        activations=ACTIVATIONS,
        losses=LOSSES,
    )
    keep, seed = a["dropout_keep_ratio"], a["seed"]
    check.net_normalization(a["normalization"], a["norm_placement"])
    check.net_regularization(keep, a["reg_type"], a["l1_ratio"], penalties=PENALTIES)
    net.hidden_dims, net.input_dim, net.num_classes = sizes[1:-1], a["input_dim"], a["num_classes"]
    net.num_layers = len(sizes) - 1
    net.activation, net.loss_name = a["activation"], a["loss"]
    net.normalization, net.norm_placement = a["normalization"], a["norm_placement"]
    net.reg, net.reg_type, net.l1_ratio = a["reg"], a["reg_type"], a["l1_ratio"]
    net.dropout_param = {}
    if keep != 1:
        net.dropout_param = {"mode": "train", "p": keep, **({} if seed is None else {"seed": seed})}
    rng = np.random.default_rng(seed)
    params = {}
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{i}"] = a["weight_scale"] * rng.standard_normal((d_in, d_out))
        params[f"b{i}"] = np.zeros(d_out)
        if a["normalization"] and i < net.num_layers:
            params[f"gamma{i}"], params[f"beta{i}"] = np.ones(d_out), np.zeros(d_out)
    return params
