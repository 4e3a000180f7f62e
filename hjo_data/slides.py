"""Presentation mode: the slide deck shown full-screen at council meetings.

The deck is built from the data bundle, the promise and ``data/presentation.toml`` (which
slides, in which order, titles, period, auto-advance interval). It is ALWAYS built for the
public audience — a big screen in a council meeting is public:

* counts of incidents, traffic offences and participants between 1 and ``threshold - 1``
  show as ``"<5"`` (also when a rate or ratio would let the count be recomputed); counts of
  the authorities' own work (activities held, planned, controls) are shown as they are;
* survey/youth shares based on fewer than ``min_survey_n`` answers show as "för få svar";
* no free text (descriptions, notes) and no positions ever reach a slide: slides are
  built only from counts, shares and the promise/config texts.

Without a promise (not even the packaged file readable) the goal slides (``mal``,
``laget``) are left out and the data slides still shown (see ``build_deck``).

Pure Python (no streamlit); ``pages/presentation.py`` renders the slides.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from hjo_data import comparison as cmp
from hjo_data import est, est_sections, reference, sections
from hjo_data import lagesbild as lb
from hjo_data.datasource import DEMO_LABEL
from hjo_data.disclosure import SECONDARY_MARK, DisclosureSettings, is_small, settings_of
from hjo_data.errors import HjoDataError
from hjo_data.filters import Filters, apply_filters
from hjo_data.formatting import MISSING, NBSP, fmt_date, fmt_float, fmt_int, fmt_pct, fmt_week
from hjo_data.periods import (
    NAMED_PERIODS,
    last_data_day,
    named_period,
    periods_back,
    reference_day,
)
from hjo_data.promise import Goal, Indicator, Promise, effective_settings
from hjo_data.schema import source_text
from hjo_data.youth import ALL_GENDERS, YOUTH_LABELS

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = REPO_ROOT / "data" / "presentation.toml"

DEFAULT_INTERVAL = 20
MIN_INTERVAL = 5
MAX_INTERVAL = 600

#: Known slide ids (the ``id`` of a ``[[slides]]`` entry in presentation.toml).
SLIDE_KINDS: dict[str, str] = {
    "titel": "Titelbild: löftets namn och dagens datum",
    "mal": "Ett mål i medborgarlöftet med sin nyckelindikator (kräver goal = \"…\")",
    "laget": "Läget just nu: hur många indikatorer som ändrats utanför slumpen",
    "est_vecka": "EST: händelser senaste hela veckan mot snittet av fyra veckor",
    "trafik": "Trafikkontroller: kontroller, kontrollerade fordon, överträdelser",
    "unga": "Unga: en indikator ur ungdomsenkäten (indicator, grade)",
    "aktiviteter": "Aktiviteter: genomförda mot planerade",
    "jamforelse": "Jämförelse: en officiell indikator mot länet, riket och "
                  "jämförelsekommuner (indicator = indikatorns id i medborgarlofte.toml)",
}

#: Slides built from the promise's goals (left out when there is no promise).
GOAL_SLIDES = frozenset({"mal", "laget", "jamforelse"})

_DEFAULT_PERIOD = {"titel": "latest_month", "mal": "latest_month", "laget": "latest_month",
                   "est_vecka": "latest_week", "trafik": "year_to_date", "unga": "latest_year",
                   "aktiviteter": "year_to_date", "jamforelse": "latest_year"}
_ALLOWED_KEYS = {"id", "title", "period", "goal", "indicator", "grade"}

#: Colour-blind-safe status names the page maps to colours (blue / orange / grey).
STATUS_TEXT = {
    lb.STATUS_BETTER: "Bättre – förändringen är större än slumpen",
    lb.STATUS_WORSE: "Sämre – förändringen är större än slumpen",
    lb.STATUS_NOISE: "Ingen säker förändring – inom slumpvariationen",
    lb.STATUS_NO_DATA: "Ingen data ännu",
}
STATUS_KEY = {lb.STATUS_BETTER: "better", lb.STATUS_WORSE: "worse", lb.STATUS_NOISE: "noise",
              lb.STATUS_NO_DATA: "nodata"}


class SlideConfigError(HjoDataError):
    """presentation.toml is broken (Swedish message naming the entry)."""


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class SlideSpec:
    """One ``[[slides]]`` entry of presentation.toml."""

    id: str
    title: str = ""
    period: str = ""
    goal: str = ""
    indicator: str = ""
    grade: str = ""

    @property
    def key(self) -> str:
        """Unique key within a deck (several ``mal`` slides differ by goal, several
        ``jamforelse`` slides by indicator)."""
        if self.id == "jamforelse":  # several comparison slides differ by indicator
            return f"{self.id}-{self.indicator}"
        return f"{self.id}-{self.goal}" if self.goal else self.id


@dataclass(frozen=True)
class PresentationConfig:
    slides: tuple[SlideSpec, ...]
    interval: int = DEFAULT_INTERVAL
    title: str = ""


def parse_config(text: str, *, name: str = "presentation.toml") -> PresentationConfig:
    """Parse presentation TOML; raise SlideConfigError (Swedish) on any mistake."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SlideConfigError(f"{name} är inte giltig TOML: {err}") from err
    return config_from_mapping(data, name=name)


def config_from_mapping(data: Mapping[str, Any], *, name: str = "presentation.toml"
                        ) -> PresentationConfig:
    raw_slides = data.get("slides")
    if not isinstance(raw_slides, list) or not raw_slides:
        raise SlideConfigError(f"{name}: minst en bild ([[slides]]) krävs.")
    interval = data.get("interval", DEFAULT_INTERVAL)
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 0:
        raise SlideConfigError(
            f"{name}: interval ska vara ett heltal sekunder (0 = inget automatiskt byte), "
            f"fick {interval!r}.")
    specs: list[SlideSpec] = []
    seen: set[str] = set()
    for number, raw in enumerate(raw_slides, start=1):
        where = f"{name}, bild {number}"
        if not isinstance(raw, Mapping):
            raise SlideConfigError(f"{where}: ska vara en tabell [[slides]].")
        unknown = sorted(set(raw) - _ALLOWED_KEYS)
        if unknown:
            raise SlideConfigError(
                f"{where}: okänd nyckel {', '.join(unknown)} (tillåtna: "
                f"{', '.join(sorted(_ALLOWED_KEYS))}).")
        slide_id = str(raw.get("id", "")).strip()
        if slide_id not in SLIDE_KINDS:
            raise SlideConfigError(
                f"{where}: okänd bild {slide_id!r}. Kända bilder: "
                f"{', '.join(SLIDE_KINDS)}.")
        period = str(raw.get("period", "") or _DEFAULT_PERIOD[slide_id])
        if period not in NAMED_PERIODS:
            raise SlideConfigError(
                f"{where}: okänd period {period!r}. Tillåtna: {', '.join(NAMED_PERIODS)}.")
        if slide_id == "est_vecka" and period != "latest_week":
            raise SlideConfigError(f"{where}: est_vecka visar alltid period latest_week.")
        goal = str(raw.get("goal", "")).strip()
        if slide_id == "mal" and not goal:
            raise SlideConfigError(f"{where}: bilden mal kräver goal = \"<mål-id>\".")
        if slide_id in ("unga", "jamforelse") and not raw.get("indicator"):
            raise SlideConfigError(
                f"{where}: bilden {slide_id} kräver indicator = \"<indikator>\".")
        spec = SlideSpec(id=slide_id, title=str(raw.get("title", "")).strip(), period=period,
                         goal=goal, indicator=str(raw.get("indicator", "")).strip(),
                         grade=str(raw.get("grade", "")).strip())
        if spec.key in seen:
            raise SlideConfigError(f"{where}: bilden {spec.key!r} finns redan.")
        seen.add(spec.key)
        specs.append(spec)
    return PresentationConfig(slides=tuple(specs), interval=clamp_interval(interval),
                              title=str(data.get("title", "")).strip())


def load_config(path: str | Path | None = None) -> PresentationConfig:
    """Read ``data/presentation.toml`` (or ``path``)."""
    file = Path(path) if path is not None else DEFAULT_CONFIG_FILE
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SlideConfigError(f"Presentationsfilen {file.name} kunde inte läsas: {err}") \
            from err
    return parse_config(text, name=file.name)


# --------------------------------------------------------------------------- navigation


def clamp_interval(seconds: int | float) -> int:
    """0 (or less) = no auto-advance; otherwise clamped to 5..600 seconds."""
    if seconds is None or not math.isfinite(float(seconds)) or seconds <= 0:
        return 0
    return int(min(MAX_INTERVAL, max(MIN_INTERVAL, round(float(seconds)))))


def parse_interval(raw: str | None, default: int) -> int:
    """``&interval=`` query value -> seconds (0 = off); invalid text gives ``default``."""
    if raw is None or str(raw).strip() == "":
        return clamp_interval(default)
    try:
        value = float(str(raw).strip().replace(",", "."))
    except ValueError:
        return clamp_interval(default)
    if not math.isfinite(value):
        return clamp_interval(default)
    return clamp_interval(value)


def parse_slide_param(raw: str | None, count: int) -> int:
    """``&slide=N`` (1-based) -> 0-based index; invalid/out of range values are clamped."""
    if count <= 0:
        return 0
    try:
        number = int(str(raw).strip())
    except (TypeError, ValueError):
        return 0
    return min(max(number, 1), count) - 1


def step_index(index: int, count: int, step: int) -> int:
    """Next/previous slide index, wrapping around at both ends."""
    return 0 if count <= 0 else (index + step) % count


def should_advance(last_change: float, now: float, interval: int) -> bool:
    """Has the current slide been shown for (about) ``interval`` seconds?

    A second of slack absorbs timer jitter, so a timer rerun just after a manual change
    does not skip a slide, while a regular timer tick always advances.
    """
    return interval > 0 and now - last_change >= interval - 1.0


# --------------------------------------------------------------------------- slides


@dataclass(frozen=True)
class SlideFigure:
    """A small bar chart (aggregates only): one bar per label, optionally a reference."""

    labels: tuple[str, ...]
    values: tuple[float | None, ...]
    value_name: str
    reference: tuple[float | None, ...] | None = None
    reference_name: str = ""
    unit: str = ""

    @property
    def texts(self) -> tuple[str, ...]:
        return (*self.labels, self.value_name, self.reference_name, self.unit)


@dataclass(frozen=True)
class Slide:
    """One slide: one message with one big number (public audience)."""

    id: str
    kind: str
    title: str
    big_number: str
    message: str
    subtitle: str = ""
    status: str = ""  # "better" | "worse" | "noise" | "nodata" | ""
    status_text: str = ""
    detail: str = ""
    footer: str = ""
    demo: bool = False
    figure: SlideFigure | None = None

    @property
    def texts(self) -> tuple[str, ...]:
        """Every text shown on the slide (for privacy tests)."""
        base = (self.title, self.big_number, self.message, self.subtitle, self.status_text,
                self.detail, self.footer)
        return base + (self.figure.texts if self.figure else ())


@dataclass
class _Context:
    frames: Mapping[str, pd.DataFrame]
    promise: Promise | None
    settings: DisclosureSettings
    today: date
    as_of: date  # reference day of the data (latest incident day, never after today)
    data_date: Mapping[str, date | None]
    is_demo: bool
    population: int | None
    overviews: dict[str, sections.GoalOverview] = field(default_factory=dict)



def _frames(bundle: Any) -> Mapping[str, pd.DataFrame]:
    frames = getattr(bundle, "frames", bundle)
    return frames if isinstance(frames, Mapping) else {}


def _footer(ctx: _Context, source: str, datasets: Sequence[str]) -> str:
    dates = [ctx.data_date.get(d) for d in datasets if ctx.data_date.get(d) is not None]
    parts = [f"Källa: {source}"] if source else []
    if dates:
        parts.append(f"Data t.o.m. {fmt_date(max(dates))}")  # type: ignore[type-var]
    if ctx.is_demo:
        parts.append(DEMO_LABEL)
    return " · ".join(parts)


# ---- public values of goal indicators


def _public_values(view: sections.IndicatorView) -> tuple[str, str, str]:
    """(latest text, previous text, unit) of a goal indicator for the public audience (the
    section's texts, i.e. ``sections.indicator_texts``)."""
    t, ind = view.texts, view.status
    if ind.kind == "ratio":  # "<5 fall" stays one big number; a ratio has no unit
        return (t.latest_full if t.latest_hidden else t.latest, view.previous, "")
    return t.latest, view.previous, t.unit


def _overview(ctx: _Context, gran: str) -> sections.GoalOverview:
    """The goal overview (public) for comparison periods of ``gran``; one per granularity."""
    if gran not in ctx.overviews:
        # Incidents as daily counts (the Lägesbild page's frames: the same cards, and the
        # compact frame is memoised with the incidents' aggregate).
        incidents = ctx.frames.get("incidents")
        frames = ctx.frames if incidents is None else {**ctx.frames, "incidents": (
            est.compact_incidents(incidents, lb.incident_filter_columns(ctx.promise)))}
        ctx.overviews[gran] = sections.goal_overview(
            frames, ctx.promise, audience="public", disclosure=ctx.settings,
            filters=Filters(granularity=gran), today=ctx.today,  # type: ignore[arg-type]
            population=ctx.population)
    return ctx.overviews[gran]


# ---- slide builders


def _title_slide(spec: SlideSpec, ctx: _Context, config: PresentationConfig) -> Slide:
    # Everything about the place comes from the promise file (another municipality swaps
    # that file); the presentation file's title is optional.
    p = ctx.promise
    promise_title = p.title if p is not None else "Medborgarlöftet"
    municipality = p.municipality if p is not None else ""
    short = p.municipality_short if p is not None else ""
    police = p.police_area if p is not None else "Polisen"
    parties = f"{municipality} och {police}" if municipality else police
    return Slide(
        id=spec.key, kind=spec.id,
        title=spec.title or config.title or (f"Trygghetsläget i {short}" if short
                                             else "Trygghetsläget"),
        big_number="Lägesbild", message=promise_title,
        subtitle=f"{parties} · {fmt_date(ctx.today)}",
        footer=_footer(ctx, "", ("incidents", "traffic", "activities")), demo=ctx.is_demo)


def _goal(ctx: _Context, goal_id: str) -> Goal:
    assert ctx.promise is not None  # goal slides are left out without a promise
    try:
        return ctx.promise.goal(goal_id)
    except KeyError:
        known = [g.id for g in ctx.promise.goals]
        raise SlideConfigError(f"Okänt mål {goal_id!r} i presentationsfilen. Målen i "
                               f"medborgarlöftet: {', '.join(known)}.") from None


def _goal_slide(spec: SlideSpec, ctx: _Context) -> Slide:
    goal = _goal(ctx, spec.goal)
    specs = goal.indicators
    gran = NAMED_PERIODS[spec.period] if NAMED_PERIODS[spec.period] != "YTD" else "Y"
    views = _overview(ctx, gran).views_of(goal.id)
    statuses = [v.status for v in views]
    title = spec.title or goal.short_title
    if not specs:
        return Slide(id=spec.key, kind=spec.id, title=title, big_number=MISSING,
                     message="Målet har inga indikatorer.", status="nodata",
                     status_text=STATUS_TEXT[lb.STATUS_NO_DATA],
                     footer=_footer(ctx, "", ()), demo=ctx.is_demo)
    if spec.indicator:
        ids = [s.id for s in specs]
        if spec.indicator not in ids:
            raise SlideConfigError(
                f"Okänd indikator {spec.indicator!r} för målet {spec.goal!r}. Indikatorer: "
                f"{', '.join(ids)}.")
        pick = ids.index(spec.indicator)
    else:
        with_data = [i for i, st in enumerate(statuses) if st.status != lb.STATUS_NO_DATA]
        pick = with_data[0] if with_data else 0
    ind = statuses[pick]
    latest, previous, unit = _public_values(views[pick])
    sub = [ind.latest_period] if ind.latest_period and ind.latest_period != MISSING else []
    if unit:
        sub.append(unit)
    if ind.previous_period:
        sub.append(f"förra: {previous} ({ind.previous_period})")
    counts = dict.fromkeys(lb.STATUSES, 0)
    for st in statuses:
        counts[st.status] += 1
    n = len(statuses)
    detail = (f"Målets {n} indikator{'er' if n != 1 else ''}: "
              f"{counts[lb.STATUS_BETTER]} bättre · {counts[lb.STATUS_WORSE]} sämre · "
              f"{counts[lb.STATUS_NOISE]} inom slumpen · {counts[lb.STATUS_NO_DATA]} utan data")
    datasets = tuple(sorted({s.dataset for s in specs}))
    return Slide(
        id=spec.key, kind=spec.id, title=title, big_number=latest, message=ind.label,
        subtitle=" · ".join(sub), status=STATUS_KEY[ind.status],
        status_text=STATUS_TEXT[ind.status], detail=detail,
        footer=_footer(ctx, source_text(*datasets), datasets), demo=ctx.is_demo)


def _laget_slide(spec: SlideSpec, ctx: _Context) -> Slide:
    statuses = [v.status for v in _overview(ctx, "M").indicators]
    better = sum(i.status == lb.STATUS_BETTER for i in statuses)
    worse = sum(i.status == lb.STATUS_WORSE for i in statuses)
    missing = sum(i.status == lb.STATUS_NO_DATA for i in statuses)
    with_data = len(statuses) - missing
    beyond = better + worse
    message = (f"av {fmt_int(with_data)} indikatorer med data har förändrats mer än "
               "slumpen kan förklara")
    status = "worse" if worse else ("better" if better else "noise")
    status_text = (f"{better} i önskad riktning · {worse} i fel riktning" if beyond else
                   "Ingen indikator har förändrats mer än slumpen kan förklara")
    return Slide(
        id=spec.key, kind=spec.id, title=spec.title or "Läget just nu",
        big_number=fmt_int(beyond), message=message, status=status, status_text=status_text,
        subtitle="Senaste period jämfört med perioden före (enkäter: senaste mätåret)",
        detail=f"{missing} indikator{'er' if missing != 1 else ''} saknar data" if missing
        else "",
        footer=_footer(ctx, "medborgarlöftets indikatorer",
                       ("incidents", "survey", "youth", "traffic", "activities")),
        demo=ctx.is_demo)


def _est_slide(spec: SlideSpec, ctx: _Context) -> Slide:
    incidents = ctx.frames.get("incidents")
    title = spec.title or "EST – senaste hela veckan"
    footer = _footer(ctx, source_text("incidents"), ("incidents",))
    if incidents is None or incidents.empty:
        return Slide(id=spec.key, kind=spec.id, title=title, big_number=MISSING,
                     message="Inga EST-rapporter ännu.", status="nodata",
                     status_text=STATUS_TEXT[lb.STATUS_NO_DATA], footer=footer,
                     demo=ctx.is_demo)
    # The Händelser page's weekly table as published (perturbed counts; the change test
    # on the published numbers, hidden with them).
    week, prepared = est_sections.weekly(incidents, ctx.as_of, "category", "public",
                                         ctx.settings)
    total, shown = prepared.numeric.iloc[0], prepared.display.iloc[0]
    if shown["change"] == SECONDARY_MARK or not bool(total["significant"]):
        status, status_text = "noise", "Inom slumpvariationen jämfört med de fyra veckorna före"
    elif float(total["diff"]) > 0:
        status, status_text = "worse", "Fler än vanligt – utanför slumpvariationen"
    else:
        status, status_text = "better", "Färre än vanligt – utanför slumpvariationen"
    # The 4-week mean is a published figure too: when its total is small it is hidden.
    base_text = (ctx.settings.small_mark if pd.isna(total["baseline"])
                 else fmt_float(float(total["baseline"]), 1))
    body = prepared.numeric.iloc[1:].dropna(subset=["count"])
    top = body.sort_values("count", ascending=False, kind="stable")
    detail = f"Vanligast: {top.iloc[0]['group']}" if not top.empty else ""
    # Small trend: the shared incident trend section (the report's and Lägesbild's) over
    # the last 12 complete weeks, public: small counts hidden (NaN) instead of drawn.
    starts = [pd.Timestamp(s) for s in periods_back(week.week_start, "W", 12)]
    window = apply_filters(incidents, "incidents", Filters.span(
        starts[0].date(), (pd.Timestamp(week.week_start) + pd.Timedelta(days=7)).date()))
    trend = sections.incident_trend_section(
        window, granularity="W", audience="public", disclosure=ctx.settings,
        data_date=ctx.data_date.get("incidents"), first=starts[0].date(),
        last=pd.Timestamp(week.week_start).date(), key="est_vecka_trend")
    if trend.is_empty:  # no incident in twelve weeks: every week is a zero
        values = tuple(None if is_small(0, ctx.settings) else 0.0 for _ in starts)
    else:
        per_week = dict(zip(pd.to_datetime(trend.numeric["period_start"]),
                            trend.numeric["antal"], strict=True))
        values = tuple(None if pd.isna(per_week[s]) else float(per_week[s]) for s in starts)
    figure = SlideFigure(labels=tuple(fmt_week(s) for s in starts), values=values,
                         value_name="Händelser per vecka")
    return Slide(
        id=spec.key, kind=spec.id, title=title,
        big_number=str(shown["count"]),
        message=f"händelser rapporterades {fmt_week(week.week_start, with_year=True)}",
        subtitle=f"{fmt_date(week.week_start)}–{fmt_date(week.week_end)} · snitt de fyra "
                 f"veckorna före: {base_text}",
        status=status, status_text=status_text, detail=detail, footer=footer,
        demo=ctx.is_demo, figure=figure)


def _traffic_slide(spec: SlideSpec, ctx: _Context) -> Slide:
    title = spec.title or "Trafikkontroller"
    footer = _footer(ctx, source_text("traffic"), ("traffic",))
    start, end, label = named_period(spec.period, _latest(ctx, "traffic"))
    # The report's section (public): offences hidden when few, with the rate behind them.
    section = sections.traffic_section(ctx.frames.get("traffic"), start=start, end=end,
                                       audience="public", disclosure=ctx.settings,
                                       data_date=ctx.data_date.get("traffic"))
    if section.is_empty:
        return Slide(id=spec.key, kind=spec.id, title=title, big_number="0",
                     message=f"trafikkontroller {label}", status="nodata",
                     status_text="Inga kontroller registrerade under perioden",
                     footer=footer, demo=ctx.is_demo)
    row = section.table.iloc[0]
    offence_text = f"{row['Överträdelser']} överträdelser"
    if not pd.isna(section.numeric["offences"].iloc[0]):
        offence_text += f" ({row['Per 100 kontrollerade fordon']} per 100 kontrollerade fordon)"
    return Slide(
        id=spec.key, kind=spec.id, title=title, big_number=row["Kontroller"],
        message=f"trafikkontroller {label}",
        subtitle=f"{row['Kontrollerade fordon']} kontrollerade fordon · {offence_text}",
        detail=f"Varav {row[f'Varav {sections.FOCUS_CONTROL}']} med fokus på "
               f"{sections.FOCUS_CONTROL} (motorburen problematik)",
        footer=footer, demo=ctx.is_demo)


def _latest(ctx: _Context, dataset: str) -> date:
    """Reference day for a dataset's period: its latest date, never after today."""
    day = ctx.data_date.get(dataset)
    return reference_day(day, today=ctx.today) if day is not None else ctx.as_of


def _youth_share(ctx: _Context, indicator: str, grade: str, period: str | None) -> str:
    """The public share text of one survey year, all pupils, from the Unga page's section
    (``sections.youth_sections``); MISSING when that year has no row."""
    rows = ctx.frames.get("youth")
    if not period or period == MISSING or rows is None or rows.empty:
        return MISSING
    found = sections.youth_sections(rows, (indicator,), gender=ALL_GENDERS, audience="public",
                                    disclosure=ctx.settings, data_date=None, grades=(grade,))
    table = found[0].table if found else None
    if table is None or table.empty:
        return MISSING
    hit = table.loc[table["År"] == str(period), "Andel"]
    return str(hit.iloc[0]) if not hit.empty else MISSING


def _youth_slide(spec: SlideSpec, ctx: _Context) -> Slide:
    grade = spec.grade or "åk 9"
    label = f"{YOUTH_LABELS.get(spec.indicator, spec.indicator)}, {grade}"
    # An indicator like the promise's youth indicators (all genders, the home municipality).
    youth_ind = Indicator(
        id=f"unga_{spec.indicator}", goal_id="", label=label, dataset="youth",
        measure="share", direction="down", filters=MappingProxyType({
            "indicator": (spec.indicator,), "grade": (grade,), "gender": ("alla",)}))
    # The status (change beyond random variation) is the goal indicator's; the shares shown
    # are the Unga page's section (public), so page and slide cannot differ.
    ind = lb.indicator_status(youth_ind, ctx.frames, as_of=ctx.today,
                              settings=effective_settings(ctx.promise))
    latest = _youth_share(ctx, spec.indicator, grade, ind.latest_period)
    previous = _youth_share(ctx, spec.indicator, grade, ind.previous_period)
    sub = [f"Andel elever {ind.latest_period}"] if ind.latest_period != MISSING else []
    if ind.previous_period:
        sub.append(f"förra mätningen: {previous} ({ind.previous_period})")
    return Slide(
        id=spec.key, kind=spec.id, title=spec.title or "Unga – levnadsvanor",
        big_number=latest, message=label, subtitle=" · ".join(sub),
        status=STATUS_KEY[ind.status], status_text=STATUS_TEXT[ind.status],
        footer=_footer(ctx, source_text("youth"), ("youth",)),
        demo=ctx.is_demo)


def _activities_slide(spec: SlideSpec, ctx: _Context) -> Slide:
    title = spec.title or "Aktiviteter i medborgarlöftet"
    footer = _footer(ctx, source_text("activities"), ("activities",))
    start, end, label = named_period(spec.period, _latest(ctx, "activities"))
    year = start.year
    # The report's section: done in the period against the promise's plan for the year.
    section = sections.activities_section(ctx.frames.get("activities"), ctx.promise,
                                          start=start, end=end,
                                          data_date=ctx.data_date.get("activities"))
    if section.is_empty:
        return Slide(id=spec.key, kind=spec.id, title=title, big_number=MISSING,
                     message=f"Inga aktiviteter registrerade {label}", status="nodata",
                     status_text=STATUS_TEXT[lb.STATUS_NO_DATA], footer=footer,
                     demo=ctx.is_demo)
    table = section.numeric
    in_plan = table.loc[table["planned"] > 0]
    done_planned = int(in_plan["done"].clip(upper=in_plan["planned"]).sum())
    total_planned = int(in_plan["planned"].sum())
    total_done = int(table["done"].sum())
    ytd = NAMED_PERIODS[spec.period] == "YTD" and end <= date(year, 12, 31)
    detail = f"Totalt {fmt_int(total_done)} genomförda aktiviteter"
    if not total_planned:
        # Outside the promise period: what was done, without a plan to compare with.
        figure = SlideFigure(labels=tuple(str(t) for t in table["activity_type"]),
                             values=tuple(float(v) for v in table["done"]),
                             value_name="Genomförda", unit="tillfällen")
        return Slide(
            id=spec.key, kind=spec.id, title=title, big_number=fmt_int(total_done),
            message=f"aktiviteter genomförda {label}",
            subtitle=f"Medborgarlöftet har ingen plan för {year}", footer=footer,
            demo=ctx.is_demo, figure=figure)
    figure = SlideFigure(
        labels=tuple(str(t) for t in table["activity_type"]),
        values=tuple(float(v) for v in table["done"]), value_name="Genomförda",
        reference=tuple(float(v) for v in table["planned"]), reference_name="Planerade",
        unit="tillfällen")
    return Slide(
        id=spec.key, kind=spec.id, title=title,
        big_number=f"{fmt_int(done_planned)} av {fmt_int(total_planned)}",
        message=f"planerade aktivitetstillfällen genomförda {label}",
        subtitle=f"{fmt_pct(done_planned / total_planned, 0)} av årets plan"
        + (" (året pågår)" if ytd else ""),
        detail=detail, footer=footer, demo=ctx.is_demo, figure=figure)


def _comparison_slide(spec: SlideSpec, ctx: _Context) -> Slide:
    """The Jämförelse page's section of one official indicator (public): the home value of
    the latest period as the big number, the other geographies beside it, the page's
    sentence on whether the gap is beyond random variation."""
    assert ctx.promise is not None  # left out without a promise (GOAL_SLIDES)
    found = [o for o in ctx.promise.official_indicators() if o.indicator_id == spec.indicator]
    if not found:
        known = [o.indicator_id for o in ctx.promise.official_indicators()]
        raise SlideConfigError(
            f"Okänd officiell indikator {spec.indicator!r} i presentationsfilen. Indikatorer "
            f"i medborgarlöftet: {', '.join(known) or 'inga'}.")
    frame = ctx.frames.get("statistik")
    comp = cmp.compare_one(frame if frame is not None else pd.DataFrame(), ctx.promise,
                           found[0])
    section = sections.comparison_section(comp, audience="public", disclosure=ctx.settings)
    title = spec.title or section.title
    footer = " · ".join(p for p in (f"Källa: {section.source}",
                                    f"Data t.o.m. {comp.latest_period}"
                                    if comp.latest_period else "",
                                    DEMO_LABEL if ctx.is_demo else "") if p)
    if comp.latest_period is None:
        return Slide(id=spec.key, kind=spec.id, title=title, big_number=MISSING,
                     message=comp.sentence, status="nodata",
                     status_text=STATUS_TEXT[lb.STATUS_NO_DATA], footer=footer,
                     demo=ctx.is_demo)
    latest = section.table.loc[section.numeric["period"] == comp.latest_period]
    roles = section.numeric.loc[latest.index, "role"]
    value_col = [c for c in section.table.columns if c.startswith("Värde")][0]
    home = latest.loc[roles == "home"].iloc[0]
    others = latest.loc[roles != "home"]
    beyond = any(g.beyond_noise for g in comp.gaps)
    status_text = ("Avståndet till länet eller riket är större än slumpen" if beyond else
                   "Inget avstånd till länet eller riket utöver slumpvariationen"
                   if any(g.assessable for g in comp.gaps) else "Osäkerheten kan inte beräknas")
    numbers = section.numeric.loc[latest.index, "value"]
    figure = SlideFigure(labels=tuple(str(g) for g in latest["Geografi"]),
                         values=tuple(None if pd.isna(v) else float(v) for v in numbers),
                         value_name=comp.unit, unit=comp.unit)
    return Slide(
        id=spec.key, kind=spec.id, title=title, big_number=str(home[value_col]),
        message=f"{home['Geografi']} {comp.latest_period}, {_unit_words(comp)}",
        subtitle=" · ".join(f"{o['Geografi']} {o[value_col]}" for _, o in others.iterrows()),
        status="noise" if not beyond else "", status_text=status_text, detail=comp.sentence,
        footer=footer, demo=ctx.is_demo, figure=figure)


def _unit_words(comp: cmp.IndicatorComparison) -> str:
    """ "per 100 000 invånare" for rates, else the configured unit."""
    return f"per 100{NBSP}000 invånare" if comp.kind == "rate" else comp.unit


_BUILDERS = {
    "jamforelse": _comparison_slide,
    "mal": _goal_slide,
    "laget": _laget_slide,
    "est_vecka": _est_slide,
    "trafik": _traffic_slide,
    "unga": _youth_slide,
    "aktiviteter": _activities_slide,
}


def build_deck(bundle: Any, promise: Promise | None, config: PresentationConfig, *,
               today: date | None = None, is_demo: bool | None = None,
               data_date: Mapping[str, date | None] | None = None) -> list[Slide]:
    """The slides of ``config`` in order, always for the public audience.

    ``bundle`` is a ``DataBundle`` (or a mapping of canonical frames); ``is_demo`` and
    ``data_date`` default to the bundle's. ``promise`` is the promise from
    ``promise.load_promise_with_fallback()``. Raises SlideConfigError for a
    goal/indicator the promise does not have.

    ``promise`` None (not even the packaged promise file could be read): the slides that
    need the promise's goals (``mal``, ``laget``) are left out and the others are shown, so
    a council meeting still gets the data slides (the page shows the error above them) —
    a config error would blank the whole screen. SlideConfigError only when no slide is
    left.
    """
    frames = reference.public_area_frames(_frames(bundle))  # always public
    today = today or date.today()
    specs = [s for s in config.slides if promise is not None or s.id not in GOAL_SLIDES]
    if not specs:
        raise SlideConfigError("Medborgarlöftet kunde inte läsas och presentationen har "
                               "bara bilder som bygger på dess mål.")
    if is_demo is None:
        is_demo = bool(getattr(bundle, "is_demo", False))
    if data_date is None:
        data_date = getattr(bundle, "data_date", None) or {}
    as_of = reference_day(last_data_day(frames), today=today)
    ctx = _Context(frames=frames, promise=promise, settings=settings_of(promise), today=today,
                   as_of=as_of, data_date=data_date, is_demo=is_demo,
                   population=lb.population_for_year(as_of.year))
    slides: list[Slide] = []
    for spec in specs:
        if spec.id == "titel":
            slides.append(_title_slide(spec, ctx, config))
        else:
            slides.append(_BUILDERS[spec.id](spec, ctx))
    return slides


def format_counter(index: int, count: int) -> str:
    """"3 / 7" (1-based)."""
    return f"{index + 1}{NBSP}/{NBSP}{count}"
