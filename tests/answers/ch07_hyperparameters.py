"""Answers to chapter 7's graded exercises (see tests/answers/__init__.py)."""

COARSE_TO_FINE_SETUP = """
def my_coarse_to_fine(seed, n=16, keep=0.25, epochs=2):
    raw = load_digits_split(seed=0)
    data = map_inputs(raw, Standardize().fit(raw["X_train"]).transform)
    space = {
        "learning_rate": LogUniform(1e-5, 10.0),
        "reg": LogUniform(1e-6, 1.0),
        "weight_scale": LogUniform(1e-3, 1.0),
    }
    rng = np.random.default_rng(seed)

    def scores(trials, epochs=epochs):
        results = train_batched(
            data, trials, hidden_dims=[50], epochs=epochs, batch_size=50, seed=seed
        )
        return np.array([r.best_val_acc for r in results])
"""


def coarse_to_fine_answer(body):
    """The scaffold of Exercise 4 with ``body`` (indented by 4) in place of the solution."""
    return COARSE_TO_FINE_SETUP + body


ANSWERS = {
    "my_log_uniform": {
        "wrong": {
            "uniform, not log-uniform": """
def my_log_uniform(low, high, n, rng):
    return rng.uniform(low, high, n)
""",
            "a shuffled geomspace": """
def my_log_uniform(low, high, n, rng):
    return rng.permutation(np.geomspace(low, high, n))
""",
            "the global random state": """
def my_log_uniform(low, high, n, rng):
    return 10 ** np.random.uniform(np.log10(low), np.log10(high), n)
""",
            "exponents drawn as integers": """
def my_log_uniform(low, high, n, rng):
    return 10.0 ** rng.integers(np.log10(low), np.log10(high), n, endpoint=True)
""",
            "the package's LogUniform": """
from nntrain.search import LogUniform as Dimension

def my_log_uniform(low, high, n, rng):
    return np.asarray(Dimension(low, high).sample(rng, n))
""",
        },
        "right": {
            "base 10": """
def my_log_uniform(low, high, n, rng):
    exponents = rng.uniform(np.log10(low), np.log10(high), size=n)
    return np.power(10.0, exponents)
""",
            "inverse transform with rng.random": """
def my_log_uniform(low, high, n, rng):
    u = rng.random(n)
    return low * (high / low) ** u
""",
        },
    },
    "my_should_stop": {
        "wrong": {
            "against the lowest cost": """
def my_should_stop(costs):
    latest = costs[-1]
    return bool(not np.isfinite(latest) or latest > 3 * min(costs))
""",
            "against the previous cost": """
def my_should_stop(costs):
    latest = costs[-1]
    previous = costs[-2] if len(costs) > 1 else costs[0]
    return bool(not np.isfinite(latest) or latest > 3 * previous)
""",
            "NaN only, not infinity": """
def my_should_stop(costs):
    latest = costs[-1]
    return bool(np.isnan(latest) or latest > 3 * costs[0])
""",
            "exactly 3 times counted": """
def my_should_stop(costs):
    latest = costs[-1]
    return bool(not np.isfinite(latest) or latest >= 3 * costs[0])
""",
            "any cost, not the latest": """
def my_should_stop(costs):
    c = np.asarray(costs, dtype=float)
    return bool((~np.isfinite(c)).any() or (c > 3 * c[0]).any())
""",
            "the package's rule": """
from nntrain.search import should_stop as stop_rule

def my_should_stop(costs):
    return bool(stop_rule(costs))
""",
        },
        "right": {
            "math functions": """
import math

def my_should_stop(costs):
    latest = float(costs[-1])
    if math.isnan(latest) or math.isinf(latest):
        return True
    return latest > 3 * costs[0]
""",
            "a comparison that fails for NaN": """
def my_should_stop(costs):
    latest = costs[-1]
    return not (latest <= 3 * costs[0]) or latest == -np.inf
""",
        },
    },
    "my_narrow": {
        "wrong": {
            "the count rounded down": """
def my_narrow(values, scores, low, high, keep):
    scores = np.where(np.isnan(scores), -np.inf, scores)
    count = min(max(1, int(keep * len(values))), int(np.isfinite(scores).sum()))
    best = np.log(np.asarray(values)[np.argsort(-scores, kind="stable")[:count]])
    lo, hi = np.log(low), np.log(high)
    pad = max(0.1 * (best.max() - best.min()), 0.05 * (hi - lo))
    return float(np.exp(max(best.min() - pad, lo))), float(np.exp(min(best.max() + pad, hi)))
""",
            "NaN scores kept (sorted first)": """
def my_narrow(values, scores, low, high, keep):
    scores = np.asarray(scores, dtype=float)
    count = max(1, int(np.ceil(keep * len(values))))
    best = np.log(np.asarray(values)[np.argsort(scores)[::-1][:count]])
    lo, hi = np.log(low), np.log(high)
    pad = max(0.1 * (best.max() - best.min()), 0.05 * (hi - lo))
    return float(np.exp(max(best.min() - pad, lo))), float(np.exp(min(best.max() + pad, hi)))
""",
            "the lowest scores kept": """
def my_narrow(values, scores, low, high, keep):
    scores = np.where(np.isnan(scores), np.inf, scores)
    count = max(1, int(np.ceil(keep * len(values))))
    best = np.log(np.asarray(values)[np.argsort(scores)[:count]])
    lo, hi = np.log(low), np.log(high)
    pad = max(0.1 * (best.max() - best.min()), 0.05 * (hi - lo))
    return float(np.exp(max(best.min() - pad, lo))), float(np.exp(min(best.max() + pad, hi)))
""",
            "widened on the linear scale": """
def my_narrow(values, scores, low, high, keep):
    scores = np.where(np.isnan(scores), -np.inf, scores)
    count = max(1, int(np.ceil(keep * len(values))))
    best = np.asarray(values)[np.argsort(-scores, kind="stable")[:count]]
    pad = max(0.1 * (best.max() - best.min()), 0.05 * (high - low))
    return float(max(best.min() - pad, low)), float(min(best.max() + pad, high))
""",
            "not clipped to the old range": """
def my_narrow(values, scores, low, high, keep):
    scores = np.where(np.isnan(scores), -np.inf, scores)
    count = max(1, int(np.ceil(keep * len(values))))
    best = np.log(np.asarray(values)[np.argsort(-scores, kind="stable")[:count]])
    lo, hi = np.log(low), np.log(high)
    pad = max(0.1 * (best.max() - best.min()), 0.05 * (hi - lo))
    return float(np.exp(best.min() - pad)), float(np.exp(best.max() + pad))
""",
            "the package's narrow": """
from nntrain.search import LogUniform, narrow

def my_narrow(values, scores, low, high, keep):
    new = narrow({"p": LogUniform(low, high)}, [{"p": v} for v in values], scores, keep)["p"]
    return new.low, new.high
""",
        },
        "right": {
            "sorted pairs, skipping NaN": """
import math

def my_narrow(values, scores, low, high, keep):
    pairs = sorted(
        ((s, v) for v, s in zip(values, scores) if not math.isnan(s)), key=lambda p: -p[0]
    )
    count = max(1, math.ceil(keep * len(values)))
    kept = [math.log(v) for _, v in pairs[:count]]
    lo, hi = math.log(low), math.log(high)
    pad = max(0.1 * (max(kept) - min(kept)), 0.05 * (hi - lo))
    return math.exp(max(min(kept) - pad, lo)), math.exp(min(max(kept) + pad, hi))
""",
            "masked arrays, base 10": """
def my_narrow(values, scores, low, high, keep):
    values, scores = np.asarray(values, float), np.asarray(scores, float)
    finite = ~np.isnan(scores)
    count = min(max(1, int(np.ceil(keep * len(values)))), int(finite.sum()))
    order = np.argsort(np.where(finite, -scores, np.inf), kind="stable")[:count]
    best = np.log10(values[order])
    lo, hi = np.log10(low), np.log10(high)
    pad = max(0.1 * np.ptp(best), 0.05 * (hi - lo))
    return 10 ** np.clip(best.min() - pad, lo, hi), 10 ** np.clip(best.max() + pad, lo, hi)
""",
        },
    },
    "my_coarse_to_fine": {
        "wrong": {
            "a fresh generator for the fine stage": coarse_to_fine_answer("""
    coarse = random_search(space, n, rng)
    coarse_scores = np.nan_to_num(scores(coarse))
    fine_space = narrow(space, coarse, coarse_scores, keep=keep)
    fine = random_search(fine_space, n, np.random.default_rng(seed))
    return np.median(np.nan_to_num(scores(fine))) - np.median(coarse_scores)
"""),
            "the fine stage trained three times longer": coarse_to_fine_answer("""
    coarse = random_search(space, n, rng)
    coarse_scores = np.nan_to_num(scores(coarse))
    fine = random_search(narrow(space, coarse, coarse_scores, keep=keep), n, rng)
    return np.median(np.nan_to_num(scores(fine, 3 * epochs))) - np.median(coarse_scores)
"""),
            "means, not medians": coarse_to_fine_answer("""
    coarse = random_search(space, n, rng)
    coarse_scores = np.nan_to_num(scores(coarse))
    fine = random_search(narrow(space, coarse, coarse_scores, keep=keep), n, rng)
    return np.mean(np.nan_to_num(scores(fine))) - np.mean(coarse_scores)
"""),
            "the fine median alone": coarse_to_fine_answer("""
    coarse = random_search(space, n, rng)
    coarse_scores = np.nan_to_num(scores(coarse))
    fine = random_search(narrow(space, coarse, coarse_scores, keep=keep), n, rng)
    return float(np.median(np.nan_to_num(scores(fine))))
"""),
            "narrow's default keep": coarse_to_fine_answer("""
    coarse = random_search(space, n, rng)
    coarse_scores = np.nan_to_num(scores(coarse))
    fine = random_search(narrow(space, coarse, coarse_scores), n, rng)
    return np.median(np.nan_to_num(scores(fine))) - np.median(coarse_scores)
"""),
            "the best trial, not the median": coarse_to_fine_answer("""
    coarse = random_search(space, n, rng)
    coarse_scores = np.nan_to_num(scores(coarse))
    fine = random_search(narrow(space, coarse, coarse_scores, keep=keep), n, rng)
    return np.max(np.nan_to_num(scores(fine))) - np.max(coarse_scores)
"""),
        },
        "right": {
            "statistics.median over a loop": coarse_to_fine_answer("""
    import math
    import statistics

    def cleaned(values):
        return [0.0 if math.isnan(v) else float(v) for v in values]

    coarse = random_search(space, n, rng)
    first = cleaned(scores(coarse))
    fine_space = narrow(space, coarse, first, keep=keep)
    second = cleaned(scores(random_search(fine_space, n, rng)))
    return statistics.median(second) - statistics.median(first)
"""),
            "the 50th percentile": coarse_to_fine_answer("""
    coarse = random_search(space, n, rng)
    raw_scores = scores(coarse)
    coarse_scores = np.where(np.isnan(raw_scores), 0.0, raw_scores)
    fine_scores = scores(random_search(narrow(space, coarse, coarse_scores, keep=keep), n, rng))
    fine_scores = np.where(np.isnan(fine_scores), 0.0, fine_scores)
    return float(np.percentile(fine_scores, 50) - np.percentile(coarse_scores, 50))
"""),
        },
    },
}
