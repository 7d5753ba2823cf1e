"""Pareto/NBD: Poisson purchases at rate λ ~ Gamma(r, α) until an exponential lifetime with
rate μ ~ Gamma(s, β) ends (Schmittlein, Morrison & Colombo 1987).

The likelihood, P(alive) and the conditional expectation follow Fader & Hardie (2005), "A Note on
Deriving the Pareto/NBD Model and Related Expressions" ("FH 2005 note" below).
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
from scipy import special

from tierwise.models._base import (
    ArrayLike,
    FloatArray,
    Model,
    ModelFitError,
    as_float,
    maximise,
    read_columns,
    rfm_arrays,
    with_fd_gradient,
    wsum,
)


def _log_2f1_c_eq_a_plus_1(a: FloatArray, b: FloatArray, z: FloatArray) -> FloatArray:
    """log 2F1(a, b; a+1; z) for 0 <= z < 1, through Euler's transformation
    ``2F1(a,b;a+1;z) = (1-z)^(1-b) 2F1(1, a+1-b; a+1; z)``: the new series has positive terms
    whose ratio is below z, so it is well conditioned even near z = 1 (where the original
    grows like (1-z)^(-s))."""
    out = (1 - b) * np.log1p(-z) + np.log(special.hyp2f1(1.0, a + 1 - b, a + 1, z))
    return np.asarray(out, dtype=np.float64)


def _log_parts(
    theta: tuple[float, ...], x: FloatArray, tx: FloatArray, t: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(log of the common factor, log L1, log L2) of the individual likelihood (FH 2005 note):

    ``L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^-(r+x) (β+T)^-s + s/(r+s+x) · A0 ]`` with, for
    α >= β, ``A0 = 2F1(r+s+x, s+1; r+s+x+1; (α-β)/(α+t_x)) / (α+t_x)^(r+s+x) − (same at T)``
    and, for α < β, ``2F1(r+s+x, r+x; r+s+x+1; (β-α)/(β+·))`` over ``(β+·)^(r+s+x)``: the
    argument stays in [0, 1) whichever of α, β is larger (α = β gives z = 0, 2F1 = 1).
    A0 is a difference of two positive terms; it is taken in log space as
    ``log u + log(1 − exp(log v − log u))``.
    """
    r, alpha, s, beta = theta
    rsx = r + s + x
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    log_l1 = -(r + x) * np.log(alpha + t) - s * np.log(beta + t)
    if alpha >= beta:
        big, second = alpha, np.full_like(x, s + 1)
    else:
        big, second = beta, r + x
    gap = abs(alpha - beta)

    def term(tau: FloatArray) -> FloatArray:
        return _log_2f1_c_eq_a_plus_1(rsx, second, gap / (big + tau)) - rsx * np.log(big + tau)

    at_tx, at_t = term(tx), term(t)
    log_a0 = at_tx + np.log(-np.expm1(np.minimum(at_t - at_tx, 0.0)))
    log_l2 = np.log(s / rsx) + log_a0
    return common, log_l1, log_l2


class ParetoNBD(Model):
    """The Pareto/NBD model, fitted by maximum likelihood on an RFM summary (FH 2005 note).

    >>> from tierwise.models import ParetoNBD
    >>> m = ParetoNBD.from_dict({"model": "ParetoNBD", "params": {"r": 0.553, "alpha": 10.578,
    ...     "s": 0.606, "beta": 11.669}})
    >>> m.p_alive([0, 2], [0.0, 30.43], [38.86, 38.86]).round(3).tolist()
    [0.295, 0.869]
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")

    def fit(self, summary: Any, *, time_unit: str | None = None) -> Self:
        """Fit on ``frequency, recency, T`` (and optional weights ``n_customers``)."""
        self._check_params()
        cols, w = read_columns(summary, ("frequency", "recency", "T"), self._name)
        x, tx, t = rfm_arrays(cols["frequency"], cols["recency"], cols["T"])
        keep = w > 0
        x, tx, t, w = x[keep], tx[keep], t[keep], w[keep]
        n = float(w.sum())
        if n < len(self._param_names):
            raise ModelFitError(
                self._name, "too_few_customers", f"Got {n:g} customers; it estimates 4 parameters."
            )
        if not (x > 0).any():
            raise ModelFitError(
                self._name, "no_repeat_buyers", f"All {n:g} customers have frequency 0."
            )
        share = w / n

        def nll(phi: FloatArray) -> float:
            theta = tuple(float(v) for v in np.exp(phi))
            with np.errstate(all="ignore"):
                common, l1, l2 = _log_parts(theta, x, tx, t)
                value = -wsum(share, common + np.logaddexp(l1, l2))
            return value if np.isfinite(value) else np.inf

        rate = float(np.average(x, weights=w) / np.average(t, weights=w)) + 1e-6
        mean_t = float(np.average(t, weights=w))
        start = np.log(np.array([1.0, 1.0 / rate, 1.0, mean_t]))
        fitted = maximise(
            with_fd_gradient(nll),
            start,
            n,
            model=self._name,
            penalizer=self.penalizer,
            tol=self.tol,
            max_iter=self.max_iter,
            values=nll,
        )
        self._store(fitted, n, time_unit)
        return self

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """P(alive at T | x, t_x, T) = L1 / (L1 + s/(r+s+x)·A0) (FH 2005 note)."""
        theta = self._theta("p_alive")
        x, tx, t = rfm_arrays(frequency, recency, T)
        with np.errstate(all="ignore"):
            _, l1, l2 = _log_parts(theta, x, tx, t)
        return np.asarray(special.expit(l1 - l2), dtype=np.float64)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T] (FH 2005 note):
        ``(r+x)(β+T) / ((α+T)(s-1)) · [1 − ((β+T)/(β+T+t))^(s-1)] · P(alive)``,
        with the s → 1 limit ``(r+x)/(α+T) · (β+T) · log((β+T+t)/(β+T))``."""
        r, alpha, s, beta = self._theta("expected_purchases")
        x, tx, big_t = rfm_arrays(frequency, recency, T)
        horizon = as_float("t", t)
        log_ratio = np.log1p(horizon / (beta + big_t))  # log((β+T+t)/(β+T)) >= 0
        # [1 - exp(-(s-1)·log_ratio)] / (s-1), continuous through s = 1
        growth = -np.expm1(-(s - 1) * log_ratio) / (s - 1) if abs(s - 1) > 1e-8 else log_ratio
        alive = self.p_alive(x, tx, big_t)
        return np.asarray((r + x) * (beta + big_t) / (alpha + big_t) * growth * alive)

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray:
        """E[X(t)] for a new customer (FH 2005 note): ``rβ/(α(s-1)) [1 − (β/(β+t))^(s-1)]``."""
        r, alpha, s, beta = self._theta("expected_purchases_new")
        log_ratio = np.log1p(as_float("t", t) / beta)
        growth = -np.expm1(-(s - 1) * log_ratio) / (s - 1) if abs(s - 1) > 1e-8 else log_ratio
        return np.asarray(r * beta / alpha * growth, dtype=np.float64)
