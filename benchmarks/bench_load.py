"""Load benchmark (a script, not a test): N simultaneous viewers against ONE real server.

    python benchmarks/bench_load.py [--viewers 20] [--seconds 60] [--rows N] [--think S]

Starts the dashboard as ``make run`` does (``python dashboard.py``, i.e. ``streamlit run``
with the st.navigation fix of ``dashboard.serve``) on 127.0.0.1 (port 8640–8649), headless,
public mode, on an empty temporary store, so it shows demo data (``--rows``: demo incidents,
default the app's default). Each viewer is a protocol-level client, not a browser: it opens
the websocket ``/_stcore/stream`` as the frontend does, sends the ``rerun_script`` BackMsg
for a page (its ``page_script_hash`` from the server's navigation message, the filters in
the query string) and times the request until the ``script_finished`` ForwardMsg. A page
counts as an error when the ForwardMsg stream holds an exception element or a "page not
found", when the page's own title is missing from its deltas (so the client provably ran
the page it asked for), on a disconnect or after ``--page-timeout`` seconds.

Phases, all in one run on the same server:
1. warm-up: one viewer opens every page with every filter variant once (cold caches are
   the pages benchmark's subject, bench_pages.py; this one measures per-session work);
2. single viewer: the same requests again, one at a time (the baseline of this run);
3. ``--viewers`` viewers at once for ``--seconds``, each cycling through the public pages
   and the presentation with varied filters, ``--think`` seconds between its pages
   (default 0: every viewer asks for its next page the moment one is done, the worst case).

Printed: per page p50/p95 server time (concurrent) and the single-viewer p50 with the ratio,
overall p50/p95, pages/s, the server's CPU time per page (from /proc; less noisy than wall
time on a shared machine), errors by kind, and the server's peak RSS (VmHWM). The server is
always stopped (its whole process group) when the script ends, also on Ctrl-C.

Goal (issue 14): 20 viewers, p95 <= 2 s on demo data.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent
PORTS = range(8640, 8650)  # this benchmark's block (docs: one block of ten per helper)
MAX_VIEWERS = 100
MAX_SECONDS = 600.0
START_TIMEOUT_S = 90.0
GOAL_P95_S = 2.0
T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """A page as a viewer opens it: url path, the text its deltas must contain, variants."""

    name: str
    url: str  # url path in dashboard.PAGES ("" = the default page; the presentation: unused)
    expect: str
    presentation: bool = False


PAGES = (
    Page("Lägesbild", "", "Lägesbild"),
    Page("Händelser", "handelser", "Händelser (EST)"),
    Page("Trygghet", "trygghet", "Trygghet"),
    Page("Trafik", "trafik", "Trafik"),
    Page("Unga", "unga", "Unga"),
    Page("Aktiviteter", "aktiviteter", "Aktiviteter"),
    Page("Jämförelse", "jamforelse", "Jämförelse"),
    Page("Om data", "om-data", "Om data"),
    Page("presentation", "", 'data-testid="presentation-slide-body"', presentation=True),
)


def filter_variants(today: date) -> list[dict[str, str]]:
    """Query strings (ui.filters / hjo_data.filters keys) a viewer varies between; the
    first is the default view (no filters), the one most visitors see."""
    year_ago, two_years = today - timedelta(days=365), today - timedelta(days=730)
    return [
        {},
        {"fran": year_ago.isoformat()},
        {"omrade": "Hjo centrum", "kategori": "klotter"},
        {"fran": two_years.isoformat(), "till": year_ago.isoformat(), "period": "Q"},
        {"omrade": "Hamnen,Stadsparken", "kalla": "polis", "period": "W"},
        {"fran": (today - timedelta(days=182)).isoformat(), "kategori": "skadegörelse"},
    ]


def query_for(page: Page, variant: int, variants: list[dict[str, str]]) -> str:
    if page.presentation:  # the deck ignores the filters; the start slide varies instead
        return urlencode({"presentation": "1", "slide": str(variant % 4 + 1)})
    return urlencode(variants[variant % len(variants)])


# --------------------------------------------------------------------------- server


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def proc_status(self, key: str) -> int:
        """A kB value of /proc/<pid>/status (VmRSS, VmHWM); 0 when gone."""
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return 0.0


@contextlib.contextmanager
def running_server(rows: int | None, port: int | None,
                   extra: tuple[str, ...] = ()) -> Iterator[Server]:
    """The dashboard on a free port of 8640–8649 (or ``port``) with an empty temporary
    store; stopped with its whole process group whatever happens."""
    candidates = [port] if port else [p for p in PORTS if _port_free(p)]
    if not candidates:
        raise RuntimeError("ingen ledig port i 8640–8649")
    port = candidates[0]
    tmp = Path(tempfile.mkdtemp(prefix="hjo_bench_load_"))
    (tmp / "store").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("HJO_MODE", "HJO_DEV_ROLE")}
    env.update({"HJO_DATA_DIR": str(tmp / "store"), "PYTHONUNBUFFERED": "1",
                "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"})
    if rows:
        env["HJO_DEMO_ROWS"] = str(rows)
    log = tmp / "streamlit.log"
    cmd = [sys.executable, str(ROOT / "dashboard.py"), "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *extra]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # own process group: killed whole
    server = Server(proc, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(server.url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("servern startade inte:\n"
                                   + log.read_text(errors="replace")[-3000:])
            time.sleep(0.2)
        yield server
    finally:
        _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# --------------------------------------------------------------------------- viewer


@dataclass
class Result:
    page: str
    seconds: float
    error: str = ""  # "" = ok; else the kind: exception, not-found, title, timeout, ...
    messages: int = 0  # ForwardMsgs of the run
    kb: float = 0.0  # their size on the wire (uncompressed)


@dataclass
class Viewer:
    """One browser tab's worth of protocol: a websocket session that opens pages."""

    url: str
    timeout: float
    ws: ClientConnection | None = None
    hashes: dict[str, str] = field(default_factory=dict)  # url path -> page_script_hash
    _count: list[int] = field(default_factory=lambda: [0, 0])  # messages, bytes this page

    async def open(self) -> None:
        host = self.url.removeprefix("http://")
        self.ws = await connect(f"ws://{host}/_stcore/stream", subprotocols=["streamlit"],
                                origin=self.url, max_size=None, open_timeout=self.timeout)

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
            self.ws = None

    async def visit(self, page: Page, query: str) -> Result:
        """Ask for ``page`` and wait for its script_finished; reconnects after an error."""
        t0 = time.perf_counter()
        self._count = [0, 0]
        try:
            if self.ws is None:
                await self.open()
            error = await asyncio.wait_for(self._run(page, query), self.timeout)
        except TimeoutError:
            error = "timeout"
        except (ConnectionClosed, OSError) as exc:
            error = f"disconnect ({type(exc).__name__})"
        if error:
            await self.close()  # a fresh session for the next page
        return Result(page.name, time.perf_counter() - t0, error, self._count[0],
                      self._count[1] / 1024)

    async def _run(self, page: Page, query: str) -> str:
        assert self.ws is not None
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = query
        if not page.presentation:
            known = self.hashes.get(page.url)
            if known:  # what the frontend sends on a menu click
                state.page_script_hash = known
            else:  # what it sends for a deep link
                state.page_name = page.url
        await self.ws.send(msg.SerializeToString())
        seen, errors, ran = False, [], None
        while True:
            raw = await self.ws.recv()
            self._count[0] += 1
            self._count[1] += len(raw)
            fwd = ForwardMsg.FromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "delta":
                if page.expect.encode() in raw:
                    seen = True
                if fwd.delta.new_element.WhichOneof("type") == "exception":
                    errors.append("exception")
            elif kind == "navigation":
                for app_page in fwd.navigation.app_pages:
                    self.hashes[app_page.url_pathname] = app_page.page_script_hash
                ran = fwd.navigation.page_script_hash
            elif kind == "page_not_found":
                errors.append("not-found")
            elif kind == "script_finished":
                status = fwd.script_finished
                if status in (ForwardMsg.FINISHED_EARLY_FOR_RERUN,
                              ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
                    continue  # not the run we asked for
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    errors.append("compile-error")
                break
        if not page.presentation and ran and self.hashes.get(page.url) not in (None, ran):
            errors.append("wrong-page")
        if not seen:
            errors.append("title")
        return ",".join(errors)


# --------------------------------------------------------------------------- phases


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` in a thread of its own: works also where the caller's thread already
    runs an event loop (e.g. pytest after Playwright's sync API)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


async def sequential(url: str, requests: list[tuple[Page, str]], timeout: float
                     ) -> list[Result]:
    viewer = Viewer(url, timeout)
    try:
        return [await viewer.visit(page, query) for page, query in requests]
    finally:
        await viewer.close()


async def concurrent(url: str, viewers: int, seconds: float, think: float, timeout: float,
                     variants: list[dict[str, str]], n_variants: int) -> list[Result]:
    deadline = time.monotonic() + seconds

    async def one(index: int) -> list[Result]:
        viewer, out, step = Viewer(url, timeout), [], 0
        await asyncio.sleep(0.05 * index)  # tabs are not opened in the same millisecond
        try:
            while time.monotonic() < deadline:
                page = PAGES[(index + step) % len(PAGES)]
                variant = (index + step // len(PAGES)) % n_variants
                out.append(await viewer.visit(page, query_for(page, variant, variants)))
                step += 1
                if think:
                    await asyncio.sleep(think)
        finally:
            await viewer.close()
        return out

    results = await asyncio.gather(*(one(i) for i in range(viewers)))
    return [r for per_viewer in results for r in per_viewer]


@dataclass
class Report:
    warmup: list[Result]
    single: list[Result]
    load: list[Result]
    load_wall: float
    cpu_single: float
    cpu_load: float
    rss_start_kb: int
    rss_peak_kb: int
    client_cpu: float

    @property
    def errors(self) -> list[Result]:
        return [r for r in (*self.warmup, *self.single, *self.load) if r.error]


def run(*, viewers: int = 20, seconds: float = 60.0, rows: int | None = None,
        think: float = 0.0, page_timeout: float = 60.0, n_variants: int = 4,
        port: int | None = None, extra: tuple[str, ...] = ()) -> Report:
    """Start the server, run the three phases, stop it; the raw results."""
    if not 1 <= viewers <= MAX_VIEWERS:
        raise ValueError(f"--viewers must be 1..{MAX_VIEWERS}")
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"--seconds must be in (0, {MAX_SECONDS:.0f}]")
    with running_server(rows, port, extra) as server:
        return measure(server, viewers=viewers, seconds=seconds, think=think,
                       page_timeout=page_timeout, n_variants=n_variants)


def measure(server: Server, *, viewers: int, seconds: float, think: float,
            page_timeout: float, n_variants: int) -> Report:
    """The three phases against a running server."""
    variants = filter_variants(date.today())
    n_variants = max(1, min(n_variants, len(variants)))
    requests = [(page, query_for(page, v, variants)) for v in range(n_variants)
                for page in PAGES]
    warm = run_async(sequential(server.url, requests, max(page_timeout, 300.0)))
    rss_start = server.proc_status("VmRSS")
    cpu0 = server.cpu_seconds()
    single = run_async(sequential(server.url, requests, page_timeout))
    cpu1 = server.cpu_seconds()
    client0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    load = run_async(concurrent(server.url, viewers, seconds, think, page_timeout,
                                  variants, n_variants))
    wall = time.perf_counter() - t0
    client1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu2 = server.cpu_seconds()
    return Report(warm, single, load, wall, cpu1 - cpu0, cpu2 - cpu1, rss_start,
                  server.proc_status("VmHWM"),
                  (client1.ru_utime + client1.ru_stime) - (client0.ru_utime + client0.ru_stime))


def _s(seconds: float) -> str:
    return "–" if math.isnan(seconds) else f"{seconds:.2f}s"


def _x(ratio: float) -> str:
    return "–" if math.isnan(ratio) else f"{ratio:.1f}×"


def render(report: Report, viewers: int, think: float) -> str:
    ok_load = [r for r in report.load if not r.error]
    ok_single = [r for r in report.single if not r.error]
    lines = [f"{'Sida':<14}{'n':>5}{'p50':>8}{'p95':>8}{'1 visare p50':>14}{'kvot':>7}"
             f"{'meddelanden':>13}{'KB':>8}"]
    for page in PAGES:
        mine = [r.seconds for r in ok_load if r.page == page.name]
        alone = [r for r in ok_single if r.page == page.name]
        base = statistics.median(r.seconds for r in alone) if alone else float("nan")
        p50 = percentile(mine, 50)
        lines.append(f"{page.name:<14}{len(mine):>5}{_s(p50):>8}{_s(percentile(mine, 95)):>8}"
                     f"{_s(base):>14}{_x(p50 / base):>7}"
                     f"{statistics.median(r.messages for r in alone) if alone else 0:>13.0f}"
                     f"{statistics.median(r.kb for r in alone) if alone else 0:>8.0f}")
    times = [r.seconds for r in ok_load]
    single_times = [r.seconds for r in ok_single]
    done = len(report.load)
    p95 = percentile(times, 95)
    goal = "ok" if p95 <= GOAL_P95_S else "ÖVER MÅL"
    kinds: dict[str, int] = {}
    for r in report.errors:
        for kind in r.error.split(","):
            kinds[kind] = kinds.get(kind, 0) + 1
    lines += [
        "",
        f"Samtidiga visare: {viewers} · betänketid {think:g} s · {report.load_wall:.1f} s",
        f"Alla sidor: p50 {percentile(times, 50):.2f} s · p95 {p95:.2f} s "
        f"(mål ≤ {GOAL_P95_S:g} s: {goal}) · {done / report.load_wall:.2f} sidor/s",
        f"En visare: p50 {percentile(single_times, 50):.2f} s · p95 "
        f"{percentile(single_times, 95):.2f} s · kvot p50 samtidig/ensam "
        f"{_x(percentile(times, 50) / percentile(single_times, 50))}",
        f"Serverns CPU per sida: {1000 * report.cpu_load / max(done, 1):.0f} ms samtidigt, "
        f"{1000 * report.cpu_single / max(len(report.single), 1):.0f} ms en visare "
        f"(lastklientens CPU {1000 * report.client_cpu / max(done, 1):.0f} ms per sida)",
        f"Serverns RSS: {report.rss_start_kb / 1024:.0f} MB efter uppvärmning, "
        f"topp {report.rss_peak_kb / 1024:.0f} MB",
        f"Fel: {len(report.errors)}"
        + (" (" + ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items())) + ")"
           if kinds else ""),
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="length of the concurrent phase")
    parser.add_argument("--rows", type=int, default=None, help="demo incidents")
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds a viewer waits between its pages")
    parser.add_argument("--page-timeout", type=float, default=60.0)
    parser.add_argument("--variants", type=int, default=4,
                        help="filter variants per page (1 = default view only)")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--server-option", action="append", default=[], metavar="NAME=VALUE",
                        help="a Streamlit option for the server (A/B runs), e.g. "
                             "runner.postScriptGC=true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = run(viewers=args.viewers, seconds=args.seconds, rows=args.rows,
                 think=args.think, page_timeout=args.page_timeout,
                 n_variants=args.variants, port=args.port,
                 extra=tuple(f"--{option}" for option in args.server_option))
    print(f"\nDemo-händelser: {args.rows or 'standard'} · {date.today().isoformat()} · "
          f"uppvärmning {sum(r.seconds for r in report.warmup):.1f} s")
    print(render(report, args.viewers, args.think))
    return 1 if report.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
