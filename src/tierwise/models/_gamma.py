"""Gamma-Gamma model of the average transaction value.

Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base analysis",
JMR 42(4), and Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value" (after Colombo &
Jiang 1999). A customer's transactions are Gamma(p, ν) with ν ~ Gamma(q, γ) across customers; the
mean z̄ of x transactions is then Gamma(px, νx), and, integrating ν out,

    f(z̄ | p, q, γ, x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q · z̄^(px-1) · x^(px) / (γ + x z̄)^(px+q).

Spend is assumed independent of the purchase process, so it is fitted on the repeat buyers'
mean repeat value only (the first purchase is left out, as in the papers).
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
from scipy import special

from tierwise.errors import DataError
from tierwise.models._base import (
    ArrayLike,
    FloatArray,
    Model,
    ModelFitError,
    as_float,
    maximise,
    read_columns,
    wsum,
)


class GammaGamma(Model):
    """Gamma-Gamma spend model: ``params_`` are p, q, gamma.

    >>> from tierwise.models import GammaGamma
    >>> m = GammaGamma.from_dict({"model": "GammaGamma", "params": {"p": 6.25, "q": 3.74,
    ...     "gamma": 15.44}})
    >>> m.expected_spend([0, 2], [0.0, 30.0]).round(2).tolist()
    [35.22, 30.94]
    """

    _param_names: ClassVar[tuple[str, ...]] = ("p", "q", "gamma")

    def fit(self, summary: Any, *, time_unit: str | None = None) -> Self:
        """Fit on ``frequency, monetary_value`` (and optional ``n_customers``); customers
        with frequency 0 are left out (they have no repeat value)."""
        self._check_params()
        cols, w = read_columns(summary, ("frequency", "monetary_value"), self._name)
        x, m = cols["frequency"], cols["monetary_value"]
        keep = (x > 0) & (w > 0)
        if not keep.any():
            raise ModelFitError(
                self._name,
                "no_repeat_buyers",
                f"None of the {float(w.sum()):g} customers has frequency > 0; Gamma-Gamma is "
                "fitted on the repeat buyers' mean repeat value.",
            )
        x, m, w = x[keep], m[keep], w[keep]
        bad = m <= 0
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise DataError(
                f'Column "monetary_value" has {int(bad.sum())} repeat buyers with a value <= 0 '
                f"(first: {m[first]!r}). Gamma-Gamma needs positive spend: drop them or "
                "exclude refunds from the value.",
                key="models.bad_spend",
                count=int(bad.sum()),
                value=float(m[first]),
            )
        n = float(w.sum())
        if n < len(self._param_names):
            raise ModelFitError(
                self._name,
                "too_few_customers",
                f"Got {n:g} repeat buyers; it estimates 3 parameters.",
            )
        share = w / n
        # terms in x alone are computed once per distinct x (few); per row only log(γ + x·m̄)
        # and 1/(γ + x·m̄) remain (FH 2013, the log-likelihood of the mean z̄ of x values)
        ux, inv = np.unique(x, return_inverse=True)
        w_x = np.bincount(inv, weights=share, minlength=ux.size)
        log_ux = np.log(ux)
        log_m = np.log(m)
        s_log_m = wsum(share, log_m)
        s_x_log_m = wsum(share * x, log_m)
        wx = share * x

        def objective(phi: FloatArray) -> tuple[float, FloatArray]:
            p, q, g = np.exp(phi)
            with np.errstate(all="ignore"):
                pu = p * ux
                per_x = special.gammaln(pu + q) - special.gammaln(pu) + pu * log_ux
                dig = special.digamma(pu + q)
                xm = g + x * m
                log_den = np.log(xm)
                coef = p * wx + q * share  # weight · (p·x + q)
                value = (
                    float(w_x @ per_x)
                    - special.gammaln(q)
                    + q * np.log(g)
                    + p * s_x_log_m
                    - s_log_m
                    - wsum(coef, log_den)
                )
                d_p = (
                    float(w_x @ (ux * (dig - special.digamma(pu) + log_ux)))
                    + s_x_log_m
                    - wsum(wx, log_den)
                )
                d_q = float(w_x @ dig) - special.digamma(q) + np.log(g) - wsum(share, log_den)
                d_g = q / g - wsum(coef, 1 / xm)
            return -value, -np.array([d_p * p, d_q * q, d_g * g])

        mean = wsum(share, m)
        # start: E[z̄] = pγ/(q-1) near the observed mean
        start = np.log(np.array([1.0, 2.0, mean]))
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

    def expected_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> FloatArray:
        """E[M | p, q, γ, m̄_x, x] = (pγ + p·x·m̄_x) / (p·x + q − 1): the conditional expected
        average transaction value (FHL 2005 "RFM and CLV"; Fader & Hardie 2013; a weighted mean of the
        population mean pγ/(q−1) and the observed mean). x = 0 gives the population mean."""
        p, q, g = self._theta("expected_spend")
        x, m = np.broadcast_arrays(
            as_float("frequency", frequency), as_float("monetary_value", monetary_value)
        )
        m = np.where(x > 0, m, 0.0)
        return np.asarray((p * g + p * x * m) / (p * x + q - 1), dtype=np.float64)

    def mean_spend(self) -> float:
        """The population mean transaction value pγ/(q−1) (finite for q > 1)."""
        p, q, g = self._theta("mean_spend")
        return float(p * g / (q - 1)) if q > 1 else float("inf")
