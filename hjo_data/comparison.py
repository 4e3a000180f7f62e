"""Official statistics compared: the municipality against county, Riket and peers.

Pure computation on the ``statistik`` frame (long format: source, indicator_id, indicator,
geo_code, geo_name, geo_level, period, gender, value, unit, n, ci_low, ci_high, status,
fetched_at) for the official indicators of the promise (``promise.OfficialIndicator``) and
its geographies (``promise.Comparison``). Per period and geography:

* the value, per 100 000 inhabitants where the indicator is configured ``per_100k`` and the
  source gives a count (population: the promise's population indicator in ``statistik``,
  else ``data/reference/population.csv`` for the municipality itself);
* a 95 % confidence interval: the source's own when it gives one; else Wilson for a share
  with n, exact Poisson for a count or a rate whose count is known (``n`` of a rate row is
  the count behind it, as BRÅ publishes "Antal" next to "Per 100 000 inv."; otherwise the
  count is rate × population / 100 000);
* whether the gap between the municipality and county/Riket in the latest period is
  beyond random variation: the 95 % interval of the difference (MOVER, Zou & Donner 2008:
  built from the two intervals; a reference without an interval counts as exact, which
  holds for a county or the country with their large counts) must exclude 0. A gap within
  the noise is never called a difference.

``sections.comparison_sections`` turns the result into what the page, the report and the
slide show.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from hjo_data.formatting import fmt_float, fmt_int
from hjo_data.indicators import poisson_interval, wilson_interval
from hjo_data.promise import Comparison, OfficialIndicator, Promise, SeriesBreak
from hjo_data.reference import ReferenceDataError, population_for

#: ``source`` of the generated demo rows (demo.py); they stand in for any configured source.
DEMO_SOURCE = "demo"
#: Columns of the ``statistik`` dataset (issue 12), in stored order.
STATISTIK_COLUMNS = ("source", "indicator_id", "indicator", "geo_code", "geo_name",
                     "geo_level", "period", "gender", "value", "unit", "n", "ci_low",
                     "ci_high", "status", "fetched_at")
GENDER_LABELS = {"T": "Totalt", "K": "Kvinnor", "M": "Män"}
ROLE_ORDER = ("home", "county", "riket", "peer")
#: Columns of :attr:`IndicatorComparison.series`.
#: ``count``: the count behind a rate or count (NaN when unknown); ``count_estimated``: it
#: was derived as value × population / 100 000, not given by the source.
SERIES_COLUMNS = ("period", "period_start", "geo_code", "geo_name", "role", "value",
                  "ci_low", "ci_high", "count", "count_estimated", "n", "status", "source")

RATE_UNIT = "per 100 000 inv"
#: indicator_id suffix of a published rate beside its count (BRÅ: "narkotikabrott" and
#: "narkotikabrott_per_100k").
RATE_SUFFIX = "_per_100k"
#: Source names for the "Källa:" line (a source not listed is shown as written).
SOURCE_NAMES = {"kolada": "Kolada (RKA)", "bra": "Brottsförebyggande rådet (BRÅ)",
                "ntu": "Nationella trygghetsundersökningen (BRÅ)",
                "fohm": "Folkhälsomyndigheten", "polis": "Polisen"}
DEMO_NOTE = ("Demodata: siffrorna är påhittade för att visa sidan och är inte verklig "
             "statistik. Läs in eller hämta officiell statistik för att ersätta dem.")
NO_HOME = "Det finns ingen uppgift för {home} för den här indikatorn, så ingen jämförelse kan "\
          "göras."
NO_CI = ("Osäkerheten kan inte beräknas (antal eller antal svar saknas), så det går inte att "
         "avgöra om avståndet till {refs} är större än slumpvariationen.")
METHOD_NOTE = ("Beräkning: 95 % konfidensintervall (källans egna när de finns, annars Wilson "
               "för andelar och exakt Poisson för antal). Ett avstånd räknas som utöver "
               "slumpvariationen när skillnadens 95 % konfidensintervall inte innehåller 0.")


@dataclass(frozen=True)
class Gap:
    """The municipality against one reference geography in one period."""

    geo_code: str
    geo_name: str
    role: str
    home_value: float
    other_value: float
    low: float            # 95 % interval of home - other (NaN when not computable)
    high: float

    @property
    def diff(self) -> float:
        return self.home_value - self.other_value

    @property
    def assessable(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def beyond_noise(self) -> bool:
        """True only when the difference's interval excludes 0."""
        return self.assessable and (self.low > 0 or self.high < 0)


@dataclass(frozen=True)
class IndicatorComparison:
    """One official indicator for one gender: the series of every configured geography,
    the latest period's gaps and the Swedish sentence about them."""

    indicator: OfficialIndicator
    gender: str
    unit: str
    kind: str                      # "share" (percent), "rate", "value"
    series: pd.DataFrame           # SERIES_COLUMNS, sorted by period then role
    latest_period: str | None
    gaps: tuple[Gap, ...]
    sentence: str
    breaks: tuple[SeriesBreak, ...]
    is_demo: bool = False

    @property
    def is_empty(self) -> bool:
        return self.series.empty


# --------------------------------------------------------------------------- helpers


def period_start(period: str) -> int | None:
    """First year of a period text ("2021" -> 2021, "2019-2022" -> 2019)."""
    match = re.match(r"\s*(\d{4})", str(period))
    return int(match.group(1)) if match else None


def period_end(period: str) -> int | None:
    """Last year of a period text ("2021" -> 2021, "2019-2022" -> 2022)."""
    years = re.findall(r"\d{4}", str(period))
    return int(years[-1]) if years else None


def period_year(period: str) -> int | None:
    """The year of a single-year period ("2021"); None for a range ("2019-2022")."""
    text = str(period).strip()
    return int(text) if re.fullmatch(r"\d{4}", text) else None


def unit_kind(unit: str) -> str:
    """ "share" for percentages, "rate" for values per 100 000, "count" for counts,
    else "value"."""
    text = unit.lower().replace("\u00a0", " ")
    if "%" in text or "procent" in text or "andel" in text:
        return "share"
    if re.search(r"100\s?000", text):
        return "rate"
    if text.startswith("antal") or text in ("st", "anmälda brott"):
        return "count"
    return "value"


def _float(value: object) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return out


def mover_interval(home: float, home_low: float, home_high: float, other: float,
                   other_low: float = math.nan, other_high: float = math.nan
                   ) -> tuple[float, float]:
    """95 % interval of ``home - other`` from the two 95 % intervals (MOVER).

    An ``other`` without an interval counts as exact. No interval for ``home``: (NaN, NaN).
    """
    if not all(math.isfinite(v) for v in (home, home_low, home_high, other)):
        return math.nan, math.nan
    if not (math.isfinite(other_low) and math.isfinite(other_high)):
        other_low = other_high = other
    diff = home - other
    low = diff - math.sqrt((home - home_low) ** 2 + (other_high - other) ** 2)
    high = diff + math.sqrt((home_high - home) ** 2 + (other - other_low) ** 2)
    return low, high


def home_population(promise_code: str) -> Callable[[str, str], float]:
    """Population lookup (geo_code, period) -> inhabitants: the municipality itself from
    ``data/reference/population.csv`` (single years only), NaN for everything else."""
    def lookup(geo_code: str, period: str) -> float:
        year = period_year(period)
        if geo_code != promise_code or year is None:
            return math.nan
        try:
            return float(population_for(year))
        except ReferenceDataError:
            return math.nan
    return lookup


def population_lookup(statistik: pd.DataFrame, comparison: Comparison,
                      indicator_id: str = "") -> Callable[[str, str], float]:
    """(geo_code, period) -> inhabitants: rows of ``indicator_id`` (a population indicator
    in ``statistik``, gender T) first, then the reference population of the municipality."""
    fallback = home_population(comparison.home)
    known: dict[tuple[str, str], float] = {}
    if indicator_id and not statistik.empty:
        rows = statistik[(statistik["indicator_id"] == indicator_id)
                         & (statistik["gender"] == "T")]
        known = {(str(g), str(p)): float(v) for g, p, v in
                 zip(rows["geo_code"], rows["period"], rows["value"], strict=True)
                 if math.isfinite(_float(v)) and float(v) > 0}

    def lookup(geo_code: str, period: str) -> float:
        return known.get((geo_code, period), fallback(geo_code, period))
    return lookup


def source_name(source: str, *, demo: bool = False) -> str:
    """The "Källa:" text of an official indicator's source."""
    name = SOURCE_NAMES.get(source, source)
    return f"Demodata (i stället för {name})" if demo else name


# --------------------------------------------------------------------------- computation


def _role(code: str, comparison: Comparison) -> str:
    if code == comparison.home:
        return "home"
    if code == comparison.county:
        return "county"
    if code == comparison.riket:
        return "riket"
    return "peer"


def _rows_for(statistik: pd.DataFrame, indicator: OfficialIndicator, comparison: Comparison,
              gender: str) -> pd.DataFrame:
    """The indicator's rows. A ``per_100k`` indicator whose source also publishes the rate
    (BRÅ: ``<id>`` in "antal" and ``<id>_per_100k``) uses the published rate with the
    count as its n; counts without a published rate are turned into rates later."""
    if statistik is None or statistik.empty:
        return pd.DataFrame(columns=list(STATISTIK_COLUMNS))
    ids = [indicator.indicator_id]
    if indicator.per_100k:
        ids.append(indicator.indicator_id + RATE_SUFFIX)
    mask = (statistik["indicator_id"].isin(ids)
            & statistik["source"].isin([indicator.source, DEMO_SOURCE])
            & statistik["geo_code"].isin(comparison.geo_codes)
            & (statistik["gender"] == gender))
    rows = statistik.loc[mask]
    rows = rows[pd.to_numeric(rows["value"], errors="coerce").notna()]
    rates = rows[rows["indicator_id"] != indicator.indicator_id]
    if rates.empty:
        return rows
    counts = rows[rows["indicator_id"] == indicator.indicator_id]
    count_keys = list(zip(counts["geo_code"], counts["period"], strict=True))
    rate_keys = list(zip(rates["geo_code"], rates["period"], strict=True))
    known = dict(zip(count_keys, counts["value"], strict=True))
    filled = pd.Series([known.get(k, math.nan) for k in rate_keys], index=rates.index,
                       dtype="float64")
    rates = rates.assign(n=pd.to_numeric(rates["n"], errors="coerce").fillna(filled))
    published = set(rate_keys)
    alone = counts[[k not in published for k in count_keys]]
    return pd.concat([rates, alone], ignore_index=True)


def _series_row(row: pd.Series, indicator: OfficialIndicator, role: str,
                population: Callable[[str, str], float]) -> dict[str, object]:
    """Value, interval and count of one statistik row in the indicator's display unit."""
    geo, period = str(row["geo_code"]), str(row["period"])
    value, n = _float(row["value"]), _float(row.get("n"))
    src_low, src_high = _float(row.get("ci_low")), _float(row.get("ci_high"))
    kind = unit_kind(str(row["unit"]))
    count, estimated = math.nan, False
    if kind == "count":
        count = value
        if indicator.per_100k:
            pop = population(geo, period)
            value = count / pop * 100_000 if math.isfinite(pop) and pop > 0 else math.nan
            scale = 100_000 / pop if math.isfinite(pop) and pop > 0 else math.nan
        else:
            scale = 1.0
        low, high = (c * scale for c in poisson_interval(count))
    elif kind == "rate":
        pop = population(geo, period)
        estimated = not math.isfinite(n) and math.isfinite(pop)
        count = n if math.isfinite(n) else (
            round(value * pop / 100_000) if estimated else math.nan)
        low, high = poisson_interval(count)
        scale = value / count if math.isfinite(count) and count > 0 else (
            100_000 / pop if math.isfinite(pop) and pop > 0 else math.nan)
        low, high = low * scale, high * scale
    elif kind == "share" and math.isfinite(n) and n > 0:
        lo, hi = wilson_interval(value / 100.0 * n, n)
        low, high = float(lo) * 100.0, float(hi) * 100.0
    else:
        low = high = math.nan
    if math.isfinite(src_low) and math.isfinite(src_high):
        low, high = src_low, src_high
    return {"period": period, "period_start": period_start(period), "geo_code": geo,
            "geo_name": str(row["geo_name"]) or geo, "role": role, "value": value,
            "ci_low": low, "ci_high": high, "count": count, "count_estimated": estimated,
            "n": n if kind == "share" else math.nan, "status": str(row.get("status") or ""),
            "source": str(row["source"])}


def _sort_series(series: pd.DataFrame, comparison: Comparison) -> pd.DataFrame:
    order = {code: i for i, code in enumerate(comparison.geo_codes)}
    return (series.assign(_geo=series["geo_code"].map(order))
            .sort_values(["period_start", "period", "_geo"], kind="stable")
            .drop(columns="_geo").reset_index(drop=True))


def compare_indicator(statistik: pd.DataFrame, indicator: OfficialIndicator,
                      comparison: Comparison, *, home_name: str, gender: str = "T",
                      population: Callable[[str, str], float] | None = None
                      ) -> IndicatorComparison:
    """The comparison of one official indicator (see the module docstring)."""
    population = population or home_population(comparison.home)
    rows = _rows_for(statistik, indicator, comparison, gender)
    units = [str(u) for u in rows["unit"]] if not rows.empty else []
    row_kind = unit_kind(units[0]) if units else unit_kind(indicator.unit)
    kind = "rate" if row_kind == "count" and indicator.per_100k else row_kind
    unit = RATE_UNIT if kind == "rate" and row_kind == "count" else indicator.unit
    if rows.empty:
        series = pd.DataFrame(columns=list(SERIES_COLUMNS))
    else:
        series = _sort_series(pd.DataFrame([
            _series_row(row, indicator, _role(str(row["geo_code"]), comparison), population)
            for _, row in rows.iterrows()], columns=list(SERIES_COLUMNS)), comparison)
    is_demo = bool((rows["source"] == DEMO_SOURCE).any()) if not rows.empty else False
    home_rows = series[(series["role"] == "home") & series["value"].notna()]
    latest = str(home_rows["period"].iloc[-1]) if not home_rows.empty else None
    gaps = _gaps(series, latest) if latest is not None else ()
    sentence = gap_sentence(home_name, latest, gaps, kind=kind, unit=unit,
                            refs=_reference_names(series))
    return IndicatorComparison(indicator, gender, unit, kind, series, latest, gaps, sentence,
                               indicator.breaks, is_demo)


def _gaps(series: pd.DataFrame, period: str) -> tuple[Gap, ...]:
    now = series[series["period"] == period]
    home = now[now["role"] == "home"].iloc[0]
    out = []
    for role in ("county", "riket"):
        other = now[(now["role"] == role) & now["value"].notna()]
        if other.empty:
            continue
        o = other.iloc[0]
        low, high = mover_interval(home["value"], home["ci_low"], home["ci_high"],
                                   o["value"], o["ci_low"], o["ci_high"])
        out.append(Gap(str(o["geo_code"]), str(o["geo_name"]), role, float(home["value"]),
                       float(o["value"]), low, high))
    return tuple(out)


def _reference_names(series: pd.DataFrame) -> str:
    names = list(dict.fromkeys(series.loc[series["role"].isin(("county", "riket")),
                                          "geo_name"]))
    return " och ".join(names) if names else "länet och riket"


def format_value(value: float, kind: str) -> str:
    """A value as the comparison shows it: shares "27,3 %", counts "12", else one decimal
    ("652,0")."""
    if not math.isfinite(_float(value)):
        return "–"
    if kind == "share":
        return f"{fmt_float(value, 1)}\u00a0%"
    return fmt_int(value) if kind == "count" else fmt_float(value, 1)


def value_with_unit(value: float, kind: str, unit: str) -> str:
    """ "652,0 per 100 000 invånare", "27,3 %", "12 antal"."""
    if kind == "rate":
        return f"{format_value(value, kind)} per 100\u00a0000 invånare"
    text = format_value(value, kind)
    return text if kind == "share" or not unit else f"{text} {unit}"


def beyond_sides(gaps: Sequence[Gap], kind: str | None = None) -> list[tuple[str, str]]:
    """("lägre", "Västra Götalands län (1 003,3) och Riket (1 052,0)") per side of the
    gaps beyond noise; values in brackets only with ``kind``."""
    out = []
    for side, sign in (("lägre", -1), ("högre", 1)):
        names = [g.geo_name + (f" ({format_value(g.other_value, kind)})" if kind else "")
                 for g in gaps if g.beyond_noise and (g.diff > 0) == (sign > 0)]
        if names:
            out.append((side, " och ".join(names)))
    return out


def gap_sentence(home: str, period: str | None, gaps: Sequence[Gap], *, kind: str,
                 unit: str, refs: str = "länet och riket") -> str:
    """The Swedish sentence on the latest period's gaps to county and Riket.

    "2024: Hjo 652,1 per 100 000 invånare. Hjo ligger lägre än Riket (901,2) – utöver
    slumpvariationen. Avståndet till Västra Götalands län (812,4) ligger inom
    slumpvariationen, så det går inte att säga att Hjo skiljer sig därifrån."
    """
    if period is None:
        return NO_HOME.format(home=home)
    if not gaps:
        return f"{period}: det finns ingen uppgift för {refs} att jämföra {home} med."
    lead = f"{period}: {home} {value_with_unit(gaps[0].home_value, kind, unit)}."
    if not any(g.assessable for g in gaps):
        names = " och ".join(g.geo_name for g in gaps)
        return f"{lead} {NO_CI.format(refs=names)}"
    parts = [lead]
    within = [g for g in gaps if g.assessable and not g.beyond_noise]
    for side, named in beyond_sides(gaps, kind):
        parts.append(f"{home} ligger {side} än {named} – utöver slumpvariationen.")
    if within:
        named = " och ".join(f"{g.geo_name} ({format_value(g.other_value, kind)})"
                             for g in within)
        where = "därifrån" if len(within) == 1 else "från dem"
        parts.append(f"Avståndet till {named} ligger inom slumpvariationen, så det går inte "
                     f"att säga att {home} skiljer sig {where}.")
    return " ".join(parts)


def compare_all(statistik: pd.DataFrame, promise: Promise, *, gender: str = "T"
                ) -> list[IndicatorComparison]:
    """Every official indicator of the promise, in goal order."""
    return [compare_one(statistik, promise, ind, gender=gender)
            for ind in promise.official_indicators()]


def compare_one(statistik: pd.DataFrame, promise: Promise, indicator: OfficialIndicator, *,
                gender: str = "T") -> IndicatorComparison:
    """One official indicator of the promise against its comparison geographies (the
    promise's population indicator turns counts into rates)."""
    comparison = promise.comparison or Comparison(home=promise.municipality_code)
    lookup = population_lookup(statistik, comparison, comparison.population)
    return compare_indicator(statistik, indicator, comparison,
                             home_name=promise.municipality_short, gender=gender,
                             population=lookup)


def genders_in(statistik: pd.DataFrame, promise: Promise) -> list[str]:
    """The genders the configured indicators have data for, T first."""
    if statistik is None or statistik.empty:
        return []
    ids = {o.indicator_id for o in promise.official_indicators()}
    present = set(statistik.loc[statistik["indicator_id"].isin(ids), "gender"])
    return [g for g in GENDER_LABELS if g in present]
