"""Answers to chapter 3's graded exercises (see tests/answers/__init__.py)."""

ANSWERS = {
    "my_xavier_normal": {
        "wrong": {
            "the kernel's area left out of the fans": """
def my_xavier_normal(shape, rng):
    fan_out, fan_in = shape[0], shape[1]
    if len(shape) == 2:
        fan_in, fan_out = shape
    return np.sqrt(2.0 / (fan_in + fan_out)) * rng.standard_normal(shape)
""",
            "variance 1 / fan_in": """
def my_xavier_normal(shape, rng):
    fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
    return np.sqrt(1.0 / fan_in) * rng.standard_normal(shape)
""",
            "a uniform draw with the right variance": """
def my_xavier_normal(shape, rng):
    receptive = int(np.prod(shape[2:]))
    fan_in, fan_out = (shape[1] * receptive, shape[0] * receptive) if len(shape) > 2 else shape
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape)
""",
            "a global random state instead of rng": """
def my_xavier_normal(shape, rng):
    receptive = int(np.prod(shape[2:]))
    fan_in, fan_out = (shape[1] * receptive, shape[0] * receptive) if len(shape) > 2 else shape
    return np.sqrt(2.0 / (fan_in + fan_out)) * np.random.standard_normal(shape)
""",
            "the package's scheme": """
from nntrain.reference import init

def my_xavier_normal(shape, rng):
    return init.xavier_normal(shape, rng=rng)
""",
        },
        "right": {
            "rng.normal with scale": """
def my_xavier_normal(shape, rng):
    if len(shape) == 2:
        n_in, n_out = shape
    else:
        area = np.prod(shape[2:])
        n_in, n_out = shape[1] * area, shape[0] * area
    return rng.normal(0.0, (2.0 / (n_in + n_out)) ** 0.5, size=shape)
""",
            "fans from a helper": """
def fans(shape):
    area = 1
    for s in shape[2:]:
        area *= s
    return (shape[1] * area, shape[0] * area) if len(shape) > 2 else (shape[0], shape[1])


def my_xavier_normal(shape, rng):
    fan_in, fan_out = fans(shape)
    return rng.standard_normal(shape) * np.sqrt(2 / (fan_in + fan_out))
""",
        },
    },
    "my_he_normal": {
        "wrong": {
            "variance 1 / fan_in": """
def my_he_normal(shape, rng):
    fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
    return np.sqrt(1.0 / fan_in) * rng.standard_normal(shape)
""",
            "fan_out instead of fan_in": """
def my_he_normal(shape, rng):
    fan_out = shape[1] if len(shape) == 2 else shape[0] * int(np.prod(shape[2:]))
    return np.sqrt(2.0 / fan_out) * rng.standard_normal(shape)
""",
            "the convolution's fan-in without the kernel": """
def my_he_normal(shape, rng):
    fan_in = shape[0] if len(shape) == 2 else shape[1]
    return np.sqrt(2.0 / fan_in) * rng.standard_normal(shape)
""",
            "the variance used as a standard deviation": """
def my_he_normal(shape, rng):
    fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
    return (2.0 / fan_in) * rng.standard_normal(shape)
""",
            "the package's scheme through a partial": """
import functools
from nntrain.reference import init

def my_he_normal(shape, rng):
    return functools.partial(init.kaiming_normal, rng=rng)(shape)
""",
        },
        "right": {
            "rng.normal": """
def my_he_normal(shape, rng):
    fan_in = int(np.prod(shape[1:])) if len(shape) > 2 else shape[0]
    return rng.normal(scale=np.sqrt(2 / fan_in), size=shape)
""",
            "gain times 1 / sqrt(fan_in)": """
import math

def my_he_normal(shape, rng):
    gain = math.sqrt(2.0)
    fan_in = shape[0] if len(shape) == 2 else math.prod(shape[1:])
    return gain / math.sqrt(fan_in) * rng.standard_normal(shape)
""",
        },
    },
    "my_layer_stds": {
        "wrong": {
            "the bias forgotten": """
def my_layer_stds(net, X):
    stds, h = [], X.reshape(len(X), -1)
    for layer in range(1, net.num_layers):
        z = h @ net.params[f"W{layer}"]
        h = np.tanh(z) if net.activation == "tanh" else np.maximum(z, 0)
        stds.append(float(h.std()))
    return stds
""",
            "the std of the pre-activations": """
def my_layer_stds(net, X):
    stds, h = [], X.reshape(len(X), -1)
    for layer in range(1, net.num_layers):
        z = h @ net.params[f"W{layer}"] + net.params[f"b{layer}"]
        stds.append(float(z.std()))
        h = np.tanh(z) if net.activation == "tanh" else np.maximum(z, 0)
    return stds
""",
            "tanh for every net": """
def my_layer_stds(net, X):
    stds, h = [], X.reshape(len(X), -1)
    for layer in range(1, net.num_layers):
        h = np.tanh(h @ net.params[f"W{layer}"] + net.params[f"b{layer}"])
        stds.append(float(h.std()))
    return stds
""",
            "a std per unit, averaged": """
def my_layer_stds(net, X):
    stds, h = [], X.reshape(len(X), -1)
    for layer in range(1, net.num_layers):
        z = h @ net.params[f"W{layer}"] + net.params[f"b{layer}"]
        h = np.tanh(z) if net.activation == "tanh" else np.maximum(z, 0)
        stds.append(float(h.std(axis=0).mean()))
    return stds
""",
            "the package's diagnostics": """
from nntrain import diagnostics

def my_layer_stds(net, X):
    return [s.std for s in diagnostics.summarize(diagnostics.record(net, X))]
""",
        },
        "right": {
            "a dict of activations": """
def my_layer_stds(net, X):
    act = {"tanh": np.tanh, "relu": lambda z: np.where(z > 0, z, 0.0)}[net.activation]
    h, out = np.reshape(X, (len(X), -1)), []
    for i in range(1, net.num_layers):
        h = act(h.dot(net.params["W" + str(i)]) + net.params["b" + str(i)])
        out.append(np.sqrt(np.mean((h - h.mean()) ** 2)))
    return out
""",
            "with a print per layer": """
def my_layer_stds(net, X):
    stds = []
    h = X.reshape(X.shape[0], -1)
    for layer in range(1, net.num_layers):
        z = h @ net.params[f"W{layer}"] + net.params[f"b{layer}"]
        h = np.tanh(z) if net.activation == "tanh" else z.clip(min=0)
        print(layer, h.std())
        stds.append(np.std(h))
    return stds
""",
        },
    },
}
