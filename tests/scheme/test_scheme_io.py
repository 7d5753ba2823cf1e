"""The scheme as data: YAML round trips, errors at the YAML path, the shipped default, docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tierwise.errors import SchemeError
from tierwise.scheme import (
    BandsDimension,
    ClusterSettings,
    Component,
    Cut,
    Discount,
    EvaluationSettings,
    GridDimension,
    Hysteresis,
    Label,
    MappingDimension,
    ModelDimension,
    ModelSettings,
    Playbook,
    Playbooks,
    PoolRules,
    RFMDimension,
    Rule,
    RulesDimension,
    Scheme,
    ScoreDimension,
    Text,
    WinBack,
    check_scheme,
    default_scheme,
    default_scheme_text,
    dump_scheme,
    load_scheme,
    scheme_hash,
)

DOCS = Path(__file__).parents[2] / "docs" / "scheme.md"

_key = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,7}", fullmatch=True).filter(
    lambda k: k != "insufficient"
)
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
_bilingual = st.builds(Text, zh=_text, en=_text)
_features = st.sampled_from(["recency_days", "frequency", "monetary_total", "orders_365d"])
_rules = st.sampled_from(
    [
        "orders_total >= 2",
        "province in ['上海', '江苏']",
        "lead_signals contains '报价' or recency_days <= 30",
    ]
)


@st.composite
def _labels(draw: st.DrawFn, n: int | None = None) -> list[Label]:
    keys = draw(st.lists(_key, min_size=n or 1, max_size=n or 5, unique=True))
    return [Label(key=k, zh=draw(_text), en=draw(_text)) for k in keys]


@st.composite
def _cut(draw: st.DrawFn) -> Cut:
    by = draw(st.sampled_from(["thresholds", "quantiles", "jenks"]))
    n = draw(st.integers(1, 4))
    if by == "thresholds":
        points = sorted(draw(st.lists(st.floats(-1e6, 1e6), min_size=n, max_size=n, unique=True)))
        return Cut(by=by, points=points)
    if by == "quantiles":
        probs = sorted(draw(st.lists(st.floats(0.01, 0.99), min_size=n, max_size=n, unique=True)))
        return Cut(by=by, probs=probs)
    return Cut(by=by, classes=n + 1)


@st.composite
def _dimension(draw: st.DrawFn) -> object:
    kind = draw(st.sampled_from(["score", "bands", "rfm", "rules", "mapping", "model"]))
    common = {
        "title": draw(_bilingual),
        "insufficient": draw(st.none() | st.just("purchase_days == 0")),
    }
    if kind in ("score", "bands"):
        cut = draw(_cut())
        labels = draw(_labels(cut.n_classes))
        hyst = draw(
            st.none()
            | st.builds(
                Hysteresis,
                margin=st.floats(0, 2),
                min_days=st.integers(0, 90),
                protected=st.just([labels[-1].key]),
            )
        )
        if kind == "score":
            comps = draw(
                st.lists(
                    st.builds(
                        Component,
                        feature=_features,
                        weight=st.floats(0.01, 10),
                        higher_is_better=st.booleans(),
                    ),
                    min_size=1,
                    max_size=3,
                )
            )
            return ScoreDimension(
                method="score", components=comps, cut=cut, labels=labels, hysteresis=hyst, **common
            )
        return BandsDimension(
            method="bands",
            feature=draw(_features),
            cut=cut,
            labels=labels,
            higher_is_better=draw(st.booleans()),
            hysteresis=hyst,
            **common,
        )
    labels = draw(_labels())
    keys = [label.key for label in labels]
    if kind == "rfm":
        row = st.lists(st.sampled_from(keys), min_size=5, max_size=5)
        return RFMDimension(
            method="rfm",
            score_map={str(r): draw(row) for r in range(1, 6)},
            labels=labels,
            **common,
        )
    if kind == "rules":
        rules = [
            Rule(label=draw(st.sampled_from(keys)), when=draw(_rules))
            for _ in range(draw(st.integers(1, 3)))
        ]
        return RulesDimension(
            method="rules",
            rules=rules,
            otherwise=keys[0],
            labels=labels,
            multi=draw(st.booleans()),
            **common,
        )
    if kind == "mapping":
        return MappingDimension(
            method="mapping",
            feature="location",
            labels=labels,
            groups={keys[0]: ["上海", "Beijing"]},
            otherwise=keys[-1],
            **common,
        )
    return ModelDimension(method="model", model="bgnbd", params={"a": 1}, labels=labels, **common)


@st.composite
def _schemes(draw: st.DrawFn) -> Scheme:
    names = draw(
        st.lists(
            st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    dims = {n: draw(_dimension()) for n in names}
    if draw(st.booleans()) and len(names) >= 2:
        a, b = dims[names[0]], dims[names[1]]
        cells = {a.keys()[0]: {b.keys()[0]: "hi"}}  # type: ignore[attr-defined]
        dims["combo"] = GridDimension(
            method="grid",
            title=Text(zh="组合", en="Combo"),
            rows=names[0],
            columns=names[1],
            cells=cells,
            otherwise="lo",
            labels=[Label(key="hi", zh="高", en="High"), Label(key="lo", zh="低", en="Low")],
        )
    return Scheme(
        name=draw(_text.filter(bool)),
        currency=draw(st.sampled_from(["CNY", "USD"])),
        dimensions=dims,
    )  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(scheme=_schemes())
def test_yaml_round_trip_is_lossless(scheme: Scheme) -> None:
    text = dump_scheme(scheme)
    again = load_scheme(text)
    assert again == scheme
    assert scheme_hash(again) == scheme_hash(scheme)
    assert dump_scheme(again) == text


def test_default_scheme_is_sound_and_covers_the_product_dimensions() -> None:
    scheme = default_scheme()
    assert check_scheme(scheme) == []
    assert list(scheme.dimensions) == [
        "value_tier",
        "rfm_segment",
        "lifecycle",
        "activity",
        "purchase_frequency",
        "interaction_frequency",
        "feedback",
        "referral",
        "purchase_intent",
        "decision_speed",
        "needs",
        "region",
        "industry",
        "age_band",
        "churn_risk",
        "behaviour_cluster",
        "priority",
    ]
    assert load_scheme(dump_scheme(scheme)) == scheme
    # every label in zh and en
    for dim in scheme.dimensions.values():
        assert all(label.zh and label.en for label in dim.labels)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("points: [2.2, 3.2, 4.0]", "points: [2.2, 4.0, 3.2]"),
            "Scheme error at dimensions.value_tier.cut: points must increase (got 3.2 after 4 at "
            "points[2]).",
        ),
        (
            ("method: rfm", "method: rfmm"),
            "Scheme error at dimensions.rfm_segment: method must be one of score, bands, rfm, rules, "
            "mapping, grid, model (got 'rfmm').",
        ),
        (
            ("    otherwise: repeat\n", "    otherwise: repeat\n    otherwize: x\n"),
            "Scheme error at dimensions.lifecycle.otherwize: unknown key (check the spelling).",
        ),
        (
            ("      - {key: D, zh: D 低价值, en: D Low value}\n", ""),
            "Scheme error at dimensions.value_tier: the cut makes 4 classes but 3 labels are listed "
            "(lowest first).",
        ),
        (
            ("protected: [A]", "protected: [AA]"),
            "Scheme error at dimensions.value_tier: hysteresis.protected names unknown labels: AA.",
        ),
        (
            ("    rows: value_tier\n", "    rows: value_tierr\n"),
            "grid refers to 'value_tierr', which must be another dimension of this scheme",
        ),
    ],
)
def test_errors_point_at_the_yaml_path(change: tuple[str, str], message: str) -> None:
    text = default_scheme_text()
    assert change[0] in text
    with pytest.raises(SchemeError) as error:
        load_scheme(text.replace(change[0], change[1], 1))
    assert message.rstrip(".") in str(error.value)


def test_unreadable_yaml_names_the_line() -> None:
    with pytest.raises(
        SchemeError, match=r"Scheme YAML cannot be read at line 4, column 1: expected ','"
    ):
        load_scheme("name: x\ndimensions:\n  a: [b\n")


def test_hash_changes_with_the_standard() -> None:
    base = default_scheme()
    other = load_scheme(
        default_scheme_text().replace("points: [2.2, 3.2, 4.0]", "points: [2.2, 3.2, 4.1]")
    )
    assert scheme_hash(base) == scheme_hash(default_scheme())
    assert scheme_hash(other) != scheme_hash(base)


def _fields(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def test_every_scheme_key_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+)(?:\.[a-z_]+)?`", docs)) | set(
        re.findall(r"`[a-z_]+\.([a-z_]+)`", docs)
    )
    models = [
        Scheme,
        ScoreDimension,
        BandsDimension,
        RFMDimension,
        RulesDimension,
        MappingDimension,
        GridDimension,
        ModelDimension,
        Cut,
        Hysteresis,
        Component,
        Rule,
        Label,
        Text,
        Playbooks,
        Playbook,
        PoolRules,
        WinBack,
        Discount,
        ModelSettings,
        ClusterSettings,
        EvaluationSettings,
    ]
    missing = {
        f"{m.__name__}.{f}"
        for m in models
        for f in _fields(m)
        if f not in documented and f not in ("zh", "en", "key")
    }
    assert missing == set()


def test_default_scheme_documents_every_dimension_inline() -> None:
    text = default_scheme_text()
    for name in default_scheme().dimensions:
        block = text.split(f"\n  {name}:\n", 1)[0].rsplit("\n\n", 1)[-1]
        assert block.strip().startswith("#"), f"{name} has no comment above it"


def test_validation_type_checks_rules() -> None:
    text = default_scheme_text().replace(
        "{label: active, when: last_activity_days <= 30}",
        "{label: active, when: last_activity_days * 2}",
    )
    assert check_scheme(load_scheme(text)) == [
        "Scheme error at dimensions.activity.rules[0].when: 'last_activity_days * 2' is a "
        "float64 value, not a condition (compare it, e.g. `... > 0`)."
    ]
