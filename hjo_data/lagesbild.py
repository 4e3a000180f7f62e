"""Goal cards of the medborgarlöfte and the "Läget just nu" text (landing page).

Each goal of the promise lists indicators declaratively (``data/medborgarlofte.toml``,
loaded by ``hjo_data.reference.load_promise``). An indicator spec names a dataset and a
measure:

* ``count``  rows of ``incidents``/``activities`` matching ``filter`` per period
  (Poisson test of the two counts, exposure = days in each period);
* ``rate``   the same count per 1 000 inhabitants (same test; population from the spec
  or ``reference.load_population``);
* ``sum``    sum of ``column`` per period (e.g. traffic ``vehicles_checked``; Poisson test);
* ``share``  ``survey``/``youth`` share with n (latest year vs the previous survey year;
  two-proportion z-test);
* ``ratio``  ``sum(numerator) / sum(denominator)`` per year (e.g. findings acted on;
  two-proportion z-test with n = the denominator).

Comparison periods (decided per measure):

* count/rate/sum: the last period that is COMPLETE on the reference day vs the one before
  (granularity from the spec, the dataset default or the page filter). A partial period is
  never compared with a full one.
* ratio: the last complete calendar year vs the year before. A ratio is not biased by a
  short period the way a count is, but the current year's findings are still being acted
  on (and offences follow the season), so a partial year would look worse than it is.
* share: the latest survey year (up to the reference year) vs the previous survey year.
  A survey year is complete once its results exist (one measurement per year).

Public audience: ``indicator_texts`` is the ONE place that turns an ``IndicatorStatus``
into display texts for an audience (used by the page, the slides and the report): counts
about people 1..threshold-1 show as ``"<5"`` (also the count behind a rate or a ratio),
survey shares with n < ``min_survey_n`` as ``"för få svar"``.

Specs are read leniently (dicts or objects, several key spellings) so the page keeps
working while the promise file evolves. The goals live only in the promise file: load it
with ``reference.load_promise_with_fallback`` (the one loading policy). ``promise=None``
means "no promise": no goal cards and no goal-specific incident filter columns.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from hjo_data import indicators, periods, reference
from hjo_data.disclosure import TOO_FEW_SV, DisclosureSettings
from hjo_data.errors import HjoDataError
from hjo_data.filters import Filters
from hjo_data.formatting import NBSP, fmt_float, fmt_int, fmt_pct
from hjo_data.periods import UNIT_WORDS, latest_complete_period, period_label
from hjo_data.schema import DATASETS

STATUS_BETTER = "bättre"
STATUS_WORSE = "sämre"
STATUS_NOISE = "oförändrad/inom slumpen"
STATUS_NO_DATA = "ingen data"
STATUSES = (STATUS_BETTER, STATUS_WORSE, STATUS_NOISE, STATUS_NO_DATA)

ALPHA = 0.05
#: Row-count column of a compacted frame (see ``compact_incidents``).
COUNT_COLUMN = "_n"


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


# --------------------------------------------------------------------------- specs


def get_field(obj: Any, *names: str, default: Any = None) -> Any:
    """First non-None of ``names`` on a mapping or an object (promise entries come as
    dicts from tests and as dataclasses from ``reference.load_promise``)."""
    for name in names:
        if isinstance(obj, Mapping):
            if name in obj and obj[name] is not None:
                return obj[name]
        elif getattr(obj, name, None) is not None:
            return getattr(obj, name)
    return default


_DOWN = {"down", "minska", "lower", "decrease", "ner", "ned", "lägre", "minskning", "-"}
_UP = {"up", "öka", "higher", "increase", "upp", "högre", "ökning", "+"}


def _direction(value: Any) -> str:
    text = str(value or "down").strip().lower()
    if text in _UP:
        return "up"
    return "down" if text in _DOWN else "down"


@dataclass(frozen=True)
class IndicatorSpec:
    id: str
    label: str
    dataset: str
    measure: str
    desired_direction: str
    filter: Mapping[str, tuple[str, ...]]
    indicator: str | None = None
    column: str | None = None
    numerator: str | tuple[str, ...] | None = None
    denominator: str | None = None
    granularity: str | None = None
    population: int | None = None

    @property
    def numerators(self) -> tuple[str, ...]:
        return _as_tuple(self.numerator)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


_MEASURES = {"rate_per_1000": "rate", "participants": "sum", "share_done": "ratio",
             "offence_rate": "ratio"}
_SPEC_KEYS = {"dataset", "measure", "kind", "type", "metric", "column", "value_column",
              "indicator", "survey_indicator", "youth_indicator", "numerator", "denominator",
              "granularity", "period", "population", "filter", "where"}


def parse_indicator(raw: Any) -> IndicatorSpec:
    """One indicator spec from a promise entry (dict or object).

    Accepts the promise file's form ``{id, label, direction, spec = {dataset, measure, ...
    filters}}`` as well as flat dicts; keys of ``spec`` that are not reserved are filters
    (column = value or [values]).
    """
    inner = get_field(raw, "spec", default=None)
    spec_map: dict[str, Any] = {}
    if isinstance(inner, Mapping):
        spec_map = dict(inner)
    elif inner is not None:
        spec_map = {k: v for k, v in vars(inner).items() if not k.startswith("_")}
    merged = {**(dict(raw) if isinstance(raw, Mapping) else {}), **spec_map}

    def get(*names: str, default: Any = None) -> Any:
        value = get_field(merged, *names, default=None)
        return value if value is not None else get_field(raw, *names, default=default)

    dataset = str(get("dataset", default="incidents"))
    measure = str(get("measure", "kind", "metric",
                      default="share" if dataset in ("survey", "youth") else "count"))
    column = get("column", "value_column")
    numerator, denominator = get("numerator"), get("denominator")
    if measure == "participants":
        column = column or "participants"
    elif measure == "share_done":
        numerator, denominator = numerator or "actions_done", denominator or "actions_decided"
    elif measure == "offence_rate":
        numerator, denominator = (numerator or column), denominator or "vehicles_checked"
    measure = _MEASURES.get(measure, measure)
    filt: dict[str, tuple[str, ...]] = {}
    raw_filter = get("filter", "where", default={}) or {}
    if isinstance(raw_filter, Mapping):
        filt.update({str(k): _as_tuple(v) for k, v in raw_filter.items()})
    known = set(DATASETS[dataset].column_names) if dataset in DATASETS else set()
    for key, value in spec_map.items():
        if key not in _SPEC_KEYS and (not known or key in known):
            filt[str(key)] = _as_tuple(value)
    if not spec_map:  # flat form: well-known filter keys at the top level
        for key in ("category", "activity_type", "grade", "gender", "group", "geography",
                    "control_type", "area"):
            val = get_field(raw, key)
            if val is not None:
                filt[key] = _as_tuple(val)
    population = get("population")
    gran = get("granularity")
    return IndicatorSpec(
        id=str(get_field(raw, "id", "key", "name", default=get_field(raw, "label", default="?"))),
        label=str(get_field(raw, "label", "title", "name", default="Indikator")),
        dataset=dataset,
        measure=measure,
        desired_direction=_direction(get_field(raw, "desired_direction", "direction", "desired",
                                          default=get("direction"))),
        filter=filt,
        indicator=get("indicator", "survey_indicator", "youth_indicator"),
        column=None if isinstance(column, (list, tuple)) else column,
        numerator=tuple(numerator) if isinstance(numerator, (list, tuple)) else numerator,
        denominator=denominator,
        granularity=str(gran).upper()[:1] if gran else None,
        population=int(population) if population is not None else None,
    )


def promise_goals(promise: Any) -> list[Any]:
    """The goals of a promise (object, mapping or a plain list of goals)."""
    goals = get_field(promise, "goals", "mal", "mål", default=None)
    if goals is None and isinstance(promise, Sequence) and not isinstance(promise, str):
        goals = promise
    return list(goals or [])


# --------------------------------------------------------------------------- computing


def _frames_of(bundle_or_frames: Any) -> Mapping[str, pd.DataFrame]:
    frames = getattr(bundle_or_frames, "frames", bundle_or_frames)
    return frames if isinstance(frames, Mapping) else {}


def apply_spec_filter(frame: pd.DataFrame, spec: IndicatorSpec) -> pd.DataFrame:
    """Rows of ``frame`` matching the spec's filter (columns the frame lacks are ignored)."""
    mask = np.ones(len(frame), dtype=bool)
    for col, values in spec.filter.items():
        if col in frame.columns and values:
            mask &= frame[col].isin(values).to_numpy()
    return frame.loc[mask] if not mask.all() else frame


def defaults_for_share(frame: pd.DataFrame, spec: IndicatorSpec) -> pd.DataFrame:
    """Default breakdown rows of a survey/youth table: total group, whole municipality."""
    defaults = {"survey": {"group": ("Totalt",), "area": ("Hela kommunen",)},
                "youth": {"gender": ("alla",), "geography": (reference.home_municipality(),)},
                }.get(spec.dataset, {})
    for col, values in defaults.items():
        if col in spec.filter or col not in frame.columns:
            continue
        subset = frame.loc[frame[col].isin(values)]
        if not subset.empty:
            frame = subset
    return frame


def _population(spec: IndicatorSpec, population: int | None) -> int | None:
    if spec.population:
        return spec.population
    return population


def _status(change: Change, direction: str, has_data: bool) -> str:
    if not has_data:
        return STATUS_NO_DATA
    if not change.significant or change.diff is None:
        return STATUS_NOISE
    improving = change.diff < 0 if direction == "down" else change.diff > 0
    return STATUS_BETTER if improving else STATUS_WORSE


def _no_data(spec: IndicatorSpec, denominator: str = "", kind: str | None = None
             ) -> IndicatorStatus:
    return IndicatorStatus(
        label=spec.label, latest_value=None, latest_period="–", previous_value=None,
        change=_change(None, None, None, "", spec.measure),
        desired_direction=spec.desired_direction, status=STATUS_NO_DATA,
        denominator=denominator, kind=kind or spec.measure, indicator_id=spec.id,
        dataset=spec.dataset)


def _count_indicator(spec: IndicatorSpec, frame: pd.DataFrame, as_of: date, gran: str,
                     population: int | None) -> IndicatorStatus:
    ds = DATASETS.get(spec.dataset)
    time_col = ds.time_column if ds else "date"
    kind = spec.measure
    pop = _population(spec, population) if kind == "rate" else None
    if kind == "rate" and not pop:
        kind = "count"  # no population known: show the count instead of a rate
    unit_period = UNIT_WORDS[gran]
    noun = {"incidents": "händelser", "activities": "aktiviteter",
            "traffic": "kontroller"}.get(spec.dataset, "st.")
    if kind == "sum" and spec.column:
        noun = DATASETS[spec.dataset].column(spec.column).label.lower() if (
            ds and spec.column in ds.column_names) else spec.column
    if kind == "rate":
        unit = f"per 1{NBSP}000 invånare och {unit_period}"
        denominator = f"befolkning {fmt_int(pop)} invånare"
    else:
        unit = f"{noun} per {unit_period}"
        denominator = unit
    if frame is None or frame.empty or time_col not in frame.columns:
        return _no_data(spec, denominator, kind)
    data = apply_spec_filter(frame, spec)
    # The latest period must be complete in THIS dataset (it may lag the incidents).
    as_of = periods.reference_day(periods.last_data_day({spec.dataset: frame}, spec.dataset,
                                                        time_col), today=as_of)
    start, end = latest_complete_period(as_of, gran)
    prev_start = periods.previous_start(start, gran)
    times = data[time_col].to_numpy()
    if kind == "sum" and spec.column in data.columns:
        weights = data[spec.column].to_numpy(dtype=float)
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
        return _no_data(spec, denominator, kind)
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
        label=spec.label, latest_value=latest_v, latest_period=period_label(start, gran),
        previous_value=prev_v if has_prev else None, change=change,
        desired_direction=spec.desired_direction,
        status=_status(change, spec.desired_direction, True), denominator=denominator,
        previous_period=period_label(prev_start, gran) if has_prev else "", kind=kind,
        unit=unit, indicator_id=spec.id, dataset=spec.dataset, count=latest,
        previous_count=prev if has_prev else None, protected=is_protected(spec))


def is_protected(spec: IndicatorSpec) -> bool:
    """Is the indicator's count about people/incidents (small counts hidden publicly)?

    Incidents, traffic offences (sums of offence columns, offence ratios) and participants
    are; activities held, controls and vehicles checked (the authorities' own work) and
    findings of safety walks are not.
    """
    if spec.dataset == "incidents":
        return True
    if spec.dataset == "traffic":
        if spec.measure == "ratio":
            return True
        return spec.measure == "sum" and spec.column not in (None, "vehicles_checked")
    if spec.dataset == "activities":
        return spec.measure == "sum" and spec.column == "participants"
    return False


def _yearly_pair(years: Iterable[int], as_of: date) -> tuple[int | None, int | None]:
    ys = sorted({int(y) for y in years if int(y) <= as_of.year})
    if not ys:
        return None, None
    return ys[-1], (ys[-2] if len(ys) > 1 else None)


_OTRYGG = ("ganska otrygg", "mycket otrygg", "går aldrig ut")
_BIG_PROBLEM = ("mycket stort problem", "ganska stort problem")


def survey_shares_from_responses(responses: pd.DataFrame, indicator: str, *,
                                 include_never_out: bool = True) -> pd.DataFrame:
    """Whole-municipality survey rows (year, share, n) of one indicator from micro-data.

    Same definitions as ``hjo_data.survey``: otrygg_kvall = ganska/mycket otrygg (with
    ``include_never_out`` "går aldrig ut" counts as otrygg, else it is left out of the
    denominator); problem_* = mycket/ganska stort problem among those who answered ("vet
    ej" excluded). Weighted shares; n = answers in the denominator with weight > 0.
    A single vectorised pass (the cards need only the totals).
    """
    empty = pd.DataFrame({"year": pd.Series([], dtype="int64"),
                          "share": pd.Series([], dtype="float64"),
                          "n": pd.Series([], dtype="int64")})
    if responses is None or responses.empty:
        return empty
    if indicator == "otrygg_kvall" and "safety_evening" in responses.columns:
        answers = responses["safety_evening"]
        hits = _OTRYGG if include_never_out else _OTRYGG[:2]
        excluded = ("",) if include_never_out else ("", "går aldrig ut")
    elif indicator in responses.columns:
        answers, hits, excluded = responses[indicator], _BIG_PROBLEM, ("", "vet ej")
    else:
        return empty
    weight = (responses["weight"].fillna(1.0).to_numpy() if "weight" in responses.columns
              else np.ones(len(responses)))
    valid = (answers.notna() & ~answers.isin(excluded)).to_numpy() & (weight > 0)
    hit = answers.isin(hits).to_numpy().astype(float)
    years = responses["year"].to_numpy()[valid]
    w = weight[valid]
    wh = w * hit[valid]
    if len(years) == 0:
        return empty
    uniq, inv = np.unique(years, return_inverse=True)
    sum_w = np.bincount(inv, weights=w)
    sum_wh = np.bincount(inv, weights=wh)
    n = np.bincount(inv)
    keep = sum_w > 0
    return pd.DataFrame({"year": uniq[keep].astype("int64"),
                         "share": sum_wh[keep] / sum_w[keep],
                         "n": n[keep].astype("int64")})


def _survey_table(frame: pd.DataFrame | None, responses: pd.DataFrame | None,
                  indicator: str | None, include_never_out: bool) -> pd.DataFrame | None:
    """Total rows of one survey indicator: from micro-data where available (it accounts
    for weights), else from the aggregated table (like ``survey.combine_survey``)."""
    if not indicator or responses is None or responses.empty:
        return frame
    micro = survey_shares_from_responses(responses, indicator,
                                         include_never_out=include_never_out)
    if micro.empty:
        return frame
    micro = micro.assign(indicator=indicator, group="Totalt", area="Hela kommunen")
    if frame is None or frame.empty or "indicator" not in frame.columns:
        return micro
    agg = frame.loc[(frame["indicator"] == indicator) & ~frame["year"].isin(micro["year"])]
    if agg.empty:
        return micro
    return pd.concat([micro, agg[[c for c in micro.columns if c in agg.columns]]],
                     ignore_index=True)


def _share_indicator(spec: IndicatorSpec, frame: pd.DataFrame, as_of: date,
                     responses: pd.DataFrame | None = None, include_never_out: bool = True
                     ) -> IndicatorStatus:
    if spec.dataset == "survey":
        frame = _survey_table(frame, responses, spec.indicator, include_never_out)
    if frame is None or frame.empty or "share" not in frame.columns:
        return _no_data(spec, "n = –", "share")
    data = frame
    if spec.indicator and "indicator" in data.columns:
        data = data.loc[data["indicator"] == spec.indicator]
    data = apply_spec_filter(data, spec)
    data = defaults_for_share(data, spec)
    latest_y, prev_y = _yearly_pair(data["year"], as_of) if not data.empty else (None, None)
    if latest_y is None:
        return _no_data(spec, "n = –", "share")

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
        label=spec.label, latest_value=p2, latest_period=str(latest_y), previous_value=p1,
        change=change, desired_direction=spec.desired_direction,
        status=_status(change, spec.desired_direction, True),
        denominator=f"n = {fmt_int(n2)}" + (f" (förra: {fmt_int(n1)})" if n1 else ""),
        previous_period=str(prev_y) if prev_y is not None else "", kind="share", unit="%",
        indicator_id=spec.id, dataset=spec.dataset, n=n2,
        previous_n=n1 if prev_y is not None else None)


def _ratio_indicator(spec: IndicatorSpec, frame: pd.DataFrame, as_of: date
                     ) -> IndicatorStatus:
    nums, den = spec.numerators, spec.denominator
    ds = DATASETS.get(spec.dataset)
    if (frame is None or frame.empty or ds is None or not nums or den is None
            or any(c not in frame.columns for c in (*nums, den))):
        return _no_data(spec, "n = –", "ratio")
    data = apply_spec_filter(frame, spec)
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
        return _no_data(spec, "n = –", "ratio")
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
        label=spec.label, latest_value=p2, latest_period=str(latest_y), previous_value=p1,
        change=change, desired_direction=spec.desired_direction,
        status=_status(change, spec.desired_direction, True),
        denominator=f"n = {fmt_int(n2)} {den_label}",
        previous_period=str(prev_y) if prev_y is not None else "", kind="ratio", unit="%",
        indicator_id=spec.id, dataset=spec.dataset, n=n2,
        previous_n=float(sums.loc[prev_y, "den"]) if prev_y is not None else None,
        count=float(sums.loc[latest_y, num]),
        previous_count=float(sums.loc[prev_y, num]) if prev_y is not None else None,
        protected=is_protected(spec))


def indicator_status(spec: IndicatorSpec, frames: Mapping[str, pd.DataFrame], *, as_of: date,
                     granularity: str = "M", population: int | None = None,
                     include_never_out: bool = True) -> IndicatorStatus:
    """Latest value, change and status of one indicator spec."""
    frame = frames.get(spec.dataset)
    if frame is None:
        return _no_data(spec)
    if spec.measure == "share":
        return _share_indicator(spec, frame, as_of, frames.get("survey_responses"),
                                include_never_out)
    if spec.measure == "ratio":
        return _ratio_indicator(spec, frame, as_of)
    gran = spec.granularity if spec.granularity in UNIT_WORDS else DEFAULT_GRANULARITY.get(
        spec.dataset, granularity)
    return _count_indicator(spec, frame, as_of, gran, population)


def population_for_year(year: int) -> int | None:
    """Whole-municipality population of ``year`` from the reference file (nearest year
    in it: ``reference.population_for``); None when the file cannot be read or has no
    "Hela kommunen" rows, so rates show "underlag saknas" instead of failing."""
    try:
        return reference.population_for(year)
    except (HjoDataError, OSError, ValueError):
        return None


#: Default comparison period per dataset (sparse data is compared year by year).
DEFAULT_GRANULARITY = {"activities": "Y", "traffic": "Y"}


def goal_cards(bundle_or_frames: Any, promise: Any, filters: Filters | None = None,
               today: date | None = None, *, population: int | None = None
               ) -> list[GoalCard]:
    """One card per promise goal with the status of each of its indicators.

    ``promise`` None (no promise could be read) gives no cards. The latest period is the
    last complete period (``filters.granularity`` unless the spec fixes one) on the
    reference day.
    """
    if promise is None:
        return []
    frames = _frames_of(bundle_or_frames)
    today = today or date.today()
    filters = filters or Filters()
    as_of = periods.reference_day(periods.last_data_day(frames), today=today, end=filters.end)
    if population is None:
        population = population_for_year(as_of.year)
    settings = get_field(promise, "settings", default={})
    never_out = bool(get_field(settings, "otrygg_includes_never_out", default=True))
    planned = list(get_field(promise, "activities", default=[]) or [])
    cards: list[GoalCard] = []
    for raw_goal in promise_goals(promise):
        goal_id = str(get_field(raw_goal, "id", "key", default=len(cards) + 1))
        own = [a for a in planned if goal_id in (get_field(a, "goals", default=()) or ())]
        specs = [parse_indicator(r) for r in get_field(raw_goal, "indicators", default=[]) or []]
        cards.append(GoalCard(
            goal_id=goal_id,
            title=str(get_field(raw_goal, "title", "name", "label", default="Mål")),
            indicators=[indicator_status(s, frames, as_of=as_of,
                                         granularity=filters.granularity,
                                         population=population,
                                         include_never_out=never_out) for s in specs],
            activities=[str(get_field(a, "title", "name", "label", default=a))
                        for a in (get_field(raw_goal, "activities", default=None) or own)],
        ))
    return cards


# --------------------------------------------------------------------------- audience


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


def _small(value: float | None, settings: DisclosureSettings) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return 0 < value < settings.threshold or (settings.suppress_zero and value == 0)


def _count_unit(ind: IndicatorStatus) -> str:
    """Unit of the count behind a rate: "händelser per månad"."""
    word = ind.unit.rsplit(" ", 1)[-1] if ind.unit else ""
    return f"händelser per {word}" if word in UNIT_WORDS.values() else "händelser"


def indicator_texts(ind: IndicatorStatus, audience: str = "public",
                    settings: DisclosureSettings | None = None) -> IndicatorTexts:
    """Latest/previous value texts of ``ind`` safe for ``audience``.

    The one implementation of the public rules for goal indicators (page, slides, report):
    a protected count (or the count behind a rate, or a ratio's numerator) of
    1..threshold-1 reads ``"<5"``; a survey share with n < ``min_survey_n`` (or n unknown)
    reads ``"för få svar"``. Official: the values as computed.
    """
    s = settings or DisclosureSettings()
    base_unit = "" if ind.kind in ("share", "ratio") else ind.unit
    if ind.status == STATUS_NO_DATA or ind.latest_value is None:
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
    if ind.count is None or _small(ind.count, s):
        latest, unit, lat_hidden = s.small_mark, noun, True
    if has_prev and (ind.previous_count is None or _small(ind.previous_count, s)):
        previous, prev_unit, prev_hidden = s.small_mark, noun, True
    return IndicatorTexts(latest, previous, unit, prev_unit, lat_hidden, prev_hidden)


def test_text(ind: IndicatorStatus, audience: str, missing: str = "") -> str:
    """The test behind a change, with its p-value for officials ("Poisson, p = 0,012")."""
    test = ind.change.test or missing
    if audience == "official" and ind.change.p_value is not None \
            and math.isfinite(ind.change.p_value):
        test = f"{test}, p = {fmt_float(ind.change.p_value, 3)}"
    return test


def describe_change(ind: IndicatorStatus, texts: IndicatorTexts | None = None) -> str:
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


def latest_status_text(cards: Sequence[GoalCard], audience: str = "public",
                       settings: DisclosureSettings | None = None) -> str:
    """The "Läget just nu" paragraph: names only changes beyond noise.

    Built only from the promise's labels and the indicator values (no free text from the
    data); values go through ``indicator_texts`` for ``audience``.
    """
    inds = [i for c in cards for i in c.indicators]
    beyond = [i for i in inds if i.status in (STATUS_BETTER, STATUS_WORSE)]
    within = [i for i in inds if i.status == STATUS_NOISE]
    missing = [i for i in inds if i.status == STATUS_NO_DATA]
    parts: list[str] = []
    if beyond:
        for ind in beyond:
            tail = "i önskad riktning" if ind.status == STATUS_BETTER else "i fel riktning"
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
    return " ".join(parts)


# Backwards-compatible private names (used by older callers).
_get = get_field
_goals = promise_goals
_apply_spec_filter = apply_spec_filter
_defaults_for_share = defaults_for_share


# --------------------------------------------------------------------------- trend


def compact_incidents(incidents: pd.DataFrame, by: Iterable[str] = ("category", "source")
                      ) -> pd.DataFrame:
    """Incidents collapsed to one row per day and ``by`` values with a count ``_n``.

    Count indicators and the trend give the same results on the compact frame as on the
    rows (they sum ``_n``), but a million incidents shrink to some thousand rows. Sorted by
    ``occurred_at`` (the day, midnight).
    """
    cols = [c for c in by if c in incidents.columns]
    if incidents is None or incidents.empty:
        out = incidents[[*cols, "occurred_at"]].copy() if incidents is not None else (
            pd.DataFrame({"occurred_at": pd.Series([], dtype="datetime64[us]")}))
        out[COUNT_COLUMN] = pd.Series([], dtype="int64")
        return out
    day = incidents["occurred_at"].dt.floor("D").rename("occurred_at")
    keys = [incidents[c] for c in cols] + [day]
    counts = incidents.groupby(keys, sort=False, observed=True).size()
    out = counts.rename(COUNT_COLUMN).reset_index()
    out["occurred_at"] = out["occurred_at"].astype("datetime64[us]")
    for c in cols:
        out[c] = out[c].astype(incidents[c].dtype)
    return out.sort_values("occurred_at", kind="stable", ignore_index=True)


def incident_filter_columns(promise: Any) -> tuple[str, ...]:
    """Columns the promise's incident indicators filter on (plus category and source);
    just category and source when ``promise`` is None."""
    cols = ["category", "source"]
    for goal in promise_goals(promise) if promise is not None else ():
        for raw in get_field(goal, "indicators", default=[]) or []:
            spec = parse_indicator(raw)
            if spec.dataset == "incidents":
                cols.extend(c for c in spec.filter if c not in cols)
    return tuple(cols)


def incidents_per_period(incidents: pd.DataFrame, granularity: str = "M") -> pd.DataFrame:
    """Incident counts per period: columns period_start (date), period (Swedish label), antal.

    Periods without incidents between the first and last one are included with 0.
    """
    gran = granularity if granularity in UNIT_WORDS else "M"
    if incidents is None or incidents.empty:
        return pd.DataFrame({"period_start": pd.Series([], dtype="datetime64[us]"),
                             "period": pd.Series([], dtype="str"),
                             "antal": pd.Series([], dtype="int64")})
    starts = periods.period_starts(incidents["occurred_at"], gran)
    if COUNT_COLUMN in incidents.columns:
        counts = incidents[COUNT_COLUMN].groupby(starts.to_numpy()).sum().sort_index()
    else:
        counts = starts.value_counts().sort_index()
    full = periods.period_range(counts.index.min(), counts.index.max(), gran)
    counts = counts.reindex(full, fill_value=0)
    return pd.DataFrame({
        "period_start": counts.index.astype("datetime64[us]"),
        "period": [period_label(d, gran) for d in counts.index],
        "antal": counts.to_numpy().astype("int64"),
    })


def trend_figure(table: pd.DataFrame, granularity: str = "M") -> Any:
    """Bar chart of ``incidents_per_period`` (Swedish axes, decimal comma)."""
    import plotly.graph_objects as go

    unit = UNIT_WORDS.get(granularity, "månad")
    fig = go.Figure(go.Bar(
        x=table["period_start"], y=table["antal"], marker_color="#0072B2",
        customdata=table["period"], name="Händelser",
        hovertemplate="%{customdata}: %{y} händelser<extra></extra>"))
    fig.update_layout(
        title=f"Händelser (EST) per {unit}", xaxis_title=unit.capitalize(),
        yaxis_title="Antal händelser", separators=", ", height=320,
        margin={"l": 40, "r": 10, "t": 50, "b": 40}, showlegend=False)
    return fig
