"""nntrain.landscape: the closed-form rates of gradient descent and momentum on quadratic
bowls agree with the update rules of nntrain.reference.optim run on them (iteration counts,
divergence thresholds, the momentum iteration matrix); saddles are escaped as predicted;
random Hessians are minima as rarely as the Gaussian orthogonal ensemble says; minibatch
gradient noise follows the sampling law; the exact torch Hessian agrees with the
finite-difference Hessian of the reference net; filter-normalized directions are blind to
the ReLU rescaling symmetry; every tool leaves the model as it was; bad input is refused."""

import math

import nntrain.torch as nt
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from nntrain import landscape as ls
from nntrain.reference import FullyConnectedNet, optim

W0 = np.array([1.0, 1.0]) / math.sqrt(2)  # distance 1 from the minimum
KAPPAS = [10, 30, 100, 300]
TOL = 1e-6


# --------------------------------------------------------------------------------------
# Quadratic bowls
# --------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    lam=st.lists(st.floats(1e-3, 1e3), min_size=2, max_size=4),
    angle=st.floats(-math.pi, math.pi),
    w=st.lists(st.floats(-10, 10), min_size=4, max_size=4),
)
def test_quadratic_value_gradient_and_hessian_agree(lam, angle, w):
    center = np.arange(len(lam), dtype=float)
    bowl = ls.Quadratic(lam, angle=angle, center=center)
    w = np.array(w[: len(lam)])
    e = w - center
    np.testing.assert_allclose(bowl.gradient(w), bowl.hessian @ e, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(bowl.value(w), 0.5 * e @ bowl.hessian @ e, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(np.linalg.eigvalsh(bowl.hessian), sorted(lam), rtol=1e-9)
    np.testing.assert_array_equal(bowl.hessian, bowl.hessian.T)
    # the eigenvectors are orthonormal and carry their eigenvalues
    R = bowl.eigenvectors
    np.testing.assert_allclose(R.T @ R, np.eye(len(lam)), atol=1e-12)
    np.testing.assert_allclose(bowl.hessian @ R, R * lam, rtol=1e-9, atol=1e-9)
    assert bowl.value(center) == 0 and bowl.kappa == pytest.approx(max(lam) / min(lam))


def test_quadratic_grid_and_conditioned_bowls():
    bowl = ls.Quadratic.conditioned(50.0, angle=0.3)
    assert bowl.eigenvalues.tolist() == pytest.approx([1.0, 50.0])
    grid = np.stack(np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-2, 2, 7)), axis=-1)
    values = bowl.value(grid)
    assert values.shape == (7, 5)
    assert values[3, 2] == 0 and values[0, 0] == pytest.approx(bowl.value(grid[0, 0]))
    three = ls.Quadratic.conditioned(100.0, dim=3, lam_min=0.5)
    assert three.eigenvalues.tolist() == pytest.approx([0.5, 5.0, 50.0])
    # rotation turns the axes: axis-aligned bowls have a diagonal Hessian, rotated ones not
    assert np.count_nonzero(ls.Quadratic([1.0, 9.0]).hessian - np.diag([1.0, 9.0])) == 0
    assert abs(ls.Quadratic([1.0, 9.0], angle=math.pi / 6).hessian[0, 1]) > 1


def test_gd_optimal_balances_the_extreme_eigenvalues():
    for kappa in KAPPAS:
        alpha, rate = ls.gd_optimal(1.0, kappa)
        assert alpha == pytest.approx(2 / (1 + kappa))
        assert rate == pytest.approx((kappa - 1) / (kappa + 1))
        rates = ls.gd_rate(alpha, np.array([1.0, kappa / 2, kappa]))
        np.testing.assert_allclose(rates[[0, 2]], rate, rtol=1e-12)
        assert rates[1] < rate
        assert ls.gd_rate(alpha * 1.01, kappa) > rate and ls.gd_rate(alpha / 1.01, 1.0) > rate
    assert ls.gd_rate(0.5, -1.0) == 1.5  # a negative curvature grows


@pytest.mark.parametrize("angle", [0.0, 0.7])
def test_gd_iterations_grow_like_kappa_and_match_the_rate(angle):
    """At the optimal step both eigen-directions shrink by exactly (kappa-1)/(kappa+1) per
    step, so the count is ceil(ln(1/tol) / -ln rate), up to rounding."""
    counts = []
    for kappa in KAPPAS:
        bowl = ls.Quadratic.conditioned(kappa, angle=angle)
        alpha, rate = ls.gd_optimal(1.0, kappa)
        n = ls.iterations_to(bowl, optim.sgd, {"learning_rate": alpha}, W0, TOL, 10_000)
        assert abs(n - math.log(1 / TOL) / -math.log(rate)) <= 1.5, (kappa, n)
        counts.append(n)
    per_kappa = np.array(counts) / KAPPAS
    assert per_kappa.max() / per_kappa.min() < 1.02  # proportional to kappa
    assert per_kappa.mean() == pytest.approx(math.log(1 / TOL) / 2, rel=0.02)  # ~ kappa/2 ln


def momentum_prediction(kappa, alpha, beta):
    """The count predicted by powers of the iteration matrix, eigen-direction by direction
    (the bowl is axis-aligned; the start has velocity 0)."""
    states = [np.array([0.0, W0[0]]), np.array([0.0, W0[1]])]
    matrices = [ls.momentum_matrix(alpha, beta, lam) for lam in (1.0, kappa)]
    for t in range(1, 10_000):
        states = [M @ s for M, s in zip(matrices, states)]
        if math.hypot(states[0][1], states[1][1]) <= TOL:
            return t


def test_tuned_momentum_iterations_grow_like_sqrt_kappa():
    """At the optimal (alpha, beta) the rate is (sqrt(kappa)-1)/(sqrt(kappa)+1); the two
    extreme directions sit at a double eigenvalue, so the error is (a + b t) rate^t and the
    count exceeds ln(1/tol)/-ln(rate) by a slowly growing term. It matches the matrix's
    prediction exactly and scales like sqrt(kappa), far below gradient descent's kappa."""
    counts = []
    for kappa in KAPPAS:
        alpha, beta, rate = ls.momentum_optimal(1.0, kappa)
        assert rate == pytest.approx((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1))
        config = {"learning_rate": alpha, "momentum": beta}
        bowl = ls.Quadratic.conditioned(kappa)
        n = ls.iterations_to(bowl, optim.sgd_momentum, config, W0, TOL, 10_000)
        assert abs(n - momentum_prediction(kappa, alpha, beta)) <= 1, (kappa, n)
        assert n >= math.log(1 / TOL) / -math.log(rate)
        gd = ls.iterations_to(
            bowl, optim.sgd, {"learning_rate": ls.gd_optimal(1.0, kappa)[0]}, W0, TOL, 10_000
        )
        assert n < gd / math.sqrt(kappa) * 1.5
        counts.append(n)
    per_root = np.array(counts) / np.sqrt(KAPPAS)
    assert per_root.max() / per_root.min() < 1.2, per_root  # proportional to sqrt(kappa)
    per_kappa = np.array(counts) / KAPPAS
    assert per_kappa[0] / per_kappa[-1] > 4  # and not to kappa


def bisect_threshold(rule, config, lam, guess, steps=1000):
    """The largest step size at which ``rule`` does not grow the error on the 1-D bowl of
    curvature ``lam``, by bisection between guess/2 and 3 guess/2 (to 1e-5 relative)."""
    bowl = ls.Quadratic([lam])

    def grows(alpha):
        with np.errstate(over="ignore", invalid="ignore"):
            path = ls.trajectory(bowl, rule, {**config, "learning_rate": alpha}, [1.0], steps)
        return not abs(path[-1, 0]) <= 1.0

    low, high = guess / 2, 3 * guess / 2
    assert not grows(low) and grows(high)
    while high - low > 1e-5 * guess:
        mid = (low + high) / 2
        low, high = (low, mid) if grows(mid) else (mid, high)
    return (low + high) / 2


@pytest.mark.parametrize("lam", [1.0, 40.0])
def test_divergence_thresholds_found_by_bisection(lam):
    found = bisect_threshold(optim.sgd, {}, lam, ls.gd_max_step(lam))
    assert found == pytest.approx(2 / lam, rel=1e-3)
    for beta in (0.5, 0.9):
        threshold = ls.momentum_max_step(beta, lam)
        assert threshold == pytest.approx((2 + 2 * beta) / lam)
        found = bisect_threshold(optim.sgd_momentum, {"momentum": beta}, lam, threshold)
        assert found == pytest.approx(threshold, rel=1e-3), beta


def test_iterations_to_gives_up_on_divergence_and_on_too_few_steps():
    bowl = ls.Quadratic([1.0, 10.0])
    too_big = {"learning_rate": 1.01 * ls.gd_max_step(10.0)}
    assert ls.iterations_to(bowl, optim.sgd, too_big, W0, TOL, 10**6) is None  # stops early
    assert ls.iterations_to(bowl, optim.sgd, {"learning_rate": 0.01}, W0, TOL, 5) is None
    assert ls.iterations_to(bowl, optim.sgd, None, bowl.center, TOL, 0) == 0


@settings(max_examples=50, deadline=None)
@given(
    beta=st.floats(0.01, 0.99),
    where=st.floats(0.001, 0.999),
    lam=st.floats(0.01, 100),
)
def test_momentum_rate_is_sqrt_beta_in_the_oscillating_regime(beta, where, lam):
    """For (1 - sqrt b)^2 < alpha lam < (1 + sqrt b)^2 the rate is sqrt(beta), to 1e-12."""
    root = math.sqrt(beta)
    alpha_lam = (1 - root) ** 2 + where * ((1 + root) ** 2 - (1 - root) ** 2)
    alpha = alpha_lam / lam
    assert abs(ls.momentum_rate(alpha, beta, lam) - root) <= 1e-12
    M = ls.momentum_matrix(alpha, beta, lam)
    radius = np.abs(np.linalg.eigvals(M)).max()
    assert radius == pytest.approx(root, rel=1e-6)  # eigvals loses digits near a double root
    assert np.linalg.det(M) == pytest.approx(beta, rel=1e-9)


def test_momentum_rate_against_the_iteration_matrix_and_its_example():
    assert ls.momentum_rate(0.5, 0.9, 1.0) == pytest.approx(math.sqrt(0.9), abs=1e-12)
    assert round(float(ls.momentum_rate(0.5, 0.9, 1.0)), 4) == 0.9487
    rng = np.random.default_rng(0)
    for _ in range(200):
        alpha, beta, lam = rng.uniform(0.01, 2), rng.uniform(0, 0.99), rng.uniform(0.1, 5)
        radius = np.abs(np.linalg.eigvals(ls.momentum_matrix(alpha, beta, lam))).max()
        assert ls.momentum_rate(alpha, beta, lam) == pytest.approx(radius, rel=1e-6)
        assert (radius < 1) == (alpha * lam < 2 + 2 * beta)
    # vectorized over lam, and beta = 0 is gradient descent
    lams = np.linspace(0.1, 3, 30)
    np.testing.assert_allclose(ls.momentum_rate(0.5, 0.0, lams), ls.gd_rate(0.5, lams))
    alpha, beta, rate = ls.momentum_optimal(1.0, 100.0)
    np.testing.assert_allclose(ls.momentum_rate(alpha, beta, [1.0, 30.0, 100.0]), rate)


def test_trajectory_of_the_cs231n_rule_is_the_matrix_power():
    """The derivation of momentum_matrix: running optim.sgd_momentum on an axis-aligned
    bowl gives, coordinate by coordinate, M^t applied to (velocity 0, x0)."""
    lam, alpha, beta = np.array([0.5, 3.0]), 0.3, 0.8
    path = ls.trajectory(
        ls.Quadratic(lam), optim.sgd_momentum, {"learning_rate": alpha, "momentum": beta}, W0, 40
    )
    for i in range(2):
        M, state = ls.momentum_matrix(alpha, beta, lam[i]), np.array([0.0, W0[i]])
        expected = [state[1]]
        for _ in range(40):
            state = M @ state
            expected.append(state[1])
        np.testing.assert_allclose(path[:, i], expected, rtol=1e-10, atol=1e-15)


def test_trajectory_leaves_the_callers_config_and_start_alone():
    bowl = ls.Quadratic([1.0, 4.0], center=[1.0, -1.0])
    velocity = np.array([0.1, 0.2])
    config = {"learning_rate": 0.1, "momentum": 0.9, "velocity": velocity}
    w0 = np.array([3.0, 2.0])
    path = ls.trajectory(bowl, optim.sgd_momentum, config, w0, 25)
    assert path.shape == (26, 2) and path[0].tolist() == [3.0, 2.0]
    assert sorted(config) == ["learning_rate", "momentum", "velocity"]
    assert config["velocity"] is velocity and velocity.tolist() == [0.1, 0.2]
    assert w0.tolist() == [3.0, 2.0]
    again = ls.trajectory(bowl, optim.sgd_momentum, config, w0, 25)
    np.testing.assert_array_equal(path, again)  # no state carried from the first run
    assert ls.trajectory(bowl, optim.sgd, None, w0, 0).shape == (1, 2)

    def sgd_in_place(w, dw, config):  # cs231n's own sgd updates w in place
        w -= config["learning_rate"] * dw
        return w, config

    path = ls.trajectory(bowl, sgd_in_place, {"learning_rate": 0.1}, w0, 3)
    np.testing.assert_allclose(path, ls.trajectory(bowl, optim.sgd, {"learning_rate": 0.1}, w0, 3))
    assert w0.tolist() == [3.0, 2.0] and len(np.unique(path[:, 0])) == 4


# --------------------------------------------------------------------------------------
# Saddles
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("eta", [0.01, 0.1, 0.5])
@pytest.mark.parametrize("y0", [0.3, 1e-3, -1e-6, 1e-9])
def test_gradient_descent_escapes_the_saddle_as_predicted(eta, y0):
    """y_t = (1 + eta)^t y0, so |y_t| > r first at t = floor(ln(r/|y0|) / ln(1 + eta)) + 1."""
    radius = 1.0
    expected = math.floor(math.log(radius / abs(y0)) / math.log1p(eta)) + 1
    got = ls.escape_steps(optim.sgd, {"learning_rate": eta}, [1.0, y0], radius, 100_000)
    assert got == expected
    assert got == pytest.approx(math.log(1 / abs(y0)) / math.log(1 + eta), abs=1)


def test_the_saddle_holds_an_exact_start_and_noise_frees_it():
    config = {"learning_rate": 0.1}
    assert ls.escape_steps(optim.sgd, config, [1.0, 0.0], max_steps=2000) is None
    assert ls.escape_steps(optim.sgd_momentum, config, [1.0, 0.0], max_steps=2000) is None
    steps = [
        ls.escape_steps(optim.sgd, config, [1.0, 0.0], noise=0.01, rng=np.random.default_rng(s))
        for s in range(5)
    ]
    assert all(isinstance(t, int) and 30 < t < 200 for t in steps), steps
    assert ls.escape_steps(optim.sgd, config, [0.0, 2.0]) == 0
    # momentum leaves a saddle faster than plain gradient descent
    momentum = ls.escape_steps(optim.sgd_momentum, {"learning_rate": 0.1}, [1.0, 1e-6])
    assert momentum < ls.escape_steps(optim.sgd, config, [1.0, 1e-6]) / 2
    saddle = ls.Saddle()
    assert saddle.value(np.array([2.0, 1.0])) == 1.5
    np.testing.assert_array_equal(saddle.hessian, np.diag([1.0, -1.0]))


GOE = {  # n: fraction of minima measured with 4e6 (n = 2, 3), 1e7 (4) and 3e7 (5) draws
    1: 0.5,
    2: (2 - math.sqrt(2)) / 4,  # exact
    3: 0.02489,
    4: 0.002473,
    5: 1.36e-4,
}


@pytest.mark.parametrize("n", sorted(GOE))
def test_random_critical_points_are_rarely_minima(n):
    samples = 300_000
    p = GOE[n]
    got = ls.random_critical_point_is_minimum(n, samples, np.random.default_rng(100 + n))
    sigma = math.sqrt(p * (1 - p) / samples)
    assert abs(got - p) < 4.5 * sigma, (n, got, p)
    assert got == pytest.approx({1: 0.5, 2: 0.147, 3: 0.025, 4: 0.0025, 5: 1.4e-4}[n], rel=0.6)


# --------------------------------------------------------------------------------------
# Gradient noise
# --------------------------------------------------------------------------------------


def least_squares(n=200, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    w = rng.standard_normal(d)  # away from the solution

    def grad_fn(idx):
        return X[idx].T @ (X[idx] @ w - y[idx]) / len(idx)

    return grad_fn


def test_minibatch_gradient_variance_follows_the_sampling_law():
    n, grad_fn = 200, least_squares()
    sizes = [1, 5, 20, 100, 190, 200]
    measured = ls.minibatch_gradient_variance(grad_fn, n, sizes, 8000, np.random.default_rng(0))
    sigma2 = ls.per_example_variance(grad_fn, n)
    g = np.stack([grad_fn(np.array([i])) for i in range(n)])
    assert sigma2 == pytest.approx(((g - grad_fn(np.arange(n))) ** 2).sum(1).mean(), rel=1e-12)
    predicted = ls.predicted_variance(sigma2, n, sizes)
    np.testing.assert_allclose(measured[:-1] / predicted[:-1], 1, atol=0.05)
    assert predicted[-1] == 0 and measured[-1] < 1e-25  # the full batch has no noise
    assert ls.predicted_variance(sigma2, n, 1) == pytest.approx(sigma2)
    again, se = ls.minibatch_gradient_variance(
        grad_fn, n, sizes[:3], 500, np.random.default_rng(1), spread=True
    )
    assert np.all(np.abs(again - predicted[:3]) < 4 * se)  # the law, within 4 standard errors
    assert np.all(se > 0.01 * again) and np.all(se < 0.2 * again)


def test_batch_gradient_of_a_net_in_both_trees():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((30, 4)), rng.integers(0, 3, 30)
    ref, twin = twin_nets(seed=2)
    f, g = ls.batch_gradient(ref, X, y), ls.batch_gradient(twin, torch.tensor(X), y)
    idx = np.array([3, 7, 11, 20])
    loss, grads = ref.loss(X[idx], y[idx])
    expected = np.concatenate([grads[k].ravel() for k in ref.params])
    np.testing.assert_allclose(f(idx), expected, rtol=1e-12)
    np.testing.assert_allclose(g(idx), expected, rtol=1e-10, atol=1e-14)
    measured = ls.minibatch_gradient_variance(f, 30, [3], 2000, np.random.default_rng(0))
    predicted = ls.predicted_variance(ls.per_example_variance(f, 30), 30, 3)
    assert measured[0] / predicted == pytest.approx(1, abs=0.1)


# --------------------------------------------------------------------------------------
# Hessians
# --------------------------------------------------------------------------------------


def twin_nets(seed=0, **kwargs):
    """A tiny reference net and its float64 torch twin with the same weights."""
    kwargs = {"activation": "tanh", "weight_scale": 0.5, **kwargs}
    ref = FullyConnectedNet([6], input_dim=4, num_classes=3, seed=seed, **kwargs)
    twin = nt.FullyConnectedNet(
        [6], input_dim=4, num_classes=3, seed=seed, dtype=torch.float64, **kwargs
    )
    rng = np.random.default_rng(seed + 10)
    for name, p in ref.params.items():  # non-trivial biases (and gamma, beta)
        p += 0.3 * rng.standard_normal(p.shape)
        twin.params[name].data.copy_(torch.from_numpy(p))
    return ref, twin


def sequential_copy(ref, activation):
    """The same net as nn.Linear layers, which store the transpose (D_out, D_in) of the
    reference's (D_in, D_out) weights; and the permutation from the reference's flat
    order to the Sequential's."""
    layers = []
    index = np.arange(sum(p.size for p in ref.params.values()))
    order, start = [], 0
    for i in range(1, ref.num_layers + 1):
        W, b = ref.params[f"W{i}"], ref.params[f"b{i}"]
        linear = torch.nn.Linear(*W.shape).double()
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, activation()] if i < ref.num_layers else [linear]
        order.append(index[start : start + W.size].reshape(W.shape).T.ravel())
        start += W.size
        order.append(index[start : start + b.size])
        start += b.size
    return torch.nn.Sequential(*layers), np.concatenate(order)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_exact_torch_hessian_matches_the_finite_difference_reference(activation):
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((16, 4)), rng.integers(0, 3, 16)
    ref, twin = twin_nets(seed=4, activation=activation)
    module = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[activation]
    seq, order = sequential_copy(ref, module)
    np.testing.assert_array_equal(ls.flatten_params(seq), ls.flatten_params(ref)[order])
    before = ls.flatten_params(ref)
    H_ref = ls.hessian(ref, X, y)
    H_exact = ls.hessian(seq, torch.tensor(X), torch.tensor(y))
    H_twin = ls.hessian(twin, X, y)
    P = before.size
    assert H_ref.shape == H_exact.shape == (P, P) == (51, 51)
    np.testing.assert_array_equal(H_ref, H_ref.T)
    np.testing.assert_array_equal(H_exact, H_exact.T)
    scale = np.abs(H_exact).max()
    assert np.abs(H_ref[np.ix_(order, order)] - H_exact).max() < 1e-6 * scale
    assert np.abs(H_twin - H_ref).max() < 1e-6 * scale
    np.testing.assert_array_equal(ls.flatten_params(ref), before)  # the net is unchanged
    spectrum = ls.hessian_spectrum(seq, torch.tensor(X), torch.tensor(y))
    assert np.all(np.diff(spectrum) >= 0)
    np.testing.assert_allclose(spectrum, ls.hessian_spectrum(ref, X, y), atol=1e-6 * scale)


def test_hessian_of_a_linear_least_squares_model_is_known():
    """No hidden layer and the l2 loss: L = (1/N) sum (x w + b - y)^2, whose Hessian is
    (2/N) [x 1]^T [x 1] in the order (w, b)."""
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal((20, 1))
    net = FullyConnectedNet([], input_dim=3, num_classes=1, loss="l2", seed=0)
    A = np.hstack([X, np.ones((20, 1))])
    np.testing.assert_allclose(ls.hessian(net, X, y), 2 / 20 * A.T @ A, rtol=1e-8, atol=1e-10)
    assert np.all(ls.hessian_spectrum(net, X, y) > 0)


def test_hessian_and_loss_at_leave_batchnorm_nets_as_they_were():
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((12, 4)), rng.integers(0, 3, 12)
    ref, twin = twin_nets(seed=7, normalization="batchnorm")
    ref.loss(X, y)  # running statistics that are not the initial ones
    with torch.no_grad():
        twin(torch.tensor(X))
    twin.eval()
    bn_before = [{k: np.copy(v) for k, v in p.items()} for p in ref.bn_params]
    state_before = {k: v.clone() for k, v in twin.state_dict().items()}
    H_ref, H_twin = ls.hessian(ref, X, y), ls.hessian(twin, X, y)
    assert H_ref.shape == (63, 63)  # W1 b1 gamma1 beta1 W2 b2
    assert np.abs(H_twin - H_ref).max() < 1e-6 * np.abs(H_ref).max()
    value = ls.loss_at(ref, X, y)(ls.flatten_params(ref))
    ls.loss_at(twin, X, y)(np.zeros(63))
    for p, saved in zip(ref.bn_params, bn_before):
        assert p.keys() == saved.keys()
        for k in p:
            np.testing.assert_array_equal(p[k], saved[k])
    for k, v in twin.state_dict().items():
        assert torch.equal(v, state_before[k]), k
    assert not twin.training  # the mode is restored too
    assert value == pytest.approx(ref.loss(X, y)[0], rel=1e-12)  # training mode, as loss(X, y)


@pytest.mark.gpu
def test_torch_models_on_the_gpu_give_the_cpu_numbers():
    rng = np.random.default_rng(14)
    X, y = rng.standard_normal((16, 4)), rng.integers(0, 3, 16)
    ref, twin = twin_nets(seed=14)
    seq, _ = sequential_copy(ref, torch.nn.Tanh)
    for model in (twin, seq):
        theta = ls.flatten_params(model)
        cpu = ls.hessian(model, X, y), ls.loss_at(model, X, y)(theta + 0.1)
        model.cuda()
        gpu = ls.hessian(model, X, y), ls.loss_at(model, X, y)(theta + 0.1)
        np.testing.assert_allclose(gpu[0], cpu[0], rtol=1e-6, atol=1e-9)
        assert gpu[1] == pytest.approx(cpu[1], rel=1e-10)
        np.testing.assert_array_equal(ls.flatten_params(model), theta)
        assert next(model.parameters()).device.type == "cuda"


# --------------------------------------------------------------------------------------
# Flat parameters, lines and planes
# --------------------------------------------------------------------------------------


def test_flat_params_round_trip_for_every_kind():
    ref, twin = twin_nets(seed=8)
    theta = ls.flatten_params(ref)
    np.testing.assert_array_equal(ls.flatten_params(twin), theta)  # the same order
    np.testing.assert_array_equal(ls.flatten_params(ref.params), theta)
    np.testing.assert_array_equal(ls.flatten_params(list(ref.params.values())), theta)
    new = np.arange(theta.size, dtype=float)
    for model in (ref, twin):
        ls.set_flat_params(model, new)
        np.testing.assert_array_equal(ls.flatten_params(model), new)
    assert ref.params["W1"][0].tolist() == [0, 1, 2, 3, 4, 5]  # row after row of (D_in, D_out)
    assert twin.params["W1"].dtype == torch.float64


def test_loss_at_is_the_models_loss_and_restores_the_parameters():
    rng = np.random.default_rng(9)
    X, y = rng.standard_normal((10, 4)), rng.integers(0, 3, 10)
    ref, twin = twin_nets(seed=9, reg=0.1)
    theta = ls.flatten_params(ref)
    f, g = ls.loss_at(ref, X, y), ls.loss_at(twin, X, y)
    assert f(theta) == pytest.approx(ref.loss(X, y)[0], rel=1e-13)  # penalty included
    other = theta + rng.standard_normal(theta.size)
    assert f(other) == pytest.approx(g(other), rel=1e-12)
    assert f(other) != pytest.approx(f(theta))
    np.testing.assert_array_equal(ls.flatten_params(ref), theta)
    np.testing.assert_array_equal(ls.flatten_params(twin), theta)
    seq, _ = sequential_copy(FullyConnectedNet([6], 4, 3, seed=1), torch.nn.ReLU)
    h = ls.loss_at(seq, X, y)  # numpy data is moved to the module's dtype
    with torch.no_grad():
        expected = float(torch.nn.functional.cross_entropy(seq(torch.tensor(X)), torch.tensor(y)))
    assert h(ls.flatten_params(seq)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "options",
    [{}, {"reg": 0.1}, {"normalization": "batchnorm"}, {"loss": "svm", "reg": 0.01}],
    ids=["plain", "l2", "batchnorm", "svm"],
)
def test_loss_at_skips_the_backward_pass_and_gives_the_same_bits(options, monkeypatch):
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((12, 4)), rng.integers(0, 3, 12)
    net = FullyConnectedNet([6, 5], 4, 3, seed=4, **options)
    theta = ls.flatten_params(net) + 0.1 * rng.standard_normal(ls.flatten_params(net).size)
    ls.set_flat_params(net, theta)
    expected = float(net.loss(X, y)[0])
    ls.set_flat_params(net, theta - 0.1)

    def no_backward(*args):
        raise AssertionError("loss_at ran a backward pass")

    monkeypatch.setattr(net, "backward", no_backward)
    assert ls.loss_at(net, X, y)(theta) == expected  # bit for bit


def test_interpolation_endpoints_are_the_losses_at_both_ends():
    rng = np.random.default_rng(10)
    X, y = rng.standard_normal((10, 4)), rng.integers(0, 3, 10)
    ref, _ = twin_nets(seed=10)
    f = ls.loss_at(ref, X, y)
    a, b = ls.flatten_params(ref), rng.standard_normal(51)
    curve = ls.interpolate(f, a, b, np.linspace(0, 1, 11))
    assert curve.shape == (11,)
    assert curve[0] == f(a) and curve[-1] == f(b)
    np.testing.assert_allclose(ls.line(f, a, b - a, np.linspace(0, 1, 11)), curve, rtol=1e-12)
    d1, d2 = rng.standard_normal(51), rng.standard_normal(51)
    alphas, betas = np.linspace(-1, 1, 4), np.linspace(-0.5, 0.5, 3)
    Z = ls.plane(f, a, d1, d2, alphas, betas)
    assert Z.shape == (3, 4)
    assert Z[2, 1] == f(a + alphas[1] * d1 + betas[2] * d2)


def relu_net(seed=11):
    net = FullyConnectedNet([8], input_dim=4, num_classes=3, weight_scale=0.5, seed=seed)
    net.params["b1"] += 0.1
    return net


def test_filter_normalized_directions_ignore_the_relu_rescaling_symmetry():
    """W1 c, b1 c, W2 / c computes the same function; along a filter-normalized direction
    (the same random draw) the two nets have the same loss curve, along a raw one not."""
    rng = np.random.default_rng(12)
    X, y = rng.standard_normal((20, 4)), rng.integers(0, 3, 20)
    net, scaled, c = relu_net(), relu_net(), 10.0
    scaled.params["W1"] *= c
    scaled.params["b1"] *= c
    scaled.params["W2"] /= c
    np.testing.assert_allclose(scaled.loss(X), net.loss(X), rtol=1e-12)  # same function
    alphas = np.linspace(-1, 1, 9)
    curves, raw = [], []
    for model in (net, scaled):
        f, theta = ls.loss_at(model, X, y), ls.flatten_params(model)
        d = ls.filter_normalized_direction(model, np.random.default_rng(0))
        curves.append(ls.line(f, theta, d, alphas))
        raw.append(ls.line(f, theta, np.random.default_rng(0).standard_normal(theta.size), alphas))
    np.testing.assert_allclose(curves[1], curves[0], rtol=1e-10, atol=1e-12)
    assert np.abs(raw[1] - raw[0]).max() > 0.1
    assert curves[0].std() > 0.01  # the curve is not flat


def test_filter_normalized_direction_matches_filter_norms_in_both_layouts():
    net = relu_net()
    d = ls.filter_normalized_direction(net, np.random.default_rng(1))
    pieces = dict(zip(net.params, np.split(d, np.cumsum([p.size for p in net.params.values()]))))
    for name, p in net.params.items():
        piece = pieces[name].reshape(p.shape)
        if name.startswith("b"):
            assert not piece.any()  # ignore="biasbn"
        else:  # columns of (D_in, D_out)
            np.testing.assert_allclose(np.linalg.norm(piece, axis=0), np.linalg.norm(p, axis=0))
    # the raw draw is rng.standard_normal(P): each filter keeps its direction
    raw = np.random.default_rng(1).standard_normal(d.size)
    w1 = raw[:32].reshape(4, 8)
    assert abs(ls.cosine(w1[:, 0], pieces["W1"].reshape(4, 8)[:, 0]) - 1) < 1e-12
    # PyTorch's layout: filters are rows of (D_out, D_in)
    seq, _ = sequential_copy(net, torch.nn.ReLU)
    d = ls.filter_normalized_direction(seq, np.random.default_rng(1))
    weight = seq[0].weight.detach().numpy()
    np.testing.assert_allclose(
        np.linalg.norm(d[:32].reshape(8, 4), axis=1), np.linalg.norm(weight, axis=1)
    )
    assert not d[32:40].any()
    # a dict of arrays is "in_out" unless told otherwise
    params = {"W": np.ones((3, 2)), "b": np.ones(2)}
    by_rows = ls.filter_normalized_direction(params, np.random.default_rng(2), layout="out_in")
    by_cols = ls.filter_normalized_direction(params, np.random.default_rng(2))
    np.testing.assert_allclose(np.linalg.norm(by_rows[:6].reshape(3, 2), axis=1), math.sqrt(2))
    np.testing.assert_allclose(np.linalg.norm(by_cols[:6].reshape(3, 2), axis=0), math.sqrt(3))


def test_a_random_direction_is_nearly_orthogonal_to_a_fixed_displacement():
    rng = np.random.default_rng(13)
    for n in (100, 2500):
        fixed = rng.standard_normal(n)
        cos = np.array([ls.cosine(rng.standard_normal(n), fixed) for _ in range(2000)])
        assert n * (cos**2).mean() == pytest.approx(1, abs=0.1)  # E cos^2 = 1/n
        assert np.abs(cos).mean() * math.sqrt(n) == pytest.approx(math.sqrt(2 / math.pi), rel=0.1)


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------


def sgd(w, dw, config):
    return w - 0.1 * dw, config


BOWL = ls.Quadratic([1.0, 2.0])
NET = relu_net()
F = ls.loss_at(NET, np.ones((2, 4)), np.array([0, 1]))
BAD = [
    (
        lambda: ls.Quadratic([1.0, 0.0]),
        ValueError,
        r"eigenvalues must be finite and > 0, got 0.0",
    ),
    (lambda: ls.Quadratic([1.0, -2.0]), ValueError, r"eigenvalues must be .*> 0, got -2.0"),
    (lambda: ls.Quadratic([]), ValueError, r"eigenvalues must be a non-empty 1-D sequence"),
    (
        lambda: ls.Quadratic("12"),
        TypeError,
        r"eigenvalues must be a real number or an array of them, got str",
    ),
    (lambda: ls.Quadratic([1.0], angle=0.5), ValueError, r"angle must be 0 for a 1-D bowl"),
    (
        lambda: ls.Quadratic([1.0, 2.0], center=[0.0]),
        ValueError,
        r"center must have shape \(2,\), got \(1,\)",
    ),
    (
        lambda: ls.Quadratic.conditioned(0.5),
        ValueError,
        r"kappa must be finite and >= 1, got 0.5",
    ),
    (lambda: BOWL.value(np.ones(3)), ValueError, r"w must have shape \(\.\.\., 2\) .*got \(3,\)"),
    (
        lambda: ls.gd_rate(-0.1, 1.0),
        ValueError,
        r"alpha must be finite and > 0, got -0.1",
    ),
    (lambda: ls.gd_rate(0.1, np.nan), ValueError, r"lam must be finite, got nan"),
    (
        lambda: ls.momentum_rate(0.1, 1.0, 1.0),
        ValueError,
        r"beta must be in \[0, 1\), got 1.0",
    ),
    (
        lambda: ls.gd_optimal(2.0, 1.0),
        ValueError,
        r"lam_max must be >= lam_min, got lam_min=2.0, lam_max=1.0",
    ),
    (lambda: ls.momentum_optimal(0.0, 1.0), ValueError, r"lam_min must be finite and > 0, got 0.0"),
    (lambda: ls.gd_max_step(-1.0), ValueError, r"lam_max must be finite and > 0, got -1.0"),
    (
        lambda: ls.trajectory(BOWL, sgd, None, [1.0, 1.0], -1),
        ValueError,
        r"steps must be a non-negative integer, got -1",
    ),
    (
        lambda: ls.trajectory(BOWL, sgd, None, [1.0, 1.0], 2.5),
        TypeError,
        r"steps must be a non-negative integer, got 2.5",
    ),
    (
        lambda: ls.trajectory(BOWL, sgd, None, [1.0, 1.0, 1.0], 3),
        ValueError,
        r"w0 must have shape \(2,\), got \(3,\)",
    ),
    (
        lambda: ls.trajectory(BOWL, "sgd", None, [1.0, 1.0], 3),
        TypeError,
        r"rule must be an update rule .*got str",
    ),
    (
        lambda: ls.trajectory(BOWL, sgd, [0.1], [1.0, 1.0], 3),
        TypeError,
        r"config must be a dict .*got list",
    ),
    (
        lambda: ls.trajectory(object(), sgd, None, [1.0], 3),
        TypeError,
        r"quadratic must be .*with a gradient\(w\) method, got object",
    ),
    (
        lambda: ls.trajectory(BOWL, lambda w, dw, c: w, None, [1.0, 1.0], 3),
        TypeError,
        r"rule must return \(next_w, config\), got ndarray",
    ),
    (
        lambda: ls.trajectory(BOWL, lambda w, dw, c: (w[:1], c), None, [1.0, 1.0], 3),
        ValueError,
        r"rule must return next_w of shape \(2,\) like w, got \(1,\)",
    ),
    (
        lambda: ls.iterations_to(ls.Saddle(), sgd, None, [1.0, 1.0], 1e-3, 10),
        TypeError,
        r"quadratic must be a Quadratic .*got Saddle",
    ),
    (
        lambda: ls.iterations_to(BOWL, sgd, None, [1.0, 1.0], 0.0, 10),
        ValueError,
        r"tol must be finite and > 0, got 0.0",
    ),
    (
        lambda: ls.escape_steps(sgd, None, [1.0, 0.0], noise=0.1),
        TypeError,
        r"rng must be a numpy.random.Generator, got NoneType",
    ),
    (
        lambda: ls.escape_steps(sgd, None, [1.0, 0.0], noise=-0.1),
        ValueError,
        r"noise must be finite and >= 0, got -0.1",
    ),
    (
        lambda: ls.escape_steps(sgd, None, [1.0, 0.0], radius=0),
        ValueError,
        r"radius must be finite and > 0, got 0",
    ),
    (
        lambda: ls.random_critical_point_is_minimum(0, 10, np.random.default_rng()),
        ValueError,
        r"n must be a positive integer, got 0",
    ),
    (
        lambda: ls.random_critical_point_is_minimum(2, 10, 0),
        TypeError,
        r"rng must be a numpy.random.Generator, got 0",
    ),
    (
        lambda: ls.minibatch_gradient_variance(
            least_squares(), 200, [0, 5], 10, np.random.default_rng()
        ),
        ValueError,
        r"batch_sizes must be an integer in \[1, 200\], got 0",
    ),
    (
        lambda: ls.minibatch_gradient_variance(
            least_squares(), 200, [2.5], 10, np.random.default_rng()
        ),
        ValueError,
        r"batch_sizes must be an integer in \[1, 200\] or a non-empty 1-D sequence of them, "
        r"got \[2.5\]",
    ),
    (
        lambda: ls.minibatch_gradient_variance(None, 200, [5], 10, np.random.default_rng()),
        TypeError,
        r"grad_fn must be a function of example indices",
    ),
    (lambda: ls.predicted_variance(1.0, 1, 1), ValueError, r"n must be at least 2 .*got 1"),
    (
        lambda: ls.predicted_variance(-1.0, 10, 1),
        ValueError,
        r"per_example_variance must be finite and >= 0, got -1.0",
    ),
    (
        lambda: ls.predicted_variance(1.0, 10, 11),
        ValueError,
        r"b must be an integer in \[1, 10\], got 11",
    ),
    (
        lambda: ls.interpolate(F, np.zeros(67), np.zeros(66), [0.0]),
        ValueError,
        r"theta_b must have shape \(67,\), got \(66,\)",
    ),
    (
        lambda: ls.interpolate(F, np.zeros(67), np.zeros(67), [[0.0]]),
        ValueError,
        r"alphas must have 1 dimension, got shape \(1, 1\)",
    ),
    (
        lambda: ls.interpolate(3, np.zeros(67), np.zeros(67), [0.0]),
        TypeError,
        r"loss_fn must be a function of a flat parameter vector, got 3",
    ),
    (
        lambda: ls.line(F, np.zeros(67), np.zeros(5), [0.0]),
        ValueError,
        r"direction must have shape \(67,\), got \(5,\)",
    ),
    (
        lambda: ls.plane(F, np.zeros(67), np.zeros(67), np.zeros(3), [0.0], [0.0]),
        ValueError,
        r"d2 must have shape \(67,\), got \(3,\)",
    ),
    (lambda: F(np.zeros(66)), ValueError, r"theta must have shape \(67,\), got \(66,\)"),
    (
        lambda: ls.set_flat_params(NET, np.zeros(3)),
        ValueError,
        r"theta must have shape \(67,\), got \(3,\)",
    ),
    (
        lambda: ls.flatten_params("W1"),
        TypeError,
        r"params must be a nntrain.reference.FullyConnectedNet .*NumPy arrays; got str",
    ),
    (
        lambda: ls.flatten_params([np.ones(2), torch.ones(2)]),
        TypeError,
        r"params must hold NumPy arrays, got Tensor at position 1",
    ),
    (
        lambda: ls.hessian({"W": np.ones(2)}, np.ones((2, 2)), np.zeros(2)),
        TypeError,
        r"model must be a .*torch.nn.Module; got dict",
    ),
    (
        lambda: ls.hessian(NET, np.ones((2, 4)), np.array([0, 1]), eps=0),
        ValueError,
        r"eps must be finite and > 0, got 0",
    ),
    (
        lambda: ls.loss_at(NET, torch.ones(2, 4), np.array([0, 1])),
        TypeError,
        r"X must be a NumPy array, got Tensor",
    ),
    (
        lambda: ls.loss_at(NET, np.ones((2, 4)), np.array([0, 5]))(np.zeros(67)),
        ValueError,
        r"y must hold labels in \[0, 3\), got values from 0 to 5",
    ),
    (
        lambda: ls.filter_normalized_direction(NET, np.random.default_rng(), layout="rows"),
        ValueError,
        r"layout must be 'in_out' or 'out_in', got 'rows'",
    ),
    (
        lambda: ls.batch_gradient(NET, np.ones((2, 4)), np.array([0, 1]))([0.5]),
        ValueError,
        r"indices must be a non-empty 1-D array of integers, got float64",
    ),
    (lambda: ls.cosine(np.zeros(3), np.ones(3)), ValueError, r"u and v must be non-zero vectors"),
    (
        lambda: ls.Saddle().gradient(np.ones(3)),
        ValueError,
        r"w must have shape \(\.\.\., 2\) for the 2-D saddle, got \(3,\)",
    ),
]


@pytest.mark.parametrize("call, error, message", BAD)
def test_bad_input_is_refused_with_a_clear_message(call, error, message):
    with pytest.raises(error, match=message):
        call()
