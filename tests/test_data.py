"""Tests of nntrain.data: the digits split, the photo patches and the CIFAR-10 reader."""

from __future__ import annotations

import io
import os
import pickle
import struct

import numpy as np
import pytest
from nntrain import data
from nntrain.data import load_cifar10, load_digits_split, patch_positions, sample_patches
from sklearn.datasets import load_digits, load_sample_images

N_DIGITS = 1797
KEYS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")


# --------------------------------------------------------------------------------------
# load_digits_split
# --------------------------------------------------------------------------------------


def test_digits_keys_shapes_dtypes():
    d = load_digits_split()
    assert sorted(d) == sorted(KEYS)
    for split in ("train", "val", "test"):
        X, y = d[f"X_{split}"], d[f"y_{split}"]
        assert X.dtype == np.float64 and y.dtype == np.int64
        assert X.ndim == 2 and X.shape[1] == 64
        assert y.shape == (X.shape[0],)
    # Default fractions 0.2 / 0.2 of 1797, rounded up by scikit-learn for the held-out sets.
    assert (len(d["y_train"]), len(d["y_val"]), len(d["y_test"])) == (1077, 360, 360)


@pytest.mark.parametrize("val_size,test_size", [(0.2, 0.2), (0.1, 0.3), (0.25, 0.05)])
def test_digits_sizes_add_up_and_follow_fractions(val_size, test_size):
    d = load_digits_split(seed=1, val_size=val_size, test_size=test_size)
    n_train, n_val, n_test = (len(d[f"y_{s}"]) for s in ("train", "val", "test"))
    assert n_train + n_val + n_test == N_DIGITS
    assert abs(n_val - val_size * N_DIGITS) <= 2
    assert abs(n_test - test_size * N_DIGITS) <= 2


def sorted_rows(a):
    """The rows of ``a`` in lexicographic order: two arrays with equal results hold the same
    rows, each as many times."""
    return a[np.lexsort(a.T[::-1])]


def test_digits_split_is_a_partition_of_the_real_digits():
    # Disjoint and complete, and unscaled: the examples of the three splits, pixels and label
    # together, are the examples of the whole set, each exactly as often.
    raw = load_digits()
    d = load_digits_split(seed=3)
    splits = [np.column_stack([d[f"X_{s}"], d[f"y_{s}"]]) for s in ("train", "val", "test")]
    everything = np.column_stack([raw.data, raw.target])
    np.testing.assert_array_equal(sorted_rows(np.concatenate(splits)), sorted_rows(everything))


def test_digits_raw_pixels_not_scaled():
    d = load_digits_split()
    X = np.concatenate([d["X_train"], d["X_val"], d["X_test"]])
    assert X.min() == 0 and X.max() == 16
    np.testing.assert_array_equal(X, np.round(X))  # integer grey levels 0..16


def test_digits_every_class_in_every_split_and_stratified():
    d = load_digits_split(seed=0)
    overall = np.bincount(load_digits().target, minlength=10) / N_DIGITS
    for split in ("train", "val", "test"):
        y = d[f"y_{split}"]
        counts = np.bincount(y, minlength=10)
        assert len(counts) == 10 and (counts > 0).all()
        # Stratified: each class count is within one example of its expected share.
        assert np.abs(counts - overall * len(y)).max() <= 1.0


def test_digits_deterministic_for_a_seed_and_different_for_another():
    a, b, c = load_digits_split(seed=5), load_digits_split(seed=5), load_digits_split(seed=6)
    for key in KEYS:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["y_train"], c["y_train"])
    assert not np.array_equal(a["X_test"], c["X_test"])


def test_digits_returns_fresh_copies():
    first = load_digits_split(seed=0)
    keep = {k: v.copy() for k, v in first.items()}
    for v in first.values():
        v[...] = -1  # would corrupt a cached array if views were returned
    again = load_digits_split(seed=0)
    for key in KEYS:
        np.testing.assert_array_equal(again[key], keep[key])
        assert again[key].flags.writeable


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"val_size": 0.0}, r"val_size must be a fraction in \(0, 1\), got 0\.0"),
        ({"val_size": 1.0}, r"val_size must be a fraction in \(0, 1\), got 1\.0"),
        ({"val_size": -0.1}, r"val_size .*got -0\.1"),
        ({"test_size": 1.5}, r"test_size must be a fraction in \(0, 1\), got 1\.5"),
        ({"test_size": float("nan")}, r"test_size .*got nan"),
        ({"val_size": 0.5, "test_size": 0.5}, r"val_size \+ test_size must be < 1.*got 0\.5"),
        ({"val_size": 0.7, "test_size": 0.4}, r"must be < 1.*= 1\.1"),
        ({"seed": -1}, r"seed must be a non-negative integer, got -1"),
        ({"seed": 1.5}, r"seed must be a non-negative integer, got 1\.5"),
    ],
)
def test_digits_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_digits_split(**kwargs)


@pytest.mark.parametrize("bad", ["0.2", None, True])
def test_digits_fraction_of_wrong_type_raises(bad):
    with pytest.raises(TypeError, match=r"val_size must be a fraction, a real number in \(0, 1\)"):
        load_digits_split(val_size=bad)


# --------------------------------------------------------------------------------------
# sample_patches
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def photos():
    return [np.asarray(im) for im in load_sample_images().images]


@pytest.mark.parametrize("n,size", [(1, 1), (7, 32), (3, 427)])
def test_patches_shape_dtype(n, size):
    p = sample_patches(n, size=size, seed=0)
    assert p.shape == (n, size, size, 3)
    assert p.dtype == np.uint8
    assert p.flags.writeable


def test_patches_deterministic_for_a_seed_and_different_for_another():
    np.testing.assert_array_equal(sample_patches(20, 16, seed=4), sample_patches(20, 16, seed=4))
    assert not np.array_equal(sample_patches(20, 16, seed=4), sample_patches(20, 16, seed=5))


def test_patches_are_crops_of_the_photos(photos):
    n, size = 50, 24
    image, row, col = patch_positions(n, size, seed=2)
    patches = sample_patches(n, size=size, seed=2)
    assert set(image.tolist()) == {0, 1}  # both photographs are used
    for i in range(n):
        k, r, c = image[i], row[i], col[i]
        assert 0 <= r <= 427 - size and 0 <= c <= 640 - size
        np.testing.assert_array_equal(patches[i], photos[k][r : r + size, c : c + size])


def test_patches_spread_over_the_photos():
    image, row, col = patch_positions(2000, 32, seed=0)
    assert 0.4 < image.mean() < 0.6
    assert row.min() < 20 and row.max() > 427 - 32 - 20
    assert col.min() < 20 and col.max() > 640 - 32 - 20


def test_patches_full_height_start_at_row_zero():
    _, row, _ = patch_positions(10, 427, seed=0)
    np.testing.assert_array_equal(row, 0)


def test_patches_do_not_corrupt_the_cache(photos):
    p = sample_patches(2, 8, seed=0)
    p[...] = 0
    image, row, col = patch_positions(2, 8, seed=0)
    again = sample_patches(2, 8, seed=0)
    k, r, c = image[0], row[0], col[0]
    np.testing.assert_array_equal(again[0], photos[k][r : r + 8, c : c + 8])


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"n": 0}, r"n must be a positive integer, got 0"),
        ({"n": -3}, r"n must be a positive integer, got -3"),
        ({"n": 2, "size": 0}, r"size must be an integer in \[1, 427\], got 0"),
        ({"n": 2, "size": 428}, r"size must be an integer in \[1, 427\], got 428"),
        ({"n": 2, "size": 8.0}, r"size must be an integer in \[1, 427\], got 8\.0"),
        ({"n": 2, "seed": -1}, r"seed must be a non-negative integer, got -1"),
    ],
)
def test_patches_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sample_patches(**kwargs)


def test_patches_non_integer_count_is_a_type_error():
    with pytest.raises(TypeError, match=r"n must be a positive integer, got 2\.0"):
        sample_patches(n=2.0)


# --------------------------------------------------------------------------------------
# load_cifar10, on a miniature written in the exact format of cifar-10-python.tar.gz
# --------------------------------------------------------------------------------------


class _Py2Pickler(pickle._Pickler):
    """Writes pickles the way Python 2 wrote the CIFAR-10 files: every string is a
    Python 2 ``str`` (BINSTRING opcodes) and numpy is referenced as ``numpy.core``.

    Such a file loads only with ``encoding="bytes"`` (or ``"latin1"``); Python 3's default
    ``"ASCII"`` fails on the raw pixel bytes, as it does on the real files.
    """

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_py2_str(self, obj):
        if isinstance(obj, str):
            obj = obj.encode("latin1")
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)

    def save_global(self, obj, name=None):  # classes and functions (numpy's _reconstruct)
        module = obj.__module__.replace("numpy._core", "numpy.core")
        name = name or obj.__qualname__
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode())

    dispatch[bytes] = _save_py2_str
    dispatch[str] = _save_py2_str
    dispatch[type] = save_global


def _py2_pickle(obj) -> bytes:
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


ROWS = {"data_batch_1": 3, "data_batch_2": 2, "data_batch_3": 4, "data_batch_4": 1,
        "data_batch_5": 3, "test_batch": 5}  # fmt: skip
TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


def _write_cifar(folder, rows=ROWS, seed=0):
    """Write a miniature CIFAR-10 into ``folder``; return the raw ``(data, labels)`` per file."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    raw = {}
    for name, k in rows.items():
        pixels = rng.integers(0, 256, size=(k, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=k)]
        batch = {
            b"batch_label": f"{name} of the miniature".encode(),
            b"data": pixels,
            b"labels": labels,
            b"filenames": [f"img_{name}_{i}.png".encode() for i in range(k)],
        }
        with open(os.path.join(folder, name), "wb") as f:
            f.write(_py2_pickle(batch))
        raw[name] = (pixels, labels)
    return raw


def _rewrite(folder, name, batch):
    with open(os.path.join(folder, name), "wb") as f:
        f.write(_py2_pickle(batch))


def test_fixture_is_python2_style(tmp_path):
    _write_cifar(tmp_path)
    blob = (tmp_path / "test_batch").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        pickle.loads(blob)  # default encoding: fails like the real files do
    assert b"numpy.core.multiarray\n_reconstruct" in blob
    assert sorted(pickle.loads(blob, encoding="bytes")) == [
        b"batch_label", b"data", b"filenames", b"labels"]  # fmt: skip


def test_cifar_shapes_dtypes(tmp_path):
    _write_cifar(tmp_path)
    d = load_cifar10(tmp_path)
    assert sorted(d) == ["X_test", "X_train", "y_test", "y_train"]
    n_train = sum(ROWS[name] for name in TRAIN)
    assert d["X_train"].shape == (n_train, 32, 32, 3) and d["X_train"].dtype == np.uint8
    assert d["y_train"].shape == (n_train,) and d["y_train"].dtype == np.int64
    assert d["X_test"].shape == (ROWS["test_batch"], 32, 32, 3) and d["X_test"].dtype == np.uint8
    assert d["y_test"].shape == (ROWS["test_batch"],) and d["y_test"].dtype == np.int64


def test_cifar_channel_layout(tmp_path):
    raw = _write_cifar(tmp_path)
    d = load_cifar10(str(tmp_path))
    pixels = raw["data_batch_1"][0]
    X = d["X_train"]
    # Row 0: red (0, 0) is value 0, green (0, 0) is value 1024, blue (0, 0) is value 2048.
    assert X[0, 0, 0, 0] == pixels[0, 0]
    assert X[0, 0, 0, 1] == pixels[0, 1024]
    assert X[0, 0, 0, 2] == pixels[0, 2048]
    # Within a channel the 32x32 image is row-major: (r, c) is value r * 32 + c.
    assert X[0, 0, 1, 0] == pixels[0, 1]
    assert X[0, 1, 0, 0] == pixels[0, 32]
    assert X[1, 5, 7, 2] == pixels[1, 2048 + 5 * 32 + 7]
    # Every pixel of one image, spelled out by hand.
    img = X[2]
    for ch in range(3):
        for r in range(32):
            for c in range(32):
                assert img[r, c, ch] == pixels[2, ch * 1024 + r * 32 + c]


def test_cifar_labels_order_and_concatenation(tmp_path):
    raw = _write_cifar(tmp_path)
    d = load_cifar10(tmp_path)
    start = 0
    for name in TRAIN:  # the five batches, in order 1..5
        pixels, labels = raw[name]
        stop = start + len(labels)
        np.testing.assert_array_equal(d["y_train"][start:stop], labels)
        np.testing.assert_array_equal(
            d["X_train"][start:stop].transpose(0, 3, 1, 2).reshape(-1, 3072), pixels
        )
        start = stop
    assert start == len(d["y_train"])
    pixels, labels = raw["test_batch"]
    np.testing.assert_array_equal(d["y_test"], labels)
    np.testing.assert_array_equal(d["X_test"].transpose(0, 3, 1, 2).reshape(-1, 3072), pixels)


def test_cifar_accepts_the_parent_folder(tmp_path):
    raw = _write_cifar(tmp_path / "cifar-10-batches-py")
    d = load_cifar10(tmp_path)
    np.testing.assert_array_equal(d["y_test"], raw["test_batch"][1])


def test_cifar_missing_folder(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as info:
        load_cifar10(missing)
    message = str(info.value)
    assert str(missing) in message
    assert "https://www.cs.toronto.edu/~kriz/cifar.html" in message
    assert "cifar-10-python.tar.gz" in message and "data_batch_1" in message


def test_cifar_missing_file(tmp_path):
    _write_cifar(tmp_path)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3") as info:
        load_cifar10(tmp_path)
    assert str(tmp_path / "data_batch_3") in str(info.value)
    assert "cifar.html" in str(info.value)


def test_cifar_empty_folder_names_first_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="data_batch_1"):
        load_cifar10(tmp_path)


def _good_batch(k=2):
    return {b"data": np.zeros((k, 3072), dtype=np.uint8), b"labels": [0] * k}


@pytest.mark.parametrize(
    "batch,match",
    [
        ({b"data": np.zeros((2, 3000), dtype=np.uint8), b"labels": [0, 1]},
         r"shape \(N, 3072\), got \(2, 3000\)"),
        ({b"data": np.zeros((2, 3, 32, 32), dtype=np.uint8), b"labels": [0, 1]},
         r"shape \(N, 3072\), got \(2, 3, 32, 32\)"),
        ({b"data": np.zeros((2, 3072), dtype=np.float32), b"labels": [0, 1]}, r"dtype uint8"),
        ({b"data": np.zeros((2, 3072), dtype=np.uint8), b"labels": [0, 1, 2]},
         r"must hold 2 labels"),
        ({b"data": np.zeros((2, 3072), dtype=np.uint8), b"labels": [0, 10]}, r"\[0, 10\)"),
        ({b"labels": [0, 1]}, r"expected keys b'data' and b'labels'"),
        ([1, 2, 3], r"expected a pickled dict, got list"),
    ],
)  # fmt: skip
def test_cifar_corrupt_batch_raises_naming_the_file(tmp_path, batch, match):
    _write_cifar(tmp_path)
    _rewrite(tmp_path, "data_batch_4", batch)
    with pytest.raises(ValueError, match=match) as info:
        load_cifar10(tmp_path)
    assert str(tmp_path / "data_batch_4") in str(info.value)


def test_cifar_not_a_pickle_raises_naming_the_file(tmp_path):
    _write_cifar(tmp_path)
    (tmp_path / "test_batch").write_bytes(b"this is not a pickle")
    with pytest.raises(ValueError, match="test_batch"):
        load_cifar10(tmp_path)


def test_cifar_accepts_a_batch_repickled_by_python3(tmp_path):
    raw = _write_cifar(tmp_path)
    pixels, labels = raw["data_batch_2"]
    with open(tmp_path / "data_batch_2", "wb") as f:
        pickle.dump({"data": pixels, "labels": labels}, f)  # str keys
    d = load_cifar10(tmp_path)
    start = ROWS["data_batch_1"]
    np.testing.assert_array_equal(d["y_train"][start : start + len(labels)], labels)


def test_data_module_does_not_import_torch():
    with open(data.__file__) as f:
        source = f.read()
    assert "import torch" not in source and "urllib" not in source and "requests" not in source


def test_cifar_missing_file_reported_before_reading_the_others(tmp_path):
    _write_cifar(tmp_path)
    (tmp_path / "data_batch_1").write_bytes(b"corrupt")
    (tmp_path / "test_batch").unlink()
    with pytest.raises(FileNotFoundError, match="test_batch"):
        load_cifar10(tmp_path)


def test_map_inputs_transforms_inputs_only():
    from nntrain.data import map_inputs

    data = load_digits_split(seed=0)
    out = map_inputs(data, lambda X: X / 16)
    assert set(out) == set(data)
    for k in data:
        if k.startswith("X"):
            np.testing.assert_array_equal(out[k], data[k] / 16)
        else:
            assert out[k] is data[k]
    with pytest.raises(TypeError, match="data must be a dict"):
        map_inputs([data["X_train"]], np.abs)
    with pytest.raises(TypeError, match="fn must be a function"):
        map_inputs(data, 16)
