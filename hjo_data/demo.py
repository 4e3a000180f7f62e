"""Deterministic synthetic data for every dataset (demo mode, tests, benchmarks).

The data is invented but shaped like Hjo's: incidents peak in summer and on Friday/Saturday
evenings, "motorburen problematik" gathers in the town centre and harbour in summer, rose
in 2023 and fell in 2024 after police controls, klotter falls year by year. Survey, youth,
traffic and activity tables have realistic sizes for a municipality of ~9 000 inhabitants.
No personal data: descriptions and notes are generic template texts.

Each dataset uses its own child of ``SeedSequence(seed)``, so the incident count does not
change the other datasets. Incidents are generated fully vectorised (1 000 000 rows in a
couple of seconds).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hjo_data import geography, periods, reference, survey
from hjo_data.promise import (
    Comparison,
    Promise,
    column_default,
    effective_settings,
    home_municipality,
    load_promise_with_fallback,
)
from hjo_data.schema import (
    ACTIVITY_TYPES,
    AGE_GROUPS,
    CONTROL_TYPES,
    DATASETS,
    GRADES,
    INCIDENT_CATEGORIES,
    PROBLEM_ANSWERS,
    SAFETY_ANSWERS,
    SOURCES,
    TRAFFIC_OFFENCES,
    WHOLE_MUNICIPALITY,
    YOUTH_INDICATORS,
    Column,
    Dataset,
)

BATCH_ID = "demo"
START = date(2022, 1, 1)
_US_PER_DAY = 86_400_000_000
_US_PER_MIN = 60_000_000
_STR = pd.StringDtype(na_value=np.nan)

#: Areas with more trouble than their population suggests (factor on the area weight).
HOTSPOTS = {"Hjo centrum": 2.2, "Hamnen": 2.6, "Stadsparken": 1.7}

# --------------------------------------------------------------------------- incidents

#: Share of each category among all incidents.
CATEGORY_MIX = {
    "skadegörelse": 0.16, "klotter": 0.09, "nedskräpning": 0.12, "ordningsstörning": 0.13,
    "brand": 0.03, "våld/hot": 0.05, "stöld/inbrott": 0.10, "narkotika": 0.03,
    "alkohol": 0.05, "motorburen problematik": 0.12, "trafik": 0.06, "övrigt": 0.06,
}
_GENERAL_SEASON = (0.8, 0.8, 0.9, 0.95, 1.05, 1.2, 1.35, 1.25, 1.0, 0.95, 0.9, 0.85)
SEASON = {
    "motorburen problematik": (0.3, 0.3, 0.5, 0.9, 1.6, 2.2, 2.6, 2.3, 1.3, 0.7, 0.4, 0.3),
    "nedskräpning": (0.6, 0.6, 0.7, 0.9, 1.3, 1.6, 1.8, 1.6, 1.0, 0.8, 0.7, 0.6),
    "brand": (0.7, 0.7, 0.9, 1.6, 1.3, 1.0, 1.0, 0.9, 0.8, 0.8, 0.9, 1.5),
    "alkohol": (0.7, 0.7, 0.8, 1.0, 1.3, 1.6, 1.6, 1.3, 0.9, 0.8, 0.8, 1.3),
}
#: Categories that happen mostly in the evening/night (and on Friday/Saturday).
NIGHT_CATEGORIES = ("skadegörelse", "klotter", "ordningsstörning", "våld/hot", "narkotika",
                    "alkohol", "motorburen problematik", "brand")
_NIGHT_WEEKDAY = (0.8, 0.8, 0.85, 0.95, 1.5, 1.7, 1.0)  # Mon..Sun
_DAY_WEEKDAY = (1.05, 1.05, 1.05, 1.05, 1.05, 0.85, 0.8)
#: Yearly level per category (real trends the "beyond noise" tests can find).
YEAR_TREND = {
    "motorburen problematik": {2022: 1.0, 2023: 1.7, 2024: 1.0, 2025: 0.85},
    "klotter": {2022: 1.0, 2023: 0.82, 2024: 0.66, 2025: 0.55},
    "nedskräpning": {2022: 1.0, 2023: 1.05, 2024: 1.1, 2025: 1.1},
}
_HOURS_NIGHT = np.array([5, 4, 3, 2, 1, 0.5, 0.5, 0.6, 0.8, 1, 1.1, 1.2, 1.3, 1.4, 1.6, 2,
                         2.6, 3.2, 4, 5, 6, 6.5, 6.5, 6], dtype=float)
_HOURS_NIGHT_WEEKEND = np.array([9, 8, 6, 4, 1.5, 0.5, 0.3, 0.4, 0.6, 0.8, 1, 1.1, 1.2, 1.3,
                                 1.5, 1.8, 2.2, 2.8, 3.6, 5, 7, 9, 10, 10], dtype=float)
_HOURS_DAY = np.array([0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 1.5, 3, 4.5, 5, 5, 5, 5, 5, 5, 5, 4.5,
                       4, 3, 2.5, 2, 1.5, 1, 0.6], dtype=float)
#: Source probabilities per category: one row per category, one column per source in the
#: order of schema.SOURCES (polis, kommun, skola, bostadsbolag, näringsliv,
#: räddningstjänst, allmänhet, övrigt).
_SOURCE_MIX_TABLE = """
skadegörelse            0.15 0.30 0.15 0.20 0.10 0.00 0.08 0.02
klotter                 0.05 0.45 0.12 0.20 0.12 0.00 0.05 0.01
nedskräpning            0.02 0.60 0.05 0.15 0.08 0.00 0.10 0.00
ordningsstörning        0.40 0.15 0.10 0.15 0.05 0.00 0.12 0.03
brand                   0.10 0.10 0.05 0.05 0.00 0.65 0.05 0.00
våld/hot                0.70 0.05 0.10 0.05 0.03 0.00 0.05 0.02
stöld/inbrott           0.50 0.10 0.05 0.10 0.20 0.00 0.05 0.00
narkotika               0.75 0.10 0.10 0.02 0.00 0.00 0.03 0.00
alkohol                 0.50 0.15 0.10 0.05 0.10 0.00 0.10 0.00
motorburen problematik  0.40 0.15 0.02 0.05 0.10 0.00 0.28 0.00
trafik                  0.80 0.05 0.02 0.00 0.00 0.05 0.08 0.00
övrigt                  0.25 0.25 0.08 0.15 0.10 0.02 0.12 0.03
"""
SOURCE_MIX: dict[str, tuple[float, ...]] = {
    name: tuple(float(p) for p in shares)
    for name, *shares in (line.rsplit(maxsplit=len(SOURCES)) for line in
                          _SOURCE_MIX_TABLE.strip().splitlines())
}
#: Raw texts of some "övrigt" incidents (not in the vocabulary: kept in ``category_raw``).
OTHER_RAW = ("fyrverkerier", "lösspringande hundar", "trasig belysning", "övergivet fordon")
DESCRIPTIONS = {
    "skadegörelse": ("Krossad ruta i busskur.", "Sönderslagen papperskorg.",
                     "Skadad parkbänk.", "Sparkad dörr vid entré."),
    "klotter": ("Klotter på fasad.", "Taggar på elskåp.", "Klotter i gångtunnel."),
    "nedskräpning": ("Mycket skräp efter helgen.", "Glas och burkar vid bryggan.",
                     "Nedskräpat vid återvinningsstationen."),
    "ordningsstörning": ("Högljudda ungdomar sent på kvällen.", "Bråk utanför restaurang.",
                         "Störande musik i parken."),
    "brand": ("Brand i papperskorg.", "Brand i container.", "Eldning i skogsdunge."),
    "våld/hot": ("Hot mot personal.", "Knuffar och slag vid busstorget."),
    "stöld/inbrott": ("Cykel stulen vid stationen.", "Inbrott i förråd.",
                      "Snatteri i butik."),
    "narkotika": ("Misstänkt langning vid skolan.", "Fynd av sprutor i buskage."),
    "alkohol": ("Berusade ungdomar i parken.", "Misstänkt langning av alkohol."),
    "motorburen problematik": ("EPA-traktorer kör i hög fart i centrum.",
                               "Mopeder buskör på torget.", "Bilar samlas och varvar i hamnen.",
                               "Störande körning på parkeringen."),
    "trafik": ("Fortkörning på genomfart.", "Felparkerade bilar vid skolan."),
    "övrigt": ("Lösspringande hund.", "Trasig gatubelysning.", "Övrigt ärende."),
}


def _str_from_codes(codes: np.ndarray, labels: list[str] | tuple[str, ...]) -> pd.Series:
    """pandas ``str`` Series from integer codes into ``labels`` (fast, no Python loop)."""
    arr = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)),
                                         pa.array(list(labels), type=pa.string()))
    return pd.Series(arr.cast(pa.string()).to_pandas(types_mapper={pa.string(): _STR}.get),
                     dtype=_STR)


def _str(values: list[str] | np.ndarray) -> pd.Series:
    return pd.Series(list(values) if not isinstance(values, np.ndarray) else values,
                     dtype=_STR)


def _year_weight(trend: dict[int, float], years: np.ndarray) -> np.ndarray:
    keys = np.array(sorted(trend))
    vals = np.array([trend[k] for k in keys])
    idx = np.clip(np.searchsorted(keys, years, side="right") - 1, 0, len(keys) - 1)
    return vals[idx]


def _areas() -> tuple[pd.DataFrame, dict[str, tuple[float, float, float, float]]]:
    areas = reference.load_areas()
    bounds = reference.area_bounds()
    return areas, bounds


def _area_weights(areas: pd.DataFrame, hotspot_power: float, rural_factor: float) -> np.ndarray:
    pop = areas["population"].to_numpy(dtype=float)
    hot = np.array([HOTSPOTS.get(n, 1.0) for n in areas["name"]]) ** hotspot_power
    rural = np.where(areas["type"].to_numpy() == "landsbygd", rural_factor, 1.0)
    w = pop * hot * rural
    return w / w.sum()


def _incidents(rng: np.random.Generator, rows: int, today: date) -> pd.DataFrame:
    areas, bounds = _areas()
    n_days = (today - START).days + 1
    day_dates = np.arange(np.datetime64(START, "D"), np.datetime64(START, "D") + n_days)
    months = day_dates.astype("datetime64[M]").astype(int) % 12
    years = day_dates.astype("datetime64[Y]").astype(int) + 1970
    dow = (day_dates.astype(int) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    # Reporting grows while EST is introduced during 2022-2023.
    t = (day_dates - np.datetime64(START, "D")).astype(float) / 365.25
    est_ramp = np.clip(0.8 + 0.2 * t / 1.5, 0.8, 1.0)

    cats = list(INCIDENT_CATEGORIES)
    mix = np.array([CATEGORY_MIX[c] for c in cats])
    cat = rng.choice(len(cats), size=rows, p=mix / mix.sum())
    day = np.empty(rows, dtype=np.int64)
    hour = np.empty(rows, dtype=np.int64)
    area = np.empty(rows, dtype=np.int64)
    source = np.empty(rows, dtype=np.int64)
    summer = (months >= 4) & (months <= 7)  # May..Aug
    for k, name in enumerate(cats):
        idx = np.flatnonzero(cat == k)
        if idx.size == 0:
            continue
        night = name in NIGHT_CATEGORIES
        w = (np.array(SEASON.get(name, _GENERAL_SEASON))[months]
             * np.array(_NIGHT_WEEKDAY if night else _DAY_WEEKDAY)[dow]
             * _year_weight(YEAR_TREND.get(name, {2022: 1.0}), years) * est_ramp)
        day[idx] = rng.choice(n_days, size=idx.size, p=w / w.sum())
        # Hour of day: Friday/Saturday nights are busier for night categories.
        weekend = np.isin(dow[day[idx]], (4, 5))
        for mask, profile in (
            (weekend, _HOURS_NIGHT_WEEKEND if night else _HOURS_DAY),
            (~weekend, _HOURS_NIGHT if night else _HOURS_DAY),
        ):
            sub = idx[mask]
            hour[sub] = rng.choice(24, size=sub.size, p=profile / profile.sum())
        # Area: hotspots weigh more for night trouble; motorburen gathers in summer.
        in_summer = summer[day[idx]]
        motor = name == "motorburen problematik"
        for mask, power in ((in_summer, 2.5 if motor else (1.0 if night else 0.3)),
                            (~in_summer, 1.5 if motor else (1.0 if night else 0.3))):
            sub = idx[mask]
            p = _area_weights(areas, power, 0.5 if (motor or night) else 0.8)
            area[sub] = rng.choice(len(p), size=sub.size, p=p)
        sp = np.array(SOURCE_MIX[name])
        source[idx] = rng.choice(len(sp), size=idx.size, p=sp / sp.sum())

    has_time = rng.random(rows) >= 0.10
    minute = rng.integers(0, 60, size=rows)
    offset_min = np.where(has_time, hour * 60 + minute, 0)
    start_us = np.datetime64(START, "us").astype(np.int64)
    ts = start_us + day * _US_PER_DAY + offset_min * _US_PER_MIN
    order = np.lexsort((cat, ts))
    ts, cat, area, source, has_time = ts[order], cat[order], area[order], source[order], \
        has_time[order]

    # Positions: ~30 % near the area centre, inside the area's bounding box.
    names = areas["name"].tolist()
    lat0 = areas["lat"].to_numpy()
    lon0 = areas["lon"].to_numpy()
    box = np.array([bounds.get(n, (la - 0.005, la + 0.005, lo - 0.01, lo + 0.01))
                    for n, la, lo in zip(names, lat0, lon0, strict=True)])
    has_pos = rng.random(rows) < 0.30
    lat = np.full(rows, np.nan)
    lon = np.full(rows, np.nan)
    pa_idx = area[has_pos]
    b = box[pa_idx]
    lat_j = lat0[pa_idx] + rng.normal(0, 1, pa_idx.size) * (b[:, 1] - b[:, 0]) / 6
    lon_j = lon0[pa_idx] + rng.normal(0, 1, pa_idx.size) * (b[:, 3] - b[:, 2]) / 6
    lat[has_pos] = np.round(np.clip(lat_j, b[:, 0] + 1e-5, b[:, 1] - 1e-5), 5)
    lon[has_pos] = np.round(np.clip(lon_j, b[:, 2] + 1e-5, b[:, 3] - 1e-5), 5)

    # Short descriptions on ~15 %: codes into one flat template list ("" = none).
    templates = [""]
    first = np.zeros(len(cats), dtype=np.int64)
    count = np.zeros(len(cats), dtype=np.int64)
    for k, name in enumerate(cats):
        first[k] = len(templates)
        count[k] = len(DESCRIPTIONS[name])
        templates.extend(DESCRIPTIONS[name])
    has_desc = rng.random(rows) < 0.15
    desc_code = np.where(has_desc, first[cat] + (rng.random(rows) * count[cat]).astype(int), 0)

    # Some "övrigt" incidents keep an unknown raw category text.
    other = cat == cats.index("övrigt")
    raw_code = np.where(other & (rng.random(rows) < 0.3),
                        1 + rng.integers(0, len(OTHER_RAW), rows), 0)

    width = max(6, len(str(rows)))
    ids = pc.binary_join_element_wise(
        pa.scalar("demo-"),
        pc.utf8_lpad(pc.cast(pa.array(np.arange(1, rows + 1)), pa.string()), width, "0"), "")
    ids_s = pd.Series(ids.to_pandas(types_mapper={pa.string(): _STR}.get), dtype=_STR)
    return pd.DataFrame({
        "incident_id": ids_s,
        "occurred_at": ts.astype("datetime64[us]"),
        "occurred_at_has_time": has_time,
        "category": _str_from_codes(cat, cats),
        "category_raw": _str_from_codes(raw_code, ("", *OTHER_RAW)),
        "area": _str_from_codes(area, names),
        "source": _str_from_codes(source, SOURCES),
        "source_raw": _str_from_codes(np.zeros(rows, dtype=np.int64), ("",)),
        "lat": lat,
        "lon": lon,
        "description": _str_from_codes(desc_code, templates),
        "record_id": ids_s.copy(),
        "batch_id": _str_from_codes(np.zeros(rows, dtype=np.int64), (BATCH_ID,)),
    })


# --------------------------------------------------------------------------- survey


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """Row-wise categorical draw: ``probs`` is (n, k), rows sum to 1."""
    cdf = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None] * cdf[:, -1:]
    return np.minimum((u >= cdf).sum(axis=1), probs.shape[1] - 1)


def _survey_years(today: date) -> list[int]:
    return list(range(2022, today.year))  # full years only


def _survey_responses(rng: np.random.Generator, today: date) -> pd.DataFrame:
    areas, _ = _areas()
    years = _survey_years(today)
    sizes = rng.integers(350, 601, size=len(years))
    year = np.repeat(np.array(years, dtype=np.int64), sizes)
    n = len(year)
    gender = rng.choice(3, size=n, p=(0.52, 0.47, 0.01))  # kvinna, man, annat
    age = rng.choice(4, size=n, p=(0.17, 0.29, 0.25, 0.29))
    area_p = _area_weights(areas, 0.0, 1.0)
    area = rng.choice(len(area_p), size=n, p=area_p)
    hot = np.array([HOTSPOTS.get(a, 1.0) > 1 for a in areas["name"]])[area]
    rural = (areas["type"].to_numpy() == "landsbygd")[area]
    year_eff = _year_weight({2022: 0.0, 2023: 0.2, 2024: -0.05, 2025: -0.15}, year)
    logit = (-2.1 + 0.9 * (gender != 1) + np.array([0.2, -0.25, 0.0, 0.45])[age]
             + 0.4 * hot - 0.35 * rural + year_eff)
    p_unsafe = 1 / (1 + np.exp(-logit))
    p_never = np.where(age == 3, 0.35, 0.12)
    p_very_safe = np.where(gender == 1, 0.6, 0.45)
    probs = np.column_stack([
        (1 - p_unsafe) * p_very_safe,
        (1 - p_unsafe) * (1 - p_very_safe),
        p_unsafe * (1 - p_never) * 0.75,
        p_unsafe * (1 - p_never) * 0.25,
        p_unsafe * p_never,
    ])
    safety = _pick(rng, probs)
    frame: dict[str, object] = {
        "year": year,
        "area": _str_from_codes(area, areas["name"].tolist()),
        "gender": _str_from_codes(gender, ("kvinna", "man", "annat")),
        "age_group": _str_from_codes(age, AGE_GROUPS),
        "safety_evening": _str_from_codes(safety, SAFETY_ANSWERS),
    }
    base = {"problem_nedskrapning": 0.25, "problem_skadegorelse": 0.15,
            "problem_klotter": 0.10, "problem_trafik": 0.33, "problem_paverkade": 0.12,
            "problem_brak": 0.10}
    answers = ("", *PROBLEM_ANSWERS)
    for col, p0 in base.items():
        factor = 1.0 + 0.6 * hot - 0.4 * rural
        if col == "problem_trafik":
            factor = factor * _year_weight({2022: 1.0, 2023: 1.35, 2024: 1.0, 2025: 0.9}, year)
        p_big = np.clip(p0 * factor, 0.01, 0.9)
        probs = np.column_stack([
            np.full(n, 0.02),                       # no answer
            0.98 * p_big * 0.3,                     # mycket stort
            0.98 * p_big * 0.7,                     # ganska stort
            0.98 * (1 - p_big) * 0.45,              # ganska litet
            0.98 * (1 - p_big) * 0.47,              # inget
            0.98 * (1 - p_big) * 0.08,              # vet ej
        ])
        frame[col] = _str_from_codes(_pick(rng, probs), answers)
    frame["weight"] = np.ones(n)
    out = pd.DataFrame(frame)
    out["record_id"] = _str([f"demo-svar-{i:06d}" for i in range(1, n + 1)])
    out["batch_id"] = _str([BATCH_ID] * n)
    return out


def _share_rows(responses: pd.DataFrame, never_out: bool) -> pd.DataFrame:
    """Aggregate micro data into the survey table (like published survey results): the
    shares are ``survey.combine_survey``'s (the one computation, the promise's definition
    of "otrygg"), published for the whole municipality, women and men, and "otrygg" per
    area."""
    shares = survey.combine_survey(responses, None, include_never_out=never_out)
    whole = shares["area"] == WHOLE_MUNICIPALITY
    keep = ((whole & shares["group"].isin(["Totalt", "kvinna", "man"]))
            | ((shares["group"] == "Totalt") & (shares["indicator"] == survey.OTRYGG)))
    out = shares.loc[keep.to_numpy(), ["year", "indicator", "group", "area", "share", "n"]]
    out = out.assign(group=out["group"].replace({"kvinna": "Kvinnor", "man": "Män"}))
    out = out.reset_index(drop=True)
    out["year"] = out["year"].astype("int64")
    out["n"] = out["n"].astype("int64")
    out["share"] = np.round(out["share"].astype("float64"), 4)
    for col in ("indicator", "group", "area"):
        out[col] = out[col].astype(_STR)
    out["record_id"] = _str([f"demo-survey-{i:05d}" for i in range(1, len(out) + 1)])
    out["batch_id"] = _str([BATCH_ID] * len(out))
    return out


# --------------------------------------------------------------------------- youth

#: Base share per indicator for (åk 7, åk 9, gy 2), region level, 2019.
YOUTH_BASE = {
    "alkohol_12m": (0.10, 0.35, 0.65),
    "berusad_4v": (0.02, 0.10, 0.28),
    "rokning": (0.01, 0.05, 0.10),
    "snus": (0.02, 0.08, 0.18),
    "e_cigarett": (0.03, 0.08, 0.12),
    "narkotika_nagonsin": (0.005, 0.04, 0.12),
    "spel_om_pengar": (0.10, 0.15, 0.22),
    "dopning": (0.003, 0.005, 0.01),
    "psykosomatiska_besvar": (0.30, 0.38, 0.42),
}
#: (girls factor, boys factor) relative to the base share.
YOUTH_GENDER = {
    "alkohol_12m": (1.05, 0.95), "berusad_4v": (1.05, 0.95), "rokning": (1.1, 0.9),
    "snus": (0.6, 1.4), "e_cigarett": (1.1, 0.9), "narkotika_nagonsin": (0.8, 1.2),
    "spel_om_pengar": (0.4, 1.6), "dopning": (0.3, 1.7), "psykosomatiska_besvar": (1.4, 0.6),
}
#: Change per survey round (2 years) as a factor.
YOUTH_TREND = {"alkohol_12m": 0.94, "berusad_4v": 0.93, "rokning": 0.9, "e_cigarett": 1.3,
               "psykosomatiska_besvar": 1.04}
YOUTH_HJO_FACTOR = {"alkohol_12m": 1.1, "berusad_4v": 1.15, "snus": 1.15,
                    "spel_om_pengar": 0.9, "narkotika_nagonsin": 0.8}
#: Respondents per geography; HOME is the promise's municipality (promise.home_municipality).
HOME = "__home__"
YOUTH_GEOGRAPHIES = {HOME: (40, 61), "Skaraborg": (1800, 2400), "Riket": (2500, 3200)}


def _youth_years(today: date) -> list[int]:
    # Biennial spring survey; results of the current year count from June.
    return [y for y in range(2019, today.year + 1, 2) if date(y, 6, 1) <= today]


def _youth(rng: np.random.Generator, today: date) -> pd.DataFrame:
    rows: list[tuple[object, ...]] = []
    home = home_municipality() or "Kommunen"
    for year in _youth_years(today):
        rounds = (year - 2019) / 2
        for key, (lo, hi) in YOUTH_GEOGRAPHIES.items():
            geo = home if key == HOME else key
            for g, grade in enumerate(GRADES):
                n_base = rng.integers(lo, hi, size=2)
                for ind in YOUTH_INDICATORS:
                    p = YOUTH_BASE[ind][g] * YOUTH_TREND.get(ind, 1.0) ** rounds
                    if key == HOME:
                        p *= YOUTH_HJO_FACTOR.get(ind, 1.0)
                    elif geo == "Skaraborg":
                        p *= 1.03
                    girls, boys = YOUTH_GENDER[ind]
                    if ind == "snus":  # snus rising among girls
                        girls = min(1.0, girls + 0.15 * rounds)
                    nonresp = rng.integers(0, max(2, lo // 20), size=2)
                    n = np.maximum(n_base - nonresp, 1)
                    ps = np.clip(np.array([p * girls, p * boys]), 0.0005, 0.95)
                    k = rng.binomial(n, ps)
                    for gender, nn, kk in (("kvinna", n[0], k[0]), ("man", n[1], k[1]),
                                           ("alla", n.sum(), k.sum())):
                        rows.append((year, grade, gender, ind, round(kk / nn, 4), int(nn), geo))
    out = pd.DataFrame(rows, columns=["year", "grade", "gender", "indicator", "share", "n",
                                      "geography"])
    out["year"] = out["year"].astype("int64")
    out["n"] = out["n"].astype("int64")
    out["share"] = out["share"].astype("float64")
    for col in ("grade", "gender", "indicator", "geography"):
        out[col] = out[col].astype(_STR)
    out["record_id"] = _str([f"demo-youth-{i:05d}" for i in range(1, len(out) + 1)])
    out["batch_id"] = _str([BATCH_ID] * len(out))
    return out


# --------------------------------------------------------------------------- statistik

#: Demo levels per 100 000 inhabitants (home, county, Riket) of the promise's official
#: indicators by indicator_id (others: DEMO_RATE_DEFAULT). The home municipality's violent
#: crime is clearly below the county (beyond noise), its vandalism close to it (within).
DEMO_RATES = {"N07403": (640.0, 1010.0, 1050.0), "skadegorelsebrott": (880.0, 930.0, 960.0),
              "narkotikabrott": (420.0, 880.0, 930.0)}
DEMO_RATE_DEFAULT = (700.0, 850.0, 900.0)
#: Police-initiated drug offences: the home municipality's rate times 2,1 from 2023.
DEMO_DRUG_PUSH = ("narkotikabrott", 2023, 2.1)
#: Demo survey shares (%) by county and Riket per gender (like NTU), answers per level.
DEMO_SHARES = {"T": 29.0, "K": 38.0, "M": 20.0}
DEMO_SURVEY_N = {"lan": 4_000, "riket": 30_000}
DEMO_POPULATION = {"lan": 1_760_000, "riket": 10_500_000}
DEMO_FIRST_YEAR = 2015


def _stat_places(promise: Promise) -> list[tuple[str, str, str]]:
    """(code, name, level) of the promise's comparison geographies (home, county, Riket,
    peers), names from the list of municipalities."""
    comp = promise.comparison or Comparison(home=promise.municipality_code)
    return [(code, geography.name_of(code) or promise.municipality_short
             if code == comp.home else geography.name_of(code) or code,
             geography.geo_level(code)) for code in comp.geo_codes]


def _stat_population(code: str, level: str, home: str, year: int) -> int:
    """Inhabitants: the reference population for home, demo sizes for the others."""
    if code == home:
        return reference.population_for(year)
    return DEMO_POPULATION.get(level, 6_000 + int(code) % 9 * 1_000)


def _statistik(rng: np.random.Generator, today: date) -> pd.DataFrame:
    """Demo official statistics (source "demo") for every official indicator of the promise
    and its comparison geographies, yearly 2015 up to last year (published the following
    spring). Rates per 100 000 come with their count in n as BRÅ gives it ("Antal" beside
    "Per 100 000 inv."), Kolada KPIs without; survey shares (%) only for county and Riket
    (as NTU), split T/K/M, with n."""
    columns = list(DATASETS["statistik"].column_names)
    promise = load_promise_with_fallback().promise
    if promise is None:
        return pd.DataFrame(columns=columns)
    home, rows = promise.municipality_code, []
    for ind in promise.official_indicators():
        share = "%" in ind.unit
        for code, name, level in _stat_places(promise):
            if share and level == "kommun":
                continue  # survey shares are published by county
            base = DEMO_RATES.get(ind.indicator_id, DEMO_RATE_DEFAULT)
            rate = {"lan": base[1], "riket": base[2]}.get(level, base[0])
            if code != home and level == "kommun":
                rate *= 0.8 + int(code) % 5 * 0.12  # peers: their own deterministic level
            for year in range(DEMO_FIRST_YEAR, today.year):
                if share:
                    for gender, level_share in DEMO_SHARES.items():
                        n = DEMO_SURVEY_N[level] // (1 if gender == "T" else 2)
                        value = 100.0 * rng.binomial(n, level_share / 100.0) / n
                        rows.append((ind, code, name, level, year, gender, round(value, 1),
                                     ind.unit, n))
                    continue
                tag, since, factor = DEMO_DRUG_PUSH
                push = factor if (ind.indicator_id, code, year >= since) == (tag, home, True) \
                    else 1.0
                pop = _stat_population(code, level, home, year)
                count = int(rng.poisson(rate * push * pop / 100_000))
                rows.append((ind, code, name, level, year, "T",
                             round(count / pop * 100_000, 1), "antal/100 000 inv",
                             np.nan if ind.source == "kolada" else count))
    out = pd.DataFrame([("demo", i.indicator_id, i.title, code, name, level, str(year), g,
                         value, unit, n, np.nan, np.nan, "", today.isoformat())
                        for i, code, name, level, year, g, value, unit, n in rows],
                       columns=columns)
    out["record_id"] = _str([f"demo-stat-{i:05d}" for i in range(1, len(out) + 1)])
    out["batch_id"] = _str([BATCH_ID] * len(out))
    return out


# --------------------------------------------------------------------------- traffic

_CONTROL_VEHICLES = {"hastighet": (10, 80), "nykterhet": (30, 151),
                     "fordon/EPA-moped": (5, 41), "övrigt": (5, 31)}
#: Offence probability per checked vehicle for each control type.
_OFFENCE_P = {
    "speeding": {"hastighet": 0.15},
    "drunk_driving": {"nykterhet": 0.012},
    "drugged_driving": {"nykterhet": 0.004},
    "unlicensed_driving": {},
    "tuned_vehicle": {"fordon/EPA-moped": 0.12},
    "vehicle_defects": {"fordon/EPA-moped": 0.10},
    "mobile_phone": {"hastighet": 0.02},
    "other_offences": {},
}
_OFFENCE_DEFAULT = {"speeding": 0.01, "drunk_driving": 0.003, "drugged_driving": 0.001,
                    "unlicensed_driving": 0.01, "tuned_vehicle": 0.005,
                    "vehicle_defects": 0.03, "mobile_phone": 0.005, "other_offences": 0.02}


def _month_starts(today: date) -> list[date]:
    return [m.date() for m in periods.period_range(START, today, "M")]


def _traffic(rng: np.random.Generator, today: date) -> pd.DataFrame:
    areas, _ = _areas()
    town = np.flatnonzero(areas["type"].to_numpy() == "tätort")
    rural = np.flatnonzero(areas["type"].to_numpy() != "tätort")
    town_p = _area_weights(areas.iloc[town], 1.5, 1.0)
    dates: list[date] = []
    for m in _month_starts(today):
        summer = 5 <= m.month <= 8
        lam = (3.0 + 3.0 * summer) * (1.4 if m.year in (2023, 2024) else 1.0)
        end = periods.last_day(m, "M")
        last = min(end, today).day
        for d in sorted(rng.integers(1, last + 1, size=rng.poisson(lam))):
            dates.append(date(m.year, m.month, int(d)))
    n = len(dates)
    months = np.array([d.month for d in dates], dtype=int)
    summer = (months >= 5) & (months <= 8)
    types = list(CONTROL_TYPES)  # hastighet, nykterhet, fordon/EPA-moped, övrigt
    probs = np.where(summer[:, None], [0.3, 0.2, 0.4, 0.1], [0.4, 0.35, 0.15, 0.1])
    ctype = _pick(rng, probs) if n else np.zeros(0, dtype=int)
    in_town = rng.random(n) < 0.85
    area_idx = np.where(in_town, town[rng.choice(len(town), size=n, p=town_p)],
                        rural[rng.integers(0, max(len(rural), 1), size=n)]
                        if len(rural) else town[0])
    lo = np.array([_CONTROL_VEHICLES[types[c]][0] for c in ctype], dtype=int)
    hi = np.array([_CONTROL_VEHICLES[types[c]][1] for c in ctype], dtype=int)
    vehicles = rng.integers(lo, hi) if n else np.zeros(0, dtype=int)
    out: dict[str, object] = {
        "date": pd.to_datetime(pd.Series(dates, dtype=object)).astype("datetime64[us]")
        if n else pd.Series([], dtype="datetime64[us]"),
        "area": _str_from_codes(area_idx, areas["name"].tolist()),
        "control_type": _str_from_codes(ctype, types),
        "control_type_raw": _str_from_codes(np.zeros(n, dtype=int), ("",)),
        "vehicles_checked": vehicles.astype("int64"),
    }
    fined = np.zeros(n, dtype=np.int64)
    for off in TRAFFIC_OFFENCES:
        p = np.array([_OFFENCE_P[off].get(types[c], _OFFENCE_DEFAULT[off]) for c in ctype])
        k = rng.binomial(vehicles, p) if n else np.zeros(0, dtype=int)
        out[off] = k.astype("int64")
        if off in ("speeding", "mobile_phone", "vehicle_defects", "other_offences"):
            fined += k
    out["fines"] = (rng.binomial(fined, 0.85) if n else fined).astype("int64")
    frame = pd.DataFrame(out)
    frame["record_id"] = _str([f"demo-traffic-{i:05d}" for i in range(1, n + 1)])
    frame["batch_id"] = _str([BATCH_ID] * n)
    return frame


# --------------------------------------------------------------------------- activities

_WALK_NOTES = ("Belysning saknas längs gångvägen; buskage skymmer sikten.",
               "Trasiga lampor i gångtunneln; klotter på elskåp.",
               "Mörkt vid busshållplatsen; önskemål om fler papperskorgar.",
               "Skymd sikt vid övergångsställe; nedskräpat vid bryggan.")
_INFO_NOTES = ("Lägesbild presenterad på medborgardialog.", "Information i lokaltidningen.",
               "Trygghetsinformation på kommunens webbplats och sociala medier.",
               "Informationsmöte för näringsidkare i centrum.")
_HEALTH = (("barn", "Föräldraträff om ANDT och spel."), ("unga vuxna", "Föreläsning om psykisk "
           "hälsa för gymnasieelever."), ("vuxna", "Kurs i första hjälpen till psykisk hälsa."),
           ("äldre", "Träff om trygghet och bedrägerier för äldre."),
           ("barn", "Drogförebyggande lektion i åk 8."))


def _activities(rng: np.random.Generator, today: date, traffic: pd.DataFrame) -> pd.DataFrame:
    areas, _ = _areas()
    names = areas["name"].tolist()
    town = [a for a, t in zip(names, areas["type"], strict=True) if t == "tätort"]
    rural = [a for a, t in zip(names, areas["type"], strict=True) if t != "tätort"] or town
    rows: list[dict[str, object]] = []

    def add(d: date, kind: str, **kw: object) -> None:
        if d <= today:
            rows.append({"date": d, "activity_type": kind, **kw})

    def rand_day(year: int, first_month: int, last_month: int) -> date:
        start = date(year, first_month, 1)
        end = date(year + (last_month == 12), last_month % 12 + 1, 1)
        return start + timedelta(days=int(rng.integers(0, (end - start).days)))

    for year in range(START.year, today.year + 1):
        for _ in range(int(rng.integers(2, 5))):
            d = rand_day(year, 4, 10)
            findings = int(rng.integers(5, 21))
            decided = int(rng.binomial(findings, 0.7))
            age_days = (today - d).days
            done_p = 0.85 if age_days > 180 else (0.5 if age_days > 60 else 0.15)
            organisers = "kommun;polis;näringsliv" + (";bostadsbolag" if rng.random() < 0.4
                                                       else "")
            add(d, "trygghetsvandring", area=town[int(rng.integers(0, len(town)))],
                organisers=organisers, participants=int(rng.integers(8, 31)),
                target_group="boende och näringsidkare", findings=findings,
                actions_decided=decided, actions_done=int(rng.binomial(decided, done_p)),
                notes=_WALK_NOTES[int(rng.integers(0, len(_WALK_NOTES)))])
        for _ in range(int(rng.poisson(6))):
            add(rand_day(year, 1, 12), "informationsinsats", area=WHOLE_MUNICIPALITY,
                organisers="polis;kommun", participants=int(rng.integers(20, 121)),
                target_group="invånare",
                notes=_INFO_NOTES[int(rng.integers(0, len(_INFO_NOTES)))])
        for _ in range(int(rng.poisson(11))):
            group, note = _HEALTH[int(rng.integers(0, len(_HEALTH)))]
            add(rand_day(year, 1, 12), "hälsofrämjande insats", area=WHOLE_MUNICIPALITY,
                organisers="kommun" if rng.random() < 0.6 else "kommun;polis",
                participants=int(rng.integers(10, 81)), target_group=group, notes=note)
        for month in range(1, 13):
            for _ in range(int(rng.poisson(3.0 if 6 <= month <= 8 else 1.8))):
                add(rand_day(year, month, month), "uppsökande arbete",
                    area=town[int(rng.integers(0, len(town)))], organisers="kommun",
                    participants=int(rng.integers(5, 41)), target_group="unga",
                    notes="Fältarbete kvällstid; samtal med ungdomar.")
        for _ in range(4):
            add(rand_day(year, 2, 11), "grannsamverkan",
                area=rural[int(rng.integers(0, len(rural)))], organisers="polis;kommun;boende",
                participants=int(rng.integers(10, 41)), target_group="boende",
                notes="Grannsamverkansmöte: nya kontaktombud och skyltar.")
    # Weekly EST meetings (Tuesdays) from 2023, summer and Christmas breaks excepted.
    d = date(2023, 1, 3)
    while d <= today:
        week = d.isocalendar().week
        if not (27 <= week <= 31 or week in (52, 1)):
            add(d, "EST-möte", area=WHOLE_MUNICIPALITY,
                organisers="kommun;polis;bostadsbolag;skola",
                participants=int(rng.integers(5, 11)), target_group="",
                notes=f"Veckans lägesbild genomgången; {int(rng.integers(2, 9))} åtgärder.")
        d += timedelta(days=7)
    # Police traffic surveillance in town mirrors the traffic controls.
    surv = traffic[traffic["area"].isin(town)
                   & traffic["control_type"].isin(["fordon/EPA-moped", "hastighet"])]
    for day, area, ctype in zip(surv["date"], surv["area"], surv["control_type"], strict=True):
        add(day.date(), "trafikövervakning", area=str(area), organisers="polis",
            target_group="trafikanter",
            notes="Kontroll av EPA-traktorer och mopeder." if ctype == "fordon/EPA-moped"
            else "Hastighetskontroll i tätort.")
    cols = DATASETS["activities"].column_names
    frame = pd.DataFrame(rows).reindex(columns=list(cols)) if rows else pd.DataFrame(
        columns=list(cols))
    frame = frame.sort_values(["date", "activity_type"], kind="stable", ignore_index=True)
    for c in DATASETS["activities"].columns:
        if c.kind == "int":
            frame[c.name] = frame[c.name].fillna(0).astype("int64")
        elif c.kind == "date":
            frame[c.name] = pd.to_datetime(frame[c.name]).astype("datetime64[us]")
        else:
            frame[c.name] = frame[c.name].fillna(column_default(c) or "").astype(_STR)
    n = len(frame)
    frame["record_id"] = _str([f"demo-activity-{i:05d}" for i in range(1, n + 1)])
    frame["batch_id"] = _str([BATCH_ID] * n)
    return frame


# --------------------------------------------------------------------------- public API


def generate(*, rows: int = 20_000, seed: int = 1497, today: date | None = None
             ) -> dict[str, pd.DataFrame]:
    """Canonical stored frames for every dataset (batch_id "demo"), 2022-01-01..today.

    ``rows`` is the number of incidents; the other datasets have fixed realistic sizes.
    Same arguments -> identical frames.
    """
    today = today or date.today()
    if isinstance(today, datetime):
        today = today.date()
    if today < START:
        raise ValueError(f"today ({today}) is before the demo start {START}")
    if rows < 0:
        raise ValueError("rows must be >= 0")
    seeds = np.random.SeedSequence(seed).spawn(6)
    rngs = [np.random.default_rng(s) for s in seeds]
    responses = _survey_responses(rngs[1], today)
    traffic = _traffic(rngs[3], today)
    frames = {
        "incidents": _incidents(rngs[0], rows, today),
        "survey_responses": responses,
        "survey": _share_rows(responses, effective_settings(
            load_promise_with_fallback().promise).otrygg_includes_never_out),
        "youth": _youth(rngs[2], today),
        "traffic": traffic,
        "activities": _activities(rngs[4], today, traffic),
        "statistik": _statistik(rngs[5], today),
    }
    return {name: _conform(frames[name], ds) for name, ds in DATASETS.items()}


def _conform(frame: pd.DataFrame, dataset: Dataset) -> pd.DataFrame:
    """Exactly the stored columns, in order, with the stored dtypes."""
    out = frame.reindex(columns=list(dataset.stored_columns)).reset_index(drop=True)
    for name in dataset.stored_columns:
        if name.endswith("_has_time"):
            out[name] = out[name].astype(bool)
            continue
        if name in ("record_id", "batch_id") or name.endswith("_raw"):
            kind = "text"
        else:
            kind = dataset.column(name).kind
        if kind in ("date", "datetime"):
            out[name] = out[name].astype("datetime64[us]")
        elif kind == "int":
            out[name] = out[name].astype("int64")
        elif kind in ("float", "share"):
            out[name] = out[name].astype("float64")
        elif out[name].dtype != _STR:
            out[name] = out[name].fillna("").astype(_STR)
    return out


#: File name of each dataset's CSV (the stem is the dataset name: the CLI uses it as a hint).
def csv_name(dataset: str) -> str:
    return f"{dataset}.csv"


def _to_arrow_text(values: pd.Series) -> pa.Array:
    arr = pa.array(values, type=pa.string(), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pc.fill_null(arr, "")


def _format_timestamps(values: np.ndarray, with_time: np.ndarray | None) -> pa.Array:
    """"YYYY-MM-DD" (or "YYYY-MM-DD HH:MM" where ``with_time``), via lookup tables.

    Formatting the few distinct days and minutes once is far faster than strftime per row.
    """
    us = values.astype("datetime64[us]").astype(np.int64)
    days = us // _US_PER_DAY
    first = int(days.min())
    uniq = np.arange(first, int(days.max()) + 1).astype("datetime64[D]").astype(str)
    day_text = pa.DictionaryArray.from_arrays(
        pa.array((days - first).astype(np.int32)), pa.array(uniq.tolist())).cast(pa.string())
    if with_time is None:
        return day_text
    minute = ((us - days * _US_PER_DAY) // _US_PER_MIN).astype(np.int32)
    hhmm = [f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)]
    time_text = pa.DictionaryArray.from_arrays(pa.array(minute), pa.array(hhmm)).cast(
        pa.string())
    stamped = pc.binary_join_element_wise(day_text, time_text, " ")
    return pc.if_else(pa.array(with_time), stamped, day_text)


def _csv_cells(frame: pd.DataFrame, col: Column) -> pa.Array:
    """One column rendered as Swedish office CSV text (unquoted)."""
    s = frame[col.name]
    if col.kind in ("date", "datetime"):
        has_time = (frame[f"{col.name}_has_time"].to_numpy(dtype=bool)
                    if col.kind == "datetime" else None)
        return _format_timestamps(s.to_numpy(dtype="datetime64[us]"), has_time)
    if col.kind == "int":
        return pc.cast(pa.array(s.to_numpy(dtype=np.int64)), pa.string())
    if col.kind in ("float", "share"):
        arr = pa.array(s.to_numpy(dtype=np.float64), from_pandas=True)
        text = pc.replace_substring(pc.cast(arr, pa.string()), ".", ",")
        return pc.fill_null(text, "")
    text = _to_arrow_text(s)
    if col.kind == "category" and col.fallback is not None:
        raw = _to_arrow_text(frame[f"{col.name}_raw"])
        text = pc.if_else(pc.equal(raw, ""), text, raw)
    return text


def _quote(arr: pa.Array) -> pa.Array:
    """Quote the cells that hold ';', '"' or a line break (as Excel does)."""
    need = pc.match_substring(arr, ";")
    for ch in ("\"", "\n", "\r"):
        need = pc.or_(need, pc.match_substring(arr, ch))
    if not pc.any(need).as_py():
        return arr
    quoted = pc.binary_join_element_wise(
        "\"", pc.replace_substring(arr, "\"", "\"\""), "\"", "")
    return pc.if_else(need, quoted, arr)


def _csv_parts(frame: pd.DataFrame, dataset: Dataset) -> list[bytes | memoryview]:
    header = ";".join(c.label for c in dataset.columns)
    parts: list[bytes | memoryview] = ["\ufeff".encode() + header.encode("utf-8") + b"\r\n"]
    if len(frame):
        cells = [_quote(_csv_cells(frame, c)) if c.kind in ("text", "category")
                 else _csv_cells(frame, c) for c in dataset.columns]
        lines = pc.binary_join_element_wise(*cells, ";")
        lines = pc.binary_join_element_wise(lines, "", "\r\n")
        if isinstance(lines, pa.ChunkedArray):
            lines = lines.combine_chunks()
        lines = lines.cast(pa.large_string())
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[
            lines.offset: lines.offset + len(lines) + 1]
        data = lines.buffers()[2]
        if data is not None:
            parts.append(memoryview(data)[int(offsets[0]):int(offsets[-1])])
    return parts


def frame_to_csv_bytes(frame: pd.DataFrame, dataset: Dataset) -> bytes:
    """Swedish office CSV: UTF-8 with BOM, ';', CRLF, Swedish headers, decimal comma.

    Cells holding ';', '"' or line breaks are quoted. Category values that were unknown on
    input are written as their raw text, so the file reads back into the same content.
    """
    return b"".join(_csv_parts(frame, dataset))


def write_csvs(out_dir: Path | str, *, rows: int = 20_000, seed: int = 1497,
               today: date | None = None) -> list[Path]:
    """Write one ingestable CSV per dataset (``<dataset>.csv``) and return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frames = generate(rows=rows, seed=seed, today=today)
    paths: list[Path] = []
    for name, ds in DATASETS.items():
        path = out / csv_name(name)
        tmp = path.with_suffix(".csv.tmp")
        with open(tmp, "wb") as fh:
            for part in _csv_parts(frames[name], ds):
                fh.write(part)
        tmp.replace(path)
        paths.append(path)
    return paths


__all__ = ["ACTIVITY_TYPES", "BATCH_ID", "frame_to_csv_bytes", "generate", "write_csvs"]
