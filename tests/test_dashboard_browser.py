"""`decai dashboard` in a real browser: the page served on a free local port, driven in
headless Chromium (Debian's `chromium`, through Playwright) as a user would.

No test here skips: without a Chromium to start, each fails and says why. Screenshots go
to test-artifacts/ (or $DECAI_TEST_ARTIFACTS).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sim import cli

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("DECAI_TEST_ARTIFACTS", ROOT / "test-artifacts"))
CHROMIUM_FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--no-first-run",
    # Nothing but the page: this machine's closed network refuses everything else.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START_SECONDS = 180
"""How long the server may take to answer (imports, and the page's files fetched once)."""
WAIT_MS = 60_000
"""How long the page may take to show what a click asks for."""


def chromium_path() -> str:
    path = os.environ.get("DECAI_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail(
            "no Chromium to drive: install Debian's chromium (apt-get install chromium; "
            ".ci/run does) or set DECAI_CHROMIUM to a Chromium executable"
        )
    return path


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import Error, sync_playwright

    path = chromium_path()
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        except Error as error:
            pytest.fail(f"Chromium at {path} does not start: {error}")
        yield launched
        launched.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_dashboard(*args: str) -> tuple[subprocess.Popen, str]:
    """`decai dashboard ARGS` on a free port, once it answers: (process, its address)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "dashboard", *args, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"decai dashboard exited {server.returncode}: {server.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return server, url
        except OSError:
            time.sleep(0.5)
    server.kill()
    pytest.fail(f"decai dashboard did not answer on {url} in {START_SECONDS} s")


@pytest.fixture
def dashboard():
    """Start servers with `dashboard(*args)`; each is stopped (Ctrl-C) after the test."""
    servers = []

    def start(*args: str) -> str:
        server, url = start_dashboard(*args)
        servers.append(server)
        return url

    yield start
    for server in servers:  # Ctrl-C stops it, cleanly
        server.send_signal(signal.SIGINT)
        try:
            output, _ = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            pytest.fail("decai dashboard did not stop on Ctrl-C in 20 s")
        assert server.returncode == 0, output
        assert output.rstrip().endswith("decai dashboard: stopped")
        assert "Traceback" not in output


def step_to_day(page, day: int) -> None:
    page.get_by_role("button", name="Step").click()
    page.get_by_text(f"Day {day}.00").wait_for(timeout=WAIT_MS)


def reset_until(page, running: str, tries: int = 3) -> None:
    """Press Reset until the page runs what `running` says. A slider's new value reaches the
    server a moment after the browser shows it, so a Reset pressed at once may still build
    the run from the old value; pressing it again then gives the new one."""
    from playwright.sync_api import TimeoutError

    for _ in range(tries):
        page.get_by_role("button", name="Reset").click()
        try:
            page.get_by_text(running).wait_for(timeout=10_000)
        except TimeoutError:
            continue
        page.get_by_text("Day 0.00 of 42").wait_for(timeout=WAIT_MS)
        return
    pytest.fail(f"after {tries} Resets the page does not run {running!r}")


def kinds_in_table(page) -> list[str]:
    rows = page.locator(".agent-table tbody tr")
    return [rows.nth(i).locator("td").nth(2).inner_text() for i in range(rows.count())]


def test_live_page_steps_the_model_and_applies_the_attack_rate(browser, dashboard):
    url = dashboard("experiments/default.toml")
    page = browser.new_page(viewport={"width": 1500, "height": 1200})
    page.goto(url)
    page.get_by_text("Day 0.00 of 42").wait_for(timeout=WAIT_MS)
    chart = page.locator(".accuracy-chart img")
    table = page.locator(".agent-table")
    empty_chart, first_table = chart.screenshot(), table.inner_text()
    assert kinds_in_table(page) == ["honest"] * 4 + ["adversarial"]

    step_to_day(page, 1)
    step_to_day(page, 2)
    chart_a, table_a = chart.screenshot(), table.inner_text()
    assert chart_a != empty_chart  # the accuracy line is drawn
    assert table_a != first_table  # balances and counts moved

    attack = page.locator(".v-input", has_text="attack rate").locator("[role=slider]")
    assert float(attack.get_attribute("aria-valuenow")) == pytest.approx(0.2)
    attack.focus()
    for _ in range(4):  # 0.05 a press
        page.keyboard.press("ArrowRight")
    assert float(attack.get_attribute("aria-valuenow")) == pytest.approx(0.4)
    reset_until(page, "3 honest, 2 adversarial")
    assert kinds_in_table(page) == ["honest"] * 3 + ["adversarial"] * 2

    step_to_day(page, 1)
    step_to_day(page, 2)
    assert chart.screenshot() != chart_a  # another run: two attackers of five
    assert table.inner_text() != table_a
    for day in range(3, 7):  # a longer stretch of it for the screenshot (the README's)
        step_to_day(page, day)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "dashboard.png", full_page=True)


def test_results_page_shows_each_sweep_points_plots_and_summary(
    browser, dashboard, tmp_path, config_file
):
    assert cli.main(["run", str(config_file), "--out", str(tmp_path), "--quiet"]) == 0
    (folder,) = (tmp_path / "small").iterdir()
    url = dashboard("--results", str(folder))
    page = browser.new_page(viewport={"width": 1500, "height": 1200})
    page.goto(url)
    first = "point 0: mechanism.refund_window_days=0.5"
    page.locator("h3", has_text=first).wait_for(timeout=WAIT_MS)
    assert page.locator("img").count() >= 2  # its headline plot, and the sweep's own plots
    summary = page.locator(".v-data-table, table").first.inner_text()

    page.locator(".v-select", has_text="sweep point").click()
    page.get_by_role("option", name="point 1: mechanism.refund_window_days=1").click()
    page.locator("h3", has_text="point 1: mechanism.refund_window_days=1").wait_for(timeout=WAIT_MS)
    assert page.locator(".v-data-table, table").first.inner_text() != summary
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "dashboard_results.png", full_page=True)
