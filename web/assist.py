"""Suggested answers for hotline agents: the top knowledge entries for what a citizen or caller said,
each with its 一次性告知 text (to send), its read-aloud version (to say) and the situation questions
still to ask.

For a handed-off conversation the suggestions follow the conversation, not one search: the service the
assistant was on comes first (scored as the assistant scored it when it chose it), then entries that a
citizen message was clearly about — a result counts for a message only when the engine would answer
that message and the result is within ``CLEAR_MARGIN`` of the message's best match. Weak, unrelated
matches (everything scores something in a dense index) are left out.
"""

from __future__ import annotations

from typing import Any

from knowledge.checklist import open_situations
from knowledge.models import Entry
from knowledge.render import plain_text, speech
from retrieval.engine import SearchEngine
from web.schemas import AssistResponse, SituationQuestion, Suggestion

TOP_K = 3
CLEAR_MARGIN = 0.1  # within this of a message's best match, a result is what the message is about
CURRENT_BASIS = "智能助手正在为市民解答的事项"


def suggestion(
    entry: Entry,
    score: float,
    answers: dict[str, str] | None = None,
    current: bool = False,
    basis: str = "",
) -> Suggestion:
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
        current=current,
        basis=basis,
    )


def suggest(
    engine: SearchEngine,
    text: str,
    k: int = TOP_K,
    answers: dict[str, str] | None = None,
    prefer: str | None = None,
) -> AssistResponse:
    """The top ``k`` entries for ``text`` (phone assist); ``prefer`` (a service) goes first."""
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


def _bot_score(candidates: list[Any], entry_id: str) -> float | None:
    """The score the assistant gave ``entry_id`` when it chose the service (the candidates slot)."""
    for c in candidates:
        if isinstance(c, dict) and c.get("id") == entry_id and isinstance(c.get("score"), int | float):
            return float(c["score"])
    return None


def for_conversation(
    engine: SearchEngine,
    texts: list[str],
    current: str | None = None,
    candidates: list[Any] | None = None,
    answers: dict[str, str] | None = None,
    k: int = TOP_K,
) -> AssistResponse:
    """Suggestions for a handed-off conversation: ``texts`` are the citizen's messages (oldest first),
    ``current`` the service the assistant was on, ``candidates`` its retrieval result for it."""
    entries = engine.entries
    threshold = engine.params.answer_threshold
    clear: dict[str, tuple[float, str]] = {}  # entry → (best score, the message it was clear for)
    loose: dict[str, float] = {}  # every score, for the current service's own
    answerable = False
    for text in texts:
        result = engine.search(text, k=engine.params.candidates)
        for c in result.candidates:
            loose[c.id] = max(loose.get(c.id, 0.0), c.score)
        if not result.answerable or not result.candidates:
            continue
        answerable = True
        top = result.candidates[0].score
        for c in result.candidates:
            strong = c.score >= max(threshold, top - CLEAR_MARGIN)
            if c.id in entries and strong and c.score >= clear.get(c.id, (0.0, ""))[0]:
                clear[c.id] = (c.score, f"市民说：“{text}”")
    out: list[Suggestion] = []
    if current and current in entries:
        scores = [s for s in (_bot_score(candidates or [], current), loose.get(current)) if s is not None]
        out.append(suggestion(entries[current], max(scores, default=0.0), answers, True, CURRENT_BASIS))
    others = sorted(((i, s, why) for i, (s, why) in clear.items() if i != current), key=lambda r: -r[1])
    out += [suggestion(entries[i], s, answers, basis=why) for i, s, why in others]
    return AssistResponse(query=" ".join(texts), answerable=answerable, results=out[:k])
