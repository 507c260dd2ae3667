"""Preprocessing (nntrain.reference.preprocessing and its torch twin): the statistics match
scikit-learn's StandardScaler and PCA (whitened or not, up to the sign of components), every
inverse undoes its transform, whitened training data has the identity covariance, the twin
equals the reference, and misuse (transform before fit, another feature shape, bad
arguments) is refused with a message that says what was expected."""

import nntrain.reference.preprocessing as ref
import nntrain.torch.preprocessing as twin
import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from nntrain.data import load_digits_split, sample_patches
from sklearn.decomposition import PCA as SkPCA
from sklearn.preprocessing import StandardScaler

CLASSES = ["Center", "Standardize", "PCA", "Whiten"]
IMAGE_CLASSES = ["MeanImage", "ChannelMean"]


@pytest.fixture(scope="module")
def digits():
    return load_digits_split()


def correlated(n=300, d=6, seed=0):
    """Full-rank data with very different variances along skewed directions."""
    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((d, d)) * np.logspace(0, -2, d)[:, None]
    return rng.standard_normal((n, d)) @ mixing + rng.uniform(-5, 5, d)


def sign_aligned(a, b):
    """b with each column's sign flipped to agree with a's (components' signs are free)."""
    return b * np.sign((a * b).sum(axis=0))


finite_rows = arrays(
    np.float64,
    st.tuples(st.integers(2, 30), st.integers(1, 6)),
    elements=st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False),
)
#: Data with some variance (PCA refuses data whose examples are all the same).
varied_rows = finite_rows.filter(lambda X: np.ptp(X, axis=0).max() > 1e-3)


# ----------------------------------------------------------------- against scikit-learn


def test_standardize_matches_standard_scaler_on_digits(digits):
    """Digits has border pixels that are 0 in every training image: like StandardScaler,
    they are centred and not scaled, so a non-zero value in validation is not blown up."""
    X, X_val = digits["X_train"], digits["X_val"]
    ours, theirs = ref.Standardize(eps=0.0).fit(X), StandardScaler().fit(X)
    assert (X.max(axis=0) == X.min(axis=0)).any(), "the data should have a constant feature"
    np.testing.assert_allclose(ours.mean_, theirs.mean_, rtol=1e-12)
    np.testing.assert_allclose(ours.var_, theirs.var_, rtol=1e-12)
    np.testing.assert_allclose(ours.transform(X_val), theirs.transform(X_val), atol=1e-12)
    # the default eps = 1e-8 moves the rarest pixels' scale by a relative 1e-8 / var
    default = ref.Standardize().fit(X).transform(X_val)
    np.testing.assert_allclose(default, theirs.transform(X_val), rtol=1e-5)


@given(finite_rows)
@example(np.array([[3.77258656e-267], [0.0]]))  # a variance that underflows to 0
def test_standardize_matches_standard_scaler(X):
    ours = ref.Standardize(eps=0.0).fit_transform(X)
    np.testing.assert_allclose(ours, StandardScaler().fit_transform(X), atol=1e-6)


def test_pca_matches_scikit_learn_up_to_sign(digits):
    X, X_val = digits["X_train"], digits["X_val"]
    ours, theirs = ref.PCA(k=20).fit(X), SkPCA(20, svd_solver="full").fit(X)
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, rtol=1e-9)
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, theirs.explained_variance_ratio_, rtol=1e-9
    )
    np.testing.assert_allclose(
        ours.components_, sign_aligned(ours.components_.T, theirs.components_.T).T, atol=1e-8
    )
    Z = ours.transform(X_val)
    np.testing.assert_allclose(Z, sign_aligned(Z, theirs.transform(X_val)), atol=1e-8)
    np.testing.assert_allclose(
        ours.inverse_transform(Z), theirs.inverse_transform(theirs.transform(X_val)), atol=1e-8
    )


@pytest.mark.parametrize("k", [None, 3])
def test_whiten_matches_scikit_learn_whitened_pca(k):
    X, X_new = correlated(), correlated(seed=1)
    ours = ref.Whiten(eps=0.0, k=k).fit(X)
    theirs = SkPCA(k, whiten=True, svd_solver="full").fit(X)
    Z = ours.transform(X_new)
    np.testing.assert_allclose(Z, sign_aligned(Z, theirs.transform(X_new)), atol=1e-8)


# ------------------------------------------------------------------------- properties


def test_whitened_training_data_has_the_identity_covariance():
    X = correlated()
    before = np.cov(X.T)
    assert np.abs(before - np.diag(np.diag(before))).max() > 0.1, "the data should be correlated"
    after = np.cov(ref.Whiten(eps=0.0).fit_transform(X).T)
    np.testing.assert_allclose(after, np.eye(X.shape[1]), atol=1e-10)


def test_eps_shrinks_the_whitened_variances_as_documented(digits):
    """Covariance after whitening is diag(lambda / (lambda + eps)); directions of zero
    variance (the constant pixels of digits) stay at zero instead of exploding."""
    w = ref.Whiten(eps=0.1).fit(digits["X_train"])
    after = np.cov(w.transform(digits["X_train"]).T)
    lam = w.explained_variance_
    np.testing.assert_allclose(after, np.diag(lam / (lam + 0.1)), atol=1e-9)
    assert lam.min() < 1e-10  # digits does have zero-variance directions


@given(varied_rows)
def test_pca_components_are_orthonormal_sorted_and_signed(X):
    p = ref.PCA().fit(X)
    V = p.components_
    np.testing.assert_allclose(V @ V.T, np.eye(len(V)), atol=1e-9)
    assert np.all(np.diff(p.explained_variance_) <= 1e-9 * (1 + p.explained_variance_[0]))
    assert np.all(V[np.arange(len(V)), np.abs(V).argmax(axis=1)] > 0)
    total = X.var(axis=0, ddof=1).sum()
    np.testing.assert_allclose(p.explained_variance_.sum(), total, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(p.explained_variance_ratio_.sum(), 1.0, rtol=1e-9)


@pytest.mark.parametrize("name", CLASSES)
@given(X=varied_rows)
def test_inverse_undoes_transform(name, X):
    kwargs = {"eps": 1e-3} if name == "Whiten" else {}
    t = getattr(ref, name)(**kwargs).fit(X)
    np.testing.assert_allclose(
        t.inverse_transform(t.transform(X)), X, atol=1e-6 * (1 + np.abs(X).max())
    )


def test_truncated_pca_is_the_best_low_rank_reconstruction():
    """Keeping k components loses exactly the variance of the dropped ones."""
    X = correlated(d=8)
    for k in range(1, 9):
        p = ref.PCA(k).fit(X)
        lost = ((X - p.inverse_transform(p.transform(X))) ** 2).sum() / (len(X) - 1)
        dropped = ref.PCA().fit(X).explained_variance_[k:].sum()
        np.testing.assert_allclose(lost, dropped, rtol=1e-9, atol=1e-12)


def test_statistics_come_from_the_training_split_only(digits):
    X, X_val = digits["X_train"], digits["X_val"]
    s = ref.Standardize().fit(X)
    np.testing.assert_allclose(s.transform(X).mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(s.transform(X_val), (X_val - X.mean(0)) / s.scale_)
    assert np.abs(s.transform(X_val).mean(axis=0)).max() > 0.01  # not refitted on X_val


def test_mean_image_and_channel_mean_on_patches():
    P = sample_patches(200, size=8, seed=1)
    image, channel = ref.MeanImage().fit(P), ref.ChannelMean().fit(P)
    assert P.dtype == np.uint8
    assert image.mean_.shape == (8, 8, 3) and channel.mean_.shape == (3,)
    np.testing.assert_allclose(channel.mean_, P.reshape(-1, 3).mean(axis=0))
    np.testing.assert_allclose(image.mean_, P.mean(axis=0))
    centred = channel.transform(P)
    assert centred.dtype == np.float64
    np.testing.assert_allclose(centred.mean(axis=(0, 1, 2)), 0, atol=1e-9)
    np.testing.assert_allclose(image.transform(P).mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(channel.inverse_transform(centred), P)


def test_float32_stays_float32():
    X = correlated().astype(np.float32)
    for name in CLASSES:
        assert getattr(ref, name)().fit_transform(X).dtype == np.float32, name


def test_pca_accepts_images_and_gives_them_back():
    P = sample_patches(50, size=4, seed=2).astype(np.float64)
    p = ref.PCA().fit(P)
    assert p.components_.shape == (48, 48) and p.mean_.shape == (4, 4, 3)
    Z = p.transform(P)
    assert Z.shape == (50, 48)
    np.testing.assert_allclose(p.inverse_transform(Z), P, atol=1e-9)


# ------------------------------------------------------------------------- torch twin


def fitted_pair(name, X, **kwargs):
    return getattr(ref, name)(**kwargs).fit(X), getattr(twin, name)(**kwargs).fit(torch.tensor(X))


@pytest.mark.parametrize("name", CLASSES + IMAGE_CLASSES)
def test_twin_equals_reference(name):
    if name in IMAGE_CLASSES:
        X, X_new = sample_patches(60, 6, seed=3) / 255.0, sample_patches(20, 6, seed=4) / 255.0
    else:
        X, X_new = correlated(), correlated(n=40, seed=5)
    kwargs = {"k": 4} if name in ("PCA", "Whiten") else {}
    r, t = fitted_pair(name, X, **kwargs)
    for attr in vars(r):
        if attr.endswith("_") and isinstance(getattr(r, attr), np.ndarray):
            np.testing.assert_allclose(
                getattr(t, attr).numpy(), getattr(r, attr), atol=1e-10, err_msg=attr
            )
    Z = t.transform(torch.tensor(X_new))
    assert isinstance(Z, torch.Tensor) and Z.dtype == torch.float64
    np.testing.assert_allclose(Z.numpy(), r.transform(X_new), atol=1e-9)
    np.testing.assert_allclose(
        t.inverse_transform(Z).numpy(), r.inverse_transform(r.transform(X_new)), atol=1e-9
    )


def test_twin_converts_integer_pixels_to_the_default_dtype():
    P = torch.tensor(sample_patches(10, 4, seed=0))
    assert twin.ChannelMean().fit_transform(P).dtype == torch.get_default_dtype()


@pytest.mark.gpu
def test_twin_on_cuda_matches_cpu():
    X = torch.tensor(correlated())
    for name in CLASSES:
        cpu, gpu = getattr(twin, name)().fit(X), getattr(twin, name)().fit(X.cuda())
        Z = gpu.transform(X.cuda())
        assert Z.device.type == "cuda"
        np.testing.assert_allclose(Z.cpu().numpy(), cpu.transform(X).numpy(), atol=1e-8)


# -------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("name", CLASSES + IMAGE_CLASSES)
def test_transform_before_fit_is_refused(tree, name):
    X = np.zeros((4, 3, 3, 3)) if name in IMAGE_CLASSES else np.zeros((4, 3))
    X = X if tree.is_reference else torch.tensor(X)
    obj = getattr(tree, name)()
    for method in ("transform", "inverse_transform"):
        with pytest.raises(ref.NotFittedError, match="not fitted yet: call fit"):
            getattr(obj, method)(X)
    assert issubclass(ref.NotFittedError, ValueError) and twin.NotFittedError is ref.NotFittedError


def test_another_feature_shape_is_refused(tree):
    wrap = (lambda a: a) if tree.is_reference else torch.tensor
    s = tree.Standardize().fit(wrap(correlated(d=6)))
    with pytest.raises(
        ValueError, match=r"shape \(N, 6\) like the data Standardize was fitted on, got \(5, 4\)"
    ):
        s.transform(wrap(np.zeros((5, 4))))
    p = tree.PCA(3).fit(wrap(correlated(d=6)))
    with pytest.raises(ValueError, match=r"Z must have shape \(N, 3\)"):
        p.inverse_transform(wrap(np.zeros((5, 6))))
    m = tree.MeanImage().fit(wrap(np.ones((3, 4, 4, 3))))
    with pytest.raises(ValueError, match=r"shape \(N, 4, 4, 3\)"):
        m.transform(wrap(np.ones((3, 8, 8, 3))))


def test_bad_arguments_are_refused(tree):
    wrap = (lambda a: a) if tree.is_reference else torch.tensor
    with pytest.raises(ValueError, match="k must be a positive integer"):
        tree.PCA(0)
    with pytest.raises(TypeError, match="k must be a positive integer"):
        tree.Whiten(k=2.5)
    with pytest.raises(ValueError, match="eps must be finite and >= 0"):
        tree.Standardize(eps=-1e-5)
    with pytest.raises(ValueError, match="k must be at most the number of features D = 6"):
        tree.PCA(7).fit(wrap(correlated(d=6)))
    with pytest.raises(ValueError, match="at least 2 examples"):
        tree.Center().fit(wrap(np.ones((1, 3))))
    with pytest.raises(ValueError, match="must have 4 dimensions"):
        tree.ChannelMean().fit(wrap(np.ones((5, 12))))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        tree.Center().fit(wrap(np.ones(5)))
    with pytest.raises(ValueError, match="NaN or infinite"):
        tree.Standardize().fit(wrap(np.array([[1.0], [np.nan]])))
    with pytest.raises(ValueError, match="zero variance"):
        tree.Whiten(eps=0.0).fit(wrap(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])))
    with pytest.raises(ValueError, match="PCA needs X with some variance"):
        tree.PCA().fit(wrap(np.ones((5, 2))))


def test_wrong_kind_of_array_is_refused():
    with pytest.raises(TypeError, match="must be a NumPy array, got Tensor"):
        ref.Center().fit(torch.zeros(3, 2))
    with pytest.raises(TypeError, match="must be a torch tensor, got ndarray"):
        twin.Center().fit(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="must be a NumPy array, got list"):
        ref.Center().fit([[1.0], [2.0]])
    with pytest.raises(TypeError, match="real numbers, got dtype bool"):
        ref.Center().fit(np.zeros((3, 2), dtype=bool))
