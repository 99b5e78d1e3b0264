"""Suggested answers for hotline agents: the top knowledge entries for what a citizen or caller said,
each with its 一次性告知 text (to send), its read-aloud version (to say) and the situation questions
still to ask."""

from __future__ import annotations

from knowledge.checklist import open_situations
from knowledge.models import Entry
from knowledge.render import plain_text, speech
from retrieval.engine import SearchEngine
from web.schemas import AssistResponse, SituationQuestion, Suggestion

TOP_K = 3


def suggestion(entry: Entry, score: float, answers: dict[str, str] | None = None) -> Suggestion:
    answers = answers or {}
    by_id = {s.id: s for s in entry.situations}
    return Suggestion(
        id=entry.id,
        title=entry.title,
        score=score,
        text=plain_text(entry, answers),
        speech=speech(entry, answers),
        situations=[
            SituationQuestion(
                id=sid, question=by_id[sid].question, options=[o.label for o in by_id[sid].options]
            )
            for sid in open_situations(entry, answers)
        ],
        guide_url=f"/guide/{entry.id}",
    )


def suggest(
    engine: SearchEngine,
    text: str,
    k: int = TOP_K,
    answers: dict[str, str] | None = None,
    prefer: str | None = None,
) -> AssistResponse:
    """The top ``k`` entries for ``text``; ``prefer`` (the service the bot was on) goes first."""
    result = engine.search(text, k=max(k, 10) if prefer else k)
    entries = engine.entries
    ranked = [(c.id, c.score) for c in result.candidates if c.id in entries]
    if prefer and prefer in entries:
        score = next((s for i, s in ranked if i == prefer), 0.0)
        ranked = [(prefer, score)] + [(i, s) for i, s in ranked if i != prefer]
    return AssistResponse(
        query=result.query,
        answerable=result.answerable,
        results=[suggestion(entries[i], s, answers) for i, s in ranked[:k]],
    )
