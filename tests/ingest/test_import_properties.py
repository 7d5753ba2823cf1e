"""Invariants I2 (conservation) and I4 (idempotence) on generated messy files, and I5 (resume
after SIGKILL) on a real subprocess."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierwise.ingest import ImportOptions, import_file
from tierwise.store import create_engine, read_only, tables, upgrade

_cells = {
    "order_id": st.sampled_from(["O1", "O2", "O3", "O4", "", " O1 ", "Ｏ２", "C536379"]),
    "customer_id": st.sampled_from(["C1", "C2", "C3", "", "客户1"]),
    "ordered_at": st.sampled_from(
        [
            "2024-03-01",
            "2024/3/2",
            "2024年3月3日",
            "03/04/2024",
            "2024-02-30",
            "45000",
            "",
            "yesterday",
            "2024-03-01 10:00",
        ]
    ),
    "amount": st.sampled_from(["10", "1,234.5", "¥12", "(5)", "-3", "abc", "", "=1+1", "１２"]),
    "status": st.sampled_from(["", "paid", "已退款", "cancelled", "weird"]),
}
_row = st.fixed_dictionaries(_cells)


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(_cells))
        writer.writeheader()
        writer.writerows(rows)


def _content(engine: sa.Engine) -> list[tuple[object, ...]]:
    o = tables.metadata.tables["orders"]
    cols = [o.c.order_id, o.c.line_id, o.c.customer_id, o.c.ordered_at, o.c.amount, o.c.status]
    with engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(sa.select(*cols).order_by(o.c.order_id, o.c.line_id))
        ]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(_row, min_size=0, max_size=40), batch=st.sampled_from([100, 50_000]))
def test_conservation_and_idempotence(
    tmp_path_factory: pytest.TempPathFactory, rows: list[dict[str, str]], batch: int
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    path = tmp / "orders.csv"
    _write_csv(path, rows)
    engine = create_engine(f"sqlite:///{tmp}/tw.db")
    upgrade(engine)
    try:
        options = ImportOptions(kind="orders", batch_size=batch)
        first = import_file(path, engine=engine, options=options)
        assert first.rows_in == len(rows)
        assert first.conserved, first.to_dict()
        content = _content(engine)
        assert len(content) == first.inserted
        second = import_file(path, engine=engine, options=options)
        assert second.conserved
        assert (second.inserted, second.updated, second.customers_created) == (0, 0, 0)
        assert second.rejected == first.rejected
        assert _content(engine) == content
    finally:
        engine.dispose()


def _big_orders(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        fh.write("order_id,customer_id,ordered_at,amount,status\n")
        for i in range(n):
            amount = "bad" if i % 1000 == 7 else f"{(i * 37) % 5000 / 10:.2f}"
            fh.write(f"O{i},C{i % 5000},2024-{1 + i % 12:02d}-{1 + i % 28:02d},{amount},paid\n")


@pytest.mark.slow
def test_sigkill_mid_import_resumes_to_the_same_result(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    _big_orders(path, 120_000)
    env = {**os.environ, "TIERWISE_IMPORT_BATCH_SIZE": "2000", "TIERWISE_MODE": "dev"}
    killed_dir, clean_dir = tmp_path / "killed", tmp_path / "clean"
    cmd = [sys.executable, "-m", "tierwise", "import", str(path), "--json"]

    subprocess.run(
        [*cmd, "--data-dir", str(clean_dir)], env=env, check=True, capture_output=True, timeout=600
    )

    proc = subprocess.Popen(
        [*cmd, "--data-dir", str(killed_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    engine = create_engine(f"sqlite:///{killed_dir}/tierwise.db")
    deadline = time.monotonic() + 300
    cursor = 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
            try:
                # a DEFERRED read: an IMMEDIATE one queues for the importer's write lock and
                # may only get it after the last batch (seen under load: cursor 120,000)
                with read_only(engine).connect() as conn:
                    cursor = conn.execute(sa.text("SELECT max(cursor) FROM jobs")).scalar() or 0
            except sa.exc.OperationalError:
                continue
            if cursor > 0:  # the first batch is committed: kill now, with most rows still to go
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"
        assert 0 < cursor < 120_000
        with engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT count(*) FROM orders")).scalar_one()
        assert stored <= cursor  # nothing after the last committed cursor

        resumed = subprocess.run(
            [*cmd, "--data-dir", str(killed_dir)],
            env=env,
            check=True,
            capture_output=True,
            timeout=600,
            text=True,
        )
        import json

        report = json.loads(resumed.stdout)
        assert report["resumed_at_row"] >= cursor
        assert report["rows_in"] == 120_000 and report["conserved"]
        assert report["rejected"] == 120
    finally:
        engine.dispose()
    clean = create_engine(f"sqlite:///{clean_dir}/tierwise.db")
    try:
        assert _content(engine) == _content(clean)
    finally:
        clean.dispose()
        engine.dispose()
