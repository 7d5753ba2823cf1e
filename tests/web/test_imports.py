"""The import wizard, as pages and as REST API: upload → detect → dry run → import.

Each test signs users in through ``POST /login`` on a fresh data directory and drives the app
with files of the corpus (tests/corpus), comparing with what ``tierwise import`` reports.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tierwise import pipeline
from tierwise.cli import app as cli_app
from tierwise.settings import Settings
from tierwise.store import create_user, tables
from tierwise.web import create_app
from tierwise.web._uploads import purge_expired, safe_name

CORPUS = Path(__file__).parents[1] / "corpus"
PASSWORD = "correct-horse-battery-staple"
VOLATILE = ("file", "seconds")  # the path differs (upload folder vs corpus); the time too
COUNTED = (
    "customers", "orders", "products", "import_batches", "import_errors", "jobs", "audit_log",
)  # fmt: skip


@dataclass
class User:
    client: TestClient
    csrf: str

    @property
    def h(self) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf}


ROLES = {"boss": "admin", "other": "admin", "rep1": "rep", "ana1": "analyst", "mgr1": "manager"}


class Users(dict[str, User]):
    """Users created and signed in on first use (password hashing is slow on purpose)."""

    def __init__(self, app: Any) -> None:
        super().__init__()
        self.app = app

    def __missing__(self, name: str) -> User:
        with self.app.state.store.begin() as conn:
            create_user(conn, username=name, password=PASSWORD, role=ROLES[name])
        user = self[name] = _sign_in(self.app, name, "zh" if name == "mgr1" else "en")
        return user


@dataclass
class Web:
    settings: Settings
    app: Any
    users: Users

    @property
    def engine(self) -> sa.Engine:
        engine: sa.Engine = self.app.state.store
        return engine


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r"hx-headers='\{&#34;X-CSRF-Token&#34;: &#34;([^&]+)&#34;\}'", html
    )
    assert found, "no CSRF token on the page"
    return found[1]


def _sign_in(app: Any, username: str, lang: str) -> User:
    client = TestClient(app, cookies={"tw_lang": lang})
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return User(client, _csrf(client.get("/tokens").text))


@contextmanager
def _web(tmp_path: Path, database_url: str | None) -> Iterator[Web]:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, mode="dev", max_upload_mb=1
    )
    pipeline.init(settings)
    app = create_app(settings)
    with TestClient(app):  # runs the lifespan: the job pool is shut down at the end
        users = Users(app)
        yield Web(settings, app, users)
        for user in users.values():
            user.client.close()


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    """The app on SQLite in a fresh data directory."""
    with _web(tmp_path, None) as env:
        yield env


@pytest.fixture
def web_any(tmp_path: Path, fresh_db_url: str) -> Iterator[Web]:
    """The app on SQLite and on PostgreSQL (the invariants must hold on both)."""
    with _web(tmp_path, fresh_db_url) as env:
        yield env


def upload(user: User, path: Path, name: str | None = None) -> dict[str, Any]:
    with path.open("rb") as fh:
        response = user.client.post(
            "/api/v1/imports", files={"file": (name or path.name, fh)}, headers=user.h
        )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def upload_bytes(user: User, content: bytes, name: str) -> dict[str, Any]:
    response = user.client.post("/api/v1/imports", files={"file": (name, content)}, headers=user.h)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: int(conn.scalar(sa.select(sa.func.count()).select_from(
                tables.metadata.tables[name])) or 0)
            for name in COUNTED
        }  # fmt: skip


def cli_report(settings: Settings, path: Path, *extra: str) -> dict[str, Any]:
    env = {"TIERWISE_DATABASE_URL": settings.database_url} if settings.database_url else {}
    result = CliRunner().invoke(
        cli_app,
        ["import", str(path), "--dry-run", "--json", "--lang", "en",
         "--data-dir", str(settings.data_dir), *extra],
        env=env,
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def wait_done(user: User, upload_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        status: dict[str, Any] = user.client.get(f"/api/v1/imports/{upload_id}/status").json()
        if status["state"] != "running" or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def without(report: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in keys}


def read_csv(response: Any) -> list[dict[str, str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


# ---------------------------------------------------------------- detection and dry run (I1)


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("09_orders_gbk_chinese_headers.csv", ()),
        ("19_orders_bad_dates.csv", ()),
        ("31_customers_and_orders_two_sheets.xlsx", ()),
        ("27_empty.csv", ()),
        ("42_orders.parquet", ()),
    ],
)
def test_dry_run_equals_the_cli_and_writes_nothing(
    web_any: Web, name: str, extra: tuple[str, ...]
) -> None:
    web = web_any
    boss = web.users["boss"]
    up = upload(boss, CORPUS / name)
    before = counts(web.engine)
    response = boss.client.post(f"/api/v1/imports/{up['upload_id']}/dry-run", headers=boss.h)
    assert response.status_code == 200, response.text
    report = response.json()
    assert counts(web.engine) == before  # I1: nothing written, not even a job or audit row
    assert report["dry_run"] is True and report["file"] == name
    assert without(report, *VOLATILE) == without(cli_report(web.settings, CORPUS / name, *extra),
                                                 *VOLATILE)  # fmt: skip
    assert counts(web.engine) == before


def test_detection_of_a_gbk_file_with_chinese_headers(web: Web) -> None:
    up = upload(web.users["boss"], CORPUS / "09_orders_gbk_chinese_headers.csv")
    assert up["detected"]["encoding"] == "gb18030" and up["detected"]["encoding_detected"]
    assert up["detected"]["kind"] == "orders" and up["choices"]["kind"] == "orders"
    fields = {c["header"]: c["field"] for c in up["columns"]}
    assert fields["订单编号"] == "order_id" and fields["下单时间"] == "ordered_at"
    assert fields["实付金额"] == "amount" and fields["订单金额"] is None
    assert {"order_id", "customer_id", "ordered_at", "amount"} <= {f["name"] for f in up["fields"]}
    assert up["missing_fields"] == []
    columns = {c["header"]: c["samples"] for c in up["columns"]}
    assert columns["订单编号"][:2] == ["SO1101", "SO1102"]


def test_notes_are_said_in_the_users_language(web: Web) -> None:
    boss = web.users["boss"]
    up = upload(boss, CORPUS / "17_customers_duplicate_and_blank_headers.csv")
    uid = up["upload_id"]
    assert 'duplicate column "phone" renamed "phone (2)"' in up["detected"]["notes"]
    assert "import.note.duplicate_column" in {k["key"] for k in up["detected"]["note_keys"]}
    report = boss.client.post(f"/api/v1/imports/{uid}/dry-run", headers=boss.h).json()
    assert 'blank header at column 5 named "column_5"' in report["notes"]
    en = boss.client.get(f"/imports/{uid}").text
    assert "duplicate column &#34;phone&#34; renamed &#34;phone (2)&#34;" in en
    boss.client.cookies.set("tw_lang", "zh")
    try:
        zh = boss.client.get(f"/imports/{uid}").text
    finally:
        boss.client.cookies.set("tw_lang", "en")
    # in the detection and in the dry run's report
    assert zh.count("列名“phone”重复，已改名为“phone (2)”") == 2
    assert "第 5 列的表头为空，已命名为“column_5”" in zh and "duplicate column" not in zh


def test_sheets_are_selectable_in_a_workbook(web: Web) -> None:
    boss = web.users["boss"]
    up = upload(boss, CORPUS / "31_customers_and_orders_two_sheets.xlsx")
    assert up["detected"]["sheets"] == ["客户", "订单"]
    assert up["detected"]["sheet"] == "客户" and up["kind"] == "customers"
    chosen = boss.client.put(
        f"/api/v1/imports/{up['upload_id']}/choices", json={"sheet": "订单"}, headers=boss.h
    ).json()
    assert chosen["choices"]["sheet"] == "订单" and chosen["choices"]["kind"] == "orders"
    report = boss.client.post(f"/api/v1/imports/{up['upload_id']}/dry-run", headers=boss.h).json()
    assert (report["kind"], report["rows_in"], report["rejected"]) == ("orders", 8, 0)
    cli = cli_report(web.settings, CORPUS / "31_customers_and_orders_two_sheets.xlsx",
                     "--sheet", "订单")  # fmt: skip
    assert without(report, *VOLATILE) == without(cli, *VOLATILE)


def test_choosing_another_sheet_on_the_page_detects_its_kind_and_columns(web: Web) -> None:
    boss = web.users["boss"]
    up = upload(boss, CORPUS / "31_customers_and_orders_two_sheets.xlsx")
    uid = up["upload_id"]
    form = {"csrf_token": boss.csrf, "kind": "customers", "sheet": "订单", "date_format": ""}
    form |= {f"col_{c['index']}": c["field"] or "" for c in up["columns"]}  # the old sheet's
    response = boss.client.post(f"/imports/{uid}/choose", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    view = boss.client.get(f"/api/v1/imports/{uid}").json()
    assert (view["choices"]["sheet"], view["kind"]) == ("订单", "orders")
    assert view["columns"][0] == {
        "index": 0, "header": "订单编号", "field": "order_id", "auto_field": "order_id",
        "samples": ["SO1201", "SO1202", "SO1203"],
    }  # fmt: skip


def test_the_kind_can_be_chosen_when_it_cannot_be_detected(web: Web) -> None:
    boss = web.users["boss"]
    content = b"ref,label\nK1,Alpha\nK2,Beta\n"
    up = upload_bytes(boss, content, "mystery.csv")
    uid = up["upload_id"]
    assert up["kind"] is None and "Cannot tell what kind" in up["detected"]["kind_error"]
    assert "无法判断此文件是哪类数据（列：ref, label）" in up["detected"]["kind_error_said"]["zh"]
    boss.client.cookies.set("tw_lang", "zh")
    try:
        page = boss.client.get(f"/imports/{uid}").text
    finally:
        boss.client.cookies.set("tw_lang", "en")
    assert "无法判断此文件是哪类数据" in page and "Cannot tell what kind" not in page
    refused = boss.client.post(f"/api/v1/imports/{uid}/dry-run", headers=boss.h)
    assert refused.status_code == 422 and "choose one of" in refused.json()["detail"]
    choices = {"kind": "customers", "mapping": {"ref": "customer_id", "label": "name"}}
    chosen = boss.client.put(f"/api/v1/imports/{uid}/choices", json=choices, headers=boss.h)
    assert chosen.json()["missing_fields"] == [] and chosen.json()["kind"] == "customers"
    report = boss.client.post(f"/api/v1/imports/{uid}/dry-run", headers=boss.h).json()
    assert (report["kind"], report["rows_in"], report["inserted"]) == ("customers", 2, 2)


def test_ambiguous_dates_ask_for_a_format(web: Web) -> None:
    boss = web.users["boss"]
    up = upload(boss, CORPUS / "20_orders_ambiguous_dates.csv")
    assert up["ambiguous_date_columns"] == ["ordered_at"]
    path = f"/api/v1/imports/{up['upload_id']}/dry-run"
    assert boss.client.post(path, headers=boss.h).json()["rejected"] == 5
    report = boss.client.post(path, json={"date_format": "%d/%m/%Y"}, headers=boss.h).json()
    assert (report["rows_in"], report["rejected"]) == (5, 0)
    bad = boss.client.post(path, json={"date_format": "%Y%j"}, headers=boss.h)
    assert bad.status_code == 422


def test_a_changed_mapping_is_applied(web_any: Web) -> None:
    web = web_any
    boss = web.users["boss"]
    up = upload(boss, CORPUS / "09_orders_gbk_chinese_headers.csv")
    uid = up["upload_id"]
    mapping = {"订单金额": "amount", "实付金额": None}
    report = boss.client.post(
        f"/api/v1/imports/{uid}/dry-run", json={"mapping": mapping}, headers=boss.h
    ).json()
    assert report["mapping"]["amount"] == "订单金额" and "实付金额" in report["unmapped_columns"]
    view = boss.client.get(f"/api/v1/imports/{uid}").json()
    assert {c["header"]: c["field"] for c in view["columns"]}["订单金额"] == "amount"
    # the run without a body uses the choices of the dry run
    assert boss.client.post(f"/api/v1/imports/{uid}/run", headers=boss.h).status_code == 202
    assert wait_done(boss, uid)["state"] == "done"
    with web.engine.connect() as conn:
        amount = conn.scalar(
            sa.select(tables.orders.c.amount).where(tables.orders.c.order_id == "SO1101")
        )
    assert amount is not None and float(amount) == 199.00  # 订单金额, not 实付金额 (189.00)


def test_a_mapping_naming_a_field_twice_or_an_unknown_field_is_refused(web: Web) -> None:
    boss = web.users["boss"]
    uid = upload(boss, CORPUS / "09_orders_gbk_chinese_headers.csv")["upload_id"]
    path = f"/api/v1/imports/{uid}/dry-run"
    twice = boss.client.post(path, json={"mapping": {"订单金额": "amount"}}, headers=boss.h)
    assert twice.status_code == 422 and "amount" in twice.json()["detail"]
    unknown = boss.client.post(path, json={"mapping": {"品类": "tier"}}, headers=boss.h)
    assert unknown.status_code == 422 and '"tier"' in unknown.json()["detail"]
    missing = boss.client.post(path, json={"mapping": {"nope": "amount"}}, headers=boss.h)
    assert missing.status_code == 422 and "nope" in missing.json()["detail"]


# ---------------------------------------------------------------- the real import (I2)


def test_import_conserves_rows_and_deletes_the_file(web_any: Web) -> None:
    web = web_any
    boss = web.users["boss"]
    up = upload(boss, CORPUS / "19_orders_bad_dates.csv")
    uid = up["upload_id"]
    dry = boss.client.post(f"/api/v1/imports/{uid}/dry-run", headers=boss.h).json()
    started = boss.client.post(f"/api/v1/imports/{uid}/run", headers=boss.h)
    assert started.status_code == 202 and started.json()["state"] in ("running", "done")
    status = wait_done(boss, uid)
    assert status["state"] == "done", status
    report = status["report"]
    assert report["rows_in"] == 9 and report["conserved"]
    assert report["rows_in"] == (
        report["inserted"] + report["updated"] + report["skipped"] + report["rejected"]
    )
    # I1 the other way round: the real run reports what the dry run said it would
    assert without(report, *VOLATILE, "dry_run", "batch_id", "job_id") == without(
        dry, *VOLATILE, "dry_run", "batch_id", "job_id"
    )
    with web.engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(tables.orders)) == 4
        actions: list[str] = list(conn.scalars(sa.select(tables.audit_log.c.action)))
        who = conn.execute(
            sa.select(tables.audit_log.c.actor, tables.audit_log.c.actor_id).where(
                tables.audit_log.c.action == "import"
            )
        ).all()
    assert "import" in actions  # the importer audits the run itself
    assert all(actor_id is not None for _, actor_id in who), who  # and says who ran it
    folder = web.settings.data_dir / "uploads" / uid
    assert not (folder / "19_orders_bad_dates.csv").exists()
    again = boss.client.post(f"/api/v1/imports/{uid}/run", headers=boss.h)
    assert again.status_code == 422  # the file is gone: nothing to import twice


def test_importing_the_same_file_twice_changes_nothing(web_any: Web) -> None:
    web = web_any
    boss = web.users["boss"]
    first = upload(boss, CORPUS / "02_orders.csv")["upload_id"]
    boss.client.post(f"/api/v1/imports/{first}/run", headers=boss.h)
    assert wait_done(boss, first)["report"]["inserted"] == 20
    before = counts(web.engine)
    second = upload(boss, CORPUS / "02_orders.csv")["upload_id"]
    boss.client.post(f"/api/v1/imports/{second}/run", headers=boss.h)
    report = wait_done(boss, second)["report"]
    assert (report["rows_in"], report["inserted"], report["rejected"]) == (20, 0, 0)
    after = counts(web.engine)
    assert {k: after[k] for k in ("customers", "orders")} == {
        k: before[k] for k in ("customers", "orders")
    }


def test_problems_download_with_line_numbers(web_any: Web) -> None:
    web = web_any
    boss = web.users["boss"]
    uid = upload(boss, CORPUS / "19_orders_bad_dates.csv")["upload_id"]
    boss.client.post(f"/api/v1/imports/{uid}/dry-run", headers=boss.h)
    response = boss.client.get(f"/api/v1/imports/{uid}/errors.csv")
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    rows = read_csv(response)
    assert [(r["Line"], r["Column"], r["Code"]) for r in rows] == [
        ("3", "ordered_at", "bad_date"), ("4", "ordered_at", "bad_date"),
        ("6", "ordered_at", "bad_date"), ("8", "ordered_at", "missing_value"),
        ("10", "ordered_at", "bad_date"),
    ]  # fmt: skip
    assert all(r["Message"] for r in rows)
    page = boss.client.get(f"/api/v1/imports/{uid}/problems", params={"per_page": 2}).json()
    assert (page["source"], page["total"], page["pages"]) == ("dry_run", 5, 3)
    assert [p["line"] for p in page["items"]] == [3, 4]
    # after the real run the list comes from the store (every problem, not only the first 1000)
    boss.client.post(f"/api/v1/imports/{uid}/run", headers=boss.h)
    assert wait_done(boss, uid)["state"] == "done"
    after = read_csv(boss.client.get(f"/imports/{uid}/errors.csv"))
    assert [r["Line"] for r in after] == ["3", "4", "6", "8", "10"]
    assert boss.client.get(f"/api/v1/imports/{uid}/problems").json()["source"] == "import"


def test_problems_csv_neutralises_formulas(web: Web) -> None:
    boss = web.users["boss"]
    content = 'order_id,customer_id,ordered_at,amount\nO1,C1,2024-03-01,=HYPERLINK("x")\n'
    uid = upload_bytes(boss, content.encode(), "orders.csv")["upload_id"]
    assert boss.client.post(f"/api/v1/imports/{uid}/dry-run", headers=boss.h).json()["rejected"]
    rows = read_csv(boss.client.get(f"/api/v1/imports/{uid}/errors.csv"))
    assert rows[0]["Value"].startswith("'=")


# ---------------------------------------------------------------- the pages


def test_the_wizard_pages_from_upload_to_import(web: Web) -> None:
    boss = web.users["boss"]
    client = boss.client
    index = client.get("/imports")
    assert index.status_code == 200 and 'enctype="multipart/form-data"' in index.text
    with (CORPUS / "09_orders_gbk_chinese_headers.csv").open("rb") as fh:
        posted = client.post(
            "/imports", files={"file": ("09_orders_gbk_chinese_headers.csv", fh)},
            data={"csrf_token": boss.csrf}, follow_redirects=False,
        )  # fmt: skip
    assert posted.status_code == 303, posted.text
    wizard_url = posted.headers["location"]
    uid = wizard_url.rsplit("/", 1)[1]
    wizard = client.get(wizard_url)
    assert "gb18030" in wizard.text and 'name="col_4"' in wizard.text
    assert "Dry run (writes nothing)" in wizard.text
    form = {"csrf_token": boss.csrf, "kind": "orders", "on_duplicate": "update"}
    form |= {f"col_{i}": f for i, f in enumerate(
        ["order_id", "customer_id", "ordered_at", "amount", "", "product_id", "category",
         "status"])}  # fmt: skip
    dry = client.post(f"/imports/{uid}/dry-run", data=form, follow_redirects=False)
    assert dry.status_code == 303
    shown = client.get(f"/imports/{uid}").text
    assert "Dry run — nothing was written" in shown and 'id="count-inserted">10<' in shown
    assert "订单金额 → amount" in shown
    run = client.post(f"/imports/{uid}/run", data=form, follow_redirects=False)
    assert run.status_code == 303
    running = client.get(f"/imports/{uid}").text
    assert 'id="import-status"' in running
    assert wait_done(boss, uid)["state"] == "done"
    fragment = client.get(f"/imports/{uid}/status").text
    assert 'id="import-done"' in fragment and "hx-get" not in fragment
    final = client.get(f"/imports/{uid}").text
    assert "Import report" in final and 'href="/"' in final
    assert uid in client.get("/imports").text


def test_polling_fragment_while_running(web: Web) -> None:
    """While the import runs the fragment asks HTMX to fetch it again."""
    from tierwise.web import _uploads

    boss = web.users["boss"]
    uid = upload(boss, CORPUS / "02_orders.csv")["upload_id"]
    # hold the run's progress record in place to observe the running state deterministically
    with _uploads._LOCK:
        _uploads._PROGRESS[uid] = _uploads._Progress(uid, rows_done=7, rows_estimate=20)
    folder = web.settings.data_dir / "uploads" / uid
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps(meta | {"state": "running"}))
    try:
        fragment = boss.client.get(f"/imports/{uid}/status").text
        assert f'hx-get="/imports/{uid}/status"' in fragment and 'hx-trigger="every 1s"' in fragment
        assert "7 of about 20 rows processed" in fragment and 'value="35"' in fragment
        busy = boss.client.post(f"/api/v1/imports/{uid}/run", headers=boss.h)
        assert busy.status_code == 409
    finally:
        with _uploads._LOCK:
            _uploads._PROGRESS.pop(uid)
    # the record gone while meta.json still says running: the process died, so interrupted
    assert boss.client.get(f"/api/v1/imports/{uid}/status").json()["state"] == "interrupted"


def test_chinese_pages(web: Web) -> None:
    assert web.users["boss"]  # created; a second session of the same user reads Chinese
    boss_zh = _sign_in(web.app, "boss", "zh")
    uid = upload(boss_zh, CORPUS / "19_orders_bad_dates.csv")["upload_id"]
    boss_zh.client.post(f"/api/v1/imports/{uid}/dry-run", headers=boss_zh.h)
    text = boss_zh.client.get(f"/imports/{uid}").text
    assert "试运行 — 未写入任何数据" in text and "被拒绝的行与警告" in text
    assert "不是有效日期" in text and "is not a valid date" not in text  # the rows' messages too
    boss_zh.client.close()


def test_a_script_in_a_rejected_cell_is_shown_escaped(web: Web) -> None:
    boss = web.users["boss"]
    payload = "<script>alert(1)</script>"
    content = f"order_id,customer_id,ordered_at,amount\nO1,C1,2024-03-01,{payload}\n"
    uid = upload_bytes(boss, content.encode(), f"{payload}.csv")["upload_id"]
    report = boss.client.post(f"/api/v1/imports/{uid}/dry-run", headers=boss.h).json()
    assert report["rejected"] == 1 and report["errors"][0]["value"] == payload
    text = boss.client.get(f"/imports/{uid}").text
    assert payload not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert payload not in boss.client.get("/imports").text


# ---------------------------------------------------------------- limits and file names


def test_an_upload_over_the_limit_is_refused(web: Web) -> None:
    boss = web.users["boss"]
    big = b"customer_id,name\n" + b"C1,x\n" * 300_000  # 1.5 MB; the limit is 1 MB
    by_length = boss.client.post(
        "/api/v1/imports", files={"file": ("big.csv", big)}, headers=boss.h
    )
    assert by_length.status_code == 413

    boundary = "tierwiseboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n"
        ).encode()
        + big
        + f"\r\n--{boundary}--\r\n".encode()
    )

    def chunks() -> Iterator[bytes]:  # no Content-Length: only the streaming count sees it
        for i in range(0, len(body), 65536):
            yield body[i : i + 65536]

    headers = boss.h | {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    streamed = boss.client.post("/api/v1/imports", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    assert streamed.json()["detail"] == (
        "The file is larger than the limit of 1 MB and was not kept. "
        "Split it or ask an administrator."
    )
    boss.client.cookies.set("tw_lang", "zh")
    streamed_zh = boss.client.post("/api/v1/imports", content=chunks(), headers=headers)
    assert streamed_zh.status_code == 413 and "1 MB 的上限" in streamed_zh.json()["detail"]
    page = boss.client.post("/imports", content=chunks(), headers=headers, follow_redirects=False)
    assert page.status_code == 413 and "1 MB 的上限" in page.text
    uploads = web.settings.data_dir / "uploads"
    assert not [p for p in uploads.iterdir()]  # nothing kept


@pytest.mark.parametrize(
    ("client_name", "stored"),
    [
        ("../../../etc/passwd.csv", "passwd.csv"),
        ("..\\..\\windows\\orders.CSV", "orders.csv"),
        ("/abs/path/客户 名单.xlsx", "客户 名单.xlsx"),
        (".hidden.csv", "hidden.csv"),
        ("a<b>|c?.csv", "a_b_c.csv"),
        ("..csv.csv", "csv.csv"),
        ("\x00evil\x1f.tsv", "evil.tsv"),
    ],
)
def test_client_file_names_are_neutralised(client_name: str, stored: str) -> None:
    assert safe_name(client_name, lang="en") == stored


@pytest.mark.parametrize("client_name", ["run.exe", "orders", "orders.csv.exe", "../..", ""])
def test_unsupported_file_names_are_refused(client_name: str) -> None:
    with pytest.raises(ValueError, match="Unsupported file type"):
        safe_name(client_name, lang="en")


def test_an_upload_named_with_dot_dot_stays_in_its_folder(web: Web) -> None:
    boss = web.users["boss"]
    up = upload(boss, CORPUS / "01_customers.csv", name="../../../01_customers.csv")
    assert up["name"] == "01_customers.csv"
    folder = web.settings.data_dir / "uploads" / up["upload_id"]
    assert (folder / "01_customers.csv").is_file()
    assert sorted(p.name for p in folder.iterdir()) == ["01_customers.csv", "meta.json"]
    assert not (web.settings.data_dir / "01_customers.csv").exists()
    assert (folder.stat().st_mode & 0o777) == 0o700
    refused = boss.client.post(
        "/api/v1/imports", files={"file": ("../x.exe", b"MZ")}, headers=boss.h
    )
    assert refused.status_code == 422 and "Unsupported file type" in refused.json()["detail"]


def test_an_unreadable_file_is_refused_and_not_kept(web: Web) -> None:
    boss = web.users["boss"]
    response = boss.client.post(
        "/api/v1/imports",
        files={"file": ("40_old_excel.xlsx", (CORPUS / "40_old_excel.xls").read_bytes())},
        headers=boss.h,
    )
    assert response.status_code == 422
    assert not list((web.settings.data_dir / "uploads").iterdir())


def test_uploads_expire_after_a_day(web: Web) -> None:
    from datetime import UTC, datetime

    boss = web.users["boss"]
    uid = upload(boss, CORPUS / "01_customers.csv")["upload_id"]
    assert purge_expired(web.settings) == 0
    assert purge_expired(web.settings, now=datetime.now(UTC) + timedelta(hours=25)) == 1
    assert boss.client.get(f"/api/v1/imports/{uid}").status_code == 404


def test_an_upload_can_be_discarded(web: Web) -> None:
    boss = web.users["boss"]
    uid = upload(boss, CORPUS / "01_customers.csv")["upload_id"]
    assert boss.client.delete(f"/api/v1/imports/{uid}", headers=boss.h).status_code == 204
    assert boss.client.get(f"/api/v1/imports/{uid}").status_code == 404
    assert boss.client.get("/api/v1/imports").json() == {"items": []}


# ---------------------------------------------------------------- access control and CSRF


def test_state_changes_without_the_csrf_token_are_refused(web: Web) -> None:
    boss = web.users["boss"]
    uid = upload(boss, CORPUS / "01_customers.csv")["upload_id"]
    with (CORPUS / "01_customers.csv").open("rb") as fh:
        no_header = boss.client.post("/api/v1/imports", files={"file": ("a.csv", fh)})
    assert no_header.status_code == 403
    with (CORPUS / "01_customers.csv").open("rb") as fh:
        no_field = boss.client.post("/imports", files={"file": ("a.csv", fh)})
    assert no_field.status_code == 403
    wrong = {"X-CSRF-Token": "not-the-token"}
    for method, path in (
        ("post", f"/api/v1/imports/{uid}/dry-run"),
        ("post", f"/api/v1/imports/{uid}/run"),
        ("put", f"/api/v1/imports/{uid}/choices"),
        ("delete", f"/api/v1/imports/{uid}"),
        ("post", f"/imports/{uid}/dry-run"),
        ("post", f"/imports/{uid}/run"),
        ("post", f"/imports/{uid}/choose"),
        ("post", f"/imports/{uid}/delete"),
    ):
        for headers in ({}, wrong):
            response = boss.client.request(method, path, headers=headers)
            assert response.status_code == 403, (method, path, headers)
    assert len(boss.client.get("/api/v1/imports").json()["items"]) == 1
    assert counts(web.engine)["orders"] == 0


@pytest.mark.parametrize("role_user", ["rep1", "ana1", "mgr1"])
def test_roles_without_import_are_forbidden(web: Web, role_user: str) -> None:
    uid = upload(web.users["boss"], CORPUS / "01_customers.csv")["upload_id"]
    user = web.users[role_user]
    with (CORPUS / "01_customers.csv").open("rb") as fh:
        assert (
            user.client.post(
                "/api/v1/imports", files={"file": ("a.csv", fh)}, headers=user.h
            ).status_code
            == 403
        )
    for path in ("/imports", f"/imports/{uid}", "/api/v1/imports", f"/api/v1/imports/{uid}",
                 f"/api/v1/imports/{uid}/status", f"/api/v1/imports/{uid}/errors.csv",
                 f"/imports/{uid}/status"):  # fmt: skip
        assert user.client.get(path).status_code == 403, path
    for path in (f"/api/v1/imports/{uid}/dry-run", f"/api/v1/imports/{uid}/run"):
        assert user.client.post(path, headers=user.h).status_code == 403, path
    assert "/imports" not in user.client.get("/tokens").text.split("<main>")[0]


def test_another_users_upload_is_not_found(web: Web) -> None:
    boss, other = web.users["boss"], web.users["other"]
    uid = upload(boss, CORPUS / "19_orders_bad_dates.csv")["upload_id"]
    boss.client.post(f"/api/v1/imports/{uid}/dry-run", headers=boss.h)
    missing = other.client.get("/api/v1/imports/" + "x" * 32)
    assert missing.status_code == 404
    for path in (f"/api/v1/imports/{uid}", f"/api/v1/imports/{uid}/status",
                 f"/api/v1/imports/{uid}/errors.csv", f"/api/v1/imports/{uid}/problems",
                 f"/imports/{uid}", f"/imports/{uid}/status", f"/imports/{uid}/errors.csv"):  # fmt: skip
        response = other.client.get(path)
        assert response.status_code == 404, path
        if path.startswith("/api/"):
            assert response.json() == missing.json()  # exactly like a missing one
    for method, path in (("post", f"/api/v1/imports/{uid}/dry-run"),
                         ("post", f"/api/v1/imports/{uid}/run"),
                         ("put", f"/api/v1/imports/{uid}/choices"),
                         ("delete", f"/api/v1/imports/{uid}")):  # fmt: skip
        kwargs: dict[str, Any] = {"json": {}} if method == "put" else {}
        assert other.client.request(method, path, headers=other.h, **kwargs).status_code == 404
    assert other.client.get("/api/v1/imports").json() == {"items": []}
    assert counts(web.engine)["orders"] == 0
    assert boss.client.get(f"/api/v1/imports/{uid}").status_code == 200


@pytest.mark.parametrize("bad_id", ["..", "..%2F..%2Fsecret.key", "a" * 19, "a" * 65, "%00" * 21])
def test_malformed_upload_ids_are_not_found(web: Web, bad_id: str) -> None:
    boss = web.users["boss"]
    response = boss.client.get(f"/api/v1/imports/{bad_id}/status")
    assert response.status_code == 404


def test_a_failed_import_says_why_and_keeps_the_file_for_another_try(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tierwise.web import _uploads

    def broken(path: Path, **kwargs: Any) -> Any:
        if kwargs["options"].dry_run:
            raise AssertionError("not a dry run")
        raise OSError("disk full")

    boss = web.users["boss"]
    uid = upload(boss, CORPUS / "01_customers.csv")["upload_id"]
    monkeypatch.setattr(_uploads, "import_file", broken)
    assert boss.client.post(f"/api/v1/imports/{uid}/run", headers=boss.h).status_code == 202
    status = wait_done(boss, uid)
    assert (status["state"], status["error"]) == ("failed", "disk full")
    assert "disk full" in boss.client.get(f"/imports/{uid}/status").text
    monkeypatch.undo()
    assert boss.client.post(f"/api/v1/imports/{uid}/run", headers=boss.h).status_code == 202
    status = wait_done(boss, uid)
    assert status["state"] == "done" and status["report"]["inserted"] == 12
