"""The adapters of :mod:`nntrain.models`, under the names the landscape tools once gave them
(kept for the API page; the tools themselves use :func:`nntrain.models.adapt`): a model read
as one flat float64 vector by ``get()``, ``set(theta)``, ``layout``, ``inputs(X, y)``,
``kept()``, ``loss(X, y)`` and ``gradient(X, y)``."""

from __future__ import annotations

from ..models import Arrays, TorchModel, split
from ..models import ReferenceModel as NumpyModel
from ..models import adapt as model_adapter

__all__ = ["Arrays", "NumpyModel", "TorchModel", "model_adapter", "split"]
