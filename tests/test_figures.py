"""Figure builders: Swedish separators, titles, palette, values from aggregated frames."""

from __future__ import annotations

import json
import math
import re
from datetime import date

import numpy as np
import pandas as pd
import pytest
from plotly.colors import sequential

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
    band = fig.data[0]
    assert band.mode == "lines" and band.fill == "toself"  # a band: no dots on its edges
    assert line.showlegend is False  # a single line needs no legend
    assert fig.layout.title.subtitle.text == figures.CI_BAND_NOTE  # the band is explained
    assert "konfidensintervall" in figures.CI_BAND_NOTE


def test_share_trend_groups_get_a_legend() -> None:
    frame = pd.DataFrame({"year": [2022, 2024] * 2, "sex": ["Kvinnor"] * 2 + ["Män"] * 2,
                          "share": [0.2, 0.25, 0.1, 0.12], "ci_low": [0.15, 0.2, 0.07, 0.09],
                          "ci_high": [0.26, 0.31, 0.14, 0.16], "n": [300, 280, 290, 270]})
    fig = figures.share_trend(frame, group="sex", title="t", y_title="y")
    lines = [t for t in fig.data if t.fill is None]
    assert [t.name for t in lines] == ["Kvinnor", "Män"]
    assert all(t.showlegend for t in lines)


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


def test_heatmap_counts() -> None:
    grid = pd.DataFrame(0, index=range(7), columns=range(24))
    grid.loc[4, 22] = 5
    fig = figures.weekday_hour_heatmap(grid, title="Heat")
    assert fig.data[0].z[4][22] == 5


def _square(x0: float, y0: float, size: float) -> list[list[float]]:
    return [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]


def _geojson(*features: tuple[str, dict]) -> dict:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": name}, "geometry": geom}
        for name, geom in features]}


MAP_GEO = _geojson(
    ("A", {"type": "Polygon", "coordinates": [_square(14.20, 58.20, 0.1)]}),
    ("B", {"type": "Polygon", "coordinates": [_square(14.30, 58.20, 0.1)]}),
    ("C", {"type": "MultiPolygon", "coordinates": [[_square(14.20, 58.30, 0.1)],
                                                   [_square(14.40, 58.30, 0.05)]]}),
)


def _polygons(fig) -> dict[str, object]:  # noqa: ANN001
    return {t.name: t for t in fig.data if t.fill == "toself"}


def _rgb(hex_colour: str) -> str:
    h = hex_colour.lstrip("#")
    return "rgb({}, {}, {})".format(*(int(h[i:i + 2], 16) for i in (0, 2, 4)))


def test_area_map_is_drawn_without_geo_or_tiles() -> None:
    rates = pd.DataFrame({"area": ["A", "B", "C"], "count": [0, 8, 20],
                          "per_1000": [0.0, 4.0, 10.0]})
    fig = figures.area_map(rates, MAP_GEO, value="per_1000", title="Karta",
                           colour_title="Per 1 000 inv.")
    spec = json.loads(fig.to_json())
    types = {t["type"] for t in spec["data"]}
    assert types == {"scatter"}, types  # no choropleth / scattergeo / mapbox traces
    assert "geo" not in spec["layout"] and "mapbox" not in spec["layout"]
    for word in ("choropleth", "geo\"", "mapbox", "tile", "http"):
        assert word not in fig.to_json(), word
    polygons = _polygons(fig)
    assert sorted(polygons) == ["A", "B", "C"]  # one filled polygon per area
    # Cividis computed from the value: 0 -> first colour, the maximum -> last colour.
    assert polygons["A"].fillcolor == _rgb(sequential.Cividis[0])
    assert polygons["C"].fillcolor == _rgb(sequential.Cividis[-1])
    assert polygons["B"].fillcolor not in (polygons["A"].fillcolor, polygons["C"].fillcolor)
    # The multipolygon is one trace with two closed rings separated by a gap (None).
    xs = list(polygons["C"].x)
    assert xs.count(None) == 1 and len(xs) == 5 + 1 + 5
    # Equirectangular: latitude units are 1/cos(mean latitude) times longer on screen.
    mean_lat = (58.20 + 58.40) / 2
    assert fig.layout.yaxis.scaleanchor == "x"
    assert math.isclose(fig.layout.yaxis.scaleratio, 1 / math.cos(math.radians(mean_lat)))
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    # Colour bar carried by an invisible marker trace, range 0..max.
    bar = next(t for t in fig.data if t.marker is not None and t.marker.showscale)
    assert (bar.marker.cmin, bar.marker.cmax) == (0.0, 10.0)
    assert bar.marker.colorbar.title.text == "Per 1 000 inv."
    # Deliberate change (issue 14): the rate is per 1 000 inhabitants AND year, and every
    # label carries its area's value under the name.
    assert polygons["B"].text == "B: 8 händelser, 4,0 per 1 000 inv. och år"
    assert polygons["B"].hoveron == "fills"
    labels = next(t for t in fig.data if t.mode == "text")
    assert sorted(labels.text) == ["A<br>0,0", "B<br>4,0", "C<br>10,0"]


def test_area_map_public_hidden_value_is_grey_and_not_in_hover() -> None:
    rates = pd.DataFrame({"area": ["A", "B"], "count": [float("nan"), 12.0],
                          "per_1000": [float("nan"), 6.0], "shown": ["<5", "12"]})
    fig = figures.area_map(rates, MAP_GEO, value="per_1000", title="Karta",
                           colour_title="x", count_text="shown")
    polygons = _polygons(fig)
    assert polygons[figures.HIDDEN_LEGEND_SV].fillcolor == figures.HIDDEN_FILL
    hover = polygons[figures.HIDDEN_LEGEND_SV].text
    assert hover.startswith("A: <5 händelser")
    # No number besides "<5" and the unit "per 1 000": the hidden values are not shown.
    assert not any(c.isdigit() for c in hover.replace("<5", "").replace("1 000", ""))
    assert polygons[figures.HIDDEN_LEGEND_SV].showlegend  # the legend explains grey
    # C is in the GeoJSON but not in the rates: drawn light grey, still one polygon/area.
    assert polygons[figures.NO_DATA_LEGEND_SV].fillcolor == figures.NO_DATA_FILL
    assert len(polygons) == 3
    assert not any(t.name == "Händelser (position)" for t in fig.data)  # no points passed


def test_area_map_points_on_top_and_small_payload() -> None:
    # One area with a 50 000-vertex boundary: coordinates are thinned.
    angles = np.linspace(0, 2 * np.pi, 50_000)
    ring = [[14.3 + 0.05 * np.cos(a), 58.3 + 0.03 * np.sin(a)] for a in angles]
    ring.append(ring[0])
    geo = _geojson(("Rund", {"type": "Polygon", "coordinates": [ring]}))
    points = pd.DataFrame({"lat": [58.31, 58.29], "lon": [14.31, 14.29],
                           "category": ["klotter", "brand"]})
    rates = pd.DataFrame({"area": ["Rund"], "count": [2], "per_1000": [1.0]})
    fig = figures.area_map(rates, geo, value="per_1000", title="Karta", colour_title="x",
                           points=points)
    assert len(fig.to_json()) < 200_000
    assert len(_polygons(fig)["Rund"].x) <= figures.MAP_MAX_RING_POINTS + 1
    top = fig.data[-1]
    assert top.name == "Händelser (position)" and list(top.x) == [14.31, 14.29]
    assert list(top.y) == [58.31, 58.29]


def test_bar_chart_horizontal_sorted() -> None:
    frame = pd.DataFrame({"group": ["a", "b", "c"], "count": [3, 10, 1]})
    fig = figures.bar_chart(frame, x="count", y="group", title="T", x_title="Antal",
                            y_title=None)
    assert list(fig.data[0].y) == ["c", "a", "b"]  # largest on top
    assert figures.figure_values(fig) == [[1, 3, 10]]


def test_sequential_colours_match_plotly_sampling() -> None:
    from plotly.colors import sample_colorscale, unlabel_rgb

    fractions = [0.0, 0.1, 0.37, 0.5, 0.99, 1.0]
    ours = [unlabel_rgb(c) for c in figures.sequential_colours(fractions)]
    ref = [unlabel_rgb(c) for c in sample_colorscale("Cividis", fractions)]
    for a, b in zip(ours, ref, strict=True):
        assert all(abs(x - y) <= 0.5 for x, y in zip(a, b, strict=True)), (a, b)


# --------------------------------------------------------------------------- count axes

@pytest.mark.parametrize("maximum", [0, 1, 3, 4, 5, 9, 15, 57, 99, 171.5, 1234, 98_765])
def test_count_step_is_the_smallest_round_integer_step_that_covers(maximum):
    step = figures.count_step(maximum, intervals=4)
    digits = str(step).rstrip("0")
    assert isinstance(step, int) and step >= 1 and digits in {"1", "2", "5"}
    assert step * 4 >= maximum
    smaller = [c for c in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000,
                           20_000) if c < step]
    assert all(c * 4 < maximum for c in smaller)  # no smaller round step would do


def test_bars_with_line_axes_share_one_grid_of_whole_counts():
    frame = pd.DataFrame({"month": pd.date_range("2024-01-01", periods=4, freq="MS"),
                          "controls": [3, 15, 7, 1], "incidents": [10, 171, 57, 2]})
    fig = figures.bars_with_line(frame, x="month", bars="controls", line="incidents",
                                 bar_name="Kontroller", line_name="Händelser", title="t",
                                 x_title="Månad", bar_title="a", line_title="b")
    left, right = fig.layout.yaxis, fig.layout.yaxis2
    for axis, top in ((left, 15), (right, 171)):
        assert float(axis.dtick).is_integer() and axis.range[0] == 0
        assert axis.range[1] >= top
    # the same number of intervals: every right-hand tick sits on a left grid line
    assert left.range[1] / left.dtick == right.range[1] / right.dtick


def _contrast_on_white(hex_colour: str) -> float:
    """WCAG 2 contrast ratio of a colour against white."""
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    lum = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return 1.05 / (lum + 0.05)


def test_the_first_seven_series_colours_stay_visible_on_white() -> None:
    """Charts with up to 7 series (top 6 categories + övriga) never use the faint yellow."""
    faint = [c for c in figures.OKABE_ITO[:7] if _contrast_on_white(c) < 2]
    assert faint == []
    assert _contrast_on_white(figures.OKABE_ITO[7]) < 2  # the yellow, kept for an 8th


def test_ranked_share_bars_emphasise_our_municipality_and_grey_the_context() -> None:
    frame = pd.DataFrame({"label": ["Hjo", "Riket", "Skaraborg"], "share": [0.25, 0.3, 0.28],
                          "ci_low": [0.18, 0.29, 0.26], "ci_high": [0.33, 0.31, 0.30],
                          "n": [90, 3000, 2000], "home": [True, False, False]})
    fig = figures.ranked_share_bars(frame, label="label", title="t", x_title="x",
                                    emphasis="home")
    bar = fig.data[0]
    colours = dict(zip(bar.y, bar.marker.color, strict=True))
    assert colours["Hjo"] == figures.colour(0)
    assert colours["Riket"] == colours["Skaraborg"] == figures.CONTEXT_GREY


# --------------------------------------------------------------------------- partial periods

ENGLISH_MONTHS = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|January|February|March|April"
    r"|June|July|August|September|October|November|December)\b")


def _partial_label(until: date) -> str:
    return f"ofullständig, t.o.m. {until.isoformat()}"  # independent of periods.partial_text


def test_period_bars_draw_the_partial_last_period_distinctly() -> None:
    starts = pd.date_range("2026-07-01", periods=6, freq="MS")  # July .. December 2026
    frame = pd.DataFrame({"period_start": starts, "antal": [30, 28, 31, 29, 33, 3]})
    until = date(2026, 12, 3)  # 3 days of December
    fig = figures.period_bars(frame, x="period_start", y="antal", gran="M", title="t",
                              x_title="Månad", y_title="Antal", name="Händelser",
                              data_until=until)
    complete, partial = fig.data
    assert list(complete.y) == [30, 28, 31, 29, 33]
    assert list(partial.y) == [3]
    assert pd.Timestamp(partial.x[0]) == pd.Timestamp("2026-12-01")
    assert partial.name == _partial_label(until) and partial.showlegend
    assert partial.marker.color != complete.marker.color  # lighter
    assert partial.marker.pattern.shape == "/"
    # A lone bar gets the width of a month like the others (not a hairline).
    assert partial.width[0] == pytest.approx(complete.width[-2])  # Dec and Oct: 31 days
    assert partial.width[0] > 20 * 86_400_000
    assert _partial_label(until) in partial.text[0]
    # Swedish ticks set explicitly (plotly.js would write "Dec 2026").
    assert list(fig.layout.xaxis.ticktext)[-1] == "dec 2026"
    assert not ENGLISH_MONTHS.search(json.dumps(fig.to_plotly_json(), default=str))
    # The data cover all of December: nothing is partial.
    full = figures.period_bars(frame, x="period_start", y="antal", gran="M", title="t",
                               x_title="Månad", y_title="Antal", name="Händelser",
                               data_until=date(2026, 12, 31))
    assert len(full.data) == 1 and len(full.data[0].y) == 6


def test_count_lines_dash_the_partial_month_with_one_legend_entry() -> None:
    months = pd.date_range("2026-09-01", periods=4, freq="MS")
    frame = pd.DataFrame({"month": list(months) * 2, "group": ["a"] * 4 + ["b"] * 4,
                          "count": [5, 6, 7, 1, 2, 3, 2, 0]})
    until = date(2026, 12, 11)
    fig = figures.count_lines(frame, x="month", group="group", title="t", x_title="Månad",
                              y_title="Antal", data_until=until)
    solid = [t for t in fig.data if t.name in ("a", "b")]
    dashed = [t for t in fig.data if t.name == _partial_label(until)]
    assert [list(t.y) for t in solid] == [[5, 6, 7], [2, 3, 2]]  # December not in the line
    assert len(dashed) == 2 and all(t.line.dash == "dash" for t in dashed)
    assert [t.showlegend for t in dashed] == [True, False]
    # The dashed part joins November to December only.
    assert [None if math.isnan(v) else v for v in dashed[0].y] == [None, None, 7, 1]
    assert list(fig.layout.xaxis.ticktext) == ["sep 2026", "okt 2026", "nov 2026",
                                               "dec 2026"]


def test_bars_with_line_mark_the_partial_month() -> None:
    frame = pd.DataFrame({"month": pd.date_range("2024-01-01", periods=3, freq="MS"),
                          "controls": [3, 15, 1], "incidents": [10, 17, 2]})
    until = date(2024, 3, 5)
    fig = figures.bars_with_line(frame, x="month", bars="controls", line="incidents",
                                 bar_name="Kontroller", line_name="Händelser", title="t",
                                 x_title="Månad", bar_title="a", line_title="b",
                                 data_until=until)
    names = [t.name for t in fig.data]
    assert names.count(_partial_label(until)) == 2  # the bar and the dashed line
    bar = next(t for t in fig.data if t.type == "bar" and t.name == _partial_label(until))
    assert list(bar.y) == [1]


def test_tick_labels_are_swedish_numbers_not_si_abbreviations() -> None:
    # Plotly's default writes 12 000 as "12k" on axes and colour bars; the dashboard's
    # numbers are Swedish ("12 000"), on every axis and every colour scale.
    grid = pd.DataFrame(0, index=range(7), columns=range(24))
    grid.loc[4, 22] = 12_000
    fig = figures.weekday_hour_heatmap(grid, title="Heat")
    template = fig.layout.template.layout
    for axis in (template.xaxis, template.yaxis):
        assert axis.exponentformat == "none" and axis.separatethousands
    colorbar = fig.data[0].colorbar
    assert colorbar.exponentformat == "none" and colorbar.separatethousands
    assert fig.layout.separators == ", "  # decimal comma, space between thousands
