"""``GET /api/search``: the knowledge engine's ranking and its answer-or-abstain decision."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query

from web.deps import LiveDep, SettingsDep
from web.limits import rate_limited
from web.schemas import SearchHit, SearchResponse

router = APIRouter(prefix="/api", tags=["search"])


@router.get(
    "/search",
    response_model=SearchResponse,
    dependencies=[Depends(rate_limited("search"))],
    responses={413: {"description": "q longer than MAX_MESSAGE_CHARS"}},
)
def search(
    live: LiveDep,
    settings: SettingsDep,
    q: str = Query(min_length=1, max_length=4000, description="the citizen's question"),
    k: int = Query(5, ge=1, le=50),
) -> SearchResponse:
    if not q.strip():
        raise HTTPException(422, "q must not be empty")
    if len(q) > settings.max_message_chars:
        raise HTTPException(413, f"q is longer than {settings.max_message_chars} characters")
    result = live.engine.search(q, k=k)
    return SearchResponse(
        query=result.query,
        answerable=result.answerable,
        ambiguous=result.ambiguous,
        results=[SearchHit(id=c.id, title=c.title, score=c.score) for c in result.candidates],
    )
