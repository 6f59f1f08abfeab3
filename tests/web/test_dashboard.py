"""The dashboard in a real headless browser (Debian's chromium, driven by Playwright).

An RFQ created through the signed API appears on the page; its quote's confirmation and
execution windows count down on the sandbox clock (frozen on a manual clock, moving with
each advance, running on a system clock); advancing the manual clock from the page executes
it, and the execution and its fills show. Set ``KALSHI_SANDBOX_SCREENSHOT`` to a path to
keep a screenshot of the page there (docs/dashboard.png is made so).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import HVM_MARKET, MARKET
from tests.support.server import Control, ServerProcess, running

CHROMIUM = "/usr/bin/chromium"

if not Path(CHROMIUM).exists():  # .ci/run installs it; a bare checkout may lack it
    if os.environ.get("CI"):
        raise RuntimeError(f"CI needs Debian's chromium at {CHROMIUM}; .ci/run installs it")
    pytest.skip(f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


def seconds_left(page: Page, selector: str) -> float:
    text = page.locator(selector).inner_text()
    match = re.search(r"([\d.]+) s", text)
    assert match, text
    return float(match.group(1))


def test_rfq_appears_counts_down_and_executes_from_the_page(
        page: Page, control: Control, server: ServerProcess, tmp_path: Path) -> None:
    requester = control.trader("requester", "10000")
    maker = control.trader("maker", "10000")
    page.goto(server.base_url + "/")
    expect(page.locator("#status")).to_have_text("live")

    rfq_id = requester.create_rfq(MARKET, "10")
    row = page.locator(f'#rfqs tr[data-rfq-id="{rfq_id}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text(MARKET)
    expect(row).to_contain_text("no quotes yet")

    quote_id = maker.create_quote(rfq_id, "0.40", "0.55")
    requester.accept(rfq_id, quote_id, "yes")
    timer = f'#rfqs tr[data-quote-id="{quote_id}"] .countdown'
    expect(page.locator(timer)).to_contain_text("confirm within 30.0 s")
    expect(page.locator(timer)).to_have_class(re.compile("frozen"))
    page.wait_for_timeout(400)
    assert seconds_left(page, timer) == 30.0  # a manual clock's timer stands still

    page.locator('#clock-controls button[data-advance="5"]').click()
    expect(page.locator(timer)).to_contain_text("confirm within 25.0 s")

    maker.confirm(rfq_id, quote_id)
    expect(page.locator(timer)).to_contain_text("executes in 15.0 s")
    page.locator('#clock-controls button[data-advance="15"]').click()

    execution = page.locator(f'#executions tr[data-quote-id="{quote_id}"]')
    expect(execution).to_be_visible()
    expect(execution).to_contain_text("requester")
    expect(execution).to_contain_text("maker")
    expect(row).to_have_count(0)  # no longer open
    expect(page.locator("#fills tbody tr[data-fill-id]")).to_have_count(2)
    expect(page.locator('#accounts tr:has-text("requester")')).to_contain_text(MARKET)
    expect(page.locator("#journal li").first).to_be_visible()
    assert requester.quote(quote_id)["status"] == "executed"
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)


def test_countdown_runs_on_a_system_clock(page: Page, tmp_path: Path) -> None:
    for server in running(tmp_path / "system", "--clock", "system", "--no-seed"):
        control = Control(server.base_url)
        control.market(MARKET)
        requester, maker = control.trader("requester"), control.trader("maker")
        page.goto(server.base_url + "/dashboard")
        expect(page.locator("#status")).to_have_text("live")
        rfq_id = requester.create_rfq(MARKET, "10")
        quote_id = maker.create_quote(rfq_id)
        requester.accept(rfq_id, quote_id)
        timer = f'#rfqs tr[data-quote-id="{quote_id}"] .countdown'
        expect(page.locator(timer)).to_contain_text("confirm within")
        first = seconds_left(page, timer)
        page.wait_for_timeout(1200)
        second = seconds_left(page, timer)
        assert 0.5 < first - second < 5, (first, second)
        expect(page.locator(timer)).not_to_have_class(re.compile("frozen"))
        page.goto("about:blank")  # close the feed before the server stops
        control.close()


def test_screenshot_of_a_busy_sandbox(page: Page, control: Control, server: ServerProcess,
                                      tmp_path: Path) -> None:
    """A sandbox with a book, trades, an execution and a running window, for the README."""
    control.call("POST", "/liquidity", {"name": "book-maker", "markets": [HVM_MARKET]},
                 expect=201)
    control.call("POST", "/counterparties/makers", {"name": "auto-maker"}, expect=201)
    control.call("POST", "/faults", {"match": {"path": "/trade-api/v2/portfolio/balance"},
                                     "action": {"type": "error", "status": 503},
                                     "count": 1}, expect=201)
    requester = control.trader("requester", "10000")
    maker = control.trader("maker", "10000")
    done = requester.create_rfq(MARKET, "10")
    quote = maker.create_quote(done, "0.40", "0.55")
    requester.accept(done, quote)
    maker.confirm(done, quote)
    control.advance(15)
    waiting = requester.create_rfq(MARKET, "25", replace_existing=False)
    quote = maker.create_quote(waiting, "0.42", "0.54")
    requester.accept(waiting, quote, "no")
    page.goto(server.base_url + "/")
    expect(page.locator("#status")).to_have_text("live")
    expect(page.locator(f'#rfqs tr[data-quote-id="{quote}"] .countdown')).to_be_visible()
    expect(page.locator('.market[data-ticker] td.yes').first).to_be_visible()
    target = os.environ.get("KALSHI_SANDBOX_SCREENSHOT")
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if target:
        shutil.copyfile(shot, target)


def test_page_is_guarded_like_the_control_plane(server: ServerProcess) -> None:
    assert httpx.get(server.base_url + "/").status_code == 200
    rebound = httpx.get(server.base_url + "/dashboard", headers={"Host": "attacker.example"})
    assert rebound.status_code == 403
    cross = httpx.get(server.base_url + "/", headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    feed = httpx.get(server.base_url + "/sandbox/v1/dashboard/state",
                     headers={"Origin": "https://evil.example"})
    assert feed.status_code == 403
    page = httpx.get(server.base_url + "/")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_with_an_admin_token_the_page_asks_for_it_and_then_goes_live(
        page: Page, tmp_path: Path) -> None:
    token = "dashboard-test-token"
    data = tmp_path / "token"
    server = ServerProcess(data, args=("--clock", "manual", "--no-seed", "--admin-token",
                                       token), token=token).start()
    try:
        assert httpx.get(server.base_url + "/sandbox/v1/dashboard/state").status_code == 401
        page.goto(server.base_url + "/")
        expect(page.locator("#token-form")).to_be_visible()
        page.fill("#token", token)
        page.locator("#token-form button").click()
        expect(page.locator("#status")).to_have_text("live")
        expect(page.locator("#clock-mode")).to_have_text("manual")
        page.goto("about:blank")
    finally:
        server.stop()
