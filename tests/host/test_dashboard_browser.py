"""The dashboard in a real browser: Debian's chromium, headless, driven through chromedriver.

Nothing is downloaded: the driver and browser are the system's (scripts/test installs them),
and Selenium Manager is told to stay offline. A screenshot of each state is kept under
test-artifacts/dashboard/ at the repository root.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from azurite import Azurite
from conftest import StartHost
from dashboard_helpers import RETIRED_REASON, Dashboard, request, start_dashboard

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PACKAGES = "chromium chromium-driver"  # Debian's; scripts/test installs them
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
)
LOAD = 15.0  # bounds the waits for the page to load and a queue invocation to end
SHOWN_WITHIN = 1.0  # the bound: an HTTP request is on the page within 1 s


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebDriver]:
    """A headless chromium with a fresh profile; skipped without it (failed in CI)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        message = f"{CHROMIUM} and {CHROMEDRIVER} are needed: apt-get install {PACKAGES}"
        if os.environ.get("CI", "").lower() in ("1", "true"):
            pytest.fail(message)
        pytest.skip(message)
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must not fetch a browser
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: WebDriver, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def wait_text(driver: WebDriver, selector: str, text: str, timeout: float) -> None:
    """Until an element matching ``selector`` holds ``text`` (in its DOM, shown or folded)."""
    script = (
        "return [...document.querySelectorAll(arguments[0])]"
        ".some(e => e.textContent.includes(arguments[1]))"
    )
    try:
        WebDriverWait(driver, timeout, poll_frequency=0.02).until(
            lambda d: d.execute_script(script, selector, text)
        )
    except TimeoutException:
        body = driver.find_element(By.TAG_NAME, "body").get_attribute("textContent")
        raise AssertionError(f"no {selector} with {text!r} in {timeout} s; page:\n{body}") from None


def row(driver: WebDriver, name: str) -> str:
    """A function's row as shown, read in one step (a row is redrawn when its data changes)."""
    script = "return document.querySelector(arguments[0]).innerText"
    return str(driver.execute_script(script, f'tr[data-function="{name}"]'))


def open_invocation(driver: WebDriver, function: str) -> str:
    """Unfold the newest invocation of ``function``; its visible text."""
    item = driver.find_element(By.CSS_SELECTOR, f'details.invocation[data-function="{function}"]')
    item.find_element(By.TAG_NAME, "summary").click()
    return str(item.text)


def load_page(browser: WebDriver, start_host: StartHost, azurite: Azurite) -> Dashboard:
    """The fixture app started, and its page loaded with every function listed."""
    dash = start_dashboard(start_host, azurite)
    browser.get(f"{dash.host.base_url}/admin/ui/")
    wait_text(browser, 'tr[data-function="work"] .details', dash.queue, LOAD)
    return dash


def test_the_page_lists_runs_and_shows_invocations(
    browser: WebDriver, start_host: StartHost, azurite: Azurite
) -> None:
    dash = load_page(browser, start_host, azurite)
    base = dash.host.base_url

    assert "httpTrigger" in row(browser, "hello")
    assert "route: hello" in row(browser, "hello")
    standup = row(browser, "standup")
    assert "timerTrigger" in standup and "0 30 9 * * Mon-Fri" in standup
    assert standup.count("next: ") == 3  # the next three occurrences, in the host's zone (UTC)
    assert "queueTrigger" in row(browser, "work")
    assert "connection: AzureWebJobsStorage" in row(browser, "work")
    wait_text(browser, 'tr[data-function="work"]', f"poison {dash.queue}-poison: 0", LOAD)
    retired = row(browser, "retired")
    assert "disabled" in retired and RETIRED_REASON in retired
    assert azurite.connection_string.split("AccountKey=")[1][:20] not in browser.page_source
    shot(browser, "1-functions")

    # An HTTP request made here, outside the page, shows up with its log line within 1 s.
    assert request(f"{base}/api/hello?name=selenium") == (200, "hello selenium")
    sent = time.monotonic()
    wait_text(browser, 'details.invocation[data-function="hello"]', "hi to selenium", SHOWN_WITHIN)
    assert time.monotonic() - sent <= SHOWN_WITHIN
    opened = open_invocation(browser, "hello")
    assert "Succeeded" in opened and "hello says hi to selenium" in opened
    shot(browser, "2-http-invocation")

    # The run button starts the queue function with a payload typed into the page.
    browser.find_element(By.CSS_SELECTOR, 'button.run[data-function="work"]').click()
    payload = browser.find_element(By.ID, "payload")
    payload.send_keys("typed in the page")
    browser.find_element(By.ID, "invoke-send").click()
    wait_text(browser, "#invoke-result", "202 Accepted", LOAD)
    work = 'details.invocation[data-function="work"]'
    wait_text(browser, work, "work got typed in the page", LOAD)
    shot(browser, "3-queue-invoked")

    # An HTTP function runs from the page too, and its answer is shown.
    browser.find_element(By.CSS_SELECTOR, 'button.run[data-function="hello"]').click()
    browser.find_element(By.ID, "payload").send_keys("from the page")
    browser.find_element(By.ID, "http-method").send_keys("POST")
    browser.find_element(By.ID, "invoke-send").click()
    wait_text(browser, "#invoke-result", "hello from the page", LOAD)
    assert browser.find_element(By.ID, "invoke-result").text.startswith("200 OK")
    shot(browser, "4-http-run")
    dash.host.drain(0)
    assert "work got typed in the page" in dash.host.output  # it ran in the host, not a mock


def test_failed_invocations_filter_and_show_their_exception(
    browser: WebDriver, start_host: StartHost, azurite: Azurite
) -> None:
    base = load_page(browser, start_host, azurite).host.base_url
    assert request(f"{base}/api/hello?name=boom")[0] == 500
    assert request(f"{base}/api/hello?name=fine")[0] == 200
    wait_text(browser, "details.invocation", "hi to fine", LOAD)
    browser.find_element(By.ID, "filter-outcome").send_keys("Failed")
    wait_text(browser, "#invocations", "boom was asked for", LOAD)
    items = browser.find_elements(By.CSS_SELECTOR, "details.invocation")
    assert len(items) == 1
    assert "ValueError: boom was asked for" in open_invocation(browser, "hello")
    shot(browser, "5-failed-filtered")


POST = """
const [url, input, mode, done] = arguments;
fetch(url, {method: "POST", mode, headers: {"Content-Type": "text/plain"},
            body: JSON.stringify({input})})
  .then(r => done(r.type + " " + r.status), e => done(String(e)));
"""


def test_a_page_of_another_origin_cannot_run_a_function(
    browser: WebDriver, start_host: StartHost, azurite: Azurite
) -> None:
    dash = start_dashboard(start_host, azurite)
    port = dash.host.port
    # http://localhost:<port> and http://127.0.0.1:<port> are two origins: a page of the
    # first (the app's hello, which has no CSP of the dashboard's) posts to the second as any
    # site could (text/plain, no preflight, the answer unread).
    browser.get(f"http://localhost:{port}/api/hello")
    assert "hello nobody" in browser.page_source
    other = f"http://127.0.0.1:{port}/admin/functions/work"
    assert browser.execute_async_script(POST, other, "from elsewhere", "no-cors") == "opaque 0"
    own = f"http://localhost:{port}/admin/functions/work"
    assert browser.execute_async_script(POST, own, "from home", "same-origin") == "basic 202"
    dash.host.wait_for("work got from home", LOAD)
    dash.host.drain()
    assert "from elsewhere" not in dash.host.output
    assert f"Origin 'http://localhost:{port}' is not this host's" in dash.host.output
