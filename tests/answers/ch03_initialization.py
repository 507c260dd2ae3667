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
    "my_reinit": {
        "wrong": {
            "LeCun's scale for every net (no gain)": """
def my_reinit(net, rng):
    for layer in range(1, net.num_layers):
        W = net.params[f"W{layer}"]
        net.params[f"W{layer}"] = rng.standard_normal(W.shape) / np.sqrt(W.shape[0])
        net.params[f"b{layer}"] = np.zeros_like(net.params[f"b{layer}"])
""",
            "He's scale for every net, tanh included": """
from nntrain.reference import init

def my_reinit(net, rng):
    for layer in range(1, net.num_layers):
        net.params[f"W{layer}"] = init.kaiming_normal(net.params[f"W{layer}"].shape, rng=rng)
        net.params[f"b{layer}"][:] = 0.0
""",
            "fan-out instead of fan-in": """
def my_reinit(net, rng):
    gain = np.sqrt(2.0) if net.activation == "relu" else 5 / 3
    for layer in range(1, net.num_layers):
        W = net.params[f"W{layer}"]
        net.params[f"W{layer}"] = gain / np.sqrt(W.shape[1]) * rng.standard_normal(W.shape)
        net.params[f"b{layer}"][:] = 0.0
""",
            "the variance used as the standard deviation": """
def my_reinit(net, rng):
    gain = np.sqrt(2.0) if net.activation == "relu" else 5 / 3
    for layer in range(1, net.num_layers):
        W = net.params[f"W{layer}"]
        net.params[f"W{layer}"] = gain**2 / W.shape[0] * rng.standard_normal(W.shape)
        net.params[f"b{layer}"][:] = 0.0
""",
            "Xavier's fans with the gain": """
from nntrain.reference import init

def my_reinit(net, rng):
    gain = init.calculate_gain(net.activation)
    for layer in range(1, net.num_layers):
        shape = net.params[f"W{layer}"].shape
        net.params[f"W{layer}"] = init.xavier_normal(shape, gain=gain, rng=rng)
        net.params[f"b{layer}"][:] = 0.0
""",
            "the biases left as they were": """
def my_reinit(net, rng):
    gain = np.sqrt(2.0) if net.activation == "relu" else 5 / 3
    for layer in range(1, net.num_layers):
        W = net.params[f"W{layer}"]
        net.params[f"W{layer}"] = gain / np.sqrt(W.shape[0]) * rng.standard_normal(W.shape)
""",
            "the global random state instead of rng": """
def my_reinit(net, rng):
    gain = np.sqrt(2.0) if net.activation == "relu" else 5 / 3
    for layer in range(1, net.num_layers):
        W = net.params[f"W{layer}"]
        net.params[f"W{layer}"] = gain / np.sqrt(W.shape[0]) * np.random.standard_normal(W.shape)
        net.params[f"b{layer}"][:] = 0.0
""",
        },
        "right": {
            "the package's schemes, by nonlinearity": """
from nntrain.reference import init

def my_reinit(net, rng):
    for layer in range(1, net.num_layers):
        shape = net.params[f"W{layer}"].shape
        net.params[f"W{layer}"] = init.kaiming_normal(shape, nonlinearity=net.activation, rng=rng)
        net.params[f"b{layer}"] = np.zeros(shape[1])
""",
            "uniform draws with the same variance, returning the net": """
import math

def my_reinit(net, rng):
    gains = {"relu": math.sqrt(2), "tanh": 5 / 3}
    for key in sorted(net.params):
        if key.startswith("W"):
            fan_in = net.params[key].shape[0]
            bound = math.sqrt(3) * gains[net.activation] / math.sqrt(fan_in)
            net.params[key] = rng.uniform(-bound, bound, net.params[key].shape)
        else:
            net.params[key] = 0.0 * net.params[key]
    return net
""",
        },
    },
    "my_last_layer_std": {
        "wrong": {
            "ReLU instead of tanh": """
def my_last_layer_std(seed, scale):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((200, 100))
    for _ in range(10):
        h = np.maximum(h @ (scale * rng.standard_normal((100, 100))), 0)
    return float(h.std())
""",
            "the pre-activations' std": """
def my_last_layer_std(seed, scale):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((200, 100))
    for _ in range(10):
        z = h @ (scale * rng.standard_normal((100, 100)))
        h = np.tanh(z)
    return float(z.std())
""",
            "the weights drawn before the noise": """
def my_last_layer_std(seed, scale):
    rng = np.random.default_rng(seed)
    weights = [scale * rng.standard_normal((100, 100)) for _ in range(10)]
    h = rng.standard_normal((200, 100))
    for W in weights:
        h = np.tanh(h @ W)
    return float(h.std())
""",
            "a std per unit, averaged": """
def my_last_layer_std(seed, scale):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((200, 100))
    for _ in range(10):
        h = np.tanh(h @ (scale * rng.standard_normal((100, 100))))
    return float(h.std(axis=0).mean())
""",
            "the scale used as a variance": """
def my_last_layer_std(seed, scale):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((200, 100))
    for _ in range(10):
        h = np.tanh(h @ (np.sqrt(scale) * rng.standard_normal((100, 100))))
    return float(h.std())
""",
            "the first hidden layer instead of the last": """
def my_last_layer_std(seed, scale):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((200, 100))
    stds = []
    for _ in range(10):
        h = np.tanh(h @ (scale * rng.standard_normal((100, 100))))
        stds.append(h.std())
    return float(stds[0])
""",
            "the package's measurement": """
from nntrain import measurements

def my_last_layer_std(seed, scale):
    return measurements.last_layer_std(seed, scale)
""",
        },
        "right": {
            "a reference net with its weights replaced, and the diagnostics": """
import nntrain
from nntrain import diagnostics

def my_last_layer_std(seed, scale):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((200, 100))
    net = nntrain.FullyConnectedNet([100] * 10, input_dim=100, activation="tanh")
    for layer in range(1, 11):
        net.params[f"W{layer}"] = scale * rng.standard_normal((100, 100))
    return diagnostics.record(net, X)[-1].post.std()
""",
            "weights drawn first as a list, std by hand": """
def my_last_layer_std(seed, scale):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(size=(200, 100))
    Ws = []
    for _ in range(10):
        Ws.append(rng.normal(0.0, scale, size=(100, 100)))
    h = X
    for W in Ws:
        h = np.tanh(h.dot(W))
    return np.sqrt(np.mean((h - h.mean()) ** 2))
""",
        },
    },
}
