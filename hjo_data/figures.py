"""Plotly figure builders. They receive small aggregated frames only (never incident rows),
so a figure's payload stays small at any data volume.

Every figure: Swedish title and axis titles with units, ``layout.separators`` for Swedish
numbers, the Okabe–Ito colour-blind-safe palette, hover texts pre-formatted with
``hjo_data.formatting`` (Swedish "12,3 %", "1 234").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hjo_data.formatting import (
    SWEDISH_MONTHS_SHORT,
    SWEDISH_WEEKDAYS_SHORT,
    fmt_ci,
    fmt_float,
    fmt_int,
    fmt_pct,
    plotly_separators,
)

#: Okabe & Ito (2008) colour-blind-safe palette (black moved last).
OKABE_ITO: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",
                              "#56B4E9", "#F0E442", "#000000")
#: Sequential colour-blind-safe scale for heat maps and choropleths.
SEQUENTIAL = "Cividis"
INCREASE_COLOUR = "#D55E00"
DECREASE_COLOUR = "#0072B2"
PCT_SUFFIX = "\u00a0%"


def colour(i: int) -> str:
    return OKABE_ITO[i % len(OKABE_ITO)]


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def base_layout(fig: go.Figure, *, title: str, x_title: str | None, y_title: str | None,
                height: int = 420, legend_title: str | None = None) -> go.Figure:
    """Common layout: title, axis titles, Swedish separators, palette, compact margins."""
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left"},
        separators=plotly_separators,
        colorway=list(OKABE_ITO),
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        legend={"title": {"text": legend_title or ""}},
        hovermode="closest",
    )
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    return fig


def _pct(values: Any) -> np.ndarray:
    return np.asarray(values, dtype="float64") * 100


def share_trend(frame: pd.DataFrame, *, group: str | None, title: str, y_title: str,
                x: str = "year", x_title: str = "År", legend_title: str | None = None
                ) -> go.Figure:
    """Shares over ``x`` as lines per ``group`` with a shaded 95 % CI band and n in hover.

    ``frame`` columns: x, [group], share, ci_low, ci_high, n (shares 0..1).
    """
    fig = go.Figure()
    groups = list(dict.fromkeys(frame[group])) if group else [None]
    for i, g in enumerate(groups):
        sub = frame if g is None else frame[frame[group] == g]
        sub = sub.sort_values(x)
        c = colour(i)
        xs = sub[x].tolist()
        name = str(g) if g is not None else "Andel"
        fig.add_trace(go.Scatter(
            x=xs + xs[::-1],
            y=list(_pct(sub["ci_high"])) + list(_pct(sub["ci_low"]))[::-1],
            fill="toself", fillcolor=_rgba(c, 0.18), line={"width": 0}, hoverinfo="skip",
            showlegend=False, legendgroup=name, name=f"{name} 95 % KI"))
        hover = [f"{name} {xv}: {fmt_pct(s)} {fmt_ci(lo, hi)}<br>n = {fmt_int(n)}"
                 for xv, s, lo, hi, n in zip(xs, sub["share"], sub["ci_low"], sub["ci_high"],
                                             sub["n"], strict=True)]
        fig.add_trace(go.Scatter(x=xs, y=_pct(sub["share"]), mode="lines+markers", name=name,
                                 legendgroup=name, line={"color": c}, text=hover,
                                 hovertemplate="%{text}<extra></extra>"))
    base_layout(fig, title=title, x_title=x_title, y_title=y_title, legend_title=legend_title)
    fig.update_yaxes(ticksuffix=PCT_SUFFIX, rangemode="tozero")
    if x == "year":
        fig.update_xaxes(tickformat="d", dtick=1)
    return fig


def ranked_share_bars(frame: pd.DataFrame, *, label: str, title: str, x_title: str,
                      colour_index: int = 0) -> go.Figure:
    """Horizontal bars of shares (largest on top) with 95 % CI error bars and n in hover."""
    sub = frame.sort_values("share")
    share = _pct(sub["share"])
    hover = [f"{lab}: {fmt_pct(s)} {fmt_ci(lo, hi)}<br>n = {fmt_int(n)}"
             for lab, s, lo, hi, n in zip(sub[label], sub["share"], sub["ci_low"],
                                          sub["ci_high"], sub["n"], strict=True)]
    fig = go.Figure(go.Bar(
        x=share, y=sub[label].astype(str), orientation="h", marker_color=colour(colour_index),
        error_x={"type": "data", "symmetric": False,
                 "array": _pct(sub["ci_high"]) - share, "arrayminus": share - _pct(sub["ci_low"]),
                 "color": "#444"},
        text=hover, hovertemplate="%{text}<extra></extra>", textposition="none"))
    base_layout(fig, title=title, x_title=x_title, y_title=None,
                height=max(260, 60 + 40 * len(sub)))
    fig.update_xaxes(ticksuffix=PCT_SUFFIX, rangemode="tozero")
    return fig


def est_week_bars(table: pd.DataFrame, *, title: str, group_title: str) -> go.Figure:
    """This week vs mean of the previous 4 weeks vs same week last year, per group.

    ``table`` = ``EstWeek.table`` without the total row. Groups whose change is beyond
    random variation get a ▲/▼ marker above their bars.
    """
    groups = table["group"].astype(str).tolist()
    fig = go.Figure()
    series = (("count", "Senaste veckan", 0), ("baseline", "Snitt föregående 4 veckor", 5),
              ("last_year", "Samma vecka i fjol", 7))
    for col, name, ci in series:
        values = table[col].to_numpy(dtype="float64")
        text = [f"{g}: {fmt_float(v, 1 if col == 'baseline' else 0)} ({name.lower()})"
                for g, v in zip(groups, values, strict=True)]
        fig.add_trace(go.Bar(x=groups, y=values, name=name, marker_color=colour(ci),
                             text=text, hovertemplate="%{text}<extra></extra>",
                             textposition="none"))
    sig = table[table["significant"].astype(bool)]
    if len(sig):
        up = sig["count"] > sig["baseline"]
        top = float(table[["count", "baseline", "last_year"]].to_numpy(dtype=float).max())
        fig.add_trace(go.Scatter(
            x=sig["group"].astype(str), y=[top * 1.08 + 0.5] * len(sig), mode="text",
            text=["▲" if u else "▼" for u in up], name="Utanför slumpvariationen",
            textfont={"size": 18, "color": [INCREASE_COLOUR if u else DECREASE_COLOUR
                                            for u in up]},
            hovertext=sig["change"].astype(str), hovertemplate="%{hovertext}<extra></extra>"))
    base_layout(fig, title=title, x_title=group_title, y_title="Antal händelser")
    fig.update_layout(barmode="group")
    return fig


def count_lines(frame: pd.DataFrame, *, x: str, group: str | None, title: str,
                x_title: str, y_title: str, legend_title: str | None = None,
                monthly: bool = True) -> go.Figure:
    """Counts over time as one line per group (long frame: x, group, count)."""
    fig = go.Figure()
    groups = list(dict.fromkeys(frame[group])) if group else [None]
    for i, g in enumerate(groups):
        sub = frame if g is None else frame[frame[group] == g]
        labels = [_month_label(v) if monthly else str(v) for v in sub[x]]
        text = [f"{g or 'Antal'} {lab}: {fmt_int(c)}"
                for lab, c in zip(labels, sub["count"], strict=True)]
        fig.add_trace(go.Scatter(x=sub[x], y=sub["count"], mode="lines+markers",
                                 name=str(g) if g is not None else "Antal",
                                 line={"color": colour(i)}, text=text,
                                 hovertemplate="%{text}<extra></extra>"))
    base_layout(fig, title=title, x_title=x_title, y_title=y_title, legend_title=legend_title)
    fig.update_yaxes(rangemode="tozero")
    return fig


def _month_label(value: Any) -> str:
    ts = pd.Timestamp(value)
    return f"{SWEDISH_MONTHS_SHORT[ts.month - 1]} {ts.year}"


def weekday_hour_heatmap(grid: pd.DataFrame, *, title: str) -> go.Figure:
    """7 × 24 counts (index weekday 0..6, columns hour 0..23) as a heat map."""
    z = grid.to_numpy()
    days = [SWEDISH_WEEKDAYS_SHORT[i] for i in grid.index]
    hours = [f"{h:02d}" for h in grid.columns]
    text = [[f"{days[r]} kl. {hours[c]}–{(int(hours[c]) + 1) % 24:02d}: {fmt_int(z[r, c])} "
             "händelser" for c in range(z.shape[1])] for r in range(z.shape[0])]
    fig = go.Figure(go.Heatmap(z=z, x=hours, y=days, colorscale=SEQUENTIAL, text=text,
                               hovertemplate="%{text}<extra></extra>",
                               colorbar={"title": {"text": "Antal"}}))
    base_layout(fig, title=title, x_title="Timme på dygnet", y_title="Veckodag", height=360)
    fig.update_yaxes(autorange="reversed")
    return fig


def bar_chart(frame: pd.DataFrame, *, x: str, y: str, title: str, x_title: str,
              y_title: str | None, horizontal: bool = True, colour_index: int = 0,
              decimals: int = 0, suffix: str = "", hover: str | None = None) -> go.Figure:
    """Bar chart of a value per category. Horizontal: ``x`` is the value and ``y`` the
    category (largest on top); vertical: ``x`` category, ``y`` value. ``hover`` names a
    column of extra pre-formatted hover text."""
    value_col, cat_col = (x, y) if horizontal else (y, x)
    sub = frame.sort_values(value_col, ascending=True) if horizontal else frame
    values, cats = sub[value_col], sub[cat_col].astype(str)
    text = [f"{c}: {fmt_float(v, decimals)}{suffix}" for c, v in zip(cats, values, strict=True)]
    if hover is not None:
        text = [f"{t}<br>{e}" for t, e in zip(text, sub[hover], strict=True)]
    bar = go.Bar(x=values if horizontal else cats, y=cats if horizontal else values,
                 orientation="h" if horizontal else "v", marker_color=colour(colour_index),
                 text=text, hovertemplate="%{text}<extra></extra>", textposition="none")
    fig = go.Figure(bar)
    base_layout(fig, title=title, x_title=x_title, y_title=y_title,
                height=max(280, 60 + 32 * len(sub)) if horizontal else 420)
    return fig


def area_map(rates: pd.DataFrame, geojson: dict, *, value: str, title: str,
             colour_title: str, points: pd.DataFrame | None = None,
             feature_key: str = "properties.name") -> go.Figure:
    """Choropleth of areas from the GeoJSON (no tile server: works offline).

    ``rates`` columns: area, count, per_1000 (and ``value``). ``points`` (lat, lon,
    category) are drawn on top — only pass them for the official audience.
    """
    text = [f"{a}: {fmt_int(c)} händelser, {fmt_float(r, 1)} per 1 000 inv."
            for a, c, r in zip(rates["area"], rates["count"], rates["per_1000"], strict=True)]
    fig = go.Figure(go.Choropleth(
        geojson=geojson, featureidkey=feature_key, locations=rates["area"].astype(str),
        z=rates[value].astype("float64"), colorscale=SEQUENTIAL, text=text,
        hovertemplate="%{text}<extra></extra>", marker_line_color="white",
        colorbar={"title": {"text": colour_title}}))
    if points is not None and len(points):
        fig.add_trace(go.Scattergeo(
            lat=points["lat"], lon=points["lon"], mode="markers", name="Händelser (position)",
            marker={"size": 4, "color": "#000000", "opacity": 0.5},
            text=points["category"].astype(str), hovertemplate="%{text}<extra></extra>"))
    fig.update_geos(fitbounds="locations", visible=False)
    base_layout(fig, title=title, x_title=None, y_title=None, height=520)
    fig.update_layout(margin={"l": 0, "r": 0, "t": 60, "b": 0})
    return fig


def bars_with_line(frame: pd.DataFrame, *, x: str, bars: str, line: str, bar_name: str,
                   line_name: str, title: str, x_title: str, bar_title: str,
                   line_title: str) -> go.Figure:
    """Bars (left axis) with a line (right axis) over time, e.g. controls vs incidents."""
    labels = [_month_label(v) for v in frame[x]]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=frame[x], y=frame[bars], name=bar_name, marker_color=colour(0),
                         text=[f"{lab}: {fmt_int(v)} {bar_name.lower()}"
                               for lab, v in zip(labels, frame[bars], strict=True)],
                         hovertemplate="%{text}<extra></extra>", textposition="none"))
    fig.add_trace(go.Scatter(x=frame[x], y=frame[line], name=line_name, yaxis="y2",
                             mode="lines+markers", line={"color": colour(3)},
                             text=[f"{lab}: {fmt_int(v)} {line_name.lower()}"
                                   for lab, v in zip(labels, frame[line], strict=True)],
                             hovertemplate="%{text}<extra></extra>"))
    base_layout(fig, title=title, x_title=x_title, y_title=bar_title)
    fig.update_layout(yaxis2={"title": {"text": line_title}, "overlaying": "y", "side": "right",
                              "rangemode": "tozero", "showgrid": False},
                      legend={"orientation": "h", "y": -0.2})
    return fig


def grouped_bars(frame: pd.DataFrame, *, x: str, series: Sequence[tuple[str, str]],
                 title: str, x_title: str, y_title: str) -> go.Figure:
    """Grouped vertical bars: one bar per (column, Swedish name) in ``series`` per x."""
    fig = go.Figure()
    cats = frame[x].astype(str)
    for i, (col, name) in enumerate(series):
        fig.add_trace(go.Bar(x=cats, y=frame[col], name=name, marker_color=colour(i),
                             text=[f"{c}: {fmt_int(v)} ({name.lower()})"
                                   for c, v in zip(cats, frame[col], strict=True)],
                             hovertemplate="%{text}<extra></extra>", textposition="none"))
    base_layout(fig, title=title, x_title=x_title, y_title=y_title)
    fig.update_layout(barmode="group")
    return fig


def share_lines_errorbars(frame: pd.DataFrame, *, group: str, title: str, y_title: str,
                          legend_title: str | None = None) -> go.Figure:
    """Shares per year as lines per ``group`` with 95 % CI error bars (youth indicators)."""
    fig = go.Figure()
    for i, g in enumerate(dict.fromkeys(frame[group])):
        sub = frame[frame[group] == g].sort_values("year")
        share = _pct(sub["share"])
        hover = [f"{g} {y}: {fmt_pct(s)} {fmt_ci(lo, hi)}<br>n = {fmt_int(n)}"
                 for y, s, lo, hi, n in zip(sub["year"], sub["share"], sub["ci_low"],
                                            sub["ci_high"], sub["n"], strict=True)]
        fig.add_trace(go.Scatter(
            x=sub["year"], y=share, mode="lines+markers", name=str(g),
            line={"color": colour(i)},
            error_y={"type": "data", "symmetric": False, "array": _pct(sub["ci_high"]) - share,
                     "arrayminus": share - _pct(sub["ci_low"])},
            text=hover, hovertemplate="%{text}<extra></extra>"))
    base_layout(fig, title=title, x_title="År", y_title=y_title, legend_title=legend_title)
    fig.update_yaxes(ticksuffix=PCT_SUFFIX, rangemode="tozero")
    fig.update_xaxes(tickformat="d", dtick=1)
    return fig


def figure_values(fig: go.Figure) -> list[list[Any]]:
    """The y (or x for horizontal bars) values of every trace — for tests and checks."""
    out = []
    for trace in fig.data:
        horizontal = getattr(trace, "orientation", None) == "h"
        vals = trace.x if horizontal else getattr(trace, "y", None)
        out.append(list(vals) if vals is not None else [])
    return out
