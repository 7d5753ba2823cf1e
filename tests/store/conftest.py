"""Fixtures for the store tests (the databases themselves come from tests/conftest.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from tierwise.store import tables

AddCustomer = Callable[[sa.Connection, str], int]


@pytest.fixture(scope="session")
def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def add_customer() -> AddCustomer:
    """Insert a minimal customer and return its internal id."""

    def add(conn: sa.Connection, customer_id: str) -> int:
        pk = conn.scalar(
            tables.customers.insert()
            .values(customer_id=customer_id, row_hash="0" * 32)
            .returning(tables.customers.c.id)
        )
        assert pk is not None
        return int(pk)

    return add
