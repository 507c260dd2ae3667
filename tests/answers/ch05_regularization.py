"""Answers to chapter 5's graded exercises (see tests/answers/__init__.py)."""

DROPOUT_BACKWARD = """
def my_dropout_backward(dout, p, keep):
    return dout * keep / p
"""

ELASTIC_SETUP = """
def my_elastic_net_sparsity(seed, reg=2e-2, l1_share=0.5, epochs=5):
    raw = load_digits_split(seed=0)
    data = map_inputs(raw, Standardize().fit(raw["X_train"]).transform)
    X, y, n = data["X_train"], data["y_train"], len(data["X_train"])
    net = FullyConnectedNet([100], 64, 10, weight_scale=np.sqrt(2 / 64), seed=seed)
    rng, lr = np.random.default_rng(seed), 0.05
"""

ELASTIC_LOOP = """
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, 50):
            idx = order[start : start + 50]
            _, grads = net.loss(X[idx], y[idx])
            for k, w in net.params.items():
                if k.startswith("W"):
                    w = w - lr * (grads[k] + {l2} * w)
                    net.params[k] = np.sign(w) * np.maximum(np.abs(w) - {threshold}, 0.0)
                else:
                    net.params[k] = w - lr * grads[k]
"""

ELASTIC_RETURN = """
    return float(np.mean(net.params["W1"] == 0))
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
    "my_elastic_net_sparsity": {
        "wrong": {
            "the penalty by its (sub)gradient, the net's own elastic net": ELASTIC_SETUP
            + """
    net = FullyConnectedNet(
        [100], 64, 10, weight_scale=np.sqrt(2 / 64), seed=seed, reg=reg,
        reg_type="elastic_net", l1_ratio=l1_share,
    )
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, 50):
            idx = order[start : start + 50]
            _, grads = net.loss(X[idx], y[idx])
            for k in net.params:
                net.params[k] = net.params[k] - lr * grads[k]
    return float(np.mean(net.params["W1"] == 0))
""",
            "the threshold without the learning rate": ELASTIC_SETUP
            + ELASTIC_LOOP.format(threshold="reg * l1_share", l2="reg * (1 - l1_share)")
            + ELASTIC_RETURN,
            "the whole strength as the threshold, not its L1 share": ELASTIC_SETUP
            + ELASTIC_LOOP.format(threshold="lr * reg", l2="reg * (1 - l1_share)")
            + ELASTIC_RETURN,
            "the L2 part left out": ELASTIC_SETUP
            + ELASTIC_LOOP.format(threshold="lr * reg * l1_share", l2="0.0")
            + ELASTIC_RETURN,
            "a count of zeros, not a share": ELASTIC_SETUP
            + ELASTIC_LOOP.format(threshold="lr * reg * l1_share", l2="reg * (1 - l1_share)")
            + """
    return int((net.params["W1"] == 0).sum())
""",
            "the share over both weight matrices": ELASTIC_SETUP
            + ELASTIC_LOOP.format(threshold="lr * reg * l1_share", l2="reg * (1 - l1_share)")
            + """
    weights = np.concatenate([net.params["W1"].ravel(), net.params["W2"].ravel()])
    return float(np.mean(weights == 0))
""",
            "the shuffle seeded with 0 whatever the seed": ELASTIC_SETUP
            + "    rng = np.random.default_rng(0)\n"
            + ELASTIC_LOOP.format(threshold="lr * reg * l1_share", l2="reg * (1 - l1_share)")
            + ELASTIC_RETURN,
        },
        "right": {
            "the net's own L2 part and the package's soft_threshold": ELASTIC_SETUP
            + """
    net = FullyConnectedNet(
        [100], 64, 10, weight_scale=np.sqrt(2 / 64), seed=seed, reg=reg * (1 - l1_share)
    )
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, 50):
            idx = order[start : start + 50]
            _, grads = net.loss(X[idx], y[idx])
            for k in net.params:
                net.params[k] = net.params[k] - lr * grads[k]
                if k.startswith("W"):
                    net.params[k] = soft_threshold(net.params[k], lr * reg * l1_share)
    return float(np.mean(net.params["W1"] == 0))
""",
            "batches listed first, two clips, a helper": """
def prox(w, t):
    return np.clip(w - t, 0, None) + np.clip(w + t, None, 0)


def my_elastic_net_sparsity(seed, reg=2e-2, l1_share=0.5, epochs=5):
    raw = load_digits_split(seed=0)
    scaler = Standardize().fit(raw["X_train"])
    X, y = scaler.transform(raw["X_train"]), raw["y_train"]
    net = FullyConnectedNet([100], 64, 10, weight_scale=np.sqrt(2 / 64), seed=seed)
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(len(y))
        batches = [order[i : i + 50] for i in range(0, len(y), 50)]
        for idx in batches:
            grads = net.loss(X[idx], y[idx])[1]
            for name in ("W1", "b1", "W2", "b2"):
                p = net.params[name]
                if name[0] == "W":
                    p = prox(p - 0.05 * grads[name] - 0.05 * reg * (1 - l1_share) * p,
                             0.05 * reg * l1_share)
                else:
                    p = p - 0.05 * grads[name]
                net.params[name] = p
    zeros = np.count_nonzero(net.params["W1"] == 0)
    return zeros / net.params["W1"].size
""",
        },
    },
}
