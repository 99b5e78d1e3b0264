"""The citizen widget in a real browser: Debian's Chromium, headless, driven by Playwright.

One system (real Rasa, action server and web app) and one browser serve the whole file; each test
opens its own browser context (a fresh visitor: own localStorage, own sender id). Screenshots of the
main states land in ``reports/screenshots/``.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)
from sqlalchemy import select

from core.db import session_factory
from core.settings import ROOT
from handoff.status import TicketStatus
from handoff.tables import HandoffRow
from knowledge.models import Entry
from knowledge.store import EntryStore
from knowledge.tables import FeedbackRow
from tests.e2e.conftest import System

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SHOTS = ROOT / "reports" / "screenshots"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 812}
REPLY_MS = 30_000  # a chat round trip (web app → Rasa → action server) on a loaded 2-core runner
XSS_IMG = '<img src=x onerror="window.__xss=1">'
XSS_SCRIPT = "<script>window.__xss=1</script>"
AGENT_TEXT = "您好，我是12345人工客服，新生儿出生一件事可以在湘易办上一次申请。"


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/system-deps.sh (as root) to install Debian's chromium "
            "and a Chinese font; CI does this before 'make test'"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module", autouse=True)
def _screenshot_dir() -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)


def _context(browser: Browser, system: System, viewport: ViewportSize) -> BrowserContext:
    ctx = browser.new_context(base_url=system.base, viewport=viewport, locale="zh-CN", device_scale_factor=1)
    ctx.set_default_timeout(REPLY_MS)
    return ctx


@pytest.fixture
def page(browser: Browser, system: System) -> Iterator[Page]:
    """A fresh visitor on a desktop screen."""
    ctx = _context(browser, system, DESKTOP)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


@pytest.fixture
def phone(browser: Browser, system: System) -> Iterator[Page]:
    """A fresh visitor on a 375 px phone."""
    ctx = _context(browser, system, PHONE)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


# ------------------------------------------------------------------- helpers


def open_widget(page: Page) -> None:
    page.goto("/")
    page.locator("#banshi-launcher").click()
    expect(page.locator("#banshi-panel")).to_be_visible()
    expect(page.locator(".banshi-greeting")).to_be_visible()


def sender_of(page: Page) -> str:
    sender = page.evaluate("() => localStorage.getItem('banshi_conversation')")
    assert sender and sender.startswith("w-"), "the widget keeps the server-issued conversation id"
    return str(sender)


def wait_idle(page: Page) -> None:
    """Until the POST /api/chat in flight (if any) is answered."""
    expect(page.locator("#banshi-typing")).to_be_hidden(timeout=REPLY_MS)


def ask(page: Page, text: str) -> None:
    """Type a question and press Enter; returns once the reply has been rendered."""
    box = page.locator("#banshi-input")
    box.fill(text)
    box.press("Enter")
    expect(page.locator(".banshi-msg.banshi-user").last).to_contain_text(text[:20])
    wait_idle(page)


def card(page: Page, entry_id: str) -> Locator:
    return page.locator(f'.banshi-card[data-entry-id="{entry_id}"]')


def messages(page: Page) -> list[tuple[str, str, str]]:
    """(id, role, text) of every message shown that came from the server."""
    rows = page.eval_on_selector_all(
        "#banshi-messages .banshi-msg[data-id]",
        "ns => ns.map(n => [n.dataset.id, n.dataset.role, n.innerText.trim()])",
    )
    return [tuple(r) for r in rows]


def no_horizontal_scroll(page: Page) -> None:
    width, scroll = page.evaluate("() => [window.innerWidth, document.documentElement.scrollWidth]")
    assert scroll <= width, f"horizontal scroll at {width}px: content is {scroll}px wide"


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def xss_free(page: Page) -> None:
    assert page.evaluate("() => window.__xss") is None, "an injected payload ran"
    assert page.locator("#banshi-messages img").count() == 0


CONTRAST_JS = """
root => {
  const parse = c => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c || '');
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a), a: 1
  });
  const lum = c => [c.r, c.g, c.b].map(v => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = el => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const st = getComputedStyle(n);
      if (st.backgroundImage !== 'none') return null; // gradients and images: not measured
      const c = parse(st.backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    return layers.reduceRight((under, top) => over(top, under), { r: 255, g: 255, b: 255, a: 1 });
  };
  const bad = [], seen = new Set();
  const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const el = walk.currentNode.parentElement;
    if (!walk.currentNode.nodeValue.trim() || seen.has(el)) continue;
    seen.add(el);
    if (!el.getClientRects().length || el.closest('.banshi-sr, button:disabled, [hidden]')) continue;
    const st = getComputedStyle(el);
    const bg = background(el);
    let fg = parse(st.color);
    if (!bg || !fg || st.visibility === 'hidden') continue;
    if (fg.a < 1) fg = over(fg, bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight, 10) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) {
      bad.push(`${el.tagName}.${el.className} "${walk.currentNode.nodeValue.trim().slice(0, 16)}" ` +
               `${ratio.toFixed(2)}:1 < ${need}:1`);
    }
  }
  return bad;
}
"""


def contrast_ok(page: Page, selector: str = ".banshi-root") -> None:
    """Every visible text in ``selector`` meets WCAG AA contrast (4.5:1, 3:1 for large text)."""
    failures = page.locator(selector).first.evaluate(CONTRAST_JS)
    assert not failures, "contrast below WCAG AA:\n" + "\n".join(failures)


def request_human(page: Page) -> None:
    page.locator("#banshi-human").click()
    banner = page.locator("#banshi-handoff")
    expect(banner).to_be_visible(timeout=REPLY_MS)
    expect(banner).to_contain_text("人工客服")
    wait_idle(page)


class AgentConsole:
    """agent1 at the agent console, through the agent API."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.http = httpx.Client(base_url=system.base, timeout=30)

    def __enter__(self) -> AgentConsole:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def log_in(self) -> None:
        """Log in and poll the queue once: an agent counts as online while the console polls."""
        r = self.http.post(
            "/api/auth/login", json={"username": "agent1", "password": self.system.settings.demo_password}
        )
        assert r.status_code == 200, r.text
        csrf = r.json().get("csrf_token") or self.http.cookies.get("csrf_token") or ""
        self.http.headers["X-CSRF-Token"] = csrf
        self.tickets("waiting")

    def tickets(self, status: str) -> list[dict[str, Any]]:
        r = self.http.get("/api/handoffs", params={"status": status})
        assert r.status_code == 200, r.text
        data = r.json()
        return list(data["data"] if isinstance(data, dict) else data)

    def reply(self, sender: str, text: str) -> None:
        """Claim the citizen's waiting ticket and answer."""
        mine = [t for t in self.tickets("waiting") if t.get("sender_id") == sender]
        assert mine, f"no waiting ticket for {sender}"
        ticket = mine[0]["id"]
        claim = self.http.post(f"/api/handoffs/{ticket}/claim")
        assert claim.status_code == 200, claim.text
        sent = self.http.post(f"/api/handoffs/{ticket}/messages", json={"text": text})
        assert sent.status_code in (200, 201), sent.text


def xss_entry() -> Entry:
    """A published entry whose content carries HTML/JS payloads (and javascript: links)."""
    return Entry.model_validate(
        {
            "id": "xss-dog-registration",
            "title": "养犬登记",
            "kind": "matter",
            "category": "测试",
            "audience": ["个人"],
            "aliases": ["养狗登记", "狗证办理", "犬只登记"],
            "similar_questions": ["养狗登记怎么办", "狗证在哪里办"],
            "summary": f"在城区饲养犬只须办理养犬登记。{XSS_IMG}{XSS_SCRIPT}",
            "conditions": [f"在城区饲养犬只的个人{XSS_SCRIPT}"],
            "materials": [
                {"name": f"犬只免疫证明{XSS_IMG}", "notes": f"兽医站出具{XSS_SCRIPT}"},
                {"name": "养犬人居民身份证", "form": "原件"},
            ],
            "steps": [{"title": f"窗口提交材料{XSS_IMG}"}],
            "fees": "不收费",
            "location": {
                "window": f"公安局犬类管理窗口{XSS_IMG}",
                "map_url": "javascript:window.__xss=1",
            },
            "phone": "0730-1234567",
            "online": {"name": "湘易办", "url": "javascript:window.__xss=1"},
            "source": "浏览器安全测试（非真实事项）",
            "reviewed_at": dt.date.today().isoformat(),
        }
    )


# --------------------------------------------------------------- scenarios


def test_greeting_offers_popular_matters(page: Page) -> None:
    open_widget(page)
    greeting = page.locator(".banshi-greeting")
    expect(greeting).to_contain_text("办事e点通")
    quick = greeting.locator(".banshi-quick")
    assert quick.count() >= 4
    expect(quick.first).to_be_visible()
    expect(page.locator("#banshi-human")).to_be_visible()
    # the greeting is read from its first line
    assert page.locator("#banshi-messages").evaluate("n => n.scrollTop") < 20
    contrast_ok(page)
    shot(page, "desktop-greeting")


def test_question_card_quick_reply_and_reload(page: Page, system: System) -> None:
    open_widget(page)
    ask(page, "宝宝刚出生要办什么手续")
    # a "what do I need" question: the situation questions first (quick replies), one card at the end
    question = page.locator(".banshi-msg", has=page.locator(".banshi-quick")).last
    expect(question).to_contain_text("登记结婚")
    expect(card(page, "newborn-birth")).to_have_count(0)
    question.locator(".banshi-quick", has_text="是").first.click()
    expect(page.locator(".banshi-msg.banshi-user").last).to_have_text(re.compile(r"\s*(我：)?是\s*$"))
    answered = page.locator(".banshi-msg", has_text="登记结婚").filter(has=page.locator(".banshi-quick"))
    expect(answered.locator(".banshi-quick").first).to_be_disabled()  # answered: no reply out of context
    wait_idle(page)
    question = page.locator(".banshi-msg", has=page.locator(".banshi-quick")).last
    expect(question).to_contain_text("岳阳市以外")
    question.locator(".banshi-quick", has_text="否").first.click()
    wait_idle(page)
    tailored = card(page, "newborn-birth").first
    expect(tailored).to_be_visible()
    expect(tailored.locator(".banshi-card-title")).to_contain_text("出生")
    expect(tailored.locator(".banshi-card-meta")).to_contain_text("示例数据")  # nobody has reviewed it
    expect(tailored.locator('a[href*="/guide/newborn-birth"]')).to_have_count(1)
    materials = tailored.locator('.banshi-section[data-key="materials"] .banshi-checklist li')
    assert materials.count() >= 2
    expect(materials.first.locator('input[type="checkbox"]')).to_have_count(1)
    expect(tailored.locator(".banshi-tag-form").first).to_have_text(re.compile("原件|复印件|申请表|电子证照"))
    expect(tailored.locator('.banshi-section[data-key="phone"] a[href^="tel:"]')).to_have_count(1)
    expect(tailored.locator('.banshi-section[data-key="location"] a[href^="https://"]')).to_have_count(1)
    tailored.scroll_into_view_if_needed()
    contrast_ok(page)
    shot(page, "desktop-materials-card")

    # every message is bound to its stored id (the user's bubbles via the stream echo)
    expect(page.locator(".banshi-msg.banshi-user:not([data-id])")).to_have_count(0, timeout=10_000)
    shown = messages(page)
    sender = sender_of(page)

    page.reload()
    page.locator("#banshi-launcher").click()
    expect(page.locator(".banshi-msg[data-id]")).to_have_count(len(shown))
    restored = messages(page)
    assert restored == shown, "the reloaded page shows the same conversation"
    assert len({m[0] for m in restored}) == len(restored), "a message is shown twice"
    assert sender_of(page) == sender
    expect(page.locator(".banshi-greeting")).to_have_count(0)
    expect(card(page, "newborn-birth")).to_have_count(1)
    answered = page.locator(".banshi-msg", has_text="岳阳市以外").filter(has=page.locator(".banshi-quick"))
    expect(answered.locator(".banshi-quick").first).to_be_disabled()

    # history is complete: the server holds exactly what is shown (read with the browser's binding
    # cookie; without it the conversation is not readable)
    stored = page.request.get(f"/api/chat/{sender}/messages?after=0").json()["messages"]
    assert [str(m["id"]) for m in stored] == [m[0] for m in restored]
    with system.client() as c:
        assert c.get(f"/api/chat/{sender}/messages", params={"after": 0}).status_code == 403


def test_answer_rating_is_stored(page: Page, system: System) -> None:
    open_widget(page)
    ask(page, "新生儿出生一件事在哪里办理")
    newborn = card(page, "newborn-birth")
    expect(newborn).to_be_visible()
    newborn.locator(".banshi-useful").click()
    expect(newborn.locator(".banshi-fb-status")).to_contain_text("感谢")
    expect(newborn.locator(".banshi-useful")).to_be_disabled()
    sender = sender_of(page)
    message_id = int(newborn.locator("xpath=ancestor::div[@data-id][1]").get_attribute("data-id") or 0)
    with session_factory(system.settings.database_url)() as s:
        rows = s.scalars(select(FeedbackRow).where(FeedbackRow.sender_id == sender)).all()
    assert [(r.kind, r.entry_id, r.rating, r.message_id) for r in rows] == [
        ("answer", "newborn-birth", 1, message_id)
    ]

    # the whole conversation: five levels with a comment
    page.locator(".banshi-rate-link").click()
    dialog = page.locator("#banshi-rating")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".banshi-rate")).to_have_count(5)
    dialog.locator(".banshi-rate", has_text="非常满意").click()
    dialog.locator("textarea").fill("很方便，电话13812345678")
    dialog.locator(".banshi-rate-submit").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(".banshi-notice").last).to_contain_text("感谢您的评价")
    with session_factory(system.settings.database_url)() as s:
        scores = s.scalars(
            select(FeedbackRow).where(FeedbackRow.sender_id == sender, FeedbackRow.kind == "conversation")
        ).all()
    assert [(r.rating, r.comment) for r in scores] == [(5, "很方便，电话138****5678")]


def _handoff_with_agent_reply(page: Page, system: System, name: str) -> None:
    with AgentConsole(system) as agent:
        agent.log_in()
        open_widget(page)
        ask(page, "新生儿出生一件事在哪里办理")
        expect(card(page, "newborn-birth").first).to_be_visible()
        request_human(page)
        sender = sender_of(page)
        with session_factory(system.settings.database_url)() as s:
            ticket = s.scalars(select(HandoffRow).where(HandoffRow.sender_id == sender)).first()
        assert ticket is not None and ticket.status == TicketStatus.WAITING, (
            "an agent is online: the ticket waits"
        )
        expect(page.locator("#banshi-handoff")).to_contain_text("正在转接")

        agent.reply(sender, AGENT_TEXT)
    reply = page.locator(".banshi-msg.banshi-agent", has_text=AGENT_TEXT)
    expect(reply).to_be_visible(timeout=15_000)  # live, over the stream (polling as fallback)
    assert reply.get_attribute("data-role") == "agent"
    expect(reply.locator(".banshi-who")).to_contain_text("人工客服")
    expect(page.locator("#banshi-handoff")).to_contain_text("正在为您服务")
    contrast_ok(page)
    shot(page, name)

    # while a person holds the conversation the bot stays quiet
    bots = page.locator(".banshi-msg.banshi-bot").count()
    ask(page, "好的，谢谢")
    page.wait_for_timeout(500)
    assert page.locator(".banshi-msg.banshi-bot").count() == bots


def test_handoff_shows_agent_reply_live(page: Page, system: System) -> None:
    _handoff_with_agent_reply(page, system, "desktop-handoff-agent")


def test_citizen_stops_waiting_and_the_bot_answers_again(page: Page, system: System) -> None:
    with AgentConsole(system) as agent:
        agent.log_in()  # an agent is online, so the handoff waits in the queue
        open_widget(page)
        request_human(page)
        banner = page.locator("#banshi-handoff")
        expect(banner).to_contain_text("正在转接")
        banner.get_by_role("button", name="取消转人工").click()
        expect(banner).to_be_hidden(timeout=REPLY_MS)
        expect(page.locator(".banshi-handoff-msg", has_text="已取消转人工")).to_be_visible()
        sender = sender_of(page)
        assert all(t["sender_id"] != sender for t in agent.tickets("waiting"))
    ask(page, "新生儿出生一件事在哪里办理")
    expect(card(page, "newborn-birth").first).to_be_visible(timeout=REPLY_MS)


def test_guide_page_is_complete_with_qr(page: Page) -> None:
    page.goto("/guide/newborn-birth")
    expect(page.locator("h1")).to_contain_text("出生")
    headings = page.locator("section h2").all_inner_texts()
    for part in ("申请材料", "办理流程", "办理时限", "收费标准", "办理地点", "咨询电话"):
        assert part in headings, f"{part} missing from the guide: {headings}"
    expect(page.locator(".source")).to_contain_text("示例数据，待核实")  # a sample entry nobody approved
    qr = page.locator("figure img")
    expect(qr).to_be_visible()
    page.wait_for_function("() => document.querySelector('figure img').complete")
    assert qr.evaluate("img => img.naturalWidth") > 0
    contrast_ok(page, "main")
    shot(page, "desktop-guide")


# ------------------------------------------------------------------- phone


def test_phone_screens(phone: Page, system: System) -> None:
    open_widget(phone)
    no_horizontal_scroll(phone)
    shot(phone, "phone-greeting")
    # a popular matter offered with the greeting
    phone.locator(".banshi-greeting .banshi-quick", has_text="公租房谁能申请").click()
    expect(phone.locator(".banshi-msg.banshi-user").last).to_contain_text("公租房谁能申请")
    wait_idle(phone)
    housing = card(phone, "public-rental-housing")
    expect(housing).to_be_visible()
    no_horizontal_scroll(phone)
    housing.scroll_into_view_if_needed()
    shot(phone, "phone-answer-card")
    phone.goto("/guide/newborn-birth")
    expect(phone.locator("figure img")).to_be_visible()
    no_horizontal_scroll(phone)
    shot(phone, "phone-guide")


def test_phone_handoff(phone: Page, system: System) -> None:
    _handoff_with_agent_reply(phone, system, "phone-handoff-agent")
    no_horizontal_scroll(phone)


# ------------------------------------------------------------- weak network


def test_network_drop_is_explained_and_retried_without_duplicates(page: Page, system: System) -> None:
    open_widget(page)
    page.context.set_offline(True)
    box = page.locator("#banshi-input")
    box.fill("身份证丢了怎么补办")
    box.press("Enter")
    notice = page.locator(".banshi-error")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text("12345")
    expect(page.locator(".banshi-msg.banshi-user.banshi-unsent")).to_have_count(1)
    page.context.set_offline(False)
    notice.locator(".banshi-retry").click()
    wait_idle(page)
    expect(notice).to_have_count(0)
    expect(page.locator(".banshi-msg.banshi-user")).to_have_count(1)
    expect(page.locator(".banshi-msg.banshi-user.banshi-unsent")).to_have_count(0)
    expect(page.locator(".banshi-msg.banshi-bot:not(.banshi-greeting)").first).to_be_visible()
    # the stream reconnects and echoes the message: still one copy, now bound to its stored id
    expect(page.locator(".banshi-msg.banshi-user[data-id]")).to_have_count(1, timeout=15_000)
    # read with the browser's binding cookie (the conversation is bound to it)
    stored = page.request.get(f"/api/chat/{sender_of(page)}/messages?after=0").json()["messages"]
    assert [m["text"] for m in stored if m["role"] == "user"] == ["身份证丢了怎么补办"]


def test_refusals_are_explained_in_chinese(page: Page, system: System) -> None:
    open_widget(page)
    too_long = "长" * (system.settings.max_message_chars + 1)
    ask(page, too_long)
    expect(page.locator(".banshi-notice").last).to_contain_text("消息太长了")
    expect(page.locator(".banshi-msg.banshi-user.banshi-unsent")).to_have_count(1)
    # past the rate limit (simulated here; tests/web/test_web_api.py checks the real 429)
    page.route(
        "**/api/chat",
        lambda route: route.fulfill(
            status=429,
            headers={"Retry-After": "30"},
            content_type="application/json",
            body='{"detail": "您发送得太快了，请30秒后再试。紧急事项请拨打12345。"}',
        ),
    )
    ask(page, "你好")
    expect(page.locator(".banshi-notice").last).to_contain_text("请30秒后再试")
    expect(page.locator(".banshi-msg.banshi-user.banshi-unsent")).to_have_count(2)


# ----------------------------------------------------------- accessibility


def test_keyboard_only(page: Page) -> None:
    page.goto("/")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.id") == "banshi-launcher":
            break
    else:
        pytest.fail("Tab never reaches the chat launcher")
    page.keyboard.press("Enter")
    expect(page.locator("#banshi-panel")).to_be_visible()
    expect(page.locator("#banshi-input")).to_be_focused()
    page.keyboard.type("身份证丢了怎么补办")
    page.keyboard.press("Enter")
    expect(page.locator(".banshi-msg.banshi-user").last).to_contain_text("身份证丢了怎么补办")
    wait_idle(page)
    assert page.locator(".banshi-msg.banshi-bot").count() >= 2  # greeting + the answer
    expect(page.locator("#banshi-input")).to_have_value("")
    # Escape closes the panel and gives focus back to the launcher
    page.keyboard.press("Escape")
    expect(page.locator("#banshi-panel")).to_be_hidden()
    expect(page.locator("#banshi-launcher")).to_be_focused()


def test_live_region_and_large_font(page: Page) -> None:
    open_widget(page)
    log = page.locator("#banshi-messages")
    expect(log).to_have_attribute("role", "log")
    expect(log).to_have_attribute("aria-live", "polite")
    bubble = page.locator(".banshi-greeting .banshi-bubble")
    size = float(bubble.evaluate("n => parseFloat(getComputedStyle(n).fontSize)"))
    page.locator("#banshi-bigfont").click()
    expect(page.locator("#banshi-bigfont")).to_have_attribute("aria-pressed", "true")
    bigger = float(bubble.evaluate("n => parseFloat(getComputedStyle(n).fontSize)"))
    assert bigger >= size * 1.15, f"large-font mode: {size}px → {bigger}px"
    # remembered across pages
    page.reload()
    page.locator("#banshi-launcher").click()
    expect(page.locator("#banshi-bigfont")).to_have_attribute("aria-pressed", "true")
    no_horizontal_scroll(page)


@pytest.mark.parametrize("width", [320, 375])
def test_narrow_phone_has_no_horizontal_scroll(browser: Browser, system: System, width: int) -> None:
    ctx = _context(browser, system, {"width": width, "height": 640})
    try:
        page = ctx.new_page()
        page.goto("/")
        no_horizontal_scroll(page)
        open_widget(page)
        no_horizontal_scroll(page)
        ask(page, "新生儿出生一件事在哪里办理")
        expect(card(page, "newborn-birth")).to_be_visible()
        no_horizontal_scroll(page)
        panel = page.locator("#banshi-panel").bounding_box()
        assert panel is not None and panel["x"] >= 0 and panel["x"] + panel["width"] <= width
        page.locator("#banshi-bigfont").click()
        no_horizontal_scroll(page)
        page.goto("/guide/newborn-birth")
        no_horizontal_scroll(page)
    finally:
        ctx.close()


# ------------------------------------------------------------------ safety


def test_chat_message_payloads_render_as_text(page: Page) -> None:
    open_widget(page)
    for payload in (XSS_IMG, XSS_SCRIPT):
        ask(page, f"请问{payload}")
        expect(page.locator(".banshi-msg.banshi-user").last).to_contain_text(payload)
    xss_free(page)
    # and again when the history comes back from the server
    expect(page.locator(".banshi-msg.banshi-user:not([data-id])")).to_have_count(0, timeout=10_000)
    page.reload()
    page.locator("#banshi-launcher").click()
    users = page.locator(".banshi-msg.banshi-user")
    expect(users).to_have_count(2)
    expect(users.nth(0)).to_contain_text(XSS_IMG)
    expect(users.nth(1)).to_contain_text(XSS_SCRIPT)
    xss_free(page)


def test_entry_payloads_render_as_text(page: Page, system: System) -> None:
    entry = xss_entry()
    store = EntryStore(session_factory(system.settings.database_url))
    store.import_entries([entry])
    try:
        _entry_renders_as_text(page, entry)
    finally:
        store.delete(entry.id)


def _entry_renders_as_text(page: Page, entry: Entry) -> None:
    open_widget(page)
    # every process follows the knowledge version (every ~2 s): ask until the new entry answers
    deadline = time.monotonic() + 20
    found = card(page, entry.id)
    while True:
        ask(page, "养狗登记怎么办")
        if found.count():
            break
        if time.monotonic() > deadline:
            pytest.fail("the new entry never showed up in the chat (live index update)")
        time.sleep(1)
    found = found.last
    expect(found).to_be_visible()
    expect(found.locator(".banshi-card-summary")).to_contain_text(XSS_IMG + XSS_SCRIPT)
    expect(found.locator(".banshi-mat-name").first).to_contain_text(XSS_IMG)
    expect(found).to_contain_text(XSS_SCRIPT)
    assert found.locator("img, script").count() == 0
    assert found.locator('a[href^="javascript:"]').count() == 0
    xss_free(page)
    shot(page, "desktop-xss-card")

    page.goto(f"/guide/{entry.id}")
    expect(page.locator(".summary")).to_contain_text(XSS_IMG + XSS_SCRIPT)
    expect(page.locator("main")).to_contain_text("犬只免疫证明" + XSS_IMG)
    assert page.locator("main img").count() == 1  # the QR code only
    assert page.locator("main script").count() == 0
    assert page.evaluate("() => window.__xss") is None


def test_end_and_clear_starts_a_new_bound_conversation(page: Page, system: System) -> None:
    """结束并清除对话: the shared-computer case. The next person sees nothing of the conversation, and
    its id no longer works even with the old cookie."""
    open_widget(page)
    ask(page, "新生儿出生一件事在哪里办理")
    expect(card(page, "newborn-birth")).to_be_visible()
    old = sender_of(page)
    assert page.request.get(f"/api/chat/{old}/messages?after=0").status == 200
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert (
        cookies["banshi_conversation"]["httpOnly"] and cookies["banshi_conversation"]["sameSite"] == "Strict"
    )
    assert page.evaluate("() => document.cookie").find("banshi_conversation") < 0  # not readable by scripts

    page.locator("#banshi-clear").click()
    expect(card(page, "newborn-birth")).to_have_count(0)
    expect(page.locator(".banshi-greeting")).to_be_visible()
    page.wait_for_function("old => localStorage.getItem('banshi_conversation') !== old", arg=old)
    new = sender_of(page)
    assert new != old
    assert page.request.get(f"/api/chat/{old}/messages?after=0").status in (403, 410)
    page.reload()
    page.locator("#banshi-launcher").click()
    expect(page.locator(".banshi-greeting")).to_be_visible()
    expect(card(page, "newborn-birth")).to_have_count(0)
    ask(page, "身份证丢了怎么补办")
    expect(page.locator(".banshi-msg.banshi-bot").last).to_be_visible()
    assert sender_of(page) == new
