"""The act tests' world fixture (helpers in act_world.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from act_world import World, principal_for


@pytest.fixture
def world(engine: sa.Engine) -> Iterator[World]:
    w = World(engine)
    with engine.begin() as conn:
        w.people["admin"] = principal_for(conn, "admin", "admin")
        w.people["boss"] = principal_for(conn, "boss", "manager")
        boss = w.people["boss"].user_id
        w.people["li"] = principal_for(conn, "li", "rep", boss)
        w.people["wang"] = principal_for(conn, "wang", "rep", boss)
        w.people["zhao"] = principal_for(conn, "zhao", "rep")  # another team
        w.people["ana"] = principal_for(conn, "ana", "analyst")
    yield w
