"""The knowledge editor in a real browser: an editor changes a material and submits, a
reviewer publishes, and a citizen's next question in the widget shows the changed material — live,
with no retraining and no restart. The reviewer lands on the diff of a change in review with
one publish button explained; 试一试 runs a question against the draft; gap mining hides noise, picks
the target by title with no weak pre-fill and marks questions out of scope (the engine declines them
from then on); the dashboard's bar labels are whole; axe-core finds no serious or critical violation."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from core.db import session_factory
from knowledge.tables import GapRow
from tests.e2e.a11y import axe_violations, describe
from tests.e2e.conftest import System
from tests.e2e.test_widget_browser import (  # browser: the shared module-scoped Chromium fixture
    DESKTOP,
    REPLY_MS,
    SHOTS,
    ask,
    browser,  # noqa: F401
    open_widget,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]
ENTRY = "public-rental-housing"
NEW_MATERIAL = "公租房申请审批表（2027版）"


WIDE: ViewportSize = {"width": 1280, "height": 900}
PHONE_390: ViewportSize = {"width": 390, "height": 844}
TRIED = "出国玩要办的本子去哪儿弄"  # no entry knows this wording until the editor adds it
OUT_OF_SCOPE = "公司注册资本多少合适"  # business advice: answered as 企业开办 until marked out of scope
LONG_GAP = "我想咨询一下异地就医备案以后住院报销的比例到底是多少"


def _page(browser: Browser, system: System, viewport: ViewportSize = DESKTOP) -> Page:
    # bypass_csp: axe-core is injected as an inline script, which the pages' CSP (rightly) refuses
    ctx = browser.new_context(base_url=system.base, viewport=viewport, locale="zh-CN", bypass_csp=True)
    ctx.set_default_timeout(REPLY_MS)
    page = ctx.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def _log_in(page: Page, username: str, password: str) -> None:
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(password)
    page.locator("#login-submit").click()
    expect(page.locator("#whoami")).to_be_visible()


def _open_entry(page: Page, entry: str = ENTRY, search: str = "公共租赁住房") -> None:
    row = page.locator(f'#entry-list .entry-row[data-id="{entry}"]')
    if row.count() == 0:
        page.locator("#entry-search").fill(search)
        page.locator("#entry-search").press("Enter")
    row.first.click()
    expect(page.locator("#editor")).to_be_visible()


def _gaps(system: System, rows: list[tuple[str, str | None, float | None]]) -> None:
    sessions = session_factory(system.settings.database_url)
    with sessions.begin() as s:
        for question, entry, score in rows:
            s.add(
                GapRow(sender_id="e2e", question=question, reason="abstained", top_entry=entry, score=score)
            )


def _answerable(system: System, question: str) -> bool:
    with httpx.Client(base_url=system.base, timeout=60) as c:
        r = c.get("/api/search", params={"q": question})
        assert r.status_code == 200, r.text
        return bool(r.json()["answerable"])


def test_reviewer_lands_on_the_diff_and_editor_tries_the_draft(browser: Browser, system: System) -> None:
    staff = _page(browser, system, WIDE)
    try:
        staff.goto("/editor")
        violations = axe_violations(staff)
        assert not violations, describe(violations)
        _log_in(staff, "editor1", system.settings.demo_password)
        _open_entry(staff, "passport", "护照")
        # 试一试 against the unsaved form: before and after adding the question as a similar question
        staff.locator('.subtab[data-panel="trial"]').click()
        staff.locator("#trial-question").fill(TRIED)
        staff.locator("#trial-run").click()
        result = staff.locator("#trial-result")
        expect(result.locator(".trial-verdict")).to_be_visible(timeout=REPLY_MS)  # (encodes the draft)
        expect(result).to_contain_text("办理地点")  # which part: 去哪儿 → 办理地点
        staff.locator('.subtab[data-panel="form"]').click()
        similar = staff.locator('#entry-form [data-path="similar_questions"]')
        similar.get_by_role("button", name=re.compile("添加")).first.click()
        similar.locator("input").last.fill(TRIED)
        staff.locator('.subtab[data-panel="trial"]').click()
        staff.locator("#trial-run").click()
        expect(result.locator(".trial-verdict.good")).to_contain_text("助手会用这个条目", timeout=REPLY_MS)
        expect(result.locator(".trial-ranking li.this").first).to_contain_text("（本条目）")
        expect(result.locator(".trial-facts")).to_contain_text("第 1 名")
        violations = axe_violations(staff)
        assert not violations, describe(violations)
        expect(staff.locator("#workflow-hint")).to_contain_text("试一试")
        staff.locator("#save").click()
        expect(staff.locator("#submit")).to_be_visible()
        staff.locator("#submit").click()
        expect(staff.locator("#entry-status")).to_have_text("待审核")

        staff.locator("#logout").click()
        _log_in(staff, "reviewer1", system.settings.demo_password)
        _open_entry(staff, "passport", "护照")
        # the reviewer lands on what changed, not on a greyed-out form
        expect(staff.locator("#history-panel")).to_be_visible()
        expect(staff.locator('.subtab[data-panel="history"]')).to_have_attribute("aria-selected", "true")
        expect(staff.locator("#diff-view")).to_contain_text(TRIED, timeout=REPLY_MS)
        expect(staff.locator("#review-banner")).to_contain_text("editor1 提交了这份修改")
        # one way to publish a change in review, explained
        expect(staff.locator("#approve")).to_be_visible()
        expect(staff.locator("#publish")).to_be_hidden()
        expect(staff.locator("#workflow-hint")).to_contain_text("审核通过并发布")
        expect(staff.locator("#workflow-hint")).to_contain_text("退回修改")
        SHOTS.mkdir(parents=True, exist_ok=True)
        staff.screenshot(path=str(SHOTS / "editor-review-1280.png"))
        violations = axe_violations(staff)
        assert not violations, describe(violations)
        staff.locator("#approve").click()
        expect(staff.locator("#notice")).to_contain_text("发布")
    finally:
        staff.context.close()


def test_gap_mining_hides_noise_picks_the_target_by_title_and_marks_out_of_scope(
    browser: Browser, system: System
) -> None:
    _gaps(
        system,
        [
            *[("138****5678", None, None)] * 3,
            *[("430***********1234", None, None)] * 3,
            *[("测试", None, None)] * 2,
            ("今天天气怎么样", "newborn-birth", 0.42),
            ("今天天气怎么样？", "newborn-birth", 0.41),
            (OUT_OF_SCOPE, "enterprise-opening", 0.82),
            (LONG_GAP, "medical-cross-region", 0.5),
        ],
    )
    assert _answerable(system, OUT_OF_SCOPE)
    staff = _page(browser, system, WIDE)
    try:
        staff.goto("/editor")
        _log_in(staff, "editor1", system.settings.demo_password)
        staff.locator('#tabs .tab[data-view="gaps"]').click()
        gaps = staff.locator("#gap-list .gap")
        expect(gaps.first).to_be_visible()
        labels = gaps.locator(".gap-head strong").all_inner_texts()
        assert not [x for x in labels if "****" in x or x == "测试"], labels
        expect(staff.locator("#gap-noise")).to_contain_text("已隐藏")

        weather = staff.locator(
            "#gap-list .gap", has=staff.locator(".gap-head strong", has_text="今天天气怎么样")
        )
        expect(weather.locator(".picked")).to_have_text("尚未选择条目")  # 42%: no pre-fill
        expect(weather.locator(".gap-add")).to_be_disabled()
        weather.locator(".entry-search").fill("护照")
        weather.locator('.entry-match[data-id="passport"]').click()
        expect(weather.locator(".picked")).to_contain_text("passport")
        expect(weather.locator(".gap-add")).to_be_enabled()
        violations = axe_violations(staff)
        assert not violations, describe(violations)
        SHOTS.mkdir(parents=True, exist_ok=True)
        staff.screenshot(path=str(SHOTS / "editor-gaps-1280.png"))

        oos = staff.locator("#gap-list .gap", has=staff.locator(".gap-head strong", has_text=OUT_OF_SCOPE))
        oos.locator(".gap-oos").click()
        expect(staff.locator("#notice")).to_contain_text("超出范围")
        expect(oos).to_have_count(0)
        deadline = time.monotonic() + 30  # every process follows the knowledge version within seconds
        while _answerable(system, OUT_OF_SCOPE) and time.monotonic() < deadline:
            time.sleep(1)
        assert not _answerable(system, OUT_OF_SCOPE)

        # the dashboard: whole labels beside their bars
        staff.locator('#tabs .tab[data-view="dashboard"]').click()
        label = staff.locator("#chart-gaps .hbar-label", has_text=LONG_GAP)
        expect(label).to_have_text(LONG_GAP)
        cut = staff.locator(".hbar-label").evaluate_all(
            "ns => ns.filter(n => n.scrollWidth > n.clientWidth + 1).map(n => n.textContent)"
        )
        assert not cut, cut
        box = staff.locator("#chart-gaps").bounding_box()
        lbox = label.bounding_box()
        assert box and lbox and lbox["x"] >= box["x"] and lbox["x"] + lbox["width"] <= box["x"] + box["width"]
        staff.screenshot(path=str(SHOTS / "editor-dashboard-1280.png"), full_page=True)
        violations = axe_violations(staff)
        assert not violations, describe(violations)
    finally:
        staff.context.close()


def test_the_editor_on_a_phone_screen(browser: Browser, system: System) -> None:
    staff = _page(browser, system, PHONE_390)
    try:
        staff.goto("/editor")
        _log_in(staff, "editor1", system.settings.demo_password)
        staff.locator('#tabs .tab[data-view="dashboard"]').click()
        expect(staff.locator("#dash-kpis .kpi").first).to_be_visible()
        cut = staff.locator(".hbar-label").evaluate_all(
            "ns => ns.filter(n => n.scrollWidth > n.clientWidth + 1).map(n => n.textContent)"
        )
        assert not cut, cut
        staff.screenshot(path=str(SHOTS / "editor-dashboard-390.png"), full_page=True)
        violations = axe_violations(staff)
        assert not violations, describe(violations)
    finally:
        staff.context.close()


def test_edit_review_publish_reaches_the_citizen(browser: Browser, system: System) -> None:
    staff = _page(browser, system)
    citizen = _page(browser, system)
    try:
        staff.goto("/editor")
        _log_in(staff, "editor1", system.settings.demo_password)
        _open_entry(staff)
        staff.locator(".material-name").first.fill(NEW_MATERIAL)
        staff.locator("#save").click()
        expect(staff.locator("#notice")).to_be_visible()
        expect(staff.locator("#submit")).to_be_visible()
        staff.locator("#submit").click()
        expect(staff.locator("#entry-status")).to_contain_text("审")

        staff.locator("#logout").click()
        expect(staff.locator("#login-username")).to_be_visible()
        _log_in(staff, "reviewer1", system.settings.demo_password)
        _open_entry(staff)
        expect(staff.locator("#approve")).to_be_visible()
        staff.locator("#approve").click()
        expect(staff.locator("#notice")).to_contain_text("发布")
        SHOTS.mkdir(parents=True, exist_ok=True)
        staff.screenshot(path=str(SHOTS / "desktop-editor.png"))

        staff.wait_for_timeout(5_000)  # every process follows the knowledge version within seconds
        open_widget(citizen)
        ask(citizen, "公租房申请要准备哪些材料")
        for _ in range(4):  # situation questions: answer 不确定 until the checklist comes
            if citizen.locator(f".banshi-card:has-text('{NEW_MATERIAL}')").count():
                break
            unsure = citizen.locator(".banshi-quick", has_text="不确定").last
            if unsure.count() == 0:
                break
            unsure.click()
            expect(citizen.locator("#banshi-typing")).to_be_hidden()
        expect(citizen.locator(".banshi-card", has_text=NEW_MATERIAL).last).to_be_visible()
    finally:
        staff.context.close()
        citizen.context.close()
