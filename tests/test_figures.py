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
    assert len(fig.data) == 4  # three bar series + one legend entry (only ▲ present)
    bars = fig.data[0]
    assert list(bars.y) == [30, 2]
    # The marker is the label of the significant group's own bar (sits on that bar).
    assert list(bars.text) == ["▲", ""] and bars.textposition == "outside"
    assert fig.data[3].name == figures.MARKER_UP_SV  # explained in the legend
    assert "utanför slumpvariationen" in bars.hovertext[0]
    assert fig.layout.colorway[0] == figures.OKABE_ITO[0]


def test_est_week_bars_hidden_counts_use_display_text() -> None:
    table = pd.DataFrame({"group": ["brand", "klotter"], "count": [float("nan"), 12.0],
                          "baseline": [1.0, 2.0], "last_year": [0, 7],
                          "significant": [False, False], "change": ["inom", "inom"]})
    texts = pd.DataFrame({"count": ["<5", "12"], "baseline": ["1,0", "2,0"],
                          "last_year": ["0", "7"]})
    fig = figures.est_week_bars(table, title="V", group_title="K", texts=texts)
    assert "brand: <5" in fig.data[0].hovertext[0]
    assert len(fig.data) == 3  # no marker legend when nothing is beyond noise


def test_metric_delta_arrow_and_colour_follow_the_number() -> None:
    down = figures.metric_delta(-23.2, desired="down")
    assert down.arrow == "down" and down.color == "blue"
    assert down.text.startswith("\u221223,2") and "i önskad riktning" in down.text
    up = figures.metric_delta(4, desired="down")
    assert (up.arrow, up.color) == ("up", "orange") and "mot önskad riktning" in up.text
    assert figures.metric_delta(4, desired="up").color == "blue"
    assert figures.metric_delta(0).arrow == "off"
    assert figures.metric_delta(-3, significant=False).color == "gray"
    assert figures.metric_delta(float("nan")).text is None


def test_figures_use_the_light_template() -> None:
    fig = figures.bar_chart(pd.DataFrame({"g": ["a"], "n": [1]}), x="n", y="g", title="T",
                            x_title="x", y_title=None)
    assert fig.layout.template.layout.plot_bgcolor == "white"
    assert not fig.layout.template.data.bar  # no per-trace defaults copied per figure


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
