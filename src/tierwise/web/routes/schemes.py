"""The scheme editor: published versions, validation at the YAML line, preview, publish.

A draft lives in the editor's form (no drafts table): the textarea holds the YAML, and the
"common edits" form changes it through the pydantic model (`dump_scheme`, lossless). Publishing
needs a successful preview of the very same document: the preview hands out a *preview token*,
an HMAC (with the app's secret key) over the document's hash and the published version it was
compared with; publish checks that the token is genuine, is for this document, and that no other
version was published since. So the token works across workers and restarts, and a preview still
writes nothing.

Who may do what: everyone signed in reads the schemes and validates drafts; admins, managers and
analysts preview (analysts are the scheme's usual authors; a preview computes and writes nothing);
reps do not (a preview names customers outside their scope); only roles with ``publish`` (admin,
manager) publish. Named downgrades in a preview are limited to the caller's scope; the counts are
of every customer, since publishing changes every customer's labels.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tierwise.access import Principal
from tierwise.errors import DataError, SchemeError
from tierwise.scheme import (
    dump_scheme,
    scheme_hash,
)
from tierwise.scheme._io import MAX_DOCUMENT
from tierwise.scheme._lines import DocumentCheck, check_document
from tierwise.web._deps import (
    MAX_ID,
    ChangingUser,
    CurrentUser,
    LangDep,
    SettingsDep,
    StoreDep,
    VersionPath,
)
from tierwise.web._i18n import t
from tierwise.web._render import page
from tierwise.web._schemes import (
    YAML_TYPES,
    PreviewRun,
    apply_edit,
    check_view,
    current_view,
    edit_view,
    not_classifying,
    preview_view,
    previews_of,
    publish_draft,
    require_preview,
    run_preview,
    said,
    start_preview,
    version_view,
    versions_view,
)

router = APIRouter()


# -- rendering --------------------------------------------------------------------------------


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _can(principal: Principal) -> dict[str, bool]:
    return {"can_publish": principal.can("publish"), "can_preview": principal.can("preview")}


def _editor_context(
    request: Request, principal: Principal, lang: str, draft: str, *,
    check: DocumentCheck | None = None, run: PreviewRun | None = None, dim: str | None = None,
    notice: str | None = None, edit_error: str | None = None, publish_error: str | None = None,
    stale: bool = False,
) -> dict[str, Any]:  # fmt: skip
    loaded = check if check is not None else check_document(draft)
    current = current_view(request.app.state.store)
    view = None
    if run is not None and run.state == "done":
        view = preview_view(run, lang)
    return {
        "draft": draft,
        "check": check_view(check, lang) if check is not None else None,
        "edit": edit_view(loaded.scheme, dim, lang) if loaded.scheme is not None else None,
        "run": run,
        "preview": view,
        "is_current": run is not None
        and run.result is not None
        and current["version"] > 0
        and run.result.get("document_hash") == current["hash"],
        "notice": notice,
        "stale": stale,
        "edit_error": edit_error,
        "publish_error": publish_error,
        "lines": draft.count("\n") + 1,
    } | _can(principal)


def _full_page(request: Request, principal: Principal, lang: str, draft: str | None = None,
               **kw: Any) -> Response:  # fmt: skip
    store = request.app.state.store
    current = current_view(store)
    ctx = _editor_context(request, principal, lang, current["document"] if draft is None else draft,
                          **kw)  # fmt: skip
    published = request.query_params.get("published")
    ctx |= {"current": current, "versions": versions_view(store)["versions"],
            "published": int(published) if published and published.isdigit() else None}  # fmt: skip
    status = 422 if kw.get("publish_error") or kw.get("edit_error") else 200
    return page(request, "schemes.html", ctx, status_code=status)


# -- pages ------------------------------------------------------------------------------------

Document = Annotated[str, Form(max_length=MAX_DOCUMENT)]


@router.get("/schemes", response_class=HTMLResponse, include_in_schema=False)
def schemes_page(
    request: Request, lang: LangDep, store: StoreDep, auth: CurrentUser,
    start: Annotated[int | None, Query(alias="from", ge=1, le=MAX_ID)] = None,
    dim: str | None = None,
) -> Response:  # fmt: skip
    draft = version_view(store, start)["document"] if start is not None else None
    return _full_page(request, auth.principal, lang, draft, dim=dim)


@router.get("/schemes/{version}", response_class=HTMLResponse, include_in_schema=False)
def version_page(
    request: Request, version: VersionPath, lang: LangDep, store: StoreDep, auth: CurrentUser
) -> Response:
    return page(request, "schemes_version.html", {"v": version_view(store, version),
                                                  "current": current_view(store)})  # fmt: skip


@router.post("/schemes/validate", response_class=HTMLResponse, include_in_schema=False)
def validate_form(
    request: Request, lang: LangDep, auth: ChangingUser, document: Document
) -> Response:
    check = check_document(document)
    if _is_htmx(request):
        return page(request, "_scheme_check.html", {"check": check_view(check, lang)})
    return _full_page(request, auth.principal, lang, document, check=check)


@router.post("/schemes/edit", response_class=HTMLResponse, include_in_schema=False)
async def edit_form(request: Request, lang: LangDep, auth: ChangingUser) -> Response:
    form = await request.form()
    document = form.get("document")
    if not isinstance(document, str) or len(document) > MAX_DOCUMENT:
        raise DataError("The form has no scheme document.")
    show = form.get("show_dim")
    show_dim = show if isinstance(show, str) else None
    check = check_document(document)
    notice = edit_error = None
    stale = False
    draft = document
    if check.scheme is None:
        edit_error = t("scheme.edit_needs_valid", lang)
    elif form.get("edit_hash") != scheme_hash(check.scheme):
        stale = True
    else:
        try:
            scheme, changed = apply_edit(check.scheme, form)
        except (DataError, SchemeError) as exc:
            edit_error = said(exc, lang)
        else:
            if changed:
                draft = dump_scheme(scheme)
                notice = t("scheme.edit_applied", lang)
    ctx_check = check if check.scheme is None else None
    if _is_htmx(request):
        ctx = _editor_context(request, auth.principal, lang, draft, check=ctx_check, dim=show_dim,
                              notice=notice, edit_error=edit_error, stale=stale)  # fmt: skip
        return page(request, "_scheme_editor.html", ctx)
    return _full_page(request, auth.principal, lang, draft, check=ctx_check, dim=show_dim,
                      notice=notice, edit_error=edit_error, stale=stale)  # fmt: skip


@router.post("/schemes/preview", response_class=HTMLResponse, include_in_schema=False)
def preview_form(
    request: Request, lang: LangDep, auth: ChangingUser, document: Document
) -> Response:
    require_preview(auth.principal)
    check = check_document(document)
    if check.scheme is None or not check.ok:
        if _is_htmx(request):
            return page(request, "_scheme_check.html", {"check": check_view(check, lang),
                                                        "panel": "scheme-preview"})  # fmt: skip
        return _full_page(request, auth.principal, lang, document, check=check)
    run = start_preview(request, auth.principal, document, check.scheme)
    if _is_htmx(request):
        return _preview_panel(request, auth.principal, lang, run)
    return RedirectResponse(f"/schemes/previews/{run.id}", status_code=303)


def _preview_panel(request: Request, principal: Principal, lang: str, run: PreviewRun,
                   publish_error: str | None = None) -> Response:  # fmt: skip
    ctx = _editor_context(request, principal, lang, run.document, run=run,
                          publish_error=publish_error)  # fmt: skip
    return page(request, "_scheme_preview.html", ctx)


@router.get("/schemes/previews/{run_id}", response_class=HTMLResponse, include_in_schema=False)
def preview_poll(request: Request, run_id: str, lang: LangDep, auth: CurrentUser) -> Response:
    require_preview(auth.principal)
    run = previews_of(request).get(run_id, auth.principal)
    if _is_htmx(request):
        return _preview_panel(request, auth.principal, lang, run)
    return _full_page(request, auth.principal, lang, run.document, run=run)


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post("/schemes/publish", include_in_schema=False)
def publish_form(
    request: Request, lang: LangDep, settings: SettingsDep, store: StoreDep, auth: ChangingUser,
    document: Document, preview_token: Annotated[str | None, Form(max_length=300)] = None,
    note: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:  # fmt: skip
    try:
        out = publish_draft(settings, store, auth.principal, document=document, token=preview_token,
                            note=note, ip=_ip(request))  # fmt: skip
    except (DataError, SchemeError) as exc:
        if _is_htmx(request):
            return page(request, "_scheme_publish.html",
                        {"token": preview_token, "publish_error": said(exc, lang), "note": note,
                         "can_publish": True, "is_current": False}, status_code=422)  # fmt: skip
        return _full_page(request, auth.principal, lang, document, publish_error=said(exc, lang))
    target = f"/schemes?published={out['version']}"
    if _is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


# -- the REST API -----------------------------------------------------------------------------


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document: str = Field(max_length=MAX_DOCUMENT, description="The scheme as YAML text.")


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document: str = Field(max_length=MAX_DOCUMENT, description="The scheme as YAML text.")
    preview_token: str = Field(
        max_length=300, description="`preview_token` of a preview of this very document."
    )
    note: str | None = Field(None, max_length=2000, description="Why it changed.")


_DOCUMENT_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": DocumentIn.model_json_schema()},
            "application/yaml": {"schema": {"type": "string", "maxLength": MAX_DOCUMENT}},
        },
    }
}


async def body_document(request: Request) -> str:
    """The scheme document of the request: YAML text, or JSON ``{"document": "..."}``."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return DocumentIn.model_validate(json.loads(raw)).document
        except (ValueError, ValidationError):
            raise DataError('The body must be JSON {"document": "<the YAML>"}.') from None
    if kind not in YAML_TYPES:
        raise DataError(f"Send the scheme as application/yaml or JSON, not {kind}.")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError("The YAML must be UTF-8 text.") from None


BodyDocument = Annotated[str, Depends(body_document)]


def _invalid(check: DocumentCheck) -> JSONResponse:
    return JSONResponse(
        {"detail": "The scheme has errors; see errors (each with its YAML path and line).",
         "code": "scheme.invalid", **check.to_dict()}, status_code=422,
    )  # fmt: skip


@router.get("/api/v1/schemes", tags=["schemes"])
def versions_json(store: StoreDep, auth: CurrentUser) -> dict[str, Any]:
    """Every published scheme version, newest first: who published it, when, note, hash."""
    return versions_view(store)


@router.get("/api/v1/schemes/current", tags=["schemes"])
def current_json(store: StoreDep, auth: CurrentUser) -> dict[str, Any]:
    """The published scheme as YAML with its version (0 and the shipped default before any)."""
    return current_view(store)


@router.get("/api/v1/schemes/{version}", tags=["schemes"])
def version_json(version: VersionPath, store: StoreDep, auth: CurrentUser) -> dict[str, Any]:
    """A published scheme version with its YAML document."""
    return version_view(store, version)


@router.post("/api/v1/schemes/validate", tags=["schemes"], openapi_extra=_DOCUMENT_BODY)
def validate_json(auth: ChangingUser, document: BodyDocument) -> dict[str, Any]:
    """Check a draft (YAML body, or JSON {document}): `ok`, and every error with its YAML
    path and line. Every role may validate; it writes nothing."""
    return check_document(document).to_dict()


@router.post("/api/v1/schemes/preview", tags=["schemes"], openapi_extra=_DOCUMENT_BODY)
def preview_json(
    request: Request, settings: SettingsDep, store: StoreDep, auth: ChangingUser,
    document: BodyDocument,
) -> Response:  # fmt: skip
    """What a draft would change against the published scheme — distribution, migration,
    revenue per label, named downgrades, held by hysteresis, waiting for approval — plus the
    `preview_token` that publishing it needs. Writes nothing.

    Admins, managers and analysts may preview (analysts draft schemes; a preview only
    computes); reps may not (403), as a preview names customers beyond their own. Named
    downgrades are limited to the caller's scope; counts cover every customer. 409 while a
    classification runs; 422 with the errors if the draft is invalid.
    """
    require_preview(auth.principal)
    not_classifying(request)
    check = check_document(document)
    if check.scheme is None or not check.ok:
        return _invalid(check)
    return JSONResponse(run_preview(settings, store, auth.principal, check.scheme))


@router.post("/api/v1/schemes", status_code=201, tags=["schemes"])
def publish_json(
    request: Request, body: PublishIn, settings: SettingsDep, store: StoreDep, auth: ChangingUser
) -> Response:
    """Publish a draft as the next version (admins and managers; 403 for other roles). Needs
    the `preview_token` of a preview of this document made since the last publication (422
    otherwise). The next classification uses it; the publication is audited."""
    auth.principal.require("publish")
    check = check_document(body.document)
    if check.scheme is None or not check.ok:
        return _invalid(check)
    out = publish_draft(settings, store, auth.principal, document=body.document,
                        token=body.preview_token, note=body.note, ip=_ip(request))  # fmt: skip
    return JSONResponse(out, status_code=201)
