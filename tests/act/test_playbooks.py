"""Playbooks in the scheme: the shipped defaults, round trips, errors at the YAML path."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierwise.errors import SchemeError
from tierwise.scheme import (
    Discount,
    Playbook,
    Playbooks,
    PoolRules,
    Text,
    WinBack,
    check_scheme,
    default_scheme,
    default_scheme_text,
    dump_scheme,
    load_scheme,
)
from tierwise.scheme._lines import check_document


def test_default_playbooks_follow_the_product_spec() -> None:
    books = default_scheme().playbooks
    assert books is not None and books.dimension == "value_tier"
    a, b, c, d = (books.tiers[k] for k in "ABCD")
    assert (a.service_level, a.cadence_days, a.channel, a.complaint_sla_hours) == (
        "dedicated", 30, "visit", 4,
    )  # fmt: skip
    assert (b.cadence_days, b.channel) == (14, "call")
    assert (c.service_level, c.cadence_days, c.channel) == ("automated", 30, "email")
    assert (d.cadence_days, d.channel, d.proactive) == (None, "none", False)
    assert books.win_back is not None and books.win_back.labels == ["high"]


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8)
_book = st.builds(
    Playbook,
    title=st.builds(Text, zh=_text, en=_text),
    service_level=st.sampled_from(["dedicated", "standard", "automated"]),
    cadence_days=st.none(),
    complaint_sla_hours=st.integers(1, 200),
    recycle_days=st.none() | st.integers(1, 365),
    care=st.lists(st.sampled_from(["birthday", "mid_autumn", "spring_festival"]), unique=True),
    discount=st.builds(Discount, max_percent=st.floats(0, 100)),
    recommendations=st.lists(st.sampled_from(["*", "tea", "茶具"]), unique=True),
    holdout_share=st.none() | st.floats(0, 0.5),
)
_proactive = st.builds(
    Playbook,
    title=st.builds(Text, zh=_text, en=_text),
    cadence_days=st.integers(1, 365),
    channel=st.sampled_from(["visit", "call", "email", "sms", "wechat"]),
)


@settings(max_examples=60, deadline=None)
@given(
    tiers=st.dictionaries(st.sampled_from(list("ABCD")), _book | _proactive, min_size=1),
    pool=st.builds(PoolRules, assign_by=st.sampled_from(["region", "load"]),
                   max_customers=st.none() | st.integers(1, 500)),
    win_back=st.none() | st.builds(WinBack, due_days=st.integers(0, 30)),
)  # fmt: skip
def test_playbooks_round_trip_through_yaml(
    tiers: dict[str, Playbook], pool: PoolRules, win_back: WinBack | None
) -> None:
    base = default_scheme()
    scheme = base.model_copy(
        update={"playbooks": Playbooks(dimension="value_tier", tiers=tiers, pool=pool,
                                       win_back=win_back)}
    )  # fmt: skip
    again = load_scheme(dump_scheme(scheme))
    assert again == scheme
    assert check_scheme(again) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("  dimension: value_tier         #", "  dimension: value_tierr        #"),
            "Scheme error at playbooks.dimension: 'value_tierr' is not a dimension",
        ),
        (
            ("    D:\n      title: {zh: 低价值", "    E:\n      title: {zh: 低价值"),
            "Scheme error at playbooks.tiers.E: 'E' is not a label of value_tier",
        ),
        (
            ("    labels: [high]\n    channel: call", "    labels: [hi]\n    channel: call"),
            "Scheme error at playbooks.win_back.labels[0]: 'hi' is not a label of churn_risk.",
        ),
    ],
)
def test_playbook_errors_point_at_the_yaml_path(change: tuple[str, str], message: str) -> None:
    text = default_scheme_text()
    assert change[0] in text
    edited = text.replace(change[0], change[1], 1)
    assert any(message in e for e in check_scheme(load_scheme(edited)))
    problems = check_document(edited).problems
    where = next(p for p in problems if message.split(": ", 1)[1][:12] in p.message)
    assert where.line is not None
    assert (
        edited.splitlines()[where.line - 1]
        .strip()
        .startswith(where.path.rsplit(".", 1)[-1].split("[")[0])
    )


def test_a_cadence_needs_a_channel() -> None:
    text = default_scheme_text().replace("      cadence_days: 14\n      channel: call\n",
                                         "      cadence_days: 14\n")  # fmt: skip
    with pytest.raises(SchemeError, match=r"playbooks\.tiers\.B: cadence_days 14 needs a channel"):
        load_scheme(text)
