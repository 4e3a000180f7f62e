"""The calendar: the ONE home of period logic (nothing else computes a period).

Granularities: ``W`` (ISO week, Monday to Sunday, labelled with its ISO year), ``M``
(calendar month), ``Q`` (calendar quarter), ``Y`` (calendar year). Every period is the
half-open day range ``[start, end)``; ``end`` is the start of the next period.

Complete vs partial: a period is *complete* when the data cover all of its days, i.e. its
last day is on or before the reference day (and, when the data start inside it, its first
day is on or after the first covered day). A partial period is drawn distinctly in charts
("ofullständig, t.o.m. <datum>") and never enters a change test or a rate.

The reference day (``reference_day``) is the last day the data cover: the latest date in
the data, never after today, and never after the end of the selected period (a filter's
``end``). Without data it is today (clipped by the filter end). Every "latest complete
period" is taken on the reference day, so it is complete *in the data*, not just on the
calendar.

Report period codes (``2024``, ``2024-Q2``, ``2024-05``, ``2024-W18``) are parsed by
``parse_period`` into a ``ReportPeriod`` and produced by ``period_code``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from hjo_data.errors import HjoDataError
from hjo_data.formatting import (
    SWEDISH_MONTHS_SHORT,
    fmt_date,
    fmt_month,
    fmt_quarter,
    fmt_week,
)

Granularity = Literal["W", "M", "Q", "Y"]
GRANULARITIES: tuple[str, ...] = ("W", "M", "Q", "Y")
#: Selectbox labels ("Tidsindelning").
GRANULARITY_LABELS: dict[str, str] = {"W": "Vecka", "M": "Månad", "Q": "Kvartal", "Y": "År"}
#: Unit words in running text ("händelser per månad").
UNIT_WORDS: dict[str, str] = {"W": "vecka", "M": "månad", "Q": "kvartal", "Y": "år"}
_MONTHS = {"M": 1, "Q": 3, "Y": 12}

#: Label of a partial period in charts (followed by the reference day).
PARTIAL_SV = "ofullständig"


def check_granularity(gran: str) -> Granularity:
    """``gran`` itself when it is W, M, Q or Y; ValueError (Swedish) otherwise."""
    if gran not in GRANULARITIES:
        raise ValueError(f"okänd periodlängd {gran!r}; använd W, M, Q eller Y")
    return gran  # type: ignore[return-value]


def to_date(value: Any) -> date:
    """A calendar day from a date, datetime, Timestamp, numpy datetime64 or ISO string."""
    if isinstance(value, datetime):  # includes pd.Timestamp
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()


# --------------------------------------------------------------------------- scalar calendar


def period_start(value: Any, gran: str) -> date:
    """First day of the W/M/Q/Y period holding ``value`` (ISO weeks start on Monday)."""
    check_granularity(gran)
    d = to_date(value)
    if gran == "W":
        return d - timedelta(days=d.weekday())
    if gran == "M":
        return d.replace(day=1)
    if gran == "Q":
        return d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)
    return d.replace(month=1, day=1)


def shift(value: Any, gran: str, n: int) -> date:
    """Start of the period ``n`` periods after the one holding ``value`` (n < 0: before)."""
    start = period_start(value, gran)
    if gran == "W":
        return start + timedelta(days=7 * n)
    months = start.year * 12 + start.month - 1 + n * _MONTHS[gran]
    return date(months // 12, months % 12 + 1, 1)


def next_start(value: Any, gran: str) -> date:
    """First day of the period after the one holding ``value`` (= its exclusive end)."""
    return shift(value, gran, 1)


def previous_start(value: Any, gran: str) -> date:
    """First day of the period before the one holding ``value``."""
    return shift(value, gran, -1)


def period_bounds(value: Any, gran: str) -> tuple[date, date]:
    """``[start, end)`` of the period holding ``value``."""
    return period_start(value, gran), next_start(value, gran)


def last_day(value: Any, gran: str) -> date:
    """Last day (inclusive) of the period holding ``value``."""
    return next_start(value, gran) - timedelta(days=1)


def period_label(value: Any, gran: str) -> str:
    """Swedish label of the period holding ``value``: "v. 18 2024" (ISO week and ISO
    year), "maj 2024", "K2 2024", "2024"."""
    start = period_start(value, gran)
    if gran == "W":
        return fmt_week(start, with_year=True)
    if gran == "M":
        return fmt_month(start)
    if gran == "Q":
        return fmt_quarter(start)
    return str(start.year)


def tick_label(value: Any, gran: str) -> str:
    """Short Swedish axis label: "v. 18 2024", "jan 2024" (short month name), "K2 2024",
    "2024"."""
    start = period_start(value, gran)
    if gran == "M":
        return f"{SWEDISH_MONTHS_SHORT[start.month - 1]} {start.year}"
    return period_label(start, gran)


def period_range(first: Any, last: Any, gran: str) -> pd.DatetimeIndex:
    """Starts (datetime64[us], midnight) of every period from the one holding ``first``
    to the one holding ``last``, both included (empty when ``last`` is earlier)."""
    a, b = period_start(first, gran), period_start(last, gran)
    if b < a:
        return pd.DatetimeIndex([], dtype="datetime64[us]")
    if gran == "W":
        n = (b - a).days // 7 + 1
        days = np.datetime64(a, "D") + np.arange(n) * 7
    else:
        m0 = (a.year - 1970) * 12 + a.month - 1
        m1 = (b.year - 1970) * 12 + b.month - 1
        days = np.arange(m0, m1 + 1, _MONTHS[gran]).astype("datetime64[M]")
    return pd.DatetimeIndex(days.astype("datetime64[us]"))


def periods_back(value: Any, gran: str, count: int) -> list[date]:
    """Starts of the ``count`` periods up to and including the one holding ``value``,
    oldest first."""
    return [shift(value, gran, -i) for i in range(count - 1, -1, -1)]


# --------------------------------------------------------------------------- vectorised


def period_starts(times: pd.Series, gran: str) -> pd.Series:
    """Vectorised ``period_start`` of a datetime Series (datetime64[us], NaT stays NaT)."""
    check_granularity(gran)
    values = pd.to_datetime(times).to_numpy(dtype="datetime64[ns]")
    day = values.astype("datetime64[D]")
    if gran == "W":
        # 1970-01-01 was a Thursday: (days + 3) % 7 is the weekday, Monday = 0.
        weekday = (day.astype("int64") + 3) % 7
        out = day - weekday.astype("timedelta64[D]")
    elif gran == "Y":
        out = day.astype("datetime64[Y]")
    else:
        months = day.astype("datetime64[M]")
        if gran == "Q":
            index = months.astype("int64")  # months since 1970-01
            months = (index - index % 3).astype("datetime64[M]")
        out = months
    out = out.astype("datetime64[us]")
    out[np.isnat(day)] = np.datetime64("NaT")
    index = times.index if isinstance(times, pd.Series) else None
    return pd.Series(out, index=index)


def year_ago_keys(starts: pd.Series, gran: str) -> tuple[np.ndarray, np.ndarray]:
    """(key of each period, key of the same period a year earlier) for matching a period
    with its counterpart last year: W = ISO year * 100 + ISO week (the same week number in
    the previous ISO year), M/Q/Y = year * 100 + month of the period start."""
    check_granularity(gran)
    ts = pd.to_datetime(starts)
    if gran == "W":
        iso = ts.dt.isocalendar()
        year, num = iso["year"].astype("int64"), iso["week"].astype("int64")
    else:
        year, num = ts.dt.year.astype("int64"), ts.dt.month.astype("int64")
    return (year * 100 + num).to_numpy(), ((year - 1) * 100 + num).to_numpy()


# --------------------------------------------------------------------------- complete / partial


def latest_complete_period(as_of: Any, gran: str) -> tuple[date, date]:
    """``[start, end)`` of the last period that is complete on ``as_of`` (an inclusive
    day: the data cover it). On Sunday 2024-05-05 that is v. 18 (ending that day); on
    Saturday 2024-05-04 it is v. 17."""
    day = to_date(as_of)
    end = period_start(day + timedelta(days=1), gran)
    return previous_start(end, gran), end


def is_complete(start: Any, gran: str, data_until: Any,
                data_from: Any = None) -> bool:
    """Do the data (covering ``data_from``..``data_until``, inclusive) cover every day of
    the period holding ``start``? ``data_from`` None: from the beginning of time."""
    begin, end = period_bounds(start, gran)
    if end - timedelta(days=1) > to_date(data_until):
        return False
    return data_from is None or begin >= to_date(data_from)


def partial_mask(starts: Any, gran: str, data_until: Any, data_from: Any = None
                 ) -> np.ndarray:
    """Vectorised ``not is_complete``: True for each period start whose period is not fully
    covered by the data ``data_from``..``data_until`` (inclusive days)."""
    begin = period_starts(pd.Series(pd.to_datetime(np.asarray(starts))), gran)
    end = _ends(begin, gran)
    until = np.datetime64(to_date(data_until), "us")
    mask = (end.to_numpy() - np.timedelta64(1, "D")) > until
    if data_from is not None:
        mask |= begin.to_numpy() < np.datetime64(to_date(data_from), "us")
    return np.asarray(mask, dtype=bool)


def _ends(begin: pd.Series, gran: str) -> pd.Series:
    if gran == "W":
        return begin + pd.Timedelta(days=7)
    months = begin.to_numpy().astype("datetime64[M]") + np.timedelta64(_MONTHS[gran], "M")
    return pd.Series(months.astype("datetime64[us]"), index=begin.index)


def partial_text(data_until: Any) -> str:
    """Chart label of a partial period: "ofullständig, t.o.m. 2026-12-03" (just
    "ofullständig" without a date)."""
    if data_until is None:
        return PARTIAL_SV
    return f"{PARTIAL_SV}, t.o.m. {fmt_date(to_date(data_until))}"


# --------------------------------------------------------------------------- reference day


def last_data_day(frames: Mapping[str, pd.DataFrame] | None, dataset: str = "incidents",
                  column: str | None = None) -> date | None:
    """Latest day in ``frames[dataset]`` (its time column; default ``occurred_at`` for
    incidents, else ``date``), None when there is none."""
    frame = (frames or {}).get(dataset)
    col = column or ("occurred_at" if dataset == "incidents" else "date")
    if frame is None or frame.empty or col not in frame.columns:
        return None
    last = pd.to_datetime(frame[col], errors="coerce").max()
    return None if pd.isna(last) else pd.Timestamp(last).date()


def reference_day(data_until: date | Iterable[date | None] | None, *,
                  today: date | None = None, end: date | None = None) -> date:
    """The reference day: the last day the data cover (``data_until``; several datasets'
    dates: the earliest, the day ALL of them cover), never after ``today`` (default: the
    real date) and never after the selection's ``end`` (a filter's inclusive end date).
    Without data: today, clipped by ``end``."""
    day = today or date.today()
    dates = ([data_until] if data_until is None or isinstance(data_until, date)
             else list(data_until))
    known = [to_date(d) for d in dates if d is not None]
    if known:
        day = min(day, *known)
    if end is not None:
        day = min(day, to_date(end))
    return day


# --------------------------------------------------------------------------- named periods

#: Presentation config period keys -> granularity ("YTD": the calendar year so far).
NAMED_PERIODS: dict[str, str] = {
    "latest_week": "W",
    "latest_month": "M",
    "latest_quarter": "Q",
    "latest_year": "Y",
    "year_to_date": "YTD",
}


def named_period(key: str, as_of: date) -> tuple[date, date, str]:
    """``[start, end)`` and Swedish label of a config period on the reference day: the
    latest complete W/M/Q/Y period, or the calendar year up to and including ``as_of``."""
    gran = NAMED_PERIODS[key]
    if gran == "YTD":
        start = date(as_of.year, 1, 1)
        return start, as_of + timedelta(days=1), f"{as_of.year} t.o.m. {fmt_date(as_of)}"
    start, end = latest_complete_period(as_of, gran)
    return start, end, period_label(start, gran)


# --------------------------------------------------------------------------- report periods


class PeriodError(HjoDataError):
    """A report period that cannot be parsed (Swedish message)."""


@dataclass(frozen=True)
class ReportPeriod:
    """A calendar period: ``[start, end)``; granularity W, M, Q or Y."""

    granularity: str
    start: date
    end: date

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        """Swedish label: "v. 18 2024", "maj 2024", "K2 2024", "2024"."""
        return period_label(self.start, self.granularity)

    @property
    def span(self) -> str:
        return f"{self.start.isoformat()} – {self.last_day.isoformat()}"

    @property
    def slug(self) -> str:
        """File-name friendly form: 2024, 2024-K2, 2024-05, 2024-v18."""
        if self.granularity == "W":
            year, week, _ = self.start.isocalendar()
            return f"{year}-v{week:02d}"
        if self.granularity == "M":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.granularity == "Q":
            return f"{self.start.year}-K{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    @property
    def code(self) -> str:
        return period_code(self.start, self.granularity)

    def is_complete(self, data_until: date) -> bool:
        return is_complete(self.start, self.granularity, data_until)

    def window_start(self, count: int) -> date:
        """Start of the ``count`` periods ending with this one (a trend window)."""
        return shift(self.start, self.granularity, 1 - count)


_PERIOD_FORMS = (
    ("Y", re.compile(r"(?P<y>\d{4})")),
    ("Q", re.compile(r"(?P<y>\d{4})-?[QK](?P<n>[1-4])", re.IGNORECASE)),
    ("M", re.compile(r"(?P<y>\d{4})-(?P<n>\d{2})")),
    ("W", re.compile(r"(?P<y>\d{4})-?[WV](?P<n>\d{1,2})", re.IGNORECASE)),
)
PERIOD_HELP_SV = ("Ange år (2024), kvartal (2024-Q2 eller 2024K2), månad (2024-05) eller "
                  "vecka (2024-W18 eller 2024v18).")


def parse_period(text: str) -> ReportPeriod:
    """Parse 2024, 2024-Q2 / 2024K2, 2024-05, 2024-W18 / 2024v18 (ISO weeks), strictly."""
    raw = str(text).strip()
    for gran, pattern in _PERIOD_FORMS:
        m = pattern.fullmatch(raw)
        if m is None:
            continue
        year = int(m.group("y"))
        if not 1900 <= year <= 2999:
            break
        n = int(m.group("n")) if gran != "Y" else 0
        try:
            if gran == "Y":
                start = date(year, 1, 1)
            elif gran == "Q":
                start = date(year, 3 * (n - 1) + 1, 1)
            elif gran == "M":
                start = date(year, n, 1)
            else:
                start = date.fromisocalendar(year, n, 1)
        except ValueError:
            what = {"M": f"månad {n:02d}", "W": f"vecka {n}"}.get(gran, str(n))
            raise PeriodError(f"Ogiltig period '{raw}': {what} finns inte år {year}. "
                              f"{PERIOD_HELP_SV}") from None
        return ReportPeriod(gran, start, next_start(start, gran))
    raise PeriodError(f"Ogiltig period '{raw}'. {PERIOD_HELP_SV}")


def period_code(day: Any, gran: str) -> str:
    """The period holding ``day`` as ``parse_period`` reads it: 2024, 2024-Q2, 2024-05,
    2024-W18 (ISO week and ISO year)."""
    start = period_start(day, gran)
    if gran == "W":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if gran == "M":
        return f"{start.year}-{start.month:02d}"
    if gran == "Q":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def period_codes(last_day: Any, gran: str, count: int = 12) -> list[str]:
    """Codes of the latest ``count`` periods up to the one holding ``last_day`` (newest
    first), for a period picker."""
    return [period_code(shift(last_day, gran, -i), gran) for i in range(count)]


def report_choices(data_until: Any, gran: str, count: int = 12) -> tuple[list[str], int]:
    """Period picker of the report: the codes of ``period_codes(data_until, ...)`` and the
    index of the default choice, the latest COMPLETE period (the current partial period is
    offered, but never preselected)."""
    codes = period_codes(data_until, gran, count)
    complete = is_complete(data_until, gran, data_until)
    return codes, 0 if complete or len(codes) < 2 else 1


def choice_label(code: str, data_until: Any) -> str:
    """Picker label of a period code: "maj 2024", or for a period the data do not cover
    fully "december 2026 (ofullständig, t.o.m. 2026-12-03)"."""
    period = parse_period(code)
    if period.is_complete(to_date(data_until)):
        return period.label
    return f"{period.label} ({partial_text(data_until)})"


# --------------------------------------------------------------------------- year periods

_YEAR_RANGE = re.compile(r"^\s*((?:19|20)\d\d)\s*(?:[-–/]\s*((?:19|20)\d\d)\s*)?$")


def year_span(text: object) -> tuple[int, int] | None:
    """First and last year of a statistics period: "2023" -> (2023, 2023), a rolling period
    "2019-2022" (or "2019–2022", "2019/2022") -> (2019, 2022); None for anything else."""
    match = _YEAR_RANGE.match(str(text)) if text is not None else None
    if match is None:
        return None
    first = int(match.group(1))
    last = int(match.group(2) or first)
    return (first, last) if first <= last else None


def year_spans(values: Iterable[object]) -> tuple[np.ndarray, np.ndarray]:
    """(first years, last years) as float arrays (NaN where a value is no year period)."""
    spans = [year_span(v) for v in values]
    first = np.array([s[0] if s else np.nan for s in spans], dtype=np.float64)
    last = np.array([s[1] if s else np.nan for s in spans], dtype=np.float64)
    return first, last
