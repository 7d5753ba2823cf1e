"""Administration: users and roles, the audit log; every user's own API tokens."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from tierwise.access import (
    add_user,
    audit_entries,
    create_api_token,
    list_api_tokens,
    list_users,
    reset_password,
    revoke_api_token,
    update_user,
)
from tierwise.store import read_only
from tierwise.web._deps import MAX_ID, ChangingUser, CurrentUser, IdPath, LangDep, StoreDep, form_id
from tierwise.web._render import page

router = APIRouter()
RoleName = Literal["admin", "manager", "rep", "analyst"]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=128)
    role: RoleName
    display_name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=320)
    manager_id: int | None = Field(None, ge=1, le=MAX_ID)
    password: str | None = Field(None, min_length=8, max_length=1024)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: RoleName | None = None
    manager_id: int | None = Field(None, ge=1, le=MAX_ID)
    is_active: bool | None = None
    display_name: str | None = Field(None, max_length=200)


def _users(store: Any, auth: Any) -> list[dict[str, Any]]:
    with read_only(store).connect() as conn:
        return list_users(conn, principal=auth.principal)


@router.get("/admin/users", response_class=HTMLResponse, include_in_schema=False)
def users_page(request: Request, lang: LangDep, store: StoreDep, auth: CurrentUser) -> Response:
    return page(request, "users.html", {"users": _users(store, auth), "created": None})


@router.get("/api/v1/users", tags=["users"])
def users_json(store: StoreDep, auth: CurrentUser) -> list[dict[str, Any]]:
    """Every user with role, manager and how many customers they own (admins only)."""
    return _users(store, auth)


def _create(store: Any, auth: Any, body: UserCreate) -> dict[str, Any]:
    with store.begin() as conn:
        return add_user(conn, principal=auth.principal, **body.model_dump())


@router.post("/api/v1/users", status_code=201, tags=["users"])
def create_user_json(body: UserCreate, store: StoreDep, auth: ChangingUser) -> dict[str, Any]:
    """Create a user; without a password one is generated and returned once."""
    return _create(store, auth, body)


@router.post("/admin/users", response_class=HTMLResponse, include_in_schema=False)
def create_user_form(
    request: Request, lang: LangDep, store: StoreDep, auth: ChangingUser,
    username: Annotated[str, Form()], role: Annotated[RoleName, Form()],
    display_name: Annotated[str | None, Form()] = None,
    manager_id: Annotated[str | None, Form()] = None,
) -> Response:  # fmt: skip
    body = UserCreate(username=username, role=role, display_name=display_name or None,
                      manager_id=form_id(manager_id, field="manager_id"))  # fmt: skip
    created = _create(store, auth, body) | {"username": username}
    return page(request, "users.html", {"users": _users(store, auth), "created": created})


def _update(store: Any, auth: Any, user_id: IdPath, body: UserUpdate) -> dict[str, Any]:
    values = body.model_dump(exclude_unset=True)
    manager = values.pop("manager_id", "keep")
    with store.begin() as conn:
        return update_user(conn, principal=auth.principal, user_id=user_id, manager_id=manager,
                           **values)  # fmt: skip


@router.patch("/api/v1/users/{user_id}", tags=["users"])
def update_user_json(
    user_id: IdPath, body: UserUpdate, store: StoreDep, auth: ChangingUser
) -> dict[str, Any]:
    """Change a user's role, manager, display name or active flag (their sessions end)."""
    return _update(store, auth, user_id, body)


@router.post("/admin/users/{user_id}", include_in_schema=False)
def update_user_form(
    user_id: IdPath, store: StoreDep, auth: ChangingUser,
    role: Annotated[RoleName | None, Form()] = None,
    manager_id: Annotated[str | None, Form()] = None,
    is_active: Annotated[str | None, Form()] = None,
) -> Response:  # fmt: skip
    fields: dict[str, Any] = {}
    if role:
        fields["role"] = role
    if manager_id is not None:
        fields["manager_id"] = form_id(manager_id, field="manager_id")
    if is_active is not None:
        fields["is_active"] = is_active == "1"
    _update(store, auth, user_id, UserUpdate(**fields))
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/api/v1/users/{user_id}/password", tags=["users"])
def reset_password_json(user_id: IdPath, store: StoreDep, auth: ChangingUser) -> dict[str, Any]:
    """A new generated password for the user, returned once; their sessions end."""
    with store.begin() as conn:
        return {"password": reset_password(conn, principal=auth.principal, user_id=user_id)}


def _audit(store: Any, auth: Any, offset: int) -> list[dict[str, Any]]:
    with read_only(store).connect() as conn:
        return audit_entries(conn, principal=auth.principal, offset=offset)


@router.get("/admin/audit", response_class=HTMLResponse, include_in_schema=False)
def audit_page(
    request: Request,
    lang: LangDep,
    store: StoreDep,
    auth: CurrentUser,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Response:
    return page(request, "audit.html", {"entries": _audit(store, auth, offset), "offset": offset})


@router.get("/api/v1/audit", tags=["audit"])
def audit_json(
    store: StoreDep, auth: CurrentUser, offset: Annotated[int, Query(ge=0, le=10**9)] = 0
) -> list[dict[str, Any]]:
    """The audit log, newest first, 200 at a time (admins only)."""
    return _audit(store, auth, offset)


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


def _tokens(store: Any, auth: Any) -> list[dict[str, Any]]:
    with read_only(store).connect() as conn:
        return list_api_tokens(conn, principal=auth.principal)


@router.get("/tokens", response_class=HTMLResponse, include_in_schema=False)
def tokens_page(request: Request, lang: LangDep, store: StoreDep, auth: CurrentUser) -> Response:
    return page(request, "tokens.html", {"tokens": _tokens(store, auth), "created": None})


@router.post("/tokens", response_class=HTMLResponse, include_in_schema=False)
def create_token_form(
    request: Request, lang: LangDep, store: StoreDep, auth: ChangingUser,
    name: Annotated[str, Form()],
) -> Response:  # fmt: skip
    with store.begin() as conn:
        created = create_api_token(conn, principal=auth.principal, name=name)
    return page(request, "tokens.html", {"tokens": _tokens(store, auth), "created": created})


@router.post("/tokens/{token_id}/revoke", include_in_schema=False)
def revoke_token_form(token_id: IdPath, store: StoreDep, auth: ChangingUser) -> Response:
    with store.begin() as conn:
        revoke_api_token(conn, principal=auth.principal, token_id=token_id)
    return RedirectResponse("/tokens", status_code=303)


@router.get("/api/v1/tokens", tags=["tokens"])
def tokens_json(store: StoreDep, auth: CurrentUser) -> list[dict[str, Any]]:
    """The caller's API tokens (never their secrets)."""
    return _tokens(store, auth)


@router.post("/api/v1/tokens", status_code=201, tags=["tokens"])
def create_token_json(body: TokenCreate, store: StoreDep, auth: ChangingUser) -> dict[str, Any]:
    """A new API token for the caller; the secret is returned once."""
    with store.begin() as conn:
        return create_api_token(conn, principal=auth.principal, name=body.name)


@router.delete("/api/v1/tokens/{token_id}", tags=["tokens"])
def revoke_token_json(token_id: IdPath, store: StoreDep, auth: ChangingUser) -> dict[str, Any]:
    """Revoke one of the caller's tokens."""
    with store.begin() as conn:
        revoke_api_token(conn, principal=auth.principal, token_id=token_id)
    return {"revoked": token_id}
