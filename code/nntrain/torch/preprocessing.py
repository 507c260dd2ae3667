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
from ..validation import NotFittedError

__all__ = ["Center", "ChannelMean", "MeanImage", "NotFittedError", "PCA", "Standardize", "Whiten"]


class _Transform:
    """Shared bookkeeping, as in the reference: input checks, the feature shape seen by
    ``fit``, ``fit_transform``."""

    min_ndim = 2

    def fit(self, X):
        """Learn the statistics from ``X`` (the training split, and only it); returns self."""
        X = self._check(X, "X")
        validation.fit_examples(self, X)
        self.feature_shape_ = tuple(X.shape[1:])
        self._fit(X)
        return self

    def transform(self, X):
        """Apply the statistics learned by ``fit`` to ``X``, which may be any split."""
        return self._transform(self._check_fitted(X))

    def fit_transform(self, X):
        """``fit(X)``, then ``transform(X)``."""
        return self.fit(X).transform(X)

    def _check(self, X, name):
        return validation.real_data(name, X, validation.tensor, min_ndim=self.min_ndim)

    def _check_fitted(self, X, name="X", coordinates=False):
        validation.fitted(self)
        X = self._check(X, name)
        # PCA's inverse_transform takes k coordinates per example, not the input's shape
        expected = (len(self.components_),) if coordinates else self.feature_shape_
        validation.feature_shape(self, name, X, expected)
        validation.same_kind((f"fitted {type(self).__name__}", name), self._fitted_tensor(), X)
        return X


class Center(_Transform):
    """Subtract the mean of every feature (see the reference)."""

    def _fit(self, X):
        self.mean_ = X.mean(dim=0)

    def _fitted_tensor(self):
        return self.mean_

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


class Standardize(_Transform):
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

    def _fitted_tensor(self):
        return self.mean_

    def _transform(self, X):
        return (X - self.mean_) / self.scale_

    def inverse_transform(self, Z):
        """Undo the scaling and the centring."""
        return self._check_fitted(Z, "Z") * self.scale_ + self.mean_


class PCA(_Transform):
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

    def _fitted_tensor(self):
        return self.components_

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
