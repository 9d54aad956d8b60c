"""The dashboard end to end in headless Chromium (Debian's package), driven by Playwright: load,
navigate, click a finding, verify its proofs in the page, and see a tampered proof fail."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: `./dev test` installs it (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server + "/dashboard/")
    pg.wait_for_selector("body[data-ready='true']", timeout=30_000)
    yield pg
    ctx.close()
    assert not errors, errors


def test_load_navigate_click_a_finding_and_verify_it(page: Page, tmp_path: Path) -> None:
    # the checkpoint's Ed25519 signature, checked by the page with WebCrypto
    status = page.locator("#checkpoint-status")
    assert status.get_attribute("data-state") == "ok", status.text_content()
    rows = page.locator("#findings-table tbody tr")
    assert rows.count() > 20
    # the New START launcher limit under Russia's reading: 901 against 800
    row = page.locator("#findings-table tbody tr[data-obligation='launchers'][data-party='US']").filter(
        has_text="RU reading")
    row.click()
    assert "901" in page.locator("#detail-explanation").text_content()
    page.locator("#verify").click()
    result = page.locator("#verify-result")
    result.locator("xpath=self::*[@data-state!='pending']").wait_for(timeout=10_000)
    assert result.get_attribute("data-state") == "ok", result.text_content()
    assert "verified" in result.text_content()
    assert page.locator("#evidence .mark.compliant").count() == page.locator("#evidence li").count() > 0
    page.screenshot(path=str(tmp_path / "dashboard-findings.png"), full_page=True)
    # the other tabs
    page.locator("nav button[data-tab='map']").click()
    assert page.locator("#map-svg circle").count() >= 20
    page.locator("#map-svg circle[data-site='deveselu']").click(force=True)
    assert "Deveselu" in page.locator("#site-info").text_content()
    page.locator("nav button[data-tab='timeline']").click()
    assert page.locator("#timeline-table tbody tr").count() >= 20
    page.locator("nav button[data-tab='analysis']").click()
    assert page.locator("#plots img").count() >= 1
    page.locator("nav button[data-tab='negotiation']").click()
    assert page.locator("#impact-table tbody tr[data-proposal='ru-nato-agreement-draft']").count() >= 2
    assert "posture-of-27-may-1997" in page.locator("#impact-table").text_content()
    page.screenshot(path=str(tmp_path / "dashboard-map.png"))


def test_a_tampered_proof_fails_in_the_page(page: Page, server: str) -> None:
    """If the server lied (a finding citing an entry with a wrong proof), the page says so."""
    def tamper(route: Route) -> None:
        resp = route.fetch()
        data = resp.json()
        for f in data["findings"]:
            for e in f["evidence"]:
                e["leaf_hash"] = "A" * 43 + "="
        route.fulfill(response=resp, json=data)

    page.route("**/api/findings*", tamper)
    with page.expect_response("**/api/findings*", timeout=60_000):  # the tampered findings, not the first
        page.locator("#at-form button").click()
    page.wait_for_timeout(500)
    page.locator("#findings-table tbody tr[data-obligation='launchers']").first.click()
    page.locator("#verify").click()
    result = page.locator("#verify-result")
    result.locator("xpath=self::*[@data-state!='pending']").wait_for(timeout=10_000)
    assert result.get_attribute("data-state") == "failed"
    assert page.locator("#evidence .mark.violation").count() > 0


def test_the_page_loads_nothing_from_elsewhere(browser: Browser, server: str) -> None:
    ctx = browser.new_context()
    pg = ctx.new_page()
    hosts: set[str] = set()
    pg.on("request", lambda r: hosts.add(r.url.split("/")[2]))
    pg.goto(server + "/dashboard/")
    pg.wait_for_selector("body[data-ready='true']", timeout=30_000)
    ctx.close()
    assert hosts == {server.split("/")[2]}
