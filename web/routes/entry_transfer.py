"""Bulk import and export of entries: YAML, JSON Lines and Excel (.xlsx).

``POST /api/entry-transfer/import`` validates every entry of the uploaded file first; with any problem it
answers 422 with every problem (``sheet 材料 row 12 copies: 应为整数``) and imports nothing. Imported
entries become drafts; with ``submit=true`` they are submitted for review at once. Nothing is published
by an import: a reviewer other than the importer approves each entry (four-eyes). ``publish=true``, the
old admin-only form, is kept as an alias of ``submit=true``. ``GET /api/entry-transfer/export``
downloads every entry.

The old paths ``POST /api/entries/import`` and ``GET /api/entries/export`` are kept for callers outside
this repository: the same handlers, ``deprecated`` in OpenAPI, answered with ``Deprecation: true``
(``web/deprecated.py``, which also keeps new entries from taking an id the aliases shadow).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import Response

from knowledge.transfer import MEDIA_TYPES, export_bytes, read_upload, validate_items
from web.deprecated import refuse_shadowed_ids
from web.deps import EditorUser, SettingsDep, StaffUser, WorkflowDep, actor
from web.editor_schemas import ImportPublic

PREFIX = "/api/entry-transfer"
LEGACY_PREFIX = "/api/entries"  # the old paths, before /api/entries/{entry_id} (web/app.py)
ACCESS: dict[int | str, dict[str, str]] = {
    401: {"description": "not logged in"},
    403: {"description": "role not allowed, or no X-CSRF-Token"},
}
IMPORT_ERRORS: dict[int | str, dict[str, str]] = {
    422: {"description": "problems[]: where, field and what is wrong; nothing was imported"}
}
EXPORT_CONTENT: dict[int | str, dict[str, object]] = {
    200: {"content": {m.split(";")[0]: {} for m in MEDIA_TYPES.values()}}
}

router = APIRouter(prefix=PREFIX, tags=["entries"], responses=ACCESS)
legacy_router = APIRouter(prefix=LEGACY_PREFIX, tags=["entries"], responses=ACCESS, deprecated=True)


@legacy_router.post(
    "/import",
    response_model=ImportPublic,
    responses=IMPORT_ERRORS,
    summary="Import Entries (deprecated: use POST /api/entry-transfer/import)",
)
@router.post("/import", response_model=ImportPublic, responses=IMPORT_ERRORS)
def import_entries(
    user: EditorUser,
    workflow: WorkflowDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description=".yml/.yaml (one or more entries), .jsonl or .xlsx")],
    submit: Annotated[bool, Form(description="submit the imported entries for review at once")] = False,
    publish: Annotated[
        bool,
        Form(
            description="deprecated alias of submit (admin only): imported entries are submitted for "
            "review; a reviewer other than the importer publishes them"
        ),
    ] = False,
) -> ImportPublic:
    if publish and user.role != "admin":
        raise HTTPException(403, "只有管理员可以使用 publish；编辑导入的条目会成为草稿，等待审核。")
    limit = settings.max_import_bytes  # the body limit refused bigger requests before parsing
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"文件太大（最多 {limit // 1024 // 1024} MB）。")
    existing = {s.id: s.content for s in workflow.all()}
    items, problems = read_upload(file.filename or "upload", data, existing)
    entries = validate_items(items, set(existing), problems)
    refuse_shadowed_ids((e.id, source) for e, source in entries if e.id not in existing)
    result = workflow.import_entries(entries, actor(user), submit=submit or publish)
    return ImportPublic(**result, count=len(result["created"]) + len(result["updated"]))


@legacy_router.get(
    "/export",
    responses=EXPORT_CONTENT,
    summary="Export Entries (deprecated: use GET /api/entry-transfer/export)",
)
@router.get("/export", responses=EXPORT_CONTENT)
def export_entries(
    _: StaffUser,
    workflow: WorkflowDep,
    format: Literal["yaml", "jsonl", "xlsx"] = Query("yaml"),
    source: Literal["working", "live"] = Query(
        "working", description="working: pending changes where there are any; live: what citizens see"
    ),
) -> Response:
    states = workflow.all()
    if source == "live":
        entries = [s.live for s in states if s.live is not None]
    else:
        entries = [s.content for s in states]
    name = f"entries-{dt.date.today().isoformat()}.{format}"
    return Response(
        export_bytes(entries, format),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
