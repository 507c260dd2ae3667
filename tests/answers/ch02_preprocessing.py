"""Answers to chapter 2's graded exercises (see tests/answers/__init__.py)."""

STD_TRANSFORM = """
def my_standardize_transform(X, stats):
    mean, scale = stats
    return (X - mean) / scale
"""
WHITEN_TRANSFORM = """
def my_whiten_transform(X, stats):
    mean, components, scale = stats
    return (X - mean) @ components / scale
"""
PCA_TRANSFORM = """
def my_pca_transform(X, stats):
    mean, components = stats
    return (X - mean) @ components
"""

LDA_KEEP = """
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis


def keep_100(seed):
    split = load_digits_split(seed=seed)
    rng = np.random.default_rng(seed)
    for part in ("train", "val"):
        keep = rng.choice(len(split[f"X_{part}"]), 100, replace=False)
        split[f"X_{part}"], split[f"y_{part}"] = split[f"X_{part}"][keep], split[f"y_{part}"][keep]
    return split


def lda_run(data, seed):
    net = FullyConnectedNet([100], 9, 10, weight_scale=np.sqrt(2 / 9), seed=seed)
    history = train(net, data, learning_rate=0.01, epochs=30, batch_size=25, seed=seed)
    return max(history.val_acc)
"""

ANSWERS = {
    "my_standardize_fit": {
        "wrong": {
            "statistics of the split being transformed": """
def my_standardize_fit(X_train, eps=1e-8):
    return None


def my_standardize_transform(X, stats):
    return (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + eps_default)

eps_default = 1e-8
""",
            "the unbiased variance": """
def my_standardize_fit(X_train, eps=1e-8):
    return X_train.mean(axis=0), np.sqrt(X_train.var(axis=0, ddof=1) + eps)
"""
            + STD_TRANSFORM,
            "the mean over features (axis 1)": """
def my_standardize_fit(X_train, eps=1e-8):
    return X_train.mean(axis=1).mean(), np.sqrt(X_train.var(axis=0) + eps)
"""
            + STD_TRANSFORM,
            "the training split centred in place": """
def my_standardize_fit(X_train, eps=1e-8):
    mean = X_train.mean(axis=0)
    X_train -= mean
    return mean, np.sqrt((X_train**2).mean(axis=0) + eps)
"""
            + STD_TRANSFORM,
            "the package's Standardize": """
from nntrain.reference.preprocessing import Standardize

def my_standardize_fit(X_train, eps=1e-8):
    return Standardize().fit(X_train)


def my_standardize_transform(X, stats):
    return stats.transform(X)
""",
        },
        "right": {
            "formulas written out": """
def my_standardize_fit(X_train, eps=1e-8):
    n = X_train.shape[0]
    mean = X_train.sum(axis=0) / n
    var = ((X_train - mean) ** 2).sum(axis=0) / n
    return {"mean": mean, "std": np.sqrt(var + eps)}


def my_standardize_transform(X, stats):
    return (X - stats["mean"]) / stats["std"]
""",
            "np.std and a print": """
def my_standardize_fit(X_train, eps=1e-8):
    mu, sd = np.mean(X_train, 0), np.std(X_train, 0)
    print("fitted on", len(X_train), "examples")
    return mu, np.sqrt(sd**2 + eps)
"""
            + STD_TRANSFORM,
        },
    },
    "my_whiten_fit": {
        "wrong": {
            "eigenvalues left in ascending order": """
def my_whiten_fit(X_train, eps=1e-5):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train - mean, rowvar=False))
    return mean, vectors, np.sqrt(values + eps)
"""
            + WHITEN_TRANSFORM,
            "divided by the eigenvalues, not their roots": """
def my_whiten_fit(X_train, eps=1e-5):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train - mean, rowvar=False))
    order = np.argsort(values)[::-1]
    return mean, vectors[:, order], values[order] + eps
"""
            + WHITEN_TRANSFORM,
            "eps left out": """
def my_whiten_fit(X_train, eps=1e-5):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train - mean, rowvar=False))
    order = np.argsort(values)[::-1]
    return mean, vectors[:, order], np.sqrt(values[order])
"""
            + WHITEN_TRANSFORM,
            "rotated by the transposed eigenvectors": """
def my_whiten_fit(X_train, eps=1e-5):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train - mean, rowvar=False))
    order = np.argsort(values)[::-1]
    return mean, vectors[:, order].T, np.sqrt(values[order] + eps)
"""
            + WHITEN_TRANSFORM,
            "the covariance with N in the denominator": """
def my_whiten_fit(X_train, eps=1e-5):
    mean = X_train.mean(axis=0)
    c = X_train - mean
    values, vectors = np.linalg.eigh(c.T @ c / len(c))
    order = np.argsort(values)[::-1]
    return mean, vectors[:, order], np.sqrt(values[order] + eps)
"""
            + WHITEN_TRANSFORM,
        },
        "right": {
            "np.cov and flipped columns": """
def my_whiten_fit(X_train, eps=1e-5):
    mean = X_train.mean(0)
    values, vectors = np.linalg.eigh(np.cov(X_train, rowvar=False))
    return mean, vectors[:, ::-1], np.sqrt(values[::-1] + eps)
"""
            + WHITEN_TRANSFORM,
            "through the SVD": """
def my_whiten_fit(X_train, eps=1e-5):
    mean = X_train.mean(axis=0)
    _, s, vt = np.linalg.svd(X_train - mean, full_matrices=False)
    return mean, vt.T, np.sqrt(s**2 / (len(X_train) - 1) + eps)


def my_whiten_transform(X, stats):
    mean, components, scale = stats
    return np.dot(X - mean, components) * (1.0 / scale)
""",
        },
    },
    "my_pca_fit": {
        "wrong": {
            "the k smallest components": """
def my_pca_fit(X_train, k):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train - mean, rowvar=False))
    return mean, vectors[:, :k]
"""
            + PCA_TRANSFORM,
            "not centred before projecting": """
def my_pca_fit(X_train, k):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train - mean, rowvar=False))
    return mean, vectors[:, ::-1][:, :k]


def my_pca_transform(X, stats):
    mean, components = stats
    return X @ components
""",
            "k hard-coded to 2": """
def my_pca_fit(X_train, k):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train - mean, rowvar=False))
    return mean, vectors[:, ::-1][:, :2]
"""
            + PCA_TRANSFORM,
            "centred with the split's own mean": """
def my_pca_fit(X_train, k):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train - mean, rowvar=False))
    return mean, vectors[:, ::-1][:, :k]


def my_pca_transform(X, stats):
    mean, components = stats
    return (X - X.mean(axis=0)) @ components
""",
            "the package's PCA": """
from nntrain.reference import preprocessing as pp

def my_pca_fit(X_train, k):
    return pp.PCA(k=k).fit(X_train)


def my_pca_transform(X, stats):
    return stats.transform(X)
""",
        },
        "right": {
            "argsort and a loop over components": """
def my_pca_fit(X_train, k):
    mean = X_train.mean(axis=0)
    centred = X_train - mean
    values, vectors = np.linalg.eigh(centred.T @ centred / (len(X_train) - 1))
    top = np.argsort(-values)[:k]
    return mean, np.stack([vectors[:, j] for j in top], axis=1)
"""
            + PCA_TRANSFORM,
            "through the SVD": """
def my_pca_fit(X_train, k):
    mean = X_train.mean(axis=0)
    _, _, vt = np.linalg.svd(X_train - mean, full_matrices=False)
    return {"mean": mean, "w": vt[:k].T}


def my_pca_transform(X, stats):
    return (X - stats["mean"]) @ stats["w"]
""",
        },
    },
    "my_lda_experiment": {
        "wrong": {
            "LDA fitted on the training and the validation digits (the leak)": LDA_KEEP
            + """
def my_lda_experiment(seed):
    data = keep_100(seed)
    X = np.concatenate([data["X_train"], data["X_val"]])
    y = np.concatenate([data["y_train"], data["y_val"]])
    lda = LinearDiscriminantAnalysis().fit(X, y)
    return lda_run(map_inputs(data, lda.transform), seed)
""",
            "scored on the test digits": LDA_KEEP
            + """
def my_lda_experiment(seed):
    data = keep_100(seed)
    data["X_val"], data["y_val"] = data["X_test"], data["y_test"]
    lda = LinearDiscriminantAnalysis().fit(data["X_train"], data["y_train"])
    return lda_run(map_inputs(data, lda.transform), seed)
""",
            "standardization instead of LDA": LDA_KEEP
            + """
def my_lda_experiment(seed):
    data = keep_100(seed)
    data = map_inputs(data, pp.Standardize().fit(data["X_train"]).transform)
    net = FullyConnectedNet([100], 64, 10, weight_scale=np.sqrt(2 / 64), seed=seed)
    history = train(net, data, learning_rate=0.01, epochs=30, batch_size=25, seed=seed)
    return max(history.val_acc)
""",
            "a count of digits, not a fraction": LDA_KEEP
            + """
def my_lda_experiment(seed):
    data = keep_100(seed)
    lda = LinearDiscriminantAnalysis().fit(data["X_train"], data["y_train"])
    return 100 * lda_run(map_inputs(data, lda.transform), seed)
""",
            "LDA fitted on all the training digits": LDA_KEEP
            + """
def my_lda_experiment(seed):
    data = keep_100(seed)
    full = load_digits_split(seed=seed)
    lda = LinearDiscriminantAnalysis().fit(full["X_train"], full["y_train"])
    return lda_run(map_inputs(data, lda.transform), seed)
""",
            "the net's seed left at 0": LDA_KEEP
            + """
def my_lda_experiment(seed):
    data = map_inputs(keep_100(seed), lambda X: X)
    lda = LinearDiscriminantAnalysis().fit(data["X_train"], data["y_train"])
    data = map_inputs(data, lda.transform)
    net = FullyConnectedNet([100], 9, 10, weight_scale=np.sqrt(2 / 9), seed=0)
    history = train(net, data, learning_rate=0.01, epochs=30, batch_size=25, seed=seed)
    return max(history.val_acc)
""",
        },
        "right": {
            "map_inputs and the best epoch's accuracy": """
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis


def my_lda_experiment(seed):
    split = load_digits_split(seed=seed)
    rng = np.random.default_rng(seed)
    kept = {}
    for part in ("train", "val"):
        idx = rng.choice(len(split["X_" + part]), 100, replace=False)
        kept["X_" + part], kept["y_" + part] = split["X_" + part][idx], split["y_" + part][idx]
    lda = LinearDiscriminantAnalysis()
    lda.fit(kept["X_train"], kept["y_train"])
    data = map_inputs(kept, lda.transform)
    net = FullyConnectedNet([100], 9, 10, weight_scale=np.sqrt(2 / 9), seed=seed)
    return max(train(net, data, learning_rate=0.01, epochs=30, batch_size=25, seed=seed).val_acc)
""",
            "arrays by hand, the kept best net scored with accuracy()": """
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis as LDA


def my_lda_experiment(seed):
    digits = load_digits_split(seed=seed)
    rng = np.random.default_rng(seed)
    tr = rng.choice(digits["X_train"].shape[0], 100, replace=False)
    va = rng.choice(digits["X_val"].shape[0], 100, replace=False)
    X_tr, y_tr = digits["X_train"][tr], digits["y_train"][tr]
    X_va, y_va = digits["X_val"][va], digits["y_val"][va]
    project = LDA().fit(X_tr, y_tr).transform
    data = dict(X_train=project(X_tr), y_train=y_tr, X_val=project(X_va), y_val=y_va)
    net = FullyConnectedNet([100], 9, 10, weight_scale=(2 / 9) ** 0.5, seed=seed)
    train(net, data, learning_rate=0.01, epochs=30, batch_size=25, seed=seed, keep_best=True)
    print("validation accuracy of the best epoch's net")
    return accuracy(net, data["X_val"], data["y_val"])
""",
        },
    },
}
