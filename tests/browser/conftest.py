"""Fixtures of the real-browser tests: a `streamlit run dashboard.py` server on demo data and
Debian's chromium driven by Playwright.

* Chromium is ALWAYS ``/usr/bin/chromium`` (``make test`` installs it via apt); Playwright's
  own browser downloads are never used. Without it every browser test is skipped with a
  clear reason — CI installs it, so there they run.
* The server runs on a free port with ``HJO_DATA_DIR`` pointing at an empty temporary store
  (so it shows demo data), in public mode, headless, without usage statistics.
* Screenshots go to ``test-artifacts/`` (git-ignored) at the repository root.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"
#: Demo size of the test server (small: faster start, same pages).
SERVER_DEMO_ROWS = 3_000
SERVER_START_TIMEOUT_S = 60.0
#: Generous bound for one Streamlit rerun to finish rendering in the browser.
RENDER_TIMEOUT_MS = 90_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in tests/browser is a browser test (``-m "not browser"`` skips them all),
    also in files that forget ``pytestmark``."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _require_chromium() -> None:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip("Debian chromium saknas (/usr/bin/chromium): installera med "
                    "`make browser` (apt-get install chromium) för att köra webbläsartesterna")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200 and resp.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@contextlib.contextmanager
def running_dashboard(tmp: Path, *, extra_args: tuple[str, ...] = (),
                      drop_env: tuple[str, ...] = ()) -> Iterator[str]:
    """Start the dashboard as `make run` does (`python dashboard.py ...`) on a free port with
    an empty store under ``tmp`` (so demo data), public mode; yield its base URL."""
    store = tmp / "store"
    store.mkdir(exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("HJO_MODE", "HJO_DEV_ROLE", *drop_env)}
    env.update({
        "HJO_DATA_DIR": str(store),
        "HJO_DEMO_ROWS": str(SERVER_DEMO_ROWS),
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        "PYTHONUNBUFFERED": "1",
    })
    log_path = tmp / "streamlit.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed in the finally below
    cmd = [sys.executable, str(ROOT / "dashboard.py"),
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", *extra_args]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _healthy(url):
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited ({proc.returncode}):\n"
                                   f"{log_path.read_text(errors='replace')[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer /_stcore/health within "
                                   f"{SERVER_START_TIMEOUT_S:.0f} s:\n"
                                   f"{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def dashboard_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a running dashboard (demo data, public mode); stopped after the session."""
    _require_chromium()
    with running_dashboard(tmp_path_factory.mktemp("browser_server")) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's chromium, headless, with the offline-friendly flags."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                      headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def record_problems(page: object, dashboard_url: str) -> object:
    """Collect the page's script errors in ``page.page_errors`` and every request that
    leaves the dashboard (it must work offline) in ``page.external_requests``."""
    errors: list[str] = []
    external: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))  # type: ignore[attr-defined]
    page.on("request", lambda req: None if req.url.startswith(  # type: ignore[attr-defined]
        (dashboard_url, "data:", "blob:", "about:")) else external.append(req.url))
    page.page_errors = errors  # type: ignore[attr-defined]
    page.external_requests = external  # type: ignore[attr-defined]
    return page


@pytest.fixture(scope="session")
def watched(dashboard_url: str):
    """``watched(page)``: the page with :func:`record_problems` attached."""
    return lambda page: record_problems(page, dashboard_url)


@pytest.fixture(scope="session")
def wait_for_app():
    """``wait_for_app(page, text=...)``: see :func:`wait_until_rendered`."""
    return wait_until_rendered


def wait_until_rendered(page: object, *, text: str | None = None,
                        timeout_ms: int = RENDER_TIMEOUT_MS) -> None:
    """Wait until Streamlit has rendered: the app root is there, the script is no longer
    running (status widget), and ``text`` (when given) is visible."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)  # type: ignore[attr-defined]
    if text is not None:
        page.get_by_text(text, exact=False).first.wait_for(  # type: ignore[attr-defined]
            state="visible", timeout=timeout_ms)
    # While a script runs, Streamlit marks the app as running (data-test-script-state) and
    # shows the running indicator in the status widget. Lazily loaded elements show a
    # skeleton until their code has loaded; plotly charts are drawn into .main-svg.
    page.wait_for_function(  # type: ignore[attr-defined]
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            const state = app && app.getAttribute('data-test-script-state');
            if (state === 'running' || state === 'initial') return false;
            if (document.querySelector(
                '[data-testid="stStatusWidget"] [data-testid="stStatusWidgetRunningIcon"]'))
                return false;
            if (document.querySelector('[data-testid="stSkeleton"]')) return false;
            for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
                if (!chart.querySelector('.main-svg')) return false;
            }
            return true;
        }""", timeout=timeout_ms)
