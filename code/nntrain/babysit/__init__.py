"""Babysitting the learning process: the checks to run on a model before training it long.

CS231n's notes (*Babysitting the learning process*) and Karpathy's *A Recipe for Training
Neural Networks* (2019) give the same few steps: check the gradients written by hand,
check the loss at initialization, check that regularization raises it, overfit a tiny
subset, check that the examples of a batch do not mix, find a learning rate that makes
progress; then, while training, watch the ratio of the updates to the weights and the
first layer's weights. This package runs them on any classifier a reader brings (a plain
``torch.nn.Module``, :class:`nntrain.torch.fc_net.FullyConnectedNet` or
:class:`nntrain.reference.fc_net.FullyConnectedNet`) and gives verdicts:

* :func:`~nntrain.babysit.steps.checklist` runs the checks, each in the mode (training or test) its
  question is about, and returns a :class:`~nntrain.babysit.report.Report` of
  :class:`~nntrain.babysit.report.Check` results, each a pass, a warning, a failure or n/a (a text
  table with ``print``, an HTML table in a notebook); :mod:`nntrain.babysit.steps` says what each
  check measures and why its threshold;
* :func:`~nntrain.babysit.lr_range.lr_range_test`: the learning-rate range test (Smith 2017;
  fastai's ``lr_find``);
* :func:`~nntrain.babysit.filters.first_layer_images` and
  :func:`~nntrain.babysit.filters.roughness`: the first layer's weights as images, and a number for
  how noisy they are;
* the update-to-weight ratio is recorded by the training loop,
  ``nntrain.train.train(..., record_update_ratio=True)``.

Every check works on a copy of the model and leaves the global random generators as they
were (:mod:`nntrain.babysit.models`).

Example:
    >>> import torch
    >>> from nntrain.data import load_digits_split
    >>> from nntrain.babysit import checklist
    >>> data = load_digits_split()
    >>> data = {k: v / 16 if k.startswith("X") else v for k, v in data.items()}
    >>> _ = torch.manual_seed(0)
    >>> model = torch.nn.Sequential(
    ...     torch.nn.Linear(64, 100), torch.nn.ReLU(), torch.nn.Linear(100, 10))
    >>> report = checklist(model, data)
    >>> report.passed, report["regularization_raises_loss"].verdict
    (True, 'n/a')

Used in chapter 6 (babysitting the learning process).
"""

from .filters import first_layer_images, roughness
from .lr_range import RangeTest, lr_range_test
from .report import Check, Report
from .steps import checklist

__all__ = [
    "Check",
    "RangeTest",
    "Report",
    "checklist",
    "first_layer_images",
    "lr_range_test",
    "roughness",
]
