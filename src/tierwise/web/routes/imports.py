"""The import wizard: upload, detection and mapping, dry run, background import with progress.

Every page and its JSON twin under /api/v1/imports call the same function of
`tierwise.web._uploads`. Uploads are streamed with a byte limit and belong to the uploading
user: anyone else's upload id answers 404, a role without "import" 403.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import date
from pathlib import Path
from typing import IO, Annotated, Any, Final

import pydantic
from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.formparsers import MultiPartException, MultiPartParser

from tierwise.errors import DataError
from tierwise.web import _uploads
from tierwise.web._deps import (
    CSRF_HEADER,
    Auth,
    ChangingUser,
    CurrentUser,
    LangDep,
    SettingsDep,
    StoreDep,
    current_auth,
)
from tierwise.web._i18n import t
from tierwise.web._render import page, twin
from tierwise.web._uploads import Choices, ImportBusy, UploadTooLarge

router = APIRouter()

PER_PAGE: Final = 50
_MULTIPART_SLACK: Final = 64 * 1024  # boundaries and part headers around the file


async def _importer(request: Request) -> AsyncIterator[Auth]:
    """The caller, if their role may import: checked before a request body is read. Afterwards
    the files of a form parsed by the CSRF check are closed (a refused request's too)."""
    auth = current_auth(request)
    auth.principal.require("import")
    try:
        yield auth
    finally:
        await request.close()


Importer = Annotated[Auth, Depends(_importer)]
PageNo = Annotated[int, Query(ge=1, le=100_000)]

_UPLOAD_BODY: Final = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


async def _limited(stream: AsyncIterator[bytes], limit: int, message: str) -> AsyncGenerator[bytes]:
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge(message)
        yield chunk


async def _receive(request: Request, auth: Auth, settings: Any, lang: str) -> dict[str, Any]:
    """Read the multipart body (file field ``file``) and store it; the new upload's view.

    The body is parsed here, counting bytes, unless the CSRF check already had to parse it to
    find the ``csrf_token`` field (a plain HTML form); the copy into the upload folder counts the
    file's bytes against the limit in either case."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise DataError(t("import.no_file", lang))
    message = _uploads.too_large_message(settings, lang)
    parsed = auth.via == "session" and request.headers.get(CSRF_HEADER) is None
    form: FormData | None = None
    try:
        if parsed:
            form = await request.form()
        else:
            limit = settings.max_upload_mb * 1024 * 1024 + _MULTIPART_SLACK
            form = await MultiPartParser(
                request.headers, _limited(request.stream(), limit, message),
                max_files=1, max_fields=20,
            ).parse()  # fmt: skip
        file = form.get("file")
        if not isinstance(file, StarletteUpload) or not file.filename:
            raise DataError(t("import.no_file", lang))
        source: IO[bytes] = file.file
        view: dict[str, Any] = await run_in_threadpool(
            _uploads.receive, settings, principal=auth.principal, filename=file.filename,
            source=source, lang=lang,
        )  # fmt: skip
    except MultiPartException as exc:
        raise DataError(f"{t('import.no_file', lang)} ({exc.message})") from None
    finally:
        if form is not None:  # also the CSRF check's parse: FastAPI would not close its files
            await form.close()
    return view


def _too_large(exc: UploadTooLarge) -> JSONResponse:
    return JSONResponse({"detail": str(exc), "code": "import.too_large"}, status_code=413)


def _busy(exc: ImportBusy) -> JSONResponse:
    return JSONResponse({"detail": str(exc), "code": "import.busy"}, status_code=409)


def _choices_from_form(form: FormData, current: dict[str, Any], lang: str) -> Choices:
    """The wizard form as choices; the column selects count only if the kind and the sheet
    stayed the same (they list the fields of the kind the page was drawn for)."""

    def text(name: str) -> str | None:
        value = form.get(name)
        return value.strip() or None if isinstance(value, str) else None

    sheet = text("sheet")
    # another sheet has other columns, maybe another kind: detect both again
    new_sheet = current["detected"]["format"] == "xlsx" and sheet != current["choices"]["sheet"]
    kind = None if new_sheet else text("kind")
    mapping: dict[str, str | None] = {}
    if not new_sheet and kind == current["choices"]["kind"]:
        for col in current["columns"]:
            value = form.get(f"col_{col['index']}")
            if isinstance(value, str):
                mapping[col["header"]] = value or None
    try:
        return Choices(
            kind=kind, sheet=sheet, date_format=text("date_format"),
            on_duplicate=text("on_duplicate") or "update",
            strict=form.get("strict") in ("on", "1", "true"), mapping=mapping,
        )  # fmt: skip
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise DataError(f"{t('error.bad_input', lang)}: {problems}") from None


# ---------------------------------------------------------------- pages


def _index(
    request: Request, settings: Any, auth: Auth, *, error: str | None = None, status_code: int = 200
) -> Response:
    uploads = _uploads.list_uploads(settings, principal=auth.principal)
    return page(
        request, "imports.html",
        {"uploads": uploads, "max_mb": settings.max_upload_mb,
         "accept": ",".join(_uploads.SUFFIXES), "error": error},
        status_code=status_code,
    )  # fmt: skip


@router.get("/imports", response_class=HTMLResponse, include_in_schema=False)
def imports_page(
    request: Request, lang: LangDep, settings: SettingsDep, auth: Importer
) -> Response:
    return _index(request, settings, auth)


@router.post("/imports", include_in_schema=False)
async def upload_form(
    request: Request, lang: LangDep, settings: SettingsDep, importer: Importer, auth: ChangingUser
) -> Response:
    try:
        view = await _receive(request, auth, settings, lang)
    except UploadTooLarge as exc:
        return _index(request, settings, auth, error=str(exc), status_code=413)
    except DataError as exc:
        return _index(request, settings, auth, error=str(exc), status_code=422)
    return RedirectResponse(f"/imports/{view['upload_id']}", status_code=303)


def _wizard(
    request: Request, settings: Any, store: Any, auth: Auth, upload_id: str, page_no: int = 1,
    *, error: str | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    view = _uploads.view(settings, principal=auth.principal, upload_id=upload_id)
    probs = _uploads.problems(settings, store, principal=auth.principal, upload_id=upload_id,
                              page=page_no, per_page=PER_PAGE)  # fmt: skip
    return page(request, "imports_wizard.html", {"v": view, "problems": probs, "error": error},
                status_code=status_code)  # fmt: skip


@router.get("/imports/{upload_id}", response_class=HTMLResponse, include_in_schema=False)
def wizard_page(
    request: Request, upload_id: str, lang: LangDep, settings: SettingsDep, store: StoreDep,
    auth: Importer, page: PageNo = 1,
) -> Response:  # fmt: skip
    return _wizard(request, settings, store, auth, upload_id, page)


async def _form_step(
    request: Request, upload_id: str, lang: str, settings: Any, store: Any, auth: Auth,
    step: str,
) -> Response:  # fmt: skip
    current = _uploads.view(settings, principal=auth.principal, upload_id=upload_id)
    try:
        choices = _choices_from_form(await request.form(), current, lang)
        if step == "choose":
            await run_in_threadpool(_uploads.choose, settings, principal=auth.principal,
                                    upload_id=upload_id, choices=choices, lang=lang)  # fmt: skip
            target = f"/imports/{upload_id}"
        elif step == "dry-run":
            await run_in_threadpool(_uploads.dry_run, settings, store, principal=auth.principal,
                                    upload_id=upload_id, choices=choices, lang=lang)  # fmt: skip
            target = f"/imports/{upload_id}#report"
        else:
            _uploads.start_run(settings, store, request.app.state.jobs.submit,
                               principal=auth.principal, upload_id=upload_id, choices=choices,
                               lang=lang)  # fmt: skip
            target = f"/imports/{upload_id}#status"
    except (DataError, ImportBusy) as exc:
        code = 409 if isinstance(exc, ImportBusy) else 422
        return _wizard(request, settings, store, auth, upload_id, error=str(exc), status_code=code)
    return RedirectResponse(target, status_code=303)


@router.post("/imports/{upload_id}/choose", include_in_schema=False)
async def choose_form(
    request: Request, upload_id: str, lang: LangDep, settings: SettingsDep, store: StoreDep,
    importer: Importer, auth: ChangingUser,
) -> Response:  # fmt: skip
    return await _form_step(request, upload_id, lang, settings, store, auth, "choose")


@router.post("/imports/{upload_id}/dry-run", include_in_schema=False)
async def dry_run_form(
    request: Request, upload_id: str, lang: LangDep, settings: SettingsDep, store: StoreDep,
    importer: Importer, auth: ChangingUser,
) -> Response:  # fmt: skip
    return await _form_step(request, upload_id, lang, settings, store, auth, "dry-run")


@router.post("/imports/{upload_id}/run", include_in_schema=False)
async def run_form(
    request: Request, upload_id: str, lang: LangDep, settings: SettingsDep, store: StoreDep,
    importer: Importer, auth: ChangingUser,
) -> Response:  # fmt: skip
    return await _form_step(request, upload_id, lang, settings, store, auth, "run")


@router.get("/imports/{upload_id}/status", response_class=HTMLResponse, include_in_schema=False)
def status_fragment(
    request: Request, upload_id: str, lang: LangDep, settings: SettingsDep, auth: Importer
) -> Response:
    status = _uploads.status(settings, principal=auth.principal, upload_id=upload_id)
    return page(request, "_import_status.html", {"s": status, "upload_id": upload_id})


@router.post("/imports/{upload_id}/delete", include_in_schema=False)
def discard_form(
    request: Request, upload_id: str, lang: LangDep, settings: SettingsDep, store: StoreDep,
    importer: Importer, auth: ChangingUser,
) -> Response:  # fmt: skip
    try:
        _uploads.discard(settings, principal=auth.principal, upload_id=upload_id, lang=lang)
    except ImportBusy as exc:
        return _wizard(request, settings, store, auth, upload_id, error=str(exc), status_code=409)
    return RedirectResponse("/imports", status_code=303)


def _errors_file(
    settings: Any, store: Any, auth: Auth, upload_id: str, lang: str, tasks: BackgroundTasks
) -> Response:
    folder = Path(tempfile.mkdtemp(prefix="tierwise-import-errors-"))
    tasks.add_task(shutil.rmtree, folder, ignore_errors=True)
    name = f"import-problems-{date.today().isoformat()}.csv"
    _uploads.errors_csv(settings, store, principal=auth.principal, upload_id=upload_id,
                        path=folder / name, lang=lang)  # fmt: skip
    return FileResponse(folder / name, filename=name, media_type="text/csv; charset=utf-8")


@router.get("/imports/{upload_id}/errors.csv", include_in_schema=False)
def errors_page(
    upload_id: str, lang: LangDep, settings: SettingsDep, store: StoreDep, auth: Importer,
    tasks: BackgroundTasks,
) -> Response:  # fmt: skip
    return _errors_file(settings, store, auth, upload_id, lang, tasks)


# ---------------------------------------------------------------- API twins


@router.get("/api/v1/imports", tags=["imports"])
def list_json(settings: SettingsDep, auth: CurrentUser) -> dict[str, Any]:
    """The caller's uploads of the last 24 hours (uploads are deleted after a day)."""
    return {"items": _uploads.list_uploads(settings, principal=auth.principal)}


@router.post("/api/v1/imports", status_code=201, tags=["imports"], openapi_extra=_UPLOAD_BODY)
async def upload_json(
    request: Request, lang: LangDep, settings: SettingsDep, importer: Importer, auth: ChangingUser
) -> Response:
    """Upload a CSV, TSV, TXT, XLSX or Parquet file (multipart field ``file``); answers the
    upload id and what was detected: kind, encoding, sheets, columns and their mapping."""
    try:
        view = await _receive(request, auth, settings, lang)
    except UploadTooLarge as exc:
        return _too_large(exc)
    return twin(view, status_code=201)


@router.get("/api/v1/imports/{upload_id}", tags=["imports"])
def view_json(upload_id: str, settings: SettingsDep, auth: CurrentUser) -> dict[str, Any]:
    """An upload: detection, the current choices, the last dry run and the import's state."""
    return _uploads.view(settings, principal=auth.principal, upload_id=upload_id)


@router.put("/api/v1/imports/{upload_id}/choices", tags=["imports"])
def choose_json(
    upload_id: str, body: Choices, lang: LangDep, settings: SettingsDep, auth: ChangingUser
) -> Response:
    """Set kind, sheet, date format, duplicate handling and column mapping; the new view."""
    try:
        return twin(_uploads.choose(settings, principal=auth.principal, upload_id=upload_id,
                                    choices=body, lang=lang))  # fmt: skip
    except ImportBusy as exc:
        return _busy(exc)


@router.post("/api/v1/imports/{upload_id}/dry-run", tags=["imports"])
def dry_run_json(
    upload_id: str, lang: LangDep, settings: SettingsDep, store: StoreDep, auth: ChangingUser,
    body: Choices | None = None,
) -> Response:  # fmt: skip
    """Validate the whole file with these options and write nothing; the import report
    (counts, every rejected row with line, column, code and message)."""
    try:
        return twin(_uploads.dry_run(settings, store, principal=auth.principal,
                                     upload_id=upload_id, choices=body, lang=lang))  # fmt: skip
    except ImportBusy as exc:
        return _busy(exc)


@router.post("/api/v1/imports/{upload_id}/run", status_code=202, tags=["imports"])
def run_json(
    request: Request, upload_id: str, lang: LangDep, settings: SettingsDep, store: StoreDep,
    auth: ChangingUser, body: Choices | None = None,
) -> Response:  # fmt: skip
    """Start the import in the background (202); poll the status. Without a body the choices
    of the last dry run apply. 409 while an import runs."""
    try:
        status = _uploads.start_run(settings, store, request.app.state.jobs.submit,
                                    principal=auth.principal, upload_id=upload_id,
                                    choices=body, lang=lang)  # fmt: skip
    except ImportBusy as exc:
        return _busy(exc)
    return twin(status, status_code=202)


@router.get("/api/v1/imports/{upload_id}/status", tags=["imports"])
def status_json(upload_id: str, settings: SettingsDep, auth: CurrentUser) -> dict[str, Any]:
    """The import's state and rows done while it runs; the final report when it is done."""
    return _uploads.status(settings, principal=auth.principal, upload_id=upload_id)


@router.get("/api/v1/imports/{upload_id}/problems", tags=["imports"])
def problems_json(
    upload_id: str, settings: SettingsDep, store: StoreDep, auth: CurrentUser,
    page: PageNo = 1, per_page: Annotated[int, Query(ge=1, le=1000)] = PER_PAGE,
) -> dict[str, Any]:  # fmt: skip
    """One page of the rejected rows and dropped values (of the import, else the dry run)."""
    return _uploads.problems(settings, store, principal=auth.principal, upload_id=upload_id,
                             page=page, per_page=per_page)  # fmt: skip


@router.get("/api/v1/imports/{upload_id}/errors.csv", tags=["imports"], response_class=FileResponse)
def errors_json(
    upload_id: str, lang: LangDep, settings: SettingsDep, store: StoreDep, auth: CurrentUser,
    tasks: BackgroundTasks,
) -> Response:  # fmt: skip
    """Every problem as CSV (UTF-8 with BOM; formula-like cells neutralised for Excel)."""
    return _errors_file(settings, store, auth, upload_id, lang, tasks)


@router.delete("/api/v1/imports/{upload_id}", status_code=204, tags=["imports"])
def discard_json(
    upload_id: str, lang: LangDep, settings: SettingsDep, auth: ChangingUser
) -> Response:
    """Delete an upload and its reports now (not while its import runs: 409)."""
    try:
        _uploads.discard(settings, principal=auth.principal, upload_id=upload_id, lang=lang)
    except ImportBusy as exc:
        return _busy(exc)
    return Response(status_code=204)
