"""试一试: how the assistant would answer a question with an editor's draft in place of the live entry —
which entry comes first, which part of the guide the question asks for, the score and whether the
assistant would answer, clarify or decline. Nothing is indexed: the live index is searched with the
draft's texts swapped in (``SearchEngine.search_with``)."""

from __future__ import annotations

from knowledge.models import Entry
from knowledge.parts import cue_part
from knowledge.render import PART_TITLES
from retrieval.engine import SearchEngine
from web.editor_schemas import TrialHit, TrialPublic

SHOWN = 5


def verdict(entry: Entry, top: str | None, answerable: bool, ambiguous: bool, rank: int | None) -> str:
    """One sentence for the editor on what the citizen would get."""
    if top == entry.id and answerable and not ambiguous:
        return f"助手会用这个条目（「{entry.title}」）回答。"
    if top == entry.id and answerable:
        return "这个条目排第一，但和第二名很接近，助手会先请市民在几个事项中选择。"
    if not answerable:
        where = f"这个条目排第 {rank} 位，" if rank else "这个条目不在前几名，"
        return where + "但匹配度不够，助手会说没找到并建议转人工。可以把这个问法加进“相似问法”。"
    where = f"这个条目排第 {rank} 位" if rank else "这个条目不在前几名"
    return f"助手会用别的条目回答；{where}。可以把这个问法加进“相似问法”。"


def trial(engine: SearchEngine, entry: Entry, question: str) -> TrialPublic:
    result = engine.search_with(entry, question, k=SHOWN)
    ids = [c.id for c in result.candidates]
    rank = ids.index(entry.id) + 1 if entry.id in ids else None
    part = cue_part(question)
    top = ids[0] if ids else None
    return TrialPublic(
        question=question,
        entry_id=entry.id,
        rank=rank,
        score=next((c.score for c in result.candidates if c.id == entry.id), None),
        answerable=result.answerable,
        ambiguous=result.ambiguous,
        part=part,
        part_title=PART_TITLES.get(part, "") if part else "完整的一次性告知",
        verdict=verdict(entry, top, result.answerable, result.ambiguous, rank),
        results=[
            TrialHit(id=c.id, title=c.title, score=c.score, this=c.id == entry.id) for c in result.candidates
        ],
    )
