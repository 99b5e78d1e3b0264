"""The staff pages as ES modules, in a real browser under their real Content-Security-Policy
(no bypass): the modules load with script-src 'self'; every state-changing request of the agent
console and of the editor carries the session's X-CSRF-Token; the editor loads each of its views; the
names on the pages come from GET /api/schema/labels."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, expect

from tests.e2e.conftest import System
from tests.e2e.test_widget_browser import (  # browser: the shared module-scoped Chromium fixture
    REPLY_MS,
    browser,  # noqa: F401
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]


class Watched:
    """A page with its CSP violations, script errors and state-changing API requests recorded."""

    def __init__(self, browser: Browser, system: System) -> None:
        ctx = browser.new_context(
            base_url=system.base, locale="zh-CN", viewport={"width": 1280, "height": 900}
        )
        ctx.set_default_timeout(REPLY_MS)
        self.page: Page = ctx.new_page()
        self.errors: list[str] = []
        self.posts: list[dict[str, Any]] = []
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on("console", self._console)
        self.page.on("dialog", lambda dialog: dialog.accept())
        self.page.on("request", self._request)
        # securitypolicyviolation fires for anything the policy refused (a module included)
        self.page.add_init_script(
            "document.addEventListener('securitypolicyviolation', e => "
            "console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
        )

    def _console(self, message: ConsoleMessage) -> None:
        # the browser logs a refused request (the 401 of /api/auth/me before login) and the script of the
        # /guide preview the sandboxed iframe does not run (as intended): neither is an error of the page
        expected = ("Failed to load resource", "Blocked script execution in 'about:srcdoc'")
        if message.type == "error" and not message.text.startswith(expected):
            self.errors.append(f"console: {message.text}")

    def _request(self, request: Request) -> None:
        if request.method != "GET" and "/api/" in request.url:
            self.posts.append(
                {"method": request.method, "url": request.url, "csrf": request.headers.get("x-csrf-token")}
            )

    def csrf_cookie(self) -> str:
        cookies = {c["name"]: c["value"] for c in self.page.context.cookies()}
        return cookies.get("banshi_csrf", "")

    def close(self) -> None:
        self.page.context.close()


def _log_in(page: Page, system: System, username: str) -> None:
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(system.settings.demo_password)
    page.locator("#login-submit").click()
    expect(page.locator("#whoami")).to_be_visible()


def _staff_posts(w: Watched) -> list[dict[str, Any]]:
    return [p for p in w.posts if not p["url"].endswith("/api/auth/login")]


def test_the_agent_console_runs_its_modules_under_its_policy_and_sends_csrf(
    browser: Browser, system: System
) -> None:
    w = Watched(browser, system)
    try:
        w.page.goto("/agent")
        _log_in(w.page, system, "agent1")
        expect(w.page.locator("#console")).to_be_visible()
        # the 结束原因 options come from the labels, not from the page
        options = w.page.locator("#resolution option")
        expect(options).to_have_count(6)
        expect(options.first).to_have_text("已解答")
        # phone assist: a state-changing request (POST /api/assist) through lib/api.js
        w.page.locator("#assist-input").fill("身份证丢了怎么补办")
        expect(w.page.locator("#assist-results .assist-result").first).to_be_visible()
        w.page.locator("#logout").click()
        expect(w.page.locator("#login-view")).to_be_visible()
        posts = _staff_posts(w)
        assert {p["url"].split("/api/", 1)[1] for p in posts} >= {"assist", "auth/logout"}, posts
        assert all(p["csrf"] for p in posts), posts
        assert not w.errors, w.errors
    finally:
        w.close()


EDITOR_VIEWS = {
    "entries": "#entry-list .entry-row",
    "gaps": "#gap-summary",
    "dashboard": "#dash-kpis .kpi",
    "transfer": "#export-xlsx",
    "audit": "#audit-rows",
}


def test_the_editor_loads_each_view_under_its_policy_and_sends_csrf(browser: Browser, system: System) -> None:
    w = Watched(browser, system)
    page = w.page
    try:
        page.goto("/editor")
        _log_in(page, system, "editor1")
        # the filters' kinds and statuses are the labels' (plus the page's own 全部 option)
        expect(page.locator("#filter-kind option")).to_have_count(4)
        expect(page.locator('#filter-status option[value="review"]')).to_have_text("待审核")
        expect(page.locator('#gap-filters input[name="reason"]')).to_have_count(4)
        for view, selector in EDITOR_VIEWS.items():
            page.locator(f'#tabs .tab[data-view="{view}"]').click()
            expect(page.locator(f"#view-{view}")).to_be_visible()
            expect(page.locator(selector).first).to_be_attached()
        expect(page.locator("#gap-summary")).to_contain_text("类")
        expect(page.locator("#export-yaml")).to_have_attribute(
            "href", "/api/entry-transfer/export?format=yaml&source=working"
        )

        # one entry, each of its panels; the form's field names are the model's titles
        page.locator('#tabs .tab[data-view="entries"]').click()
        page.locator('#entry-list .entry-row[data-id="passport"]').click()
        expect(page.locator("#editor")).to_be_visible()
        expect(page.locator('#entry-form [data-path="materials"] > legend')).to_have_text("申请材料")
        expect(page.locator('#entry-form [data-path="time_limit.promised_days"] .label')).to_contain_text(
            "承诺时限"
        )
        expect(page.locator("#entry-status")).to_have_text("已发布")
        for panel, selector in {
            "preview": "#preview-card h4",
            "trial": "#trial-examples button",
            "history": "#versions .version",
            "form": "#entry-form .form-section",
        }.items():
            page.locator(f'.subtab[data-panel="{panel}"]').click()
            expect(page.locator(selector).first).to_be_visible()

        # a state-changing request of the editor: save a draft (PUT) and discard it (DELETE)
        page.locator('#entry-form [data-path="similar_questions"] .add-row').click()
        page.locator('#entry-form [data-path="similar_questions"] input').last.fill("护照到哪里办最快")
        page.locator("#save").click()
        expect(page.locator("#notice")).to_contain_text("已保存草稿")
        page.locator("#discard").click()
        expect(page.locator("#notice")).to_contain_text("已放弃修改")
        page.locator("#logout").click()
        expect(page.locator("#login-view")).to_be_visible()

        posts = _staff_posts(w)
        methods = {p["method"] for p in posts}
        assert {"PUT", "DELETE", "POST"} <= methods, posts  # POST: the preview, the logout
        assert all(p["csrf"] for p in posts), posts
        assert not w.errors, w.errors
    finally:
        w.close()


def test_an_expired_staff_session_returns_the_editor_to_its_login(browser: Browser, system: System) -> None:
    w = Watched(browser, system)
    page = w.page
    try:
        page.goto("/editor")
        _log_in(page, system, "reviewer1")
        token = w.csrf_cookie()
        assert token
        page.context.clear_cookies()  # the session is gone (expired, or logged out elsewhere)
        page.locator('#tabs .tab[data-view="audit"]').click()
        expect(page.locator("#login-view")).to_be_visible()
        expect(page.locator("#login-error")).to_contain_text("登录")
        assert not w.errors, w.errors
    finally:
        w.close()
