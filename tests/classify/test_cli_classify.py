"""The classification commands as a user types them, and the Python API on files and frames."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

import tierwise
from tierwise.cli import app
from tierwise.demo import generate
from tierwise.scheme import default_scheme, default_scheme_text

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(data dir with the demo imported, folder of the demo files)."""
    files = tmp_path_factory.mktemp("files")
    generate(customers=150, out=files, seed=11, fmt="csv")
    data = tmp_path_factory.mktemp("data")
    got = runner.invoke(
        app, ["import", str(files), "--data-dir", str(data), "--json"], env={"TIERWISE_MODE": "dev"}
    )
    assert got.exit_code == 0, got.output
    return data, files


def _run(args: list[str], data: Path) -> Any:
    got = runner.invoke(app, [*args, "--data-dir", str(data)], env={"TIERWISE_MODE": "dev"})
    return got


def _json(args: list[str], data: Path) -> Any:
    got = _run([*args, "--json"], data)
    assert got.exit_code == 0, got.output
    return json.loads(got.output)


def test_classify_explain_history(demo: tuple[Path, Path]) -> None:
    data, _ = demo
    summary = _json(["classify", "--as-of", "2026-10-31"], data)
    assert set(summary) >= {
        "snapshot_id",
        "as_of",
        "scheme_version",
        "engine",
        "customers",
        "dimensions",
        "hash",
        "timings",
    }
    assert summary["engine"] == "duckdb" and summary["scheme_version"] == 0
    assert sum(summary["dimensions"]["value_tier"].values()) == summary["customers"]
    shown = _run(["classify", "--as-of", "2026-10-31", "--lang", "zh"], data)
    assert shown.exit_code == 0 and "价值等级" in shown.output
    customer = next(iter(_json(["override", "list"], data)), None)
    assert customer is None
    explained = _json(["explain", "C0000001", "--lang", "en"], data)
    assert explained["customer_id"] == "C0000001"
    assert set(explained["dimensions"]) == set(default_scheme().dimensions)
    text = _run(["explain", "C0000001", "--lang", "zh"], data)
    assert text.exit_code == 0 and "生命周期" in text.output
    history = _json(["history", "C0000001"], data)
    assert {c["kind"] for c in history["changes"]} == {"new"}
    assert _run(["history", "C0000001"], data).exit_code == 0


def test_unknown_customer_and_bad_date_are_clear(demo: tuple[Path, Path]) -> None:
    data, _ = demo
    from tierwise.cli import main

    del main
    got = _run(["explain", "NOPE"], data)
    assert got.exit_code != 0
    assert 'Customer "NOPE" does not exist' in str(got.exception)
    bad = _run(["classify", "--as-of", "2026/13/01"], data)
    assert "--as-of '2026/13/01' is not a date" in str(bad.exception)


def test_scheme_show_validate_publish_and_preview(demo: tuple[Path, Path], tmp_path: Path) -> None:
    data, _ = demo
    shown = _run(["scheme", "show"], data)
    assert shown.exit_code == 0 and shown.output == default_scheme_text()
    draft = tmp_path / "draft.yaml"
    draft.write_text(
        default_scheme_text().replace("points: [2.2, 3.2, 4.0]", "points: [2.2, 3.2, 4.5]"),
        encoding="utf-8",
    )
    valid = runner.invoke(app, ["scheme", "validate", str(draft), "--json"])
    assert valid.exit_code == 0 and json.loads(valid.output)["valid"] is True
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        default_scheme_text().replace("when: purchase_days == 0}", "when: purchase_dayz == 0}", 1),
        encoding="utf-8",
    )
    report = runner.invoke(app, ["scheme", "validate", str(broken), "--json"])
    assert report.exit_code == 1
    errors = json.loads(report.output)["errors"]
    assert errors == [
        "Scheme error at dimensions.lifecycle.rules[0].when: unknown feature "
        "'purchase_dayz'. Did you mean purchase_days?"
    ]
    _json(["classify", "--as-of", "2026-10-31"], data)
    before = _json(["classify", "--as-of", "2026-10-31"], data)["snapshot_id"]
    preview = _json(["preview", str(draft), "--as-of", "2026-10-31"], data)
    assert preview["published_version"] == 0
    assert preview["downgrades"]["value_tier"]["count"] == preview["migration"]["value_tier"][
        "A"
    ].get("B", 0)
    assert _run(["preview", str(draft), "--as-of", "2026-10-31"], data).exit_code == 0
    published = _json(["scheme", "publish", str(draft), "--note", "A from 4.5"], data)
    assert published["version"] == 1
    after = _json(["classify", "--as-of", "2026-10-31"], data)
    assert after["snapshot_id"] == before + 1 and after["scheme_version"] == 1
    again = _run(["scheme", "publish", str(draft)], data)
    assert "already published as version 1" in str(again.exception)
    assert "- 4.5" in _run(["scheme", "show", "--version", "1"], data).output
    assert (
        _run(["scheme", "show"], data).output
        == _run(["scheme", "show", "--version", "1"], data).output
    )


def test_override_and_approvals_commands(demo: tuple[Path, Path]) -> None:
    data, _ = demo
    _json(["classify", "--as-of", "2026-10-31"], data)
    got = _run(
        [
            "override",
            "set",
            "C0000002",
            "value_tier",
            "A",
            "--reason",
            "VIP",
            "--expires",
            "2099-01-01",
        ],
        data,
    )
    assert got.exit_code == 0, got.output
    listed = _json(["override", "list"], data)
    assert [(r["customer_id"], r["label"], r["reason"]) for r in listed] == [
        ("C0000002", "A", "VIP")
    ]
    bad = _run(["override", "set", "C0000002", "tier", "A", "--reason", "x"], data)
    assert 'Dimension "tier" is not in the published scheme' in str(bad.exception)
    assert _run(["override", "revoke", "C0000002", "value_tier"], data).exit_code == 0
    assert _json(["override", "list"], data) == []
    assert isinstance(_json(["approvals", "list"], data), list)


def test_file_mode_writes_labels(demo: tuple[Path, Path], tmp_path: Path) -> None:
    _, files = demo
    out = tmp_path / "labels.parquet"
    got = runner.invoke(
        app,
        [
            "classify",
            "--orders",
            str(files / "orders.csv"),
            "--customers",
            str(files / "customers.csv"),
            "--as-of",
            "2026-10-31",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert got.exit_code == 0, got.output
    summary = json.loads(got.output)
    labels = pl.read_parquet(out)
    assert labels.height == summary["customers"] > 0
    assert {"customer_id", "value_tier", "value_tier_score", "priority"} <= set(labels.columns)
    assert summary["inputs"]["orders"]["rows"] >= summary["inputs"]["orders"]["used"]
    csv_out = tmp_path / "labels.csv"
    got = runner.invoke(
        app,
        [
            "classify",
            "--orders",
            str(files / "orders.csv"),
            "--as-of",
            "2026-10-31",
            "--out",
            str(csv_out),
        ],
    )
    assert got.exit_code == 0, got.output
    assert csv_out.read_bytes().startswith("\ufeff".encode())


def test_python_api_takes_paths_and_frames(demo: tuple[Path, Path]) -> None:
    _, files = demo
    with_customers = tierwise.classify(
        orders=files / "orders.csv", customers=files / "customers.csv", as_of=date(2026, 10, 31)
    )
    assert with_customers.height >= 150
    from_paths = tierwise.classify(orders=files / "orders.csv", as_of=date(2026, 10, 31))
    # a raw export as a pandas frame with Chinese headers works the same way
    raw = pl.read_csv(files / "orders.csv", infer_schema=False).to_pandas()
    frame_result = tierwise.classify(orders=raw, as_of=date(2026, 10, 31))
    both = from_paths.join(frame_result, on="customer_id", suffix="_f")
    assert both.height > 0
    assert (both.get_column("rfm_segment") == both.get_column("rfm_segment_f")).all()
    tiny = pl.DataFrame(
        {
            "订单编号": ["A1", "A2", "A3"],
            "客户编号": ["X", "X", "Y"],
            "下单时间": ["2024/3/1", "2024年5月1日", "2024-06-01"],
            "实付金额": ["¥1,200", "300", "(50)"],
        }
    )
    result = tierwise.classify(orders=tiny, as_of=date(2024, 6, 30))
    assert result.get_column("customer_id").to_list() == ["X", "Y"]
    assert result.filter(pl.col("customer_id") == "X").get_column("lifecycle").item() == "repeat"


def test_engine_rebuild_and_feature_list(demo: tuple[Path, Path]) -> None:
    data, _ = demo
    rebuilt = _json(["engine", "rebuild"], data)
    assert rebuilt["rebuilt"] is True
    assert rebuilt["rows"]["orders"] == rebuilt["read"]["orders"] > 0
    features = runner.invoke(app, ["scheme", "features", "--json"])
    assert features.exit_code == 0
    listed = json.loads(features.output)
    assert listed["recency_days"] == {
        "zh": "距最近下单天数",
        "en": "days since the last order",
        "unit": "days",
    }
    shown = runner.invoke(app, ["scheme", "features", "--lang", "zh"])
    assert "累计消费" in shown.output


def test_every_command_has_an_example() -> None:
    import typer.main

    group = typer.main.get_command(app)
    assert hasattr(group, "commands")
    missing = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subs = getattr(command, "commands", None)
        for sub_name, sub in (subs or {name: command}).items():
            if not (sub.epilog or "").startswith("Example:"):
                missing.append(f"{name} {sub_name}" if subs else name)
    assert missing == []
