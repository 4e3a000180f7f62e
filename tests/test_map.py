"""The Händelser map (issue 14): every area labelled with the table's value, town districts
in a close-up panel, rate per 1 000 inhabitants AND year (computed here by hand), a colour
scale capped at a round 90th percentile (the cap stated), officials' positions as a
density grid above ``MAP_MAX_POINTS`` and never any position in public mode."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hjo_data import demo, est, figures
from hjo_data import est_sections as sec
from hjo_data.chart_text import describe_figure
from hjo_data.disclosure import DisclosureSettings
from tests.conftest import incidents

SETTINGS = DisclosureSettings()


def _labels(fig) -> dict[str, tuple[str, str]]:  # noqa: ANN001
    """Area name -> (label text, axis) of every label on the map."""
    out = {}
    for trace in fig.data:
        if trace.mode == "text":
            for text in trace.text:
                name = text.split("<br>")[0]
                assert name not in out, f"{name} labelled twice"
                out[name] = (text, trace.xaxis or "x")
    return out


@pytest.fixture(scope="module")
def reference() -> tuple[pd.DataFrame, dict]:
    population, geojson = sec.reference_data()
    assert geojson, "data/reference/areas.geojson"
    return population, geojson


def _demo_cube(rows: int = 4_000) -> tuple[est.IncidentCube, float]:
    frame = demo.generate(rows=rows)["incidents"]
    cube = est.incident_cube(frame)
    return cube, est.covered_years(cube, None, None)


@pytest.mark.parametrize("audience", ["public", "official"])
def test_every_area_is_labelled_with_the_tables_value(reference, audience: str) -> None:
    population, geojson = reference
    cube, years = _demo_cube()
    section = sec.map_section(cube, population, geojson, years, audience, SETTINGS)
    names = [f["properties"]["name"] for f in geojson["features"]]
    labels = _labels(section.figure)
    assert sorted(labels) == sorted(names)
    table = dict(zip(section.table["Område"], section.table["Per 1 000 invånare och år"],
                     strict=True))
    for name, (text, _) in labels.items():
        assert text == f"{name}<br>{table[name]}", (text, table[name])
    # Town districts (tätort in areas.csv) are labelled in the close-up, the countryside
    # on the overview; the overview frames the close-up.
    kinds = pd.read_csv("data/reference/areas.csv").set_index("name")["type"]
    for name, (_, axis) in labels.items():
        assert axis == ("x2" if kinds[name] == "tätort" else "x"), (name, axis)
    assert section.figure.layout.xaxis2.visible is False
    assert section.figure.layout.shapes[0].line.dash == "dash"
    # Public: no position of any kind on the map.
    if audience == "public":
        assert not any(t.type == "heatmap" or t.name == "Händelser (position)"
                       for t in section.figure.data)


def test_rate_is_per_1000_inhabitants_and_year() -> None:
    geo = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": n},
         "geometry": {"type": "Polygon", "coordinates": [[[x, 58.2], [x + 0.1, 58.2],
                                                          [x + 0.1, 58.3], [x, 58.3],
                                                          [x, 58.2]]]}}
        for n, x in (("A", 14.0), ("B", 14.1))]}
    # A: 10 incidents, B: 4, over 1 Jan 2023 .. 31 Dec 2024 = 731 days of reports.
    spec = [("2023-01-01T10:00", "klotter", "A"), ("2024-12-31T10:00", "klotter", "A")]
    spec += [(f"2023-06-{d:02d}T10:00", "klotter", "A") for d in range(1, 9)]
    spec += [(f"2024-03-{d:02d}T10:00", "brand", "B") for d in range(1, 5)]
    cube = est.incident_cube(incidents(spec))
    years = est.covered_years(cube, None, None)
    assert years == pytest.approx(731 / 365.25)
    section = sec.map_section(cube, {"A": 500, "B": 2000}, geo, years, "official", SETTINGS)
    rate_a = 10 / 500 / (731 / 365.25) * 1000  # 9.993...
    rate_b = 4 / 2000 / (731 / 365.25) * 1000  # 0.999...
    table = section.table.set_index("Område")["Per 1 000 invånare och år"]
    assert table["A"] == "10,0" and table["B"] == "1,0"
    values = {t.name: t.customdata[0] for t in section.figure.data if t.fill == "toself"}
    assert values["A"] == pytest.approx(rate_a) and values["B"] == pytest.approx(rate_b)
    assert "och år" in section.figure.layout.title.text
    bar = next(t for t in section.figure.data if t.marker is not None and t.marker.showscale)
    assert "1 000 invånare<br>och år" in bar.marker.colorbar.title.text


def test_round_up_and_colour_range() -> None:
    assert figures.round_up(789.5) == 800
    assert figures.round_up(0.7) == pytest.approx(0.8)
    assert figures.round_up(10) == 10
    assert figures.round_up(10.01) == 15
    # Eleven values: the 90th percentile is the 10th smallest (10) -> the scale ends at 10
    # and the outlier 100 is capped.
    values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100]
    assert figures.colour_range(values) == (0.0, 10.0, True)
    assert figures.colour_range([2.0, 3.0, np.nan]) == (0.0, 3.0, False)
    assert figures.colour_range([np.nan]) == (0.0, 1.0, False)


def test_capped_scale_is_stated_and_outlier_gets_the_top_colour(reference) -> None:
    _, geojson = reference
    names = [f["properties"]["name"] for f in geojson["features"]]
    per_1000 = [10.0 + i for i in range(len(names) - 1)] + [900.0]  # one outlier
    rates = pd.DataFrame({"area": names, "count": [5] * len(names), "per_1000": per_1000})
    fig = figures.area_map(rates, geojson, value="per_1000", title="Karta",
                           colour_title="Per 1 000 inv. och år")
    cmax = figures.round_up(float(np.percentile(per_1000, 90)))
    bar = next(t for t in fig.data if t.marker is not None and t.marker.showscale)
    assert bar.marker.cmax == cmax < 900
    assert f"skalan slutar vid {cmax:g}" in bar.marker.colorbar.title.text
    fills = {t.name: t.fillcolor for t in fig.data if t.fill == "toself"}
    top = figures.sequential_colours([1.0])[0]
    assert fills[names[-1]] == top  # the outlier: the top colour, not beyond the scale
    assert fills[names[0]] != top


def _points(n: int, lon: float, lat: float) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"lon": lon + rng.uniform(-0.002, 0.002, n),
                         "lat": lat + rng.uniform(-0.002, 0.002, n),
                         "category": ["klotter"] * n})


def test_officials_few_positions_are_points_many_a_density_grid(reference) -> None:
    population, geojson = reference
    cube, years = _demo_cube()
    few = _points(figures.MAP_MAX_POINTS, 14.282, 58.301)  # in Hjo centrum
    section = sec.map_section(cube, population, geojson, years, "official", SETTINGS, few)
    dots = [t for t in section.figure.data if t.name == "Händelser (position)"]
    assert dots and len(dots[0].x) == figures.MAP_MAX_POINTS
    assert sec.density_section(few, geojson) is None
    many = pd.concat([few, _points(100, 14.10, 58.33)], ignore_index=True)  # + Blikstorp
    section = sec.map_section(cube, population, geojson, years, "official", SETTINGS, many)
    assert not any(t.name == "Händelser (position)" for t in section.figure.data)
    density = sec.density_section(many, geojson)
    assert density is not None
    heat = [t for t in density.figure.data if t.type == "heatmap"]
    assert len(heat) == 2  # overview and close-up
    overview = np.asarray(heat[0].customdata, dtype="float64")
    assert np.nansum(overview) == len(many)  # every position counted once on the overview
    assert np.nansum(np.asarray(heat[1].customdata, dtype="float64")) == len(few)
    assert density.table["Antal"].sum() == len(many)
    # Per km²: one colour scale for both panels (their cells differ in size).
    assert heat[0].zmax == heat[1].zmax
    assert "km²" in describe_figure(density.figure)
    # Colour bars in Swedish numbers ("10 000", not plotly's "10k").
    assert all(t.colorbar.exponentformat == "none" and t.colorbar.separatethousands
               for t in heat if t.showscale)


@pytest.mark.parametrize("audience", ["public", "official"])
def test_handelser_page_density_only_for_officials(page_app, monkeypatch,  # noqa: ANN001
                                                   audience: str) -> None:
    if audience == "official":
        monkeypatch.setenv("HJO_MODE", "official")
    at = page_app("handelser")
    at.run(timeout=60)
    assert not at.exception, at.exception
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"]
              for c in at.get("plotly_chart")]
    assert any(sec.MAP_RATE_TITLE in t for t in titles), titles
    # Demo data (1 500 rows, ~30 % with a position) have more than MAP_MAX_POINTS.
    assert (sec.DENSITY_TITLE in titles) == (audience == "official"), titles
