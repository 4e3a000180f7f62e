"""Demo data: determinism, schema conformance, realistic shape, Swedish office CSVs."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hjo_data import demo, reference
from hjo_data.schema import DATASETS, normalise_value

TODAY = date(2025, 9, 15)
ROWS = 20_000


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return demo.generate(rows=ROWS, seed=1497, today=TODAY)


@pytest.fixture(scope="module")
def big_incidents() -> pd.DataFrame:
    """More rows for shape checks that need less noise."""
    return demo.generate(rows=200_000, seed=7, today=TODAY)["incidents"]


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_frames(frames: dict[str, pd.DataFrame]) -> None:
    again = demo.generate(rows=ROWS, seed=1497, today=TODAY)
    for name in DATASETS:
        pd.testing.assert_frame_equal(frames[name], again[name])


def test_different_seed_gives_different_data(frames: dict[str, pd.DataFrame]) -> None:
    other = demo.generate(rows=ROWS, seed=1498, today=TODAY)
    for name in DATASETS:
        assert not frames[name].equals(other[name]), name


def test_row_count_only_changes_incidents(frames: dict[str, pd.DataFrame]) -> None:
    small = demo.generate(rows=500, seed=1497, today=TODAY)
    assert len(small["incidents"]) == 500
    for name in DATASETS:
        if name != "incidents":
            pd.testing.assert_frame_equal(frames[name], small[name])


# --------------------------------------------------------------------------- schema


def _expected_dtype(dataset_name: str, column: str) -> str:
    ds = DATASETS[dataset_name]
    if column in ("record_id", "batch_id") or column.endswith("_raw"):
        return "str"
    if column.endswith("_has_time"):
        return "bool"
    kind = ds.column(column).kind
    return {"date": "datetime64[us]", "datetime": "datetime64[us]", "int": "int64",
            "float": "float64", "share": "float64"}.get(kind, "str")


def test_frames_have_exact_stored_columns_and_dtypes(frames: dict[str, pd.DataFrame]) -> None:
    assert set(frames) == set(DATASETS)
    for name, ds in DATASETS.items():
        frame = frames[name]
        assert tuple(frame.columns) == ds.stored_columns, name
        assert len(frame) > 0, name
        for col in frame.columns:
            assert str(frame[col].dtype) == _expected_dtype(name, col), (name, col)
            if str(frame[col].dtype) == "str":
                assert not frame[col].isna().any(), (name, col)
        assert (frame["batch_id"] == "demo").all()
        assert frame["record_id"].is_unique, name


def test_vocabulary_values_are_valid(frames: dict[str, pd.DataFrame]) -> None:
    areas = set(reference.area_names())
    for name, ds in DATASETS.items():
        frame = frames[name]
        for col in ds.columns:
            values = set(frame[col.name])
            if col.kind == "category":
                allowed = set(col.vocabulary) | ({""} if not col.required else set())
                assert values <= allowed, (name, col.name, values - allowed)
            if col.name == "area" and name not in ("survey", "activities"):
                assert values <= areas, (name, values - areas)
        if name == "activities":
            assert set(frame["area"]) <= areas | {"Hela kommunen"}


def test_raw_category_texts_are_unknown_values_kept_as_ovrigt(
        frames: dict[str, pd.DataFrame]) -> None:
    inc = frames["incidents"]
    with_raw = inc[inc["category_raw"] != ""]
    assert len(with_raw) > 0
    assert (with_raw["category"] == "övrigt").all()
    synonyms = DATASETS["incidents"].column("category").synonyms
    assert all(normalise_value(v) not in synonyms for v in set(with_raw["category_raw"]))
    assert (inc["source_raw"] == "").all()


def test_dates_span_2022_to_today_never_after(frames: dict[str, pd.DataFrame]) -> None:
    end = pd.Timestamp(TODAY + timedelta(days=1))
    for name, ds in DATASETS.items():
        col = frames[name][ds.time_column]
        if ds.time_column == "year":
            assert col.max() <= TODAY.year
            continue
        if ds.time_column == "period":  # statistik: year periods as text ("2023")
            assert max(int(p[-4:]) for p in col) < TODAY.year, name  # published next year
            continue
        assert col.max() < end, name
        assert col.min() >= pd.Timestamp(2022, 1, 1), name
    occurred = frames["incidents"]["occurred_at"]
    assert occurred.max() >= pd.Timestamp(TODAY - timedelta(days=7))  # looks current


def test_default_today_is_current_date() -> None:
    frames = demo.generate(rows=300, seed=3)
    end = pd.Timestamp(date.today() + timedelta(days=1))
    for name, ds in DATASETS.items():
        if ds.time_column not in ("year", "period") and len(frames[name]):
            assert frames[name][ds.time_column].max() < end, name


def test_incident_ids_and_sorting(frames: dict[str, pd.DataFrame]) -> None:
    inc = frames["incidents"]
    assert inc["incident_id"].iloc[0] == "demo-000001"
    assert inc["incident_id"].str.fullmatch(r"demo-\d{6}").all()
    assert (inc["record_id"] == inc["incident_id"]).all()
    assert inc["occurred_at"].is_monotonic_increasing


def test_time_of_day_positions_and_descriptions(frames: dict[str, pd.DataFrame]) -> None:
    inc = frames["incidents"]
    n = len(inc)
    no_time = ~inc["occurred_at_has_time"]
    assert 0.08 < no_time.mean() < 0.12
    assert (inc.loc[no_time, "occurred_at"] == inc.loc[no_time, "occurred_at"].dt.normalize()
            ).all()
    has_pos = inc["lat"].notna()
    assert (has_pos == inc["lon"].notna()).all()
    assert 0.27 < has_pos.mean() < 0.33
    assert 0.13 < (inc["description"] != "").mean() < 0.17
    # Every position lies inside the (rectangular) polygon of its area.
    bounds = reference.area_bounds()
    pos = inc[has_pos]
    box = np.array([bounds[a] for a in pos["area"]])
    assert ((pos["lat"] >= box[:, 0]) & (pos["lat"] <= box[:, 1])
            & (pos["lon"] >= box[:, 2]) & (pos["lon"] <= box[:, 3])).all()
    assert n == ROWS


# --------------------------------------------------------------------------- shape


def _days_in(months: set[int], years: range) -> int:
    d, count = date(2022, 1, 1), 0
    while d <= TODAY:
        count += d.month in months and d.year in years
        d += timedelta(days=1)
    return count


def test_motorburen_peaks_in_summer(big_incidents: pd.DataFrame) -> None:
    motor = big_incidents[big_incidents["category"] == "motorburen problematik"]
    month = motor["occurred_at"].dt.month
    summer = {6, 7, 8}
    winter = {12, 1, 2}
    years = range(2022, 2026)
    summer_rate = month.isin(summer).sum() / _days_in(summer, years)
    winter_rate = month.isin(winter).sum() / _days_in(winter, years)
    assert summer_rate > 3 * winter_rate


def test_motorburen_rose_2023_and_fell_2024_klotter_falls(big_incidents: pd.DataFrame
                                                           ) -> None:
    year = big_incidents["occurred_at"].dt.year
    per_year = big_incidents[year.isin([2022, 2023, 2024])].groupby(
        [year, "category"]).size()
    motor = per_year.xs("motorburen problematik", level="category")
    assert motor[2023] > 1.3 * motor[2022]
    assert motor[2024] < 0.8 * motor[2023]
    klotter = per_year.xs("klotter", level="category")
    assert klotter[2022] > klotter[2023] > klotter[2024]


def test_weekend_evenings_busier_than_weekday_mornings(big_incidents: pd.DataFrame) -> None:
    timed = big_incidents[big_incidents["occurred_at_has_time"]]
    ts = timed["occurred_at"]
    dow, hour = ts.dt.day_of_week, ts.dt.hour
    weekend_evening = ((dow >= 4) & (dow <= 5) & (hour >= 20)).sum() / (2 * 4)
    weekday_morning = ((dow <= 3) & (hour >= 6) & (hour < 10)).sum() / (4 * 4)
    assert weekend_evening > 1.5 * weekday_morning


def test_motorburen_hotspots_in_town_centre_and_harbour(big_incidents: pd.DataFrame) -> None:
    areas = reference.load_areas().set_index("name")
    motor = big_incidents[big_incidents["category"] == "motorburen problematik"]
    counts = motor["area"].value_counts()
    per_1000 = counts / areas["population"] * 1000
    rural = areas.index[areas["type"] == "landsbygd"]
    assert per_1000["Hamnen"] > 3 * per_1000[rural].max()
    assert per_1000["Hjo centrum"] > per_1000[rural].max()


def test_sources_mix(big_incidents: pd.DataFrame) -> None:
    shares = big_incidents["source"].value_counts(normalize=True)
    assert len(shares) >= 7
    assert shares.max() < 0.5
    brand = big_incidents[big_incidents["category"] == "brand"]["source"]
    assert brand.value_counts().index[0] == "räddningstjänst"


# --------------------------------------------------------------------------- survey


def test_survey_responses_realistic(frames: dict[str, pd.DataFrame]) -> None:
    resp = frames["survey_responses"]
    sizes = resp.groupby("year").size()
    assert list(sizes.index) == list(range(2022, TODAY.year))  # full years only
    assert sizes.between(350, 600).all()
    unsafe = resp["safety_evening"].isin(["ganska otrygg", "mycket otrygg", "går aldrig ut"])
    by_gender = unsafe.groupby(resp["gender"]).mean()
    assert by_gender["kvinna"] > by_gender["man"]
    by_age = unsafe.groupby(resp["age_group"]).mean()
    assert by_age["65+"] > by_age["30–49"]
    assert 0.08 < unsafe.mean() < 0.35
    assert (resp["weight"] == 1.0).all()


def test_survey_table_matches_micro_data(frames: dict[str, pd.DataFrame]) -> None:
    resp, table = frames["survey_responses"], frames["survey"]
    unsafe_answers = {"ganska otrygg", "mycket otrygg", "går aldrig ut"}
    for year in sorted(set(resp["year"])):
        answers = list(resp.loc[resp["year"] == year, "safety_evening"])
        expected = sum(a in unsafe_answers for a in answers) / len(answers)
        row = table[(table["year"] == year) & (table["indicator"] == "otrygg_kvall")
                    & (table["group"] == "Totalt") & (table["area"] == "Hela kommunen")]
        assert len(row) == 1
        assert row["n"].iloc[0] == len(answers)
        assert row["share"].iloc[0] == pytest.approx(expected, abs=5e-5)
        traffic = [a for a in resp.loc[resp["year"] == year, "problem_trafik"]
                   if a not in ("", "vet ej")]
        big = sum(a in ("mycket stort problem", "ganska stort problem") for a in traffic)
        row = table[(table["year"] == year) & (table["indicator"] == "problem_trafik")
                    & (table["group"] == "Totalt")]
        assert row["share"].iloc[0] == pytest.approx(big / len(traffic), abs=5e-5)
    assert table["share"].between(0, 1).all()


# --------------------------------------------------------------------------- youth


def test_youth_years_grades_and_cells(frames: dict[str, pd.DataFrame]) -> None:
    youth = frames["youth"]
    assert sorted(set(youth["year"])) == [2019, 2021, 2023, 2025]
    assert set(youth["geography"]) == {"Hjo", "Skaraborg", "Riket"}
    earlier = demo.generate(rows=10, today=date(2025, 3, 1))["youth"]
    assert sorted(set(earlier["year"])) == [2019, 2021, 2023]
    hjo = youth[youth["geography"] == "Hjo"]
    per_gender = hjo[hjo["gender"] != "alla"]
    assert per_gender["n"].between(30, 60).all()
    key = ["year", "grade", "indicator", "geography"]
    wide = youth.pivot_table(index=key, columns="gender", values=["share", "n"])
    assert (wide[("n", "alla")] == wide[("n", "kvinna")] + wide[("n", "man")]).all()
    pooled = ((wide[("share", "kvinna")] * wide[("n", "kvinna")]
               + wide[("share", "man")] * wide[("n", "man")]) / wide[("n", "alla")])
    assert np.allclose(pooled, wide[("share", "alla")], atol=1e-3)


def test_youth_shares_realistic(frames: dict[str, pd.DataFrame]) -> None:
    youth = frames["youth"].set_index(
        ["geography", "year", "grade", "gender", "indicator"]).sort_index()
    share = youth["share"]
    assert 0.2 < share["Hjo", 2023, "åk 9", "alla", "alkohol_12m"] < 0.5
    assert 0.5 < share["Skaraborg", 2023, "gy 2", "alla", "alkohol_12m"] < 0.75
    for year in (2019, 2021, 2023, 2025):
        s = share["Skaraborg", year]
        assert s["gy 2", "alla", "alkohol_12m"] > s["åk 9", "alla", "alkohol_12m"] > s[
            "åk 7", "alla", "alkohol_12m"]
        assert s["åk 9", "kvinna", "psykosomatiska_besvar"] > s["åk 9", "man",
                                                                 "psykosomatiska_besvar"]
    reg = share["Skaraborg"]
    assert reg[2025, "åk 9", "kvinna", "snus"] > 1.5 * reg[2019, "åk 9", "kvinna", "snus"]
    assert reg[2025, "gy 2", "alla", "e_cigarett"] > reg[2019, "gy 2", "alla", "e_cigarett"]


# --------------------------------------------------------------------------- traffic


def test_traffic_controls(frames: dict[str, pd.DataFrame]) -> None:
    traffic = frames["traffic"]
    months = traffic["date"].dt.to_period("M").nunique()
    total_months = (TODAY.year - 2022) * 12 + TODAY.month
    assert months >= 0.9 * total_months
    assert 2 <= len(traffic) / total_months <= 10
    assert traffic["vehicles_checked"].between(5, 150).all()
    offences = ["speeding", "drunk_driving", "drugged_driving", "unlicensed_driving",
                "tuned_vehicle", "vehicle_defects", "mobile_phone", "other_offences"]
    assert (traffic[offences].sum(axis=1) <= traffic["vehicles_checked"] * 2).all()
    assert (traffic[offences] <= traffic[["vehicles_checked"]].to_numpy()).all().all()
    fineable = traffic[["speeding", "mobile_phone", "vehicle_defects", "other_offences"]]
    assert (traffic["fines"] <= fineable.sum(axis=1)).all()
    town = set(reference.load_areas().query("type == 'tätort'")["name"])
    assert traffic["area"].isin(town).mean() > 0.7
    epa = traffic[traffic["control_type"] == "fordon/EPA-moped"]
    other = traffic[traffic["control_type"] != "fordon/EPA-moped"]
    assert (epa["tuned_vehicle"].sum() / epa["vehicles_checked"].sum()
            > other["tuned_vehicle"].sum() / other["vehicles_checked"].sum())


# --------------------------------------------------------------------------- activities


def test_activities(frames: dict[str, pd.DataFrame]) -> None:
    act = frames["activities"]
    year = act["date"].dt.year
    kinds = act.groupby([year, "activity_type"]).size()
    for y in (2022, 2023, 2024):
        assert 2 <= kinds[y, "trygghetsvandring"] <= 4
        assert kinds[y, "grannsamverkan"] >= 2
    assert (2022, "EST-möte") not in kinds.index
    assert 40 <= kinds[2024, "EST-möte"] <= 48
    walks = act[act["activity_type"] == "trygghetsvandring"]
    assert (walks["actions_done"] <= walks["actions_decided"]).all()
    assert (walks["actions_decided"] <= walks["findings"]).all()
    assert walks["findings"].gt(0).all()
    assert walks["organisers"].map(
        lambda s: {"kommun", "polis", "näringsliv"} <= set(s.split(";"))).all()
    assert (act["notes"] != "").all()
    surveillance = act[act["activity_type"] == "trafikövervakning"]
    assert set(surveillance["date"]) <= set(frames["traffic"]["date"])


# --------------------------------------------------------------------------- scale


def test_large_generation_works() -> None:
    inc = demo.generate(rows=200_000, seed=11, today=TODAY)["incidents"]
    assert len(inc) == 200_000
    assert inc["incident_id"].is_unique
    assert inc["incident_id"].iloc[-1] == "demo-200000"
    assert inc["occurred_at"].max() < pd.Timestamp(TODAY + timedelta(days=1))


# --------------------------------------------------------------------------- CSV


def _read_csv(path: Path) -> tuple[bytes, list[list[str]]]:
    data = path.read_bytes()
    text = data.decode("utf-8-sig")
    return data, list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("demo_csv")
    return demo.write_csvs(out, rows=3_000, seed=1497, today=TODAY)


def test_write_csvs_swedish_office_format(written: list[Path]) -> None:
    frames = demo.generate(rows=3_000, seed=1497, today=TODAY)
    assert [p.name for p in written] == [f"{name}.csv" for name in DATASETS]
    for path in written:
        ds = DATASETS[path.stem]
        data, rows = _read_csv(path)
        assert data.startswith(b"\xef\xbb\xbf")
        assert b"\r\n" in data
        assert rows[0] == [c.label for c in ds.columns]
        assert len(rows) - 1 == len(frames[path.stem])
        assert all(len(r) == len(ds.columns) for r in rows)
    _, rows = _read_csv(written[0])
    header = rows[0]
    inc = frames["incidents"]
    when = [r[header.index("Tidpunkt")] for r in rows[1:]]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d( \d\d:\d\d)?", w) for w in when)
    assert [len(w) > 10 for w in when] == inc["occurred_at_has_time"].tolist()
    lat = [r[header.index("Latitud")] for r in rows[1:] if r[header.index("Latitud")]]
    assert lat and all(re.fullmatch(r"5\d,\d+", v) for v in lat)
    # numbers parse back (decimal comma) to the generated values
    parsed = np.array([float(v.replace(",", ".")) for v in lat])
    assert np.array_equal(parsed, inc["lat"].dropna().to_numpy())
    # unknown raw category is written as its raw text
    cats = [r[header.index("Kategori")] for r in rows[1:]]
    raw = inc["category_raw"].tolist()
    assert [c if r == "" else r for c, r in zip(inc["category"], raw, strict=True)] == cats


def test_csv_quotes_delimiters_and_quotes() -> None:
    ds = DATASETS["activities"]
    frame = demo.generate(rows=1, today=TODAY)["activities"].head(3).copy()
    frame["notes"] = pd.Series(['Sa "hej"; gick', "rad1\nrad2", "vanlig"], dtype="str")
    data = demo.frame_to_csv_bytes(frame, ds)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    notes = [r[-1] for r in rows[1:]]
    assert notes == ['Sa "hej"; gick', "rad1\nrad2", "vanlig"]
    assert [r[3] for r in rows[1:]] == frame["organisers"].tolist()


def test_csv_round_trip_through_ingest_reading_and_validation(written: list[Path]) -> None:
    reading = pytest.importorskip("hjo_data.reading")
    validation = pytest.importorskip("hjo_data.validation")
    frames = demo.generate(rows=3_000, seed=1497, today=TODAY)
    for path in written:
        ds = DATASETS[path.stem]
        result = validation.validate(reading.read_raw(path), ds, today=TODAY)
        assert len(result.rejected) == 0, path.name
        cols = [c for c in ds.stored_columns if c not in ("record_id", "batch_id")]
        got = result.accepted[cols].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, frames[path.stem][cols], check_dtype=False,
                                      obj=path.name)
