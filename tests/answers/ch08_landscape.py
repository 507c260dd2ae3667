"""Answers to chapter 8's graded exercises (see tests/answers/__init__.py)."""

ADAM_HEAD = """
def my_adam(w, dw, config=None):
    config = {} if config is None else config
    for key, value in {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999,
                       "epsilon": 1e-8, "t": 0}.items():
        config.setdefault(key, value)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    b1, b2, lr, eps = config["beta1"], config["beta2"], config["learning_rate"], config["epsilon"]
"""
NESTEROV_HEAD = """
def my_nesterov(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    config.setdefault("velocity", np.zeros_like(w))
    mu, lr, old = config["momentum"], config["learning_rate"], config["velocity"]
"""

BARRIER_DATA = """
    data = load_digits_split(seed=0)
    data = map_inputs(data, Standardize().fit(data["X_train"]).transform)
"""


def barrier(
    data_split="train",
    keep_best=False,
    seeds="seed, seed + 1",
    inputs=BARRIER_DATA,
    over="max(losses[0], losses[-1])",
    start=False,
):
    """The book's experiment with one plausible mistake (the defaults are right)."""
    keep = "" if keep_best is None else f", keep_best={keep_best}"
    return f"""
def my_barrier(seed):
{inputs}    ends = []
    for s in ({seeds}):
        net = FullyConnectedNet([16], 64, 10, weight_scale=np.sqrt(2 / 64), seed=s)
        if {start}:
            ends.append({{k: v.copy() for k, v in net.params.items()}})
        train(net, data, learning_rate=0.05, epochs=5, batch_size=50, seed=s{keep})
        ends.append({{k: v.copy() for k, v in net.params.items()}})
    ends = ends[:2]
    losses = []
    for alpha in np.linspace(0, 1, 11):
        for k in net.params:
            net.params[k] = (1 - alpha) * ends[0][k] + alpha * ends[1][k]
        losses.append(net.loss(data["X_{data_split}"], data["y_{data_split}"])[0])
    return max(losses) / {over}
"""


ANSWERS = {
    "my_adam": {
        "wrong": {
            "epsilon hard-coded to 1e-8": ADAM_HEAD
            + """
    config["t"] += 1
    config["m"] = b1 * config["m"] + (1 - b1) * dw
    config["v"] = b2 * config["v"] + (1 - b2) * dw**2
    m_hat = config["m"] / (1 - b1 ** config["t"])
    v_hat = config["v"] / (1 - b2 ** config["t"])
    return w - lr * m_hat / (np.sqrt(v_hat) + 1e-8), config
""",
            "no bias correction": ADAM_HEAD
            + """
    config["t"] += 1
    config["m"] = b1 * config["m"] + (1 - b1) * dw
    config["v"] = b2 * config["v"] + (1 - b2) * dw**2
    return w - lr * config["m"] / (np.sqrt(config["v"]) + eps), config
""",
            "t incremented after the correction": ADAM_HEAD
            + """
    config["m"] = b1 * config["m"] + (1 - b1) * dw
    config["v"] = b2 * config["v"] + (1 - b2) * dw**2
    m_hat = config["m"] / (1 - b1 ** (config["t"] + 1e-12))
    v_hat = config["v"] / (1 - b2 ** (config["t"] + 1e-12))
    config["t"] += 1
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), config
""",
            "w updated in place": ADAM_HEAD
            + """
    config["t"] += 1
    config["m"] = b1 * config["m"] + (1 - b1) * dw
    config["v"] = b2 * config["v"] + (1 - b2) * dw**2
    m_hat = config["m"] / (1 - b1 ** config["t"])
    v_hat = config["v"] / (1 - b2 ** config["t"])
    w -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return w, config
""",
            "the second moment of |dw|, not dw squared": ADAM_HEAD
            + """
    config["t"] += 1
    config["m"] = b1 * config["m"] + (1 - b1) * dw
    config["v"] = b2 * config["v"] + (1 - b2) * np.abs(dw)
    m_hat = config["m"] / (1 - b1 ** config["t"])
    v_hat = config["v"] / (1 - b2 ** config["t"])
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), config
""",
            "the package's rule": """
from nntrain.reference import optim

def my_adam(w, dw, config=None):
    return optim.adam(w, dw, config)
""",
        },
        "right": {
            "the step size folded (Kingma and Ba's form, epsilon scaled)": ADAM_HEAD
            + """
    t = config["t"] = config["t"] + 1
    m = config["m"] = b1 * config["m"] + (1 - b1) * dw
    v = config["v"] = b2 * config["v"] + (1 - b2) * dw * dw
    step = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
    return w - step * m / (np.sqrt(v) + eps * np.sqrt(1 - b2**t)), config
""",
            "a new config dict": """
def my_adam(w, dw, config=None):
    c = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "t": 0,
         "m": np.zeros_like(w), "v": np.zeros_like(w)}
    c.update(config or {})
    t = c["t"] + 1
    m = c["beta1"] * c["m"] + (1 - c["beta1"]) * dw
    v = c["beta2"] * c["v"] + (1 - c["beta2"]) * np.square(dw)
    update = (m / (1 - c["beta1"] ** t)) / (np.sqrt(v / (1 - c["beta2"] ** t)) + c["epsilon"])
    c.update(t=t, m=m, v=v)
    return w - c["learning_rate"] * update, c
""",
        },
    },
    "my_max_stable_lr": {
        "wrong": {
            "momentum ignored": """
def my_max_stable_lr(H, momentum=0.0):
    return 2.0 / np.linalg.eigvalsh(H).max()
""",
            "the smallest eigenvalue": """
def my_max_stable_lr(H, momentum=0.0):
    return (2 + 2 * momentum) / np.linalg.eigvalsh(H).min()
""",
            "the largest entry instead of the largest eigenvalue": """
def my_max_stable_lr(H, momentum=0.0):
    return (2 + 2 * momentum) / np.abs(H).max()
""",
            "the Frobenius norm": """
def my_max_stable_lr(H, momentum=0.0):
    return (2 + 2 * momentum) / np.linalg.norm(H)
""",
            "1 + momentum instead of 2 + 2 momentum": """
def my_max_stable_lr(H, momentum=0.0):
    return (1 + momentum) / np.linalg.eigvalsh(H).max()
""",
        },
        "right": {
            "np.linalg.eigvals": """
def my_max_stable_lr(H, momentum=0.0):
    lam = np.max(np.real(np.linalg.eigvals(H)))
    return 2 * (1 + momentum) / lam
""",
            "the spectral norm": """
def my_max_stable_lr(H, momentum=0.0):
    return 2.0 * (1.0 + momentum) / np.linalg.norm(H, 2)
""",
            "bisection on runs' iteration matrix, per eigenvalue": """
def my_max_stable_lr(H, momentum=0.0):
    def largest(lam):
        low, high = 0.0, 10.0 / lam
        for _ in range(200):
            mid = 0.5 * (low + high)
            M = np.array([[momentum, -mid * lam], [momentum, 1.0 - mid * lam]])
            if max(abs(np.linalg.eigvals(M))) < 1:
                low = mid
            else:
                high = mid
        return low
    return min(largest(lam) for lam in np.linalg.eigvalsh(H))
""",
        },
    },
    "my_nesterov": {
        "wrong": {
            "plain heavy-ball momentum": NESTEROV_HEAD
            + """
    config["velocity"] = mu * old - lr * dw
    return w + config["velocity"], config
""",
            "the new velocity where the old belongs": NESTEROV_HEAD
            + """
    v = config["velocity"] = mu * old - lr * dw
    return w - mu * v + (1 + mu) * v, config
""",
            "the velocity not stored": NESTEROV_HEAD
            + """
    v = mu * old - lr * dw
    return w - mu * old + (1 + mu) * v, config
""",
            "PyTorch's buffer stored under velocity": NESTEROV_HEAD
            + """
    buf = config["velocity"] = mu * old + dw
    return w - lr * (dw + mu * buf), config
""",
            "momentum hard-coded to 0.9": NESTEROV_HEAD
            + """
    v = config["velocity"] = 0.9 * old - lr * dw
    return w - 0.9 * old + 1.9 * v, config
""",
            "the package's rule": """
import nntrain.reference.optim as o

def my_nesterov(w, dw, config=None):
    next_w, config = o.nesterov(w, dw, config)
    return next_w, config
""",
        },
        "right": {
            "expanded": NESTEROV_HEAD
            + """
    v = mu * old - lr * dw
    config["velocity"] = v
    return w + mu * v - lr * dw, config
""",
            "a copy of config": """
def my_nesterov(w, dw, config=None):
    c = {"learning_rate": 1e-2, "momentum": 0.9, **(config or {})}
    old = c.get("velocity", np.zeros_like(w))
    c["velocity"] = c["momentum"] * old - c["learning_rate"] * dw
    return w - c["momentum"] * old + (1 + c["momentum"]) * c["velocity"], c
""",
        },
    },
    "my_barrier": {
        "wrong": {
            "the validation loss instead of the training loss": barrier(data_split="val"),
            "the best-validation epoch (keep_best left on)": barrier(keep_best=None),
            "both nets from the same seed": barrier(seeds="seed, seed"),
            "the line from initialization to the trained net": barrier(start=True),
            "over the smaller endpoint": barrier(over="min(losses[0], losses[-1])"),
            "raw inputs, not standardized": barrier(
                inputs="""
    data = load_digits_split(seed=0)
"""
            ),
            "the package's interpolation": """
def my_barrier(seed):
    data = load_digits_split(seed=0)
    data = map_inputs(data, Standardize().fit(data["X_train"]).transform)
    ends = []
    for s in (seed, seed + 1):
        net = FullyConnectedNet([16], 64, 10, weight_scale=np.sqrt(2 / 64), seed=s)
        train(net, data, learning_rate=0.05, epochs=5, batch_size=50, seed=s, keep_best=False)
        ends.append(ls.flatten_params(net))
    f = ls.loss_at(net, data["X_train"], data["y_train"])
    losses = ls.interpolate(f, ends[0], ends[1], np.linspace(0, 1, 11))
    return losses.max() / max(losses[0], losses[-1])
""",
        },
        "right": {
            "flat vectors and loss_at": """
def my_barrier(seed):
    data = load_digits_split(seed=0)
    data = map_inputs(data, Standardize().fit(data["X_train"]).transform)
    thetas = []
    for s in [seed, seed + 1]:
        net = FullyConnectedNet([16], 64, 10, weight_scale=np.sqrt(2 / 64), seed=s)
        train(net, data, learning_rate=0.05, epochs=5, batch_size=50, seed=s, keep_best=False)
        thetas.append(ls.flatten_params(net))
    f = ls.loss_at(net, data["X_train"], data["y_train"])
    line = np.array([f(thetas[0] + a * (thetas[1] - thetas[0])) for a in np.arange(11) / 10])
    return float(np.max(line) / np.max(line[[0, -1]]))
""",
            "two nets and a third to hold the blend": """
import copy

def my_barrier(seed):
    data = load_digits_split(seed=0)
    scaler = Standardize().fit(data["X_train"])
    data = map_inputs(data, scaler.transform)
    nets = [FullyConnectedNet([16], 64, 10, weight_scale=np.sqrt(2 / 64), seed=s)
            for s in (seed, seed + 1)]
    for s, net in zip((seed, seed + 1), nets):
        train(net, data, epochs=5, batch_size=50, learning_rate=0.05, keep_best=False, seed=s)
    blend = copy.deepcopy(nets[0])
    losses = []
    for alpha in np.linspace(0.0, 1.0, 11):
        blend.params = {
            k: (1 - alpha) * nets[0].params[k] + alpha * nets[1].params[k] for k in blend.params
        }
        losses.append(blend.loss(data["X_train"], data["y_train"])[0])
    return max(losses) / max(losses[0], losses[10])
""",
        },
    },
}
