"""``GET /api/schema/labels``: the names of the app's codes (entry fields, parts, statuses, roles …),
from the Python models, so that the pages copy none of them (see ``web/labels.py``)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from web.labels import LabelsPublic, labels

router = APIRouter(tags=["config"])


@router.get("/api/schema/labels", response_model=LabelsPublic)
async def schema_labels(response: Response) -> LabelsPublic:
    """Public: the same for everyone and nothing secret; cached by browsers for a minute."""
    response.headers["Cache-Control"] = "public, max-age=60"
    return labels()
