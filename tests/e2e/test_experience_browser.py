"""What a citizen sees, checked on the screen of a real browser: Debian's Chromium,
headless, at 1280×900 and 390×844, driven by Playwright against the real Rasa, action server and
web app.

- a "what do I need" question asks the situation questions first, the newest question stays in
  view, and one tailored checklist follows, folded to the materials with the rest one tap away;
- the part shown matches the question (an eligibility question leads with 申请条件);
- a single matter's card says nothing about 联办事项;
- the guide link and QR code carry the answers, the guide page prints, an unknown guide is a page;
- 大字 keeps the latest message in view and the panel grows on a desktop;
- 朗读 reads a card with the browser's own Chinese voice, and is not offered without one;
- axe-core finds no serious or critical problem on ``/``, the open widget and ``/guide/<id>``.

The screenshots in docs/ (shown in the README) are taken here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from core.settings import ROOT
from tests.e2e.a11y import axe_violations, describe
from tests.e2e.conftest import System
from tests.e2e.test_widget_browser import (  # noqa: F401 (browser is a fixture)
    _context,
    ask,
    browser,
    card,
    open_widget,
    wait_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
MOBILE: ViewportSize = {"width": 390, "height": 844}
DOCS = ROOT / "docs"

ZH_VOICE = [{"name": "测试中文语音", "lang": "zh-CN"}]
EN_VOICE = [{"name": "Test English", "lang": "en-US"}]
# The browser's speech synthesis, recorded: headless Chromium has no voices of its own.
SPEECH_STUB = """
(voices => {
  window.__spoken = [];
  window.__cancelled = 0;
  const synth = {
    getVoices: () => voices,
    speak: u => window.__spoken.push({ text: u.text, lang: u.lang, voice: u.voice && u.voice.name }),
    cancel: () => { window.__cancelled += 1; },
    addEventListener: () => {},
  };
  Object.defineProperty(window, 'speechSynthesis', { value: synth, configurable: true });
  window.SpeechSynthesisUtterance = function (text) { this.text = text; };
})(%s)
"""


@pytest.fixture
def desktop(browser: Browser, system: System) -> Iterator[Page]:
    ctx = _context(browser, system, DESKTOP)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


@pytest.fixture
def mobile(browser: Browser, system: System) -> Iterator[Page]:
    ctx = _context(browser, system, MOBILE)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


# ------------------------------------------------------------------- helpers


def box(locator: Locator) -> dict[str, float]:
    b = locator.bounding_box()
    assert b is not None, "not rendered"
    return {"x": b["x"], "y": b["y"], "width": b["width"], "height": b["height"]}


def fully_in_view(page: Page, locator: Locator) -> bool:
    """Whether the element is wholly inside the visible part of the message log (1 px tolerance)."""
    log, b = box(page.locator("#banshi-messages")), box(locator)
    return b["y"] >= log["y"] - 1 and b["y"] + b["height"] <= log["y"] + log["height"] + 1


def top_in_view(page: Page, locator: Locator) -> bool:
    log, b = box(page.locator("#banshi-messages")), box(locator)
    return log["y"] - 1 <= b["y"] <= log["y"] + log["height"] - 20


def open_question(page: Page) -> Locator | None:
    """The newest message offering quick replies that can still be clicked (a pending question)."""
    enabled = page.locator(".banshi-quick-group .banshi-quick:enabled")
    asking = page.locator(".banshi-msg:not(.banshi-greeting)", has=enabled)
    return asking.last if asking.count() else None


def answer_questions(page: Page, picks: dict[str, str]) -> list[str]:
    """Answer every situation question by a quick reply: the first option whose label holds a
    value of ``picks`` (keyed by a word of the question), else the first option. Each question
    must be in view when it is asked. Returns the questions asked."""
    asked: list[str] = []
    for _ in range(8):
        wait_idle(page)
        q = open_question(page)
        if q is None:
            return asked
        text = q.inner_text()
        assert fully_in_view(page, q.locator(".banshi-quick-group")), f"question out of view: {text[:40]}"
        asked.append(text)
        label = next((v for k, v in picks.items() if k in text), "")
        options = q.locator(".banshi-quick-group .banshi-quick:enabled")
        choice = options.filter(has_text=label).first if label else options.first
        users = page.locator(".banshi-msg.banshi-user")
        before = users.count()
        choice.click()
        expect(users).to_have_count(before + 1)
    pytest.fail("the questions never end")


def no_blocking_a11y(page: Page, include: str | None = None) -> None:
    found = axe_violations(page, include)
    assert not found, "axe-core: serious or critical violations\n" + describe(found)


# ------------------------------------------------- 1. questions first, one card


def test_what_do_i_need_asks_first_then_one_folded_checklist_desktop(desktop: Page) -> None:
    page = desktop
    page.goto("/")
    no_blocking_a11y(page)  # the bureau page with the launcher
    open_widget(page)
    ask(page, "宝宝刚出生要办什么手续")
    expect(card(page, "newborn-birth")).to_have_count(0)  # no full card before the questions
    asked = answer_questions(page, {"登记结婚": "是", "岳阳市以外": "否", "随谁": "随母亲"})
    assert len(asked) >= 2
    newborn = card(page, "newborn-birth")
    expect(newborn).to_have_count(1)  # one tailored checklist, at the end
    wait_idle(page)
    tailored = newborn.first
    assert top_in_view(page, tailored.locator(".banshi-card-title")), "the checklist is read from its title"
    materials = tailored.locator('.banshi-section[data-key="materials"]')
    expect(materials).to_be_visible()
    assert materials.evaluate("d => d.open")
    expect(tailored.locator(".banshi-card-answers")).to_contain_text("岳阳市以外：否")
    # the rest of the 一次性告知 is folded: one tap away
    more = tailored.locator(".banshi-more")
    expect(more).to_have_count(1)
    steps = tailored.locator('.banshi-section[data-key="steps"]')
    expect(steps).to_be_hidden()
    expect(more.locator(":scope > summary")).to_contain_text("办理流程")
    card_height = box(tailored)["height"]
    log_height = box(page.locator("#banshi-messages"))["height"]
    assert card_height < 2 * log_height, f"card {card_height:.0f}px in a {log_height:.0f}px message area"
    no_blocking_a11y(page)  # the open widget with a card
    page.screenshot(path=str(DOCS / "screenshot-widget.png"))
    more.locator(":scope > summary").click()
    expect(steps).to_be_visible()

    # 4. the guide link carries the answers; the page is that checklist, with 打印 and its QR code
    guide_link = tailored.locator('a[href*="/guide/newborn-birth"]')
    href = guide_link.get_attribute("href") or ""
    assert "parents_married=yes" in href and "parent_in_other_city=no" in href, href
    names = tailored.locator('.banshi-section[data-key="materials"] .banshi-mat-name').all_inner_texts()
    page.add_init_script("window.print = () => { window.__printed = (window.__printed || 0) + 1; }")
    page.goto(href)
    expect(page.locator(".situation")).to_contain_text("岳阳市以外：否")
    printed = page.locator("section[data-part='materials'] li").all_inner_texts()
    assert len(printed) == len(names) and all(n in p for n, p in zip(names, printed, strict=True)), (
        names,
        printed,
    )
    qr = page.locator("figure img")
    assert "parent_in_other_city=no" in (qr.get_attribute("src") or "")
    page.wait_for_function("() => document.querySelector('figure img').complete")
    assert qr.evaluate("img => img.naturalWidth") > 0
    page.get_by_role("button", name="打印告知单").click()
    assert page.evaluate("() => window.__printed") == 1
    no_blocking_a11y(page)
    page.screenshot(path=str(DOCS / "screenshot-guide.png"), full_page=True)


def test_what_do_i_need_on_a_phone_keeps_the_question_in_view(mobile: Page) -> None:
    page = mobile
    open_widget(page)
    ask(page, "老人去世了要办哪些手续")
    expect(card(page, "after-death")).to_have_count(0)
    asked = answer_questions(page, {"哪里去世": "在医疗机构内去世", "养老保险": "城乡居民"})
    assert len(asked) >= 2
    after = card(page, "after-death")
    expect(after).to_have_count(1)
    wait_idle(page)
    assert top_in_view(page, after.locator(".banshi-card-title"))
    expect(after.locator('.banshi-section[data-key="materials"]')).to_be_visible()
    expect(after.locator('.banshi-section[data-key="legal_basis"]')).to_be_hidden()
    no_blocking_a11y(page)
    page.screenshot(path=str(DOCS / "screenshot-widget-mobile.png"))


# ----------------------------------------------- 2. the part matches the question


def test_an_eligibility_question_leads_with_the_conditions(desktop: Page) -> None:
    page = desktop
    open_widget(page)
    ask(page, "刚来岳阳上班能住人才公寓吗")
    talent = card(page, "talent-apartment").last
    expect(talent).to_be_visible()
    first = talent.locator(".banshi-section").first
    assert first.get_attribute("data-key") == "conditions"
    expect(first).to_be_visible()
    assert top_in_view(page, talent.locator(".banshi-card-title"))
    # 7. no stray space from a folded line in what the citizen reads
    with page.context.expect_page() as opened:  # the guide opens in a new tab
        talent.locator('a[href*="/guide/talent-apartment"]').click()
    guide = opened.value
    expect(guide.locator(".summary")).to_contain_text("可申报人才公寓入住资格")


def test_an_aspect_question_during_the_questions_is_answered_under_its_own_heading(desktop: Page) -> None:
    page = desktop
    open_widget(page)
    ask(page, "宝宝刚出生要办什么手续")
    assert open_question(page) is not None
    ask(page, "要多久")
    newborn = card(page, "newborn-birth").last
    expect(newborn).to_be_visible()
    expect(newborn.locator(".banshi-section").first).to_have_attribute("data-key", "time_limit")
    expect(newborn).not_to_contain_text("根据您的情况，需要准备的材料如下")
    before = newborn.locator(
        "xpath=ancestor::div[contains(@class,'banshi-msg')][1]/preceding-sibling::div[1]"
    )
    expect(before).not_to_contain_text("需要准备的材料如下")
    q = open_question(page)  # the pending question is asked again, in view
    assert q is not None and fully_in_view(page, q.locator(".banshi-quick-group"))


# ------------------------------------------------- 3. parts that do not apply


def test_a_single_matter_card_says_nothing_about_bundled_matters(desktop: Page) -> None:
    page = desktop
    open_widget(page)
    ask(page, "身份证丢了怎么补办")
    answer_questions(page, {})
    reissue = card(page, "id-card-reissue").last  # the whole 一次性告知 of a single matter
    expect(reissue).to_be_visible()
    if reissue.locator(".banshi-more").count():
        reissue.locator(".banshi-more > summary").click()  # the whole guide, unfolded
    expect(reissue).not_to_contain_text("联办事项")
    expect(reissue).not_to_contain_text("暂未收录")


# ------------------------------------------------------ 4. an unknown guide


def test_an_unknown_guide_is_a_friendly_page(desktop: Page) -> None:
    page = desktop
    response = page.goto("/guide/no-such-guide")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("没有找到这份办事指南")
    expect(page.get_by_role("link", name="查看全部办事攻略和一事一码")).to_have_attribute("href", "/guides")
    expect(page.locator("body")).not_to_contain_text('"detail"')
    no_blocking_a11y(page)


# ----------------------------------------------------------- 5. 大字 mode


def test_large_text_keeps_the_latest_message_in_view_and_grows_the_panel(desktop: Page) -> None:
    page = desktop
    open_widget(page)
    for question in ("身份证丢了怎么补办", "新生儿出生一件事在哪里办理", "公积金怎么提取"):
        ask(page, question)
    ask(page, "谢谢")
    latest = page.locator("#banshi-messages > .banshi-msg").last
    assert fully_in_view(page, latest)
    width = box(page.locator("#banshi-panel"))["width"]
    page.locator("#banshi-bigfont").click()
    expect(page.locator("#banshi-bigfont")).to_have_attribute("aria-pressed", "true")
    latest = page.locator("#banshi-messages > .banshi-msg").last
    assert fully_in_view(page, latest), "大字 jumped away from the latest message"
    assert box(page.locator("#banshi-panel"))["width"] > width * 1.2, "the panel grows with the text"
    page.locator("#banshi-bigfont").click()
    assert fully_in_view(page, page.locator("#banshi-messages > .banshi-msg").last)


# ---------------------------------------------------------------- 6. 朗读


def _with_voices(browser: Browser, system: System, voices: list[dict[str, Any]]) -> tuple[Any, Page]:
    ctx = _context(browser, system, DESKTOP)
    ctx.add_init_script(SPEECH_STUB % repr(voices).replace("'", '"'))
    return ctx, ctx.new_page()


def test_read_aloud_uses_the_browsers_chinese_voice(browser: Browser, system: System) -> None:
    ctx, page = _with_voices(browser, system, ZH_VOICE)
    try:
        open_widget(page)
        ask(page, "身份证丢了在哪里补办")
        reissue = card(page, "id-card-reissue").last
        speak = reissue.locator(".banshi-speak")
        expect(speak).to_be_visible()
        speak.click()
        expect(speak).to_have_attribute("aria-pressed", "true")
        expect(speak).to_have_text("停止朗读")
        spoken = page.evaluate("() => window.__spoken")
        assert spoken and {(u["lang"], u["voice"]) for u in spoken} == {("zh-CN", "测试中文语音")}
        text = "".join(u["text"] for u in spoken)
        title = reissue.locator(".banshi-card-title").inner_text()
        assert title in text and "http" not in text, text
        speak.click()  # stops
        expect(speak).to_have_attribute("aria-pressed", "false")
        assert page.evaluate("() => window.__cancelled") >= 2
    finally:
        ctx.close()


@pytest.mark.parametrize("voices", [EN_VOICE, []], ids=["english-only", "no-voice"])
def test_read_aloud_is_not_offered_without_a_chinese_voice(
    browser: Browser,
    system: System,
    voices: list[dict[str, Any]],
) -> None:
    ctx, page = _with_voices(browser, system, voices)
    try:
        open_widget(page)
        ask(page, "身份证丢了在哪里补办")
        reissue = card(page, "id-card-reissue").last
        expect(reissue).to_be_visible()
        expect(reissue.locator(".banshi-speak")).to_have_count(1)
        expect(reissue.locator(".banshi-speak")).to_be_hidden()
    finally:
        ctx.close()
