"""The book's data sets, all offline: nothing here ever touches the network.

Two sources ship inside installed packages, so every chapter runs on a fresh machine with
no download step:

* :func:`load_digits_split`: the 1797 real handwritten 8x8 digits bundled with
  scikit-learn (:func:`sklearn.datasets.load_digits`), split into training, validation
  and test sets. Chapters 0-7 train on them.
* :func:`sample_patches`: small colour patches cut from the two photographs bundled with
  scikit-learn (:func:`sklearn.datasets.load_sample_images`), for chapter 2's
  preprocessing.

The third, :func:`load_cifar10`, is optional: it reads CIFAR-10 from a folder that the
reader has downloaded and extracted themselves, and fails with a message saying where to
get the files when they are not there. No function of this module downloads anything.
"""

from __future__ import annotations

import functools
import os
import pickle
from numbers import Integral, Real

import numpy as np

from . import validation as check

__all__ = [
    "FRACTION",
    "load_cifar10",
    "load_digits_split",
    "map_inputs",
    "sample_patches",
    "patch_positions",
]

_DIGITS_CLASSES = 10

# CIFAR-10, as distributed in cifar-10-python.tar.gz.
_CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"
_CIFAR_SUBFOLDER = "cifar-10-batches-py"
_CIFAR_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR_TEST_FILE = "test_batch"
_CIFAR_SIDE = 32
_CIFAR_ROW = 3 * _CIFAR_SIDE * _CIFAR_SIDE  # 3072 values: 1024 red, 1024 green, 1024 blue
_CIFAR_CLASSES = 10


# --------------------------------------------------------------------------------------
# Digits
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _digits():
    """The raw digits ``(data, target)``, loaded once; read-only so the cache stays intact."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    data = np.asarray(bunch.data, dtype=np.float64)
    target = np.asarray(bunch.target, dtype=np.int64)
    data.flags.writeable = False
    target.flags.writeable = False
    return data, target


#: The share of the examples that goes to a held-out set.
FRACTION = check.Interval(Real, 0, 1, closed="neither", what="a fraction")


def _digits_split_indices(seed=0, val_size=0.2, test_size=0.2):
    """Row indices into the full digits set of the training, validation and test examples.

    The test set is split off first (``test_size`` of all examples), then the validation
    set from what remains (``val_size`` of all examples), both stratified by class.

    Returns:
        A tuple ``(train, val, test)`` of sorted int64 index arrays that partition
        ``range(1797)``.
    """
    from sklearn.model_selection import train_test_split

    if val_size + test_size >= 1:
        raise check.InvalidArgument(
            "val_size + test_size must be < 1 so that a training set remains, got "
            f"{val_size!r} + {test_size!r} = {val_size + test_size!r}"
        )
    _, target = _digits()
    every = np.arange(len(target), dtype=np.int64)
    rest, test = train_test_split(every, test_size=test_size, stratify=target, random_state=seed)
    # val_size is a fraction of the whole set; rescale it to a fraction of what remains.
    train, val = train_test_split(
        rest, test_size=val_size / (1 - test_size), stratify=target[rest], random_state=seed
    )
    return np.sort(train), np.sort(val), np.sort(test)


@check.declared(seed=check.SEED, val_size=FRACTION, test_size=FRACTION)
def load_digits_split(seed=0, val_size=0.2, test_size=0.2):
    """The 1797 handwritten digits of scikit-learn, split into train, validation and test.

    Each example is a real 8x8 grey-level scan of a handwritten digit 0-9, flattened into 64
    pixel values. The split is stratified (every set keeps the class proportions of the
    whole) and depends only on ``seed``. This is the data set of chapters 0-7.

    The pixels are returned **raw**, as integers 0..16 stored in float64: no centring or
    scaling is applied, because preprocessing is the topic of a later chapter, which
    starts from exactly these arrays.

    Args:
        seed: a non-negative integer; the same seed always gives the same split.
        val_size: the fraction of all examples that goes to the validation set, in (0, 1).
        test_size: the fraction of all examples that goes to the test set, in (0, 1).
            ``val_size + test_size`` must be below 1; the rest is the training set.

    Returns:
        A dict with keys ``X_train``, ``y_train``, ``X_val``, ``y_val``, ``X_test`` and
        ``y_test``. Each ``X`` is a float64 array of shape ``(N, 64)`` with values 0..16,
        each ``y`` an int64 array of shape ``(N,)`` with labels 0..9. The arrays are fresh
        copies, free to modify.

    Raises:
        TypeError: if a fraction is not a real number.
        ValueError: if a fraction is outside (0, 1), if they add up to 1 or more, or if
            ``seed`` is not a non-negative integer.

    Example:
        >>> data = load_digits_split(seed=0)
        >>> data["X_train"].shape, data["X_val"].shape, data["X_test"].shape
        ((1077, 64), (360, 64), (360, 64))
        >>> float(data["X_train"].min()), float(data["X_train"].max())
        (0.0, 16.0)
    """
    train, val, test = _digits_split_indices(seed, val_size, test_size)
    data, target = _digits()
    out = {}
    for name, idx in (("train", train), ("val", val), ("test", test)):
        # Fancy indexing copies, so callers never get a view of the cached arrays.
        out[f"X_{name}"] = data[idx]
        out[f"y_{name}"] = target[idx]
    return out


# --------------------------------------------------------------------------------------
# Patches of the two sample photographs
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _sample_images():
    """The two photographs (china.jpg, flower.jpg), uint8 ``(427, 640, 3)``, read-only."""
    from sklearn.datasets import load_sample_images

    images = tuple(np.asarray(im, dtype=np.uint8) for im in load_sample_images().images)
    for im in images:
        im.flags.writeable = False
    return images


def patch_positions(n, size=32, seed=0):
    """Where :func:`sample_patches` cuts its patches, for the same ``n``, ``size`` and
    ``seed``: which photograph, and the top-left corner in it.

    Args:
        n: the number of patches, a positive integer.
        size: the side of each square patch in pixels, from 1 to 427.
        seed: a non-negative integer.

    Returns:
        A tuple ``(image, row, col)`` of int64 arrays of shape ``(n,)``: patch ``i`` is
        ``photos[image[i]][row[i]:row[i] + size, col[i]:col[i] + size]``, with ``photos``
        the images of :func:`sklearn.datasets.load_sample_images` (0 the temple, 1 the
        flower).

    Raises:
        ValueError: if ``n``, ``size`` or ``seed`` is out of range.

    Example:
        >>> from sklearn.datasets import load_sample_images
        >>> image, row, col = patch_positions(5, size=32, seed=0)
        >>> photo = load_sample_images().images[image[0]]
        >>> crop = photo[row[0] : row[0] + 32, col[0] : col[0] + 32]
        >>> bool((sample_patches(5, size=32, seed=0)[0] == crop).all())
        True
    """
    check.positive_int("n", n)
    check.seed(seed)
    images = _sample_images()
    height = min(im.shape[0] for im in images)
    width = min(im.shape[1] for im in images)
    check.Interval(Integral, 1, height).check("size", size)
    rng = np.random.default_rng(seed)
    image = rng.integers(0, len(images), size=n)
    row = rng.integers(0, height - size + 1, size=n)
    col = rng.integers(0, width - size + 1, size=n)
    return image.astype(np.int64), row.astype(np.int64), col.astype(np.int64)


def sample_patches(n, size=32, seed=0):
    """``n`` colour patches cut at random places from two real photographs.

    The photographs are the two bundled with scikit-learn (a Chinese temple and a flower, each
    427x640 pixels, RGB). Each patch comes from either photograph, drawn at random, at a random
    position (:func:`patch_positions` says where); the result depends only on ``n``, ``size`` and
    ``seed``. Chapter 2 uses them to compare subtracting the mean image with subtracting the
    per-channel mean: unlike random noise, natural images have a structured mean.

    Args:
        n: the number of patches, a positive integer.
        size: the side of each square patch in pixels, from 1 to 427 (the photographs'
            height).
        seed: a non-negative integer.

    Returns:
        A uint8 array of shape ``(n, size, size, 3)`` (height, width, RGB channel) with
        values 0..255, a fresh array free to modify.

    Raises:
        ValueError: if ``n``, ``size`` or ``seed`` is out of range.

    Example:
        >>> patches = sample_patches(100, size=32, seed=0)
        >>> patches.shape, patches.dtype
        ((100, 32, 32, 3), dtype('uint8'))
    """
    image, row, col = patch_positions(n, size, seed)
    images = _sample_images()
    out = np.empty((n, size, size, 3), dtype=np.uint8)
    for i, (k, r, c) in enumerate(zip(image, row, col)):
        out[i] = images[k][r : r + size, c : c + size]
    return out


# --------------------------------------------------------------------------------------
# CIFAR-10 (optional, from a folder the reader provides)
# --------------------------------------------------------------------------------------


def _cifar_missing(path, problem="does not exist") -> FileNotFoundError:
    return FileNotFoundError(
        f"CIFAR-10 not found: {path} {problem}. Download cifar-10-python.tar.gz from "
        f"{_CIFAR_URL}, extract it, and pass the folder that holds "
        f"{', '.join(_CIFAR_TRAIN_FILES)} and {_CIFAR_TEST_FILE} "
        f"(usually named {_CIFAR_SUBFOLDER})."
    )


def _cifar_folder(folder) -> str:
    """The folder that holds the batch files: ``folder`` itself or its
    ``cifar-10-batches-py`` subfolder."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        problem = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise _cifar_missing(folder, problem)
    inner = os.path.join(folder, _CIFAR_SUBFOLDER)
    first = _CIFAR_TRAIN_FILES[0]
    if not os.path.exists(os.path.join(folder, first)) and os.path.isdir(inner):
        return inner
    return folder


def _get(batch: dict, key: str):
    """``batch[b"key"]``, also accepting a ``str`` key (a batch re-pickled by Python 3)."""
    if key.encode() in batch:
        return batch[key.encode()]
    return batch.get(key)


def _read_cifar_batch(path):
    """One batch file: ``(X, y)`` with ``X`` uint8 ``(N, 32, 32, 3)`` and ``y`` int64."""
    if not os.path.isfile(path):
        raise _cifar_missing(path)
    try:
        with open(path, "rb") as f:
            # The files were pickled by Python 2: its byte strings must stay bytes.
            batch = pickle.load(f, encoding="bytes")
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as e:
        raise ValueError(f"{path} is not a readable CIFAR-10 batch: {e}") from e
    if not isinstance(batch, dict):
        raise ValueError(
            f"{path} is not a CIFAR-10 batch: expected a pickled dict, got {type(batch).__name__}"
        )
    data, labels = _get(batch, "data"), _get(batch, "labels")
    if data is None or labels is None:
        raise ValueError(
            f"{path} is not a CIFAR-10 batch: expected keys b'data' and b'labels', got "
            f"{sorted(batch)}"
        )
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != _CIFAR_ROW:
        got = data.shape if isinstance(data, np.ndarray) else type(data).__name__
        raise ValueError(
            f"{path} is corrupt: b'data' must be an array of shape (N, {_CIFAR_ROW}), got {got}"
        )
    if data.dtype != np.uint8:
        raise ValueError(f"{path} is corrupt: b'data' must have dtype uint8, got {data.dtype}")
    try:
        y = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path} is corrupt: b'labels' must be a list of integers") from e
    if y.shape != (data.shape[0],):
        raise ValueError(
            f"{path} is corrupt: b'labels' must hold {data.shape[0]} labels (one per row of "
            f"b'data'), got shape {y.shape}"
        )
    if y.size and (y.min() < 0 or y.max() >= _CIFAR_CLASSES):
        raise ValueError(
            f"{path} is corrupt: labels must lie in [0, {_CIFAR_CLASSES}), got values from "
            f"{y.min()} to {y.max()}"
        )
    # Each row is channel-first (1024 red, 1024 green, 1024 blue, each 32x32 row-major);
    # return height x width x channel, as images are usually shown.
    X = data.reshape(-1, 3, _CIFAR_SIDE, _CIFAR_SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(X), y


def load_cifar10(folder):
    """CIFAR-10 from the python version of the data set, extracted into ``folder``.

    Optional, for readers who have CIFAR-10: the chapters run on the bundled digits, and
    this loader lets them rerun an experiment on 32x32 colour images. Nothing is
    downloaded: get ``cifar-10-python.tar.gz`` from https://www.cs.toronto.edu/~kriz/cifar.html
    and extract it yourself.

    The files are pickles, and unpickling can run arbitrary code: only load files from
    the official archive.

    Args:
        folder: a path (``str`` or :class:`os.PathLike`) to the folder that holds
            ``data_batch_1`` ... ``data_batch_5`` and ``test_batch``, or to the folder
            that contains the extracted ``cifar-10-batches-py`` folder.

    Returns:
        A dict with keys ``X_train`` (uint8, ``(50000, 32, 32, 3)``), ``y_train`` (int64,
        ``(50000,)``), ``X_test`` (uint8, ``(10000, 32, 32, 3)``) and ``y_test`` (int64,
        ``(10000,)``). Images are height x width x RGB channel with values 0..255 (the
        layout of the cs231n loader), labels 0..9; the training set is the five batches
        in order.

    Raises:
        FileNotFoundError: if the folder or one of the six files is missing; the message
            names the missing path and says where to get the data.
        ValueError: if a file is not a CIFAR-10 batch (wrong content or shapes); the
            message names the file.

    Example:
        >>> data = load_cifar10("~/data/cifar-10-batches-py")  # doctest: +SKIP
        >>> data["X_train"].shape, data["X_test"].shape  # doctest: +SKIP
        ((50000, 32, 32, 3), (10000, 32, 32, 3))
    """
    folder = _cifar_folder(os.path.expanduser(os.fspath(folder)))
    paths = [os.path.join(folder, name) for name in (*_CIFAR_TRAIN_FILES, _CIFAR_TEST_FILE)]
    for path in paths:  # report a missing file before spending time on the others
        if not os.path.isfile(path):
            raise _cifar_missing(path)
    batches = [_read_cifar_batch(path) for path in paths]
    train, (X_test, y_test) = batches[:-1], batches[-1]
    return {
        "X_train": np.concatenate([X for X, _ in train]),
        "y_train": np.concatenate([y for _, y in train]),
        "X_test": X_test,
        "y_test": y_test,
    }


def map_inputs(data, fn):
    """A copy of a split dict with ``fn`` applied to every input array (keys ``X_*``); the
    labels (keys ``y_*``) are kept as they are.

    The usual way to preprocess a whole split with statistics fitted on its training part
    (chapter 2)::

        scaler = Standardize().fit(digits["X_train"])
        normalized = map_inputs(digits, scaler.transform)

    Args:
        data: a dict like the one :func:`load_digits_split` returns.
        fn: a function of one array, e.g. a fitted transform's ``transform``.

    Returns:
        A new dict with the same keys.
    """
    check.Instance(dict, "a dict of arrays keyed X_train, y_train, ...").check("data", data)
    check.function("fn", fn, "a function of one array")
    return {k: fn(v) if k.startswith("X") else v for k, v in data.items()}
