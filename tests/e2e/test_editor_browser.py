"""The knowledge editor in a real browser (issue 8): an editor changes a material and submits, a
reviewer publishes, and a citizen's next question in the widget shows the changed material — live,
with no retraining and no restart."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

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


def _page(browser: Browser, system: System) -> Page:
    ctx = browser.new_context(base_url=system.base, viewport=DESKTOP, locale="zh-CN")
    ctx.set_default_timeout(REPLY_MS)
    page = ctx.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def _log_in(page: Page, username: str, password: str) -> None:
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(password)
    page.locator("#login-submit").click()
    expect(page.locator("#whoami")).to_be_visible()


def _open_entry(page: Page) -> None:
    row = page.locator(f'#entry-list .entry-row[data-id="{ENTRY}"]')
    if row.count() == 0:
        page.locator("#entry-search").fill("公共租赁住房")
        page.locator("#entry-search").press("Enter")
    row.first.click()
    expect(page.locator("#editor")).to_be_visible()


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
