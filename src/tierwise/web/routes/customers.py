"""Customers: the filtered list, export, the 360 page, overrides, approvals, owners, edits."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from tierwise.access import (
    CustomerFilter,
    assign_owner,
    customer_360,
    export_customers,
    filter_options,
    list_customers,
    scoped_pk,
    update_customer,
)
from tierwise.classify import decide_pending, revoke_override, set_override
from tierwise.errors import DataError, NotFoundError
from tierwise.store import read_only
from tierwise.store.tables import customers as customers_table
from tierwise.store.tables import pending_changes
from tierwise.web._deps import (
    MAX_ID,
    ChangingUser,
    CurrentUser,
    IdPath,
    LangDep,
    SettingsDep,
    StoreDep,
    form_id,
)
from tierwise.web._i18n import t
from tierwise.web._render import page, twin

router = APIRouter()

Labels = Annotated[
    list[str], Query(description="dimension:label, repeatable (labels of one dimension: any)")
]


def _filter(
    label: list[str], q: str | None, owner: str | None, province: str | None,
    industry: str | None, sort: str, page_no: int, per_page: int,
) -> CustomerFilter:  # fmt: skip
    wanted: dict[str, list[str]] = {}
    for item in label:
        dimension, sep, key = item.partition(":")
        if not sep or not key:
            raise DataError(
                f'Label filter "{item}" must look like dimension:label.',
                key="err.label_filter",
                value=item,
            )
        wanted.setdefault(dimension, []).append(key)
    return CustomerFilter(
        labels=wanted, q=q or None, owner=owner or None, province=province or None,
        industry=industry or None, sort=sort or "customer_id", page=page_no, per_page=per_page,
    )  # fmt: skip


class ListParams(BaseModel):
    q: str | None = None
    owner: str | None = None
    province: str | None = None
    industry: str | None = None
    sort: str = "customer_id"
    page: int = Field(1, ge=1, le=10**7)
    per_page: int = Field(50, ge=1, le=200)


def _list(store: Any, auth: Any, lang: str, filt: CustomerFilter) -> dict[str, Any]:
    with read_only(store).connect() as conn:
        return list_customers(conn, principal=auth.principal, filt=filt, lang=lang)


@router.get("/customers", response_class=HTMLResponse, include_in_schema=False)
def customers_page(
    request: Request, lang: LangDep, store: StoreDep, auth: CurrentUser,
    params: Annotated[ListParams, Query()], label: Labels = [],  # noqa: B006
) -> Response:  # fmt: skip
    filt = _filter(label, params.q, params.owner, params.province, params.industry,
                   params.sort, params.page, params.per_page)  # fmt: skip
    data = _list(store, auth, lang, filt)
    with read_only(store).connect() as conn:
        options = filter_options(conn, principal=auth.principal)
    return page(request, "customers.html", {"d": data, "options": options, "f": filt,
                                            "selected": set(label)})  # fmt: skip


@router.get("/api/v1/customers", tags=["customers"])
def customers_json(
    lang: LangDep, store: StoreDep, auth: CurrentUser,
    params: Annotated[ListParams, Query()], label: Labels = [],  # noqa: B006
) -> JSONResponse:  # fmt: skip
    """Customers in scope, filtered by labels, owner, region, industry and text; paginated."""
    filt = _filter(label, params.q, params.owner, params.province, params.industry,
                   params.sort, params.page, params.per_page)  # fmt: skip
    return twin(_list(store, auth, lang, filt))


EXPORT_HEADERS = ("customer_id", "name", "kind", "phone", "email", "province", "city", "industry")
_HEADER_KEYS = {"customer_id": "cust.id", "name": "cust.name", "kind": "cust.kind",
                "phone": "cust.phone", "email": "cust.email", "province": "cust.province",
                "city": "cust.city", "industry": "cust.industry"}  # fmt: skip


def _export(
    store: Any, auth: Any, lang: str, filt: CustomerFilter, fmt: str, tasks: BackgroundTasks
) -> Response:
    folder = Path(tempfile.mkdtemp(prefix="tierwise-export-"))
    name = f"customers-{date.today().isoformat()}.{fmt}"
    headers = {k: t(v, lang) for k, v in _HEADER_KEYS.items()}
    with store.begin() as conn:
        export_customers(conn, principal=auth.principal, filt=filt, path=folder / name,
                         lang=lang, headers=headers)  # fmt: skip

    def cleanup() -> None:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)

    tasks.add_task(cleanup)
    return FileResponse(folder / name, filename=name)


@router.get("/customers/export", include_in_schema=False)
def export_page(
    lang: LangDep, store: StoreDep, auth: CurrentUser, tasks: BackgroundTasks,
    params: Annotated[ListParams, Query()], label: Labels = [],  # noqa: B006
    format: Literal["csv", "xlsx"] = "csv",
) -> Response:  # fmt: skip
    filt = _filter(label, params.q, params.owner, params.province, params.industry,
                   params.sort, 1, 50)  # fmt: skip
    return _export(store, auth, lang, filt, format, tasks)


@router.get("/api/v1/customers/export", tags=["customers"], response_class=FileResponse)
def export_json(
    lang: LangDep, store: StoreDep, auth: CurrentUser, tasks: BackgroundTasks,
    params: Annotated[ListParams, Query()], label: Labels = [],  # noqa: B006
    format: Literal["csv", "xlsx", "parquet"] = "csv",
) -> Response:  # fmt: skip
    """The customers in scope matching the filter, with labels, as CSV, XLSX or Parquet."""
    filt = _filter(label, params.q, params.owner, params.province, params.industry,
                   params.sort, 1, 50)  # fmt: skip
    return _export(store, auth, lang, filt, format, tasks)


def _360(store: Any, settings: Any, auth: Any, lang: str, customer_id: str) -> dict[str, Any]:
    with read_only(store).connect() as conn:
        return customer_360(conn, principal=auth.principal, customer_id=customer_id, lang=lang,
                            data_dir=settings.data_dir)  # fmt: skip


@router.get("/customers/{customer_id}", response_class=HTMLResponse, include_in_schema=False)
def customer_page(
    request: Request, customer_id: str, lang: LangDep, settings: SettingsDep, store: StoreDep,
    auth: CurrentUser,
) -> Response:  # fmt: skip
    data = _360(store, settings, auth, lang, customer_id)
    owners: dict[str, Any] = {"owners": []}
    if auth.principal.can("write"):
        with read_only(store).connect() as conn:
            owners = filter_options(conn, principal=auth.principal)
    return page(request, "customer.html", {"d": data, "owners": owners["owners"]})


@router.get("/api/v1/customers/{customer_id}", tags=["customers"])
def customer_json(
    customer_id: str, lang: LangDep, settings: SettingsDep, store: StoreDep, auth: CurrentUser
) -> JSONResponse:
    """Customer 360: profile, labels with explanations, changes, and related records."""
    return twin(_360(store, settings, auth, lang, customer_id))


@router.get("/api/v1/customers/{customer_id}/history", tags=["customers"])
def customer_history(
    customer_id: str, lang: LangDep, settings: SettingsDep, store: StoreDep, auth: CurrentUser
) -> JSONResponse:
    """Every label change of the customer, newest first."""
    data = _360(store, settings, auth, lang, customer_id)
    return twin({"customer_id": customer_id, "changes": data["timeline"]})


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dimension: str = Field(max_length=64)
    label: str = Field(max_length=64)
    reason: str = Field(min_length=1, max_length=2000)
    expires_at: date | None = None


def _override(store: Any, auth: Any, customer_id: str, body: OverrideIn) -> dict[str, Any]:
    auth.principal.require("write")
    with store.begin() as conn:
        scoped_pk(conn, principal=auth.principal, customer_id=customer_id)
        override_id = set_override(
            conn, customer_id=customer_id, dimension=body.dimension, label=body.label,
            reason=body.reason, actor=auth.principal.username, expires_at=body.expires_at,
        )  # fmt: skip
    return {"override_id": override_id}


@router.post("/api/v1/customers/{customer_id}/overrides", status_code=201, tags=["customers"])
def override_json(
    customer_id: str, body: OverrideIn, store: StoreDep, auth: ChangingUser
) -> dict[str, Any]:
    """Fix a label by hand, with a reason and an optional expiry (applies at the next run)."""
    return _override(store, auth, customer_id, body)


@router.post("/customers/{customer_id}/override", include_in_schema=False)
def override_form(
    customer_id: str, store: StoreDep, auth: ChangingUser,
    dimension: Annotated[str, Form()], label: Annotated[str, Form()],
    reason: Annotated[str, Form()], expires_at: Annotated[str | None, Form()] = None,
) -> Response:  # fmt: skip
    # the form's options are "dimension:label", unique across dimensions
    prefix, sep, key = label.partition(":")
    if sep:
        if prefix != dimension:
            raise DataError(
                f'Label "{label}" does not belong to dimension "{dimension}".',
                key="err.label_dimension",
                value=label,
                dimension=dimension,
            )
        label = key
    body = OverrideIn(dimension=dimension, label=label, reason=reason.strip() or " ",
                      expires_at=date.fromisoformat(expires_at) if expires_at else None)  # fmt: skip
    _override(store, auth, customer_id, body)
    return RedirectResponse(f"/customers/{customer_id}", status_code=303)


def _revoke(store: Any, auth: Any, customer_id: str, dimension: str) -> dict[str, Any]:
    auth.principal.require("write")
    with store.begin() as conn:
        scoped_pk(conn, principal=auth.principal, customer_id=customer_id)
        n = revoke_override(conn, customer_id=customer_id, dimension=dimension,
                            actor=auth.principal.username)  # fmt: skip
    return {"revoked": n}


@router.delete("/api/v1/customers/{customer_id}/overrides/{dimension}", tags=["customers"])
def revoke_json(
    customer_id: str, dimension: str, store: StoreDep, auth: ChangingUser
) -> dict[str, Any]:
    """Revoke the customer's override of a dimension."""
    return _revoke(store, auth, customer_id, dimension)


@router.post("/customers/{customer_id}/overrides/{dimension}/revoke", include_in_schema=False)
def revoke_form(customer_id: str, dimension: str, store: StoreDep, auth: ChangingUser) -> Response:
    _revoke(store, auth, customer_id, dimension)
    return RedirectResponse(f"/customers/{customer_id}", status_code=303)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool
    note: str | None = Field(None, max_length=2000)


def _decide(store: Any, auth: Any, pending_id: IdPath, body: DecisionIn) -> dict[str, Any]:
    auth.principal.require("write")
    with store.begin() as conn:
        pk = conn.scalar(
            pending_changes.select().with_only_columns(pending_changes.c.customer_pk)
            .where(pending_changes.c.id == pending_id)
        )  # fmt: skip
        customer_id = conn.scalar(
            customers_table.select().with_only_columns(customers_table.c.customer_id)
            .where(customers_table.c.id == pk)
        )  # fmt: skip
        if customer_id is None:
            raise NotFoundError(f"Approval request {pending_id} does not exist.")
        scoped_pk(conn, principal=auth.principal, customer_id=customer_id)
        decide_pending(conn, pending_id=pending_id, approve=body.approve,
                       actor=auth.principal.username, note=body.note)  # fmt: skip
    return {"pending_id": pending_id, "state": "approved" if body.approve else "rejected",
            "customer_id": customer_id}  # fmt: skip


@router.post("/api/v1/approvals/{pending_id}", tags=["customers"])
def decide_json(
    pending_id: IdPath, body: DecisionIn, store: StoreDep, auth: ChangingUser
) -> dict[str, Any]:
    """Approve or reject a pending downgrade of a protected tier."""
    return _decide(store, auth, pending_id, body)


@router.post("/approvals/{pending_id}", include_in_schema=False)
def decide_form(
    pending_id: IdPath, store: StoreDep, auth: ChangingUser,
    decision: Annotated[Literal["approve", "reject"], Form()],
    note: Annotated[str | None, Form()] = None,
) -> Response:  # fmt: skip
    out = _decide(store, auth, pending_id, DecisionIn(approve=decision == "approve", note=note))
    return RedirectResponse(f"/customers/{out['customer_id']}", status_code=303)


class OwnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    owner_id: int | None = Field(
        ge=1, le=MAX_ID, description="a user id, or null for the public pool"
    )


def _owner(store: Any, auth: Any, customer_id: str, owner_id: int | None) -> dict[str, Any]:
    with store.begin() as conn:
        return assign_owner(conn, principal=auth.principal, customer_ids=[customer_id],
                            owner_id=owner_id)  # fmt: skip


@router.put("/api/v1/customers/{customer_id}/owner", tags=["customers"])
def owner_json(
    customer_id: str, body: OwnerIn, store: StoreDep, auth: ChangingUser
) -> dict[str, Any]:
    """Give the customer to a user, or back to the public pool (owner_id null)."""
    return _owner(store, auth, customer_id, body.owner_id)


@router.post("/customers/{customer_id}/owner", include_in_schema=False)
def owner_form(
    customer_id: str, store: StoreDep, auth: ChangingUser, owner_id: Annotated[str, Form()]
) -> Response:
    _owner(store, auth, customer_id, form_id(owner_id, field="owner_id"))
    return RedirectResponse(f"/customers/{customer_id}", status_code=303)


class BulkOwnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_ids: list[str] = Field(min_length=1, max_length=5000)
    owner_id: int | None = Field(
        ge=1, le=MAX_ID, description="a user id, or null for the public pool"
    )


@router.post("/api/v1/customers/owner", tags=["customers"])
def bulk_owner_json(body: BulkOwnerIn, store: StoreDep, auth: ChangingUser) -> dict[str, Any]:
    """Give several customers to a user (or back to the pool); all or none (404 if one is
    missing or out of scope)."""
    with store.begin() as conn:
        return assign_owner(conn, principal=auth.principal, customer_ids=body.customer_ids,
                            owner_id=body.owner_id)  # fmt: skip


@router.post("/customers/assign", include_in_schema=False)
def bulk_owner_form(
    store: StoreDep, auth: ChangingUser, owner_id: Annotated[str, Form()],
    customer_id: Annotated[list[str], Form()], back: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    from tierwise.web.routes.auth import _safe_next

    with store.begin() as conn:
        assign_owner(conn, principal=auth.principal, customer_ids=customer_id,
                     owner_id=form_id(owner_id, field="owner_id"))  # fmt: skip
    return RedirectResponse(_safe_next("/customers" + back), status_code=303)


class CustomerUpdate(BaseModel):
    """The fields a user may edit. Owner, tier, labels and roles are not among them: a request
    naming one is refused (no mass assignment)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=500)
    phone: str | None = Field(None, max_length=64)
    email: str | None = Field(None, max_length=320)
    province: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=200)
    industry: str | None = Field(None, max_length=200)
    tags: str | None = Field(None, max_length=2000)


@router.patch("/api/v1/customers/{customer_id}", tags=["customers"])
def update_customer_json(
    customer_id: str, body: CustomerUpdate, store: StoreDep, auth: ChangingUser
) -> dict[str, Any]:
    """Edit a customer's profile fields (audited)."""
    with store.begin() as conn:
        return update_customer(conn, principal=auth.principal, customer_id=customer_id,
                               values=body.model_dump(exclude_unset=True))  # fmt: skip
