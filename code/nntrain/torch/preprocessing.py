"""The PyTorch twin of :mod:`nntrain.reference.preprocessing`: the same classes, arguments and
fitted attributes, on tensors of any device.

The math is the reference's, line for line (see its docstrings); fitted attributes are
tensors on the device and of the dtype of the data given to ``fit``. Integer input (raw
``uint8`` pixels) is converted to PyTorch's default floating dtype.

Used in chapter 2 (data preprocessing); fit on GPU tensors to preprocess data that lives there.
"""

from __future__ import annotations

import torch

from .. import validation
from ..reference import preprocessing as reference
from ..validation import NotFittedError

__all__ = [
    "Center",
    "ChannelMean",
    "MeanImage",
    "NotFittedError",
    "PCA",
    "Standardize",
    "Transform",
    "Whiten",
]


class Transform(reference.Transform):
    """The reference's bookkeeping (:class:`nntrain.reference.preprocessing.Transform`) on
    tensors: ``X`` must be a tensor on the device of the fitted statistics."""

    kind = staticmethod(validation.tensor)


class Center(Transform):
    """Subtract the mean of every feature (see the reference)."""

    def _fit(self, X):
        self.mean_ = X.mean(dim=0)

    def _transform(self, X):
        return X - self.mean_

    def inverse_transform(self, Z):
        """Add the mean back."""
        return self._check_fitted(Z, "Z") + self.mean_


class MeanImage(Center):
    """Subtract the mean image, one tensor of shape ``(H, W, C)`` (see the reference)."""

    min_ndim = 4

    def _check(self, X, name):
        validation.tensor(name, X, ndim=4, floating=False)
        return super()._check(X, name)


class ChannelMean(MeanImage):
    """Subtract the mean of every colour channel of ``(N, H, W, C)`` images (see the
    reference)."""

    def _fit(self, X):  # the input checks are MeanImage's, the transforms Center's
        self.mean_ = X.mean(dim=(0, 1, 2))


class Standardize(Transform):
    """Centre every feature and scale it to unit variance (see the reference)."""

    def __init__(self, eps=1e-8):
        validation.positive("eps", eps, allow_zero=True)
        self.eps = eps

    def _fit(self, X):
        self.mean_ = X.mean(dim=0)
        self.var_ = X.var(dim=0, correction=0)
        scale = torch.sqrt(self.var_ + self.eps)
        # constant on the training split (or of a variance too small to represent)
        constant = (X.amax(dim=0) == X.amin(dim=0)) | (scale == 0)
        self.scale_ = torch.where(constant, 1.0, scale).to(X.dtype)

    def _transform(self, X):
        return (X - self.mean_) / self.scale_

    def inverse_transform(self, Z):
        """Undo the scaling and the centring."""
        return self._check_fitted(Z, "Z") * self.scale_ + self.mean_


class PCA(Transform):
    """Principal component analysis by eigendecomposition of the covariance (see the
    reference for the math, the sign convention and the attributes)."""

    def __init__(self, k=None):
        if k is not None:
            validation.positive_int("k", k)
        self.k = k

    def _fit(self, X):
        X = X.reshape(len(X), -1)
        D = X.shape[1]
        if self.k is not None and self.k > D:
            raise ValueError(f"k must be at most the number of features D = {D}, got k = {self.k}")
        self.mean_ = X.mean(dim=0).reshape(self.feature_shape_)
        centred = X - X.mean(dim=0)
        if not (centred != 0).any():
            raise ValueError("PCA needs X with some variance; every example of X is the same")
        covariance = centred.T @ centred / (len(X) - 1)
        eigenvalues, eigenvectors = torch.linalg.eigh(covariance)  # ascending order
        order = torch.argsort(eigenvalues, descending=True)[: self.k or D]
        eigenvalues = eigenvalues.clamp(min=0)  # round-off makes tiny ones negative
        components = eigenvectors[:, order].T
        largest = components.abs().argmax(dim=1)
        components = (
            components * torch.sign(components[torch.arange(len(components)), largest])[:, None]
        )
        self.components_ = components
        self.explained_variance_ = eigenvalues[order]
        self.explained_variance_ratio_ = self.explained_variance_ / eigenvalues.sum()

    def _transform(self, X):
        return (X - self.mean_).reshape(len(X), -1) @ self.components_.T

    def inverse_transform(self, Z):
        """Map ``k`` coordinates back to the input space: :math:`\\mu + V_k z`."""
        Z = self._check_fitted(Z, "Z", coordinates=True)
        return (Z @ self.components_).reshape(len(Z), *self.feature_shape_) + self.mean_


class Whiten(PCA):
    """PCA whitening: unit variance along every kept principal component (see the
    reference)."""

    def __init__(self, eps=1e-5, k=None):
        validation.positive("eps", eps, allow_zero=True)
        super().__init__(k)
        self.eps = eps

    def _fit(self, X):
        super()._fit(X)
        self.scale_ = torch.sqrt(self.explained_variance_ + self.eps)
        if not bool((self.scale_ > 0).all()):
            raise ValueError(
                "Whiten(eps=0) cannot whiten a direction of zero variance; use eps > 0 or "
                "a smaller k"
            )

    def _transform(self, X):
        return super()._transform(X) / self.scale_

    def inverse_transform(self, Z):
        """Undo the scaling, then the rotation."""
        Z = self._check_fitted(Z, "Z", coordinates=True)
        return super().inverse_transform(Z * self.scale_)
