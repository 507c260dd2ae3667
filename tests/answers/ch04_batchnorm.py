"""Answers to chapter 4's graded exercises (see tests/answers/__init__.py)."""

BN_FORWARD = """
def my_batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu, var = x.mean(axis=0), x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, gamma, np.sqrt(var + eps))
"""

TRAIN_MODE_SETUP = """
def my_train_mode_cost(seed, batch=8, epochs=2):
    raw = load_digits_split(seed=0)
    data = map_inputs(raw, Standardize().fit(raw["X_train"]).transform)
    net = FullyConnectedNet(
        [100, 100, 100], 64, 10, weight_scale=np.sqrt(2 / 64), seed=seed, normalization="batchnorm"
    )
    train(net, data, learning_rate=0.05, epochs=epochs, batch_size=50, seed=seed, progress=False)
    X, y = data["X_val"], data["y_val"]
    order = np.random.default_rng(seed).permutation(len(X))
"""


def train_mode_answer(body):
    """The scaffold of Exercise 4 with ``body`` (indented by 4) in place of the solution."""
    return TRAIN_MODE_SETUP + body


ANSWERS = {
    "my_batchnorm_forward": {
        "wrong": {
            "the unbiased variance": """
def my_batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu, var = x.mean(axis=0), x.var(axis=0, ddof=1)
    xhat = (x - mu) / np.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, gamma, np.sqrt(var + eps))


def my_batchnorm_backward(dout, cache):
    xhat, gamma, std = cache
    n = len(dout)
    dxhat = dout * gamma
    dx = (n * dxhat - dxhat.sum(0) - xhat * (dxhat * xhat).sum(0)) / (n * std)
    return dx, (dout * xhat).sum(0), dout.sum(0)
""",
            "the backward of a fixed mean and variance": BN_FORWARD
            + """
def my_batchnorm_backward(dout, cache):
    xhat, gamma, std = cache
    return dout * gamma / std, (dout * xhat).sum(0), dout.sum(0)
""",
            "the mean's path left out of dx": BN_FORWARD
            + """
def my_batchnorm_backward(dout, cache):
    xhat, gamma, std = cache
    n = len(dout)
    dxhat = dout * gamma
    dx = (n * dxhat - xhat * (dxhat * xhat).sum(0)) / (n * std)
    return dx, (dout * xhat).sum(0), dout.sum(0)
""",
            "statistics over features (axis 1)": """
def my_batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, gamma, np.sqrt(var + eps))


def my_batchnorm_backward(dout, cache):
    xhat, gamma, std = cache
    n = len(dout)
    dxhat = dout * gamma
    dx = (n * dxhat - dxhat.sum(0) - xhat * (dxhat * xhat).sum(0)) / (n * std)
    return dx, (dout * xhat).sum(0), dout.sum(0)
""",
            "the package's layer": """
from nntrain.reference import normalization as nz

def my_batchnorm_forward(x, gamma, beta, eps=1e-5):
    return nz.batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": eps})


def my_batchnorm_backward(dout, cache):
    return nz.batchnorm_backward(dout, cache)
""",
        },
        "right": {
            "the step-by-step graph": """
def my_batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc**2).mean(axis=0)
    inv = 1.0 / np.sqrt(var + eps)
    xhat = xc * inv
    return gamma * xhat + beta, (xc, inv, xhat, gamma)


def my_batchnorm_backward(dout, cache):
    xc, inv, xhat, gamma = cache
    n = dout.shape[0]
    dxhat = dout * gamma
    dinv = (dxhat * xc).sum(axis=0)
    dvar = dinv * -0.5 * inv**3
    dxc = dxhat * inv + dvar * 2 * xc / n
    dx = dxc - dxc.mean(axis=0)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
""",
            "the closed form with means": BN_FORWARD
            + """
def my_batchnorm_backward(dout, cache):
    xhat, gamma, std = cache
    g = dout * gamma
    dx = (g - g.mean(axis=0) - xhat * (g * xhat).mean(axis=0)) / std
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)
""",
        },
    },
    "my_running_update": {
        "wrong": {
            "the inputs overwritten in place": """
def my_running_update(running_mean, running_var, x, momentum=0.1):
    running_mean *= 1 - momentum
    running_mean += momentum * x.mean(axis=0)
    running_var *= 1 - momentum
    running_var += momentum * x.var(axis=0, ddof=1)
    return running_mean, running_var
""",
            "the biased batch variance": """
def my_running_update(running_mean, running_var, x, momentum=0.1):
    return (
        (1 - momentum) * running_mean + momentum * x.mean(axis=0),
        (1 - momentum) * running_var + momentum * x.var(axis=0),
    )
""",
            "momentum as the weight of the old value (cs231n's convention)": """
def my_running_update(running_mean, running_var, x, momentum=0.1):
    return (
        momentum * running_mean + (1 - momentum) * x.mean(axis=0),
        momentum * running_var + (1 - momentum) * x.var(axis=0, ddof=1),
    )
""",
            "momentum hard-coded to 0.1": """
def my_running_update(running_mean, running_var, x, momentum=0.1):
    return (
        0.9 * running_mean + 0.1 * x.mean(axis=0),
        0.9 * running_var + 0.1 * x.var(axis=0, ddof=1),
    )
""",
            "the package's batch norm layer, run for its side effect": """
from nntrain.reference import batchnorm_forward

def my_running_update(running_mean, running_var, x, momentum=0.1):
    p = {"mode": "train", "momentum": momentum, "running_mean": running_mean.copy(),
         "running_var": running_var.copy()}
    batchnorm_forward(x, np.ones(x.shape[1]), np.zeros(x.shape[1]), p)
    return p["running_mean"], p["running_var"]
""",
        },
        "right": {
            "a difference form": """
def my_running_update(running_mean, running_var, x, momentum=0.1):
    n = x.shape[0]
    batch_var = ((x - x.mean(0)) ** 2).sum(0) / (n - 1)
    new_mean = running_mean + momentum * (x.mean(0) - running_mean)
    new_var = running_var + momentum * (batch_var - running_var)
    return new_mean, new_var
""",
            "copies updated in place": """
def my_running_update(running_mean, running_var, x, momentum=0.1):
    new_mean, new_var = running_mean.copy(), running_var.copy()
    new_mean *= 1 - momentum
    new_mean += momentum * np.mean(x, axis=0)
    new_var *= 1 - momentum
    new_var += momentum * np.var(x, axis=0, ddof=1)
    return new_mean, new_var
""",
        },
    },
    "my_batchnorm_test": {
        "wrong": {
            "the batch's own statistics": """
def my_batchnorm_test(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + beta
""",
            "eps left out": """
def my_batchnorm_test(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (x - running_mean) / np.sqrt(running_var) + beta
""",
            "divided by the variance": """
def my_batchnorm_test(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (x - running_mean) / (running_var + eps) + beta
""",
            "gamma and beta left out": """
def my_batchnorm_test(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return (x - running_mean) / np.sqrt(running_var + eps)
""",
            "the input normalized in place": """
def my_batchnorm_test(x, gamma, beta, running_mean, running_var, eps=1e-5):
    x -= running_mean
    x /= np.sqrt(running_var + eps)
    return gamma * x + beta
""",
        },
        "right": {
            "scale and shift folded": """
def my_batchnorm_test(x, gamma, beta, running_mean, running_var, eps=1e-5):
    scale = gamma / np.sqrt(running_var + eps)
    return x * scale + (beta - running_mean * scale)
""",
            "a loop over examples": """
def my_batchnorm_test(x, gamma, beta, running_mean, running_var, eps=1e-5):
    std = np.sqrt(running_var + eps)
    return np.array([gamma * (row - running_mean) / std + beta for row in x])
""",
        },
    },
    "my_train_mode_cost": {
        "wrong": {
            "train mode first, its statistics kept for test mode": train_mode_answer("""
    accuracy = {}
    for mode in ("train", "test"):
        correct = 0
        for start in range(0, len(X), batch):
            idx = order[start : start + batch]
            correct += np.sum(net.forward(X[idx], mode=mode)[0].argmax(axis=1) == y[idx])
        accuracy[mode] = correct / len(X)
    return accuracy["test"] - accuracy["train"]
"""),
            "the test split": train_mode_answer("""
    X, y = data["X_test"], data["y_test"]
    order = np.random.default_rng(seed).permutation(len(X))
    saved = copy.deepcopy(net.bn_params)
    accuracy = {}
    for mode in ("test", "train"):
        net.bn_params = copy.deepcopy(saved)
        correct = 0
        for start in range(0, len(X), batch):
            idx = order[start : start + batch]
            correct += np.sum(net.forward(X[idx], mode=mode)[0].argmax(axis=1) == y[idx])
        accuracy[mode] = correct / len(X)
    return accuracy["test"] - accuracy["train"]
"""),
            "the digits in their stored order": train_mode_answer("""
    saved = copy.deepcopy(net.bn_params)
    accuracy = {}
    for mode in ("test", "train"):
        net.bn_params = copy.deepcopy(saved)
        correct = 0
        for start in range(0, len(X), batch):
            scores = net.forward(X[start : start + batch], mode=mode)[0]
            correct += np.sum(scores.argmax(axis=1) == y[start : start + batch])
        accuracy[mode] = correct / len(X)
    return accuracy["test"] - accuracy["train"]
"""),
            "a count of digits, not a fraction": train_mode_answer("""
    saved = copy.deepcopy(net.bn_params)
    correct = {}
    for mode in ("test", "train"):
        net.bn_params = copy.deepcopy(saved)
        correct[mode] = 0
        for start in range(0, len(X), batch):
            idx = order[start : start + batch]
            correct[mode] += np.sum(net.forward(X[idx], mode=mode)[0].argmax(axis=1) == y[idx])
    return float(correct["test"] - correct["train"])
"""),
            "train mode minus test mode": train_mode_answer("""
    saved = copy.deepcopy(net.bn_params)
    accuracy = {}
    for mode in ("test", "train"):
        net.bn_params = copy.deepcopy(saved)
        correct = 0
        for start in range(0, len(X), batch):
            idx = order[start : start + batch]
            correct += np.sum(net.forward(X[idx], mode=mode)[0].argmax(axis=1) == y[idx])
        accuracy[mode] = correct / len(X)
    return accuracy["train"] - accuracy["test"]
"""),
            "one batch of every digit": train_mode_answer("""
    saved = copy.deepcopy(net.bn_params)
    accuracy = {}
    for mode in ("test", "train"):
        net.bn_params = copy.deepcopy(saved)
        scores = net.forward(X[order], mode=mode)[0]
        accuracy[mode] = np.mean(scores.argmax(axis=1) == y[order])
    return accuracy["test"] - accuracy["train"]
"""),
        },
        "right": {
            "predictions gathered, as the chapter does": train_mode_answer("""
    def predict(mode):
        saved = copy.deepcopy(net.bn_params)
        pred = np.empty(len(X), dtype=int)
        for start in range(0, len(X), batch):
            idx = order[start : start + batch]
            pred[idx] = net.forward(X[idx], mode=mode)[0].argmax(axis=1)
        net.bn_params = saved
        return pred

    return np.mean(predict("test") == y) - np.mean(predict("train") == y)
"""),
            "a copy of the whole net per mode": train_mode_answer("""
    hits = {}
    for mode in ("train", "test"):
        model = copy.deepcopy(net)
        batches = np.split(order, range(batch, len(order), batch))
        hits[mode] = [model.forward(X[b], mode=mode)[0].argmax(1) == y[b] for b in batches]
    return float(np.concatenate(hits["test"]).mean() - np.concatenate(hits["train"]).mean())
"""),
        },
    },
}
