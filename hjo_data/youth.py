"""Youth indicators (ANDTS and mental health) from school surveys: shares with n and a
Wilson 95 % interval, by grade, gender and year, and the comparison with region/country.

Gender "alla" (all pupils): a school survey may report only per gender. Then the "alla"
share of a cell (indicator, year, grade, geography) is the n-weighted pool of its gender
rows (:func:`pool_genders`), marked ``pooled`` so the page can say so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hjo_data.formatting import fmt_pct
from hjo_data.indicators import compare_shares, wilson_interval
from hjo_data.promise import home_municipality

#: Swedish label of every youth indicator.
YOUTH_LABELS: dict[str, str] = {
    "alkohol_12m": "Druckit alkohol senaste 12 månaderna",
    "berusad_4v": "Berusad senaste 4 veckorna",
    "rokning": "Röker",
    "snus": "Snusar",
    "e_cigarett": "Använder e-cigarett",
    "narkotika_nagonsin": "Använt narkotika någon gång",
    "dopning": "Använt dopningsmedel",
    "spel_om_pengar": "Spelat om pengar",
    "psykosomatiska_besvar": "Psykosomatiska besvär",
}

#: The promise's prevention areas -> indicators (order = display order).
YOUTH_GROUPS: dict[str, tuple[str, ...]] = {
    "Alkohol": ("alkohol_12m",),
    "Berusning": ("berusad_4v",),
    "Tobak och nikotin": ("rokning", "snus", "e_cigarett"),
    "Narkotika": ("narkotika_nagonsin",),
    "Dopning": ("dopning",),
    "Spel om pengar": ("spel_om_pengar",),
    "Psykisk hälsa": ("psykosomatiska_besvar",),
}

ALL_GENDERS = "alla"


def pool_genders(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows of gender "alla" per ``keys`` cell (columns ``keys``, gender, share, n, pooled);
    a cell without an "alla" row gets the n-weighted pool of its gender rows (kvinna, man,
    annat): share = sum(share × n) / sum(n), n = sum(n), ``pooled`` True.

    Honest because the gender rows partition the pupils who stated a gender: sum(share ×
    n) is the number answering yes, so the pool is that group's share exactly (pupils
    without a stated gender are missing from it, as from the gender rows).
    """
    is_all = (rows["gender"] == ALL_GENDERS).to_numpy()
    alla = rows.loc[is_all, [*keys, "gender", "share", "n"]].assign(pooled=False)
    parts = rows.loc[~is_all, [*keys, "share", "n"]]
    if not alla.empty and not parts.empty:
        covered = pd.MultiIndex.from_frame(alla[keys].astype("str"))
        parts = parts.loc[~pd.MultiIndex.from_frame(parts[keys].astype("str")).isin(covered)]
    if parts.empty:
        return alla.reset_index(drop=True)
    parts = parts.assign(_x=parts["share"].astype("float64") * parts["n"])
    pooled = parts.groupby(keys, as_index=False)[["_x", "n"]].sum()
    pooled = pooled.loc[pooled["n"] > 0]
    pooled = pooled.assign(share=pooled["_x"] / pooled["n"], gender=ALL_GENDERS,
                           pooled=True).drop(columns="_x")
    return pd.concat([alla, pooled[alla.columns]], ignore_index=True)


def with_ci(youth: pd.DataFrame) -> pd.DataFrame:
    """Add ci_low/ci_high (Wilson, from share × n) and indicator_label to youth rows."""
    out = youth.copy()
    share = out["share"].astype("float64").to_numpy()
    n = out["n"].astype("float64").to_numpy()
    low, high = wilson_interval(share * n, n)
    out["ci_low"] = np.asarray(low, dtype="float64")
    out["ci_high"] = np.asarray(high, dtype="float64")
    out["indicator_label"] = out["indicator"].map(YOUTH_LABELS).fillna(out["indicator"])
    return out


def _geographies_of(youth: pd.DataFrame, home: str) -> pd.Series:
    """Each row's geography; rows that name none are about the home municipality."""
    return youth["geography"].fillna(home).replace("", home).astype(str)


def _home(youth: pd.DataFrame, geography: str) -> pd.DataFrame:
    if "geography" not in youth.columns:
        return youth
    return youth.loc[(_geographies_of(youth, home_municipality()) == geography).to_numpy()]


def youth_series(youth: pd.DataFrame, indicators: tuple[str, ...] | list[str], *,
                 geography: str | None = None, grades: tuple[str, ...] = (),
                 genders: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows of the given indicators for one geography, with CI, sorted by year.

    Columns: indicator, indicator_label, year, grade, gender, share, n, ci_low, ci_high,
    pooled. Duplicate (indicator, year, grade, gender) rows are combined n-weighted;
    gender "alla" is pooled from the gender rows where the data have no "alla" row
    (``pooled`` True, see :func:`pool_genders`).
    """
    cols = ["indicator", "indicator_label", "year", "grade", "gender", "share", "n",
            "ci_low", "ci_high", "pooled"]
    keys = ["indicator", "year", "grade", "gender"]
    sub = _home(youth, geography or home_municipality())
    mask = sub["indicator"].isin(list(indicators))
    if grades:
        mask &= sub["grade"].isin(list(grades))
    sub = sub.loc[mask.to_numpy(), [*keys, "share", "n"]]
    if genders:
        chosen = sub.loc[sub["gender"].isin([g for g in genders if g != ALL_GENDERS])]
        if ALL_GENDERS in genders:
            chosen = pd.concat([chosen, pool_genders(sub, keys[:-1])], ignore_index=True)
        sub = chosen
    if sub.empty:
        return with_ci(sub.assign(share=sub["share"].astype("float64"), pooled=False))[cols]
    sub = sub.assign(_x=sub["share"] * sub["n"],
                     pooled=sub["pooled"].eq(True) if "pooled" in sub else False)
    agg = sub.groupby(keys, as_index=False).agg(_x=("_x", "sum"), n=("n", "sum"),
                                                pooled=("pooled", "any"))
    agg["share"] = agg["_x"] / agg["n"]
    agg = with_ci(agg.drop(columns="_x"))
    order = {k: i for i, k in enumerate(YOUTH_LABELS)}
    agg = agg.sort_values(["indicator", "grade", "gender", "year"],
                          key=lambda s: s.map(order) if s.name == "indicator" else s)
    return agg[cols].reset_index(drop=True)


def geographies(youth: pd.DataFrame) -> list[str]:
    """Geographies present, the home municipality first."""
    home = home_municipality()
    if youth.empty or "geography" not in youth.columns:
        return [home] if not youth.empty else []
    values = set(_geographies_of(youth, home))
    return sorted(values, key=lambda g: (g != home, g))


def comparison(youth: pd.DataFrame, indicators: tuple[str, ...] | list[str], *, year: int,
               grade: str, gender: str = "alla") -> pd.DataFrame:
    """The home municipality next to region/country for one year, grade and gender.

    Columns: indicator, indicator_label, geography, share, n, ci_low, ci_high. Empty when
    the data hold no other geography for that selection.
    """
    cols = ["indicator", "indicator_label", "geography", "share", "n", "ci_low", "ci_high"]
    if youth.empty or "geography" not in youth.columns:
        return pd.DataFrame(columns=cols)
    mask = (youth["indicator"].isin(list(indicators)) & (youth["year"] == year)
            & (youth["grade"] == grade))
    sub = youth.loc[mask.to_numpy()]
    sub = sub.assign(geography=_geographies_of(sub, home_municipality()))
    sub = pool_genders(sub, ["indicator", "geography"]) if gender == ALL_GENDERS \
        else sub.loc[(sub["gender"] == gender).to_numpy()]
    if sub["geography"].nunique() < 2:
        return pd.DataFrame(columns=cols)
    sub = with_ci(sub)
    order = {g: i for i, g in enumerate(geographies(youth))}
    sub = sub.sort_values(["indicator", "geography"],
                          key=lambda s: s.map(order) if s.name == "geography" else s)
    return sub[cols].reset_index(drop=True)


def latest_year(youth: pd.DataFrame) -> int | None:
    """Latest survey year (None when empty)."""
    if youth.empty:
        return None
    return int(youth["year"].max())


def comparison_notes(comp: pd.DataFrame, home: str) -> list[str]:
    """One Swedish sentence per indicator: is ``home``'s share different from each other
    geography's beyond random variation (two-proportion test, 5 % level)? ``comp`` has
    the columns of :func:`comparison`; hidden shares (NaN, public mode) are left out, so a
    sentence never hints at a suppressed value."""
    notes: list[str] = []
    shown = comp.loc[comp["share"].notna() & comp["n"].notna()]
    for _indicator, rows in shown.groupby("indicator", sort=False):
        mine = rows.loc[rows["geography"] == home]
        others = rows.loc[rows["geography"] != home]
        if mine.empty or others.empty:
            continue
        share, n = float(mine["share"].iloc[0]), float(mine["n"].iloc[0])
        beyond: list[str] = []
        within: list[str] = []
        for geo, other_share, other_n in zip(others["geography"], others["share"],
                                             others["n"], strict=True):
            change = compare_shares(float(other_share), float(other_n), share, n)
            named = f"{geo} ({fmt_pct(other_share)})"
            if change.significant:
                beyond.append(f"{'högre' if change.diff > 0 else 'lägre'} än {named}")
            else:
                within.append(named)
        parts = []
        if beyond:
            parts.append(f"{home} {fmt_pct(share)} är {' och '.join(beyond)} – utöver "
                         "slumpvariationen")
        if within:
            lead = "" if beyond else f"{home} {fmt_pct(share)}: "
            parts.append(f"{lead}skillnaden mot {' och '.join(within)} ligger inom "
                         "slumpvariationen")
        label = str(mine["indicator_label"].iloc[0])
        notes.append(f"{label}: {'; '.join(parts)}.")
    return notes
