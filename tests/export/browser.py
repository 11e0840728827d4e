"""Drive Debian's headless Chromium with selenium: console and network logs included.

Shared by the page tests and ``benchmarks/bench_share.py``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

# The machine has no network: keep Chromium from trying (and from flooding the log).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
)


def missing() -> str | None:
    """Return why the browser tests cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    if not CHROMIUM or not CHROMEDRIVER:
        return "Debian's chromium and chromium-driver are not installed (bash .ci/setup)"
    return None


@contextmanager
def chromium(width: int = 1280, height: int = 800):
    """Yield a selenium driver of a fresh headless Chromium with its own profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="spine3d-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for f in FLAGS:
        opts.add_argument(f)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.add_argument(f"--window-size={width},{height}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    try:
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(60)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, path: Path, timeout_s: float = 60.0) -> None:
    """Open a local page and wait until its script says it is ready."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("performance")  # drop what the browser's own start-up page fetched
    driver.get(Path(path).resolve().as_uri())
    WebDriverWait(driver, timeout_s).until(
        lambda d: (
            d.execute_script("return !!(window.spine3d && window.spine3d.ready)")
            or d.execute_script(
                "return document.getElementById('loading') && "
                "document.getElementById('loading').textContent.startsWith('This page')"
            )
        )
    )


def requests(driver) -> list[str]:
    """Return the URL of every request made since the page was opened.

    From the DevTools network log; the browser's own pages (``chrome://``, e.g. the new
    tab page it starts with) are left out.
    """
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            params = msg["params"]
            own = (params["request"]["url"], params.get("documentURL", ""))
            if not any(u.startswith(("chrome://", "chrome-untrusted://")) for u in own):
                urls.append(params["request"]["url"])
    return urls


def console_errors(driver) -> list[str]:
    """Return the console messages of level SEVERE (errors)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
