"""The guides in a real browser against the real servers: the widget's 办事攻略 tab, a county page's
``data-site`` embed, and the site question asked once on the city page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import System
from tests.e2e.test_widget_browser import (  # noqa: F401  (fixtures)
    _screenshot_dir,
    ask,
    browser,
    card,
    open_widget,
    page,
)

pytestmark = pytest.mark.integration
COUNTY_PAGE = (
    "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>平江县分站点</title></head>"
    "<body><h1>平江县分站点（测试页）</h1>"
    "<script src='/static/widget.js' data-site='pingjiang' defer></script></body></html>"
)


def test_catalogue_tab_browses_the_knowledge_base(page: Page) -> None:
    open_widget(page)
    page.locator("#banshi-tab-guides").click()
    cat = page.locator("#banshi-catalogue")
    expect(cat).to_be_visible()
    expect(page.locator("#banshi-messages")).to_be_hidden()
    first = cat.locator('.banshi-cat-group[data-group="province_first"]')
    expect(first.locator("li")).to_have_count(3)
    expect(first).to_contain_text("公共租赁住房")
    expect(cat.locator('.banshi-cat-group[data-group="yijianshi"]')).to_contain_text("企业开办一件事")
    cat.locator('.banshi-cat-view-btn[data-view="department"]').click()
    expect(cat.locator(".banshi-cat-view")).to_contain_text("岳阳市公安局")
    cat.locator('.banshi-cat-view-btn[data-view="enterprise_stage"]').click()
    stage = cat.locator(".banshi-cat-view .banshi-cat-group", has_text="开办准入")
    stage.locator("summary").click()
    stage.locator(".banshi-cat-item", has_text="企业开办一件事").click()
    # back in the chat, the guide is asked for and answered with the plan's claims and their source
    expect(page.locator("#banshi-messages")).to_be_visible()
    answer = card(page, "enterprise-opening").last
    expect(answer).to_be_visible()
    expect(answer.locator(".banshi-claims")).to_contain_text("6份以内材料")
    expect(answer.locator(".banshi-claim-source").first).to_contain_text("第156号提案")
    expect(answer.locator(".banshi-card-meta")).to_contain_text("示例数据，待核实")
    expect(answer.locator(".banshi-card-meta")).not_to_contain_text("审核日期")


def test_a_county_page_answers_with_its_own_site(page: Page, system: System) -> None:
    page.route("**/county-demo.html", lambda route: route.fulfill(body=COUNTY_PAGE, content_type="text/html"))
    page.goto("/county-demo.html")
    page.locator("#banshi-launcher").click()
    ask(page, "企业开办在哪里办")
    answer = card(page, "enterprise-opening").last
    location = answer.locator('.banshi-section[data-key="location"]')
    expect(location).to_contain_text("平江县分站点")
    expect(location).to_contain_text("请拨打12345咨询")
    expect(answer.locator(".banshi-site-chooser")).to_have_count(0)


def test_the_city_page_asks_the_site_once(page: Page) -> None:
    open_widget(page)
    ask(page, "企业开办在哪里办")
    answer = card(page, "enterprise-opening").last
    expect(answer.locator('.banshi-section[data-key="location"]')).to_contain_text("岳阳市政务服务中心")
    chooser = answer.locator(".banshi-site-chooser")
    expect(chooser).to_be_visible()
    chooser.locator('.banshi-site-option[data-site="huarong"]').click()
    expect(answer.locator('.banshi-site-contact[data-site="huarong"]')).to_contain_text("华容县分站点")
    assert page.evaluate("() => localStorage.getItem('banshi_site')") == "huarong"
    # remembered: the next answer is for 华容县 and nothing is asked again
    ask(page, "新生儿出生一件事在哪里办")
    again = card(page, "newborn-birth").last
    expect(again.locator('.banshi-section[data-key="location"]')).to_contain_text("华容县分站点")
    expect(again.locator(".banshi-site-chooser")).to_have_count(0)


def test_guides_page_shows_every_qr(page: Page, system: System) -> None:
    page.goto("/guides")
    expect(page.locator("h1")).to_contain_text("办事攻略")
    imgs = page.locator("img[src$='/qr.png']")
    expect(imgs).to_have_count(51)
    page.locator(".guide-item a", has_text="企业开办一件事").first.click()
    expect(page.locator("h1")).to_contain_text("企业开办")
    expect(page.locator("main")).to_contain_text("示例数据，待核实")
