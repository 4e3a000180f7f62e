"""Sections: the view-models every surface shows (pages, the report, the slides).

A section builder takes the data (frames or a computed table), the audience, the
disclosure settings and the promise's definitions, and returns a frozen :class:`Section`
with everything a surface shows: key, title, the disclosed display table, the numeric
table behind the chart (hidden values NaN), a figure spec (``figures.build`` turns it into
plotly), notes, the source text, the data date and whether the last period is partial.
Pages, the report and the slides render the SAME sections and compute no numbers of their
own, so a figure cannot differ between them.

Survey shares come only from ``hjo_data.survey`` with the promise's definition
(``promise.Settings.otrygg_includes_never_out``); goal indicators only from
``hjo_data.lagesbild`` and their audience texts from ``indicator_texts`` here (the ONE
place that turns an indicator into display texts).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any

import pandas as pd

from hjo_data import activities as act
from hjo_data import comparison as cmp
from hjo_data import disclosure as dc
from hjo_data import est, periods, reference, survey, traffic, youth
from hjo_data import lagesbild as lb
from hjo_data.disclosure import TOO_FEW_SV, DisclosureSettings, is_small
from hjo_data.filters import Filters, apply_filters
from hjo_data.formatting import fmt_ci, fmt_date, fmt_float, fmt_int, fmt_pct
from hjo_data.promise import Promise, Settings, home_municipality
from hjo_data.schema import AGE_GROUPS, GENDERS, GRADES, WHOLE_MUNICIPALITY, source_text

#: Under a chart whose hidden points are simply missing.
HIDDEN_POINTS_MISSING = "De punkterna saknas i diagrammet."


@dataclass(frozen=True)
class FigureSpec:
    """What to draw: a ``hjo_data.figures`` builder name, its data and its options (the
    builder's keyword arguments). ``figures.build(spec)`` makes the plotly figure."""

    kind: str
    data: pd.DataFrame
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Section:
    """One titled part of a surface, already safe for its audience.

    ``table`` is the display table (strings: "<5", "för få svar" where hidden);
    ``numeric`` the numbers behind the chart (NaN where hidden); ``figure`` None when
    there is nothing to draw; ``empty`` the Swedish text to show instead of an empty
    section. ``partial_until``: the last period is incomplete, data until that day.
    """

    key: str
    title: str
    table: pd.DataFrame
    numeric: pd.DataFrame
    figure: FigureSpec | None
    source: str
    data_date: date | None
    notes: tuple[str, ...] = ()
    empty: str = ""
    partial_until: date | None = None

    @property
    def is_empty(self) -> bool:
        return self.table.empty

    @property
    def note(self) -> str:
        """All notes as one caption."""
        return " ".join(n for n in self.notes if n)


def _empty_section(key: str, title: str, source: str, data_date: date | None, empty: str
                   ) -> Section:
    return Section(key, title, pd.DataFrame(), pd.DataFrame(), None, source, data_date,
                   empty=empty)


# --------------------------------------------------------------------------- youth

#: Shown on the Unga page when an "alla" share is pooled from the gender rows.
YOUTH_POOLED_NOTE = ("Alla: underlaget redovisar bara flickor och pojkar var för sig, så "
                     "andelen för alla elever är deras sammanvägda andel (vägd med antal svar).")
YOUTH_NO_COMPARISON = ("Underlaget har ingen jämförelse med region eller riket för det här "
                       "urvalet.")


def youth_sections(rows: pd.DataFrame, indicators: Sequence[str], *, gender: str,
                   audience: str, disclosure: DisclosureSettings, data_date: date | None,
                   grades: tuple[str, ...] = ()) -> list[Section]:
    """One section per indicator with data: shares per year and grade for ``gender``
    ("alla": pooled from the gender rows where the data have no "alla" row), with 95 % CI
    and n, small n hidden for the public. The Unga page's charts and the youth slide."""
    series = youth.youth_series(rows, tuple(indicators), genders=(gender,), grades=grades)
    grade_order = {g: i for i, g in enumerate(GRADES)}
    out: list[Section] = []
    for ind in indicators:
        sub = series[series["indicator"] == ind].sort_values(
            "grade", key=lambda s: s.map(grade_order), kind="stable")
        if sub.empty:
            continue
        title = f"{youth.YOUTH_LABELS.get(ind, ind)} – andel per årskurs"
        prepared = dc.prepare_table(sub, audience, disclosure, kind="shares")
        shown = prepared.display
        table = pd.DataFrame({
            "Indikator": shown["indicator_label"].to_numpy(),
            "År": shown["year"].astype(str).to_numpy(), "Årskurs": shown["grade"].to_numpy(),
            "Kön": shown["gender"].to_numpy(), "Andel": shown["share"].to_numpy(),
            "95 % KI": dc.ci_texts(prepared), "Antal svar (n)": shown["n"].to_numpy()})
        figure = FigureSpec("share_lines_errorbars", prepared.numeric, MappingProxyType({
            "group": "grade", "title": title, "y_title": "Andel elever (%)",
            "legend_title": "Årskurs"}))
        hidden = f"{prepared.note} {HIDDEN_POINTS_MISSING}" if prepared.note else ""
        out.append(Section(f"unga_{ind}", title, table, prepared.numeric, figure,
                           source_text("youth"), data_date, notes=(hidden,) if hidden else ()))
    return out


def youth_comparison_grade(rows: pd.DataFrame) -> str:
    """The grade compared with region/country: åk 9 when the data have it."""
    return "åk 9" if (rows["grade"] == "åk 9").any() else str(rows["grade"].iloc[0])


def youth_comparison_section(rows: pd.DataFrame, indicators: Sequence[str], *, group: str,
                             gender: str, audience: str, disclosure: DisclosureSettings,
                             data_date: date | None) -> Section:
    """The home municipality next to region/country (latest year, the comparison grade),
    with one note per indicator on whether the difference is beyond random variation.
    Notes name geographies from the data: a surface shows them as plain text."""
    key, source = "unga_jamforelse", source_text("youth")
    year = youth.latest_year(rows)
    if year is None:
        return _empty_section(key, group, source, data_date, YOUTH_NO_COMPARISON)
    grade = youth_comparison_grade(rows)
    title = f"{group}: {grade}, {year}, jämförelse"
    comp = youth.comparison(rows, tuple(indicators), year=year, grade=grade, gender=gender)
    if comp.empty:
        return _empty_section(key, title, source, data_date, YOUTH_NO_COMPARISON)
    home = home_municipality()  # the promise's municipality (may be absent from the data)
    comp = comp.assign(label=comp["indicator_label"] + " – " + comp["geography"],
                       home=comp["geography"] == home)
    prepared = dc.prepare_table(comp, audience, disclosure, kind="shares")
    table = pd.DataFrame({
        "Indikator": comp["indicator_label"].to_numpy(),
        "Geografi": comp["geography"].to_numpy(),
        "Andel": prepared.display["share"].to_numpy(), "95 % KI": dc.ci_texts(prepared),
        "Antal svar (n)": prepared.display["n"].to_numpy()})
    numeric = prepared.numeric.assign(geography=comp["geography"].to_numpy(),
                                      indicator_label=comp["indicator_label"].to_numpy())
    figure = FigureSpec("ranked_share_bars", prepared.numeric, MappingProxyType({
        "label": "label", "emphasis": "home", "x_title": "Andel elever (%)", "title": title}))
    hidden = f"{prepared.note} {HIDDEN_POINTS_MISSING}" if prepared.note else ""
    notes = (*youth.comparison_notes(numeric, home), *((hidden,) if hidden else ()))
    return Section(key, title, table, numeric, figure, source, data_date, notes=notes)


# --------------------------------------------------------------------------- official statistics

COMPARISON_ESTIMATED = ("≈: antalet är uppskattat ur värdet och befolkningen (källan anger "
                        "bara värdet per 100 000 invånare).")
COMPARISON_EMPTY = ("Det finns ingen officiell statistik för indikatorn ännu. Hämta den med "
                    "python -m hjo_data fetch kolada eller läs in en fil på Datahantering.")


def comparison_section(comp: cmp.IndicatorComparison, *, audience: str,
                       disclosure: DisclosureSettings) -> Section:
    """One official indicator: the municipality against county, Riket and peers over the
    periods (page, report, slide). Counts behind the values go through the disclosure gate
    (``count_text``); the published values themselves are official statistics. Notes: the
    beyond-noise sentence, series breaks, the method and, for demo rows, that they are."""
    ind = comp.indicator
    key = re.sub(r"[^a-z0-9]+", "_", f"jmf_{ind.source}_{ind.indicator_id}".lower())
    gender = "" if comp.gender == "T" else f" – {cmp.GENDER_LABELS.get(comp.gender, '')}"
    title = f"{ind.title}{gender}"
    source = cmp.source_name(ind.source, demo=comp.is_demo)
    if comp.is_empty:
        return _empty_section(key, title, source, None, COMPARISON_EMPTY)
    series = comp.series
    hidden = [audience == "public" and is_small(c, disclosure) for c in series["count"]]
    numeric = series.assign(count=series["count"].mask(pd.Series(hidden, index=series.index)))
    count_label = "Antal svar (n)" if comp.kind == "share" else "Antal (underlag)"
    if comp.kind == "share":
        counts = [dc.count_text(n, audience, disclosure) for n in series["n"]]
    else:
        counts = [("≈" if est and not small else "") + dc.count_text(c, audience, disclosure)
                  for c, est, small in zip(series["count"], series["count_estimated"], hidden,
                                           strict=True)]
    table = pd.DataFrame({
        "Period": series["period"].to_numpy(), "Geografi": series["geo_name"].to_numpy(),
        f"Värde ({comp.unit})": [cmp.format_value(v, comp.kind) for v in series["value"]],
        "95 % KI": [fmt_ci(lo, hi, pct=False) for lo, hi in
                    zip(series["ci_low"], series["ci_high"], strict=True)],
        count_label: counts, "Status": series["status"].to_numpy()})
    periods_order = list(dict.fromkeys(series["period"]))
    figure = FigureSpec("comparison_lines", numeric, MappingProxyType({
        "title": title, "y_title": comp.unit, "periods": periods_order,
        "breaks": [(b.period, b.text) for b in comp.breaks], "percent": comp.kind == "share"}))
    notes = [comp.sentence, *(f"Seriebrott {b.period}: {b.text}" for b in comp.breaks),
             cmp.METHOD_NOTE]
    if any(series["count_estimated"]):
        notes.append(COMPARISON_ESTIMATED)
    if any(hidden):
        notes.append(f"Underlag under {disclosure.threshold} visas som "
                     f"”{disclosure.small_mark}” i publikt läge; värdena är källans "
                     "publicerade statistik.")
    if comp.is_demo:
        notes.append(cmp.DEMO_NOTE)
    last = cmp.period_end(periods_order[-1])
    return Section(key, title, table, numeric, figure, source,
                   date(last, 12, 31) if last else None, notes=tuple(notes))


def comparison_sections(statistik: pd.DataFrame | None, promise: Promise | None, *,
                        gender: str = "T", audience: str,
                        disclosure: DisclosureSettings) -> list[Section]:
    """A section per official indicator of the promise (none without a promise)."""
    if promise is None:
        return []
    frame = statistik if statistik is not None else pd.DataFrame()
    return [comparison_section(c, audience=audience, disclosure=disclosure)
            for c in cmp.compare_all(frame, promise, gender=gender)]


# --------------------------------------------------------------------------- survey

SAFETY_TITLE = "Andel otrygga ensam ute sent en kväll"
SAFETY_Y = "Andel som känner sig otrygga (%)"
SURVEY_SOURCE_DATASETS = ("survey_responses", "survey")


def survey_definition_note(definitions: Settings) -> str:
    """The promise's definition of "otrygg", said where the share is shown."""
    if definitions.otrygg_includes_never_out:
        return ("Definition enligt medborgarlöftet: ”går aldrig ut” räknas som otrygg "
                "(alla svar i nämnaren).")
    return ("Definition enligt medborgarlöftet: ”går aldrig ut” räknas inte med (andel "
            "bland dem som går ut).")


def survey_shares(frames: Mapping[str, pd.DataFrame], definitions: Settings) -> pd.DataFrame:
    """Every survey share of ``frames`` (micro data and aggregated results) under the
    promise's definition: ``survey.combine_survey`` (the one computation)."""
    return survey.combine_survey(frames.get("survey_responses"), frames.get("survey"),
                                 include_never_out=definitions.otrygg_includes_never_out)


def survey_data_date(data_date: Mapping[str, date | None]) -> date | None:
    dates = [data_date.get(n) for n in SURVEY_SOURCE_DATASETS if data_date.get(n)]
    return max(dates) if dates else None  # type: ignore[type-var]


#: key, "per ..." word, table column label, group column, row selector.
_SAFETY_VIEWS: tuple[tuple[str, str, str, str], ...] = (
    ("tr_total", WHOLE_MUNICIPALITY, "Grupp", "group"),
    ("tr_kon", "kön", "Kön", "group"),
    ("tr_alder", "åldersgrupp", "Åldersgrupp", "group"),
    ("tr_omrade", "område", "Område", "area"),
)


def _safety_rows(unsafe: pd.DataFrame, key: str) -> pd.DataFrame:
    total_area = unsafe["area"] == WHOLE_MUNICIPALITY
    total_group = unsafe["group"] == survey.TOTAL_GROUP
    if key == "tr_total":
        return unsafe[total_area & total_group]
    if key == "tr_kon":
        return unsafe[total_area & unsafe["group"].isin([g for g in GENDERS if g != "alla"])]
    if key == "tr_alder":
        return unsafe[total_area & unsafe["group"].isin(AGE_GROUPS)]
    return unsafe[~total_area & total_group]


def share_table(prepared: dc.PreparedTable, group_label: str | None, group_col: str | None,
                value_label: str) -> pd.DataFrame:
    """Display table of a prepared yearly share table: År, [group], value, 95 % KI, n."""
    shown = prepared.display
    out = {"År": shown["year"].astype(str).to_numpy()}
    if group_label and group_col:
        out[group_label] = shown[group_col].to_numpy()
    out |= {value_label: shown["share"].to_numpy(), "95 % KI": dc.ci_texts(prepared),
            "Antal svar (n)": shown["n"].to_numpy()}
    return pd.DataFrame(out)


def safety_sections(shares: pd.DataFrame, *, audience: str, disclosure: DisclosureSettings,
                    definitions: Settings, data_date: date | None,
                    until_year: int | None = None, views: Sequence[str] | None = None
                    ) -> list[Section]:
    """The "andel otrygga" trend: whole municipality, by gender, age group and area.

    ``shares`` is ``survey_shares(frames, definitions)`` of the surface's data;
    ``until_year`` drops later years (the report's period); ``views`` picks keys
    (tr_total, tr_kon, tr_alder, tr_omrade; default all).
    """
    unsafe = shares[shares["indicator"] == survey.OTRYGG]
    if until_year is not None:
        unsafe = unsafe[unsafe["year"] <= until_year]
    source = source_text(*SURVEY_SOURCE_DATASETS)
    definition = survey_definition_note(definitions)
    out: list[Section] = []
    for key, name, label, group_col in _SAFETY_VIEWS:
        if views is not None and key not in views:
            continue
        title = SAFETY_TITLE if key == "tr_total" else f"{SAFETY_TITLE}, per {name}"
        rows = _safety_rows(unsafe, key).sort_values([group_col, "year"], kind="stable")
        if rows.empty:
            out.append(_empty_section(key, title, source, data_date, (
                "Ingen redovisning för hela kommunen i urvalet." if key == "tr_total"
                else f"Ingen redovisning per {name} i urvalet.")))
            continue
        prepared = dc.prepare_table(rows.reset_index(drop=True), audience, disclosure,
                                    kind="shares")
        grouped = key != "tr_total"
        figure = FigureSpec("share_trend", prepared.numeric, MappingProxyType({
            "group": group_col if grouped else None, "title": title, "y_title": SAFETY_Y,
            "legend_title": label}))
        table = share_table(prepared, label if grouped else None,
                            group_col if grouped else None, "Andel otrygga")
        hidden = f"{prepared.note} {HIDDEN_POINTS_MISSING}" if prepared.note else ""
        notes = (hidden, definition) if key == "tr_total" else (hidden,)
        out.append(Section(key, title, table, prepared.numeric, figure, source, data_date,
                           notes=notes))
    return out


def problem_years(shares: pd.DataFrame) -> list[int]:
    """Years with problem questions, ascending."""
    rows = shares.loc[shares["indicator"].isin(survey.PROBLEM_INDICATORS), "year"]
    return sorted(int(y) for y in rows.unique())


def problem_section(shares: pd.DataFrame, year: int, *, audience: str,
                    disclosure: DisclosureSettings, data_date: date | None) -> Section:
    """The problem index of one year: problems ranked by share with 95 % CIs."""
    key, source = "tr_problem", source_text(*SURVEY_SOURCE_DATASETS)
    title = f"Andel som ser ett stort problem i bostadsområdet, {year}"
    index = survey.problem_index(shares, int(year))
    if index.empty:
        return _empty_section(key, title, source, data_date,
                              f"Inga svar på problemfrågorna {year}.")
    prepared = dc.prepare_table(index, audience, disclosure, kind="shares")
    hidden = prepared.numeric["share"].isna().to_numpy()
    table = pd.DataFrame({
        "Rang": ["–" if h else str(r) for r, h in zip(index["rank"], hidden, strict=True)],
        "Problem": index["label"].to_numpy(),
        "Andel stort problem": prepared.display["share"].to_numpy(),
        "95 % KI": dc.ci_texts(prepared),
        "Antal svar (n)": prepared.display["n"].to_numpy(),
        "Ordningen säker": ["–" if h else ("nej" if o else "ja") for o, h in zip(
            index["overlaps_next"], hidden, strict=True)]})
    figure = FigureSpec("ranked_share_bars", prepared.numeric, MappingProxyType({
        "label": "label", "colour_index": 3, "title": title,
        "x_title": "Andel som svarat mycket/ganska stort problem (%)"}))
    hidden_note = f"{prepared.note} {HIDDEN_POINTS_MISSING}" if prepared.note else ""
    return Section(key, title, table, prepared.numeric, figure, source, data_date,
                   notes=(hidden_note,))


# --------------------------------------------------------------------------- incidents

TREND_EMPTY = "Inga händelser finns för den valda perioden."


def incident_trend_section(incidents: pd.DataFrame | None, *, granularity: str,
                           audience: str, disclosure: DisclosureSettings,
                           data_date: date | None, data_until: date | None = None,
                           data_from: date | None = None, first: date | None = None,
                           last: date | None = None, title: str | None = None,
                           key: str = "lagesbild_trend") -> Section:
    """Incidents (EST) per period: small counts hidden for the public, partial periods
    flagged (not drawn like full ones, "(ofullständig)" in the table).

    ``incidents`` are already filtered (rows or ``est.compact_incidents``). ``first`` /
    ``last``: period starts to show (zeros filled; default: the data's). A period is
    partial when the data (``data_from``..``data_until``; default until ``data_date``)
    do not cover all its days.
    """
    gran = periods.check_granularity(granularity)
    title = title or f"Händelser (EST) per {periods.UNIT_WORDS[gran]}"
    source = source_text("incidents")
    table = est.incidents_per_period(incidents, gran)
    if not table.empty and (first is not None or last is not None):
        starts = periods.period_range(first or table["period_start"].min(),
                                      last or table["period_start"].max(), gran)
        table = table.set_index("period_start").reindex(starts)
        for col in ("antal", f"antal{dc.KEY_SUFFIX}"):
            table[col] = table[col].fillna(0).astype("int64")
        table = table.rename_axis("period_start").reset_index()
        table["period"] = [periods.period_label(d, gran) for d in table["period_start"]]
    if table.empty or int(table["antal"].sum()) == 0:
        return _empty_section(key, title, source, data_date, TREND_EMPTY)
    until = data_until or data_date
    partial = (periods.partial_mask(table["period_start"], gran, until, data_from)
               if until is not None else pd.Series(False, index=table.index).to_numpy())
    labels = [f"{p} ({periods.PARTIAL_SV})" if h else p
              for p, h in zip(table["period"], partial, strict=True)]
    safe = dc.table_for_audience(
        pd.DataFrame({"Period": labels, "Antal händelser": table["antal"].to_numpy(),
                      f"Antal händelser{dc.KEY_SUFFIX}": table[f"antal{dc.KEY_SUFFIX}"]
                      .to_numpy()}),
        audience, "counts", disclosure, count_columns=["Antal händelser"])
    numeric = table.drop(columns=f"antal{dc.KEY_SUFFIX}").assign(
        antal=safe.numeric["Antal händelser"].to_numpy(dtype="float64"), partial=partial)
    shown = safe.display
    partial_until = until if partial[-1] else None
    figure = FigureSpec("incident_trend", numeric, MappingProxyType({
        "granularity": gran, "title": title, "data_until": until}))
    notes = (safe.note,)
    if partial.any() and until is not None:
        notes += (f"Perioder som data inte täcker helt (data t.o.m. {fmt_date(until)}) är "
                  "markerade som ofullständiga och ritas ljusare.",)
    return Section(key, title, shown, numeric, figure, source, data_date, notes=notes,
                   partial_until=partial_until)


# --------------------------------------------------------------------------- activities


def activities_section(activities: pd.DataFrame | None, promise: Promise | None, *,
                       start: date, end: date, data_date: date | None,
                       data_until: date | None = None, title: str | None = None,
                       key: str = "aktiviteter_plan") -> Section:
    """Activities done in ``[start, end)`` against the promise's plan for ``start``'s year
    (the authorities' own work: counts are shown as they are, also publicly).

    ``numeric`` has activity_type, done, planned (0 = not in the plan), share_done (NaN
    without a plan); the table the same in Swedish. Without any plan for the year only
    what was done is drawn. ``data_until``: the last day with data; a year it does not
    cover is flagged (what was done so far against the whole year's plan). Empty when
    nothing was done or planned."""
    year = start.year
    span = f"{year} t.o.m. {fmt_date(end - timedelta(days=1))}"
    title = title or f"Aktiviteter {span}"
    source = source_text("activities")
    planned = act.planned_frame(promise)
    planned = planned.loc[(planned["year"] == year).to_numpy()]
    done = (apply_filters(activities, "activities",
                          Filters.span(start, end))
            if activities is not None else None)
    if done is None or (done.empty and planned.empty):
        return _empty_section(key, title, source, data_date,
                              f"Inga aktiviteter registrerade {year}.")
    table = act.done_vs_planned(done, planned)
    table = table.loc[(table["year"] == year).to_numpy(),
                      ["activity_type", "done", "planned", "share_done"]
                      ].reset_index(drop=True)
    has_plan = bool((table["planned"] > 0).any())
    shown = pd.DataFrame({"Aktivitet": table["activity_type"].to_numpy(),
                          "Genomförda": [fmt_int(v) for v in table["done"]],
                          "Planerade": [fmt_int(v) if v else "–" for v in table["planned"]],
                          "Andel av plan": [fmt_pct(v) for v in table["share_done"]]})
    if has_plan:
        series = (("done", "Genomförda"), ("planned", "Planerade"))
        figure_title = f"Genomförda och planerade aktiviteter {span}"
        notes: tuple[str, ...] = ("Planerat antal gäller hela året.",)
    else:
        series, figure_title = (("done", "Genomförda"),), f"Genomförda aktiviteter {span}"
        notes = (f"Medborgarlöftet anger inga planerade antal för {year}; andelen av plan "
                 "kan inte beräknas.",)
    partial_until = None
    if has_plan and data_until is not None and not periods.is_complete(
            date(year, 1, 1), "Y", data_until):
        partial_until = data_until
        notes += (f"{year} är inte slut i data ({periods.partial_text(data_until)}): det "
                  "genomförda hittills jämförs med hela årets plan.",)
    figure = FigureSpec("grouped_bars", table, MappingProxyType({
        "x": "activity_type", "series": series, "title": figure_title,
        "x_title": "Aktivitet", "y_title": "Antal tillfällen"}))
    return Section(key, title, shown, table, figure, source, data_date, notes=notes,
                   partial_until=partial_until)


def activity_years(activities: pd.DataFrame, promise: Promise | None) -> list[int]:
    """Years with activities done or planned by the promise, ascending."""
    return act.years_of(act.done_vs_planned(activities, act.planned_frame(promise)))


def year_within(year: int, filters: Filters, data_until: date | None = None
                ) -> tuple[date, date]:
    """``[start, end)`` of ``year`` cut to the filters' period and to the last day with
    data (a page's year choice: "2026 t.o.m. 3 dec", not "t.o.m. 31 dec")."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    if filters.start is not None and start < filters.start < end:
        start = filters.start
    for last in (filters.end, data_until):
        if last is not None and start <= last < end - timedelta(days=1):
            end = last + timedelta(days=1)
    return start, end


#: Under a chart whose hidden values are left out.
HIDDEN_NOT_DRAWN = "Dolda värden ritas inte i diagrammet."


def _hidden_note(prepared: dc.PreparedTable) -> tuple[str, ...]:
    return (f"{prepared.note} {HIDDEN_NOT_DRAWN}",) if prepared.note else ()


def walks_section(activities: pd.DataFrame, *, audience: str,
                  disclosure: DisclosureSettings, data_date: date | None,
                  data_until: date | None = None, key: str = "akt_vandringar") -> Section:
    """Safety walks per year: share of decided actions done (with 95 % CI); participants
    are people (small counts hidden for the public)."""
    title, source = "Andel genomförda åtgärder efter trygghetsvandringar", source_text(
        "activities")
    walks = act.safety_walks(activities)
    if walks.empty:
        return _empty_section(key, title, source, data_date,
                              "Inga trygghetsvandringar i urvalet.")
    shown = walks.dropna(subset=["share_done"]).assign(
        n=lambda f: f["actions_decided"], share=lambda f: f["share_done"])
    if shown.empty:
        return _empty_section(key, title, source, data_date,
                              "Inga beslutade åtgärder efter trygghetsvandringarna ännu.")
    prep = dc.prepare_columns(walks, ["participants"], audience, disclosure)
    table = pd.DataFrame({
        "År": walks["year"].astype(str), "Vandringar": walks["walks"].map(fmt_int),
        "Deltagare": prep.display["participants"].to_numpy(),
        "Iakttagelser": walks["findings"].map(fmt_int),
        "Beslutade åtgärder (n)": walks["actions_decided"].map(fmt_int),
        "Genomförda åtgärder": walks["actions_done"].map(fmt_int),
        "Andel genomförda": walks["share_done"].map(fmt_pct),
        "95 % KI": [fmt_ci(lo, hi) for lo, hi in zip(walks["ci_low"], walks["ci_high"],
                                                     strict=True)]})
    figure = FigureSpec("share_trend", shown, MappingProxyType({
        "group": None, "x": "year", "title": title,
        "y_title": "Genomförda av beslutade åtgärder (%)", "data_until": data_until}))
    return Section(key, title, table, shown, figure, source, data_date,
                   notes=_hidden_note(prep))


def participants_section(activities: pd.DataFrame, *, audience: str,
                         disclosure: DisclosureSettings, data_date: date | None,
                         key: str = "akt_deltagare") -> Section:
    """Participants per activity type (people: small counts hidden, hidden rows last)."""
    title, source = "Deltagare per aktivitetstyp", source_text("activities")
    if activities.empty:
        return _empty_section(key, title, source, data_date, "Inga aktiviteter i urvalet.")
    parts = dc.hidden_last(dc.prepare_columns(act.participants_by(activities),
                                              ["participants"], audience, disclosure),
                           "participants", label="group")
    numeric = parts.numeric.assign(shown=parts.display["participants"].to_numpy())
    table = pd.DataFrame({"Aktivitet": parts.display["group"].to_numpy(),
                          "Tillfällen": parts.display["activities"].map(fmt_int).to_numpy(),
                          "Deltagare": parts.display["participants"].to_numpy()})
    figure = FigureSpec("bar_chart", numeric, MappingProxyType({
        "x": "participants", "y": "group", "colour_index": 2, "value_text": "shown",
        "title": title, "x_title": "Antal deltagare", "y_title": None}))
    return Section(key, title, table, numeric, figure, source, data_date,
                   notes=_hidden_note(parts))


def targets_section(activities: pd.DataFrame, *, audience: str,
                    disclosure: DisclosureSettings, data_date: date | None,
                    key: str = "akt_malgrupp") -> Section:
    """Activities per target group (the 15 largest drawn), participants hidden when few."""
    title, source = "Aktiviteter per målgrupp", source_text("activities")
    targets = act.target_groups(activities)
    if targets.empty:
        return _empty_section(key, title, source, data_date,
                              "Inga målgrupper angivna i urvalet.")
    prep = dc.prepare_columns(targets, ["participants"], audience, disclosure)
    table = pd.DataFrame({"Målgrupp": targets["group"].to_numpy(),
                          "Aktiviteter": targets["activities"].map(fmt_int).to_numpy(),
                          "Deltagare": prep.display["participants"].to_numpy()})
    figure = FigureSpec("bar_chart", targets.head(15), MappingProxyType({
        "x": "activities", "y": "group", "colour_index": 4, "title": title,
        "x_title": "Antal aktiviteter", "y_title": None}))
    return Section(key, title, table, targets, figure, source, data_date,
                   notes=_hidden_note(prep))


def sectors_section(activities: pd.DataFrame, *, data_date: date | None,
                    key: str = "akt_parter") -> Section:
    """Activities each kind of organiser took part in (organisations, not people)."""
    title, source = "Aktiviteter där parten medverkade", source_text("activities")
    sectors = act.organiser_sectors(activities)
    if sectors.empty:
        return _empty_section(key, title, source, data_date, "Inga arrangörer i urvalet.")
    table = pd.DataFrame({"Part": sectors["sector"],
                          "Aktiviteter": sectors["activities"].map(fmt_int),
                          "Andel av alla": sectors["share"].map(fmt_pct)})
    figure = FigureSpec("bar_chart", sectors, MappingProxyType({
        "x": "activities", "y": "sector", "colour_index": 0, "title": title,
        "x_title": "Antal aktiviteter", "y_title": None}))
    return Section(key, title, table, sectors, figure, source, data_date)


# --------------------------------------------------------------------------- traffic

FOCUS_CONTROL = "fordon/EPA-moped"


def traffic_section(traffic_rows: pd.DataFrame | None, *, start: date, end: date,
                    audience: str, disclosure: DisclosureSettings, data_date: date | None,
                    data_until: date | None = None, title: str | None = None,
                    key: str = "trafik") -> Section:
    """Traffic controls in ``[start, end)``: one summary row (controls, vehicles checked,
    offences, offences per 100 vehicles, controls focused on mopeds) and the controls per
    month (partial months drawn lighter). Controls and vehicles are the police's own work
    (shown as they are); offences are about people: a small count is hidden for the public,
    and so is the rate it could be recomputed from."""
    title = title or (f"Trafikkontroller {fmt_date(start)}–"
                      f"{fmt_date(end - timedelta(days=1))}")
    source = source_text("traffic")
    data = (apply_filters(traffic_rows, "traffic",
                          Filters.span(start, end))
            if traffic_rows is not None else None)
    if data is None or data.empty:
        return _empty_section(key, title, source, data_date,
                              "Inga kontroller registrerade under perioden.")
    controls, checked = len(data), int(data["vehicles_checked"].sum())
    offences = int(traffic.total_offences(data).sum())
    focus = (int((data["control_type"] == FOCUS_CONTROL).sum())
             if "control_type" in data.columns else 0)
    offence_text = dc.count_text(offences, audience, disclosure)
    hidden = offence_text == disclosure.small_mark and audience == "public"
    per_100 = float("nan") if hidden or not checked else offences / checked * 100
    table = pd.DataFrame({
        "Kontroller": [fmt_int(controls)], "Kontrollerade fordon": [fmt_int(checked)],
        "Överträdelser": [offence_text],
        "Per 100 kontrollerade fordon": [dc.SECONDARY_MARK if hidden else fmt_float(per_100, 1)],
        f"Varav {FOCUS_CONTROL}": [fmt_int(focus)]})
    numeric = pd.DataFrame({"controls": [controls], "vehicles_checked": [checked],
                            "offences": [float("nan") if hidden else float(offences)],
                            "per_100": [per_100], "focus": [focus]})
    monthly = traffic.controls_per_month(data)
    figure = FigureSpec("period_bars", monthly, MappingProxyType({
        "x": "month", "y": "controls", "gran": "M", "title": "Trafikkontroller per månad",
        "x_title": "Månad", "y_title": "Antal kontroller", "name": "Kontroller",
        "data_until": data_until}))
    notes = ("Antal genomförda kontroller (polisens arbete, inte personer).",)
    if hidden:
        notes += (dc.suppression_note(disclosure),)
    return Section(key, title, table, numeric, figure, source, data_date, notes=notes)


def page_span(filters: Filters, days: pd.Series) -> tuple[date, date]:
    """``[start, end)`` of a page's period filter; an open side ends at the data's first or
    last day (``days``: the page's dates)."""
    known = pd.to_datetime(days, errors="coerce").dropna()
    first = known.min().date() if len(known) else date.today()
    last = known.max().date() if len(known) else date.today()
    start = filters.start or first
    end = (filters.end or max(last, start)) + timedelta(days=1)
    return start, end


def traffic_monthly_section(traffic_rows: pd.DataFrame, incidents: Any, *, audience: str,
                            disclosure: DisclosureSettings, data_date: date | None,
                            data_until: date | None = None, key: str = "trafik_manad"
                            ) -> Section:
    """Controls per month (the traffic section's bars) with the incidents of motorburen
    problematik alongside (about people: small counts hidden for the public)."""
    title = "Trafikkontroller och motorburen problematik per månad"
    monthly = dc.prepare_columns(traffic.motor_alongside_controls(traffic_rows, incidents),
                                 ["motor_incidents"], audience, disclosure)
    shown = monthly.display
    table = pd.DataFrame({
        "Månad": shown["month"].dt.strftime("%Y-%m").to_numpy(),
        "Kontroller": shown["controls"].map(fmt_int).to_numpy(),
        "Kontrollerade fordon": shown["vehicles_checked"].map(fmt_int).to_numpy(),
        "Händelser motorburen problematik": shown["motor_incidents"].to_numpy()})
    figure = FigureSpec("bars_with_line", monthly.numeric, MappingProxyType({
        "x": "month", "bars": "controls", "line": "motor_incidents", "bar_name": "Kontroller",
        "line_name": "Händelser motorburen problematik", "title": title, "x_title": "Månad",
        "bar_title": "Antal kontroller per månad", "line_title": "Antal händelser per månad",
        "texts": shown[["motor_incidents"]], "data_until": data_until}))
    return Section(key, title, table, monthly.numeric, figure,
                   source_text("traffic", "incidents"), data_date,
                   notes=_hidden_note(monthly))


def offence_rates_section(traffic_rows: pd.DataFrame, *, audience: str,
                          disclosure: DisclosureSettings, data_date: date | None,
                          key: str = "trafik_per100") -> Section:
    """Offences per 100 vehicles checked, per offence type; a hidden count hides its rate
    (hidden rows last, so a ranking does not bound them)."""
    title = "Överträdelser per 100 kontrollerade fordon, per typ"
    source = source_text("traffic")
    rates = traffic.offences_per_100(traffic_rows)
    if rates.empty or int(traffic_rows["vehicles_checked"].sum()) == 0:
        return _empty_section(key, title, source, data_date, "Inga kontrollerade fordon i "
                              "urvalet – andelen överträdelser kan inte räknas.")
    prep = dc.hidden_last(dc.prepare_columns(
        rates, ["offences"], audience, disclosure, derived={"per_100": "offences"}),
        "per_100", label="label")
    shown = prep.display
    per_100 = dc.formatted(shown["per_100"], lambda v: fmt_float(v, 1))
    numeric = prep.numeric.assign(shown=per_100.to_numpy())
    table = pd.DataFrame({
        "Överträdelse": shown["label"].to_numpy(), "Antal": shown["offences"].to_numpy(),
        "Kontrollerade fordon": shown["vehicles_checked"].map(fmt_int).to_numpy(),
        "Per 100 kontrollerade": per_100.to_numpy()})
    figure = FigureSpec("bar_chart", numeric, MappingProxyType({
        "x": "per_100", "y": "label", "decimals": 1, "value_text": "shown", "title": title,
        "x_title": "Överträdelser per 100 kontrollerade fordon", "y_title": None,
        "colour_index": 1}))
    return Section(key, title, table, numeric, figure, source, data_date,
                   notes=_hidden_note(prep))


def _area_types() -> dict[str, str]:
    """Area name -> type (tätort, ...) from the reference file; none when it is missing."""
    try:
        areas = reference.load_areas()
    except Exception:  # noqa: BLE001 - reference missing: no tätort marking
        return {}
    return dict(zip(areas["name"].astype(str), areas["type"].astype(str), strict=True))


def traffic_areas_section(traffic_rows: pd.DataFrame, incidents: Any, *, audience: str,
                          disclosure: DisclosureSettings, data_date: date | None,
                          key: str = "trafik_omrade") -> Section:
    """Controls, offences and motorburen problematik per area, the tätort first."""
    title = "Kontroller och motorburen problematik per område"
    prep = dc.prepare_columns(traffic.by_area(traffic_rows, incidents, _area_types()),
                              ["offences", "motor_incidents"], audience, disclosure,
                              derived={"per_100": "offences"})
    shown = prep.display
    table = pd.DataFrame({
        "Område": shown["area"].to_numpy(), "Typ": shown["area_type"].to_numpy(),
        "Kontroller": shown["controls"].map(fmt_int).to_numpy(),
        "Kontrollerade fordon": shown["vehicles_checked"].map(fmt_int).to_numpy(),
        "Överträdelser": shown["offences"].to_numpy(),
        "Per 100 kontrollerade": dc.formatted(shown["per_100"],
                                              lambda v: fmt_float(v, 1)).to_numpy(),
        "Händelser motorburen problematik": shown["motor_incidents"].to_numpy()})
    figure = FigureSpec("grouped_bars", prep.numeric, MappingProxyType({
        "x": "area", "series": (("controls", "Kontroller"),
                                ("motor_incidents", "Händelser motorburen problematik")),
        "title": title, "x_title": "Område", "y_title": "Antal",
        "texts": shown[["motor_incidents"]]}))
    return Section(key, title, table, prep.numeric, figure,
                   source_text("traffic", "incidents"), data_date, notes=_hidden_note(prep))


# --------------------------------------------------------------------------- indicator texts


@dataclass(frozen=True)
class IndicatorTexts:
    """Display texts of one indicator for one audience.

    ``latest``/``previous`` are short ("12", "4,1", "12,3 %", "<5", "för få svar", "–");
    ``unit`` belongs after ``latest`` ("" for shares, ratios and hidden values, except
    that a hidden rate is shown as a count: "<5" + "händelser per månad").
    ``previous_unit`` likewise for ``previous``. ``*_hidden`` say whether a value was
    replaced for the audience.
    """

    latest: str
    previous: str
    unit: str
    previous_unit: str
    latest_hidden: bool = False
    previous_hidden: bool = False

    @property
    def latest_full(self) -> str:
        return f"{self.latest} {self.unit}".strip()

    @property
    def previous_full(self) -> str:
        return f"{self.previous} {self.previous_unit}".strip()


def _count_unit(ind: lb.IndicatorStatus) -> str:
    """Unit of the count behind a rate: "händelser per månad"."""
    word = ind.unit.rsplit(" ", 1)[-1] if ind.unit else ""
    return f"händelser per {word}" if word in periods.UNIT_WORDS.values() else "händelser"


def indicator_texts(ind: lb.IndicatorStatus, audience: str = "public",
                    settings: DisclosureSettings | None = None) -> IndicatorTexts:
    """Latest/previous value texts of ``ind`` safe for ``audience``.

    The one implementation of the public rules for goal indicators (page, slides, report):
    a protected count (or the count behind a rate, or a ratio's numerator) of
    1..threshold-1 reads ``"<5"``; a survey share with n < ``min_survey_n`` (or n unknown)
    reads ``"för få svar"``. Official: the values as computed.
    """
    s = settings or DisclosureSettings()
    base_unit = "" if ind.kind in ("share", "ratio") else ind.unit
    if ind.status == lb.STATUS_NO_DATA or ind.latest_value is None:
        return IndicatorTexts("–", "–", "", "")
    has_prev = ind.previous_value is not None
    latest, previous = ind.latest_text, (ind.previous_text if has_prev else "–")
    unit, prev_unit = base_unit, (base_unit if has_prev else "")
    if audience == "official":
        return IndicatorTexts(latest, previous, unit, prev_unit)
    lat_hidden = prev_hidden = False
    if ind.kind == "share":
        if ind.n is None or ind.n < s.min_survey_n:
            latest, lat_hidden = TOO_FEW_SV, True
        if has_prev and (ind.previous_n is None or ind.previous_n < s.min_survey_n):
            previous, prev_hidden = TOO_FEW_SV, True
        return IndicatorTexts(latest, previous, unit, prev_unit, lat_hidden, prev_hidden)
    if not ind.protected:
        return IndicatorTexts(latest, previous, unit, prev_unit)
    # A count about people: hide it, and any rate/ratio it could be recomputed from.
    noun = {"rate": _count_unit(ind), "ratio": "fall"}.get(ind.kind, base_unit)
    if ind.count is None or is_small(ind.count, s):
        latest, unit, lat_hidden = s.small_mark, noun, True
    if has_prev and (ind.previous_count is None or is_small(ind.previous_count, s)):
        previous, prev_unit, prev_hidden = s.small_mark, noun, True
    return IndicatorTexts(latest, previous, unit, prev_unit, lat_hidden, prev_hidden)


def test_text(ind: lb.IndicatorStatus, audience: str, missing: str = "") -> str:
    """The test behind a change, with its p-value for officials ("Poisson, p = 0,012")."""
    test = ind.change.test or missing
    if audience == "official" and ind.change.p_value is not None \
            and math.isfinite(ind.change.p_value):
        test = f"{test}, p = {fmt_float(ind.change.p_value, 3)}"
    return test


def describe_change(ind: lb.IndicatorStatus, texts: IndicatorTexts | None = None) -> str:
    """'Motorburen problematik har ökat från 12 (april 2024) till 25 (maj 2024) händelser
    per månad' with the audience's ``texts`` (default: the official values)."""
    t = texts or indicator_texts(ind, "official")
    verb = "ökat" if (ind.change.diff or 0) > 0 else "minskat"
    prev = f" ({ind.previous_period})" if ind.previous_period else ""
    latest = f" ({ind.latest_period})" if ind.latest_period else ""
    if t.latest_hidden or t.previous_hidden:
        # Each value with its own unit ("från <5 händelser per månad till 2,1 per 1 000").
        return (f"{ind.label} har {verb} från {t.previous_full}{prev} till "
                f"{t.latest}{latest} {t.unit}").rstrip()
    unit = f" {t.unit}" if t.unit else ""
    return f"{ind.label} har {verb} från {t.previous}{prev} till {t.latest}{latest}{unit}"


def latest_status_text(cards: Sequence[lb.GoalCard], audience: str = "public",
                       settings: DisclosureSettings | None = None) -> str:
    """The "Läget just nu" paragraph: names only changes beyond noise.

    Built only from the promise's labels and the indicator values (no free text from the
    data); values go through ``indicator_texts`` for ``audience``.
    """
    inds = [i for c in cards for i in c.indicators]
    # Public: no assessment of a change whose side is hidden ("<5", "för få svar") — it
    # would say something about the hidden count (docs/PRIVACY.md).
    hidden = [i for i in inds if i.status != lb.STATUS_NO_DATA and audience != "official"
              and _hides_a_side(indicator_texts(i, audience, settings))]
    inds = [i for i in inds if i not in hidden]
    beyond = [i for i in inds if i.status in (lb.STATUS_BETTER, lb.STATUS_WORSE)]
    within = [i for i in inds if i.status == lb.STATUS_NOISE]
    missing = [i for i in inds if i.status == lb.STATUS_NO_DATA]
    parts: list[str] = []
    if beyond:
        for ind in beyond:
            tail = "i önskad riktning" if ind.status == lb.STATUS_BETTER else "i fel riktning"
            text = describe_change(ind, indicator_texts(ind, audience, settings))
            parts.append(f"{text} – utanför slumpvariationen, {tail}.")
    else:
        parts.append("Ingen indikator har förändrats mer än vad slumpen kan förklara "
                     "jämfört med föregående period.")
    if beyond and within:
        n = len(within)
        parts.append(f"Övriga {n} indikator{'er' if n != 1 else ''} med data ligger inom "
                     "slumpvariationen.")
    if missing:
        n = len(missing)
        parts.append(f"{n} indikator{'er' if n != 1 else ''} saknar data.")
    if hidden:
        n = len(hidden)
        parts.append(f"{n} indikator{'er' if n != 1 else ''} bygger på för få händelser "
                     "eller svar för en bedömning.")
    return " ".join(parts)


def _hides_a_side(texts: IndicatorTexts) -> bool:
    return texts.latest_hidden or texts.previous_hidden


# --------------------------------------------------------------------------- goals


@dataclass(frozen=True)
class IndicatorView:
    """One goal indicator as every surface shows it (texts safe for the audience)."""

    goal_id: str
    goal: str
    status: lb.IndicatorStatus
    texts: IndicatorTexts
    test: str

    @property
    def label(self) -> str:
        return self.status.label

    @property
    def value(self) -> str:
        """The value with its unit where the surface has room ("12,3 %", "<5 händelser
        per månad"; a hidden count alone: "<5")."""
        t, ind = self.texts, self.status
        if t.latest_hidden:
            return t.latest_full if ind.kind in ("rate", "ratio") else t.latest
        return t.latest_full

    @property
    def previous(self) -> str:
        t = self.texts
        return t.previous_full if t.previous_hidden else t.previous


@dataclass(frozen=True)
class GoalOverview:
    """The goal cards and "Läget just nu" for one audience, data and period."""

    cards: tuple[lb.GoalCard, ...]
    indicators: tuple[IndicatorView, ...]
    status_text: str
    as_of: date
    notes: tuple[str, ...] = ()
    #: goal id -> one line per official indicator with data (``official_lines``)
    official: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}))

    def views_of(self, goal_id: str) -> tuple[IndicatorView, ...]:
        return tuple(v for v in self.indicators if v.goal_id == goal_id)

    def indicator(self, indicator_id: str) -> IndicatorView:
        for view in self.indicators:
            if view.status.indicator_id == indicator_id:
                return view
        raise KeyError(indicator_id)


def goal_overview(frames: Mapping[str, pd.DataFrame], promise: Promise | None, *,
                  audience: str, disclosure: DisclosureSettings,
                  filters: Filters | None = None, today: date | None = None,
                  population: int | None = None) -> GoalOverview:
    """Goal cards (``lagesbild.goal_cards``) with every indicator's display texts for
    ``audience`` and the "Läget just nu" text; no promise: no cards."""
    today = today or date.today()
    filters = filters or Filters()
    cards = lb.goal_cards(frames, promise, filters, today, population=population)
    views = tuple(
        IndicatorView(card.goal_id, card.title, ind,
                      indicator_texts(ind, audience, disclosure),
                      test_text(ind, audience))
        for card in cards for ind in card.indicators)
    notes: tuple[str, ...] = ()
    if promise is not None and any(v.status.dataset == "survey" for v in views):
        notes = (survey_definition_note(promise.settings),)
    as_of = periods.reference_day(periods.last_data_day(frames), today=today, end=filters.end)
    return GoalOverview(tuple(cards), views, latest_status_text(cards, audience, disclosure),
                        as_of, notes, official_lines(frames.get("statistik"), promise))


def official_lines(statistik: pd.DataFrame | None, promise: Promise | None
                   ) -> Mapping[str, tuple[str, ...]]:
    """Per goal, its official indicators' latest values for a goal card (the Jämförelse
    page's numbers): "Anmälda våldsbrott per 100 000 invånare 2024: Hjo 612,3 · Västra
    Götalands län 1 010,2 · Riket 1 050,0 (Hjo lägre än Västra Götalands län utöver
    slumpen)". Values are published statistics (no counts). Names come from the data:
    a surface shows the lines as plain text."""
    if promise is None or statistik is None or statistik.empty:
        return MappingProxyType({})
    out: dict[str, list[str]] = {}
    for comp in cmp.compare_all(statistik, promise):
        if comp.latest_period is None:
            continue
        now = comp.series[(comp.series["period"] == comp.latest_period)
                          & comp.series["role"].isin(("home", "county", "riket"))]
        values = " · ".join(f"{name} {cmp.format_value(v, comp.kind)}"
                            for name, v in zip(now["geo_name"], now["value"], strict=True))
        beyond = [f"{side} än {names}" for side, names in cmp.beyond_sides(comp.gaps)]
        tail = (f" ({promise.municipality_short} {' och '.join(beyond)} utöver slumpen)"
                if beyond else "")
        out.setdefault(comp.indicator.goal_id, []).append(
            f"{comp.indicator.title} {comp.latest_period}: {values}{tail}")
    return MappingProxyType({k: tuple(v) for k, v in out.items()})

