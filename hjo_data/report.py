"""Lägesbild reports: one period's overview, charts, sources and definitions as HTML or PDF.

``build_report`` computes a :class:`Report` (all texts already safe for the audience),
``render_html`` turns it into a single self-contained HTML file (plotly.js inlined once,
interactive charts, no network needed), ``render_pdf`` prints that HTML with a headless
Chromium so the charts are drawn by plotly and end up static in the PDF.

The public audience (the default) follows the rules of ``hjo_data.disclosure``: counts
about people 1..threshold-1 show as ``"<5"`` (tables: with secondary suppression), survey
shares with too few answers as ``"för få svar"``, and no free text, positions or
row-level tables. The official audience additionally gets a row-level appendix.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from hjo_data import figures, periods, reference, sections
from hjo_data import lagesbild as lb
from hjo_data.datasource import DEMO_LABEL, latest_date
from hjo_data.disclosure import (
    AUDIENCE_LABEL_SV,
    TOO_FEW_SV,
    DisclosureSettings,
    check_audience,
    key_sum,
    prepare_table,
    record_keys,
    settings_of,
    suppression_note,
)
from hjo_data.errors import HjoDataError
from hjo_data.filters import Filters, apply_filters
from hjo_data.formatting import MISSING, fmt_date, fmt_datetime, fmt_int
from hjo_data.periods import UNIT_WORDS, ReportPeriod
from hjo_data.promise import Promise, Settings, effective_settings, load_promise_with_fallback
from hjo_data.schema import DATASETS, source_text

__all__ = [
    "DEMO_LABEL",
    "ChromiumMissingError",
    "IndicatorRow",
    "PdfRenderError",
    "Report",
    "ReportChart",
    "ReportTable",
    "build_report",
    "find_chromium",
    "render_html",
    "render_pdf",
    "report_bytes",
    "write_report",
]

ReportFormat = Literal["html", "pdf"]
FORMATS: tuple[str, ...] = ("html", "pdf")
#: Rows of each row-level appendix table (official audience only).
APPENDIX_ROWS = 100
CHROMIUM_ENV = "HJO_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_TIMEOUT_S = 120.0

DIRECTION_SV = {"down": "lägre är bättre", "up": "högre är bättre"}


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class IndicatorRow:
    """One indicator of the overview, every field a display text for the audience."""

    goal: str
    label: str
    value: str
    period: str
    previous: str
    change: str
    beyond_noise: str  # "ja" | "nej" | "–"
    direction: str
    status: str
    test: str = ""


@dataclass(frozen=True)
class ReportTable:
    """A small display table (strings only) with an optional footnote."""

    title: str
    frame: pd.DataFrame
    note: str = ""


@dataclass
class ReportChart:
    title: str
    figure: Any  # plotly Figure (aggregates only); None: table only (all values hidden)
    source: str
    data_date: date | None
    note: str = ""
    table: ReportTable | None = None


@dataclass
class Report:
    municipality: str
    promise_title: str
    period: ReportPeriod
    audience: str
    is_demo: bool
    created: date
    data_dates: dict[str, date | None]
    rows: list[IndicatorRow]
    goals: list[str]
    status_text: str
    charts: list[ReportChart]
    sources: list[tuple[str, str, str]]  # (dataset label, source, data t.o.m.)
    definitions: list[str]
    notices: list[str] = field(default_factory=list)
    appendix: list[ReportTable] = field(default_factory=list)

    @property
    def data_date(self) -> date | None:
        dates = [d for d in self.data_dates.values() if d is not None]
        return max(dates) if dates else None

    @property
    def title(self) -> str:
        place = f" – {self.municipality}" if self.municipality else ""
        return f"Lägesbild {self.period.label}{place}"


# --------------------------------------------------------------------------- helpers


def _frames(bundle: Any) -> Mapping[str, pd.DataFrame]:
    frames = getattr(bundle, "frames", bundle)
    return frames if isinstance(frames, Mapping) else {}


def _data_dates(bundle: Any, frames: Mapping[str, pd.DataFrame]) -> dict[str, date | None]:
    dates = getattr(bundle, "data_date", None)
    if isinstance(dates, Mapping):
        return dict(dates)
    return {name: latest_date(frames[name], ds) for name, ds in DATASETS.items()
            if name in frames}


def _plotly_label(value: object) -> str:
    """Data text for a chart label: plotly reads some HTML tags (e.g. <a href>) in labels,
    so escape them; plotly shows the entities as the original characters."""
    return html.escape(str(value), quote=False)


def _window_start(period: ReportPeriod) -> date:
    """Start of the trend window: the period and the preceding ones (12 w, 12 m, 8 q, 3 y)."""
    return period.window_start({"W": 12, "M": 12, "Q": 8, "Y": 3}[period.granularity])


# --------------------------------------------------------------------------- overview


def _overview(frames: Mapping[str, pd.DataFrame], promise: Promise | None,
              period: ReportPeriod, audience: str, settings: DisclosureSettings, today: date
              ) -> tuple[list[str], list[IndicatorRow], str, date, tuple[str, ...]]:
    filters = Filters(end=period.last_day, granularity=period.granularity)  # type: ignore[arg-type]
    overview = sections.goal_overview(frames, promise, audience=audience, disclosure=settings,
                                      filters=filters, today=today)
    rows: list[IndicatorRow] = []
    for view in overview.indicators:
        ind = view.status
        change = ind.change.label_sv
        if ind.previous_period and ind.status != lb.STATUS_NO_DATA:
            change = f"{change}; förra: {view.previous} ({ind.previous_period})"
        rows.append(IndicatorRow(
            goal=view.goal, label=ind.label, value=view.value,
            period=ind.latest_period, previous=view.previous, change=change,
            beyond_noise=MISSING if ind.status == lb.STATUS_NO_DATA else (
                "ja" if ind.change.significant else "nej"),
            direction=DIRECTION_SV.get(ind.desired_direction, ind.desired_direction),
            status=ind.status, test=view.test))
    return ([c.title for c in overview.cards], rows, overview.status_text, overview.as_of,
            overview.notes)


# --------------------------------------------------------------------------- charts


def _count_table(counts: pd.Series, audience: str, settings: DisclosureSettings,
                 label: str, keys: pd.Series) -> tuple[pd.DataFrame, pd.Series, str]:
    """Display table (with "Totalt"), chartable numbers (NaN where hidden) and the note;
    ``keys``: the cells' keys (public: cell-key perturbation, the total on its own)."""
    table = counts.astype("int64").to_frame("Antal")
    table.loc["Totalt"] = int(counts.sum())
    key_table = keys.reindex(counts.index).astype("int64").to_frame("Antal")
    key_table.loc["Totalt"] = key_sum(keys.to_numpy())
    prepared = prepare_table(table, audience, settings, "counts", keys=key_table)
    display = prepared.display.reset_index()
    display.columns = [label, "Antal"]
    numeric = prepared.numeric["Antal"].drop("Totalt")
    return display.astype("str"), numeric, prepared.note


def _incident_charts(frames: Mapping[str, pd.DataFrame], period: ReportPeriod,
                     audience: str, settings: DisclosureSettings,
                     data_dates: Mapping[str, date | None], as_of: date
                     ) -> list[ReportChart]:
    incidents = frames.get("incidents")
    if incidents is None or incidents.empty:
        return []
    src, when = source_text("incidents"), data_dates.get("incidents")
    charts: list[ReportChart] = []
    gran = period.granularity
    window = apply_filters(incidents, "incidents", Filters.span(_window_start(period),
                                                                period.end))
    trend = sections.incident_trend_section(
        window, granularity=gran, audience=audience, disclosure=settings, data_date=when,
        data_until=as_of, first=_window_start(period), last=period.start,
        title=f"Antal händelser per {UNIT_WORDS[gran]} fram till {period.label}",
        key="rapport_trend")
    if not trend.is_empty and trend.figure is not None:
        charts.append(ReportChart("Händelser över tid", figures.build(trend.figure),
                                  trend.source, when, trend.note))
    current = apply_filters(incidents, "incidents", Filters.span(period.start, period.end))
    if current is None or current.empty:
        return charts
    for column, heading, label in (("category", "Händelser per kategori", "Kategori"),
                                   ("area", "Händelser per område", "Område")):
        groups = current[column].fillna("okänt område").astype("str")
        counts = groups.value_counts()
        keys = pd.Series(record_keys(current), index=current.index).groupby(groups).sum()
        display, numeric, note = _count_table(counts, audience, settings, label, keys)
        frame = pd.DataFrame({"group": [_plotly_label(v) for v in numeric.index],
                              "count": numeric.to_numpy()}).dropna(subset=["count"])
        fig = None if frame.empty else figures.bar_chart(
            frame, x="count", y="group", title=f"{heading} under {period.label}",
            x_title="Antal händelser", y_title=None)
        charts.append(ReportChart(heading, fig, src, when, note,
                                  ReportTable(f"{heading} ({period.label})", display, note)))
    return charts


def _survey_chart(frames: Mapping[str, pd.DataFrame], period: ReportPeriod, audience: str,
                  settings: DisclosureSettings, definitions: Settings,
                  data_dates: Mapping[str, date | None]) -> ReportChart | None:
    """The whole-municipality "andel otrygga" section, as on the Trygghet page."""
    shares = sections.survey_shares(frames, definitions)
    section = sections.safety_sections(
        shares, audience=audience, disclosure=settings, definitions=definitions,
        data_date=sections.survey_data_date(data_dates), until_year=period.start.year,
        views=("tr_total",))[0]
    if section.is_empty:
        return None
    fig = figures.build(section.figure) if section.figure is not None else None
    return ReportChart("Trygghet sent en kväll", fig, section.source, section.data_date,
                       section.note, ReportTable(section.title, section.table))


def _traffic_chart(frames: Mapping[str, pd.DataFrame], period: ReportPeriod, audience: str,
                   settings: DisclosureSettings, data_dates: Mapping[str, date | None],
                   today: date) -> ReportChart | None:
    """Controls per month over the trend window, with the window's summary (the slides'
    section)."""
    start = _window_start(period)
    until = periods.reference_day(data_dates.get("traffic"), today=today, end=period.last_day)
    section = sections.traffic_section(
        frames.get("traffic"), start=date(start.year, start.month, 1), end=period.end,
        audience=audience, disclosure=settings, data_date=data_dates.get("traffic"),
        data_until=until)
    if section.is_empty or section.figure is None:
        return None
    return ReportChart("Trafikkontroller", figures.build(section.figure), section.source,
                       section.data_date, section.note,
                       ReportTable(section.title, section.table))


def _activities_chart(frames: Mapping[str, pd.DataFrame], period: ReportPeriod,
                      promise: Promise | None, data_dates: Mapping[str, date | None]
                      ) -> ReportChart | None:
    """Done against planned this year up to the period's end (the slides' section)."""
    section = sections.activities_section(
        frames.get("activities"), promise, start=date(period.start.year, 1, 1),
        end=period.end, data_date=data_dates.get("activities"))
    if section.is_empty or section.figure is None:
        return None
    spec = section.figure
    fig = figures.build(replace(spec, data=spec.data.assign(
        activity_type=[_plotly_label(v) for v in spec.data["activity_type"]])))
    return ReportChart("Aktiviteter i medborgarlöftet", fig, section.source,
                       section.data_date, section.note,
                       ReportTable(section.title, section.table))


def _comparison_charts(frames: Mapping[str, pd.DataFrame], promise: Promise | None,
                       audience: str, settings: DisclosureSettings) -> list[ReportChart]:
    """The Jämförelse page's sections: official indicators against county, Riket, peers."""
    charts = []
    for section in sections.comparison_sections(frames.get("statistik"), promise,
                                                audience=audience, disclosure=settings):
        if section.is_empty or section.figure is None:
            continue
        charts.append(ReportChart(section.title, figures.build(section.figure),
                                  section.source, section.data_date, section.note,
                                  ReportTable(section.title, section.table)))
    return charts


# --------------------------------------------------------------------------- appendix


_OFFICIALS_ONLY = "Endast i tjänstepersonsläge."


def _latest_rows(frame: pd.DataFrame | None, dataset: str, period: ReportPeriod
                 ) -> tuple[pd.DataFrame, int]:
    """The period's rows of ``dataset``, latest first (at most APPENDIX_ROWS), and how many
    rows the period has (0: none)."""
    rows = apply_filters(frame, dataset, Filters.span(period.start, period.end))
    if rows is None or rows.empty:
        return pd.DataFrame(), 0
    time = DATASETS[dataset].time_column
    return rows.sort_values(time, ascending=False).head(APPENDIX_ROWS), len(rows)


def _text_columns(rows: pd.DataFrame, labels: Mapping[str, str]) -> dict[str, Any]:
    """Text cells ("" where missing) of some columns of ``rows``, keyed by Swedish label."""
    return {label: rows[col].fillna("").astype("str").to_numpy()
            for label, col in labels.items()}


def _appendix(frames: Mapping[str, pd.DataFrame], period: ReportPeriod) -> list[ReportTable]:
    """Row-level tables (official audience only): the latest incidents and activities."""
    out: list[ReportTable] = []
    incidents, total = _latest_rows(frames.get("incidents"), "incidents", period)
    if total:
        positions = [f"{la:.6f}, {lo:.6f}" if pd.notna(la) and pd.notna(lo) else ""
                     for la, lo in zip(incidents["lat"], incidents["lon"], strict=True)]
        frame = pd.DataFrame({
            "Tidpunkt": [fmt_datetime(t) for t in incidents["occurred_at"]],
            **_text_columns(incidents, {"Kategori": "category", "Område": "area",
                                        "Rapportör": "source"}),
            "Position": positions,
            **_text_columns(incidents, {"Beskrivning": "description"}),
        })
        out.append(ReportTable(
            f"Händelser under {period.label} (de senaste {fmt_int(len(frame))} av "
            f"{fmt_int(total)})", frame, _OFFICIALS_ONLY))
    activities, total = _latest_rows(frames.get("activities"), "activities", period)
    if total:
        frame = pd.DataFrame({
            "Datum": [fmt_date(t) for t in activities["date"]],
            **_text_columns(activities, {"Aktivitet": "activity_type", "Område": "area",
                                         "Anteckningar": "notes"}),
        })
        out.append(ReportTable(f"Aktiviteter under {period.label}", frame, _OFFICIALS_ONLY))
    return out


# --------------------------------------------------------------------------- build


def _definitions(settings: DisclosureSettings, audience: str) -> list[str]:
    out = [
        "Jämförelse: senaste hela period mot perioden före (händelser: rapportens "
        "tidsindelning; aktiviteter och trafik: år; enkäter: senaste mätåret mot det förra).",
        "Utanför slumpvariationen: förändringen är statistiskt säkerställd, p < 0,05. Antal "
        "jämförs med ett exakt Poissontest (villkorat binomialtest, hänsyn till periodernas "
        "längd), andelar med ett z-test för två andelar (Fishers exakta test när "
        "underlaget är litet).",
        "Andelar från enkäter visas med 95 % konfidensintervall enligt Wilson.",
        "Händelser per 1 000 invånare: antal händelser / folkmängd × 1 000.",
    ]
    if audience == "public":
        out += [
            "Skydd av enskilda (publikt läge): " + suppression_note(settings),
            f"Enkätandelar som bygger på färre än {settings.min_survey_n} svar visas som "
            f"”{TOO_FEW_SV}”.",
            "Fritext, exakta positioner och uppgifter om enskilda händelser visas inte. "
            "Antal aktiviteter och kontroller beskriver myndigheternas arbete och visas "
            "som de är.",
        ]
    else:
        out.append("Tjänstepersonsläge: alla värden visas oavrundade och utan döljning – "
                   "rapporten får inte spridas publikt.")
    return out


def build_report(bundle: Any, period: ReportPeriod, *, audience: str = "public",
                 promise: Promise | None = None, today: date | None = None) -> Report:
    """Compute the lägesbild of ``period`` for ``audience`` (public unless "official").

    ``bundle`` is a ``DataBundle`` (or a mapping of dataset frames); ``promise`` None loads
    it with ``promise.load_promise_with_fallback`` (its warning or error becomes a
    notice of the report; with no promise at all the report has no goal overview).
    """
    aud = check_audience(audience)
    frames = _frames(bundle)
    if aud == "public":  # areas not in areas.csv -> "Okänt område"
        frames = reference.public_area_frames(frames)
    promise_message = None
    if promise is None:
        promise, promise_message = load_promise_with_fallback()
    settings = settings_of(promise)
    today = today or date.today()
    data_dates = _data_dates(bundle, frames)
    is_demo = bool(getattr(bundle, "is_demo", False))
    goals, rows, status_text, as_of, overview_notes = _overview(frames, promise, period, aud,
                                                                settings, today)

    charts = _incident_charts(frames, period, aud, settings, data_dates, as_of)
    for chart in (_survey_chart(frames, period, aud, settings, effective_settings(promise),
                                data_dates),
                  _traffic_chart(frames, period, aud, settings, data_dates, today),
                  _activities_chart(frames, period, promise, data_dates)):
        if chart is not None:
            charts.append(chart)
    charts += _comparison_charts(frames, promise, aud, settings)

    notices: list[str] = [promise_message] if promise_message else []
    notices += overview_notes
    if is_demo:
        notices.append(f"{DEMO_LABEL}. Datalagret är tomt, så rapporten bygger på "
                       "syntetiska data.")
    latest_incident = data_dates.get("incidents")
    if period.start > (latest_incident or today) or period.start > today:
        notices.append(f"Det finns inga händelsedata för {period.label} ännu.")
    elif as_of < period.last_day:
        notices.append(f"Perioden {period.label} är inte avslutad i data (data t.o.m. "
                       f"{as_of.isoformat()}): jämförelsen gäller senaste hela period.")

    sources = [(ds.label, ds.source or name,
                fmt_date(data_dates.get(name)) if data_dates.get(name) else "inga data")
               for name, ds in DATASETS.items()]
    municipality = promise.municipality if promise is not None else ""
    title = promise.title if promise is not None else "Medborgarlöftet"
    return Report(
        municipality=municipality, promise_title=title, period=period, audience=aud,
        is_demo=is_demo, created=today, data_dates=data_dates, rows=rows, goals=goals,
        status_text=status_text, charts=charts, sources=sources,
        definitions=_definitions(settings, aud), notices=notices,
        appendix=_appendix(frames, period) if aud == "official" else [])


# --------------------------------------------------------------------------- HTML

_CSS = """
:root { --ink: #1a1a1a; --muted: #555; --line: #ccc; --blue: #0072B2; --orange: #D55E00; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1100px; padding: 24px; line-height: 1.45; }
header { border-bottom: 3px solid var(--blue); margin-bottom: 16px; }
h1 { font-size: 1.8rem; margin: 0 0 4px; }
h2 { font-size: 1.35rem; margin: 28px 0 8px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.1rem; margin: 18px 0 6px; }
.meta { color: var(--muted); margin: 2px 0; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: bold;
         border: 2px solid var(--blue); color: var(--blue); }
.badge.official { border-color: var(--orange); color: var(--orange); }
.demo { background: #fff3cd; border: 2px solid #b58900; padding: 8px 12px; font-weight: bold;
        margin: 10px 0; }
.notice { background: #eef5fb; border-left: 4px solid var(--blue); padding: 6px 12px;
          margin: 8px 0; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: 0.92rem; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left;
         vertical-align: top; }
th { background: #f2f2f2; }
td.num { text-align: right; white-space: nowrap; }
.status-bättre { color: var(--blue); font-weight: bold; }
.status-sämre { color: var(--orange); font-weight: bold; }
.chart { margin: 12px 0 20px; break-inside: avoid; page-break-inside: avoid; }
.chart-plot { width: 100%; }
.caption, .note { color: var(--muted); font-size: 0.88rem; margin: 2px 0; }
footer { margin-top: 30px; border-top: 1px solid var(--line); color: var(--muted);
         font-size: 0.85rem; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  .modebar, .modebar-container { display: none !important; }
  a { color: inherit; text-decoration: none; }
}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table_html(table: ReportTable, numeric_cols: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in table.frame.columns)
    body = []
    for row in table.frame.itertuples(index=False):
        cells = []
        for col, value in zip(table.frame.columns, row, strict=True):
            cls = ' class="num"' if col in numeric_cols else ""
            cells.append(f"<td{cls}>{_e(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = f'<p class="note">{_e(table.note)}</p>' if table.note else ""
    return (f"<h3>{_e(table.title)}</h3><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>{note}")


def _overview_html(report: Report) -> str:
    parts: list[str] = []
    for goal in report.goals:
        rows = [r for r in report.rows if r.goal == goal]
        parts.append(f"<h3>{_e(goal)}</h3>")
        if not rows:
            parts.append('<p class="note">Inga indikatorer.</p>')
            continue
        parts.append("<table><thead><tr><th>Indikator</th><th>Värde</th><th>Period</th>"
                     "<th>Förändring</th><th>Utanför slumpen</th><th>Önskad riktning</th>"
                     "<th>Bedömning</th></tr></thead><tbody>")
        for r in rows:
            test = f'<br><span class="note">Test: {_e(r.test)}</span>' if r.test else ""
            parts.append(
                f"<tr><td>{_e(r.label)}</td><td class=\"num\">{_e(r.value)}</td>"
                f"<td>{_e(r.period)}</td><td>{_e(r.change)}{test}</td>"
                f"<td>{_e(r.beyond_noise)}</td><td>{_e(r.direction)}</td>"
                f"<td class=\"status-{_e(r.status.split('/')[0])}\">{_e(r.status)}</td></tr>")
        parts.append("</tbody></table>")
    return "".join(parts)


def _chart_html(chart: ReportChart, index: int, include_js: bool, static: bool) -> str:
    # Swedish toolbar and month names in plotly.js (it ships English only).
    config = {"displaylogo": False, "responsive": True, "locale": "sv",
              "locales": {"sv": figures.PLOTLY_SV_LOCALE}}
    if static:
        config.update(staticPlot=True, displayModeBar=False)
    fig = chart.figure
    div = "" if fig is None else fig.to_html(
        full_html=False, include_plotlyjs=include_js, config=config,
        div_id=f"diagram-{index + 1}", default_width="100%",
        default_height=f"{int(fig.layout.height or 420)}px")
    caption = f"Källa: {chart.source} · Data t.o.m. {fmt_date(chart.data_date)}" \
        if chart.data_date else f"Källa: {chart.source}"
    note = f'<p class="note">{_e(chart.note)}</p>' if chart.note else ""
    table = _table_html(chart.table, ("Antal",)) if chart.table is not None else ""
    return (f'<section class="chart"><h3>{_e(chart.title)}</h3>'
            f'<div class="chart-plot">{div}</div><p class="caption">{_e(caption)}</p>'
            f"{note}{table}</section>")


def render_html(report: Report, *, static_charts: bool = False) -> str:
    """The report as one self-contained HTML document (plotly.js inlined once).

    ``static_charts`` turns off hover/zoom (used for the PDF).
    """
    aud_label = AUDIENCE_LABEL_SV.get(report.audience, report.audience)
    data_date = fmt_date(report.data_date) if report.data_date else "inga data"
    about = " · ".join(t for t in (report.municipality, report.promise_title) if t)
    head = [
        f'<p class="meta">{_e(about)}</p>',
        f"<h1>{_e(report.title)}</h1>",
        f'<p class="meta">Period: {_e(report.period.label)} ({_e(report.period.span)}) · '
        f"Data t.o.m. {_e(data_date)} · Skapad {_e(report.created.isoformat())}</p>",
        f'<p class="meta"><span class="badge {_e(report.audience)}">{_e(aud_label)}'
        "</span></p>",
    ]
    if report.is_demo:
        head.append(f'<div class="demo">{_e(DEMO_LABEL)}</div>')
    head += [f'<div class="notice">{_e(n)}</div>' for n in report.notices
             if not n.startswith(DEMO_LABEL)]
    body = [f"<header>{''.join(head)}</header>",
            "<h2>Läget just nu</h2>", f"<p>{_e(report.status_text)}</p>",
            "<h2>Översikt: medborgarlöftets mål</h2>", _overview_html(report),
            "<h2>Diagram</h2>"]
    if not report.charts:
        body.append('<p class="note">Inga data att visa för perioden.</p>')
    first = next((i for i, c in enumerate(report.charts) if c.figure is not None), None)
    for i, chart in enumerate(report.charts):
        body.append(_chart_html(chart, i, i == first, static_charts))
    if report.appendix:
        body.append("<h2>Bilaga: uppgifter per händelse (tjänstepersonsläge)</h2>")
        body += [_table_html(t) for t in report.appendix]
    src_rows = "".join(f"<tr><td>{_e(a)}</td><td>{_e(b)}</td><td>{_e(c)}</td></tr>"
                       for a, b, c in report.sources)
    body += ["<h2>Källor och datum</h2>",
             "<table><thead><tr><th>Datamängd</th><th>Källa</th><th>Data t.o.m.</th></tr>"
             f"</thead><tbody>{src_rows}</tbody></table>",
             "<h2>Definitioner</h2><ul>",
             *(f"<li>{_e(d)}</li>" for d in report.definitions), "</ul>",
             f"<footer><p>{_e(report.title)} · {_e(aud_label)}"
             f"{' · ' + _e(DEMO_LABEL) if report.is_demo else ''}</p></footer>"]
    return ("<!DOCTYPE html>\n<html lang=\"sv\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(report.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


# --------------------------------------------------------------------------- PDF


class ChromiumMissingError(HjoDataError):
    """No Chromium/Chrome found for printing the PDF."""

    def __init__(self) -> None:
        super().__init__(
            "PDF kräver Chromium (eller Google Chrome), men ingen hittades. Installera "
            "chromium eller ange sökvägen i miljövariabeln HJO_CHROMIUM. HTML-rapporten "
            "fungerar utan Chromium: använd --format html.")


class PdfRenderError(HjoDataError):
    """Chromium ran but produced no PDF (Swedish message)."""


def find_chromium() -> str | None:
    """``$HJO_CHROMIUM`` when it is an executable file, else the first browser on PATH."""
    env = os.environ.get(CHROMIUM_ENV, "").strip()
    if env:
        return env if Path(env).is_file() and os.access(env, os.X_OK) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def render_pdf(html_text: str, out: str | Path, *, chromium: str | None = None,
               timeout: float = PDF_TIMEOUT_S) -> Path:
    """Print ``html_text`` to ``out`` with headless Chromium (network blocked by a dead
    proxy: the report must not need it). Raises ChromiumMissingError / PdfRenderError."""
    browser = chromium or find_chromium()
    if browser is None:
        raise ChromiumMissingError()
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="hjo-pdf-") as tmp:
        page = Path(tmp) / "rapport.html"
        page.write_text(html_text, encoding="utf-8")
        target = Path(tmp) / "rapport.pdf"
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-extensions",
               "--disable-dev-shm-usage", "--proxy-server=http://127.0.0.1:9",
               "--proxy-bypass-list=<-loopback>", f"--user-data-dir={Path(tmp) / 'profil'}",
               "--run-all-compositor-stages-before-draw", "--virtual-time-budget=10000",
               "--no-pdf-header-footer", "--print-to-pdf-no-header",
               f"--print-to-pdf={target}", page.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise PdfRenderError(f"Chromium blev inte klar inom {timeout:.0f} sekunder; "
                                 "ingen PDF skapades.") from None
        except OSError as err:
            raise PdfRenderError(f"Chromium kunde inte startas ({browser}): {err}") from None
        if not target.is_file() or target.read_bytes()[:5] != b"%PDF-":
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise PdfRenderError("Chromium skapade ingen PDF (kod "
                                 f"{proc.returncode}): {' | '.join(tail)}")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp_out = out.with_name(out.name + ".tmp")
        shutil.copyfile(target, tmp_out)
        os.replace(tmp_out, out)
    return out


# --------------------------------------------------------------------------- entry points


def report_bytes(bundle: Any, period: ReportPeriod, fmt: str = "html", *,
                 audience: str = "public", promise: Promise | None = None,
                 today: date | None = None
                 ) -> bytes:
    """The report file's content (for download buttons): HTML (UTF-8) or PDF bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"Okänt format {fmt!r}: ska vara html eller pdf.")
    report = build_report(bundle, period, audience=audience, promise=promise, today=today)
    if fmt == "html":
        return render_html(report).encode("utf-8")
    if find_chromium() is None:  # fail before any work that would be wasted
        raise ChromiumMissingError()
    with tempfile.TemporaryDirectory(prefix="hjo-rapport-") as tmp:
        path = render_pdf(render_html(report, static_charts=True), Path(tmp) / "r.pdf")
        return path.read_bytes()


def write_report(bundle: Any, period: ReportPeriod, fmt: str, out: str | Path, *,
                 audience: str = "public", promise: Promise | None = None,
                 today: date | None = None
                 ) -> Path:
    """Build the report and write it to ``out`` (HTML or PDF); returns the path."""
    if fmt not in FORMATS:
        raise ValueError(f"Okänt format {fmt!r}: ska vara html eller pdf.")
    if fmt == "pdf" and find_chromium() is None:
        raise ChromiumMissingError()
    report = build_report(bundle, period, audience=audience, promise=promise, today=today)
    out = Path(out)
    if fmt == "pdf":
        return render_pdf(render_html(report, static_charts=True), out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(render_html(report), encoding="utf-8")
    os.replace(tmp, out)
    return out
