"""Answers to chapter 6's graded exercises (see tests/answers/__init__.py)."""

BASELINE = """
def my_baseline_gap(seed, epochs=3):
    raw = load_digits_split(seed=0)
    real = map_inputs(raw, Standardize().fit(raw["X_train"]).transform)
    accuracies = []
    for data in (real, {zeroed}):
        net = FullyConnectedNet([100], 64, 10, weight_scale=np.sqrt(2 / 64), seed={seed})
        hist = train(
            net, data, learning_rate=0.03, epochs=epochs, batch_size=50, seed={seed},
            keep_best=False,
        )
        accuracies.append({score})
    return {result}
"""

ANSWERS = {
    "my_expected_initial_loss": {
        "wrong": {
            "hard-coded for 10 classes": """
def my_expected_initial_loss(num_classes, loss):
    return 2.302585092994046 if loss == "softmax" else 9.0
""",
            "log base 10": """
def my_expected_initial_loss(num_classes, loss):
    return float(np.log10(num_classes)) if loss == "softmax" else float(num_classes - 1)
""",
            "a hinge of C instead of C - 1": """
def my_expected_initial_loss(num_classes, loss):
    return float(np.log(num_classes)) if loss == "softmax" else float(num_classes)
""",
            "ln(C - 1) for the softmax": """
def my_expected_initial_loss(num_classes, loss):
    return float(np.log(num_classes - 1)) if loss == "softmax" else float(num_classes - 1)
""",
            "the probability 1/C instead of the loss": """
def my_expected_initial_loss(num_classes, loss):
    return 1.0 / num_classes if loss == "softmax" else float(num_classes - 1)
""",
        },
        "right": {
            "the loss of uniform probabilities": """
def my_expected_initial_loss(num_classes, loss):
    if loss == "softmax":
        p = np.full(num_classes, 1.0 / num_classes)
        return float(-np.log(p[0]))
    return float(np.sum(np.ones(num_classes - 1)))
""",
            "math.log and the margins counted": """
import math

def my_expected_initial_loss(num_classes, loss):
    margins = [max(0.0, 0.0 - 0.0 + 1.0) for _ in range(num_classes - 1)]
    return math.log(num_classes) if loss == "softmax" else sum(margins)
""",
        },
    },
    "my_update_ratio": {
        "wrong": {
            "a difference of norms": """
def my_update_ratio(before, after):
    return abs(np.linalg.norm(after) - np.linalg.norm(before)) / np.linalg.norm(before)
""",
            "spectral norms": """
def my_update_ratio(before, after):
    return np.linalg.norm(after - before, 2) / np.linalg.norm(before, 2)
""",
            "a ratio of standard deviations": """
def my_update_ratio(before, after):
    return abs(after.std() - before.std()) / before.std()
""",
            "divided by the new weights' norm": """
def my_update_ratio(before, after):
    return np.linalg.norm(after - before) / np.linalg.norm(after)
""",
            "the mean entrywise ratio": """
def my_update_ratio(before, after):
    return float(np.mean(np.abs(after - before)) / np.mean(np.abs(before)))
""",
        },
        "right": {
            "sums of squares": """
def my_update_ratio(before, after):
    return float(np.sqrt(((after - before) ** 2).sum() / (before**2).sum()))
""",
            "ravel and vector norms": """
def my_update_ratio(before, after):
    d = (after - before).ravel()
    return np.linalg.norm(d) / np.linalg.norm(before.ravel())
""",
        },
    },
    "my_centred_difference": {
        "wrong": {
            "x never restored": """
def my_centred_difference(f, x, h):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += h
        plus = f(x)
        x[i] -= 2 * h
        minus = f(x)
        grad[i] = (plus - minus) / (2 * h)
    return grad
""",
            "x left at x + h": """
def my_centred_difference(f, x, h):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old - h
        minus = f(x)
        x[i] = old + h
        grad[i] = (f(x) - minus) / (2 * h)
    return grad
""",
            "a forward difference": """
def my_centred_difference(f, x, h):
    grad = np.zeros_like(x)
    fx = f(x)
    for i in np.ndindex(x.shape):
        y = x.copy()
        y[i] += h
        grad[i] = (f(y) - fx) / h
    return grad
""",
            "divided by h, not 2h": """
def my_centred_difference(f, x, h):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / h
    return grad
""",
            "every entry moved at once": """
def my_centred_difference(f, x, h):
    return np.full_like(x, (f(x + h) - f(x - h)) / (2 * h))
""",
            "the package's numerical gradient": """
from nntrain.gradcheck import eval_numerical_gradient

def my_centred_difference(f, x, h):
    return eval_numerical_gradient(f, x.copy(), h=h)
""",
        },
        "right": {
            "copies of x": """
def my_centred_difference(f, x, h):
    grad = np.zeros(x.shape)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        e = e.reshape(x.shape)
        grad.flat[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad
""",
            "nditer, restoring x": """
def my_centred_difference(f, x, h):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        saved = x[i].copy()
        x[i] = saved + h
        plus = f(x)
        x[i] = saved - h
        minus = f(x)
        x[i] = saved
        grad[i] = (plus - minus) / (2.0 * h)
    return grad
""",
        },
    },
    "my_baseline_gap": {
        "wrong": {
            "the validation inputs left as they are": BASELINE.format(
                zeroed='{k: np.zeros_like(v) if k == "X_train" else v for k, v in real.items()}',
                score="hist.val_acc[-1]",
                seed="seed",
                result="accuracies[0] - accuracies[1]",
            ),
            "the test split instead of the validation split": BASELINE.format(
                zeroed="map_inputs(real, np.zeros_like)",
                score='accuracy(net, data["X_test"], data["y_test"])',
                seed="seed",
                result="accuracies[0] - accuracies[1]",
            ),
            "a count of digits, not a share": BASELINE.format(
                zeroed="map_inputs(real, np.zeros_like)",
                score='hist.val_acc[-1] * len(data["y_val"])',
                seed="seed",
                result="accuracies[0] - accuracies[1]",
            ),
            "the baseline's accuracy alone": BASELINE.format(
                zeroed="map_inputs(real, np.zeros_like)",
                score="hist.val_acc[-1]",
                seed="seed",
                result="accuracies[1]",
            ),
            "shuffled labels instead of zero inputs": BASELINE.format(
                zeroed="dict(real, y_train=np.random.default_rng(seed)"
                '.permutation(real["y_train"]))',
                score="hist.val_acc[-1]",
                seed="seed",
                result="accuracies[0] - accuracies[1]",
            ),
            "seed 0 whatever the seed": BASELINE.format(
                zeroed="map_inputs(real, np.zeros_like)",
                score="hist.val_acc[-1]",
                seed="0",
                result="accuracies[0] - accuracies[1]",
            ),
        },
        "right": {
            "the inputs multiplied by 0, accuracy recomputed": """
def trained_accuracy(data, seed, epochs):
    net = FullyConnectedNet([100], 64, 10, weight_scale=np.sqrt(2 / 64), seed=seed)
    train(net, data, learning_rate=0.03, epochs=epochs, batch_size=50, seed=seed,
          keep_best=False, progress=False)
    return accuracy(net, data["X_val"], data["y_val"])


def my_baseline_gap(seed, epochs=3):
    raw = load_digits_split(seed=0)
    scaler = Standardize().fit(raw["X_train"])
    real = {k: scaler.transform(v) if k[0] == "X" else v for k, v in raw.items()}
    blank = {k: v * 0.0 if k[0] == "X" else v for k, v in real.items()}
    return trained_accuracy(real, seed, epochs) - trained_accuracy(blank, seed, epochs)
""",
            "explicit zero arrays, a loop over the two runs": """
def my_baseline_gap(seed, epochs=3):
    raw = load_digits_split(seed=0)
    real = map_inputs(raw, Standardize().fit(raw["X_train"]).transform)
    zeros = dict(real)
    for split in ("train", "val", "test"):
        zeros[f"X_{split}"] = np.zeros(real[f"X_{split}"].shape)
    result = {}
    for name, data in (("real", real), ("zeros", zeros)):
        net = FullyConnectedNet([100], 64, 10, weight_scale=np.sqrt(2 / 64), seed=seed)
        history = train(net, data, learning_rate=0.03, epochs=epochs, batch_size=50,
                        seed=seed, keep_best=False)
        result[name] = history.val_acc[-1]
    return float(result["real"] - result["zeros"])
""",
        },
    },
}
