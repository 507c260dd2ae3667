"""Answers to chapter 5's graded exercises (see tests/answers/__init__.py)."""

DROPOUT_BACKWARD = """
def my_dropout_backward(dout, p, keep):
    return dout * keep / p
"""

ANSWERS = {
    "my_dropout_forward": {
        "wrong": {
            "the drop probability where the keep probability belongs": """
def my_dropout_forward(x, p, keep):
    return x * keep / (1 - p)


def my_dropout_backward(dout, p, keep):
    return dout * keep / (1 - p)
""",
            "not rescaled (the original dropout)": """
def my_dropout_forward(x, p, keep):
    return x * keep
"""
            + DROPOUT_BACKWARD,
            "scaled by p instead of 1/p": """
def my_dropout_forward(x, p, keep):
    return x * keep * p


def my_dropout_backward(dout, p, keep):
    return dout * keep * p
""",
            "a backward without the mask": """
def my_dropout_forward(x, p, keep):
    return x * keep / p


def my_dropout_backward(dout, p, keep):
    return dout / p
""",
            "the mask drawn again": """
def my_dropout_forward(x, p, keep):
    return x * (np.random.rand(*x.shape) < p) / p
"""
            + DROPOUT_BACKWARD,
        },
        "right": {
            "np.where": """
def my_dropout_forward(x, p, keep):
    return np.where(keep, x / p, 0.0)


def my_dropout_backward(dout, p, keep):
    return np.where(keep, dout / p, 0.0)
""",
            "a float mask built once": """
def scaled_mask(p, keep):
    return keep.astype(np.float64) / p


def my_dropout_forward(x, p, keep):
    return x * scaled_mask(p, keep)


def my_dropout_backward(dout, p, keep):
    return dout * scaled_mask(p, keep)
""",
        },
    },
    "my_soft_threshold": {
        "wrong": {
            "the package's soft_threshold, imported by the setup cell": """
def my_soft_threshold(w, t):
    return soft_threshold(w, t)
""",
            "a hard threshold": """
def my_soft_threshold(w, t):
    return np.where(np.abs(w) > t, w, 0.0)
""",
            "no sign: negative weights clipped to 0": """
def my_soft_threshold(w, t):
    return np.maximum(w - t, 0.0)
""",
            "shrunk without the clip at 0": """
def my_soft_threshold(w, t):
    return w - t * np.sign(w)
""",
            "shrunk in place": """
def my_soft_threshold(w, t):
    w[np.abs(w) <= t] = 0.0
    w -= t * np.sign(w)
    return w
""",
        },
        "right": {
            "two clips": """
def my_soft_threshold(w, t):
    return np.clip(w - t, 0, None) + np.clip(w + t, None, 0)
""",
            "a loop with a print": """
def my_soft_threshold(w, t):
    out = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        if w[i] > t:
            out[i] = w[i] - t
        elif w[i] < -t:
            out[i] = w[i] + t
    print("zeros:", int((out == 0).sum()))
    return out
""",
        },
    },
    "my_max_norm": {
        "wrong": {
            "long columns rescaled to norm 1, not c": """
def my_max_norm(W, c):
    norms = np.linalg.norm(W, axis=0)
    return np.where(norms > c, W / norms, W)
""",
            "rows instead of columns": """
def my_max_norm(W, c):
    norms = np.linalg.norm(W, axis=1, keepdims=True)
    return W * (c / np.maximum(norms, c))
""",
            "every column rescaled to norm c": """
def my_max_norm(W, c):
    return W * (c / np.linalg.norm(W, axis=0))
""",
            "entries clipped to [-c, c]": """
def my_max_norm(W, c):
    return np.clip(W, -c, c)
""",
            "the package's max_norm through a lambda": """
from nntrain.reference import penalties
my_max_norm = lambda W, c: penalties.max_norm(W, c) + 0.0
""",
        },
        "right": {
            "a loop over columns": """
def my_max_norm(W, c):
    out = W.copy()
    for j in range(W.shape[1]):
        norm = np.sqrt((W[:, j] ** 2).sum())
        if norm > c:
            out[:, j] = W[:, j] * c / norm
    return out
""",
            "np.minimum of the factor": """
def my_max_norm(W, c):
    norms = np.sqrt(np.einsum("ij,ij->j", W, W))
    return W * np.minimum(1.0, c / np.where(norms > 0, norms, 1.0))
""",
        },
    },
}
