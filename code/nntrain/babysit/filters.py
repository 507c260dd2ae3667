r"""First-layer weights as images, and how noisy they look.

On image data each unit of the first layer has one weight per pixel, so its weights are
an image of the input's shape: CS231n's notes show them as a sign of health, smooth and
structured after good training, noisy when the net is undertrained, the learning rate is
off or the regularization too weak. :func:`first_layer_images` cuts the weights into
those images and :func:`roughness` puts a number on "noisy": the mean squared difference
between neighbouring pixels over the variance of the pixels, a Dirichlet energy made
scale-free,

.. math::
    R = \frac{\frac{1}{|E|} \sum_{(p, q) \in E} (x_p - x_q)^2}
             {\frac{1}{N} \sum_{n=1}^N s_n^2},

where :math:`E` holds every pair of horizontally or vertically adjacent pixels (in every
image and channel) and :math:`s_n^2` is the (unbiased) variance of image :math:`n`'s
pixels. For white noise, independent pixels of variance :math:`\sigma^2`,
:math:`\mathbb{E}[(x_p - x_q)^2] = 2\sigma^2` and :math:`\mathbb{E}[s_n^2] = \sigma^2`, so
:math:`R \approx 2`; a smooth image, whose neighbours are close, gives :math:`R \ll 2`
(an 8x8 linear ramp 0.09); an image whose neighbours are anti-correlated (a
checkerboard) gives up to about 4.

Used in chapter 6 (babysitting the learning process).
"""

from __future__ import annotations

import numpy as np

from .. import validation as check
from ..models import adapt

__all__ = ["first_layer_images", "roughness"]


def first_layer_images(model, shape=(8, 8)):
    """The first layer's weights, one image of ``shape`` per unit.

    The first weight matrix is the reference layout ``(D_in, D_out)``, whose column ``j``
    holds unit ``j``'s weights: ``params["W1"]`` of both trees' ``FullyConnectedNet``;
    for another ``torch.nn.Module``, its first ``nn.Linear`` (stored ``(D_out, D_in)``:
    row ``j``) or :class:`nntrain.torch.layers.Affine`, in the order of ``model.modules()``.

    Args:
        model: a reference or torch model (see :mod:`nntrain.train`).
        shape: the shape of one input image, e.g. ``(8, 8)`` for the digits or
            ``(32, 32, 3)`` for CIFAR-10 (its product must be ``D_in``).

    Returns:
        A float array ``(D_out, *shape)``, a copy.

    Raises:
        ValueError: for a model without a weight matrix, or a ``shape`` that does not
            hold ``D_in`` pixels.

    Example:
        >>> from nntrain.reference import FullyConnectedNet
        >>> first_layer_images(FullyConnectedNet([30], input_dim=64, seed=0)).shape
        (30, 8, 8)
    """
    adapted = adapt(model)
    weights = adapted.weight_matrices()
    if not weights:
        raise ValueError(f"model must have a weight matrix, found none in {type(model).__name__}")
    w = np.array(adapted.numpy(weights[0]), copy=True)
    shape = check.image_shape(shape, w.shape[0])
    return w.T.reshape(w.shape[1], *shape)


def roughness(images):
    """How noisy images look: the mean squared difference of neighbouring pixels over the
    pixels' variance (the module docstring has the formula); about 2 for white noise,
    much less for smooth images.

    Args:
        images: one image ``(H, W)``, a stack ``(N, H, W)`` (e.g. the output of
            :func:`first_layer_images`) or colour images ``(N, H, W, C)``, a NumPy array
            or a tensor, with ``H, W >= 2``.

    Returns:
        :math:`R`, a float.

    Raises:
        ValueError: for images of another rank, smaller than 2x2, with non-finite values,
            or all constant (:math:`R` is 0/0).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> round(roughness(rng.standard_normal((500, 8, 8))), 1)
        2.0
        >>> ramp = np.add.outer(np.arange(8.0), np.arange(8.0))
        >>> round(roughness(ramp), 3)  # neighbours differ by 1, the pixels' variance is 10.67
        0.094
    """
    x = check.image_stack("images", images)
    across = np.diff(x, axis=2) ** 2  # horizontal neighbours
    down = np.diff(x, axis=1) ** 2  # vertical neighbours
    energy = (across.sum() + down.sum()) / (across.size + down.size)
    variance = x.reshape(x.shape[0], -1).var(axis=1, ddof=1).mean()
    if variance == 0:
        raise ValueError("images must vary: every image is constant, and R would be 0/0")
    return float(energy / variance)
