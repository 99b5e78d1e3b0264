"""The hotline agent console in a real browser, next to a citizen's widget (issue 7).

A citizen asks for a human in the widget; agent1 logs in to /agent, claims the ticket, sees the
suggested answers, sends one; the citizen sees it live; the agent closes the ticket and the bot
answers the citizen's next question again.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

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

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def _page(browser: Browser, system: System) -> Page:
    ctx = browser.new_context(base_url=system.base, viewport=DESKTOP, locale="zh-CN")
    ctx.set_default_timeout(REPLY_MS)
    return ctx.new_page()


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
