"""Answers to chapter 1's graded exercises (see tests/answers/__init__.py)."""

LEAKY_BACKWARD = """
def my_leaky_relu_backward(dout, cache):
    x, negative_slope = cache
    return dout * np.where(x > 0, 1.0, negative_slope)
"""
ELU_BACKWARD = """
def my_elu_backward(dout, cache):
    x, out, alpha = cache
    return dout * np.where(x > 0, 1.0, out + alpha)
"""

ANSWERS = {
    "my_leaky_relu_forward": {
        "wrong": {
            "the slope hard-coded to 0.01": """
def my_leaky_relu_forward(x, negative_slope=0.01):
    return np.where(x > 0, x, 0.01 * x), (x, negative_slope)
"""
            + LEAKY_BACKWARD,
            "the backward of a plain ReLU": """
def my_leaky_relu_forward(x, negative_slope=0.01):
    return np.where(x > 0, x, negative_slope * x), (x, negative_slope)


def my_leaky_relu_backward(dout, cache):
    x, negative_slope = cache
    return dout * (x > 0)
""",
            "min instead of max": """
def my_leaky_relu_forward(x, negative_slope=0.01):
    return np.minimum(negative_slope * x, x), (x, negative_slope)
"""
            + LEAKY_BACKWARD,
            "the input changed in place": """
def my_leaky_relu_forward(x, negative_slope=0.01):
    mask = x > 0
    x[~mask] *= negative_slope
    return x, (mask, negative_slope)


def my_leaky_relu_backward(dout, cache):
    mask, negative_slope = cache
    return dout * np.where(mask, 1.0, negative_slope)
""",
            "the package's activation through a lambda": """
from nntrain.reference import activations as act
my_leaky_relu_forward = lambda x, negative_slope=0.01: act.leaky_relu_forward(x, negative_slope)
my_leaky_relu_backward = lambda dout, cache: act.leaky_relu_backward(dout, cache)
""",
        },
        "right": {
            "max form, as in the text": """
def my_leaky_relu_forward(x, negative_slope=0.01):
    return np.maximum(negative_slope * x, x), (x.copy(), negative_slope)


def my_leaky_relu_backward(dout, cache):
    x, s = cache
    grad = np.ones_like(x)
    grad[x <= 0] = s
    return grad * dout
""",
            "a loop over entries": """
def my_leaky_relu_forward(x, negative_slope=0.01):
    out = np.empty_like(x)
    for i in np.ndindex(x.shape):
        out[i] = x[i] if x[i] > 0 else negative_slope * x[i]
    return out, (x, negative_slope)


def my_leaky_relu_backward(dout, cache):
    x, s = cache
    dx = np.empty_like(dout)
    for i in np.ndindex(x.shape):
        dx[i] = dout[i] * (1.0 if x[i] > 0 else s)
    return dx
""",
        },
    },
    "my_elu_forward": {
        "wrong": {
            "exp of every entry (overflows)": """
def my_elu_forward(x, alpha=1.0):
    out = np.where(x > 0, x, alpha * (np.exp(x) - 1))
    return out, (x, out, alpha)
"""
            + ELU_BACKWARD,
            "alpha ignored": """
def my_elu_forward(x, alpha=1.0):
    out = np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
    return out, (x, out, alpha)
"""
            + ELU_BACKWARD,
            "a derivative of out instead of out + alpha": """
def my_elu_forward(x, alpha=1.0):
    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    return out, (x, out, alpha)


def my_elu_backward(dout, cache):
    x, out, alpha = cache
    return dout * np.where(x > 0, 1.0, out)
""",
            "a backward that evaluates exp(x) everywhere": """
def my_elu_forward(x, alpha=1.0):
    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    return out, (x, out, alpha)


def my_elu_backward(dout, cache):
    x, out, alpha = cache
    return dout * np.where(x > 0, 1.0, alpha * np.exp(x))
""",
            "the package's ELU under another name": """
import nntrain.reference as R
my_elu_forward = R.activations.elu_forward
my_elu_backward = R.activations.elu_backward
""",
        },
        "right": {
            "masks instead of where": """
def my_elu_forward(x, alpha=1.0):
    out = x.astype(float).copy()
    negative = x <= 0
    out[negative] = alpha * np.expm1(x[negative])
    return out, (x, alpha)


def my_elu_backward(dout, cache):
    x, alpha = cache
    slope = np.ones_like(x, dtype=float)
    negative = x <= 0
    slope[negative] = alpha * np.exp(x[negative])
    return dout * slope
""",
            "clipping before exp": """
def my_elu_forward(x, alpha=1.0):
    safe = np.clip(x, None, 0.0)
    return np.where(x > 0, x, alpha * (np.exp(safe) - 1.0)), (x, alpha)


def my_elu_backward(dout, cache):
    x, alpha = cache
    return dout * np.where(x > 0, 1.0, alpha * np.exp(np.clip(x, None, 0.0)))
""",
        },
    },
    "my_dead_fractions": {
        "wrong": {
            "dead on some example rather than on all": """
def my_dead_fractions(net, X):
    fractions, h = [], X.reshape(len(X), -1)
    for layer in range(1, net.num_layers):
        z = h @ net.params[f"W{layer}"] + net.params[f"b{layer}"]
        fractions.append(float(np.any(z <= 0, axis=0).mean()))
        h = np.maximum(z, 0)
    return fractions
""",
            "the bias forgotten": """
def my_dead_fractions(net, X):
    fractions, h = [], X.reshape(len(X), -1)
    for layer in range(1, net.num_layers):
        z = h @ net.params[f"W{layer}"]
        fractions.append(float(np.all(z <= 0, axis=0).mean()))
        h = np.maximum(z, 0)
    return fractions
""",
            "the pre-activations passed on without the ReLU": """
def my_dead_fractions(net, X):
    fractions, h = [], X.reshape(len(X), -1)
    for layer in range(1, net.num_layers):
        h = h @ net.params[f"W{layer}"] + net.params[f"b{layer}"]
        fractions.append(float(np.all(h <= 0, axis=0).mean()))
    return fractions
""",
            "the fraction over examples, not units": """
def my_dead_fractions(net, X):
    fractions, h = [], X.reshape(len(X), -1)
    for layer in range(1, net.num_layers):
        z = h @ net.params[f"W{layer}"] + net.params[f"b{layer}"]
        fractions.append(float(np.all(z <= 0, axis=1).mean()))
        h = np.maximum(z, 0)
    return fractions
""",
            "the package's diagnostics": """
from nntrain.diagnostics import record, summarize

def my_dead_fractions(net, X):
    return [s.dead for s in summarize(record(net, X))]
""",
        },
        "right": {
            "counting dead units": """
def my_dead_fractions(net, X):
    out, h = [], np.reshape(X, (X.shape[0], -1))
    for i in range(1, net.num_layers):
        z = h.dot(net.params["W%d" % i]) + net.params["b%d" % i]
        alive = (z > 0).any(axis=0)
        out.append((~alive).sum() / z.shape[1])
        h = z * (z > 0)
    return out
""",
            "a loop over units": """
def my_dead_fractions(net, X):
    fractions = []
    h = X.reshape(len(X), -1)
    for layer in range(1, net.num_layers):
        z = h @ net.params[f"W{layer}"] + net.params[f"b{layer}"]
        dead = sum(1 for j in range(z.shape[1]) if z[:, j].max() <= 0)
        fractions.append(dead / z.shape[1])
        h = np.maximum(0, z)
    return fractions
""",
        },
    },
    "my_dead_share": {
        "wrong": {
            "the validation set instead of the training set": """
def my_dead_share(seed, learning_rate):
    data = load_digits_split(seed=0)
    data = {k: v / 16 if k.startswith("X") else v for k, v in data.items()}
    net = nntrain.FullyConnectedNet(
        [50, 50], input_dim=64, num_classes=10, weight_scale=np.sqrt(2 / 64), seed=seed
    )
    train(net, data, learning_rate=learning_rate, epochs=3, batch_size=50, seed=seed,
          keep_best=False, progress=False)
    stats = diagnostics.summarize(diagnostics.record(net, data["X_val"]))
    return float(np.mean([s.dead for s in stats]))
""",
            "a count of dead units instead of a fraction": """
def my_dead_share(seed, learning_rate):
    data = load_digits_split(seed=0)
    data = {k: v / 16 if k.startswith("X") else v for k, v in data.items()}
    net = nntrain.FullyConnectedNet(
        [50, 50], input_dim=64, num_classes=10, weight_scale=np.sqrt(2 / 64), seed=seed
    )
    train(net, data, learning_rate=learning_rate, epochs=3, batch_size=50, seed=seed,
          keep_best=False, progress=False)
    stats = diagnostics.summarize(diagnostics.record(net, data["X_train"]))
    return float(sum(50 * s.dead for s in stats))
""",
            "the best epoch kept (train's default)": """
def my_dead_share(seed, learning_rate):
    data = load_digits_split(seed=0)
    data = {k: v / 16 if k.startswith("X") else v for k, v in data.items()}
    net = nntrain.FullyConnectedNet(
        [50, 50], input_dim=64, num_classes=10, weight_scale=np.sqrt(2 / 64), seed=seed
    )
    train(net, data, learning_rate=learning_rate, epochs=3, batch_size=50, seed=seed,
          progress=False)
    stats = diagnostics.summarize(diagnostics.record(net, data["X_train"]))
    return float(np.mean([s.dead for s in stats]))
""",
            "the training order not seeded": """
def my_dead_share(seed, learning_rate):
    data = load_digits_split(seed=0)
    data = {k: v / 16 if k.startswith("X") else v for k, v in data.items()}
    net = nntrain.FullyConnectedNet(
        [50, 50], input_dim=64, num_classes=10, weight_scale=np.sqrt(2 / 64), seed=seed
    )
    train(net, data, learning_rate=learning_rate, epochs=3, batch_size=50,
          keep_best=False, progress=False)
    stats = diagnostics.summarize(diagnostics.record(net, data["X_train"]))
    return float(np.mean([s.dead for s in stats]))
""",
            "measured before training": """
def my_dead_share(seed, learning_rate):
    data = load_digits_split(seed=0)
    data = {k: v / 16 if k.startswith("X") else v for k, v in data.items()}
    net = nntrain.FullyConnectedNet(
        [50, 50], input_dim=64, num_classes=10, weight_scale=np.sqrt(2 / 64), seed=seed
    )
    stats = diagnostics.summarize(diagnostics.record(net, data["X_train"]))
    return float(np.mean([s.dead for s in stats]))
""",
            "inactive on some example instead of on every one": """
def my_dead_share(seed, learning_rate):
    data = load_digits_split(seed=0)
    data = {k: v / 16 if k.startswith("X") else v for k, v in data.items()}
    net = nntrain.FullyConnectedNet(
        [50, 50], input_dim=64, num_classes=10, weight_scale=np.sqrt(2 / 64), seed=seed
    )
    train(net, data, learning_rate=learning_rate, epochs=3, batch_size=50, seed=seed,
          keep_best=False, progress=False)
    h, dead = data["X_train"], []
    for layer in (1, 2):
        z = h @ net.params[f"W{layer}"] + net.params[f"b{layer}"]
        dead.extend(np.any(z <= 0, axis=0))
        h = np.maximum(z, 0)
    return float(np.mean(dead))
""",
            "the first hidden layer only": """
def my_dead_share(seed, learning_rate):
    data = load_digits_split(seed=0)
    data = {k: v / 16 if k.startswith("X") else v for k, v in data.items()}
    net = nntrain.FullyConnectedNet(
        [50, 50], input_dim=64, num_classes=10, weight_scale=np.sqrt(2 / 64), seed=seed
    )
    train(net, data, learning_rate=learning_rate, epochs=3, batch_size=50, seed=seed,
          keep_best=False, progress=False)
    stats = diagnostics.summarize(diagnostics.record(net, data["X_train"]))
    return float(stats[0].dead)
""",
            "the package's measurement": """
from nntrain import measurements

def my_dead_share(seed, learning_rate):
    return measurements.dead_relu_share(seed, learning_rate)
""",
        },
        "right": {
            "the package's training loop and diagnostics": """
def my_dead_share(seed, learning_rate):
    data = load_digits_split(seed=0)
    data = {k: v / 16 if k.startswith("X") else v for k, v in data.items()}
    net = nntrain.FullyConnectedNet(
        [50, 50], input_dim=64, num_classes=10, weight_scale=np.sqrt(2 / 64), seed=seed
    )
    train(net, data, learning_rate=learning_rate, epochs=3, batch_size=50, seed=seed,
          keep_best=False, progress=False)
    stats = diagnostics.summarize(diagnostics.record(net, data["X_train"]))
    return float(np.mean([s.dead for s in stats]))
""",
            "dead units counted by hand, no accuracy pass": """
def my_dead_share(seed, learning_rate):
    data = load_digits_split(seed=0)
    data = {k: v / 16 if k.startswith("X") else v for k, v in data.items()}
    net = nntrain.FullyConnectedNet(
        [50, 50], input_dim=64, num_classes=10, weight_scale=np.sqrt(2 / 64), seed=seed
    )
    train(
        net,
        data,
        learning_rate=learning_rate,
        epochs=3,
        batch_size=50,
        seed=seed,
        keep_best=False,
        progress=False,
        train_accuracy=False,
    )
    h, dead = data["X_train"], 0
    for layer in range(1, net.num_layers):
        z = h @ net.params[f"W{layer}"] + net.params[f"b{layer}"]
        dead += int((z.max(axis=0) <= 0).sum())
        h = np.maximum(z, 0)
    return dead / 100
""",
        },
    },
}
