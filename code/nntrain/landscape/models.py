"""The landscape tools' names for the adapters of :mod:`nntrain.models`, where they live.

:mod:`~nntrain.landscape.params`, :mod:`~nntrain.landscape.hessians` and
:mod:`~nntrain.landscape.slices` read a model as one flat float64 vector through
:func:`nntrain.models.adapt` (``model_adapter`` here): ``get()``, ``set(theta)``,
``layout``, ``inputs(X, y)``, ``kept()``, ``loss(X, y)``, ``gradient(X, y)``.
"""

from __future__ import annotations

from ..models import Arrays, TorchModel, split
from ..models import ReferenceModel as NumpyModel
from ..models import adapt as model_adapter

__all__ = ["Arrays", "NumpyModel", "TorchModel", "model_adapter", "split"]
