"""Scheme problems at their YAML line (`tierwise.scheme._lines`), for the editor."""

from __future__ import annotations

import pytest

from tierwise.scheme import default_scheme_text
from tierwise.scheme._lines import MAX_NODES, check_document, line_of, split_path

BLOCK = """\
name: toy
dimensions:
  tier:
    title: {zh: 等级, en: Tier}
    method: bands
    feature: monetary_total
    cut:
      by: thresholds
      points:
        - 100
        - 500
    labels:
      - {key: low, zh: 低, en: Low}
      - {key: mid, zh: 中, en: Mid}
      - key: high
        zh: 高
        en: High
"""


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("(top level)", []),
        ("name", ["name"]),
        ("dimensions.a.cut.points[2]", ["dimensions", "a", "cut", "points", 2]),
        ("dimensions.g.cells.A.new", ["dimensions", "g", "cells", "A", "new"]),
        ("dimensions.r.score_map.5", ["dimensions", "r", "score_map", "5"]),
    ],
)
def test_split_path(path: str, parts: list[str | int]) -> None:
    assert split_path(path) == parts


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("(top level)", 1),
        ("name", 1),
        ("dimensions.tier", 3),
        ("dimensions.tier.cut.points", 9),
        ("dimensions.tier.cut.points[1]", 11),  # block sequence: the item's own line
        ("dimensions.tier.labels[1].zh", 14),  # flow mapping: the line it is on
        ("dimensions.tier.labels[2].en", 17),
        ("dimensions.tier.hysteresis.margin", 3),  # not written: the nearest ancestor
        ("dimensions.tier.labels[7]", 12),  # no such item: the list
    ],
)
def test_line_of(path: str, line: int) -> None:
    assert line_of(BLOCK, path) == line


def test_line_of_text_that_is_not_yaml() -> None:
    assert line_of("a: [1,", "a") is None


def _lines_of(text: str) -> list[tuple[str | None, int | None]]:
    return [(p.path, p.line) for p in check_document(text).problems]


def _at(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_default_scheme_has_no_problems() -> None:
    check = check_document(default_scheme_text())
    assert check.ok and check.problems == [] and check.to_dict()["ok"] is True


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("points: [2.2, 3.2, 4.0]", "points: [2.2, 3.2, 3.0]",
         "dimensions.value_tier.cut.points[2]"),
        ("feature: orders_365d", "feature: orders_356d", "dimensions.purchase_frequency.feature"),
        ("{label: new, when: purchase_days == 1}",
         "{label: new, when: purchase_days == = 1}", "dimensions.lifecycle.rules[4].when"),
        ("{label: new, when: purchase_days == 1 and recency_days <= 180}",
         "{label: new, when: purchase_days == = 1}",
         "dimensions.lifecycle.fallback.rules[4].when"),
        ("title: {zh: 活跃度, en: Activity}", "titel: {zh: 活跃度, en: Activity}",
         "dimensions.activity.titel"),
        ("      A: {new: high,", "      Z: {new: high,", "dimensions.priority.cells.Z"),
    ],
)  # fmt: skip
def test_each_problem_is_at_its_line(old: str, new: str, path: str) -> None:
    text = default_scheme_text()
    assert old in text
    broken = text.replace(old, new, 1)
    found = dict(_lines_of(broken))
    assert found[path] == _at(broken, new.strip())


def test_a_key_left_out_points_at_its_parent() -> None:
    text = default_scheme_text().replace("    title: {zh: 活跃度, en: Activity}\n", "", 1)
    assert ("dimensions.activity.title", _at(text, "  activity:")) in _lines_of(text)


def test_yaml_syntax_error_has_its_line_and_column() -> None:
    [problem] = check_document("name: x\n  bad: [\n").problems
    assert (problem.path, problem.line, problem.column) == (None, 2, 6)
    assert "line 2, column 6" in problem.message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("a: &a [*a]\n", "refers to itself"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
                for i in range(8)
            ),
            f"more than {MAX_NODES:,}",
        ),
        ("x" * 1_000_001, "larger than"),
    ],
)
def test_documents_that_are_refused_before_loading(text: str, words: str) -> None:
    check = check_document(text)
    assert check.scheme is None and not check.ok
    assert words in check.problems[0].message


def test_a_list_at_the_top_is_reported_at_line_one() -> None:
    assert _lines_of("- 1\n") == [("(top level)", 1)]
