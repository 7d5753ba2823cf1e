"""BG/NBD: the beta-geometric / negative binomial model of repeat buying.

Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
Pareto/NBD model", Marketing Science 24(2) — "FHL 2005" below. While alive a customer buys as a
Poisson process with rate λ ~ Gamma(r, α); after each repeat purchase they drop out with
probability p ~ Beta(a, b).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Self

import numpy as np
from scipy import special

from tierwise.models._base import (
    ArrayLike,
    FloatArray,
    Model,
    ModelFitError,
    Objective,
    as_float,
    maximise,
    read_columns,
    rfm_arrays,
    wsum,
)


def _off_one(a: float) -> float:
    """a, moved to 1 ± 1e-7 when closer: eqs. 9-10 are 0/0 at a = 1 but continuous there, and
    1e-7 away the bracket (of order a − 1) still keeps ~9 significant digits."""
    return a if abs(a - 1) > 1e-7 else 1 + math.copysign(1e-7, a - 1 or 1.0)


def _tail(a: float, b: float, r: float, x: FloatArray, z: FloatArray) -> FloatArray:
    f = special.hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
    scale = (a - 1) * np.log1p(-z)
    with np.errstate(invalid="ignore", divide="ignore"):
        # expm1 keeps the digits of a small bracket (short horizons); f <= 0 happens only when
        # a + b + x - 1 < 0 (x = 0 and a + b < 1), where the bracket is not small
        out = np.where(f > 0, -np.expm1(scale + np.log(f)), 1 - np.exp(scale) * f)
    return np.asarray(out, dtype=np.float64)


def _hyp2f1_tail(a: float, b: float, r: float, x: FloatArray, z: FloatArray) -> FloatArray:
    """``1 - (1-z)^(a-1) · 2F1(a+b-1-r, a-1; a+b+x-1; z)``.

    This is the bracket of FHL 2005 eq. 10 (and eq. 9 with x = 0),
    ``1 - (1-z)^(r+x) · 2F1(r+x, b+x; a+b+x-1; z)`` with ``z = t / (α+T+t)``, after Euler's
    transformation ``2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z)``. The original 2F1 has
    ``C-A-B = a-1-r-x``, very negative for frequent buyers, so it grows like ``(1-z)^(a-1-r-x)``
    and loses precision; the transformed one has ``C-A-B = r+x+1-a > 0``: its series converges
    on all of [0, 1] with a second parameter ``a-1`` of order one.

    2F1 is the costly part of scoring and depends on (x, z) only, where z depends on T alone
    for a fixed horizon: for many rows it is evaluated on the grid of distinct x and z (a few
    thousand points, not one per customer) and looked up.
    """
    x, z = np.broadcast_arrays(x, z)
    if x.size > 4096:
        flat_x, flat_z = x.ravel(), z.ravel()
        uz, iz = np.unique(flat_z, return_inverse=True)
        xi = flat_x.astype(np.int64)
        nx = int(xi.max()) + 1
        if uz.size * nx <= flat_x.size // 2:
            grid = _tail(a, b, r, np.arange(nx, dtype=np.float64)[:, None], uz[None, :])
            return np.asarray(grid[xi, iz].reshape(x.shape), dtype=np.float64)
    return _tail(a, b, r, x, z)


class BetaGeo(Model):
    """The BG/NBD model (FHL 2005), fitted by maximum likelihood on an RFM summary.

    Hyperparameters: ``penalizer`` (L2 on the log-parameters, default 0), ``tol`` (relative
    change of the mean log-likelihood that stops the optimiser), ``max_iter``.

    >>> from tierwise.models import BetaGeo, simulate_bgnbd
    >>> data = simulate_bgnbd(5000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39, seed=1)
    >>> model = BetaGeo().fit(data)
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    >>> model.p_alive([0, 2], [0.0, 30.0], [39.0, 39.0]).round(3).tolist()[0]
    1.0
    """

    _param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")

    def fit(self, summary: Any, *, time_unit: str | None = None) -> Self:
        """Fit on ``frequency, recency, T`` (and optional weights ``n_customers``).

        Raises ``ModelFitError`` (reason ``too_few_customers``, ``no_repeat_buyers``,
        ``no_convergence`` or ``non_finite_likelihood``).
        """
        self._check_params()
        cols, w = read_columns(summary, ("frequency", "recency", "T"), self._name)
        x, tx, t = rfm_arrays(cols["frequency"], cols["recency"], cols["T"])
        keep = w > 0
        x, tx, t, w = x[keep], tx[keep], t[keep], w[keep]
        n = float(w.sum())
        if n < len(self._param_names):
            raise ModelFitError(
                self._name,
                "too_few_customers",
                f"Got {n:g} customers; it estimates 4 parameters and needs many more "
                "(hundreds for stable estimates).",
            )
        if not (x > 0).any():
            raise ModelFitError(
                self._name, "no_repeat_buyers", f"All {n:g} customers have frequency 0."
            )
        objective = _objective(x, tx, t, w / n)
        # starting values: a purchase rate near the observed one, dropout near 1/3
        rate = float(np.average(x, weights=w) / np.average(t, weights=w)) + 1e-6
        start = np.log(np.array([1.0, 1.0 / rate, 1.0, 2.0]))
        fitted = maximise(
            objective,
            start,
            n,
            model=self._name,
            penalizer=self.penalizer,
            tol=self.tol,
            max_iter=self.max_iter,
        )
        self._store(fitted, n, time_unit)
        return self

    # --- scoring (numpy in, numpy out; any number of customers) -------------------------------

    def _log_odds_dead(self, x: FloatArray, tx: FloatArray, t: FloatArray) -> FloatArray:
        """log[ δ(x>0) · a/(b+x-1) · ((α+T)/(α+t_x))^(r+x) ]: the denominator of FHL 2005
        eq. 10 minus one (also Fader, Hardie & Lee 2008, "Computing P(alive) using the BG/NBD
        model"); -inf for x = 0."""
        r, alpha, a, b = self._theta("p_alive")
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.log(a / (b + x - 1)) + (r + x) * (np.log(alpha + t) - np.log(alpha + tx))
        return np.where(x > 0, out, -np.inf)

    def p_alive(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> FloatArray:
        """P(alive at T | x, t_x, T) (FHL 2005 eq. 10's denominator; FHL 2008 note): 1 for customers without a repeat.

        >>> from tierwise.models import BetaGeo
        >>> m = BetaGeo.from_dict({"model": "BetaGeo", "params": {"r": 0.243, "alpha": 4.414,
        ...     "a": 0.793, "b": 2.426}})
        >>> m.p_alive([0, 1], [0.0, 1.0], [39.0, 39.0]).round(3).tolist()
        [1.0, 0.187]
        """
        self._theta("p_alive")
        x, tx, t = rfm_arrays(frequency, recency, T)
        return np.asarray(special.expit(-self._log_odds_dead(x, tx, t)), dtype=np.float64)

    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` time units (FHL 2005 eq. 10).

        >>> from tierwise.models import BetaGeo
        >>> m = BetaGeo.from_dict({"model": "BetaGeo", "params": {"r": 0.243, "alpha": 4.414,
        ...     "a": 0.793, "b": 2.426}})
        >>> round(float(m.expected_purchases(39, 2, 30.43, 38.86)[0]), 3)
        1.226
        """
        r, alpha, a, b = self._theta("expected_purchases")
        a = _off_one(a)
        x, tx, big_t = rfm_arrays(frequency, recency, T)
        horizon = as_float("t", t)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = horizon / (alpha + big_t + horizon)
            bracket = _hyp2f1_tail(a, b, r, x, z)
            first = (a + b + x - 1) / (a - 1)
        alive = special.expit(-self._log_odds_dead(x, tx, big_t))
        return np.asarray(first * bracket * alive, dtype=np.float64)

    def expected_purchases_new(self, t: ArrayLike) -> FloatArray:
        """E[X(t)]: expected purchases of a new customer in ``t`` time units after the first
        (FHL 2005 eq. 9).

        >>> from tierwise.models import BetaGeo
        >>> m = BetaGeo.from_dict({"model": "BetaGeo", "params": {"r": 0.243, "alpha": 4.414,
        ...     "a": 0.793, "b": 2.426}})
        >>> round(float(m.expected_purchases_new(39)[0]), 3)
        1.197
        """
        r, alpha, a, b = self._theta("expected_purchases_new")
        a = _off_one(a)
        horizon = as_float("t", t)
        z = horizon / (alpha + horizon)
        bracket = _hyp2f1_tail(a, b, r, np.zeros_like(z), z)
        return np.asarray((a + b - 1) / (a - 1) * bracket, dtype=np.float64)

    def p_purchases(self, n: ArrayLike, t: ArrayLike) -> FloatArray:
        """P(X(t) = n): probability of exactly ``n`` repeat purchases in ``t`` time units after
        the first (FHL 2005 eq. 8). The sum over j < n of eq. 8 is the negative binomial
        distribution function, written as a regularised incomplete beta.

        >>> from tierwise.models import BetaGeo
        >>> m = BetaGeo.from_dict({"model": "BetaGeo", "params": {"r": 0.243, "alpha": 4.414,
        ...     "a": 0.793, "b": 2.426}})
        >>> m.p_purchases([0, 1, 2], 39).round(3).tolist()
        [0.574, 0.199, 0.085]
        """
        r, alpha, a, b = self._theta("p_purchases")
        k, horizon = np.broadcast_arrays(as_float("n", n), as_float("t", t))
        if ((k < 0) | (k != np.floor(k))).any():
            raise ValueError(f"n must hold whole numbers >= 0 (got {k[k != np.floor(k)][:3]}).")
        lb = special.betaln(a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_nb = (
                special.gammaln(r + k)
                - special.gammaln(r)
                - special.gammaln(k + 1)
                + r * np.log(alpha / (alpha + horizon))
                + special.xlogy(k, horizon / (alpha + horizon))
            )
            alive = np.exp(special.betaln(a, b + k) - lb + log_nb)
            # 1 - NB cdf(n-1) = I_{t/(α+t)}(n, r): bought n or more before dropping out at n
            tail = np.exp(special.betaln(a + 1, b + k - 1) - lb) * special.betainc(
                np.maximum(k, 1), r, horizon / (alpha + horizon)
            )
        return np.asarray(np.where(k > 0, alive + tail, alive), dtype=np.float64)


def _objective(x: FloatArray, tx: FloatArray, t: FloatArray, weight: FloatArray) -> Objective:
    """Negative mean log-likelihood of FHL 2005 eq. 6 and its analytic gradient in log θ.

    Eq. 6, with ``B(a+1, b+x-1) = B(a, b+x) · a/(b+x-1)``:
    ``L = Γ(r+x)α^r/Γ(r) · B(a,b+x)/B(a,b) · (α+T)^-(r+x) · [1 + δ(x>0) a/(b+x-1)
    ((α+T)/(α+t_x))^(r+x)]``, i.e. ``log L = c(x) − (r+x) log(α+T) + softplus(d)`` with
    ``d = log(a/(b+x-1)) − (r+x) log((α+t_x)/(α+T))``. Terms that depend on x only are computed
    once per distinct x (there are few) and weighted by that x's total weight; the rest is a
    handful of vectorised operations per row.
    """
    ux, inv = np.unique(x, return_inverse=True)
    urep = ux > 0
    xs = np.where(urep, ux, 1.0)  # safe x for the terms masked out when x = 0
    w_x = np.bincount(inv, weights=weight, minlength=ux.size)
    wx = weight * x

    def f(phi: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = np.exp(phi)
        with np.errstate(all="ignore"):
            # per distinct x
            c_x = (
                special.gammaln(r + ux)
                - special.gammaln(r)
                + r * np.log(alpha)
                + special.betaln(a, b + ux)
                - special.betaln(a, b)
            )
            ratio_x = np.where(urep, np.log(a) - np.log(b + xs - 1), -np.inf)
            ab = special.digamma(a + b) - special.digamma(a + b + ux)
            dr_x = special.digamma(r + ux) - special.digamma(r) + np.log(alpha)
            db_x = special.digamma(b + ux) - special.digamma(b) + ab
            inv_b_x = np.where(urep, 1 / (b + xs - 1), 0.0)
            # per row
            lat = np.log(alpha + t)
            diff = np.log(alpha + tx) - lat  # <= 0
            rw = r * weight + wx  # weight · (r + x)
            d = ratio_x[inv] - (r + x) * diff
            soft = np.logaddexp(0.0, d)
            omega = special.expit(d)  # share of the "dropped out after the last purchase" term
            w_omega = weight * omega
            value = float(w_x @ c_x) - wsum(rw, lat) + wsum(weight, soft)
            inv_at = 1 / (alpha + t)
            g_alpha = r / alpha - wsum(rw, inv_at + omega * (1 / (alpha + tx) - inv_at))
            g_r = float(w_x @ dr_x) - wsum(weight, lat) - wsum(w_omega, diff)
            s_omega = float(w_omega.sum())
            g_a = float(w_x @ ab) + s_omega / a
            g_b = float(w_x @ db_x) - float(
                np.bincount(inv, weights=w_omega, minlength=ux.size) @ inv_b_x
            )
        return -value, -np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])

    return f
