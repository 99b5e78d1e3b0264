"""The hotline agent console in a real browser, next to a citizen's widget.

A citizen asks for a human in the widget; agent1 logs in to /agent, claims the ticket, sees the
suggested answers, sends one; the citizen sees it live; the agent closes the ticket and the bot
answers the citizen's next question again. A new ticket raises an alert (title, sound,
desktop notification) and is on top; the queue filters; the ticket reads as the citizen saw it
(button titles, situation questions and options, the left message); the suggestions follow the
conversation; phone assist has the centre column; axe-core finds no serious or critical violation.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from core.db import session_factory
from handoff.status import TicketStatus
from handoff.tables import HandoffRow
from tests.e2e.a11y import axe_violations, describe
from tests.e2e.conftest import System
from tests.e2e.test_widget_browser import (  # browser: the shared module-scoped Chromium fixture
    DESKTOP,
    REPLY_MS,
    SHOTS,
    ask,
    browser,  # noqa: F401
    card,
    open_widget,
)
from tests.staff import start_conversation

pytestmark = [pytest.mark.browser, pytest.mark.integration]


CONSOLE: ViewportSize = {"width": 1280, "height": 900}
PHONE_390: ViewportSize = {"width": 390, "height": 844}
TITLE = "12345 坐席工作台 · 办事e点通"
# Desktop notifications and sound, observed: the page is told it has no focus (the agent is in another
# window), notifications are allowed once asked, and every tone played is counted.
ALERT_PROBES = """
window.__notes = []; window.__tones = 0;
document.hasFocus = () => false;
class FakeNotification {
  constructor(title, options) { window.__notes.push({title, body: (options || {}).body || ''}); }
  close() {}
  static requestPermission(cb) {
    FakeNotification.permission = 'granted'; if (cb) cb('granted'); return Promise.resolve('granted');
  }
}
FakeNotification.permission = 'default';
window.Notification = FakeNotification;
class FakeAudio {
  get currentTime() { return 0; }
  get destination() { return {}; }
  createOscillator() {
    window.__tones += 1;
    return {frequency: {}, connect() {}, start() {}, stop() {}};
  }
  createGain() {
    return {gain: {setValueAtTime() {}, exponentialRampToValueAtTime() {}}, connect() {}};
  }
}
window.AudioContext = FakeAudio;
"""


def _page(browser: Browser, system: System, viewport: ViewportSize = DESKTOP) -> Page:
    # bypass_csp: axe-core is injected as an inline script, which the pages' CSP (rightly) refuses
    ctx = browser.new_context(base_url=system.base, viewport=viewport, locale="zh-CN", bypass_csp=True)
    ctx.set_default_timeout(REPLY_MS)
    return ctx.new_page()


def _log_in(page: Page, system: System) -> None:
    page.goto("/agent")
    page.locator("#login-username").fill("agent1")
    page.locator("#login-password").fill(system.settings.demo_password)
    page.locator("#login-submit").click()
    expect(page.locator("#console")).to_be_visible()


def _say(citizen: httpx.Client, sender: str, text: str) -> dict[str, Any]:
    r = citizen.post("/api/chat", json={"sender_id": sender, "message": text})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _hand_off(system: System, first: str, then: list[str] | None = None) -> int:
    """A citizen (a bound conversation, as the widget has) asks ``first``, then ``then``, then 转人工;
    returns the ticket's id."""
    with system.client() as citizen:
        sender = start_conversation(citizen)
        for text in [first, *(then or [])]:
            _say(citizen, sender, text)
        reply = _say(citizen, sender, "转人工")
    handoff = next(m for m in reply["messages"] if m["type"] == "handoff")
    assert handoff["status"] == "waiting", handoff
    return int(handoff["ticket_id"])


def _left_message(system: System, text: str) -> int:
    """A ticket left while nobody was online (as the widget's 留言 form leaves it)."""
    sessions = session_factory(system.settings.database_url)
    with sessions.begin() as s:
        row = HandoffRow(
            sender_id="e2e-left-message",
            status=TicketStatus.LEFT_MESSAGE,
            reason="explicit",
            callback_phone="13812345678",
            transcript=[
                {"role": "user", "text": "转人工"},
                {"role": "user", "text": text, "kind": "left_message"},
            ],
        )
        s.add(row)
        s.flush()
        return int(row.id)


def _first_id(page: Page) -> int:
    return int(page.locator("#queue .ticket").first.get_attribute("data-id") or 0)


def test_a_new_ticket_alerts_the_agent_and_reads_as_the_citizen_saw_it(
    browser: Browser, system: System
) -> None:
    agent = _page(browser, system, CONSOLE)
    agent.add_init_script(ALERT_PROBES)
    try:
        _log_in(agent, system)
        # phone assist has the centre column while no conversation is open
        box = agent.locator("#assist-input").bounding_box()
        assert box and box["x"] > 300 and box["width"] > 450 and box["y"] < 300, box
        agent.locator("#alert-desktop").click()
        expect(agent.locator("#alert-desktop-state")).to_have_text("桌面通知已开启")
        agent.locator("#alert-sound").check()
        tones = agent.evaluate("window.__tones")

        older = _hand_off(system, "公租房谁能申请？")
        expect(agent.locator(f'#queue .ticket[data-id="{older}"]')).to_be_visible(timeout=15_000)
        newest = _hand_off(system, "宝宝刚出生要办什么手续", ['/choose_option{"option":"yes"}'])
        ticket = agent.locator(f'#queue .ticket[data-id="{newest}"]')
        expect(ticket).to_be_visible(timeout=15_000)
        # the alert: a 新 badge on top of the queue, the title, a tone, a desktop notification
        expect(ticket).to_have_class(re.compile(r"\bis-new\b"))
        expect(ticket.locator(".badge-new")).to_have_text("新")
        assert _first_id(agent) == newest
        expect(agent).to_have_title(re.compile(r"^（\d+）新工单 · "))
        agent.wait_for_function("tones => window.__tones > tones", arg=tones)
        notes = agent.evaluate("window.__notes")
        assert any(f"新工单 #{newest}" in n["title"] for n in notes), notes
        expect(agent.locator("#queue-announce")).to_contain_text(f"新工单 #{newest}")

        # sort: the oldest first on request
        agent.locator("#queue-sort").select_option("oldest")
        ids = agent.locator("#queue .ticket").evaluate_all("ns => ns.map(n => Number(n.dataset.id))")
        assert ids.index(older) < ids.index(newest)
        agent.locator("#queue-sort").select_option("newest")
        assert _first_id(agent) == newest

        # filters
        left = _left_message(system, "想问公租房什么时候能排到，请回电")
        agent.locator('#queue-filters [data-filter="left-message"]').click()
        expect(agent.locator(f'#queue .ticket[data-id="{left}"]')).to_be_visible(timeout=15_000)
        expect(agent.locator("#queue .ticket:not(.status-left-message)")).to_have_count(0)
        expect(agent.locator(f'#queue .ticket[data-id="{left}"] .ticket-note')).to_contain_text("想问公租房")
        agent.locator(f'#queue .ticket[data-id="{left}"]').click()
        expect(agent.locator("#ticket-meta .left-message")).to_have_text("想问公租房什么时候能排到，请回电")
        agent.locator('#queue-filters [data-filter="waiting"]').click()
        expect(agent.locator("#queue .ticket:not(.status-waiting)")).to_have_count(0)
        expect(agent.locator(f'#queue .ticket[data-id="{newest}"]')).to_be_visible()

        # the ticket reads as the citizen saw it
        agent.locator(f'#queue .ticket[data-id="{newest}"]').click()
        history = agent.locator("#history")
        expect(history).to_contain_text("〔点选〕是")
        expect(history).not_to_contain_text("/choose_option")
        meta = agent.locator("#ticket-meta")
        expect(meta).to_contain_text("宝宝的父母是否已经登记结婚？：是")
        expect(meta).not_to_contain_text("situations.")
        agent.locator('#queue-filters [data-filter="all"]').click()
        expect(agent).to_have_title(re.compile(r"^（1）新工单 · "))  # the older one is still unseen
        agent.locator(f'#queue .ticket[data-id="{older}"]').click()
        expect(agent).to_have_title(TITLE)  # all seen: the alert is over
        agent.locator(f'#queue .ticket[data-id="{newest}"]').click()

        # suggestions follow the conversation: the current service first, with a real score
        first = agent.locator(".suggestion").first
        expect(first).to_have_attribute("data-entry", "newborn-birth")
        expect(first.locator(".badge-current")).to_have_text("对话中的事项")
        score = first.locator(".score").inner_text()
        assert int(re.sub(r"\D", "", score)) >= 50, score
        shown = agent.locator(".suggestion").evaluate_all("ns => ns.map(n => n.dataset.entry)")
        assert "social-insurance-transfer" not in shown, shown  # what 转人工 alone scores

        agent.locator("#claim").click()
        expect(agent.locator(".suggestion-send").first).to_be_enabled()
        SHOTS.mkdir(parents=True, exist_ok=True)
        agent.evaluate("window.scrollTo(0, 0)")
        agent.screenshot(path=str(SHOTS / "agent-console-1280.png"))
        violations = axe_violations(agent)
        assert not violations, describe(violations)
        agent.locator("#tab-phone").click()
        agent.locator("#assist-input").fill("孩子出生了要办哪些手续")
        expect(agent.locator("#assist-results .assist-result").first).to_be_visible()
        violations = axe_violations(agent)
        assert not violations, describe(violations)
        agent.locator("#tab-ticket").click()
        agent.locator("#resolution").select_option("answered")
        agent.locator("#close").click()
        expect(agent.locator("#ticket-title")).to_contain_text("已结束")
    finally:
        agent.context.close()


def test_the_console_on_a_phone_screen(browser: Browser, system: System) -> None:
    agent = _page(browser, system, PHONE_390)
    try:
        agent.goto("/agent")
        violations = axe_violations(agent)
        assert not violations, describe(violations)
        _log_in(agent, system)
        ticket = _hand_off(system, "身份证丢了怎么补办")
        agent.locator(f'#queue .ticket[data-id="{ticket}"]').click()
        expect(agent.locator("#history")).to_contain_text("身份证丢了怎么补办")
        width = agent.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways: {width}px"
        agent.screenshot(path=str(SHOTS / "agent-console-390.png"), full_page=True)
        violations = axe_violations(agent)
        assert not violations, describe(violations)
        agent.locator("#claim").click()
        agent.locator("#resolution").select_option("no_response")
        agent.locator("#close").click()
        expect(agent.locator("#ticket-title")).to_contain_text("已结束")
    finally:
        agent.context.close()


def test_agent_takes_over_in_the_console_and_hands_back(browser: Browser, system: System) -> None:
    agent = _page(browser, system)
    citizen = _page(browser, system)
    try:
        agent.goto("/agent")
        agent.locator("#login-username").fill("agent1")
        agent.locator("#login-password").fill(system.settings.demo_password)
        agent.locator("#login-submit").click()
        expect(agent.locator("#console")).to_be_visible()

        open_widget(citizen)
        ask(citizen, "公租房谁能申请？")
        expect(card(citizen, "public-rental-housing").first).to_be_visible()
        # other browser tests may have left tickets: this citizen's is the first one newer than the queue
        expect(agent.locator("#queue-count")).to_have_text(re.compile(r"（\d+）"))
        ids = "nodes => nodes.map(n => Number(n.dataset.id))"
        before = max(agent.locator("#queue .ticket").evaluate_all(ids), default=0)
        citizen.locator("#banshi-human").click()
        expect(citizen.locator("#banshi-handoff")).to_contain_text("正在转接")

        agent.wait_for_function(
            "before => [...document.querySelectorAll('#queue .ticket.status-waiting')]"
            ".some(n => Number(n.dataset.id) > before)",
            arg=before,
            timeout=15_000,
        )
        newest = max(agent.locator("#queue .ticket.status-waiting").evaluate_all(ids))
        agent.locator(f'#queue .ticket[data-id="{newest}"]').click()
        agent.locator("#claim").click()
        expect(agent.locator(".suggestion").first).to_be_visible()
        send = agent.locator(".suggestion-send").first
        expect(send).to_be_enabled()
        send.click()

        reply = citizen.locator(".banshi-msg.banshi-agent").first
        expect(reply).to_be_visible(timeout=15_000)
        expect(reply).to_contain_text("一次性告知")
        SHOTS.mkdir(parents=True, exist_ok=True)
        agent.screenshot(path=str(SHOTS / "desktop-agent-console.png"), full_page=True)

        agent.locator("#resolution").select_option("answered")
        agent.locator("#close").click()
        expect(citizen.locator("#banshi-handoff")).to_contain_text("人工服务已结束", timeout=15_000)

        bot_before = citizen.locator(".banshi-msg.banshi-bot").count()
        ask(citizen, "身份证丢了怎么补办")
        expect(citizen.locator(".banshi-msg.banshi-bot")).not_to_have_count(bot_before)
    finally:
        agent.context.close()
        citizen.context.close()
