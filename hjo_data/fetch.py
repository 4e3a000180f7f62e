"""Fetch the open sources politely, keep every raw response, ingest it from the cache.

``python -m hjo_data fetch kolada|polisen [--since DATE]`` and ``refresh`` (every source in
``data/sources.toml``; ``--offline`` re-ingests the cache without the network):

* HTTP with urllib (no extra dependency): a timeout per request, retries with exponential
  back-off after network errors, 429 and 5xx (``Retry-After`` honoured, capped), a
  User-Agent naming the dashboard, its version and a contact from the configuration;
* Polisen: at most ``max_requests_per_hour`` requests in any hour (every attempt counts,
  also retries) and no fetch sooner than ``min_interval_minutes`` after the previous one;
* every response is written as it came to ``<store>/raw/<source>/<stamp>[-pN].json``
  before it is ingested, through the same ``ingest_file`` as any file (the format registry
  recognises it), so each stored figure traces back to a file and the cache can be
  re-ingested offline;
* one source failing never touches another: each gets its own :class:`SourceResult`
  (Swedish message, exit code) and one line in ``<store>/raw/fetch_log.jsonl``, which is
  also what the per-source status on Om data is computed from (:mod:`hjo_data.fetch_status`).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from hjo_data import __version__, jsonl, polisen
from hjo_data.errors import HjoDataError
from hjo_data.formatting import fmt_int, fmt_number
from hjo_data.ingest import IngestReport, ingest_file
from hjo_data.promise import Promise, load_promise_with_fallback
from hjo_data.rawtable import NO_LIMIT
from hjo_data.reference import REPO_ROOT, ReferenceDataError, reason_sv
from hjo_data.store import Store

__all__ = [
    "SOURCES",
    "FetchConfig",
    "FetchError",
    "Http",
    "SourceResult",
    "fetch_log_path",
    "fetch_source",
    "load_config",
    "raw_dir",
    "refresh",
    "reingest_cache",
    "user_agent",
]

SOURCES = ("kolada", "polisen")
SOURCE_LABELS = {"kolada": "Kolada", "polisen": "Polisen"}
DEFAULT_SOURCES_FILE = REPO_ROOT / "data" / "sources.toml"
RAW_DIR = "raw"
FETCH_LOG = "fetch_log.jsonl"
#: Largest response accepted (the feed is ~200 kB, a Kolada page far less).
MAX_RESPONSE_BYTES = 20 * 1024 * 1024
#: Kolada pages followed at most (a loop in next_page must end).
MAX_PAGES = 200
#: Longest wait between two attempts, whatever Retry-After says.
MAX_BACKOFF_SECONDS = 300.0
USER = "hämtning"

EXIT_OK, EXIT_REJECTED, EXIT_FAILED = 0, 1, 2
#: state -> (exit code, Swedish word); "too_soon" and "not_configured" are not failures: a
#: cron run inside the minimum interval must not raise an alarm.
STATES = {
    "ok": (EXIT_OK, "klar"),
    "rejected": (EXIT_REJECTED, "klar, med avvisade rader"),
    "failed": (EXIT_FAILED, "misslyckades"),
    "too_soon": (EXIT_OK, "för tidigt, hämtades inte"),
    "not_configured": (EXIT_OK, "inget att hämta"),
}


class FetchError(HjoDataError):
    """A source could not be fetched (Swedish message naming the source and the cause)."""


# ----------------------------------------------------------------------------- config

@dataclass(frozen=True)
class SourceConfig:
    url: str
    min_interval_minutes: float = 0.0
    max_requests_per_hour: int | None = None
    years: int = 6


@dataclass(frozen=True)
class FetchConfig:
    """``data/sources.toml`` ($HJO_SOURCES_FILE) as typed values."""

    contact: str
    sources: dict[str, SourceConfig]
    timeout: float = 20.0
    retries: int = 3
    backoff: float = 2.0


def sources_file() -> Path:
    env = os.environ.get("HJO_SOURCES_FILE", "").strip()
    return Path(env) if env else DEFAULT_SOURCES_FILE


def _number(table: dict[str, Any], key: str, default: float, where: str, name: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ReferenceDataError(f"{name}: {where} '{key}' måste vara ett tal ≥ 0.")
    return float(value)


def load_config(path: str | Path | None = None) -> FetchConfig:
    """Read the sources file; ReferenceDataError (Swedish, naming the file) when it is
    missing or broken. Only sources with a table in the file are configured."""
    file = Path(path) if path is not None else sources_file()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise ReferenceDataError(f"Källfilen {file.name} kunde inte läsas: {reason_sv(err)}."
                                 ) from err
    except tomllib.TOMLDecodeError as err:
        raise ReferenceDataError(f"Källfilen {file.name} är inte giltig TOML: {err}.") from err
    name = file.name
    fetch = data.get("fetch", {})
    contact = str(fetch.get("contact", "")).strip() if isinstance(fetch, dict) else ""
    if not contact:
        raise ReferenceDataError(f"{name}: [fetch] 'contact' saknas – ange en adress eller "
                                 "webbsida som källorna kan nå er på (står i User-Agent).")
    sources: dict[str, SourceConfig] = {}
    for source in SOURCES:
        table = data.get(source)
        if not isinstance(table, dict):
            continue
        url = str(table.get("url", "")).strip()
        if not url.startswith(("https://", "http://")):
            raise ReferenceDataError(f"{name}: [{source}] 'url' måste börja med https://.")
        per_hour = table.get("max_requests_per_hour")
        sources[source] = SourceConfig(
            url=url.rstrip("/") if source == "kolada" else url,
            min_interval_minutes=_number(table, "min_interval_minutes", 0, f"[{source}]", name),
            max_requests_per_hour=None if per_hour is None else
            int(_number(table, "max_requests_per_hour", 60, f"[{source}]", name)),
            years=int(_number(table, "years", 6, f"[{source}]", name)),
        )
    return FetchConfig(
        contact=contact, sources=sources,
        timeout=_number(fetch, "timeout_seconds", 20, "[fetch]", name) or 20.0,
        retries=int(_number(fetch, "retries", 3, "[fetch]", name)),
        backoff=_number(fetch, "backoff_seconds", 2, "[fetch]", name),
    )


def user_agent(config: FetchConfig) -> str:
    return f"Hjo-Trygghetsdashboard/{__version__} (+{config.contact})"


# ----------------------------------------------------------------------------- HTTP

#: ``opener(request, timeout=seconds)`` -> a response with ``read(n)`` (urllib's urlopen).
Opener = Callable[..., Any]


@dataclass
class Http:
    """GET JSON with timeout, retries and exponential back-off. ``opener`` and ``sleep``
    are injectable (tests: a loopback server, a sleep that records)."""

    config: FetchConfig
    opener: Opener = urllib.request.urlopen
    sleep: Callable[[float], None] = time.sleep
    #: Requests made (every attempt), for the politeness budget and the log.
    requests: int = 0

    def get_json(self, url: str, *, label: str,
                 allowed: Callable[[], bool] | None = None) -> tuple[bytes, Any]:
        """The body and its parsed JSON. ``allowed()`` is asked before every attempt (a
        request budget); FetchError when it says no, on 4xx, or after the last retry."""
        request = urllib.request.Request(url, headers={
            "User-Agent": user_agent(self.config), "Accept": "application/json"})
        attempts = self.config.retries + 1
        last = ""
        for attempt in range(attempts):
            if allowed is not None and not allowed():
                raise FetchError(f"{label}: gränsen för antal anrop per timme är nådd – "
                                 "försök igen senare.")
            self.requests += 1
            wait: float | None = None
            try:
                with self.opener(request, timeout=self.config.timeout) as response:
                    body = response.read(MAX_RESPONSE_BYTES + 1)
                if len(body) > MAX_RESPONSE_BYTES:
                    raise FetchError(f"{label}: svaret är större än "
                                     f"{MAX_RESPONSE_BYTES // (1024 * 1024)} MB.")
                return body, json.loads(body.decode("utf-8-sig"))
            except urllib.error.HTTPError as err:
                if err.code != 429 and not 500 <= err.code < 600:
                    raise FetchError(f"{label}: servern svarade HTTP {err.code} "
                                     f"({err.reason}).") from err
                last = f"HTTP {err.code}"
                wait = _retry_after(err.headers.get("Retry-After") if err.headers else None)
            except (urllib.error.URLError, ConnectionError, http.client.HTTPException,
                    OSError) as err:  # TimeoutError is an OSError; urllib wraps it in URLError
                reason = getattr(err, "reason", err)
                last = (f"inget svar inom {fmt_number(self.config.timeout)} s"
                        if isinstance(err, TimeoutError) or isinstance(reason, TimeoutError)
                        else f"nätverksfel ({reason})")
            except (UnicodeDecodeError, json.JSONDecodeError):
                last = "svaret är inte giltig JSON"
            if attempt + 1 < attempts:
                delay = self.config.backoff * (2 ** attempt)
                self.sleep(min(MAX_BACKOFF_SECONDS, max(delay, wait or 0.0)))
        raise FetchError(f"{label}: {last} efter {attempts} försök.")


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: the exponential back-off applies


# ----------------------------------------------------------------------------- results

@dataclass
class SourceResult:
    """What one source's fetch (or offline re-ingest) did."""

    source: str
    state: str
    message: str
    time: str = ""
    offline: bool = False
    requests: int = 0
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    skipped: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    unmapped: dict[str, int] = field(default_factory=dict)
    newest: str | None = None
    #: Every response: {"url", "sha256", "file"} (file = the cached copy).
    responses: list[dict[str, str]] = field(default_factory=list)
    #: Responses identical to the previous one for the same URL: not cached again, not
    #: ingested again (an hourly refresh without news adds no file and no ingest batch).
    unchanged: int = 0

    @property
    def exit_code(self) -> int:
        return STATES[self.state][0]

    def add(self, report: IngestReport) -> None:
        self.rows_read += report.rows_read
        self.accepted += report.accepted
        self.rejected += report.rejected
        self.duplicates += report.duplicates
        self.skipped += report.skipped
        for reason, n in report.skipped_reasons.items():
            self.skipped_reasons[reason] = self.skipped_reasons.get(reason, 0) + n

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "state": self.state, "status": STATES[self.state][1],
            "message": self.message, "time": self.time, "offline": self.offline,
            "requests": self.requests, "files": list(self.files),
            "rows_read": self.rows_read, "accepted": self.accepted,
            "rejected": self.rejected, "duplicates": self.duplicates,
            "skipped": self.skipped, "skipped_reasons": dict(self.skipped_reasons),
            "unmapped": dict(self.unmapped), "newest": self.newest,
            "responses": [dict(r) for r in self.responses], "unchanged": self.unchanged,
        }


def summary_text(result: SourceResult) -> str:
    """Swedish one-liner: 'Polisen: 3 nya, 7 dubbletter, 5 överhoppade (...)'."""
    label = SOURCE_LABELS.get(result.source, result.source)
    if result.state not in ("ok", "rejected"):  # FetchError messages name the source
        message = result.message
        return message if message.startswith(f"{label}:") else f"{label}: {message}"
    parts = [f"{fmt_int(result.accepted)} nya", f"{fmt_int(result.duplicates)} dubbletter"]
    if result.rejected:
        parts.append(f"{fmt_int(result.rejected)} avvisade")
    if result.skipped:
        reasons = ", ".join(f"{r} {fmt_int(n)}" for r, n in result.skipped_reasons.items())
        parts.append(f"{fmt_int(result.skipped)} överhoppade ({reasons})")
    if result.unchanged and not result.files:
        return f"{label}: {result.message} – oförändrat sedan förra hämtningen."
    text = f"{label}: {result.message} – " + ", ".join(parts) + "."
    if result.unmapped:
        text += " Okända händelsetyper (sparade som övrigt): " + ", ".join(
            sorted(result.unmapped)) + "."
    return text


# ----------------------------------------------------------------------------- cache + log

def raw_dir(store: Store, source: str) -> Path:
    return store.root / RAW_DIR / source


def fetch_log_path(store: Store) -> Path:
    return store.root / RAW_DIR / FETCH_LOG


def _stamp(now: datetime) -> str:
    return now.astimezone().strftime("%Y%m%dT%H%M%S")


def _cache(store: Store, source: str, stamp: str, page: int, body: bytes) -> Path:
    """Write one raw response atomically; never overwrites an earlier file."""
    folder = raw_dir(store, source)
    folder.mkdir(parents=True, exist_ok=True)
    base = stamp if page == 1 else f"{stamp}-p{page}"
    path, k = folder / f"{base}.json", 2
    while path.exists():
        path, k = folder / f"{base}-{k}.json", k + 1
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(body)
    os.replace(tmp, path)
    return path


def _previous_file(store: Store, source: str, url: str, sha: str) -> str | None:
    """The cached file of the last successful fetch of ``url`` when it had the same
    content (``sha``) and is still in the cache; else None."""
    for entry in reversed(log_entries(store)):
        if entry.get("source") != source or entry.get("offline") or \
                entry.get("state") not in ("ok", "rejected"):
            continue
        for response in reversed(entry.get("responses") or []):
            if isinstance(response, dict) and response.get("url") == url:
                file = str(response.get("file") or "")
                same = response.get("sha256") == sha and file
                return file if same and (raw_dir(store, source) / file).is_file() else None
    return None


def with_fetched_at(body: bytes, when: str) -> bytes:
    """A JSON object response with ``"fetched_at"`` added as its first key, bytes
    otherwise untouched (the Kolada reader stores it in ``statistik.fetched_at``)."""
    text = body.decode("utf-8-sig")
    start = text.index("{") + 1
    return (text[:start] + json.dumps({"fetched_at": when})[1:-1] + ", " + text[start:]
            ).encode("utf-8")


def _keep(store: Store, source: str, stamp: str, page: int, url: str, body: bytes,
          result: SourceResult) -> Path | None:
    """Cache a new response (returned, to be ingested); None when it is unchanged. The
    hash is the response's own; Kolada pages are cached with their fetch time added."""
    sha = hashlib.sha256(body).hexdigest()
    previous = _previous_file(store, source, url, sha)
    if previous is not None:
        result.unchanged += 1
        result.responses.append({"url": url, "sha256": sha, "file": previous})
        return None
    if source == "kolada":
        body = with_fetched_at(body, result.time)
    path = _cache(store, source, stamp, page, body)
    result.files.append(path.name)
    result.responses.append({"url": url, "sha256": sha, "file": path.name})
    return path


def _log(store: Store, result: SourceResult) -> None:
    jsonl.append(fetch_log_path(store), result.to_dict())


def log_entries(store: Store) -> list[dict[str, Any]]:
    return jsonl.read(fetch_log_path(store))


def _parse_time(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def _too_soon(store: Store, source: str, minutes: float, now: datetime) -> str | None:
    """Swedish refusal when the previous network fetch of ``source`` is too recent."""
    if minutes <= 0:
        return None
    for entry in reversed(log_entries(store)):
        if entry.get("source") != source or entry.get("offline") or not entry.get("requests"):
            continue
        last = _parse_time(entry.get("time"))
        if last is None:
            return None
        since = (now - last).total_seconds() / 60
        if since < minutes:
            wait = max(1, int(minutes - since + 0.999))
            return (f"hämtades senast för {fmt_int(int(since))} min sedan; minsta intervall är "
                    f"{fmt_int(int(minutes))} min – försök igen om {fmt_int(wait)} min.")
        return None
    return None


def _requests_last_hour(store: Store, source: str, now: datetime) -> int:
    hour_ago = now - timedelta(hours=1)
    total = 0
    for entry in log_entries(store):
        when = _parse_time(entry.get("time"))
        if entry.get("source") == source and when is not None and when > hour_ago:
            total += int(entry.get("requests") or 0)
    return total


def _ingest_cached(store: Store, path: Path, result: SourceResult) -> None:
    # Polisen edits its events (summary, type) under the same id: the newest version
    # replaces the stored row (the earlier one goes to history), never a conflict.
    report = ingest_file(path, store=store, user=USER, max_bytes=NO_LIMIT,
                         replace=result.source == "polisen")
    result.add(report)


# ----------------------------------------------------------------------------- sources

def _months(since: date, today: date) -> list[str]:
    months, year, month = [], since.year, since.month
    while (year, month) <= (today.year, today.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def polisen_urls(base: str, place: str, since: date | None, today: date) -> list[str]:
    """One request for the latest events of ``place``; with ``since`` one per month from
    that month on (the feed's DateTime filter takes a month, not a range)."""
    query = {"locationname": place}
    if since is None:
        return [f"{base}?{urllib.parse.urlencode(query)}"]
    return [f"{base}?{urllib.parse.urlencode({**query, 'DateTime': m})}"
            for m in _months(since, today)]


def _fetch_polisen(store: Store, config: FetchConfig, http_: Http, promise: Promise,
                   since: date | None, now: datetime, result: SourceResult) -> None:
    source = config.sources["polisen"]
    place = promise.municipality_short
    urls = polisen_urls(source.url, place, since, now.date())
    used = _requests_last_hour(store, "polisen", now) - http_.requests
    budget = source.max_requests_per_hour

    def allowed() -> bool:  # every attempt of this run counts, on top of the last hour's
        return budget is None or used + http_.requests < budget

    stamp = _stamp(now)
    for page, url in enumerate(urls, start=1):
        body, events = http_.get_json(url, label="Polisen", allowed=allowed)
        if not isinstance(events, list):
            raise FetchError("Polisen: svaret är inte en lista av händelser.")
        path = _keep(store, "polisen", stamp, page, url, body, result)
        if path is None or not events:
            continue
        feed = polisen.parse_feed(body, path.name)
        for kind, n in feed.unmapped.items():
            result.unmapped[kind] = result.unmapped.get(kind, 0) + n
        if feed.newest and (result.newest is None or feed.newest > result.newest):
            result.newest = feed.newest
        _ingest_cached(store, path, result)
    result.message = f"hämtade händelser för {place}"


def kolada_request(promise: Promise) -> tuple[list[str], list[str]]:
    """(KPI ids, geography codes) from the promise: its official indicators with source
    "kolada", compared over ``[comparison]`` (else the municipality alone)."""
    kpis = [ind.indicator_id for ind in promise.official_indicators()
            if ind.source.strip().lower() == "kolada"]
    comparison = getattr(promise, "comparison", None)
    geos = list(comparison.geo_codes) if comparison is not None else [promise.municipality_code]
    return list(dict.fromkeys(kpis)), geos


def kolada_url(base: str, kpis: Iterable[str], geos: Iterable[str], years: Iterable[int]
               ) -> str:
    def part(values: Iterable[object]) -> str:
        return ",".join(urllib.parse.quote(str(v), safe="") for v in values)

    return f"{base}/data/kpi/{part(kpis)}/municipality/{part(geos)}/year/{part(years)}"


def _next_page(base: str, current: str, next_page: object) -> str | None:
    """The next page's URL, only on the configured host (never another site)."""
    if not next_page:
        return None
    url = urllib.parse.urljoin(current, str(next_page))
    want, got = urllib.parse.urlsplit(base), urllib.parse.urlsplit(url)
    if (got.scheme, got.netloc) != (want.scheme, want.netloc):
        raise FetchError(f"Kolada: next_page pekar på en annan webbplats ({got.netloc}).")
    return url


def _fetch_kolada(store: Store, config: FetchConfig, http_: Http, promise: Promise,
                  since: date | None, now: datetime, result: SourceResult) -> None:
    source = config.sources["kolada"]
    kpis, geos = kolada_request(promise)
    if not kpis:
        result.state = "not_configured"
        result.message = ("medborgarlöftet har inga officiella indikatorer från Kolada "
                          "([[goals.official_indicators]] med source = \"kolada\").")
        return
    first = since.year if since is not None else now.year - source.years
    years = list(range(first, now.year + 1))
    url: str | None = kolada_url(source.url, kpis, geos, years)
    stamp = _stamp(now)
    pages: list[Path] = []
    seen: set[str] = set()
    while url is not None:
        if url in seen or len(seen) >= MAX_PAGES:
            raise FetchError("Kolada: sidorna tar inte slut (next_page upprepas).")
        seen.add(url)
        body, data = http_.get_json(url, label="Kolada")
        if not isinstance(data, dict) or not isinstance(data.get("values"), list):
            raise FetchError("Kolada: svaret saknar listan 'values'.")
        path = _keep(store, "kolada", stamp, len(seen), url, body, result)
        if path is not None and data["values"]:
            pages.append(path)
        url = _next_page(source.url, url, data.get("next_page"))
    # every page is cached before the first is ingested: a broken page leaves no half fetch
    for path in pages:
        _ingest_cached(store, path, result)
    result.message = (f"hämtade {len(kpis)} nyckeltal för {len(geos)} geografier, "
                      f"{years[0]}–{years[-1]}")


_FETCHERS = {"polisen": _fetch_polisen, "kolada": _fetch_kolada}


def fetch_source(source: str, *, store: Store | None = None, config: FetchConfig | None = None,
                 http_: Http | None = None, since: date | None = None,
                 now: datetime | None = None, promise: Promise | None = None) -> SourceResult:
    """Fetch, cache and ingest one source. Never raises: a failure is a result with
    state "failed" and a Swedish message (logged like every fetch)."""
    store = store if store is not None else Store()
    now = (now or datetime.now()).astimezone()
    result = SourceResult(source=source, state="ok", message="",
                          time=now.isoformat(timespec="seconds"))
    try:
        config = config if config is not None else load_config()
        if source not in config.sources:
            result.state = "not_configured"
            result.message = f"{source} finns inte i {sources_file().name}."
            return result
        refusal = _too_soon(store, source, config.sources[source].min_interval_minutes, now)
        if refusal is not None:
            result.state, result.message = "too_soon", refusal
            return result
        if promise is None:
            promise, problem = load_promise_with_fallback()
            if promise is None:
                raise FetchError(f"Medborgarlöftet kunde inte läsas: {problem}")
        http_ = http_ if http_ is not None else Http(config)
        start = http_.requests
        try:
            _FETCHERS[source](store, config, http_, promise, since, now, result)
        finally:
            result.requests = http_.requests - start
        if result.state == "ok" and result.rejected:
            result.state = "rejected"
    except (HjoDataError, OSError) as exc:
        result.state, result.message = "failed", str(exc)
    except Exception as exc:  # noqa: BLE001 - one source must never stop the others
        result.state = "failed"
        result.message = f"oväntat fel ({type(exc).__name__}: {exc})"
    if result.state != "too_soon":
        _log(store, result)
    return result


def reingest_cache(source: str, *, store: Store | None = None,
                   now: datetime | None = None) -> SourceResult:
    """Ingest every cached raw response of ``source`` again (no network): rows already
    stored count as duplicates, so this is safe to repeat."""
    store = store if store is not None else Store()
    now = (now or datetime.now()).astimezone()
    result = SourceResult(source=source, state="ok", message="", offline=True,
                          time=now.isoformat(timespec="seconds"))
    files = sorted(raw_dir(store, source).glob("*.json"))
    try:
        for path in files:
            body = path.read_bytes()
            data = json.loads(body.decode("utf-8-sig"))
            empty = not data if isinstance(data, list) else not (
                isinstance(data, dict) and data.get("values"))
            result.files.append(path.name)
            if empty:
                continue
            if source == "polisen":
                for kind, n in polisen.parse_feed(body, path.name).unmapped.items():
                    result.unmapped[kind] = result.unmapped.get(kind, 0) + n
            _ingest_cached(store, path, result)
        result.message = f"läste in {fmt_int(len(files))} sparade svar igen (utan nätverk)"
        if result.rejected:
            result.state = "rejected"
    except (HjoDataError, OSError, ValueError) as exc:
        result.state, result.message = "failed", f"{exc}"
    _log(store, result)
    return result


def refresh(*, store: Store | None = None, config: FetchConfig | None = None,
            http_: Http | None = None, offline: bool = False, now: datetime | None = None,
            promise: Promise | None = None) -> list[SourceResult]:
    """Every configured source, one after the other, each on its own."""
    store = store if store is not None else Store()
    if offline:
        names = config.sources if config is not None else SOURCES
        return [reingest_cache(s, store=store, now=now) for s in SOURCES if s in names]
    if config is None:
        try:
            config = load_config()
        except ReferenceDataError as exc:
            now_text = (now or datetime.now()).astimezone().isoformat(timespec="seconds")
            return [SourceResult(source=s, state="failed", message=str(exc), time=now_text)
                    for s in SOURCES]
    return [fetch_source(s, store=store, config=config, http_=http_, now=now, promise=promise)
            for s in SOURCES if s in config.sources]
