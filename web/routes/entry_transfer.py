"""Bulk import and export of entries: YAML, JSON Lines and Excel (.xlsx).

``POST /api/entries/import`` validates every entry of the uploaded file first; with any problem it
answers 422 with every problem (``sheet 材料 row 12 copies: 应为整数``) and imports nothing. Imported
entries become drafts; with ``submit=true`` they are submitted for review at once. Nothing is published
by an import: a reviewer other than the importer approves each entry (four-eyes). ``publish=true``, the
old admin-only form, is kept as an alias of ``submit=true``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, HTTPException, Query, UploadFile
from fastapi.responses import Response

from knowledge.transfer import MEDIA_TYPES, export_bytes, read_upload, validate_items
from web.deps import EditorUser, SettingsDep, StaffUser, WorkflowDep, actor
from web.editor_schemas import ImportPublic

router = APIRouter(
    prefix="/api/entries",
    tags=["entries"],
    responses={
        401: {"description": "not logged in"},
        403: {"description": "role not allowed, or no X-CSRF-Token"},
    },
)


@router.post(
    "/import",
    response_model=ImportPublic,
    responses={422: {"description": "problems[]: where, field and what is wrong; nothing was imported"}},
)
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
    result = workflow.import_entries(entries, actor(user), submit=submit or publish)
    return ImportPublic(**result, count=len(result["created"]) + len(result["updated"]))


@router.get("/export", responses={200: {"content": {m.split(";")[0]: {} for m in MEDIA_TYPES.values()}}})
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
