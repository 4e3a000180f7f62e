"""Reference data (areas, GeoJSON, population); the promise is tests/test_promise.py."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from hjo_data import reference
from hjo_data.reference import ReferenceDataError

REPO = Path(__file__).resolve().parent.parent
REF = REPO / "data" / "reference"


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _point_in_ring(lon: float, lat: float, ring: list[list[float]]) -> bool:
    """Plain ray casting (reference implementation for the tests)."""
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        if (y1 > lat) != (y2 > lat):
            x = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x:
                inside = not inside
    return inside


# --------------------------------------------------------------------------- areas


def test_areas_load_with_types_and_documented_as_approximate() -> None:
    areas = reference.load_areas()
    raw = _csv_rows(REF / "areas.csv")
    assert areas["name"].tolist() == [r["name"] for r in raw]
    assert set(areas["type"]) == {"tätort", "landsbygd"}
    assert str(areas["population"].dtype) == "int64"
    assert str(areas["lat"].dtype) == "float64"
    assert areas["population"].sum() == sum(int(r["population"]) for r in raw)
    # Hjo has about 9 100 inhabitants
    assert 8_500 <= areas["population"].sum() <= 9_700
    assert all("ungefär" in r["note"].lower() for r in raw)
    assert "schematisk" in (REF / "README.md").read_text(encoding="utf-8").lower()


def test_geojson_names_match_areas_and_centres_lie_inside_own_polygon() -> None:
    geo = reference.load_area_geojson()
    assert geo["type"] == "FeatureCollection"
    names = [f["properties"]["name"] for f in geo["features"]]
    assert sorted(names) == sorted(reference.area_names())
    areas = reference.load_areas().set_index("name")
    rings = {f["properties"]["name"]: f["geometry"]["coordinates"][0] for f in geo["features"]}
    for name, ring in rings.items():
        assert ring[0] == ring[-1]
        lat, lon = areas.loc[name, "lat"], areas.loc[name, "lon"]
        assert _point_in_ring(lon, lat, ring), name
        for other, other_ring in rings.items():
            if other != name:
                assert not _point_in_ring(lon, lat, other_ring), (name, other)
        # near Hjo (58.30 N, 14.28 E)
        assert abs(lat - 58.30) < 0.15 and abs(lon - 14.2) < 0.3


def test_area_bounds_match_polygon_extent() -> None:
    geo = json.loads((REF / "areas.geojson").read_text(encoding="utf-8"))
    bounds = reference.area_bounds()
    for feat in geo["features"]:
        ring = feat["geometry"]["coordinates"][0]
        lats = [p[1] for p in ring]
        lons = [p[0] for p in ring]
        assert bounds[feat["properties"]["name"]] == (min(lats), max(lats), min(lons), max(lons))


def test_broken_areas_file_gives_swedish_error(tmp_path: Path) -> None:
    (tmp_path / "areas.csv").write_text(
        "name,type,population,lat,lon\nA,stad,100,58.3,14.28\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="okänd typ"):
        reference.load_areas(tmp_path)
    (tmp_path / "areas.csv").write_text("name,type\nA,tätort\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="saknar kolumnerna"):
        reference.load_areas(tmp_path)
    with pytest.raises(ReferenceDataError, match="saknas"):
        reference.load_areas(tmp_path / "finns_inte.csv")


def test_broken_geojson_gives_swedish_error(tmp_path: Path) -> None:
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}
    ]}), encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="properties.name"):
        reference.load_area_geojson(path)


# --------------------------------------------------------------------------- population


def test_population_total_is_sum_of_areas_every_year() -> None:
    rows = _csv_rows(REF / "population.csv")
    years = sorted({int(r["year"]) for r in rows})
    assert years == list(range(2019, 2027))
    area_names = set(reference.area_names())
    for year in years:
        per_area = {r["area"]: int(r["population"]) for r in rows if int(r["year"]) == year}
        total = per_area.pop("Hela kommunen")
        assert set(per_area) == area_names
        assert total == sum(per_area.values())
        assert reference.population_for(year) == total


def test_population_for_area_and_nearest_year() -> None:
    rows = _csv_rows(REF / "population.csv")
    lookup = {(int(r["year"]), r["area"]): int(r["population"]) for r in rows}
    assert reference.population_for(2023, "Hamnen") == lookup[(2023, "Hamnen")]
    assert reference.population_for(2040) == lookup[(2026, "Hela kommunen")]
    assert reference.population_for(2000, "Mofalla") == lookup[(2019, "Mofalla")]
    with pytest.raises(ReferenceDataError, match="Okänt område"):
        reference.population_for(2024, "Atlantis")
    pop = reference.load_population()
    assert list(pop.columns) == ["year", "area", "population"]
    assert str(pop["population"].dtype) == "int64"


def test_reference_dir_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("areas.csv", "areas.geojson", "population.csv"):
        shutil.copy(REF / name, tmp_path / name)
    (tmp_path / "population.csv").write_text(
        "year,area,population\n2024,Hela kommunen,12345\n", encoding="utf-8")
    monkeypatch.setenv("HJO_REFERENCE_DIR", str(tmp_path))
    assert reference.reference_dir() == tmp_path
    assert reference.population_for(2024) == 12345
