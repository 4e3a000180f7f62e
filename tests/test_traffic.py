"""Traffic aggregations: rates are sums of offences over sums of checked vehicles."""

from __future__ import annotations

import pandas as pd

from hjo_data import traffic
from tests.conftest import canonical, incidents


def _controls() -> pd.DataFrame:
    return canonical("traffic", [
        {"date": pd.Timestamp("2024-03-05"), "area": "Hjo centrum", "control_type": "hastighet",
         "vehicles_checked": 200, "speeding": 10, "drunk_driving": 1},
        {"date": pd.Timestamp("2024-03-20"), "area": "Korsberga", "control_type": "hastighet",
         "vehicles_checked": 4, "speeding": 2},
        {"date": pd.Timestamp("2024-05-02"), "area": "Hjo centrum",
         "control_type": "fordon/EPA-moped", "vehicles_checked": 16, "tuned_vehicle": 4},
    ])


def test_offences_per_100_is_ratio_of_sums() -> None:
    rates = traffic.offences_per_100(_controls()).set_index("offence")
    checked = 200 + 4 + 16
    assert rates.loc["speeding", "per_100"] == (10 + 2) / checked * 100
    # The mean of per-control ratios would be (5 + 50 + 0) / 3 = 18.3: must not be used.
    assert abs(rates.loc["speeding", "per_100"] - 55 / 3) > 1
    assert rates.loc["tuned_vehicle", "offences"] == 4
    assert rates.loc["tuned_vehicle", "label"] == "trimmat fordon/EPA"


def test_offences_per_100_by_area() -> None:
    rates = traffic.offences_per_100(_controls(), by="area")
    row = rates[(rates["area"] == "Korsberga") & (rates["offence"] == "speeding")].iloc[0]
    assert row["per_100"] == 2 / 4 * 100


def test_controls_per_month_zero_filled_and_totals() -> None:
    monthly = traffic.controls_per_month(_controls()).set_index("month")
    assert monthly.loc[pd.Timestamp("2024-03-01"), "controls"] == 2
    assert monthly.loc[pd.Timestamp("2024-04-01"), "controls"] == 0
    assert monthly.loc[pd.Timestamp("2024-03-01"), "offences"] == 13
    tot = traffic.totals(_controls())
    assert tot["offences"] == 17 and tot["per_100"] == 17 / 220 * 100


def test_motor_incidents_alongside_controls() -> None:
    inc = incidents([("2024-04-03T22:00", "motorburen problematik", "Hjo centrum"),
                     ("2024-04-04T22:00", "motorburen problematik", "Hamnen"),
                     ("2024-04-04T22:00", "klotter", "Hamnen")])
    out = traffic.motor_alongside_controls(_controls(), inc).set_index("month")
    assert out.loc[pd.Timestamp("2024-04-01"), "motor_incidents"] == 2
    assert out.loc[pd.Timestamp("2024-04-01"), "controls"] == 0
    assert out.loc[pd.Timestamp("2024-05-01"), "controls"] == 1
    areas = traffic.by_area(_controls(), inc, {"Hjo centrum": "tätort", "Hamnen": "tätort",
                                               "Korsberga": "landsbygd"})
    assert areas["area"].tolist()[-1] == "Korsberga"  # tätort first
    assert areas.set_index("area").loc["Hamnen", "motor_incidents"] == 1
