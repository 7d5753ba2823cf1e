"""Customer lifetime value from a transaction model and a spend model.

Discounted expected value over a horizon, in the spirit of Fader, Hardie & Lee (2005), "RFM and
CLV": the horizon is cut into steps; each step contributes the expected number of purchases in it
(a difference of the conditional expectation E[Y(t) | x, t_x, T]) times the expected spend per
purchase (Gamma-Gamma), discounted to today.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from tierwise.errors import DataError
from tierwise.models._base import ArrayLike, FloatArray, as_float, rfm_arrays
from tierwise.models._gamma import GammaGamma


class TransactionModel(Protocol):
    def expected_purchases(
        self, t: ArrayLike, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike
    ) -> FloatArray: ...


def clv(
    transaction_model: TransactionModel,
    spend_model: GammaGamma,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary_value: ArrayLike,
    *,
    horizon: float,
    discount_rate: float,
    step: float = 1.0,
) -> FloatArray:
    """Discounted expected value of each customer over the next ``horizon`` time units.

    Time is in the unit the models were fitted in (the summary's ``time_unit``: days or weeks):
    ``horizon`` and ``step`` are in that unit, and ``discount_rate`` is the rate **per step**
    (e.g. weekly data, ``step=4.345`` weeks ≈ one month and a monthly rate of 0.01). The
    horizon is cut into ``ceil(horizon / step)`` steps (the last may be shorter); purchases of
    step k (ending at t_k = min(k·step, horizon)) are discounted by ``1 / (1 + discount_rate)^k``:

        CLV = Σ_k (E[Y(t_k)] − E[Y(t_(k−1))]) · E[spend] / (1 + d)^k

    The loop is over steps, not customers; each step is vectorised over all of them.

    >>> from tierwise.models import BetaGeo, GammaGamma, clv
    >>> bg = BetaGeo.from_dict({"model": "BetaGeo", "params": {"r": 0.243, "alpha": 4.414,
    ...     "a": 0.793, "b": 2.426}})
    >>> gg = GammaGamma.from_dict({"model": "GammaGamma", "params": {"p": 6.25, "q": 3.74,
    ...     "gamma": 15.44}})
    >>> v = clv(bg, gg, [2], [30.43], [38.86], [22.35], horizon=52, discount_rate=0.0, step=52)
    >>> bool(abs(v[0] - bg.expected_purchases(52, 2, 30.43, 38.86)[0]
    ...          * gg.expected_spend(2, 22.35)[0]) < 1e-9)
    True
    """
    if not (math.isfinite(horizon) and horizon > 0):
        raise DataError(
            f"horizon must be > 0 (got {horizon!r}).", key="models.bad_horizon", value=horizon
        )
    if not (math.isfinite(step) and step > 0):
        raise DataError(f"step must be > 0 (got {step!r}).", key="models.bad_step", value=step)
    if not (math.isfinite(discount_rate) and discount_rate > -1):
        raise DataError(
            f"discount_rate must be > -1, a rate per step such as 0.01 (got {discount_rate!r}).",
            key="models.bad_discount_rate",
            value=discount_rate,
        )
    x, tx, t = rfm_arrays(frequency, recency, T)
    m = np.broadcast_to(as_float("monetary_value", monetary_value), x.shape)
    spend = spend_model.expected_spend(x, m)
    steps = math.ceil(horizon / step - 1e-9)
    total = np.zeros(x.shape)
    before = np.zeros(x.shape)
    for k in range(1, steps + 1):  # over steps, not customers
        now = transaction_model.expected_purchases(min(k * step, horizon), x, tx, t)
        total += (now - before) / (1 + discount_rate) ** k
        before = now
    return np.asarray(total * spend, dtype=np.float64)
