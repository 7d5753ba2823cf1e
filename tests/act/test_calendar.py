"""The care calendar: lunar holidays against published dates, birthdays, quiet hours, the cap."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import polars as pl
import pytest

from tierwise.act import HOLIDAY_KEYS, CareCap, CareRule, QuietHours, care_events, holidays
from tierwise.errors import ConfigError, DataError


def _day(year: int, key: str) -> date:
    return next(h.day for h in holidays(year) if h.key == key)


# Published dates (State Council holiday notices; Hong Kong Observatory's lunar calendar).
@pytest.mark.parametrize(
    ("year", "key", "expected"),
    [
        (2024, "spring_festival", date(2024, 2, 10)),
        (2025, "spring_festival", date(2025, 1, 29)),
        (2026, "spring_festival", date(2026, 2, 17)),
        (2027, "spring_festival", date(2027, 2, 6)),
        (2025, "spring_festival_eve", date(2025, 1, 28)),
        (2026, "spring_festival_eve", date(2026, 2, 16)),
        (2024, "mid_autumn", date(2024, 9, 17)),
        (2025, "mid_autumn", date(2025, 10, 6)),
        (2025, "dragon_boat", date(2025, 5, 31)),
        # 2025 元宵 and 重阳: HKO's table and the 2025 Chinese calendars agree
        (2025, "lantern", date(2025, 2, 12)),
        (2025, "double_ninth", date(2025, 10, 29)),
        (2025, "singles_day", date(2025, 11, 11)),
        (2025, "national_day", date(2025, 10, 1)),
    ],
)
def test_holiday_dates_match_published_calendars(year: int, key: str, expected: date) -> None:
    assert _day(year, key) == expected


def test_holidays_carry_both_languages_and_the_lunar_flag() -> None:
    zh = {h.key: h for h in holidays(2026, "zh")}
    en = {h.key: h for h in holidays(2026, "en")}
    assert (zh["mid_autumn"].name, en["mid_autumn"].name) == ("中秋节", "Mid-Autumn Festival")
    assert zh["mid_autumn"].lunar and not zh["singles_day"].lunar
    assert [h.day for h in holidays(2026)] == sorted(h.day for h in holidays(2026))


def test_holidays_outside_the_checked_range_are_refused() -> None:
    with pytest.raises(DataError, match="1900–2100"):
        holidays(2101)


def _customers() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_pk": [1, 2, 3],
            "tier": ["A", "A", "C"],
            "birthday": [date(1992, 2, 29), date(1985, 7, 1), date(1990, 3, 3)],
            "first_order_day": [date(2021, 5, 20), date(2026, 6, 1), None],
            "contract_start": [None, date(2024, 6, 10), None],
        }
    )


RULES = {
    "A": CareRule(
        ("birthday", "contract_anniversary", "first_order_anniversary", "mid_autumn"),
        channel="visit",
    ),
    # tier C gets nothing but 双十一; tier B has no rule at all
    "C": CareRule(("singles_day",), channel="sms", send_time=time(12, 0)),
}


def _keys(frame: pl.DataFrame) -> list[tuple[int, str, date]]:
    return list(frame.select("customer_pk", "event_key", "day").iter_rows())


def test_birthdays_anniversaries_and_holidays_per_tier_rule() -> None:
    out = care_events(_customers(), start=date(2026, 1, 1), end=date(2026, 12, 31), rules=RULES)
    assert _keys(out) == [
        (1, "birthday", date(2026, 2, 28)),  # 29 Feb -> 28 Feb in a common year
        (1, "first_order_anniversary", date(2026, 5, 20)),
        (1, "mid_autumn", date(2026, 9, 25)),
        (2, "contract_anniversary", date(2026, 6, 10)),
        (2, "birthday", date(2026, 7, 1)),
        (2, "mid_autumn", date(2026, 9, 25)),  # first order in 2026: no anniversary yet
        (3, "singles_day", date(2026, 11, 11)),
    ]
    row = out.filter(pl.col("event_key") == "first_order_anniversary").row(0, named=True)
    assert (row["reason_zh"], row["reason_en"]) == (
        "首购 5 周年",
        "5-year anniversary of first purchase",
    )
    assert row["channel"] == "visit"
    # 10:00 in Shanghai is 02:00 UTC
    assert row["send_at"] == datetime(2026, 5, 20, 2, 0, tzinfo=UTC)


def test_a_29_february_birthday_stays_on_29_february_in_leap_years() -> None:
    out = care_events(_customers(), start=date(2028, 2, 1), end=date(2028, 3, 31), rules=RULES)
    assert _keys(out) == [(1, "birthday", date(2028, 2, 29))]


def test_quiet_hours_move_the_touch_to_the_next_allowed_time() -> None:
    late = {"A": CareRule(("birthday",), send_time=time(22, 30))}
    early = {"A": CareRule(("birthday",), send_time=time(7, 0))}
    kwargs = {"start": date(2026, 7, 1), "end": date(2026, 7, 1), "quiet_hours": QuietHours()}
    at_late = care_events(_customers(), rules=late, **kwargs)["send_at"].to_list()  # type: ignore[arg-type]
    at_early = care_events(_customers(), rules=early, **kwargs)["send_at"].to_list()  # type: ignore[arg-type]
    # 09:00 Shanghai = 01:00 UTC; 22:30 waits for the next morning, 07:00 for the same morning
    assert at_late == [datetime(2026, 7, 2, 1, 0, tzinfo=UTC)]
    assert at_early == [datetime(2026, 7, 1, 1, 0, tzinfo=UTC)]
    lunch = care_events(
        _customers(),
        rules={"A": CareRule(("birthday",), send_time=time(12, 30))},
        start=date(2026, 7, 1),
        end=date(2026, 7, 1),
        quiet_hours=QuietHours(start=time(12, 0), end=time(14, 0)),
    )
    assert lunch["send_at"].to_list() == [datetime(2026, 7, 1, 6, 0, tzinfo=UTC)]


def _crowded() -> tuple[pl.DataFrame, dict[str, CareRule]]:
    # one customer with five candidate touches between 28 Jan and 28 Feb 2026
    customers = pl.DataFrame(
        {
            "customer_pk": [7],
            "tier": ["A"],
            "birthday": [date(1992, 2, 29)],
            "first_order_day": [date(2020, 1, 28)],
        }
    )
    rule = CareRule(
        ("birthday", "spring_festival", "first_order_anniversary", "lantern", "spring_festival_eve")
    )
    return customers, {"A": rule}


def _capped(already_sent: pl.DataFrame | None = None) -> pl.DataFrame:
    customers, rules = _crowded()
    return care_events(
        customers,
        start=date(2026, 1, 1),
        end=date(2026, 3, 31),
        rules=rules,
        cap_per_customer=CareCap(touches=2, days=30),
        already_sent=already_sent,
    )


def test_the_cap_drops_the_lowest_priority_touches_first() -> None:
    out = _capped()
    # birthday 2-28 and 春节 2-17 fill Feb; 首购 1-28 fits (1-28..2-26 holds 2); 元宵 3-03 and
    # 除夕 2-16 would make three within 30 days
    assert _keys(out) == [
        (7, "first_order_anniversary", date(2026, 1, 28)),
        (7, "spring_festival", date(2026, 2, 17)),
        (7, "birthday", date(2026, 2, 28)),
    ]
    days = sorted(out["day"].to_list())
    assert all((b - a).days >= 30 for a, b in zip(days, days[2:], strict=False))


def test_touches_already_sent_count_against_the_cap() -> None:
    out = _capped(already_sent=pl.DataFrame({"customer_pk": [7], "day": [date(2026, 2, 20)]}))
    assert [k for _, k, _ in _keys(out)] == ["first_order_anniversary", "birthday"]


def test_care_events_are_deterministic_whatever_the_row_order() -> None:
    customers, rules = _crowded()
    many = pl.concat([customers.with_columns(customer_pk=pl.lit(i)) for i in range(50)])
    kwargs = {
        "start": date(2026, 1, 1),
        "end": date(2026, 12, 31),
        "rules": rules,
        "cap_per_customer": CareCap(),
        "quiet_hours": QuietHours(),
    }
    first = care_events(many, **kwargs)  # type: ignore[arg-type]
    again = care_events(many.sample(fraction=1.0, shuffle=True, seed=3), **kwargs)  # type: ignore[arg-type]
    assert first.equals(again)
    assert first.height == 50 * 3  # the three of the cap test; nothing else in 2026


def test_unknown_event_keys_and_missing_columns_are_explained() -> None:
    with pytest.raises(ConfigError, match='tier "A" names an unknown event "easter"'):
        care_events(
            _customers(), start=date(2026, 1, 1), end=date(2026, 1, 2),
            rules={"A": CareRule(("easter",))},
        )  # fmt: skip
    with pytest.raises(DataError, match="tier"):
        care_events(
            pl.DataFrame({"customer_pk": [1]}), start=date(2026, 1, 1), end=date(2026, 1, 2),
            rules=RULES,
        )  # fmt: skip


def _overfull(days: list[date], cap: CareCap) -> bool:
    days = sorted(days)
    return any(
        (days[i + cap.touches] - days[i]).days < cap.days for i in range(len(days) - cap.touches)
    )


@pytest.mark.parametrize("touches", [1, 2, 3])
def test_the_cap_holds_in_every_window_and_drops_only_what_would_overfill_one(touches: int) -> None:
    # 300 customers with random birthdays and first orders, every holiday in their rule
    rnd = random.Random(touches)
    customers = pl.DataFrame(
        {
            "customer_pk": list(range(300)),
            "tier": ["A"] * 300,
            "birthday": [
                date(1980, 1, 1) + timedelta(days=rnd.randrange(366 * 4)) for _ in range(300)
            ],
            "first_order_day": [
                date(2015, 1, 1) + timedelta(days=rnd.randrange(3650)) for _ in range(300)
            ],
        }
    )
    keys = ["birthday", "first_order_anniversary", *HOLIDAY_KEYS]
    rnd.shuffle(keys)
    cap = CareCap(touches=touches, days=30)
    kwargs = {
        "start": date(2026, 1, 1),
        "end": date(2026, 12, 31),
        "rules": {"A": CareRule(tuple(keys))},
    }
    every = care_events(customers, **kwargs)  # type: ignore[arg-type]
    kept = care_events(customers, cap_per_customer=cap, **kwargs)  # type: ignore[arg-type]
    assert 0 < kept.height < every.height
    kept_days = kept.group_by("customer_pk").agg("day").rows_by_key("customer_pk", unique=True)
    dropped = every.join(kept, on=["customer_pk", "event_key", "day"], how="anti")
    for pk, days in kept_days.items():
        assert not _overfull(days[0], cap), pk
    for pk, _, day in dropped.select("customer_pk", "event_key", "day").iter_rows():
        assert _overfull([*kept_days.get(pk, ([],))[0], day], cap), (pk, day)
