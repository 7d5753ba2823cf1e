"""Seasonality of the demo data: shopping festivals, Chinese New Year, weekdays, hours.

Time inside the generator is a float number of days since ``start`` 00:00. Purchases follow a
non-homogeneous Poisson process whose intensity is ``λ · s(t)``; it is simulated as a homogeneous
process in "operational time" ``S(t) = ∫ s`` and mapped back through ``S⁻¹`` (time change
theorem), which keeps the BG/NBD dropout mechanics exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# fmt: off
# Spring Festival (春节) dates
CHINESE_NEW_YEAR: dict[int, date] = {
    2015: date(2015, 2, 19), 2016: date(2016, 2, 8), 2017: date(2017, 1, 28),
    2018: date(2018, 2, 16), 2019: date(2019, 2, 5), 2020: date(2020, 1, 25),
    2021: date(2021, 2, 12), 2022: date(2022, 2, 1), 2023: date(2023, 1, 22),
    2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
    2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13),
    2030: date(2030, 2, 3), 2031: date(2031, 1, 23), 2032: date(2032, 2, 11),
    2033: date(2033, 1, 31), 2034: date(2034, 2, 19), 2035: date(2035, 2, 8),
}

# relative order intensity per hour of day
_HOURS_B2C = np.array(
    [0.7, 0.35, 0.15, 0.08, 0.06, 0.1, 0.25, 0.55, 0.9, 1.3, 1.6, 1.6, 1.4, 1.3, 1.4, 1.5,
     1.4, 1.3, 1.3, 1.6, 2.0, 2.3, 2.1, 1.4]
)
_HOURS_OFFICE = np.array(
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.03, 0.2, 1.0, 2.4, 2.8, 2.3, 0.9, 1.5, 2.6, 2.6, 2.2,
     1.4, 0.5, 0.25, 0.15, 0.08, 0.03, 0.0]
)
# fmt: on


@dataclass(frozen=True)
class Calendar:
    """Daily grids over ``[start, start + days)`` used by every table."""

    start: date
    days: int
    month: I64  # 1..12 per day
    dom: I64  # day of month
    weekday: I64  # Monday = 0
    s_b2c: F64  # cumulative intensity S at day boundaries, len days + 1
    s_b2b: F64
    promo: F64  # discount propensity multiplier per day (双十一, 618, 年货节)

    def to_operational(self, t: F64, b2b: npt.NDArray[np.bool_]) -> F64:
        grid = np.arange(self.days + 1, dtype=np.float64)
        return np.where(b2b, np.interp(t, grid, self.s_b2b), np.interp(t, grid, self.s_b2c))

    def from_operational(self, tau: F64, b2b: npt.NDArray[np.bool_]) -> F64:
        grid = np.arange(self.days + 1, dtype=np.float64)
        out = np.empty_like(tau)
        out[b2b] = np.interp(tau[b2b], self.s_b2b, grid)
        out[~b2b] = np.interp(tau[~b2b], self.s_b2c, grid)
        return out


def build_calendar(start: date, end: date) -> Calendar:
    days = (end - start).days + 1
    d = np.datetime64(start, "D") + np.arange(days)
    months = d.astype("datetime64[M]")
    month = (months.astype(np.int64) % 12 + 1).astype(np.int64)
    dom = ((d - months.astype("datetime64[D]")).astype(np.int64) + 1).astype(np.int64)
    weekday = ((d.astype(np.int64) + 3) % 7).astype(np.int64)  # 1970-01-01 was a Thursday
    weekend = weekday >= 5

    b2c = np.ones(days)
    b2b = np.ones(days)
    promo = np.ones(days)
    b2c[weekend] *= 1.12
    b2b[weekend] *= 0.22

    # 双十一: pre-sale from late October, the day itself, the tail
    presale = ((month == 10) & (dom >= 24)) | ((month == 11) & (dom <= 10))
    b2c[presale] *= 1.6
    b2c[(month == 11) & (dom == 11)] *= 10.0
    b2c[(month == 11) & (dom >= 12) & (dom <= 15)] *= 1.8
    promo[presale | ((month == 11) & (dom == 11))] *= 2.6
    b2b[(month == 11) & (dom <= 11)] *= 1.1
    # 双十二
    b2c[(month == 12) & (dom == 12)] *= 2.0
    # 618
    b2c[(month == 6) & (dom <= 17)] *= 1.35
    b2c[(month == 6) & (dom == 18)] *= 3.5
    promo[(month == 6) & (dom <= 18)] *= 2.2
    # quarter-end pushes for B2B, 国庆 golden week
    b2b[np.isin(month, (3, 6, 9, 12)) & (dom >= 20)] *= 1.25
    b2b[(month == 10) & (dom <= 7)] *= 0.3
    b2c[(month == 10) & (dom <= 7)] *= 0.9

    # 春节: 年货节 before it, logistics stop in the last week, the holiday week, slow restart
    day_no = d.astype(np.int64)
    for year in range(start.year - 1, end.year + 2):
        cny = CHINESE_NEW_YEAR.get(year)
        if cny is None:
            continue
        off = day_no - np.datetime64(cny, "D").astype(np.int64)
        b2c[(off >= -25) & (off <= -8)] *= 1.5
        promo[(off >= -25) & (off <= -8)] *= 1.5
        b2c[(off >= -7) & (off <= -1)] *= 0.75
        b2c[(off >= 0) & (off <= 6)] *= 0.35
        b2c[(off >= 7) & (off <= 14)] *= 0.8
        b2b[(off >= -30) & (off <= -11)] *= 1.3
        b2b[(off >= -10) & (off <= -1)] *= 0.7
        b2b[(off >= 0) & (off <= 6)] *= 0.12
        b2b[(off >= 7) & (off <= 14)] *= 0.6

    def cum(x: F64) -> F64:
        x = x / x.mean()
        return np.concatenate(([0.0], np.cumsum(x)))

    return Calendar(start, days, month, dom, weekday, cum(b2c), cum(b2b), promo)


def time_of_day(rng: np.random.Generator, office: npt.NDArray[np.bool_]) -> F64:
    """Fraction of a day: evenings for consumers, office hours for business contacts."""
    n = office.shape[0]
    out = np.empty(n)
    for mask, weights in ((office, _HOURS_OFFICE), (~office, _HOURS_B2C)):
        k = int(mask.sum())
        cdf = np.cumsum(weights) / weights.sum()
        hour = np.searchsorted(cdf, rng.random(k), side="right").astype(np.float64)
        out[mask] = (np.minimum(hour, 23) + rng.random(k)) / 24.0
    return out


def place_in_day(rng: np.random.Generator, t: F64, office: npt.NDArray[np.bool_], days: int) -> F64:
    """Keep the day of each time in ``t`` but redraw the time of day; stays inside the range."""
    day = np.clip(np.floor(t), 0, days - 1)
    return day + np.minimum(time_of_day(rng, office), 1.0 - 1.0 / 86400.0)
