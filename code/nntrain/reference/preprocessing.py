"""Data preprocessing: statistics fitted on the training split, applied unchanged to any split.

Every class follows the fit-then-transform pattern of scikit-learn::

    scaler = Standardize().fit(X_train)      # learns mean_ and scale_ from X_train only
    X_train, X_val = scaler.transform(X_train), scaler.transform(X_val)

Fitted statistics end in an underscore (``mean_``, ``components_``), as in scikit-learn.
``X`` is an array of shape ``(N, ...)``: ``N`` examples, each of any fixed feature shape
(``(D,)`` vectors, ``(H, W, C)`` images); ``transform`` refuses an ``X`` whose feature shape
differs from the one seen by ``fit``, and any ``transform`` before ``fit`` (raising
``NotFittedError``, a ``ValueError``). Integer input
(raw pixels, ``uint8``) is converted to float64; floating input keeps its dtype.

The classes, from the least to the most the data is changed:

* :class:`Center`: subtract the mean of every feature, :math:`x - \\mu`.
* :class:`MeanImage`: the same for images ``(N, H, W, C)``: subtract one mean image of
  shape ``(H, W, C)`` (as AlexNet did, Krizhevsky et al. 2012).
* :class:`ChannelMean`: subtract one mean per colour channel, ``C`` numbers (as VGG did).
* :class:`Standardize`: centre, then divide by the standard deviation of every feature,
  :math:`(x - \\mu) / \\sqrt{\\sigma^2 + \\epsilon}`.
* :class:`PCA`: project the centred data onto the ``k`` eigenvectors of its covariance
  with the largest eigenvalues: decorrelated features, fewer of them.
* :class:`Whiten`: PCA, then divide every coordinate by the square root of its eigenvalue:
  the covariance of the result is (almost, because of ``eps``) the identity.

The PyTorch twin :mod:`nntrain.torch.preprocessing` has the same classes on tensors.

Used in chapter 2 (data preprocessing).
"""

from __future__ import annotations

import numpy as np

from .. import validation
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


class Transform:
    """The bookkeeping every class here shares: input checks, the feature shape seen by
    ``fit``, ``transform`` only after ``fit``, ``fit_transform``.

    A subclass implements ``_fit(X)`` and ``_transform(X)`` (and ``inverse_transform`` where
    an inverse exists) on a checked float ``X`` of shape ``(N, *feature_shape_)``. ``kind``
    says what data is: :func:`nntrain.validation.ndarray` here; the PyTorch twin's
    ``Transform`` is this class with :func:`nntrain.validation.tensor`, and the check that
    the data and the fitted statistics live on one device, a no-op for arrays, then applies.
    """

    #: The smallest number of dimensions of ``X``, the batch axis included.
    min_ndim = 2
    #: The check of the data's kind (a NumPy array here).
    kind = staticmethod(validation.ndarray)

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
        return validation.real_data(name, X, self.kind, min_ndim=self.min_ndim)

    def _check_fitted(self, X, name="X", coordinates=False):
        validation.fitted(self)
        X = self._check(X, name)
        # PCA's inverse_transform takes k coordinates per example, not the input's shape
        expected = (len(self.components_),) if coordinates else self.feature_shape_
        validation.feature_shape(self, name, X, expected)
        validation.same_kind((f"fitted {type(self).__name__}", name), self.mean_, X)
        return X


class Center(Transform):
    """Subtract the mean of every feature: :math:`x' = x - \\mu`, :math:`\\mu` the mean over
    the training examples.

    After ``fit``, the object holds:

    - ``mean_``: the per-feature mean, of the feature shape of ``X``.
    """

    def _fit(self, X):
        self.mean_ = X.mean(axis=0)

    def _transform(self, X):
        return X - self.mean_

    def inverse_transform(self, Z):
        """Add the mean back: ``inverse_transform(transform(X))`` is ``X``."""
        return self._check_fitted(Z, "Z") + self.mean_


class MeanImage(Center):
    """Subtract the mean image (AlexNet style): one array of shape ``(H, W, C)``.

    :class:`Center` for images: ``X`` must have shape ``(N, H, W, C)``. The mean image keeps
    whatever structure the training images share (a bright sky at the top, say).

    After ``fit``, the object holds:

    - ``mean_``: the mean image, of shape ``(H, W, C)``.
    """

    min_ndim = 4

    def _check(self, X, name):
        validation.ndarray(name, X, ndim=4, floating=False)
        return super()._check(X, name)


class ChannelMean(MeanImage):
    """Subtract the mean of every colour channel (VGG style): ``C`` numbers.

    ``X`` has shape ``(N, H, W, C)``; the mean of channel ``c`` is taken over every example
    and every pixel position, so only the average colour is removed, not the layout.

    After ``fit``, the object holds:

    - ``mean_``: the per-channel mean, of shape ``(C,)``.
    """

    def _fit(self, X):  # the input checks are MeanImage's, the transforms Center's
        self.mean_ = X.mean(axis=(0, 1, 2))


class Standardize(Transform):
    """Centre every feature and scale it to unit variance:

    .. math:: x' = \\frac{x - \\mu}{\\sqrt{\\sigma^2 + \\epsilon}}

    with :math:`\\mu` and :math:`\\sigma^2` the mean and the (biased, divide-by-``N``)
    variance of each feature over the training examples, as scikit-learn's
    ``StandardScaler``. ``eps`` keeps a feature of tiny variance from being blown up.
    A feature that is constant on the training split (a border pixel that is 0 in every
    training digit) is only centred, with ``scale_`` 1, as scikit-learn does: dividing it
    by :math:`\\sqrt{\\epsilon}` would multiply any other value it takes in a later split
    by :math:`1/\\sqrt{\\epsilon}`.

    Args:
        eps: a small non-negative number added to the variance.

    After ``fit``, the object holds:

    - ``mean_``, ``var_``: per-feature mean and variance.
    - ``scale_``: :math:`\\sqrt{\\sigma^2 + \\epsilon}` (1 for a constant feature), what the
      centred data is divided by.
    """

    def __init__(self, eps=1e-8):
        validation.positive("eps", eps, allow_zero=True)
        self.eps = eps

    def _fit(self, X):
        self.mean_ = X.mean(axis=0)
        self.var_ = X.var(axis=0)
        scale = np.sqrt(self.var_ + self.eps)
        # constant on the training split (or of a variance too small to represent)
        constant = (X.max(axis=0) == X.min(axis=0)) | (scale == 0)
        self.scale_ = np.where(constant, 1.0, scale)

    def _transform(self, X):
        return (X - self.mean_) / self.scale_

    def inverse_transform(self, Z):
        """Undo the scaling and the centring."""
        return self._check_fitted(Z, "Z") * self.scale_ + self.mean_


class PCA(Transform):
    """Principal component analysis: the centred data in the basis of its covariance's
    eigenvectors, keeping the ``k`` directions of largest variance.

    With :math:`X_c = X - \\mu` (``N`` rows) the covariance is

    .. math:: \\Sigma = \\frac{1}{N - 1} X_c^\\top X_c = V \\Lambda V^\\top,

    a symmetric matrix with orthonormal eigenvectors :math:`V` and eigenvalues
    :math:`\\lambda_1 \\ge \\lambda_2 \\ge \\dots \\ge 0`. The new features are
    :math:`z = V_k^\\top (x - \\mu)`, uncorrelated, of variances :math:`\\lambda_1, \\dots,
    \\lambda_k`. Keeping the first ``k`` retains the fraction
    :math:`\\sum_{i \\le k} \\lambda_i / \\sum_i \\lambda_i` of the total variance.
    Examples of any feature shape are flattened to vectors of length ``D``.

    Each component's sign is fixed so that its largest entry in absolute value is positive
    (an eigenvector is only defined up to sign).

    Args:
        k: the number of components to keep, from 1 to ``D``; ``None`` keeps all ``D``.

    After ``fit``, the object holds:

    - ``mean_``: the mean, of the feature shape of ``X``.
    - ``components_``: ``(k, D)``, the eigenvectors as rows, in decreasing order of variance.
    - ``explained_variance_``: ``(k,)``, their eigenvalues.
    - ``explained_variance_ratio_``: ``(k,)``, each eigenvalue over the sum of all ``D``.
    """

    def __init__(self, k=None):
        if k is not None:
            validation.positive_int("k", k)
        self.k = k

    def _fit(self, X):
        X = X.reshape(len(X), -1)
        D = X.shape[1]
        if self.k is not None and self.k > D:
            raise ValueError(f"k must be at most the number of features D = {D}, got k = {self.k}")
        self.mean_ = X.mean(axis=0).reshape(self.feature_shape_)
        centred = X - X.mean(axis=0)
        if not (centred != 0).any():
            raise ValueError("PCA needs X with some variance; every example of X is the same")
        covariance = centred.T @ centred / (len(X) - 1)
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)  # ascending order
        order = np.argsort(eigenvalues)[::-1][: self.k or D]
        eigenvalues = np.clip(eigenvalues, 0, None)  # round-off makes tiny ones negative
        components = eigenvectors[:, order].T
        largest = np.abs(components).argmax(axis=1)
        components *= np.sign(components[np.arange(len(components)), largest])[:, None]
        self.components_ = components
        self.explained_variance_ = eigenvalues[order]
        self.explained_variance_ratio_ = self.explained_variance_ / eigenvalues.sum()

    def _transform(self, X):
        return (X - self.mean_).reshape(len(X), -1) @ self.components_.T

    def inverse_transform(self, Z):
        """Map ``k`` coordinates back to the input space: :math:`\\mu + V_k z`. With ``k < D``
        this is the best rank-``k`` reconstruction (in squared error) of the input."""
        Z = self._check_fitted(Z, "Z", coordinates=True)
        return (Z @ self.components_).reshape(len(Z), *self.feature_shape_) + self.mean_


class Whiten(PCA):
    """PCA whitening: rotate onto the principal components and give each unit variance,

    .. math:: z = \\operatorname{diag}(\\lambda_1 + \\epsilon, \\dots,
              \\lambda_k + \\epsilon)^{-1/2} \\, V_k^\\top (x - \\mu),

    so the covariance of the whitened training data is
    :math:`\\operatorname{diag}(\\lambda_i / (\\lambda_i + \\epsilon))`, the identity up to
    ``eps``. ``eps`` stops directions of (almost) zero variance, mostly noise, from being
    blown up to unit variance.

    Args:
        eps: a small non-negative number added to every eigenvalue.
        k: the number of components to keep; ``None`` keeps all ``D``.

    After ``fit``, those of :class:`PCA` and:

    - ``scale_``: ``(k,)``, :math:`\\sqrt{\\lambda_i + \\epsilon}`.
    """

    def __init__(self, eps=1e-5, k=None):
        validation.positive("eps", eps, allow_zero=True)
        super().__init__(k)
        self.eps = eps

    def _fit(self, X):
        super()._fit(X)
        self.scale_ = np.sqrt(self.explained_variance_ + self.eps)
        if not np.all(self.scale_ > 0):
            raise ValueError(
                "Whiten(eps=0) cannot whiten a direction of zero variance; use eps > 0 or "
                "a smaller k"
            )

    def _transform(self, X):
        return super()._transform(X) / self.scale_

    def inverse_transform(self, Z):
        """Undo the scaling, then the rotation: :math:`\\mu + V_k \\, (\\sqrt{\\lambda + \\epsilon}
        \\odot z)`."""
        Z = self._check_fitted(Z, "Z", coordinates=True)
        return super().inverse_transform(Z * self.scale_)
