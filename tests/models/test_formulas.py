"""The closed forms (P(alive), expectations, likelihoods) against an independent slow path:
direct numerical integration of the individual-level model over the mixing distributions, or
simulation. None of these calls the function it checks."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy import integrate, special, stats

from tierwise.models import BetaGeo, GammaGamma, ParetoNBD, simulate_bgnbd, simulate_spend
from tierwise.models._pareto import _log_parts

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
F = Any  # numpy arrays of nodes
GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def _bg() -> BetaGeo:
    return BetaGeo.from_dict({"model": "BetaGeo", "params": BG})


#: panels of the composite Gauss-Legendre rule on (0, 1/2), finer towards 0; the upper half
#: is its mirror image, through the inverse survival function (no rounding of 1 - u)
EDGES = np.array(
    [0, 1e-12, 1e-10, 1e-8, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5]
)
NODES = 30


def _quantiles(dist: Any) -> tuple[F, F]:
    z, w = np.polynomial.legendre.leggauss(NODES)
    lo, hi = EDGES[:-1, None], EDGES[1:, None]
    u, wu = (lo + (z + 1) / 2 * (hi - lo)).ravel(), (w / 2 * (hi - lo)).ravel()
    return np.concatenate([dist.ppf(u), dist.isf(u)]), np.concatenate([wu, wu])


def _mixture(first: Any, second: Any) -> tuple[F, F, F]:
    """Composite Gauss-Legendre nodes on the unit square mapped through the two quantile
    functions: ∫∫ h dF1 dF2 = ∫∫ h(F1⁻¹(u), F2⁻¹(v)) du dv. Returns the two node grids and
    the weights."""
    q1, w1 = _quantiles(first)
    q2, w2 = _quantiles(second)
    one, two = np.meshgrid(q1, q2, indexing="ij")
    return one, two, np.outer(w1, w2)


def _over_lambda_p(h: Callable[[F, F], F], r: float, alpha: float, a: float, b: float) -> float:
    """∫∫ h(λ, p) dGamma(λ; r, α) dBeta(p; a, b), numerically."""
    lam, p, w = _mixture(stats.gamma(r, scale=1 / alpha), stats.beta(a, b))
    return float((h(lam, p) * w).sum())


@pytest.mark.parametrize(("x", "tx", "T"), [(2, 30.43, 38.86), (1, 1.71, 38.86), (6, 20.0, 30.0)])
def test_bgnbd_p_alive_and_expectation_by_integration(x: int, tx: float, T: float) -> None:
    r, alpha, a, b = BG.values()
    t = 39.0

    def alive(lam: F, p: F) -> F:  # still alive: no dropout after any purchase
        return (1 - p) ** x * lam**x * np.exp(-lam * T)

    def dead(lam: F, p: F) -> F:  # dropped out right after the last purchase
        return p * (1 - p) ** (x - 1) * lam**x * np.exp(-lam * tx) if x > 0 else 0 * p

    def future(lam: F, p: F) -> F:  # FHL 2005 eq. 7 for an active customer
        return alive(lam, p) * (1 - np.exp(-lam * p * t)) / p

    total = _over_lambda_p(lambda u, v: alive(u, v) + dead(u, v), r, alpha, a, b)
    p_alive = _over_lambda_p(alive, r, alpha, a, b) / total
    expected = _over_lambda_p(future, r, alpha, a, b) / total
    m = _bg()
    assert m.p_alive(x, tx, T)[0] == pytest.approx(p_alive, rel=1e-5)
    assert m.expected_purchases(t, x, tx, T)[0] == pytest.approx(expected, rel=1e-5)


def test_bgnbd_likelihood_by_integration() -> None:
    # eq. 6 is the integral of the individual likelihood; the fit's loglik_ is its sum
    r, alpha, a, b = BG.values()
    x, tx, T = 3, 25.0, 38.0
    direct = _over_lambda_p(
        lambda lam, p: (
            (1 - p) ** x * lam**x * np.exp(-lam * T)
            + p * (1 - p) ** (x - 1) * lam**x * np.exp(-lam * tx)
        ),
        r,
        alpha,
        a,
        b,
    )
    from tierwise.models._bgnbd import _objective

    f = _objective(np.array([x], float), np.array([tx]), np.array([T]), np.array([1.0]))
    value, _ = f(np.log(np.array(list(BG.values()))))
    assert -value == pytest.approx(math.log(direct), abs=1e-7)


@pytest.mark.parametrize(
    "params",
    [BG, {"r": 3.2, "alpha": 27.0, "a": 0.25, "b": 0.38}],  # the second: a + b < 1
)
def test_bgnbd_unconditional_and_count_distribution_by_integration(
    params: dict[str, float],
) -> None:
    r, alpha, a, b = params.values()
    t = 39.0
    m = BetaGeo.from_dict({"model": "BetaGeo", "params": params})
    # E[X(t)] = E_p[(1 − E_λ e^(−λpt)) / p] with E_λ e^(−λpt) = (α/(α+pt))^r: one dimension
    # left, integrated against the Beta density's algebraic weight p^(a−1) (1−p)^(b−1)
    # (QUADPACK's "alg" rule; the density is singular at 0 and 1 for the second case)
    integral, _ = integrate.quad(
        lambda p: -math.expm1(-r * math.log1p(p * t / alpha)) / p if p > 0 else r * t / alpha,
        0,
        1,
        weight="alg",
        wvar=(a - 1, b - 1),
        epsabs=1e-13,
        epsrel=1e-12,
    )
    expected = integral / float(np.exp(special.betaln(a, b)))
    assert expected == pytest.approx(
        _over_lambda_p(lambda lam, p: (1 - np.exp(-lam * p * t)) / p, r, alpha, a, b), rel=1e-3
    )
    assert m.expected_purchases_new(t)[0] == pytest.approx(expected, rel=1e-6)
    probs = m.p_purchases(np.arange(400), t)
    assert probs.sum() == pytest.approx(1.0, abs=1e-9)
    assert float(np.arange(400) @ probs) == pytest.approx(expected, rel=1e-6)


def test_bgnbd_formulas_agree_with_simulation() -> None:
    t = 39.0
    sim = simulate_bgnbd(400_000, BG, T=t, seed=7)
    x = sim.get_column("frequency").to_numpy()
    m = _bg()
    se = x.std() / math.sqrt(x.size)
    assert abs(x.mean() - m.expected_purchases_new(t)[0]) < 4 * se
    counts = np.bincount(x, minlength=4)[:4] / x.size
    assert counts == pytest.approx(m.p_purchases(np.arange(4), t), abs=4e-3)


def test_bgnbd_expectation_is_stable_for_frequent_buyers() -> None:
    # without Euler's transformation 2F1(r+x, b+x; a+b+x-1; z) overflows near z = 1 for
    # large x; the bracket is then 1 and E[Y(t)] tends to the active buyer's rate × t
    m = _bg()
    x = np.array([0, 5, 50, 200, 1000], float)
    T = np.full(5, 40.0)
    e = m.expected_purchases(1000.0, x, T * 0.999, T)
    assert np.all(np.isfinite(e)) and np.all(np.diff(e) > 0)
    e_small = m.expected_purchases(1e-4, x, T, T)
    # over a very short horizon: P(alive) × the active buyer's posterior rate (r+x)/(α+T),
    # with P(alive) = 1 / (1 + a/(b+x-1)) when the last purchase was at T
    alive = np.where(x > 0, 1 / (1 + 0.793 / (2.426 + x - 1)), 1.0)
    assert e_small / 1e-4 == pytest.approx(alive * (0.243 + x) / (4.414 + 40.0), rel=1e-3)


def _over_lambda_mu(h: Callable[[F, F], F], r: float, alpha: float, s: float, beta: float) -> float:
    """∫∫ h(λ, μ) dGamma(λ; r, α) dGamma(μ; s, β), numerically."""
    lam, mu, w = _mixture(stats.gamma(r, scale=1 / alpha), stats.gamma(s, scale=1 / beta))
    return float((h(lam, mu) * w).sum())


@pytest.mark.parametrize(
    "params",
    [
        PARETO,  # alpha < beta
        {"r": 0.553, "alpha": 15.0, "s": 0.606, "beta": 6.0},  # alpha > beta
        {"r": 0.7, "alpha": 8.0, "s": 1.3, "beta": 8.0},  # alpha = beta
    ],
)
@pytest.mark.parametrize(("x", "tx", "T"), [(2, 30.43, 38.86), (0, 0.0, 20.0), (5, 10.0, 36.0)])
def test_pareto_likelihood_and_p_alive_by_integration(
    params: dict[str, float], x: int, tx: float, T: float
) -> None:
    r, alpha, s, beta = params.values()

    def alive(lam: F, mu: F) -> F:
        return lam**x * np.exp(-(lam + mu) * T)

    def dead(lam: F, mu: F) -> F:  # died between t_x and T
        return lam**x * mu / (lam + mu) * (np.exp(-(lam + mu) * tx) - np.exp(-(lam + mu) * T))

    total = _over_lambda_mu(lambda u, v: alive(u, v) + dead(u, v), r, alpha, s, beta)
    common, l1, l2 = _log_parts(
        (r, alpha, s, beta), np.array([float(x)]), np.array([tx]), np.array([T])
    )
    assert float(common[0] + np.logaddexp(l1, l2)[0]) == pytest.approx(math.log(total), abs=1e-6)
    m = ParetoNBD.from_dict({"model": "ParetoNBD", "params": params})
    p_alive = _over_lambda_mu(alive, r, alpha, s, beta) / total
    assert m.p_alive(x, tx, T)[0] == pytest.approx(p_alive, rel=1e-5)
    t = 39.0
    future = _over_lambda_mu(
        lambda u, v: alive(u, v) * u / v * (1 - np.exp(-v * t)), r, alpha, s, beta
    )
    assert m.expected_purchases(t, x, tx, T)[0] == pytest.approx(future / total, rel=1e-4)


def test_pareto_unconditional_expectation_by_integration() -> None:
    r, alpha, s, beta = PARETO.values()
    m = ParetoNBD.from_dict({"model": "ParetoNBD", "params": PARETO})
    direct = _over_lambda_mu(lambda lam, mu: lam / mu * (1 - np.exp(-mu * 39.0)), r, alpha, s, beta)
    assert m.expected_purchases_new(39.0)[0] == pytest.approx(direct, rel=1e-5)


def test_gamma_gamma_expected_spend_by_hand() -> None:
    m = GammaGamma.from_dict({"model": "GammaGamma", "params": GG})
    p, q, g = GG.values()
    # x = 0: the population mean p·γ/(q−1) = 96.5 / 2.74
    # x = 2, m = 30: (p·γ + p·x·m) / (p·x + q − 1) = (96.5 + 375) / 15.24
    got = m.expected_spend([0, 2], [0.0, 30.0])
    assert got.tolist() == pytest.approx([96.5 / 2.74, 471.5 / 15.24])
    assert m.mean_spend() == pytest.approx(p * g / (q - 1))


def test_gamma_gamma_expected_spend_agrees_with_simulation() -> None:
    # E[transaction value | observed mean of x] by simulation: customers whose observed mean
    # of 3 values falls near 30 have a true mean (p/ν) whose average is the conditional one
    rng = np.random.default_rng(3)
    p, q, g = GG.values()
    nu = rng.gamma(q, 1 / g, 2_000_000)
    mean3 = rng.gamma(p * 3, 1 / nu) / 3
    near = np.abs(mean3 - 30.0) < 0.25
    truth = float((p / nu[near]).mean())
    m = GammaGamma.from_dict({"model": "GammaGamma", "params": GG})
    assert m.expected_spend(3, 30.0)[0] == pytest.approx(truth, rel=0.01)


def test_gamma_gamma_likelihood_by_integration() -> None:
    p, q, g = GG.values()
    x, z = 3, 25.0
    # density of the mean of x Gamma(p, ν) values, integrated over ν ~ Gamma(q, γ)
    direct, _ = integrate.quad(
        lambda nu: (
            stats.gamma.pdf(z, p * x, scale=1 / (nu * x)) * stats.gamma.pdf(nu, q, scale=1 / g)
        ),
        0,
        np.inf,
        epsabs=1e-14,
    )
    m = GammaGamma(max_iter=1)
    spend = {"frequency": np.array([x, x, x, x]), "monetary_value": np.full(4, z)}
    # the fitted log-likelihood is the sum of log densities: check it through a fixed point
    from scipy import special

    closed = (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * math.log(g)
        + (p * x - 1) * math.log(z)
        + p * x * math.log(x)
        - (p * x + q) * math.log(g + x * z)
    )
    assert closed == pytest.approx(math.log(direct), abs=1e-8)
    del m, spend


def test_simulated_spend_has_the_model_mean() -> None:
    x = np.full(400_000, 4)
    spend = simulate_spend(x, GG, seed=5)
    p, q, g = GG.values()
    # E[mean of x values] = p·γ/(q−1) for every x
    assert spend.mean() == pytest.approx(p * g / (q - 1), rel=0.01)
    assert simulate_spend([0, 0], GG, seed=1).tolist() == [0.0, 0.0]


def test_bgnbd_expectations_are_continuous_through_a_equal_one() -> None:
    # eqs. 9-10 divide by a − 1; the limit a → 1 is finite and the values are continuous
    def at(a: float) -> list[float]:
        m = BetaGeo.from_dict(
            {"model": "BetaGeo", "params": {"r": 0.3, "alpha": 4.0, "a": a, "b": 2.5}}
        )
        return [
            *m.expected_purchases(52, [0, 3], [0.0, 20.0], [39.0, 39.0]).tolist(),
            float(m.expected_purchases_new(52)[0]),
        ]

    for a in (1.0, 1 + 1e-9, 1 - 1e-9):
        assert at(a) == pytest.approx(at(1 + 1e-4), rel=1e-4)
        assert at(a) == pytest.approx(at(1 - 1e-4), rel=1e-4)
