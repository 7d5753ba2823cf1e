"""What an import noticed about a file (the report's notes) is said in zh and en.

The notes stay English text where they are read as text (`SourceInfo.notes`, the report's
``notes`` in ``--json``); each is a `tierwise._said.Said` whose key and params the web app and
the CLI say in the user's language, and the JSON report gives them as ``note_keys``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tierwise._said import Said, said_of, say
from tierwise.cli import app
from tierwise.ingest import ImportOptions, UserMapping, import_file, map_columns
from tierwise.ingest._readers import open_source
from tierwise.web._i18n import messages

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _xlsx_named_csv(tmp: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.active.append(["customer_id", "name"])
    wb.active.append(["C1", "Ann"])
    path = tmp / "book.csv"
    wb.save(path)
    return path


def _text(name: str, text: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def write(tmp: Path) -> Path:
        path = tmp / name
        path.write_text(text, encoding=encoding)
        return path

    return write


# file → (options, the English note, its Chinese)
NOTES: dict[str, tuple[Callable[[Path], Path], dict[str, Any], str, str]] = {
    "duplicate": (lambda _: CORPUS / "17_customers_duplicate_and_blank_headers.csv", {},
                  'duplicate column "phone" renamed "phone (2)"', "列名“phone”重复，已改名为“phone (2)”"),
    "blank header": (lambda _: CORPUS / "17_customers_duplicate_and_blank_headers.csv", {},
                     'blank header at column 5 named "column_5"', "第 5 列的表头为空，已命名为“column_5”"),
    "gbk": (lambda _: CORPUS / "09_orders_gbk_chinese_headers.csv", {},
            "file is not UTF-8; read as GB18030 (GBK)", "文件不是 UTF-8 编码，已按 GB18030（GBK）读取"),
    "blank lines": (_text("c.csv", "\n\nid,name\n1,a\n"), {},
                    "2 blank line(s) before the header skipped", "已跳过表头前的 2 个空行"),
    "trailing": (_text("c.csv", "id,name,,\n1,a,,\n"), {},
                 "2 empty column(s) at the end of the header ignored", "已忽略表头末尾的 2 个空列"),
    "empty": (_text("c.csv", ""), {}, "file is empty", "文件为空"),
    "only blank": (_text("c.csv", "\n\n\n"), {}, "file has only blank lines (3)", "文件只有空行（3 行）"),
    "sheet ignored": (_text("c.csv", "id\n1\n"), {"sheet": "x"},
                      "the sheet option is ignored: the file is not a workbook",
                      "文件不是工作簿，已忽略工作表选项"),
    "misnamed workbook": (_xlsx_named_csv, {}, "file is an Excel workbook although named .csv",
                          "文件实为 Excel 工作簿，但扩展名是 .csv"),
    "text as xlsx": (_text("c.xlsx", "id\n1\n"), {},
                     "file is plain text (read as CSV) although named .xlsx",
                     "文件实为纯文本（按 CSV 读取），但扩展名是 .xlsx"),
}  # fmt: skip


def _english(note: Said) -> str:
    return messages()[note.key]["en"].format(**note.params)


@pytest.mark.parametrize("case", sorted(NOTES))
def test_each_note_is_said_in_both_languages(case: str, tmp_path: Path) -> None:
    make, options, english, chinese = NOTES[case]
    with open_source(make(tmp_path), **options) as source:
        notes = source.info.notes
    assert english in notes  # the English text, as callers always read it
    note = notes[notes.index(english)]
    assert isinstance(note, Said) and note.key.startswith("import.note.")
    assert say(note, "zh", messages()) == chinese
    assert say(note, "en", messages()) == english == _english(note)


def test_column_notes_name_the_columns_in_both_languages() -> None:
    cmap = map_columns(["手机", "phone", "客户编号"], "customers",
                       UserMapping(columns={"电话号码": "phone"}))  # fmt: skip
    said = {n.key: say(n, "zh", messages()) for n in cmap.notes if isinstance(n, Said)}
    assert said["import.note.mapping_unknown_column"] == "映射中指定的列“电话号码”不在文件中"
    assert "两列都对应字段 phone" in said["import.note.same_field"]
    assert all(_english(n) == n for n in cmap.notes if isinstance(n, Said))


def test_the_json_report_keeps_english_notes_and_gives_their_keys(
    engine: sa.Engine, tmp_path: Path
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("\n客户编号,客户名称,爱好\nC1,张伟,篮球\n", encoding="utf-8")
    report = import_file(path, engine=engine, options=ImportOptions(dry_run=True))
    data = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert data["notes"] == [
        "1 blank line(s) before the header skipped",
        "kept as custom attributes: 爱好",
    ]
    assert [k["key"] for k in data["note_keys"]] == [
        "import.note.blank_lines_skipped",
        "import.note.custom_attributes",
    ]
    back = [said_of(k) for k in data["note_keys"]]
    assert [say(n, "zh", messages()) for n in back] == [
        "已跳过表头前的 1 个空行",
        "以下列保存为自定义属性：爱好",
    ]
    assert back == data["notes"]


def test_the_cli_report_says_the_notes_in_the_chosen_language(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("\n\n客户编号,客户名称\nC1,张伟\n", encoding="utf-8")
    runner = CliRunner()
    args = ["import", str(path), "--dry-run", "--data-dir", str(tmp_path / "data")]
    zh = runner.invoke(app, [*args, "--lang", "zh"], env={"TIERWISE_MODE": "dev"})
    assert zh.exit_code == 0, zh.output
    assert "已跳过表头前的 2 个空行" in zh.output
    en = runner.invoke(app, [*args, "--lang", "en"], env={"TIERWISE_MODE": "dev"})
    assert "2 blank line(s) before the header skipped" in en.output
    assert not CJK.search(en.output.split("•", 1)[1].splitlines()[0])
    as_json = runner.invoke(app, [*args, "--lang", "zh", "--json"], env={"TIERWISE_MODE": "dev"})
    assert json.loads(as_json.stdout)["notes"] == ["2 blank line(s) before the header skipped"]


def test_every_note_key_has_both_languages() -> None:
    keys = {k for k in messages() if k.startswith("import.note.")}
    assert len(keys) >= 20
    for key in keys:
        assert CJK.search(messages()[key]["zh"]) and messages()[key]["en"]
