"""Answers to chapter 0's graded exercises (see tests/answers/__init__.py)."""

AFFINE_BACKWARD = """
def my_affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
"""
AFFINE_FORWARD = """
def my_affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)
"""

MOONS = """
from sklearn.datasets import make_moons


def moons_run(seed, hidden_units, reg=0.0, order_seed=None):
    X, y = make_moons(600, noise=0.3, random_state=0)
    moons = dict(X_train=X[:100], y_train=y[:100], X_val=X[100:], y_val=y[100:])
    net = nntrain.FullyConnectedNet(
        [hidden_units, hidden_units], input_dim=2, num_classes=2, weight_scale=0.5, reg=reg,
        seed=seed,
    )
    order = seed if order_seed is None else order_seed
    return train(net, moons, learning_rate=0.03, epochs=60, batch_size=10, keep_best=False,
                 seed=order)
"""

ANSWERS = {
    "my_affine_forward": {
        "wrong": {
            "no bias in the forward pass": """
def my_affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w, (x, w, b)
"""
            + AFFINE_BACKWARD,
            "db averaged instead of summed": AFFINE_FORWARD
            + """
def my_affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.mean(axis=0)
""",
            "dx left flat": AFFINE_FORWARD
            + """
def my_affine_backward(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)
""",
            "dw transposed": AFFINE_FORWARD
            + """
def my_affine_backward(dout, cache):
    x, w, b = cache
    dw = (x.reshape(x.shape[0], -1).T @ dout).T.reshape(w.shape)
    return (dout @ w.T).reshape(x.shape), dw, dout.sum(axis=0)
""",
            "the package's own layer under another name": """
import nntrain.reference as ref
my_affine_forward = lambda x, w, b: ref.affine_forward(x, w, b)
my_affine_backward = lambda dout, cache: ref.affine_backward(dout, cache)
""",
        },
        "right": {
            "loops over examples": """
def my_affine_forward(x, w, b):
    flat = x.reshape(len(x), -1)
    out = np.stack([row @ w + b for row in flat])
    return out, (x, w, b)


def my_affine_backward(dout, cache):
    x, w, b = cache
    flat = x.reshape(len(x), -1)
    dw = sum(np.outer(flat[i], dout[i]) for i in range(len(x)))
    return np.reshape(dout @ w.T, x.shape), dw, np.sum(dout, axis=0)
""",
            "einsum, with a print": """
def my_affine_forward(x, w, b):
    flat = x.reshape(x.shape[0], np.prod(x.shape[1:]))
    print("forward", flat.shape)
    return np.einsum("nd,dm->nm", flat, w) + b[None, :], (x, w, b)


def my_affine_backward(dout, cache):
    x, w, b = cache
    flat = x.reshape(x.shape[0], -1)
    dx = np.einsum("nm,dm->nd", dout, w).reshape(x.shape)
    return dx, np.einsum("nd,nm->dm", flat, dout), dout.sum(0)
""",
        },
    },
    "my_svm_loss": {
        "wrong": {
            "not averaged over the batch": """
def my_svm_loss(scores, y, delta=1.0):
    n = len(y)
    margins = np.maximum(0, scores - scores[np.arange(n), y][:, None] + delta)
    margins[np.arange(n), y] = 0
    d = (margins > 0).astype(float)
    d[np.arange(n), y] = -d.sum(axis=1)
    return margins.sum(), d
""",
            "the correct class's margin counted": """
def my_svm_loss(scores, y, delta=1.0):
    n = len(y)
    margins = np.maximum(0, scores - scores[np.arange(n), y][:, None] + delta)
    d = (margins > 0).astype(float)
    d[np.arange(n), y] -= d.sum(axis=1)
    return margins.sum() / n, d / n
""",
            "gradient of the correct class left at 0": """
def my_svm_loss(scores, y, delta=1.0):
    n = len(y)
    margins = np.maximum(0, scores - scores[np.arange(n), y][:, None] + delta)
    margins[np.arange(n), y] = 0
    return margins.sum() / n, (margins > 0).astype(float) / n
""",
            "margin without delta": """
def my_svm_loss(scores, y, delta=1.0):
    n = len(y)
    margins = np.maximum(0, scores - scores[np.arange(n), y][:, None])
    d = (margins > 0).astype(float)
    d[np.arange(n), y] = -d.sum(axis=1)
    return margins.sum() / n, d / n
""",
            "the package's loss through a wrapper": """
from nntrain.reference import losses

def my_svm_loss(scores, y, delta=1.0):
    value, grad = losses.svm_loss(scores, y, delta)
    return float(value), grad
""",
        },
        "right": {
            "a loop over examples": """
def my_svm_loss(scores, y, delta=1.0):
    n, c = scores.shape
    loss, d = 0.0, np.zeros_like(scores)
    for i in range(n):
        for j in range(c):
            if j == y[i]:
                continue
            margin = scores[i, j] - scores[i, y[i]] + delta
            if margin > 0:
                loss += margin
                d[i, j] += 1
                d[i, y[i]] -= 1
    return loss / n, d / n
""",
            "a mask and a warning": """
import warnings

def my_svm_loss(scores, y, delta=1.0):
    warnings.warn("vectorized")
    n = scores.shape[0]
    correct = np.take_along_axis(scores, y[:, None], axis=1)
    mask = np.ones_like(scores, dtype=bool)
    mask[np.arange(n), y] = False
    margins = np.where(mask, np.clip(scores - correct + delta, 0, None), 0.0)
    active = (margins > 0) * 1.0
    active[np.arange(n), y] = -active.sum(axis=1)
    return np.mean(margins.sum(axis=1)), active / n
""",
        },
    },
    "n_parameters": {
        "wrong": {
            "weights only": """
def n_parameters(sizes):
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
""",
            "a bias for the input layer too": """
def n_parameters(sizes):
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) + sum(sizes)
""",
            "hard-coded for the public case": """
def n_parameters(sizes):
    return 3_578_510
""",
            "one layer off": """
def n_parameters(sizes):
    return sum(a * b + b for a, b in zip(sizes[:-2], sizes[1:-1]))
""",
        },
        "right": {
            "a loop": """
def n_parameters(sizes):
    total = 0
    for i in range(1, len(sizes)):
        total += sizes[i - 1] * sizes[i]
        total += sizes[i]
    return total
""",
            "numpy": """
def n_parameters(sizes):
    s = np.asarray(sizes)
    return int(np.dot(s[:-1] + 1, s[1:]))
""",
        },
    },
    "my_gap_experiment": {
        "wrong": {
            "validation minus training": MOONS
            + """
def my_gap_experiment(seed, hidden_units):
    history = moons_run(seed, hidden_units)
    return history.val_acc[-1] - history.train_acc[-1]
""",
            "the best epoch instead of the last": MOONS
            + """
def my_gap_experiment(seed, hidden_units):
    history = moons_run(seed, hidden_units)
    best = history.best_epoch - 1
    return history.train_acc[best] - history.val_acc[best]
""",
            "in percentage points": MOONS
            + """
def my_gap_experiment(seed, hidden_units):
    history = moons_run(seed, hidden_units)
    return 100 * (history.train_acc[-1] - history.val_acc[-1])
""",
            "with the L2 penalty of the slider's middle setting (0.01)": MOONS
            + """
def my_gap_experiment(seed, hidden_units):
    history = moons_run(seed, hidden_units, reg=0.01)
    return history.train_acc[-1] - history.val_acc[-1]
""",
            "the minibatch order not seeded": MOONS
            + """
def my_gap_experiment(seed, hidden_units):
    history = moons_run(seed, hidden_units, order_seed=0)
    return history.train_acc[-1] - history.val_acc[-1]
""",
            "the validation accuracy alone": MOONS
            + """
def my_gap_experiment(seed, hidden_units):
    return moons_run(seed, hidden_units).val_acc[-1]
""",
        },
        "right": {
            "the history's last epoch": """
from sklearn.datasets import make_moons


def my_gap_experiment(seed, hidden_units):
    X, y = make_moons(600, noise=0.3, random_state=0)
    data = {"X_train": X[:100], "y_train": y[:100], "X_val": X[100:], "y_val": y[100:]}
    net = nntrain.FullyConnectedNet(
        [hidden_units] * 2, input_dim=2, num_classes=2, weight_scale=0.5, seed=seed
    )
    h = train(net, data, learning_rate=0.03, epochs=60, batch_size=10, keep_best=False, seed=seed)
    return h.train_acc[-1] - h.val_acc[-1]
""",
            "accuracies counted by hand after training": """
import sklearn.datasets


def my_gap_experiment(seed, hidden_units):
    X, y = sklearn.datasets.make_moons(n_samples=600, noise=0.3, random_state=0)
    moons = dict(X_train=X[:100], y_train=y[:100], X_val=X[100:], y_val=y[100:])
    net = nntrain.FullyConnectedNet(
        [hidden_units, hidden_units], input_dim=2, num_classes=2, weight_scale=0.5, seed=seed
    )
    train(net, moons, learning_rate=0.03, epochs=60, batch_size=10, keep_best=False, seed=seed)
    parts = (slice(100), slice(100, None))
    correct = [(net.loss(X[s]).argmax(axis=1) == y[s]).mean() for s in parts]
    print(f"training {correct[0]:.3f}, validation {correct[1]:.3f}")
    return float(correct[0] - correct[1])
""",
        },
    },
}
