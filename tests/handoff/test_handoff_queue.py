"""handoff/: the queue's every state change, straight on the database (SQLite and PostgreSQL), races
between replicas, presence and working hours in the bureau's time zone. No web app, no Rasa."""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from core.accounts import Account, UserRow
from core.db import engine_for, make_engine, session_factory, utcnow
from core.migrate import migrate
from core.settings import Settings
from handoff.errors import HandoffError, NotTicketHolder, TicketConflict, TicketNotFound
from handoff.presence import agent_availability, why_unavailable
from handoff.queue import HandoffQueue, waiting_seconds
from handoff.status import (
    CANCELLED,
    CLAIMABLE,
    HANDED_OFF,
    OPEN,
    QUEUE,
    HandoffReason,
    TicketStatus,
    title_of,
)
from handoff.tables import HandoffRow
from handoff.transcript import LEFT_MESSAGE, left_message
from tests.postgres import postgres_database

AGENT = Account(1, "agent-a", "agent", 1)
OTHER = Account(2, "agent-b", "agent", 1)
ADMIN = Account(3, "admin-a", "admin", 1)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database per module and dialect; each test works on its own conversations."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('queue') / 'queue.db'}"
        migrate(url)
        yield url
        return
    gen = postgres_database()
    url = next(gen)
    migrate(url)
    try:
        yield url
    finally:
        engine_for(url).dispose()
        next(gen, None)


@pytest.fixture
def queue(database_url: str) -> HandoffQueue:
    return HandoffQueue(session_factory(database_url))


@pytest.fixture
def sender() -> str:
    return f"c-{uuid.uuid4().hex[:12]}"


def stored_status(queue: HandoffQueue, ticket_id: int) -> Any:
    """The status column as the database holds it (no ORM in between)."""
    with queue.sessions() as s:
        return s.execute(text("SELECT status FROM handoffs WHERE id = :id"), {"id": ticket_id}).scalar_one()


def notices(queue: HandoffQueue, sender_id: str) -> list[dict[str, Any]]:
    return [m for m in queue.conversations.after(sender_id, 0) if m["role"] == "system"]


def waiting(queue: HandoffQueue, sender_id: str) -> int:
    return queue.open(
        sender_id, HandoffReason.EXPLICIT, online=True, transcript=[{"role": "user", "text": "转人工"}]
    ).id


def active(queue: HandoffQueue, sender_id: str, agent: Account = AGENT) -> int:
    ticket_id = waiting(queue, sender_id)
    queue.claim(ticket_id, agent)
    return ticket_id


# -- the stored strings ---------------------------------------------------------------------------


def test_the_stored_status_strings_never_change() -> None:
    """Rows written by every earlier version hold these strings, and the console filters by them."""
    assert [s.value for s in TicketStatus] == ["waiting", "active", "left-message", "offline", "closed"]
    assert QUEUE == ("waiting", "active", "left-message") and CLAIMABLE == ("waiting", "left-message")
    assert HANDED_OFF == ("waiting", "active") and "closed" not in OPEN and len(OPEN) == 4
    assert title_of("left-message") == "留言待回电" and title_of("lost") == "lost"


def test_what_the_queue_writes_is_the_plain_string(queue: HandoffQueue, sender: str) -> None:
    ticket_id = waiting(queue, sender)
    assert stored_status(queue, ticket_id) == "waiting"
    queue.claim(ticket_id, AGENT)
    assert stored_status(queue, ticket_id) == "active"
    queue.close(ticket_id, AGENT, "answered")
    assert stored_status(queue, ticket_id) == "closed"
    assert [m["status"] for m in notices(queue, sender)] == ["active", "closed"]


# -- opening --------------------------------------------------------------------------------------


def test_a_ticket_waits_when_an_agent_is_online_and_is_offline_otherwise(
    queue: HandoffQueue, sender: str
) -> None:
    online = queue.open(
        sender,
        HandoffReason.COMPLAINT,
        online=True,
        current_service="passport",
        slots={"current_service": "passport"},
        candidates=[{"id": "passport"}],
        transcript=[{"role": "user", "text": "我要投诉"}],
    )
    offline = queue.open(sender + "-2", HandoffReason.EXPLICIT, online=False, transcript=[])
    got = queue.get(online.id)
    assert got.status == TicketStatus.WAITING and got.reason == "complaint"
    assert got.current_service == "passport" and got.candidates == [{"id": "passport"}]
    assert got.transcript == [{"role": "user", "text": "我要投诉"}] and got.claimed_by is None
    assert queue.get(offline.id).status == TicketStatus.OFFLINE


def test_without_a_transcript_the_ticket_carries_the_stored_conversation_masked(
    queue: HandoffQueue, sender: str
) -> None:
    queue.conversations.add(sender, "user", {"type": "text", "text": "我的手机13812345678"})
    queue.conversations.add(sender, "bot", {"type": "card", "title": "居民身份证换领"})
    queue.conversations.add(sender, "system", {"type": "text", "text": "系统提示"})  # not a turn
    ticket = queue.open(sender, HandoffReason.BOT_UNAVAILABLE, online=False)
    assert queue.get(ticket.id).transcript == [
        {"role": "user", "text": "我的手机138****5678"},
        {"role": "bot", "text": "【一次性告知】居民身份证换领"},
    ]


def test_unknown_ticket(queue: HandoffQueue) -> None:
    with pytest.raises(TicketNotFound) as info:
        queue.get(2_000_000_000)
    assert info.value.ticket_id == 2_000_000_000
    with pytest.raises(TicketNotFound):
        queue.claim(2_000_000_000, AGENT)


# -- claim ----------------------------------------------------------------------------------------


def test_claim_takes_a_waiting_ticket_and_tells_the_citizen(queue: HandoffQueue, sender: str) -> None:
    ticket_id = waiting(queue, sender)
    assert queue.handed_off(sender) is not None
    ticket = queue.claim(ticket_id, AGENT)
    assert ticket.status == TicketStatus.ACTIVE and ticket.claimed_by == "agent-a" and ticket.claimed_at
    [notice] = notices(queue, sender)
    assert notice["type"] == "handoff" and notice["status"] == TicketStatus.ACTIVE
    assert notice["agent"] == "agent-a"
    with pytest.raises(TicketConflict, match="已由 agent-a 接入"):
        queue.claim(ticket_id, OTHER)
    assert queue.get(ticket_id).claimed_by == "agent-a"


@pytest.mark.parametrize("online", [False, True])
def test_only_waiting_and_left_message_tickets_can_be_claimed(
    queue: HandoffQueue, sender: str, online: bool
) -> None:
    ticket_id = queue.open(sender, HandoffReason.EXPLICIT, online=online, transcript=[]).id
    if online:  # waiting → closed by the citizen
        queue.cancel_waiting(sender)
    with pytest.raises(TicketConflict, match="当前状态为"):
        queue.claim(ticket_id, AGENT)
    assert queue.get(ticket_id).claimed_by is None
    if not online:  # offline → left-message: claimable
        queue.leave_message(sender, "13812345678", "请回电")
        assert queue.claim(ticket_id, AGENT).status == TicketStatus.ACTIVE


def _at_once(attempts: list[Callable[[], object]]) -> list[int | str]:
    """Run the attempts in threads released together; the index of each that succeeded, and the name
    of each error."""
    start = threading.Barrier(len(attempts))
    outcomes: list[int | str] = []

    def run(n: int) -> None:
        start.wait()
        try:
            attempts[n]()
            outcomes.append(n)
        except HandoffError as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(attempts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.fixture
def replicas(database_url: str) -> Iterator[tuple[HandoffQueue, HandoffQueue]]:
    """Two queues with engines of their own, like two web replicas on one database."""
    engines = [make_engine(database_url), make_engine(database_url)]
    yield (
        HandoffQueue(sessionmaker(engines[0], expire_on_commit=False)),
        HandoffQueue(sessionmaker(engines[1], expire_on_commit=False)),
    )
    for engine in engines:
        engine.dispose()


def test_two_replicas_claiming_one_ticket_have_exactly_one_winner(
    replicas: tuple[HandoffQueue, HandoffQueue], sender: str
) -> None:
    a, b = replicas
    for n in range(6):
        ticket_id = waiting(a, f"{sender}-{n}")
        outcomes = _at_once(
            [functools.partial(a.claim, ticket_id, AGENT), functools.partial(b.claim, ticket_id, OTHER)]
        )
        assert sorted(map(str, outcomes)) in (["0", "TicketConflict"], ["1", "TicketConflict"]), outcomes
        winner = [AGENT, OTHER][next(o for o in outcomes if isinstance(o, int))]
        ticket = a.get(ticket_id)
        assert ticket.status == TicketStatus.ACTIVE and ticket.claimed_by == winner.username
        assert len([m for m in notices(a, f"{sender}-{n}") if m["status"] == "active"]) == 1


def test_many_agents_claiming_at_once_on_two_replicas_have_one_winner(
    replicas: tuple[HandoffQueue, HandoffQueue], sender: str
) -> None:
    agents = [Account(10 + n, f"agent-{n}", "agent", 1) for n in range(8)]
    ticket_id = waiting(replicas[0], sender)
    outcomes = _at_once(
        [functools.partial(replicas[n % 2].claim, ticket_id, a) for n, a in enumerate(agents)]
    )
    won = [o for o in outcomes if isinstance(o, int)]
    assert len(won) == 1 and sorted(map(str, outcomes)).count("TicketConflict") == len(agents) - 1
    assert replicas[0].get(ticket_id).claimed_by == agents[won[0]].username


def test_a_claim_that_waits_for_another_replicas_claim_finds_the_ticket_taken(
    replicas: tuple[HandoffQueue, HandoffQueue], sender: str
) -> None:
    """Deterministic: replica A's claim holds its transaction open; replica B's claim waits for it (row
    lock on PostgreSQL, the write lock on SQLite) and, once A commits, matches nothing."""
    a, b = replicas
    ticket_id = waiting(a, sender)
    outcome: list[str] = []

    def claim_b() -> None:
        try:
            b.claim(ticket_id, OTHER)
            outcome.append("won")
        except TicketConflict:
            outcome.append("conflict")

    with a.sessions.begin() as s:  # the UPDATE of HandoffQueue.claim, not yet committed
        s.execute(
            text(
                "UPDATE handoffs SET status = :active, claimed_by = :who "
                "WHERE id = :id AND status IN (:waiting, :left)"
            ),
            {
                "active": "active",
                "who": AGENT.username,
                "id": ticket_id,
                "waiting": "waiting",
                "left": "left-message",
            },
        )
        thread = threading.Thread(target=claim_b)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive() and outcome == []  # B waits for A
    thread.join(timeout=30)
    assert outcome == ["conflict"]
    assert a.get(ticket_id).claimed_by == AGENT.username


def test_a_cancel_and_a_claim_on_two_replicas_have_one_winner(
    replicas: tuple[HandoffQueue, HandoffQueue], sender: str
) -> None:
    a, b = replicas
    for n in range(4):
        citizen = f"{sender}-{n}"
        ticket_id = waiting(a, citizen)
        outcomes = _at_once(
            [functools.partial(a.cancel_waiting, citizen), functools.partial(b.claim, ticket_id, OTHER)]
        )
        assert sorted(map(str, outcomes)) in (["0", "TicketConflict"], ["1", "TicketConflict"]), outcomes
        expected = TicketStatus.CLOSED if 0 in outcomes else TicketStatus.ACTIVE
        assert a.get(ticket_id).status == expected


# -- the holder's actions --------------------------------------------------------------------------


def test_reply_is_for_the_holder_only(queue: HandoffQueue, sender: str) -> None:
    ticket_id = waiting(queue, sender)
    with pytest.raises(TicketConflict):  # not claimed yet
        queue.reply(ticket_id, AGENT, "您好")
    queue.claim(ticket_id, AGENT)
    for other in (OTHER, ADMIN):  # an admin may release or close anyone's ticket, not talk in it
        with pytest.raises(NotTicketHolder, match="agent-a"):
            queue.reply(ticket_id, other, "我来回答")
    sent = queue.reply(ticket_id, AGENT, "您好，手机13812345678")
    assert sent["role"] == "agent" and sent["agent"] == "agent-a" and sent["text"] == "您好，手机138****5678"


def test_release_returns_the_ticket_to_the_queue(queue: HandoffQueue, sender: str) -> None:
    ticket_id = active(queue, sender)
    with pytest.raises(NotTicketHolder):
        queue.release(ticket_id, OTHER)
    ticket = queue.release(ticket_id, AGENT)
    assert ticket.status == TicketStatus.WAITING and ticket.claimed_by is None and ticket.claimed_at is None
    assert notices(queue, sender)[-1]["status"] == TicketStatus.WAITING
    with pytest.raises(TicketConflict, match="排队中"):
        queue.release(ticket_id, AGENT)
    queue.claim(ticket_id, OTHER)
    assert queue.release(ticket_id, ADMIN).status == TicketStatus.WAITING  # a supervisor may


def test_release_of_a_call_back_keeps_it_a_call_back(queue: HandoffQueue, sender: str) -> None:
    ticket_id = queue.open(sender, HandoffReason.EXPLICIT, online=False, transcript=[]).id
    queue.leave_message(sender, "0730-1234567")
    queue.claim(ticket_id, AGENT)
    before = len(notices(queue, sender))
    assert queue.release(ticket_id, AGENT).status == TicketStatus.LEFT_MESSAGE
    assert len(notices(queue, sender)) == before  # nobody is waiting in the chat: no notice


def test_close_records_the_resolution_once(queue: HandoffQueue, sender: str) -> None:
    ticket_id = active(queue, sender)
    with pytest.raises(ValueError):
        queue.close(ticket_id, AGENT, "solved?")  # type: ignore[arg-type]
    with pytest.raises(NotTicketHolder):
        queue.close(ticket_id, OTHER, "answered")
    ticket = queue.close(ticket_id, AGENT, "complaint_filed")
    assert (
        ticket.status == TicketStatus.CLOSED and ticket.resolution == "complaint_filed" and ticket.closed_at
    )
    assert notices(queue, sender)[-1]["resolution"] == "complaint_filed"
    assert queue.handed_off(sender) is None
    for action in (
        lambda: queue.close(ticket_id, AGENT, "other"),
        lambda: queue.release(ticket_id, AGENT),
        lambda: queue.claim(ticket_id, AGENT),
    ):
        with pytest.raises(TicketConflict):
            action()


def test_an_admin_may_close_anyones_ticket(queue: HandoffQueue, sender: str) -> None:
    ticket_id = active(queue, sender)
    assert queue.close(ticket_id, ADMIN, "other").status == TicketStatus.CLOSED


# -- the citizen's actions -------------------------------------------------------------------------


def test_the_citizen_cancels_only_while_waiting(queue: HandoffQueue, sender: str) -> None:
    with pytest.raises(TicketConflict) as nothing:
        queue.cancel_waiting(sender)
    assert nothing.value.ticket_id == 0
    ticket_id = waiting(queue, sender)
    ticket = queue.cancel_waiting(sender)
    assert ticket.id == ticket_id and ticket.status == TicketStatus.CLOSED
    assert ticket.resolution == CANCELLED and ticket.closed_at is not None
    assert notices(queue, sender)[-1]["status"] == CANCELLED
    taken = active(queue, sender)
    with pytest.raises(TicketConflict, match="客服可能已经接入"):
        queue.cancel_waiting(sender)
    assert queue.get(taken).status == TicketStatus.ACTIVE


def test_a_message_is_left_once_on_the_offline_ticket(queue: HandoffQueue, sender: str) -> None:
    with pytest.raises(TicketConflict, match="当前没有需要留言"):
        queue.leave_message(sender, "13812345678")
    waiting(queue, sender)  # not offline: nothing to leave a number on
    with pytest.raises(TicketConflict):
        queue.leave_message(sender, "13812345678")
    ticket_id = queue.open(
        sender, HandoffReason.EXPLICIT, online=False, transcript=[{"role": "user", "text": "转人工"}]
    ).id
    ticket = queue.leave_message(sender, "13812345678", "身份证430602199001011234的事，请回电")
    assert ticket.id == ticket_id and ticket.status == TicketStatus.LEFT_MESSAGE
    assert ticket.callback_phone == "13812345678"
    assert ticket.transcript[-1] == {
        "role": "user",
        "text": "身份证430***********1234的事，请回电",
        "kind": LEFT_MESSAGE,
    }
    assert left_message(ticket) == "身份证430***********1234的事，请回电"
    with pytest.raises(TicketConflict):
        queue.leave_message(sender, "13999999999")
    assert queue.get(ticket_id).callback_phone == "13812345678"


def test_two_messages_left_at_once_keep_one_number(
    replicas: tuple[HandoffQueue, HandoffQueue], sender: str
) -> None:
    a, b = replicas
    ticket_id = a.open(sender, HandoffReason.EXPLICIT, online=False, transcript=[]).id
    outcomes = _at_once(
        [
            functools.partial(a.leave_message, sender, "13800000001", "甲"),
            functools.partial(b.leave_message, sender, "13800000002", "乙"),
        ]
    )
    assert sorted(map(str, outcomes)) in (["0", "TicketConflict"], ["1", "TicketConflict"]), outcomes
    ticket = a.get(ticket_id)
    winner = next(o for o in outcomes if isinstance(o, int))
    assert ticket.callback_phone == ["13800000001", "13800000002"][winner]
    assert [t["text"] for t in ticket.transcript] == [["甲", "乙"][winner]]


# -- reading --------------------------------------------------------------------------------------


def test_the_queue_lists_by_status_oldest_first(queue: HandoffQueue, sender: str) -> None:
    first = waiting(queue, sender + "-1")
    second = active(queue, sender + "-2")
    gone = waiting(queue, sender + "-3")
    queue.cancel_waiting(sender + "-3")
    listed = [t.id for t in queue.tickets()]
    assert listed.index(first) < listed.index(second) and gone not in listed
    assert gone in [t.id for t in queue.tickets([TicketStatus.CLOSED])]


def test_handed_off_is_the_waiting_or_active_ticket(queue: HandoffQueue, sender: str) -> None:
    queue.open(sender, HandoffReason.EXPLICIT, online=False, transcript=[])
    assert queue.handed_off(sender) is None  # offline: the bot keeps answering
    ticket_id = waiting(queue, sender)
    found = queue.handed_off(sender)
    assert found is not None and found.id == ticket_id


def test_the_tickets_messages_are_those_since_it_opened(queue: HandoffQueue, sender: str) -> None:
    queue.conversations.add(sender, "user", {"type": "text", "text": "以前的问题"})
    time.sleep(0.01)
    ticket_id = active(queue, sender)
    queue.reply(ticket_id, AGENT, "您好")
    texts = [m.payload["text"] for m in queue.messages(queue.get(ticket_id))]
    assert "以前的问题" not in texts and texts[-1] == "您好"


def test_waiting_time() -> None:
    now = utcnow()
    created = now - dt.timedelta(seconds=100)
    row = HandoffRow(status=TicketStatus.WAITING, created_at=created)
    assert waiting_seconds(row, now) == 100
    row.status, row.claimed_at = TicketStatus.ACTIVE, created + dt.timedelta(seconds=30)
    assert waiting_seconds(row, now) == 30
    row.status, row.claimed_at, row.closed_at = TicketStatus.CLOSED, None, created + dt.timedelta(seconds=7)
    assert waiting_seconds(row, now) == 7  # cancelled before anyone took it


# -- presence and working hours ---------------------------------------------------------------------


def _agent_seen(sessions: sessionmaker[Session], at: dt.datetime) -> None:
    with sessions.begin() as s:
        s.add(UserRow(username=f"a-{uuid.uuid4().hex[:8]}", password_hash="x", role="agent", last_seen=at))


def test_availability_reads_the_hours_on_the_bureaus_clock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'presence.db'}"
    migrate(url)
    sessions = session_factory(url)
    nine_in_beijing = dt.datetime(2026, 11, 30, 1, 0)  # naive UTC, as stored: 09:00 in Asia/Shanghai
    settings = Settings(
        database_url=url, data_dir=tmp_path, agent_hours="08:30-17:30", timezone="Asia/Shanghai"
    )
    assert agent_availability(settings, sessions, nine_in_beijing) == "no_agent_online"
    _agent_seen(sessions, nine_in_beijing - dt.timedelta(seconds=settings.agent_presence_s + 5))
    assert agent_availability(settings, sessions, nine_in_beijing) == "no_agent_online"  # too long ago
    _agent_seen(sessions, nine_in_beijing - dt.timedelta(seconds=5))
    assert agent_availability(settings, sessions, nine_in_beijing) == "available"
    london = settings.model_copy(update={"timezone": ZoneInfo("Europe/London")})  # 01:00 there: closed
    assert agent_availability(london, sessions, nine_in_beijing) == "outside_hours"
    assert why_unavailable("outside_hours", settings) == "现在不在人工客服在线时间（08:30-17:30）"
    assert why_unavailable("no_agent_online", settings) == "现在人工客服都不在线"
