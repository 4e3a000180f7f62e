"""Traffic controls: controls per month, offences per 100 checked vehicles, and the
"motorburen problematik" incidents alongside (the promise: police traffic surveillance
with focus on disruptive driving in the town).

Rates are ratios of sums (sum offences / sum vehicles checked × 100), never means of
per-control ratios: a control with 3 vehicles must not weigh as much as one with 300.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from hjo_data.disclosure import KEY_SUFFIX
from hjo_data.est import KEY_COLUMN, IncidentCube, incident_cube, monthly_counts
from hjo_data.periods import period_range, period_starts
from hjo_data.schema import TRAFFIC_OFFENCES

MOTOR_CATEGORY = "motorburen problematik"
TATORT = "tätort"


def _offence_columns(traffic: pd.DataFrame) -> list[str]:
    return [c for c in TRAFFIC_OFFENCES if c in traffic.columns]


def total_offences(traffic: pd.DataFrame) -> pd.Series:
    """Offences per control row (sum over the offence columns present)."""
    cols = _offence_columns(traffic)
    if not cols:
        return pd.Series(0, index=traffic.index, dtype="int64")
    return traffic[cols].fillna(0).sum(axis=1).astype("int64")


def _month(values: pd.Series) -> pd.Series:
    return period_starts(values, "M")


def _month_range(*series: pd.Series) -> pd.DatetimeIndex:
    stamps = [s.dropna() for s in series if len(s.dropna())]
    if not stamps:
        return pd.DatetimeIndex([], dtype="datetime64[us]")
    lo = min(s.min() for s in stamps)
    hi = max(s.max() for s in stamps)
    return period_range(lo, hi, "M")


def _control_totals(traffic: pd.DataFrame, key: str, keys: np.ndarray) -> pd.DataFrame:
    """Sum of controls, vehicles_checked and offences per value of ``keys`` (one per row)."""
    frame = pd.DataFrame({
        key: keys,
        "controls": 1,
        "vehicles_checked": traffic["vehicles_checked"].to_numpy("int64") if len(traffic)
        else np.array([], dtype="int64"),
        "offences": total_offences(traffic).to_numpy("int64"),
    })
    return frame.groupby(key)[["controls", "vehicles_checked", "offences"]].sum()


def controls_per_month(traffic: pd.DataFrame) -> pd.DataFrame:
    """Per calendar month (zero-filled): controls, vehicles_checked, offences, per_100."""
    months = _month(traffic["date"]) if len(traffic) else pd.Series([], dtype="datetime64[us]")
    grouped = _control_totals(traffic, "month", months.to_numpy())
    full = _month_range(months)
    grouped = grouped.reindex(full, fill_value=0)
    grouped.index.name = "month"
    out = grouped.reset_index().astype({"controls": "int64", "vehicles_checked": "int64",
                                        "offences": "int64"})
    out["per_100"] = _per_100(out["offences"], out["vehicles_checked"])
    return out


def _per_100(offences: pd.Series | np.ndarray, checked: pd.Series | np.ndarray) -> np.ndarray:
    offences = np.asarray(offences, dtype="float64")
    checked = np.asarray(checked, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(checked > 0, offences / checked * 100, np.nan)


def offences_per_100(traffic: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Offences per 100 checked vehicles per offence type (optionally per ``by`` value).

    Columns: [by,] offence (canonical), label (Swedish), offences, vehicles_checked,
    per_100. Sorted by per_100 (largest first) within each group.
    """
    cols = _offence_columns(traffic)
    keys = [by] if by else []
    out_cols = [*keys, "offence", "label", "offences", "vehicles_checked", "per_100"]
    if traffic.empty or not cols:
        return pd.DataFrame({c: pd.Series([], dtype="float64" if c == "per_100" else
                                          ("int64" if c in ("offences", "vehicles_checked")
                                           else "str")) for c in out_cols})
    if by:
        sums = traffic.groupby(by)[[*cols, "vehicles_checked"]].sum()
    else:
        sums = traffic[[*cols, "vehicles_checked"]].sum().to_frame().T
    long = sums.reset_index(names=keys or None) if by else sums.reset_index(drop=True)
    long = long.melt(id_vars=[*keys, "vehicles_checked"], value_vars=cols,
                     var_name="offence", value_name="offences")
    long["label"] = long["offence"].map(TRAFFIC_OFFENCES)
    long["offences"] = long["offences"].astype("int64")
    long["vehicles_checked"] = long["vehicles_checked"].astype("int64")
    long["per_100"] = _per_100(long["offences"], long["vehicles_checked"])
    long = long.sort_values([*keys, "per_100"], ascending=[True] * len(keys) + [False],
                            kind="stable")
    return long[out_cols].reset_index(drop=True)


def _motor(incidents: pd.DataFrame | IncidentCube | None) -> IncidentCube | None:
    """The "motorburen problematik" part of the incidents, as an (integer-coded) cube:
    cheap at a million incident rows."""
    if incidents is None:
        return None
    return incident_cube(incidents).where(categories=(MOTOR_CATEGORY,))


def motor_alongside_controls(traffic: pd.DataFrame,
                             incidents: pd.DataFrame | IncidentCube) -> pd.DataFrame:
    """Per month: controls and vehicles checked next to "motorburen problematik" incidents.

    Columns: month, controls, vehicles_checked, motor_incidents (zero-filled over the
    union of both datasets' months).
    """
    ctrl = controls_per_month(traffic).set_index("month")[["controls", "vehicles_checked"]]
    per_month = monthly_counts(_motor(incidents), by=None)
    motor_counts = pd.Series(per_month["count"].to_numpy("int64"),
                             index=pd.DatetimeIndex(per_month["month"]))
    motor_keys = pd.Series(per_month[KEY_COLUMN].to_numpy("int64"),
                           index=pd.DatetimeIndex(per_month["month"]))
    motor_counts = motor_counts[motor_counts > 0]
    motor_months = pd.Series(motor_counts.index, dtype="datetime64[us]")
    full = _month_range(pd.Series(ctrl.index), motor_months)
    out = pd.DataFrame(index=full)
    out.index.name = "month"
    out["controls"] = ctrl["controls"].reindex(full, fill_value=0).to_numpy("int64")
    out["vehicles_checked"] = ctrl["vehicles_checked"].reindex(full, fill_value=0).to_numpy(
        "int64")
    out["motor_incidents"] = motor_counts.reindex(full, fill_value=0).to_numpy("int64")
    # The cell keys of the incident counts (public: cell-key perturbation, PRIVACY.md).
    out[f"motor_incidents{KEY_SUFFIX}"] = motor_keys.reindex(full, fill_value=0).to_numpy(
        "int64")
    return out.reset_index()


def by_area(traffic: pd.DataFrame, incidents: pd.DataFrame | IncidentCube | None = None,
            area_types: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Per area: controls, vehicles_checked, offences, per_100, motor_incidents, area_type.

    Sorted with tätort areas first (the promise's focus), then by controls.
    """
    grouped = _control_totals(traffic, "area", traffic["area"].astype(str).to_numpy()
                              if len(traffic) else np.array([], dtype=object))
    cube = _motor(incidents)
    motor = cube.counts("area") if cube is not None else pd.Series(dtype="int64")
    names = sorted(set(grouped.index) | set(motor.index))
    out = pd.DataFrame({"area": pd.Series(names, dtype="str")})
    for col in ("controls", "vehicles_checked", "offences"):
        out[col] = grouped[col].reindex(names, fill_value=0).to_numpy("int64") if len(
            grouped) else np.zeros(len(names), dtype="int64")
    out["per_100"] = _per_100(out["offences"], out["vehicles_checked"])
    out["motor_incidents"] = motor.reindex(names, fill_value=0).to_numpy("int64") if len(
        motor) else np.zeros(len(names), dtype="int64")
    out[f"motor_incidents{KEY_SUFFIX}"] = (
        cube.key_sums("area").reindex(names, fill_value=0).to_numpy("int64")
        if cube is not None else np.zeros(len(names), dtype="int64"))
    types = dict(area_types or {})
    out["area_type"] = pd.Series([types.get(a, "") for a in names], dtype="str")
    out["_focus"] = out["area_type"] == TATORT
    out = out.sort_values(["_focus", "controls", "motor_incidents"],
                          ascending=[False, False, False], kind="stable")
    return out.drop(columns="_focus").reset_index(drop=True)


def totals(traffic: pd.DataFrame) -> dict[str, float]:
    """Key figures: controls, vehicles_checked, offences, per_100, fines."""
    checked = int(traffic["vehicles_checked"].sum()) if len(traffic) else 0
    offences = int(total_offences(traffic).sum())
    fines = int(traffic["fines"].sum()) if "fines" in traffic and len(traffic) else 0
    return {
        "controls": len(traffic),
        "vehicles_checked": checked,
        "offences": offences,
        "per_100": offences / checked * 100 if checked else float("nan"),
        "fines": fines,
    }
