"""knowledge/feedback.py: the one writer of 好差评, used by the action server and the web app."""

from __future__ import annotations

import pytest

from core.db import session_factory
from core.migrate import migrate
from core.settings import Settings
from knowledge.feedback import COMMENT_CHARS, rate_answer, rate_conversation
from knowledge.tables import FeedbackRow


def test_answers_and_conversations_are_rated_with_comments_masked(settings: Settings) -> None:
    migrate(settings.database_url)
    sessions = session_factory(settings.database_url)
    with sessions.begin() as s:
        rate_answer(s, sender_id="c1", entry_id="hukou", useful=False, message_id=999_999)  # no such message
        rate_answer(s, sender_id="c1", entry_id="hukou", useful=True)
        comment = "很好，打我电话１３９１２３４５６７８或 0730-8888666 都行" + "好" * 600
        rate_conversation(
            s, sender_id="c1", score=5, comment=comment, keep={"07308888666"}
        )  # as the contacts come: digits
    with sessions() as s:
        rows = s.query(FeedbackRow).order_by(FeedbackRow.id).all()
    assert [(r.kind, r.rating, r.message_id) for r in rows] == [
        ("answer", 0, None),
        ("answer", 1, None),
        ("conversation", 5, None),
    ]
    text = rows[2].comment
    assert len(text) == COMMENT_CHARS and "１３９１２３４５６７８" not in text and "13912345678" not in text
    assert "0730-8888666" in text  # the bureau's own number is kept


@pytest.mark.parametrize("score", [0, 6])
def test_a_conversation_score_outside_1_to_5_is_refused(settings: Settings, score: int) -> None:
    migrate(settings.database_url)
    with session_factory(settings.database_url).begin() as s, pytest.raises(ValueError):
        rate_conversation(s, sender_id="c1", score=score)
