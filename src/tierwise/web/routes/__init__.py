"""Thin routes: each page and each API operation calls one library function."""

from fastapi import APIRouter

from tierwise.web.routes import (
    admin,
    auth,
    complaints,
    customers,
    dashboard,
    evaluation,
    imports,
    outreach,
    pool,
    schemes,
    snapshots,
    webhooks,
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
    pool.router,
    complaints.router,
    outreach.router,
    webhooks.router,
    admin.router,
]

__all__ = ["ROUTERS"]
