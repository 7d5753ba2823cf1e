"""The act CLI: a rep's day from the command line (zh and en), on a frozen clock."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from act_world import World, principal_for
from typer.testing import CliRunner

from tierwise import pipeline
from tierwise.cli import app, said
from tierwise.settings import load_settings

runner = CliRunner()
ENV = {"TIERWISE_MODE": "dev"}
NOW = "2026-12-02T09:00"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TIERWISE_MODE", "dev")
    engine = pipeline.open_store(load_settings(data_dir=tmp_path))
    world = World(engine)
    with engine.begin() as conn:
        world.people["admin"] = principal_for(conn, "admin", "admin")
        world.people["li"] = principal_for(conn, "li", "rep")
        for cid in ("A1", "B1"):
            world.customer(conn, cid)
            world.own(conn, cid, "li")
        world.customer(conn, "P1")
        world.contact(conn, "B1", datetime(2026, 11, 10, 15, 0))
        world.classify(conn, {"A1": "A", "B1": "B", "P1": "A"})
    engine.dispose()
    return tmp_path


def _run(data_dir: Path, *args: str) -> Any:
    got = runner.invoke(app, [*args, "--data-dir", str(data_dir), "--now", NOW], env=ENV)
    return got


def _json(data_dir: Path, *args: str) -> Any:
    got = _run(data_dir, *args, "--json")
    assert got.exit_code == 0, got.output
    return json.loads(got.output)


def test_a_reps_day_on_the_command_line(data_dir: Path) -> None:
    assert _json(data_dir, "tasks", "generate")["created"] == 3  # P1 too, unassigned
    assert _json(data_dir, "tasks", "generate")["created"] == 0
    today = _json(data_dir, "tasks", "list", "--user", "li")
    assert [(t["customer_id"], t["channel"]) for t in today] == [("B1", "call"), ("A1", "visit")]
    table = _run(data_dir, "tasks", "list", "--user", "li", "--lang", "zh")
    assert "电话" in table.output and "拜访" in table.output
    refused = _run(data_dir, "tasks", "skip", str(today[0]["id"]), "--user", "li")
    assert refused.exit_code != 0
    assert "A reason is required to skip" in str(refused.exception or refused.output)
    done = _json(data_dir, "tasks", "done", str(today[0]["id"]), "--user", "li", "--note", "ok")
    assert done["status"] == "done" and done["next_task"] is not None
    assert [t["customer_id"] for t in _json(data_dir, "tasks", "list", "--user", "li")] == ["A1"]
    pool = _json(data_dir, "pool", "list", "--user", "li")
    assert [p["customer_id"] for p in pool] == ["P1"]
    claimed = _run(data_dir, "pool", "claim", "P1", "--user", "li")
    assert claimed.exit_code == 0, claimed.output
    assert _json(data_dir, "pool", "list", "--user", "li") == []


def test_refusals_are_explained_in_chinese_too(data_dir: Path) -> None:
    assert _json(data_dir, "tasks", "generate")["created"] == 3
    task = _json(data_dir, "tasks", "list", "--user", "li")[0]
    got = runner.invoke(
        app,
        ["tasks", "snooze", str(task["id"]), "--until", "2026-12-01", "--reason", "出差",
         "--user", "li", "--data-dir", str(data_dir), "--now", NOW],
        env=ENV | {"TIERWISE_LANGUAGE": "zh"},
    )  # fmt: skip
    assert got.exit_code != 0
    # what `tierwise` (cli.main) prints: the catalogued error in Chinese, then in English
    assert "推迟到 2026-12-01 00:00 不是将来的时间。" in said(got.exception, "zh")
