"""The care calendar: holidays (solar and lunar) and per-customer care touches.

Lunar dates come from ``lunar-python`` (6tail, MIT): before choosing it, its 春节, 元宵, 端午,
中秋 and 重阳 for every year 1900–2100 were compared with two other converters (``lunardate``,
``LunarCalendar``); where those two disagree (中秋 1978 and 2089, 重阳 2057, the years whose new
moon falls near midnight in Beijing) ``lunar-python`` sides with the majority and with the Hong
Kong Observatory's tables.

Care touches are planned without any per-customer Python loop: one Polars pass per event kind
and year, and one pass per priority rank for the frequency cap.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from functools import lru_cache
from typing import Literal

import polars as pl
from lunar_python import Lunar

from tierwise.errors import ConfigError, DataError

Lang = Literal["zh", "en"]

# The range the three converters were checked on (see the module docstring).
FIRST_YEAR, LAST_YEAR = 1900, 2100

# key, zh, en, lunar?, month, day. 除夕 is computed as the day before 春节 (the 12th lunar month
# has 29 or 30 days, so "lunar 12/30" would be wrong one year in two or three).
_FIXED: tuple[tuple[str, str, str, bool, int, int], ...] = (
    ("new_year", "元旦", "New Year's Day", False, 1, 1),
    ("spring_festival", "春节", "Spring Festival", True, 1, 1),
    ("lantern", "元宵节", "Lantern Festival", True, 1, 15),
    ("valentines", "情人节", "Valentine's Day", False, 2, 14),
    ("womens_day", "妇女节", "Women's Day", False, 3, 8),
    ("labour_day", "劳动节", "Labour Day", False, 5, 1),
    ("dragon_boat", "端午节", "Dragon Boat Festival", True, 5, 5),
    ("qixi", "七夕", "Qixi Festival", True, 7, 7),
    ("mid_autumn", "中秋节", "Mid-Autumn Festival", True, 8, 15),
    ("double_ninth", "重阳节", "Double Ninth Festival", True, 9, 9),
    ("national_day", "国庆节", "National Day", False, 10, 1),
    ("singles_day", "双十一", "Singles' Day (11.11)", False, 11, 11),
)
_EVE = ("spring_festival_eve", "除夕", "Chinese New Year's Eve")

BIRTHDAY = "birthday"
FIRST_ORDER = "first_order_anniversary"
CONTRACT = "contract_anniversary"
# event key -> the customer column it is computed from
_DATE_EVENTS = {BIRTHDAY: "birthday", FIRST_ORDER: "first_order_day", CONTRACT: "contract_start"}
HOLIDAY_KEYS: tuple[str, ...] = tuple(sorted([k for k, *_ in _FIXED] + [_EVE[0]]))
EVENT_KEYS: tuple[str, ...] = (*_DATE_EVENTS, *HOLIDAY_KEYS)


@dataclass(frozen=True)
class Holiday:
    """One holiday in one year; ``name`` is the text in the language asked for.

    >>> holidays(2025, "en")[1]
    Holiday(key='spring_festival_eve', day=datetime.date(2025, 1, 28), zh='除夕', ...)
    """

    key: str
    day: date
    zh: str
    en: str
    lunar: bool
    name: str = field(compare=False)


@lru_cache(maxsize=256)
def _lunar_to_solar(year: int, month: int, day: int) -> date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def holidays(year: int, lang: Lang = "zh") -> list[Holiday]:
    """Every holiday Tierwise knows in ``year`` (Gregorian), sorted by day.

    >>> [h.day.isoformat() for h in holidays(2025) if h.key == "spring_festival"]
    ['2025-01-29']
    """
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DataError(
            f"Holidays are known for {FIRST_YEAR}–{LAST_YEAR} (got {year}). Pick a year in range."
        )
    _check_lang(lang)
    out = []
    for key, zh, en, lunar, month, day in _FIXED:
        when = _lunar_to_solar(year, month, day) if lunar else date(year, month, day)
        out.append(Holiday(key, when, zh, en, lunar, zh if lang == "zh" else en))
    # The lunar year starting in Gregorian `year` begins between 21 Jan and 20 Feb, so its eve
    # is in the same Gregorian year.
    eve = _lunar_to_solar(year, 1, 1) - timedelta(days=1)
    out.append(Holiday(_EVE[0], eve, _EVE[1], _EVE[2], True, _EVE[1] if lang == "zh" else _EVE[2]))
    return sorted(out, key=lambda h: (h.day, h.key))


@dataclass(frozen=True)
class CareRule:
    """A tier's care events, most important first (the frequency cap drops from the end).

    ``events`` holds ``birthday``, ``first_order_anniversary``, ``contract_anniversary`` and
    holiday keys (``spring_festival``, ``mid_autumn``…, see ``HOLIDAY_KEYS``); ``send_time`` is
    local time in the calendar's time zone.

    >>> CareRule(events=("birthday", "spring_festival"), channel="visit")
    CareRule(events=('birthday', 'spring_festival'), channel='visit', send_time=datetime.time(10, 0))
    """

    events: tuple[str, ...]
    channel: str = "wechat"
    send_time: time = time(10, 0)


@dataclass(frozen=True)
class QuietHours:
    """No touch is sent from ``start`` to ``end`` (local); it may wrap midnight (21:00–09:00)."""

    start: time = time(21, 0)
    end: time = time(9, 0)


@dataclass(frozen=True)
class CareCap:
    """At most ``touches`` care touches per customer in any ``days`` consecutive days."""

    touches: int = 2
    days: int = 30


_OUT_SCHEMA = {
    "event_key": pl.String,
    "day": pl.Date,
    "priority": pl.Int32,
    "channel": pl.String,
    "send_time": pl.Time,
    "reason_zh": pl.String,
    "reason_en": pl.String,
}


def care_events(
    customers: pl.DataFrame,
    *,
    start: date,
    end: date,
    rules: Mapping[str, CareRule],
    quiet_hours: QuietHours | None = None,
    cap_per_customer: CareCap | None = None,
    already_sent: pl.DataFrame | None = None,
    tz: str = "Asia/Shanghai",
) -> pl.DataFrame:
    """Care touches due from ``start`` to ``end`` (inclusive) for ``customers``.

    ``customers`` has ``customer_pk`` and ``tier``, and any of ``birthday``, ``first_order_day``,
    ``contract_start`` (dates; a missing column or null means no such event). A customer gets
    the events of their tier's rule; tiers without a rule get none. A birthday or anniversary on
    29 February falls on 28 February in other years (the last day of the same month, as most
    CRMs and payroll systems do). Touches are sent at the rule's ``send_time`` in ``tz``, moved
    to the end of ``quiet_hours`` when they fall inside them. With ``cap_per_customer``, events
    are kept in order of rule priority, then day, then key, while no window of ``days`` days
    holds more than ``touches`` (counting ``already_sent``: rows of ``customer_pk, day``).

    Returns ``customer_pk, event_key, day, send_at (UTC), channel, reason_zh, reason_en``,
    sorted by customer, then ``send_at``, then key.

    >>> care_events(pl.DataFrame({"customer_pk": [1], "tier": ["A"],
    ...     "birthday": [date(1992, 2, 29)]}), start=date(2026, 1, 1),
    ...     end=date(2026, 12, 31), rules={"A": CareRule(("birthday",))})["day"].to_list()
    [datetime.date(2026, 2, 28)]
    """
    _check_inputs(customers, start, end, rules)
    pk_type = customers.schema["customer_pk"]
    rule_rows = pl.DataFrame(
        [
            (tier, key, prio, rule.channel, rule.send_time)
            for tier, rule in rules.items()
            for prio, key in enumerate(rule.events)
        ],
        schema={
            "tier": customers.schema["tier"],
            "event_key": pl.String,
            "priority": pl.Int32,
            "channel": pl.String,
            "send_time": pl.Time,
        },
        orient="row",
    )
    parts = [
        *_date_events(customers, rule_rows, start, end),
        *_holiday_events(customers, rule_rows, start, end),
    ]
    events = (
        pl.concat(
            [p.select("customer_pk", *_OUT_SCHEMA) for p in parts],
            how="vertical",
        )
        if parts
        else pl.DataFrame(schema={"customer_pk": pk_type, **_OUT_SCHEMA})
    )
    events = _send_at(events, quiet_hours, tz)
    if cap_per_customer is not None:
        events = _apply_cap(events, cap_per_customer, already_sent)
    return events.sort("customer_pk", "send_at", "event_key").select(
        "customer_pk", "event_key", "day", "send_at", "channel", "reason_zh", "reason_en"
    )


def _check_lang(lang: str) -> None:
    if lang not in ("zh", "en"):
        raise ConfigError(f'Language "{lang}" is not supported: use "zh" or "en".')


def _check_inputs(
    customers: pl.DataFrame, start: date, end: date, rules: Mapping[str, CareRule]
) -> None:
    missing = [c for c in ("customer_pk", "tier") if c not in customers.columns]
    if missing:
        raise DataError(
            f"The customers for the care calendar lack column(s) {', '.join(missing)}: "
            "pass customer_pk and tier (and birthday, first_order_day, contract_start)."
        )
    if end < start:
        raise DataError(f"The care calendar ends ({end}) before it starts ({start}).")
    for tier, rule in rules.items():
        for key in rule.events:
            if key not in EVENT_KEYS:
                raise ConfigError(
                    f'Care rule for tier "{tier}" names an unknown event "{key}": use one of '
                    f"{', '.join(EVENT_KEYS)}."
                )


def _on_year(column: str, year: int) -> pl.Expr:
    month, day = pl.col(column).dt.month(), pl.col(column).dt.day()
    if not calendar.isleap(year):
        day = pl.when((month == 2) & (day == 29)).then(28).otherwise(day)
    return pl.date(year, month, day)


def _date_events(
    customers: pl.DataFrame, rule_rows: pl.DataFrame, start: date, end: date
) -> list[pl.DataFrame]:
    parts = []
    for key, column in _DATE_EVENTS.items():
        if column not in customers.columns:
            continue
        who = customers.select("customer_pk", "tier", column).filter(pl.col(column).is_not_null())
        who = who.join(rule_rows.filter(pl.col("event_key") == key), on="tier", how="inner")
        for year in range(start.year, end.year + 1):
            years = year - pl.col(column).dt.year()
            if key == BIRTHDAY:
                reason_zh, reason_en = pl.lit("生日"), pl.lit("Birthday")
            else:
                what_zh = "首购" if key == FIRST_ORDER else "合作"
                what_en = "first purchase" if key == FIRST_ORDER else "the contract"
                reason_zh = pl.format(what_zh + " {} 周年", years)
                reason_en = pl.format("{}-year anniversary of " + what_en, years)
            part = who.with_columns(
                day=_on_year(column, year), reason_zh=reason_zh, reason_en=reason_en
            ).filter(pl.col("day").is_between(start, end))
            if key != BIRTHDAY:
                part = part.filter(years >= 1)
            parts.append(part)
    return parts


def _holiday_events(
    customers: pl.DataFrame, rule_rows: pl.DataFrame, start: date, end: date
) -> list[pl.DataFrame]:
    wanted = set(rule_rows.filter(pl.col("event_key").is_in(HOLIDAY_KEYS))["event_key"])
    who = customers.select("customer_pk", "tier")
    parts = []
    for year in range(start.year, end.year + 1):
        for h in holidays(year):
            if h.key in wanted and start <= h.day <= end:
                part = who.join(
                    rule_rows.filter(pl.col("event_key") == h.key), on="tier", how="inner"
                ).with_columns(
                    day=pl.lit(h.day),
                    reason_zh=pl.lit(f"节日：{h.zh}"),
                    reason_en=pl.lit(f"Holiday: {h.en}"),
                )
                parts.append(part)
    return parts


def _send_at(events: pl.DataFrame, quiet: QuietHours | None, tz: str) -> pl.DataFrame:
    local = pl.col("day").dt.combine(pl.col("send_time"))
    if quiet is not None and quiet.start != quiet.end:
        t = pl.col("send_time")
        morning = pl.col("day").dt.combine(pl.lit(quiet.end))
        if quiet.start > quiet.end:  # wraps midnight: 21:00–09:00
            local = (
                pl.when(t >= quiet.start)
                .then(morning + timedelta(days=1))
                .when(t < quiet.end)
                .then(morning)
                .otherwise(local)
            )
        else:  # same day: 12:00–14:00
            local = pl.when((t >= quiet.start) & (t < quiet.end)).then(morning).otherwise(local)
    # A local time skipped by a daylight-saving jump is sent an hour later; a repeated one at
    # its first occurrence (Asia/Shanghai has neither).
    aware = local.dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
    later = (local + timedelta(hours=1)).dt.replace_time_zone(
        tz, ambiguous="earliest", non_existent="null"
    )
    return events.with_columns(
        send_at=pl.coalesce(aware, later).dt.convert_time_zone("UTC"),
        send_day=local.dt.date(),
    )


def _apply_cap(
    events: pl.DataFrame, cap: CareCap, already_sent: pl.DataFrame | None
) -> pl.DataFrame:
    """Greedy by priority rank: rank r of every customer is tried at once, against what ranks
    < r (and ``already_sent``) kept. With days sorted, a window of ``cap.days`` holds more than
    ``k = cap.touches`` touches exactly when some k+1 consecutive ones span fewer days; only
    runs containing the candidate are checked, so an over-full ``already_sent`` blocks only the
    windows it fills."""
    if cap.touches < 0 or cap.days < 1:
        raise ConfigError(
            f"Care cap must allow ≥ 0 touches in ≥ 1 day (got {cap.touches} in {cap.days})."
        )
    k, pk = cap.touches, pl.col("customer_pk")
    ranked = (
        events.sort("customer_pk", "priority", "day", "event_key")
        .with_row_index("_row")
        .with_columns(_rank=pl.int_range(pl.len()).over("customer_pk"))
    )
    kept_so_far = pl.DataFrame(
        schema={"customer_pk": events.schema["customer_pk"], "send_day": pl.Date}
    )
    if already_sent is not None and already_sent.height:
        kept_so_far = already_sent.select(
            pk.cast(events.schema["customer_pk"]), pl.col("day").cast(pl.Date).alias("send_day")
        )
    kept_rows: list[pl.DataFrame] = []
    top = ranked["_rank"].max()
    for rank in range(int(top) + 1 if isinstance(top, int) else 0):
        cand = ranked.filter(pl.col("_rank") == rank).select("customer_pk", "send_day", "_row")
        prior = kept_so_far.join(cand.select("customer_pk"), on="customer_pk", how="semi")
        both = pl.concat(
            [
                prior.with_columns(_new=pl.lit(False)),
                cand.select("customer_pk", "send_day", _new=pl.lit(True)),
            ],
            how="vertical",
        ).sort("customer_pk", "send_day", "_new")
        # Sorted by customer, so rows i..i+k belong to one customer when their keys match;
        # each customer has exactly one candidate, so a run holds it when the running count
        # of candidates grows across it. Plain shifts, no window functions: this loop runs
        # once per rank over every customer.
        new = pl.col("_new").cast(pl.Int32)
        seen = new.cum_sum()
        full = both.filter(
            (pk.shift(-k) == pk)
            & ((pl.col("send_day").shift(-k) - pl.col("send_day")).dt.total_days() < cap.days)
            & (seen.shift(-k) - seen + new >= 1)
        ).select("customer_pk")
        ok = cand.join(full, on="customer_pk", how="anti")
        kept_rows.append(ok.select("_row"))
        kept_so_far = pl.concat([kept_so_far, ok.select("customer_pk", "send_day")])
    if not kept_rows:
        return events.clear()
    rows = pl.concat(kept_rows)
    return ranked.join(rows, on="_row", how="semi").drop("_row", "_rank")


__all__ = [
    "BIRTHDAY",
    "CONTRACT",
    "EVENT_KEYS",
    "FIRST_ORDER",
    "HOLIDAY_KEYS",
    "CareCap",
    "CareRule",
    "Holiday",
    "QuietHours",
    "care_events",
    "holidays",
]
