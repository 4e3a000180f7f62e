"""Figure builders: Swedish separators, titles, palette, values from aggregated frames."""

from __future__ import annotations

import pandas as pd

from hjo_data import figures
from hjo_data.formatting import plotly_separators


def test_share_trend_percent_values_and_layout() -> None:
    frame = pd.DataFrame({"year": [2022, 2024], "share": [0.2, 0.25], "ci_low": [0.15, 0.2],
                          "ci_high": [0.26, 0.31], "n": [300, 280]})
    fig = figures.share_trend(frame, group=None, title="Andel otrygga", y_title="Andel (%)")
    assert fig.layout.separators == plotly_separators
    assert fig.layout.title.text == "Andel otrygga"
    assert fig.layout.yaxis.title.text == "Andel (%)"
    line = fig.data[1]
    assert [round(v, 6) for v in line.y] == [20.0, 25.0]
    assert "n = 300" in line.text[0] and "20,0" in line.text[0]


def test_est_week_bars_marks_significant_groups() -> None:
    table = pd.DataFrame({"group": ["brand", "klotter"], "count": [30, 2],
                          "baseline": [1.0, 2.0], "last_year": [0, 1],
                          "significant": [True, False],
                          "change": ["ökning utanför slumpvariationen", "inom"]})
    fig = figures.est_week_bars(table, title="Vecka", group_title="Kategori")
    assert len(fig.data) == 4
    assert list(fig.data[0].y) == [30, 2]
    assert list(fig.data[3].x) == ["brand"] and list(fig.data[3].text) == ["▲"]
    assert fig.layout.colorway[0] == figures.OKABE_ITO[0]


def test_heatmap_and_map_are_offline() -> None:
    grid = pd.DataFrame(0, index=range(7), columns=range(24))
    grid.loc[4, 22] = 5
    fig = figures.weekday_hour_heatmap(grid, title="Heat")
    assert fig.data[0].z[4][22] == 5
    geo = {"type": "FeatureCollection", "features": [{"type": "Feature",
           "properties": {"name": "A"}, "geometry": {"type": "Polygon", "coordinates": [
               [[14.2, 58.3], [14.3, 58.3], [14.3, 58.4], [14.2, 58.3]]]}}]}
    rates = pd.DataFrame({"area": ["A"], "count": [4], "per_1000": [2.5]})
    fig = figures.area_map(rates, geo, value="per_1000", title="Karta", colour_title="x")
    assert fig.data[0].type == "choropleth"
    assert fig.layout.geo.fitbounds == "locations"
    assert "mapbox" not in fig.to_json() and "tile" not in fig.to_json()


def test_bar_chart_horizontal_sorted() -> None:
    frame = pd.DataFrame({"group": ["a", "b", "c"], "count": [3, 10, 1]})
    fig = figures.bar_chart(frame, x="count", y="group", title="T", x_title="Antal",
                            y_title=None)
    assert list(fig.data[0].y) == ["c", "a", "b"]  # largest on top
    assert figures.figure_values(fig) == [[1, 3, 10]]
