"""The act CLI: a rep's day from the command line (zh and en), on a frozen clock."""

from __future__ import annotations

import json
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from act_world import World, principal_for
from typer.testing import CliRunner

from tierwise import pipeline
from tierwise.cli import app, said
from tierwise.settings import load_settings
from tierwise.store.tables import users, webhook_endpoints

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
    # the highest tier first, though B1's follow-up is the older one
    assert [(t["customer_id"], t["channel"]) for t in today] == [("A1", "visit"), ("B1", "call")]
    table = _run(data_dir, "tasks", "list", "--user", "li", "--lang", "zh")
    assert "电话" in table.output and "拜访" in table.output
    refused = _run(data_dir, "tasks", "skip", str(today[0]["id"]), "--user", "li")
    assert refused.exit_code != 0
    assert "A reason is required to skip" in str(refused.exception or refused.output)
    done = _json(data_dir, "tasks", "done", str(today[0]["id"]), "--user", "li", "--note", "ok")
    assert done["status"] == "done" and done["next_task"] is not None
    assert [t["customer_id"] for t in _json(data_dir, "tasks", "list", "--user", "li")] == ["B1"]
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
    nobody = runner.invoke(
        app,
        ["tasks", "list", "--user", "nobody", "--data-dir", str(data_dir), "--now", NOW],
        env=ENV | {"TIERWISE_LANGUAGE": "zh"},
    )
    assert nobody.exit_code != 0
    assert "没有名为 'nobody' 的启用用户" in said(nobody.exception, "zh")


def test_schedule_mails_digests_and_webhook_secrets_are_stored_encrypted(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    added = _json_plain(data_dir, "webhooks", "add", "http://127.0.0.1:9/hook", "--secret", "s3")
    engine = pipeline.open_store(load_settings(data_dir=data_dir))
    with engine.begin() as conn:
        stored = conn.scalar(sa.select(webhook_endpoints.c.secret))
        conn.execute(users.update().where(users.c.username == "li")
                     .values(email="li@shop.example"))  # fmt: skip
    engine.dispose()
    assert added["id"] == 1 and stored is not None and stored.startswith("fernet:v1:")
    with socket.socket() as sock:  # a port nobody listens on: the digest fails, and says so
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    smtp = {"TIERWISE_SMTP_HOST": "127.0.0.1", "TIERWISE_SMTP_PORT": str(port),
            "TIERWISE_SMTP_STARTTLS": "false"}  # fmt: skip
    got = runner.invoke(app, ["schedule", "--no-deliver", "--data-dir", str(data_dir),
                              "--now", NOW], env=ENV | smtp)  # fmt: skip
    assert got.exit_code == 0, got.output
    assert json.loads(got.output)["digests"] == {"sent": 0, "failed": 1, "already": 0,
                                                 "no_email": 0}  # fmt: skip
    quiet = runner.invoke(app, ["schedule", "--no-deliver", "--no-digests", "--data-dir",
                                str(data_dir), "--now", NOW], env=ENV | smtp)  # fmt: skip
    assert "digests" not in json.loads(quiet.output)


def _json_plain(data_dir: Path, *args: str) -> Any:
    got = runner.invoke(app, [*args, "--data-dir", str(data_dir)], env=ENV)
    assert got.exit_code == 0, got.output
    return json.loads(got.output)
