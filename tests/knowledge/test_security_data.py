"""Security below the HTTP layer: the masking corpus, retention, upload guards,
the four-eyes rule."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from sqlalchemy import select

from conversations.tables import MessageRow
from core.db import session_factory, utcnow
from core.migrate import migrate
from core.pii import mask_pii
from core.settings import Settings
from handoff.status import TicketStatus
from handoff.tables import HandoffRow
from knowledge.errors import InvalidTransition, SelfReview, ValidationFailed
from knowledge.models import Entry
from knowledge.tables import FeedbackRow
from knowledge.transfer import read_upload
from knowledge.workflow import Actor, Workflow
from ops.retention import main as retention_main
from tests.pii_corpus import evaluate, generate, load

# -- 5. masking ----------------------------------------------------------------------------------


def test_the_corpus_in_the_repository_is_the_generated_one() -> None:
    assert load() == generate()


def test_masking_recall_on_the_generated_corpus_is_at_least_099() -> None:
    result = evaluate(load())
    assert result["positives"] >= 1000
    assert result["recall"] >= 0.99, result["missed"][:10]
    assert result["ordinary_changed"] == []  # precision: ordinary numbers come through
    assert result["precision"] == 1.0


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("我的手机１３８１２３４５６７８", "13812345678"),
        ("电话：０７３０－８１２３４５６", "8123456"),
        ("邮箱 zhang.san@qq.com 联系我", "zhang.san"),
        ("邮箱ｌｉｓｉ＠１６３．ｃｏｍ", "ｌｉｓｉ"),
        ("老身份证430602850101123", "850101"),
        ("+86 138 1234 5678", "1234 5678"),
    ],
)
def test_full_width_landline_email_and_old_ids_are_masked(text: str, secret: str) -> None:
    assert secret not in mask_pii(text)


def test_masking_keeps_the_rest_of_the_text_as_typed_and_the_bureaus_contacts() -> None:
    assert mask_pii("您好，我的手机１３８１２３４５６７８。") == "您好，我的手机138****5678。"
    keep = frozenset({"12345", "07308888888"})
    assert mask_pii("请拨打0730-8888888或12345", keep) == "请拨打0730-8888888或12345"
    assert "8123456" not in mask_pii("请拨打0730-8123456", keep)


# -- 5. retention --------------------------------------------------------------------------------


def test_retention_deletes_old_transcripts_tickets_and_numbers(settings: Settings) -> None:
    migrate(settings.database_url)
    sessions = session_factory(settings.database_url)
    old, new = utcnow() - dt.timedelta(days=200), utcnow() - dt.timedelta(days=10)
    with sessions.begin() as s:
        for when, sender in ((old, "old"), (new, "new")):
            message = MessageRow(sender_id=sender, role="user", payload={"text": "x"}, created_at=when)
            s.add(message)
            s.flush()
            s.add(FeedbackRow(sender_id=sender, message_id=message.id, rating=1, created_at=when))
            for status in (TicketStatus.CLOSED, TicketStatus.LEFT_MESSAGE):
                s.add(
                    HandoffRow(
                        sender_id=sender,
                        status=status,
                        reason="explicit",
                        transcript=[],
                        callback_phone="13812345678",
                        created_at=when,
                        updated_at=when,
                    )
                )
    assert retention_main(["--database-url", settings.database_url, "--dry-run"]) == 0
    with sessions() as s:
        assert len(list(s.scalars(select(MessageRow)))) == 2
    assert retention_main(["--database-url", settings.database_url, "--days", "180"]) == 0
    with sessions() as s:
        assert [m.sender_id for m in s.scalars(select(MessageRow))] == ["new"]
        assert [f.sender_id for f in s.scalars(select(FeedbackRow))] == ["new"]
        kept = sorted((t.sender_id, t.status) for t in s.scalars(select(HandoffRow)))
    # an old ticket still owed a call back stays; the old closed one (and its number) is gone
    assert kept == [
        ("new", TicketStatus.CLOSED),
        ("new", TicketStatus.LEFT_MESSAGE),
        ("old", TicketStatus.LEFT_MESSAGE),
    ]


# -- 8. uploads ------------------------------------------------------------------------------------


def test_yaml_aliases_are_refused_before_expansion() -> None:
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
    bomb += "".join(
        f"{c}: &{c} [*{p}" + f",*{p}" * 8 + "]\n" for p, c in zip("bcdefgh", "cdefghi", strict=True)
    )
    with pytest.raises(ValidationFailed) as info:
        read_upload("entries.yml", bomb.encode(), {})
    assert "别名" in str(info.value.problems[0].message)


def _xlsx_with_shared_strings(size: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/sharedStrings.xml", "<sst>" + "a" * size + "</sst>")
    return buf.getvalue()


def test_oversized_xlsx_shared_strings_are_refused_before_parsing() -> None:
    with pytest.raises(ValidationFailed) as info:
        read_upload("entries.xlsx", _xlsx_with_shared_strings(30 * 1024 * 1024), {})
    message = str(info.value.problems[0].message)
    assert "文字表太大" in message or "压缩" in message


# -- 10. four eyes --------------------------------------------------------------------------------


def test_nobody_approves_their_own_submission_and_drafts_need_review(
    settings: Settings, seed_entries: list[Entry]
) -> None:
    migrate(settings.database_url)
    workflow = Workflow(session_factory(settings.database_url))
    raw = seed_entries[0].model_dump(mode="json") | {"id": "four-eyes", "related": []}
    editor, reviewer, admin = (
        Actor("editor1", "editor"),
        Actor("reviewer1", "reviewer"),
        Actor("admin", "admin"),
    )
    workflow.create(raw, admin)
    with pytest.raises(InvalidTransition, match="提交审核"):
        workflow.publish("four-eyes", reviewer)  # a draft is not published without review
    workflow.submit("four-eyes", admin)
    for action in (workflow.approve, workflow.publish):
        with pytest.raises(SelfReview):
            action("four-eyes", admin)
    assert workflow.approve("four-eyes", reviewer).live_version == 1
    workflow.save("four-eyes", {**raw, "title": "改了"}, workflow.get("four-eyes").lock_version, editor)
    workflow.submit("four-eyes", editor)
    assert workflow.publish("four-eyes", reviewer).live_version == 2
