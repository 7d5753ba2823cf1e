"""`tierwise demo` as a newcomer runs it (``make demo`` without serving): the demo reps sign in
to work that is theirs, and the evaluation has a past to show."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from tierwise.cli import app
from tierwise.cli_classify import DEMO_HISTORY_DAYS
from tierwise.store import create_engine

runner = CliRunner()


def test_demo_reps_own_the_follow_ups_of_their_customers(tmp_path: Path) -> None:
    """The classification plans follow-ups before the demo's reps exist; when the reps are
    given their customers, the open tasks of those customers go with them (a rep's My work
    was empty in the demo when they stayed unassigned)."""
    data = tmp_path / "data"
    got = runner.invoke(
        app,
        ["demo", "--customers", "400", "--no-serve", "--data-dir", str(data), "--lang", "en"],
        env={"TIERWISE_MODE": "demo"},
    )
    assert got.exit_code == 0, got.output
    assert "rep01" in got.output
    engine = create_engine(f"sqlite:///{data / 'tierwise.db'}")
    try:
        with engine.connect() as conn:
            orphans = conn.execute(
                sa.text(
                    "SELECT count(*) FROM tasks t JOIN customer_owners o "
                    "ON o.customer_pk = t.customer_pk "
                    "WHERE t.status = 'open' AND t.kind <> 'notice' "
                    "AND (t.user_id IS NULL OR t.user_id <> o.user_id)"
                )
            ).scalar_one()
            per_rep = dict(
                conn.execute(
                    sa.text(
                        "SELECT u.username, count(*) FROM tasks t JOIN users u "
                        "ON u.id = t.user_id WHERE t.status = 'open' AND t.kind = 'follow_up' "
                        "GROUP BY u.username"
                    )
                ).all()
            )
            given = conn.execute(
                sa.text("SELECT count(*) FROM pool_events WHERE kind = 'assigned'")
            ).scalar_one()
            owned = conn.execute(sa.text("SELECT count(*) FROM customer_owners")).scalar_one()
            days = [
                date.fromisoformat(str(d)[:10])
                for d in conn.execute(sa.text("SELECT as_of FROM snapshots ORDER BY id")).scalars()
            ]
    finally:
        engine.dispose()
    assert orphans == 0
    assert per_rep.get("rep01", 0) > 0, per_rep
    # each demo owner was given through the pool's own path: one event per customer
    assert given == owned > 0
    # a past to evaluate: three earlier quarter marks, oldest first, then the last order day
    assert len(days) == 1 + len(DEMO_HISTORY_DAYS)
    assert [(days[-1] - d).days for d in days[:-1]] == list(DEMO_HISTORY_DAYS)
    assert "History / 历史快照" in got.output
