r"""The optimization landscape: quadratic bowls, saddles, Hessians, gradient noise, and the
loss along lines and planes through parameter space.

Framework-free tools for chapter 8, in five parts, one submodule each (two for the first):

* **Quadratic bowls** (:mod:`~nntrain.landscape.bowls`,
  :class:`~nntrain.landscape.bowls.Quadratic`): :math:`f(w) = \tfrac12 (w - w^*)^\top H
  (w - w^*)` with chosen eigenvalues, where every first-order method can be solved in
  closed form, one eigen-direction at a time (Goh 2017, *Why Momentum Really Works*,
  Distill): :func:`~nntrain.landscape.bowls.gd_rate`,
  :func:`~nntrain.landscape.bowls.momentum_rate`, their optimal settings and their
  divergence thresholds; :func:`~nntrain.landscape.runs.trajectory` and
  :func:`~nntrain.landscape.runs.iterations_to` (:mod:`~nntrain.landscape.runs`) run any
  update rule of the cs231n form ``rule(w, dw, config) -> (next_w, config)`` on a bowl, to
  check them.
* **Saddle points** (:mod:`~nntrain.landscape.saddles`:
  :class:`~nntrain.landscape.saddles.Saddle`, :func:`~nntrain.landscape.saddles.escape_steps`)
  and how rare minima are among random critical points
  (:func:`~nntrain.landscape.saddles.random_critical_point_is_minimum`, Dauphin et al. 2014).
* **The Hessian of a network's loss** (:mod:`~nntrain.landscape.hessians`:
  :func:`~nntrain.landscape.hessians.hessian`,
  :func:`~nntrain.landscape.hessians.hessian_spectrum`), exact by autograd for a PyTorch
  module, by finite differences of the analytic gradient for a cs231n-style net.
* **Gradient noise against batch size** (:mod:`~nntrain.landscape.noise`:
  :func:`~nntrain.landscape.noise.minibatch_gradient_variance`,
  :func:`~nntrain.landscape.noise.predicted_variance`).
* **The loss along lines and planes** (:mod:`~nntrain.landscape.slices`; Goodfellow, Vinyals
  & Saxe 2015; Li et al. 2018): :func:`~nntrain.landscape.slices.interpolate`,
  :func:`~nntrain.landscape.slices.line`, :func:`~nntrain.landscape.slices.plane`, with
  filter-normalized random directions
  (:func:`~nntrain.landscape.slices.filter_normalized_direction`).

Parameters travel as one flat float64 vector (:mod:`~nntrain.landscape.params`):
:func:`~nntrain.landscape.params.flatten_params` and
:func:`~nntrain.landscape.params.set_flat_params` convert,
:func:`~nntrain.landscape.params.loss_at` and
:func:`~nntrain.landscape.params.batch_gradient` wrap a model as a function of that vector
(or of a batch of example indices). The model is a reference
:class:`~nntrain.reference.fc_net.FullyConnectedNet` (or any cs231n-style model: a ``params`` dict
of NumPy arrays and ``loss(X, y) -> (loss, grads)``), its twin
:class:`nntrain.torch.fc_net.FullyConnectedNet`, or any ``torch.nn.Module`` mapping inputs to class
scores (:mod:`nntrain.models` adapts each kind). Every tool that evaluates a
model leaves its parameters, its running statistics and its mode as they were.

Every public name of the submodules but the helpers of :mod:`~nntrain.landscape.runs` is
importable from here.

Example:
    >>> from nntrain import landscape as ls
    >>> bowl = ls.Quadratic.conditioned(100.0)  # eigenvalues 1 and 100
    >>> alpha, rate = ls.gd_optimal(bowl.lam_min, bowl.lam_max)
    >>> round(rate, 4), round(float(ls.gd_rate(alpha, bowl.eigenvalues).max()), 4)
    (0.9802, 0.9802)
"""

from .bowls import (
    Quadratic,
    gd_max_step,
    gd_optimal,
    gd_rate,
    momentum_matrix,
    momentum_max_step,
    momentum_optimal,
    momentum_rate,
    rotation,
)
from .hessians import hessian, hessian_spectrum
from .noise import minibatch_gradient_variance, per_example_variance, predicted_variance
from .params import batch_gradient, flatten_params, loss_at, set_flat_params
from .runs import DIVERGED, iterations_to, trajectory
from .saddles import Saddle, escape_steps, random_critical_point_is_minimum
from .slices import LAYOUTS, cosine, filter_normalized_direction, interpolate, line, plane

__all__ = [
    # bowls
    "Quadratic",
    "rotation",
    "gd_rate",
    "gd_optimal",
    "gd_max_step",
    "momentum_matrix",
    "momentum_rate",
    "momentum_optimal",
    "momentum_max_step",
    # runs
    "DIVERGED",
    "trajectory",
    "iterations_to",
    # saddles
    "Saddle",
    "escape_steps",
    "random_critical_point_is_minimum",
    # params
    "flatten_params",
    "set_flat_params",
    "loss_at",
    "batch_gradient",
    # hessians
    "hessian",
    "hessian_spectrum",
    # noise
    "minibatch_gradient_variance",
    "per_example_variance",
    "predicted_variance",
    # slices
    "LAYOUTS",
    "interpolate",
    "line",
    "plane",
    "filter_normalized_direction",
    "cosine",
]
