"""Thin routes: each page and each API operation calls one library function."""

from fastapi import APIRouter

from tierwise.web.routes import (
    admin,
    auth,
    customers,
    dashboard,
    evaluation,
    imports,
    schemes,
    snapshots,
    work,
)

ROUTERS: list[APIRouter] = [
    auth.router,
    dashboard.router,
    customers.router,
    schemes.router,
    imports.router,
    snapshots.router,
    evaluation.router,
    work.router,
    admin.router,
]

__all__ = ["ROUTERS"]
