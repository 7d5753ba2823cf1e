"""Every problem a scheme check can report is said in Chinese too (`tierwise.scheme._said`).

A table of bad documents: each gives the expected catalogue key (and, for a rule, the key of
its reason) and a piece of the Chinese text. Then the whole table as a corpus: every problem
has a key of the catalogue, its Chinese fills every placeholder, and the catalogue's English
is the message the code wrote.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from tierwise._said import Said, say
from tierwise.scheme import default_scheme_text
from tierwise.scheme._expr import ExpressionError, parse
from tierwise.scheme._lines import MAX_NODES, Problem, check_document
from tierwise.scheme._said import SchemeProblems, say_line
from tierwise.scheme._validate import load_checked, validate_scheme
from tierwise.web._i18n import messages

DEFAULT = default_scheme_text()
CJK = re.compile(r"[\u4e00-\u9fff]")
ACTIVITY = "{label: active, when: last_activity_days <= 30}"
REGION_EAST = "      east: [上海,"


def edit(*changes: tuple[str, str]) -> str:
    """The default scheme with ``old → new`` replacements (each ``old`` must be there)."""
    text = DEFAULT
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def rule(when: str) -> str:
    """The default scheme with the first activity rule's condition replaced (a quoted scalar)."""
    return edit((ACTIVITY, "label: active\n        when: " + json.dumps(when, ensure_ascii=False)))


def with_block(block: str) -> str:
    """The default scheme with ``block`` (YAML, top level) added at the end."""
    return DEFAULT + block


ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)

# (document, expected key, a piece of its Chinese text)
CASES: dict[str, tuple[str, str, str]] = {
    # the document as a whole
    "too large": ("x" * 1_000_001, "scheme.check.too_large", "文档超过 1,000,000 个字符"),
    "empty": ("", "scheme.check.empty", "文档为空"),
    "alias loop": ("a: &a [*a]\n", "scheme.check.alias_loop", "引用了自身"),
    "alias bomb": (ALIAS_BOMB, "scheme.check.alias_size", f"超过 {MAX_NODES:,} 个值"),
    "not a mapping": ("- 1\n", "scheme.check.not_mapping", "应为包含 name 和 dimensions 的映射"),
    # YAML syntax (the parser's problem is said inside)
    "yaml mapping values": ("a: b: c\n", "scheme.check.yaml_at", "这里不能出现“键: 值”"),
    "yaml block end": ("a: 1\n- b\n", "scheme.check.yaml_at", "应为 <block end>，但遇到 '-'"),
    "yaml colon": ("a: 1\nb\nc: 2\n", "scheme.check.yaml_at", "找不到应有的冒号"),
    "yaml flow list": ("a: [1, 2\n", "scheme.check.yaml_at", "第 2 行第 1 列"),
    "yaml tab": ("a:\n\t- b\n", "scheme.check.yaml_at", "缩进请用空格"),
    "yaml alias": ("a: *x\n", "scheme.check.yaml_at", "别名 'x' 未定义"),
    "yaml anchor": ("a: &x 1\nb: &x 2\n", "scheme.check.yaml_at", "锚点重复定义"),
    "yaml documents": ("a: 1\n---\nb: 2\n", "scheme.check.yaml_at", "第二个 YAML 文档"),
    "yaml quote": ('a: "abc\n', "scheme.check.yaml_at", "文档意外结束"),
    "yaml escape": ('a: "\\q"\n', "scheme.check.yaml_at", "未知的转义字符 'q'"),
    "yaml key": ("? [a]\n: 1\n", "scheme.check.yaml_at", "键不能是列表或映射"),
    "yaml tag": ("a: !foo 1\n", "scheme.check.yaml_at", "不支持的 YAML 标签 '!foo'"),
    # structure: pydantic's errors by type
    "missing": (edit(("    title: {zh: 活跃度, en: Activity}\n", "")),
                "scheme.pydantic.missing", "必填项缺失"),
    "extra": (edit(("    otherwise: inactive\n", "    otherwise: inactive\n    otherwize: x\n")),
              "scheme.pydantic.extra", "未知的键"),
    "yes no": (edit(("{key: active, zh: 活跃, en: Active}", "{key: active, zh: yes, en: Active}")),
               "scheme.pydantic.yes_no", "请给它加上引号"),
    "method unknown": (edit(("method: rfm", "method: rfmm")),
                       "scheme.pydantic.method_unknown", "实际为 'rfmm'"),
    "method missing": (edit(("    method: rules\n    rules:\n      - " + ACTIVITY,
                             "    rules:\n      - " + ACTIVITY)),
                       "scheme.pydantic.method_missing", "缺少 method"),
    "label key": (edit(("{key: active, zh: 活跃", "{key: act ive, zh: 活跃")),
                  "scheme.pydantic.label_key", "实际为 'act ive'"),
    "text": (edit(("name: Tierwise default", "name: 5")), "scheme.pydantic.text", "应为文本，实际为 5"),
    "negative cost": (edit(("    visit: 200\n", "    visit: -5\n")), "scheme.pydantic.ge",
                      "实际为 -5"),
    "unknown interaction kind": (edit(("    meeting: 150\n", "    meting: 150\n")),
                                 "scheme.pydantic.literal", "实际为 'meting'"),
    "number": (edit(("points: [2.2, 3.2, 4.0]", "points: [abc, 3.2, 4.0]")),
               "scheme.pydantic.number", "应为数字，实际为 'abc'"),
    "integer": (edit(("min_days: 30              # and", "min_days: 1.5  # and")),
                "scheme.pydantic.integer", "应为整数，实际为 1.5"),
    "boolean": (edit(("    first_match: true\n", "    first_match: sometimes\n")),
                "scheme.pydantic.boolean", "应为 true 或 false"),
    "list": (edit(("points: [2.2, 3.2, 4.0]", "points: 3")), "scheme.pydantic.list", "应为列表，实际为 3"),
    "mapping": (edit(("title: {zh: 活跃度, en: Activity}", "title: Activity")),
                "scheme.pydantic.mapping", "应为映射"),
    "mapping null": (edit(("title: {zh: 活跃度, en: Activity}", "title:")),
                     "scheme.pydantic.mapping", "实际为 空值（null）"),
    "literal": (edit(("by: thresholds            # score", "by: steps  # score")),
                "scheme.pydantic.literal", "应为 'thresholds', 'quantiles', 'jenks' 之一"),
    "too short": (edit(("protected: [A]            #", "protected: [A]\n      #"),
                       ("    labels:\n      - {key: active", "    labels: []\n    x:\n      - {key: active")),
                  "scheme.pydantic.too_short", "至少需要 1 项"),
    "greater than": (edit(("weight: 0.4,", "weight: 0,")), "scheme.pydantic.gt", "必须大于 0"),
    "at least": (edit(("margin: 0.3               #", "margin: -1  #")),
                 "scheme.pydantic.ge", "不能小于 0"),
    "less than": (with_block("models: {discount_rate: 1}\n"), "scheme.pydantic.lt", "必须小于 1"),
    "at most": (with_block("models: {horizon_days: 5000}\n"), "scheme.pydantic.le", "不能大于 3650"),
    # the model's own checks
    "cut needs": (edit(("cut: {by: thresholds, points: [2.2, 3.2, 4.0]}", "cut: {by: quantiles}")),
                  "scheme.check.cut_needs", "按 quantiles 分档需要填写 probs"),
    "must increase": (edit(("points: [2.2, 3.2, 4.0]", "points: [2.2, 3.2, 3.0]")),
                      "scheme.check.must_increase", "points 必须递增（points[2] 为 3，前一个为 3.2）"),
    "probs range": (edit(("cut: {by: thresholds, points: [2.2, 3.2, 4.0]}",
                          "cut: {by: quantiles, probs: [0.2, 0.5, 1.5]}")),
                    "scheme.check.probs_range", "probs 必须严格介于 0 和 1 之间"),
    "labels repeated": (edit(("{key: potential, zh: 潜在活跃", "{key: active, zh: 潜在活跃")),
                        "scheme.check.labels_repeated", "重复的键：active"),
    "label reserved": (edit(("{key: inactive, zh: 不活跃", "{key: insufficient, zh: 不活跃")),
                       "scheme.check.label_reserved", "“insufficient”保留给“数据不足”"),
    "fallback nested": (edit(("      cut: {by: thresholds, points: [2.2, 3.2, 4.0]}\n",
                              "      cut: {by: thresholds, points: [2.2, 3.2, 4.0]}\n"
                              "      fallback: {method: bands}\n")),
                        "scheme.check.fallback_nested", "备用方案（fallback）本身不能再有备用方案"),
    "fallback labels": (edit(("      cut: {by: thresholds, points: [2.2, 3.2, 4.0]}\n",
                              "      cut: {by: thresholds, points: [2.2, 3.2, 4.0]}\n"
                              "      labels: [{key: D, zh: D, en: D}, {key: C, zh: C, en: C},"
                              " {key: X, zh: X, en: X}, {key: A, zh: A, en: A}]\n")),
                        "scheme.check.fallback_labels", "其标签键必须与本维度的相同（D, C, B, A）"),
    "fallback structure": (edit(("      cut: {by: thresholds, points: [2.2, 3.2, 4.0]}\n",
                                 "      cut: {by: thresholds, points: [2.2, 3.2, 4.0], pts: 1}\n")),
                           "scheme.pydantic.extra", "未知的键"),
    "labels vs cut": (edit(("      - {key: D, zh: D 低价值, en: D Low value}\n", "")),
                      "scheme.check.labels_vs_cut", "分档得到 4 档，但列出了 3 个标签"),
    "protected": (edit(("protected: [A]", "protected: [AA]")),
                  "scheme.check.protected_unknown", "hysteresis.protected 中有未列出的标签：AA"),
    "score map keys": (edit(('      "1": [lost, lost,', '      "6": [lost, lost,')),
                       "scheme.check.score_map_keys", "score_map 的键必须是 R 分 1 到 5"),
    "score map row": (edit(('      "1": [lost, lost, hibernating, at_risk, cant_lose]',
                            '      "1": [lost, lost, hibernating, at_risk]')),
                      "scheme.check.score_map_row", "score_map.1 需要 5 个标签（对应 FM 分 1 到 5），实际有 4 个"),
    "score map labels": (edit(('      "1": [lost, lost,', '      "1": [gone, lost,')),
                         "scheme.check.score_map_labels", "score_map 使用了未列出的标签：gone"),
    "rule label": (edit((ACTIVITY, "{label: busy, when: last_activity_days <= 30}")),
                   "scheme.check.rule_label", "rules[0].label 'busy' 不是已列出的标签"),
    "otherwise": (edit(("    otherwise: inactive\n", "    otherwise: asleep\n")),
                  "scheme.check.otherwise_label", "otherwise 的 'asleep' 不是已列出的标签"),
    "group label": (edit((REGION_EAST, "      eest: [上海,")),
                    "scheme.check.group_label", "'eest' 不是已列出的标签"),
    "group overlap": (edit(("      central: [河南,", "      central: [上海, 河南,")),
                      "scheme.check.group_overlap", "取值 '上海' 同时出现在分组 'east' 和 'central' 中"),
    "cells labels": (edit(("A: {new: high, repeat: high,", "A: {new: top, repeat: high,")),
                     "scheme.check.cells_labels", "cells 使用了未列出的标签：top"),
    "k range": (with_block("models: {clusters: {k_min: 6, k_max: 4}}\n"),
                "scheme.check.k_range", "k_max（4）不能小于 k_min（6）"),
    "dimension name": (edit(("  activity:\n", "  Activity:\n")),
                       "scheme.check.dimension_name", "维度名 'Activity' 必须是小写下划线格式"),
    "grid ref": (edit(("    rows: value_tier\n", "    rows: value_tierr\n")),
                 "scheme.check.grid_ref", "priority：交叉表引用了 'value_tierr'"),
    "cadence channel": (edit(("      cadence_days: 14\n      channel: call\n", "      cadence_days: 14\n")),
                        "scheme.check.cadence_channel", "cadence_days 14 需要联系渠道 channel"),
    "channel cadence": (edit(("      service_level: automated  # no cadence_days",
                              "      channel: sms\n      service_level: automated  # no")),
                        "scheme.check.channel_cadence", "渠道 'sms' 需要填写 cadence_days"),
    "care name": (edit(("care: [birthday, spring_festival]", "care: [birthday, Spring-Festival]")),
                  "scheme.check.care_name", "care[1] 'Spring-Festival' 必须是小写下划线格式的事件名"),
    # references between the parts of a scheme
    "playbook dimension": (edit(("  dimension: value_tier         #", "  dimension: value  #")),
                           "scheme.check.playbook_dimension", "'value' 不是本标准的维度"),
    "playbook tier": (edit(("    D:\n      title: {zh: 低价值客户", "    E:\n      title: {zh: 低价值客户")),
                      "scheme.check.playbook_tier", "'E' 不是 value_tier 的标签（标签：D, C, B, A）"),
    "win back label": (edit(("    labels: [high]\n", "    labels: [highest]\n")),
                       "scheme.check.not_label_of", "'highest' 不是 churn_risk 的标签"),
    "grid row": (edit(("      D: {new: low,", "      E: {new: low,")),
                 "scheme.check.not_label_of", "'E' 不是 value_tier 的标签"),
    "grid column": (edit(("A: {new: high, repeat: high,", "A: {neu: high, repeat: high,")),
                    "scheme.check.not_label_of", "'neu' 不是 lifecycle 的标签"),
    "unknown feature close": (edit(("feature: orders_365d", "feature: orders_356d")),
                              "scheme.check.unknown_feature_close", "未知特征 'orders_356d'。是否想写 orders_365d"),
    "unknown feature": (edit(("feature: orders_365d", "feature: zzzzzz")),
                        "scheme.check.unknown_feature", "未知特征 'zzzzzz'。`tierwise scheme features`"),
    "not a condition": (rule("last_activity_days * 2"),
                        "scheme.check.not_condition", "的结果是 float64 值，不是条件"),
    "cluster model output": (with_block("models: {clusters: {features: [clv, frequency]}}\n"),
                             "scheme.check.cluster_model_output", "'clv' 是模型输出"),
}  # fmt: skip

# a rule (the first activity rule's condition) → the key of its reason, a piece of its Chinese
RULES: dict[str, tuple[str, str]] = {
    "last_activity_days && x": ("expr.unexpected_use", "不能使用“&&”，请改用 \"and\""),
    "last_activity_days = 3": ("expr.unexpected_equals", "比较相等请用“=="),
    "last_activity_days > 三": ("expr.unexpected_letter", "意外的字符“三”：特征名只能由"),
    "last_activity_days > 3 ！": ("expr.unexpected_character", "意外的字符“！”。"),
    "a.b > 1": ("expr.unexpected_dot", "意外的“.”"),
    "last_activity_days > 3 $": ("expr.unexpected_character", "意外的字符“$”"),
    "province == 'a\\b'": ("expr.backslash", "反斜杠"),
    "province == 'abc": ("expr.unclosed_quote", "缺少右引号"),
    "last_activity_days > 1e999": ("expr.number_too_large", "数字 1e999 太大"),
    "last_activity_days > 99999999999999999999": ("expr.integer_too_large", "上限为"),
    "(last_activity_days > 3))": ("expr.unmatched_close", "多余的“)”"),
    "last_activity_days 3": ("expr.expected_operator", "在“last_activity_days”之后应为运算符或规则结尾，实际为 \"3\""),
    "last_activity_days > null": ("expr.null_misuse", "null 只能用在"),
    "(" * 60 + "x" + ")" * 60: ("expr.too_deep", "超过 50 层"),
    "1 < last_activity_days < 3": ("expr.chained", "比较不能连写"),
    "last_activity_days not 3": ("expr.not_without_in", "“not”后面应为“in”"),
    "last_activity_days > 3 and 4": ("expr.needs", "“and”需要两边都是真/假值，实际为 4（数字）"),
    "'a' contains 3": ("expr.needs", "“contains”需要两边都是文本"),
    "last_activity_days + 'a' > 3": ("expr.needs", "“+”需要两边都是数字"),
    "not 3": ("expr.needs", "“not”需要一个真/假值"),
    "-'a' > 3": ("expr.needs", "“-”需要一个数字"),
    "'a' > 'b'": ("expr.order_text", "“>”不能比较文本的大小（'a'）"),
    "true > 1": ("expr.order_boolean", "“>”两边都需要数字或日期，实际为 true（真/假值）"),
    "1 == 'a'": ("expr.cannot_compare", "“==”不能比较 1（数字） 和 'a'（文本）"),
    "province in 'a'": ("expr.list_expected", "“in”后面应为列表"),
    "province in []": ("expr.list_empty", "至少要有一个值"),
    "province in ['a', 1]": ("expr.list_mixed", "混用了数字和文本"),
    "province in ['a' 'b']": ("expr.list_separator", "列表中应为“,”或“]”"),
    "3 in ['a']": ("expr.in_text", "“in”不能在文本列表中查找 3（数字）"),
    "'a' in [1]": ("expr.in_numbers", "“in”不能在数字列表中查找 'a'（文本）"),
    "province in [x]": ("expr.list_item", "列表中应为数字或带引号的文本，实际为 \"x\""),
    "last_activity_days > )": ("expr.expected_value", "在“>”之后应为一个值，实际为 \")\""),
    "true == not false": ("expr.not_parens", "请把否定放进括号"),
    "(last_activity_days > 3": ("expr.unclosed_paren", "应为“)”来闭合第 1 列的“(”，实际为 规则结尾"),
    "[1] == 1": ("expr.list_misplaced", "列表 [...] 只能跟在"),
    "> 3": ("expr.expected_value", "应为一个值，实际为 \">\""),
    "foo(1) > 3": ("expr.unknown_function", "未知函数“foo”"),
    "max(1 2) > 3": ("expr.argument_separator", "max() 的参数之间应为"),
    "abs(1, 2) > 3": ("expr.arity_exactly", "abs() 需要正好 1 个参数，实际为 2 个"),
    "max(1) > 3": ("expr.arity_at_least", "max() 至少需要 2 个参数，实际为 1 个"),
    "abs('a') > 3": ("expr.function_numbers", "abs() 需要数字，实际为 'a'（文本）"),
    "coalesce(1, 'a') == 1": ("expr.coalesce_kinds", "coalesce() 的参数需要是同一种值"),
    "x" * 2001: ("expr.too_long", "规则长 2,001 个字符，上限为 2,000"),
    " ": ("expr.empty", "规则为空"),
    "province > 3": ("expr.typed_needs", "“>”需要数字或日期，实际为 province（文本，string）"),
    "province + 1 > 3": ("expr.typed_needs", "“+”两边都需要数字"),
    "-province > 3": ("expr.typed_needs", "“-”需要数字"),
    "not province": ("expr.typed_needs", "“not”需要真/假值"),
    "province and true": ("expr.typed_needs", "“and”两边都需要真/假值"),
    "province contains last_activity_days": ("expr.typed_needs", "“contains”需要文本"),
    "province in [1, 2]": ("expr.typed_needs", "与数字列表一起用的“in”需要数字"),
    "last_activity_days not in ['a']": ("expr.typed_needs", "与文本列表一起用的“not in”需要文本"),
    "abs(province) > 1": ("expr.typed_needs", "abs() 需要数字"),
    "province == 1": ("expr.cannot_compare", "province（文本，string） 和 1（数字，int64）"),
    "coalesce(province, last_activity_days) == 1": (
        "expr.typed_coalesce", "province（文本，string） 和 last_activity_days（数字，float64）"
    ),
}  # fmt: skip


def _said_zh(problem: Problem) -> str:
    return say(problem.said, "zh", messages())


def _problems(text: str) -> list[Problem]:
    problems = check_document(text).problems
    assert problems, "the document has no problem"
    return problems


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_problem_is_said_in_chinese(case: str) -> None:
    text, key, zh = CASES[case]
    found = [p for p in _problems(text) if p.key == key]
    assert found, [(p.key, p.message) for p in _problems(text)]
    said = [_said_zh(p) for p in found]
    assert any(zh in s for s in said), said


@pytest.mark.parametrize("when", sorted(RULES))
def test_each_rule_error_is_said_in_chinese(when: str) -> None:
    key, zh = RULES[when]
    [problem] = _problems(rule(when))
    assert problem.path == "dimensions.activity.rules[0].when"
    detail = problem.params["detail"]
    assert isinstance(detail, Said) and detail.key == key, (detail, problem.message)
    said = _said_zh(problem)
    assert zh in said, said
    assert said.startswith("规则")


@functools.cache
def _corpus() -> list[Problem]:
    return [p for text, _, _ in CASES.values() for p in check_document(text).problems] + [
        p for when in RULES for p in check_document(rule(when)).problems
    ]


def _english(value: Any) -> str:
    """``value`` in English from the catalogue (not from its own text)."""
    if not isinstance(value, Said):
        return str(value)
    params = {k: _english(v) if isinstance(v, Said) else v for k, v in value.params.items()}
    return messages()[value.key]["en"].format(**params)


def _keys(value: Any) -> list[str]:
    if not isinstance(value, Said):
        return []
    return [value.key, *(k for v in value.params.values() for k in _keys(v))]


def test_no_problem_is_left_in_english_only() -> None:
    catalogue = messages()
    problems = _corpus()
    assert len(problems) >= len(CASES) + len(RULES)
    for problem in problems:
        keys = _keys(problem.said)
        assert all(k in catalogue for k in keys), (keys, problem.message)
        assert not {"scheme.check.other", "scheme.pydantic.other", "expr.unreadable"} & set(keys)
        zh = _said_zh(problem)
        assert CJK.search(zh) and "{" not in zh.replace("{zh:", ""), (zh, problem.message)
        assert zh != problem.message
        # the catalogue's English is what the code wrote (a final stop aside)
        assert _english(problem.said).rstrip(".") == problem.message.rstrip("."), problem.key


def test_every_key_of_the_catalogue_file_is_made_by_the_code() -> None:
    """Each entry of messages_scheme_checks.yaml is used: made by a case above, or named in
    the code (a parser problem, a pydantic type, an editor refusal not reachable here)."""
    made = {k for p in _corpus() for k in _keys(p.said)}
    named = set(_source_keys())
    ours = {k for k in messages() if k.startswith(("scheme.check.", "scheme.pydantic.",
                                                  "scheme.syntax.", "scheme.value.", "expr."))}  # fmt: skip
    assert ours - made - named == set()


def _source_keys() -> list[str]:
    from pathlib import Path

    root = Path(__file__).parents[2] / "src" / "tierwise"
    found: list[str] = []
    for path in [*root.joinpath("scheme").glob("*.py"), root / "web" / "_schemes.py"]:
        text = path.read_text(encoding="utf-8")
        found += re.findall(r'"((?:scheme|expr)\.[a-z0-9_.]+)"', text)
        found += [f"expr.typed_needs.{w}" for w in re.findall(r'_needs\([^,]+, "(\w+)"\)', text)]
        found += [f"expr.typed_needs.in_{w}" for w in ("numbers", "text")]
    return found


def test_placeholders_of_rule_reasons_are_filled() -> None:
    """The reason of a rule error is a `Said` nested in the problem; said in the same language."""
    with pytest.raises(ExpressionError) as caught:
        parse("last_activity_days >")
    err = caught.value
    assert err.key == "expr.error_at_column" and err.params["column"] == 21
    assert say(err.said, "zh", messages()) == (
        "规则第 21 列有误（“last_activity_days >”）：在“>”之后应为一个值，实际为 规则结尾。"
    )
    assert say(err.said, "en", messages()) == str(err)


def test_refused_scheme_lines_keep_their_path_in_both_languages(tmp_path: Any) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(edit(("feature: orders_365d", "feature: orders_356d")), encoding="utf-8")
    report = validate_scheme(broken)
    [line] = report["errors"]
    assert line.startswith("Scheme error at dimensions.purchase_frequency.feature: unknown feature")
    zh = say_line(line, "zh", messages())
    assert zh.startswith(
        "标准错误（dimensions.purchase_frequency.feature）：未知特征 'orders_356d'"
    )
    assert say_line(line, "en", messages()) == line
    with pytest.raises(SchemeProblems) as caught:
        load_checked(broken)
    assert caught.value.problems == [line]
    top = validate_scheme(tmp_path / "missing.yaml")["errors"]
    assert say_line(top[0], "zh", messages()).startswith("找不到标准文件：")
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n", encoding="utf-8")
    [line] = validate_scheme(listed)["errors"]
    assert say_line(line, "zh", messages()) == (
        "标准错误（（顶层））：应为包含 name 和 dimensions 的映射（键: 值）"
    )


def test_problems_and_their_keys_serialise() -> None:
    [problem] = _problems(rule("last_activity_days = 3"))
    data = problem.to_dict()
    assert data["message"] == problem.message and data["key"] == "expr.error_at_column"
    assert data["params"]["detail"] == {"key": "expr.unexpected_equals", "params": {},
                                        "text": 'unexpected "="; use "==" to compare'}  # fmt: skip


SAY: dict[str, Callable[[], Said]] = {
    "copied": lambda: __import__("copy").deepcopy(_problems(rule("x = 1"))[0].said),
    "pickled": lambda: __import__("pickle").loads(
        __import__("pickle").dumps(_problems(rule("x = 1"))[0].said)
    ),
}


@pytest.mark.parametrize("how", sorted(SAY))
def test_a_said_keeps_its_key_when_copied(how: str) -> None:
    said = SAY[how]()
    assert said.key == "expr.error_at_column" and isinstance(said.params["detail"], Said)
    assert CJK.search(say(said, "zh", messages()))
