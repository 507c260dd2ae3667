r"""Update rules and optimizers, PyTorch twin of :mod:`nntrain.reference.optim`.

Two ways to use the same math on tensors of any device:

* **The rules**, :func:`sgd`, :func:`sgd_momentum`, :func:`nesterov`, :func:`adagrad`,
  :func:`rmsprop`, :func:`adam` and :func:`adamw`: the reference's functions, with the same names,
  arguments, ``config`` keys and defaults (:data:`~nntrain.reference.optim.DEFAULTS`,
  :data:`~nntrain.reference.optim.STATE`), ``rule(w, dw, config=None) -> (next_w, config)``, where
  ``w``, ``dw`` and the state are tensors. They return a new tensor and never read a tensor's value
  on the host, so they do not stall a GPU.
* **The optimizers**, :class:`SGD`, :class:`Adagrad`, :class:`RMSprop`, :class:`Adam` and
  :class:`AdamW`: subclasses of ``torch.optim.Optimizer`` written from scratch, with the
  signatures, defaults and arithmetic of the ``torch.optim`` classes of the same names, in
  PyTorch's convention (``lr``, a momentum buffer of gradients, ``maximize``, param groups,
  ``step(closure)``). The options for PyTorch's fast paths (``foreach``, ``fused``,
  ``capturable``, ``differentiable``) are left out, and so are learning rates given as
  tensors, complex parameters and sparse gradients. The step count is a Python integer,
  so a step reads nothing on the host either.

How cs231n's convention (the rules) and PyTorch's (the optimizers) differ, in the momentum
and in the names, is told in :mod:`nntrain.reference.optim`. The rules check their inputs
as the reference's do; the optimizers refuse a negative ``lr``, ``eps``, ``weight_decay``
or momentum, a beta outside :math:`[0, 1)` and Nesterov momentum without momentum or with
dampening, with a ``ValueError``.

Used in chapter 8 (the optimization landscape).
"""

from __future__ import annotations

import math

import torch

from .. import validation as check
from ..reference.optim import DEFAULTS, STATE

__all__ = [
    "DEFAULTS",
    "STATE",
    "sgd",
    "sgd_momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adam",
    "adamw",
    "RULES",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
]

# --------------------------------------------------------------------------- the rules


def _config(rule, w, dw, config):
    """``config`` checked with ``w`` and ``dw``, completed with the defaults of ``rule``."""
    return check.update_inputs(w, dw, config, check.tensor, DEFAULTS[rule], STATE[rule])


def sgd(w, dw, config=None):
    r""":math:`w \leftarrow w - \eta\, g` on tensors: :func:`nntrain.reference.optim.sgd`."""
    config = _config("sgd", w, dw, config)
    return w - config["learning_rate"] * dw, config


def sgd_momentum(w, dw, config=None):
    r""":math:`v \leftarrow \mu v - \eta\, g,\ w \leftarrow w + v` on tensors:
    :func:`nntrain.reference.optim.sgd_momentum`."""
    config = _config("sgd_momentum", w, dw, config)
    v = config.setdefault("velocity", torch.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def nesterov(w, dw, config=None):
    r""":math:`v \leftarrow \mu v - \eta\, g,\ w \leftarrow w - \mu v_{prev} + (1 + \mu) v`
    on tensors: :func:`nntrain.reference.optim.nesterov`."""
    config = _config("nesterov", w, dw, config)
    v_prev = config.setdefault("velocity", torch.zeros_like(w))
    mu = config["momentum"]
    v = mu * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    return w - mu * v_prev + (1 + mu) * v, config


def adagrad(w, dw, config=None):
    r""":math:`c \leftarrow c + g^2,\ w \leftarrow w - \eta\, g / (\sqrt{c} + \epsilon)` on
    tensors: :func:`nntrain.reference.optim.adagrad`."""
    config = _config("adagrad", w, dw, config)
    cache = config.setdefault("cache", torch.zeros_like(w)) + dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (torch.sqrt(cache) + config["epsilon"]), config


def rmsprop(w, dw, config=None):
    r""":math:`c \leftarrow \rho c + (1 - \rho) g^2,\ w \leftarrow w - \eta\, g / (\sqrt{c} +
    \epsilon)` on tensors: :func:`nntrain.reference.optim.rmsprop`."""
    config = _config("rmsprop", w, dw, config)
    rho = config["decay_rate"]
    cache = rho * config.setdefault("cache", torch.zeros_like(w)) + (1 - rho) * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (torch.sqrt(cache) + config["epsilon"]), config


def adam(w, dw, config=None):
    r"""Adam with bias correction on tensors: :func:`nntrain.reference.optim.adam`.

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad v \leftarrow \beta_2 v + (1 - \beta_2)
        g^2, \quad w \leftarrow w - \eta\, \frac{m / (1 - \beta_1^t)}{\sqrt{v / (1 -
        \beta_2^t)} + \epsilon}
    """
    config = _config("adam", w, dw, config)
    return _adam_step(w, dw, config), config


def adamw(w, dw, config=None):
    r""":math:`w \leftarrow (1 - \eta \lambda) w`, then :func:`adam`'s step, on tensors:
    :func:`nntrain.reference.optim.adamw`."""
    config = _config("adamw", w, dw, config)
    decayed = (1 - config["learning_rate"] * config["weight_decay"]) * w
    return _adam_step(decayed, dw, config), config


def _adam_step(w, dw, config):
    """Adam's update of ``w`` (a checked ``config``, which gets the new ``m``, ``v``, ``t``)."""
    beta1, beta2 = config["beta1"], config["beta2"]
    config["t"] += 1
    m = beta1 * config.setdefault("m", torch.zeros_like(w)) + (1 - beta1) * dw
    v = beta2 * config.setdefault("v", torch.zeros_like(w)) + (1 - beta2) * dw**2
    config["m"], config["v"] = m, v
    m_hat = m / (1 - beta1 ** config["t"])
    v_hat = v / (1 - beta2 ** config["t"])
    return w - config["learning_rate"] * m_hat / (torch.sqrt(v_hat) + config["epsilon"])


#: Every rule by name, for a training loop that takes the rule as a string.
RULES = {
    "sgd": sgd,
    "sgd_momentum": sgd_momentum,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
    "adamw": adamw,
}

# ---------------------------------------------------------------------- the optimizers


#: Docstring fragments for the arguments every optimizer shares, put into each class's
#: ``Args`` where it names them (``{params}``), as ``torch.optim`` does with its
#: ``_params_doc`` and ``_maximize_doc``.
_SHARED_ARGS = {
    "params": "params: the parameters to optimize, or dicts defining parameter groups.",
    "maximize": "maximize: ascend the objective instead of descending it.",
    "l2": r"weight_decay: :math:`\lambda \geq 0`, an L2 penalty added to the gradient.",
}


def _shared_args(cls):
    """Fill the ``{name}`` fragments of ``cls``'s docstring from :data:`_SHARED_ARGS`."""
    for name, text in _SHARED_ARGS.items():
        cls.__doc__ = cls.__doc__.replace("{" + name + "}", text)
    return cls


class _Optimizer(torch.optim.Optimizer):
    """What the optimizers below share: :meth:`step` evaluates the closure, then, without
    autograd, hands every parameter that has a gradient to the subclass's ``_update``."""

    @torch.no_grad()
    def step(self, closure=None):
        """Update every parameter that has a gradient, once.

        Args:
            closure: ``None``, or a function that re-evaluates the model and returns the
                loss; it runs with autograd on, before the update.

        Returns:
            The closure's loss, or ``None`` without a closure.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                check.optimized_parameter(p)
                grad = -p.grad if group["maximize"] else p.grad
                self._update(p, grad, self.state[p], group)
        return loss


def _l2(grad, p, weight_decay):
    r"""The gradient of the loss plus an L2 penalty :math:`\tfrac{\lambda}{2} \|p\|^2`:
    :math:`g + \lambda p` (``weight_decay`` is :math:`\lambda`)."""
    return grad.add(p, alpha=weight_decay) if weight_decay != 0 else grad


@_shared_args
class SGD(_Optimizer):
    r"""Stochastic gradient descent with optional momentum, ``torch.optim.SGD`` from scratch.

    With :math:`\lambda` the weight decay and :math:`\tau` the dampening, each step computes

    .. math::
        g \leftarrow \nabla_\theta L + \lambda \theta, \qquad
        b \leftarrow \mu b + (1 - \tau)\, g \ (b = g \text{ at the first step}),

        \theta \leftarrow \theta - \eta\, (g + \mu b) \ \text{(Nesterov) or} \
        \theta \leftarrow \theta - \eta\, b,

    and :math:`\theta \leftarrow \theta - \eta g` without momentum. PyTorch's buffer
    :math:`b` is not scaled by the learning rate, unlike cs231n's velocity
    (:func:`nntrain.reference.optim.sgd_momentum`); see :mod:`nntrain.reference.optim`.

    Args:
        {params}
        lr: the learning rate :math:`\eta \geq 0` (default 1e-3, as ``torch.optim.SGD``).
        momentum: :math:`\mu \geq 0` (default 0: no buffer).
        dampening: :math:`\tau`, the share of the gradient left out of the buffer.
        {l2}
        nesterov: Nesterov momentum (Sutskever et al. 2013), which needs ``momentum > 0``
            and ``dampening = 0``.
        {maximize}

    Example:
        >>> w = torch.nn.Parameter(torch.ones(2))
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> (w**2).sum().backward()
        >>> opt.step()
        >>> w.detach()
        tensor([0.8000, 0.8000])
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
    ):
        check.non_negative(lr=lr, momentum=momentum, weight_decay=weight_decay)
        check.nesterov_momentum(nesterov, momentum, dampening)
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        grad = _l2(grad, p, group["weight_decay"])
        mu = group["momentum"]
        if mu != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad.clone()
            else:
                state["momentum_buffer"].mul_(mu).add_(grad, alpha=1 - group["dampening"])
            buf = state["momentum_buffer"]
            grad = grad.add(buf, alpha=mu) if group["nesterov"] else buf
        p.add_(grad, alpha=-group["lr"])


@_shared_args
class Adagrad(_Optimizer):
    r"""Adagrad, ``torch.optim.Adagrad`` from scratch.

    At step :math:`t` (counted from 1), with :math:`\lambda` the weight decay and
    :math:`\delta` the ``lr_decay``,

    .. math::
        g \leftarrow \nabla_\theta L + \lambda \theta, \qquad
        \eta_t = \frac{\eta}{1 + (t - 1)\, \delta}, \qquad c \leftarrow c + g^2, \qquad
        \theta \leftarrow \theta - \eta_t\, \frac{g}{\sqrt{c} + \epsilon},

    the sum :math:`c` starting at ``initial_accumulator_value``. Duchi, Hazan and Singer
    (2011); the rule alone is :func:`adagrad`.

    Args:
        {params}
        lr: the learning rate :math:`\eta \geq 0` (default 1e-2).
        lr_decay: :math:`\delta \geq 0` (default 0).
        {l2}
        initial_accumulator_value: the start of :math:`c`, >= 0.
        eps: :math:`\epsilon \geq 0`, added outside the square root (default 1e-10).
        {maximize}

    """

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        *,
        maximize=False,
    ):
        check.non_negative(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        if not state:
            state["step"] = 0
            state["sum"] = torch.full_like(p, group["initial_accumulator_value"])
        state["step"] += 1
        grad = _l2(grad, p, group["weight_decay"])
        lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"].addcmul_(grad, grad, value=1)
        p.addcdiv_(grad, state["sum"].sqrt().add_(group["eps"]), value=-lr)


@_shared_args
class RMSprop(_Optimizer):
    r"""RMSprop, ``torch.optim.RMSprop`` from scratch.

    With :math:`\alpha` the decay rate of the average and :math:`\lambda` the weight decay,

    .. math::
        g \leftarrow \nabla_\theta L + \lambda \theta, \qquad
        c \leftarrow \alpha c + (1 - \alpha)\, g^2, \qquad
        d = \sqrt{c - \bar g^2} + \epsilon \ \text{(centered) or}\ \sqrt{c} + \epsilon,

        b \leftarrow \mu b + g / d, \quad \theta \leftarrow \theta - \eta\, b \ \text{(momentum)
        or} \ \theta \leftarrow \theta - \eta\, g / d,

    where the centered variant (Graves 2013, *Generating sequences with recurrent neural
    networks*) also keeps the running mean :math:`\bar g \leftarrow \alpha \bar g + (1 -
    \alpha) g` and so divides by an estimate of the gradient's standard deviation.
    Tieleman and Hinton (2012); the rule alone is :func:`rmsprop`.

    Args:
        {params}
        lr: the learning rate :math:`\eta \geq 0` (default 1e-2).
        alpha: :math:`\alpha \geq 0`, the decay rate of the averages (default 0.99).
        eps: :math:`\epsilon \geq 0`, added outside the square root (default 1e-8).
        {l2}
        momentum: :math:`\mu \geq 0` (default 0: no buffer).
        centered: divide by the centred second moment.
        {maximize}

    """

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        *,
        maximize=False,
    ):
        check.non_negative(
            lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum
        )
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        alpha, mu = group["alpha"], group["momentum"]
        if not state:
            state["square_avg"] = torch.zeros_like(p)
            if mu > 0:
                state["momentum_buffer"] = torch.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = torch.zeros_like(p)
        grad = _l2(grad, p, group["weight_decay"])
        square_avg = state["square_avg"].mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"].lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(group["eps"])
        if mu > 0:
            buf = state["momentum_buffer"].mul_(mu).addcdiv_(grad, avg)
            p.add_(buf, alpha=-group["lr"])
        else:
            p.addcdiv_(grad, avg, value=-group["lr"])


@_shared_args
class Adam(_Optimizer):
    r"""Adam, ``torch.optim.Adam`` from scratch (AMSGrad and decoupled weight decay included).

    At step :math:`t` (counted from 1), with :math:`\lambda` the weight decay,

    .. math::
        g \leftarrow \nabla_\theta L + \lambda \theta \ \text{(L2), or} \
        \theta \leftarrow (1 - \eta \lambda)\, \theta \ \text{(decoupled)},

        m \leftarrow \beta_1 m + (1 - \beta_1)\, g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2)\, g^2, \qquad
        \hat v = \max(\hat v, v) \ \text{(AMSGrad) or} \ v,

        \theta \leftarrow \theta - \frac{\eta}{1 - \beta_1^t}\,
        \frac{m}{\sqrt{\hat v} / \sqrt{1 - \beta_2^t} + \epsilon}.

    Kingma and Ba (2015); AMSGrad: Reddi, Kale and Kumar (2018), *On the convergence of
    Adam and beyond*, which keeps the largest second moment so that no step grows; the
    decoupled decay: Loshchilov and Hutter (2019), :class:`AdamW`. The rule alone is
    :func:`adam`.

    Args:
        {params}
        lr: the learning rate :math:`\eta \geq 0` (default 1e-3).
        betas: :math:`(\beta_1, \beta_2)`, each in :math:`[0, 1)` (default (0.9, 0.999)).
        eps: :math:`\epsilon \geq 0`, added outside the square root (default 1e-8).
        weight_decay: :math:`\lambda \geq 0` (default 0).
        amsgrad: use AMSGrad's running maximum of :math:`v`.
        {maximize}
        decoupled_weight_decay: decay the weights directly (AdamW) instead of adding the
            L2 penalty's gradient.

    Example:
        >>> w = torch.nn.Parameter(torch.tensor([1.0, -1.0]))
        >>> opt = Adam([w], lr=0.1)
        >>> (100 * w).sum().backward()          # a gradient of 100: the first step is lr
        >>> opt.step()
        >>> w.detach()
        tensor([ 0.9000, -1.1000])
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        maximize=False,
        decoupled_weight_decay=False,
    ):
        check.non_negative(lr=lr, eps=eps, weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            betas=check.betas(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _update(self, p, grad, state, group):
        (beta1, beta2), lr, weight_decay = group["betas"], group["lr"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = torch.zeros_like(p)
        state["step"] += 1
        if group["decoupled_weight_decay"]:
            p.mul_(1 - lr * weight_decay)
        else:
            grad = _l2(grad, p, weight_decay)
        exp_avg = state["exp_avg"].lerp_(grad, 1 - beta1)  # beta1 m + (1 - beta1) g
        exp_avg_sq = state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            exp_avg_sq = torch.maximum(
                state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"]
            )
        bias_correction1 = 1 - beta1 ** state["step"]
        bias_correction2 = 1 - beta2 ** state["step"]
        denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(group["eps"])
        p.addcdiv_(exp_avg, denom, value=-lr / bias_correction1)


class AdamW(Adam):
    r"""AdamW, ``torch.optim.AdamW`` from scratch: :class:`Adam` with decoupled weight decay,

    .. math::
        \theta \leftarrow (1 - \eta \lambda)\, \theta \ \text{before Adam's step}

    (Loshchilov and Hutter 2019), and ``weight_decay`` :math:`\lambda` = 1e-2 by default. The
    rule alone is :func:`adamw`.

    Its arguments are :class:`Adam`'s, without ``decoupled_weight_decay`` (always on).
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
    ):
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )
