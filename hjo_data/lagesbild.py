"""Goal cards of the medborgarlöfte: indicator status and the "Läget just nu" text.

Each goal of the promise lists typed indicators (``hjo_data.promise.Indicator``, the ONE
model of the promise, loaded by ``promise.load_promise_with_fallback``). The promise's
measures are computed as:

* ``count``  rows of ``incidents``/``activities``/``traffic`` matching the filters per
  period (Poisson test of the two counts, exposure = days in each period);
* ``rate_per_1000``  the same count per 1 000 inhabitants (same test; population from
  ``reference.population_for``);
* ``sum``/``participants``  sum of the columns per period (Poisson test);
* ``share``  ``survey``/``youth`` share with n (latest year vs the previous survey year;
  two-proportion z-test). Survey shares come from ``survey.combine_survey`` with the
  promise's definition (``Settings.otrygg_includes_never_out``), as on every surface;
* ``share_done``/``offence_rate``  ``sum(numerator) / sum(denominator)`` per year
  (two-proportion z-test with n = the denominator).

Comparison periods (decided per measure):

* count/rate/sum: the last period that is COMPLETE on the reference day vs the one before
  (granularity: the page filter; yearly for activities and traffic). A partial period is
  never compared with a full one.
* ratio: the last complete calendar year vs the year before. A ratio is not biased by a
  short period the way a count is, but the current year's findings are still being acted
  on (and offences follow the season), so a partial year would look worse than it is.
* share: the latest survey year (up to the reference year) vs the previous survey year.
  A survey year is complete once its results exist (one measurement per year).

Youth indicators with gender "alla" fall back to the n-weighted pool of the gender rows
for a year that has no "alla" row (see ``_pool_genders``).

The display texts of a status for an audience ("<5", "för få svar", "Läget just nu") are
``hjo_data.sections`` (``indicator_texts``, ``latest_status_text``). ``promise=None``
means "no promise": no goal cards and no goal-specific incident filter columns.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from hjo_data import indicators, periods, reference, survey, youth
from hjo_data.errors import HjoDataError
from hjo_data.est import COUNT_COLUMN
from hjo_data.filters import Filters
from hjo_data.formatting import NBSP, fmt_float, fmt_int, fmt_pct
from hjo_data.periods import UNIT_WORDS, latest_complete_period, period_label
from hjo_data.promise import Indicator, Promise, Settings, home_municipality
from hjo_data.schema import DATASETS, WHOLE_MUNICIPALITY

STATUS_BETTER = "bättre"
STATUS_WORSE = "sämre"
STATUS_NOISE = "oförändrad/inom slumpen"
STATUS_NO_DATA = "ingen data"
STATUSES = (STATUS_BETTER, STATUS_WORSE, STATUS_NOISE, STATUS_NO_DATA)

ALPHA = 0.05

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Change:
    """Change between two values with a test of whether it is beyond noise.

    Mirrors ``hjo_data.indicators.Change`` (significant, label_sv); kept local so the cards
    need no more than counts/shares to be computed.
    """

    previous: float | None
    latest: float | None
    diff: float | None
    p_value: float | None
    significant: bool
    label_sv: str
    test: str = ""


@dataclass
class IndicatorStatus:
    label: str
    latest_value: float | None
    latest_period: str
    previous_value: float | None
    change: Change
    desired_direction: str  # "down" | "up"
    status: str  # one of STATUSES
    denominator: str  # "n = 412", "befolkning 9 123 invånare", "händelser per månad"
    previous_period: str = ""
    kind: str = "count"  # count | rate | sum | share | ratio
    unit: str = ""  # "händelser per månad", "%", "per 1 000 invånare"
    indicator_id: str = ""
    dataset: str = ""
    #: Denominator of a share/ratio (answers, vehicles checked, findings); None for counts.
    n: float | None = None
    previous_n: float | None = None
    #: Underlying number of events (count, sum, the count behind a rate, a ratio's
    #: numerator); None for survey shares.
    count: float | None = None
    previous_count: float | None = None
    #: True when ``count`` is about people/incidents (suppressed when small in public);
    #: False for the authorities' own work (activities held, controls, vehicles checked).
    protected: bool = False

    @property
    def latest_text(self) -> str:
        return format_value(self.latest_value, self.kind)

    @property
    def previous_text(self) -> str:
        return format_value(self.previous_value, self.kind)


@dataclass
class GoalCard:
    goal_id: str
    title: str
    indicators: list[IndicatorStatus] = field(default_factory=list)
    activities: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Number of indicators per status (for a one-line summary)."""
        out = dict.fromkeys(STATUSES, 0)
        for ind in self.indicators:
            out[ind.status] += 1
        return out


# --------------------------------------------------------------------------- formatting


def format_value(value: float | None, kind: str) -> str:
    """Swedish text of an indicator value ("12", "1,4", "12,3 %"; "–" when missing)."""
    if kind in ("share", "ratio"):
        return fmt_pct(value)
    if kind != "rate" and value is not None and math.isfinite(value) \
            and float(value).is_integer():
        return fmt_int(value)
    return fmt_float(value, 1)


# --------------------------------------------------------------------------- tests


def _share_test(p1: float, n1: float, p2: float, n2: float) -> tuple[float, str]:
    """p-value and test name: ``indicators.compare_shares`` (z-test; Fisher's exact test
    when a cell is small), as everywhere else in the dashboard."""
    change = indicators.compare_shares(p1, n1, p2, n2)
    name = "Fishers exakta test" if change.method.startswith("Fisher") else \
        "z-test (två andelar)"
    return change.p_value, name


def _change(prev: float | None, latest: float | None, p_value: float | None, test: str,
            kind: str) -> Change:
    if prev is None or latest is None:
        return Change(prev, latest, None, None, False, "ingen jämförelse", test)
    diff = latest - prev
    significant = p_value is not None and p_value < ALPHA and diff != 0
    if diff == 0:
        label = "oförändrad"
    else:
        verb = "ökat" if diff > 0 else "minskat"
        label = f"har {verb} " + (
            "(utanför slumpvariationen)" if significant else "(inom slumpvariationen)")
    return Change(prev, latest, diff, p_value, significant, label, test)


# --------------------------------------------------------------------------- measures


@dataclass(frozen=True)
class Measure:
    """How a promise measure is computed: the card kind, the summed value columns (sum) or
    numerators (ratio), and a ratio's denominator column."""

    kind: str  # count | rate | sum | share | ratio
    columns: tuple[str, ...] = ()
    denominator: str | None = None


def measure_of(ind: Indicator) -> Measure:
    """The computation behind ``ind.measure`` (the promise's names, ``promise.MEASURES``)."""
    if ind.measure == "rate_per_1000":
        return Measure("rate")
    if ind.measure == "participants":
        return Measure("sum", ("participants",))
    if ind.measure == "sum":
        return Measure("sum", ind.columns)
    if ind.measure == "share_done":
        return Measure("ratio", ("actions_done",), "actions_decided")
    if ind.measure == "offence_rate":
        return Measure("ratio", ind.columns, "vehicles_checked")
    return Measure(ind.measure)  # count, share


# --------------------------------------------------------------------------- computing


def _frames_of(bundle_or_frames: Any) -> Mapping[str, pd.DataFrame]:
    frames = getattr(bundle_or_frames, "frames", bundle_or_frames)
    return frames if isinstance(frames, Mapping) else {}


def apply_indicator_filter(frame: pd.DataFrame, ind: Indicator,
                           skip: Iterable[str] = ()) -> pd.DataFrame:
    """Rows of ``frame`` matching the indicator's filters (columns the frame lacks, and
    ``skip``, are ignored)."""
    mask = np.ones(len(frame), dtype=bool)
    for col, values in ind.filters.items():
        if col in frame.columns and values and col not in skip:
            mask &= frame[col].isin(values).to_numpy()
    return frame.loc[mask] if not mask.all() else frame


def _share_defaults(ind: Indicator) -> dict[str, tuple[str, ...]]:
    """Default breakdown of a survey/youth table when the indicator names none: the total
    group of the whole municipality; youth: all genders, the home municipality."""
    return {"survey": {"group": (survey.TOTAL_GROUP,), "area": (WHOLE_MUNICIPALITY,)},
            "youth": {"gender": ("alla",), "geography": (home_municipality(),)},
            }.get(ind.dataset, {})


def _pool_genders(rows: pd.DataFrame) -> pd.DataFrame:
    """Youth rows of gender "alla" per year; a year without an "alla" row gets the
    n-weighted pool of its gender rows (``youth.pool_genders``, the one pooling rule)."""
    return youth.pool_genders(rows, ["year"])[["year", "share", "n", "gender"]]


def _share_rows(ind: Indicator, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows (year, share, n) behind a share indicator: its filters, then the default
    breakdown for columns it leaves open (see ``_share_defaults``, ``_pool_genders``)."""
    youth_all = ind.dataset == "youth" and ind.filters.get("gender", ("alla",)) == ("alla",)
    data = apply_indicator_filter(frame, ind, skip=("gender",) if youth_all else ())
    for col, values in _share_defaults(ind).items():
        if col in ind.filters or col not in data.columns or (youth_all and col == "gender"):
            continue
        if col == "geography":  # rows that name no geography are about the home municipality
            geo = data[col].fillna(values[0]).replace("", values[0])
            data = data.loc[geo.isin(values).to_numpy()]
            continue
        subset = data.loc[data[col].isin(values)]
        if not subset.empty:
            data = subset
    if youth_all and "gender" in data.columns:
        data = _pool_genders(data)
    return data


def _status(change: Change, direction: str, has_data: bool) -> str:
    if not has_data:
        return STATUS_NO_DATA
    if not change.significant or change.diff is None:
        return STATUS_NOISE
    improving = change.diff < 0 if direction == "down" else change.diff > 0
    return STATUS_BETTER if improving else STATUS_WORSE


def _no_data(ind: Indicator, denominator: str = "", kind: str | None = None
             ) -> IndicatorStatus:
    return IndicatorStatus(
        label=ind.label, latest_value=None, latest_period="–", previous_value=None,
        change=_change(None, None, None, "", ind.measure),
        desired_direction=ind.direction, status=STATUS_NO_DATA,
        denominator=denominator, kind=kind or measure_of(ind).kind, indicator_id=ind.id,
        dataset=ind.dataset)


def _count_indicator(ind: Indicator, frame: pd.DataFrame, as_of: date, gran: str,
                     population: int | None) -> IndicatorStatus:
    ds = DATASETS.get(ind.dataset)
    time_col = ds.time_column if ds else "date"
    how = measure_of(ind)
    kind = how.kind
    pop = population if kind == "rate" else None
    if kind == "rate" and not pop:
        kind = "count"  # no population known: show the count instead of a rate
    unit_period = UNIT_WORDS[gran]
    noun = {"incidents": "händelser", "activities": "aktiviteter",
            "traffic": "kontroller"}.get(ind.dataset, "st.")
    if kind == "sum" and how.columns:
        noun = " + ".join(ds.column(c).label.lower() if ds and c in ds.column_names else c
                          for c in how.columns)
    if kind == "rate":
        unit = f"per 1{NBSP}000 invånare och {unit_period}"
        denominator = f"befolkning {fmt_int(pop)} invånare"
    else:
        unit = f"{noun} per {unit_period}"
        denominator = unit
    if frame is None or frame.empty or time_col not in frame.columns:
        return _no_data(ind, denominator, kind)
    data = apply_indicator_filter(frame, ind)
    start, end = latest_complete_period(as_of, gran)
    prev_start = periods.previous_start(start, gran)
    times = data[time_col].to_numpy()
    if kind == "sum" and how.columns and all(c in data.columns for c in how.columns):
        weights = data[list(how.columns)].sum(axis=1).to_numpy(dtype=float)
    elif COUNT_COLUMN in data.columns:
        weights = data[COUNT_COLUMN].to_numpy(dtype=float)
    else:
        weights = None

    def total(lo: date, hi: date) -> float:
        sel = (times >= np.datetime64(lo)) & (times < np.datetime64(hi))
        return float(sel.sum()) if weights is None else float(weights[sel].sum())

    # A period before the first row of the (unfiltered) dataset is "no data", not zero.
    first = pd.Timestamp(frame[time_col].min()).date()
    if first >= end:
        return _no_data(ind, denominator, kind)
    latest, prev = total(start, end), total(prev_start, start)
    has_prev = first < start
    p_value = indicators.compare_counts(prev, latest, (start - prev_start).days,
                                        (end - start).days).p_value
    if kind == "rate":
        latest_v, prev_v = latest / pop * 1000, prev / pop * 1000  # type: ignore[operator]
    else:
        latest_v, prev_v = latest, prev
    change = _change(prev_v if has_prev else None, latest_v, p_value if has_prev else None,
                     "Poisson", kind)
    return IndicatorStatus(
        label=ind.label, latest_value=latest_v, latest_period=period_label(start, gran),
        previous_value=prev_v if has_prev else None, change=change,
        desired_direction=ind.direction,
        status=_status(change, ind.direction, True), denominator=denominator,
        previous_period=period_label(prev_start, gran) if has_prev else "", kind=kind,
        unit=unit, indicator_id=ind.id, dataset=ind.dataset, count=latest,
        previous_count=prev if has_prev else None, protected=is_protected(ind))


def is_protected(ind: Indicator) -> bool:
    """Is the indicator's count about people/incidents (small counts hidden publicly)?

    Incidents, traffic offences (sums of offence columns, offence ratios) and participants
    are; activities held, controls and vehicles checked (the authorities' own work) and
    findings of safety walks are not.
    """
    how = measure_of(ind)
    if ind.dataset == "incidents":
        return True
    if ind.dataset == "traffic":
        if how.kind == "ratio":
            return True
        return how.kind == "sum" and any(c != "vehicles_checked" for c in how.columns)
    if ind.dataset == "activities":
        return how.kind == "sum" and "participants" in how.columns
    return False


def _yearly_pair(years: Iterable[int], as_of: date) -> tuple[int | None, int | None]:
    ys = sorted({int(y) for y in years if int(y) <= as_of.year})
    if not ys:
        return None, None
    return ys[-1], (ys[-2] if len(ys) > 1 else None)


def _share_indicator(ind: Indicator, frame: pd.DataFrame | None, as_of: date,
                     responses: pd.DataFrame | None, include_never_out: bool
                     ) -> IndicatorStatus:
    code = ind.filter_value("indicator")
    if ind.dataset == "survey" and code is not None:
        # The one survey computation (micro data where available, else the aggregated
        # table), exactly as the Trygghet page, the report and the slides get it.
        frame = survey.combine_survey(responses, frame, include_never_out=include_never_out,
                                      indicators=(code,), breakdowns=False)
    if frame is None or frame.empty or "share" not in frame.columns:
        return _no_data(ind, "n = –", "share")
    data = _share_rows(ind, frame)
    latest_y, prev_y = _yearly_pair(data["year"], as_of) if not data.empty else (None, None)
    if latest_y is None:
        return _no_data(ind, "n = –", "share")

    def pooled(year: int) -> tuple[float, float]:
        rows = data.loc[data["year"] == year]
        n = float(rows["n"].sum())
        return (float((rows["share"] * rows["n"]).sum() / n) if n else float("nan")), n

    p2, n2 = pooled(latest_y)
    if prev_y is not None:
        p1, n1 = pooled(prev_y)
        p_value, test = _share_test(p1, n1, p2, n2)
        change = _change(p1, p2, p_value, test, "share")
    else:
        p1, n1 = None, 0.0
        change = _change(None, p2, None, "", "share")
    return IndicatorStatus(
        label=ind.label, latest_value=p2, latest_period=str(latest_y), previous_value=p1,
        change=change, desired_direction=ind.direction,
        status=_status(change, ind.direction, True),
        denominator=f"n = {fmt_int(n2)}" + (f" (förra: {fmt_int(n1)})" if n1 else ""),
        previous_period=str(prev_y) if prev_y is not None else "", kind="share", unit="%",
        indicator_id=ind.id, dataset=ind.dataset, n=n2,
        previous_n=n1 if prev_y is not None else None)


def _ratio_indicator(ind: Indicator, frame: pd.DataFrame, as_of: date
                     ) -> IndicatorStatus:
    how = measure_of(ind)
    nums, den = how.columns, how.denominator
    ds = DATASETS.get(ind.dataset)
    if (frame is None or frame.empty or ds is None or not nums or den is None
            or any(c not in frame.columns for c in (*nums, den))):
        return _no_data(ind, "n = –", "ratio")
    data = apply_indicator_filter(frame, ind)
    years = pd.to_datetime(data[ds.time_column]).dt.year.to_numpy()
    parts = pd.DataFrame({"num": data[list(nums)].sum(axis=1).to_numpy(),
                          "den": data[den].to_numpy()})
    sums = parts.groupby(years)[["num", "den"]].sum()
    sums = sums.loc[sums["den"] > 0]
    num = "num"
    # Ratios compare complete years only (see the module docstring).
    last_complete = latest_complete_period(as_of, "Y")[0].year
    latest_y, prev_y = _yearly_pair([y for y in sums.index if y <= last_complete], as_of)
    if latest_y is None:
        return _no_data(ind, "n = –", "ratio")
    n2 = float(sums.loc[latest_y, "den"])
    p2 = min(1.0, float(sums.loc[latest_y, num]) / n2)
    if prev_y is not None:
        n1 = float(sums.loc[prev_y, "den"])
        p1 = min(1.0, float(sums.loc[prev_y, num]) / n1)
        change = _change(p1, p2, *_share_test(p1, n1, p2, n2), "ratio")
    else:
        p1 = None
        change = _change(None, p2, None, "", "ratio")
    den_label = ds.column(den).label.lower() if den in ds.column_names else den
    return IndicatorStatus(
        label=ind.label, latest_value=p2, latest_period=str(latest_y), previous_value=p1,
        change=change, desired_direction=ind.direction,
        status=_status(change, ind.direction, True),
        denominator=f"n = {fmt_int(n2)} {den_label}",
        previous_period=str(prev_y) if prev_y is not None else "", kind="ratio", unit="%",
        indicator_id=ind.id, dataset=ind.dataset, n=n2,
        previous_n=float(sums.loc[prev_y, "den"]) if prev_y is not None else None,
        count=float(sums.loc[latest_y, num]),
        previous_count=float(sums.loc[prev_y, num]) if prev_y is not None else None,
        protected=is_protected(ind))


def indicator_status(ind: Indicator, frames: Mapping[str, pd.DataFrame], *, as_of: date,
                     settings: Settings, granularity: str = "M",
                     population: int | None = None) -> IndicatorStatus:
    """Latest value, change and status of one indicator of the promise.

    ``settings`` are the promise's (``promise.effective_settings``): they decide the survey
    definitions (``otrygg_includes_never_out``), so no surface can compute another share.
    """
    frame = frames.get(ind.dataset)
    kind = measure_of(ind).kind
    if kind == "share":
        if frame is None and ind.dataset != "survey":
            return _no_data(ind, "n = –", "share")
        return _share_indicator(ind, frame, as_of, frames.get("survey_responses"),
                                settings.otrygg_includes_never_out)
    if frame is None:
        return _no_data(ind)
    if kind == "ratio":
        return _ratio_indicator(ind, frame, as_of)
    gran = DEFAULT_GRANULARITY.get(ind.dataset, granularity)
    return _count_indicator(ind, frame, as_of, gran, population)


def population_for_year(year: int) -> int | None:
    """Whole-municipality population of ``year`` from the reference file (nearest year
    in it: ``reference.population_for``); None when the file cannot be read or has no
    ``WHOLE_MUNICIPALITY`` rows, so rates show "underlag saknas" instead of failing."""
    try:
        return reference.population_for(year)
    except (HjoDataError, OSError, ValueError):
        return None


#: Default comparison period per dataset (sparse data is compared year by year).
DEFAULT_GRANULARITY = {"activities": "Y", "traffic": "Y"}


def goal_cards(bundle_or_frames: Any, promise: Promise | None,
               filters: Filters | None = None, today: date | None = None, *,
               population: int | None = None) -> list[GoalCard]:
    """One card per promise goal with the status of each of its indicators.

    ``promise`` None (no promise could be read) gives no cards. The latest period is the
    last complete period (``filters.granularity``; yearly for activities and traffic) on
    the reference day.
    """
    if promise is None:
        return []
    frames = _frames_of(bundle_or_frames)
    today = today or date.today()
    filters = filters or Filters()
    as_of = periods.reference_day(periods.last_data_day(frames), today=today, end=filters.end)
    if population is None:
        population = population_for_year(as_of.year)
    cards: list[GoalCard] = []
    for goal in promise.goals:
        cards.append(GoalCard(
            goal_id=goal.id,
            title=goal.title,
            indicators=[indicator_status(ind, frames, as_of=as_of, settings=promise.settings,
                                         granularity=filters.granularity,
                                         population=population) for ind in goal.indicators],
            activities=[a.title for a in promise.activities if goal.id in a.goals],
        ))
    return cards


# --------------------------------------------------------------------------- promise columns


def incident_filter_columns(promise: Promise | None) -> tuple[str, ...]:
    """Columns the promise's incident indicators filter on (plus category and source);
    just category and source when ``promise`` is None."""
    cols = ["category", "source"]
    for ind in promise.indicators if promise is not None else ():
        if ind.dataset == "incidents":
            cols.extend(c for c in ind.filters if c not in cols)
    return tuple(cols)
