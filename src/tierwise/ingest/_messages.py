"""Row-problem messages in English and Chinese, keyed by a stable machine code."""

from __future__ import annotations

from tierwise.ingest import _parse

# code -> (English, Chinese); templates may use {value} and {column}
MESSAGES: dict[str, tuple[str, str]] = {
    **_parse.ERROR_MESSAGES,
    "missing_value": (
        'Column "{column}" is empty; it is required.',
        "“{column}”列为空，该字段为必填项。",
    ),
    "missing_amount": (
        "No amount: fill the amount column, or both unit price and quantity.",
        "缺少金额：请填写订单金额，或同时填写单价和数量。",
    ),
    "missing_column": (
        'The file has no column for the required field "{column}". Rename the column or map it '
        "with --mapping FILE.",
        "文件缺少必填字段“{column}”对应的列。请修改列名，或用 --mapping 指定映射。",
    ),
    "unknown_customer": (
        'Customer "{value}" does not exist (import customers first, or drop --strict).',
        "客户“{value}”不存在（请先导入客户，或去掉 --strict）。",
    ),
    "duplicate_key": (
        'Key "{value}" already exists and --on-duplicate is "error".',
        "编号“{value}”已存在，且 --on-duplicate 设置为 error。",
    ),
    "duplicate_row": (
        "Exact duplicate of line {value}; skipped.",
        "与第 {value} 行完全相同，已跳过。",
    ),
    "superseded": (
        'A later line of this file has the same key "{value}" and replaces this row.',
        "本文件后面有编号相同（“{value}”）的行，以后面的行为准，本行未写入。",
    ),
    "field_too_large": (
        "A field on this line is larger than the limit; the row was not read.",
        "该行某个字段超出长度上限，未能读取。",
    ),
    "extra_fields": (
        "This row has more fields than the header ({value}).",
        "该行字段数多于表头（{value}）。",
    ),
    "unreadable_row": ("The row could not be read: {value}", "该行无法读取：{value}"),
    "self_referral": (
        "A customer cannot refer themselves ({value}).",
        "客户不能推荐自己（{value}）。",
    ),
    "negative_value": (
        '"{value}" is negative; expected zero or more.',
        "“{value}”为负数，应大于或等于零。",
    ),
}


def render(code: str, *, lang: str, value: str | None = None, column: str | None = None) -> str:
    en, zh = MESSAGES.get(code, (code, code))
    template = zh if lang == "zh" else en
    shown = value if value is None or len(value) <= 80 else value[:77] + "..."
    return template.format(value=shown if shown is not None else "", column=column or "")


__all__ = ["MESSAGES", "render"]
