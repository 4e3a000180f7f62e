"""Text alternatives of charts (WCAG 1.1.1): one short Swedish summary of what a plotly
figure of ``hjo_data.figures`` shows, read from the figure itself, so it holds exactly the
numbers the chart draws — in public mode the disclosed ones (a hidden value is NaN in the
figure and is named "visas inte", never as a number).

What is said per chart shape:

* values over time (date axis, years, or an ordered period axis): per series the latest
  complete period and the one before it, the highest value, and a partial latest period
  ("ofullständig, t.o.m. …") on its own;
* values per category (bars): the highest and the lowest;
* a heat map: the cell with the most and the one with the fewest;
* a map (filled areas whose ``customdata`` holds the drawn value): the highest and the
  lowest area, as their hover texts say it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hjo_data import periods
from hjo_data.formatting import fmt_float

_BREAK = re.compile(r"\s*<br\s*/?>\s*", re.IGNORECASE)
#: Series described one by one at most; the rest are counted.
MAX_SERIES = 4
HIDDEN_SV = "visas inte"
NONE_SHOWN_SV = "inga värden visas"


@dataclass
class _Series:
    name: str
    points: list[tuple[Any, float]] = field(default_factory=list)  # (x, value), in order
    partial: list[tuple[Any, float]] = field(default_factory=list)


def _values(raw: Any) -> list[Any]:
    return [] if raw is None else list(raw)


def _number(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out


def _is_partial_name(name: Any) -> bool:
    return str(name or "").startswith(periods.PARTIAL_SV)


def _data_traces(fig: Any) -> list[Any]:
    """Traces that draw values: not CI bands, labels, legend-only markers or the colour
    bar carrier (all of those have hoverinfo "skip" or no values)."""
    out = []
    for trace in fig.data:
        if getattr(trace, "hoverinfo", None) == "skip":
            continue
        if trace.type == "scatter" and str(getattr(trace, "mode", "") or "") == "text":
            continue
        out.append(trace)
    return out


def _decimals(values: Sequence[float]) -> int:
    finite = [v for v in values if math.isfinite(v)]
    return 0 if all(float(v).is_integer() for v in finite) else 1


def _fmt(value: float, decimals: int, suffix: str) -> str:
    if not math.isfinite(value):
        return HIDDEN_SV
    return f"{fmt_float(value, decimals)}{suffix}"


def _axis(fig: Any, name: str) -> Any:
    return getattr(fig.layout, name, None)


def _is_time_axis(axis: Any, xs: Sequence[Any]) -> bool:
    if axis is not None and (axis.type == "date" or axis.categoryarray is not None
                             or axis.tickformat == "d"):
        return True
    return bool(xs) and all(isinstance(x, np.datetime64 | pd.Timestamp) for x in xs)


def _granularity(xs: Sequence[Any]) -> str:
    """W/M/Q/Y from the median spacing of date x values (M when unknown)."""
    stamps = sorted({pd.Timestamp(x) for x in xs if x is not None})
    if len(stamps) < 2:
        return "M"
    gap = float(np.median(np.diff([s.value for s in stamps]))) / 86_400e9
    return "Y" if gap >= 360 else "Q" if gap >= 85 else "M" if gap >= 27 else "W"


def _x_label(x: Any, gran: str) -> str:
    if isinstance(x, np.datetime64 | pd.Timestamp):
        return periods.period_label(pd.Timestamp(x), gran)
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def _time_series(traces: list[Any], horizontal: bool) -> list[_Series]:
    """Series over x; a partial-period trace belongs to the series drawn just before it."""
    series: list[_Series] = []
    for trace in traces:
        xs = _values(trace.y if horizontal else trace.x)
        ys = [_number(v) for v in _values(trace.x if horizontal else trace.y)]
        pairs = list(zip(xs, ys, strict=False))
        if _is_partial_name(trace.name) and series:
            # A line's partial trace repeats the complete neighbours: keep its own points.
            done = {str(x) for x, _ in series[-1].points}
            series[-1].partial += [(x, y) for x, y in pairs
                                   if math.isfinite(y) and str(x) not in done]
            continue
        series.append(_Series(str(trace.name or ""), pairs))
    return series


def _describe_time(fig: Any, traces: list[Any]) -> str:
    series = _time_series(traces, horizontal=False)
    all_x = [x for s in series for x, _ in s.points + s.partial]
    gran = _granularity(all_x) if all_x and isinstance(all_x[0], np.datetime64 | pd.Timestamp) \
        else "Y"
    yaxis = _axis(fig, "yaxis")
    suffix = str(yaxis.ticksuffix or "") if yaxis is not None else ""
    decimals = _decimals([y for s in series for _, y in s.points + s.partial])
    parts = []
    for s in series[:MAX_SERIES]:
        shown = [(x, y) for x, y in s.points if x is not None]
        if not shown and not s.partial:
            continue
        said = [f"{_x_label(x, gran)} ({periods.PARTIAL_SV} period): "
                f"{_fmt(y, decimals, suffix)}" for x, y in s.partial]
        if shown:
            x_last, y_last = shown[-1]
            latest = "senaste hela period" if s.partial else "senast"
            text = f"{latest} {_x_label(x_last, gran)}: {_fmt(y_last, decimals, suffix)}"
            if len(shown) > 1:
                x_prev, y_prev = shown[-2]
                text += f", dessförinnan {_x_label(x_prev, gran)}: " \
                        f"{_fmt(y_prev, decimals, suffix)}"
            said.append(text)
            finite = [(x, y) for x, y in shown[:-2] if math.isfinite(y)]
            top = max(finite, key=lambda p: p[1]) if finite else None
            if top is not None and top[1] > max((y for _, y in shown[-2:]
                                                 if math.isfinite(y)), default=-math.inf):
                said.append(f"högst {_x_label(top[0], gran)}: "
                            f"{_fmt(top[1], decimals, suffix)}")
        prefix = f"{s.name}: " if s.name and len(series) > 1 else ""
        parts.append(prefix + ", ".join(said))
    if len(series) > MAX_SERIES:
        parts.append(_more(len(series) - MAX_SERIES))
    return "; ".join(parts)


def _more(n: int) -> str:
    return f"och {n} {'serie' if n == 1 else 'serier'} till"


def _describe_categories(fig: Any, traces: list[Any]) -> str:
    parts = []
    axis = _axis(fig, "xaxis" if traces[0].orientation == "h" else "yaxis")
    suffix = str(axis.ticksuffix or "") if axis is not None else ""
    for trace in traces[:MAX_SERIES]:
        horizontal = trace.orientation == "h"
        cats = [str(c) for c in _values(trace.y if horizontal else trace.x)]
        vals = [_number(v) for v in _values(trace.x if horizontal else trace.y)]
        decimals = _decimals(vals)
        finite = [(c, v) for c, v in zip(cats, vals, strict=False) if math.isfinite(v)]
        text = f"{trace.name}: " if trace.name and len(traces) > 1 else ""
        if not finite:
            if cats:
                parts.append(f"{text}{NONE_SHOWN_SV}")
            continue
        top = max(finite, key=lambda p: p[1])
        low = min(finite, key=lambda p: p[1])
        text += f"högst {top[0]}: {_fmt(top[1], decimals, suffix)}"
        if low != top:
            text += f", lägst {low[0]}: {_fmt(low[1], decimals, suffix)}"
        hidden = len(cats) - len(finite)
        if hidden:
            text += f" ({hidden} {'värde' if hidden == 1 else 'värden'} {HIDDEN_SV})"
        parts.append(text)
    if len(traces) > MAX_SERIES:
        parts.append(_more(len(traces) - MAX_SERIES))
    return "; ".join(parts)


def _describe_heatmap(trace: Any) -> str:
    z = np.asarray(trace.z, dtype="float64")
    text = np.asarray(trace.text, dtype=object) if trace.text is not None else None
    if not np.isfinite(z).any():
        return NONE_SHOWN_SV
    if text is None:  # a density grid: cells, not named rows and columns
        cells = int(np.isfinite(z).sum())
        return (f"{trace.name or 'värde'}: högst {_fmt(float(np.nanmax(z)), 0, '')} i en "
                f"ruta; {cells} {'ruta' if cells == 1 else 'rutor'} med värden")
    cell = np.unravel_index(np.nanargmax(z), z.shape)
    low = np.unravel_index(np.nanargmin(z), z.shape)

    def say(at: tuple[int, ...]) -> str:
        if text is not None:
            return str(text[at])
        return f"{trace.y[at[0]]} {trace.x[at[1]]}: {_fmt(z[at], _decimals(z.ravel()), '')}"


    return f"flest {say(cell)}; färst {say(low)}"


def _describe_map(areas: list[Any]) -> str:
    """Areas with a drawn value (``customdata[0]``) ranked; their hover texts say it."""
    valued = []
    seen: set[str] = set()
    areas = [t for t in areas if not (t.name in seen or seen.add(t.name))]  # one per panel
    for trace in areas:
        data = _values(trace.customdata)
        value = _number(data[0]) if data else math.nan
        if math.isfinite(value):
            valued.append((value, str(trace.text or trace.name)))
    if not valued:
        return f"inget områdesvärde visas ({len(areas)} områden)"
    valued.sort(key=lambda p: p[0])
    text = f"högst {valued[-1][1]}"
    if len(valued) > 1:
        text += f"; lägst {valued[0][1]}"
    hidden = len(areas) - len(valued)
    if hidden:
        text += f"; {hidden} {'område' if hidden == 1 else 'områden'} utan visat värde"
    return text


def describe_figure(fig: Any) -> str:
    """One Swedish sentence: the chart's title and what its values show (see the module
    docstring); "" for a figure without values."""
    title = str(getattr(getattr(fig.layout, "title", None), "text", None) or "").strip()
    traces = _data_traces(fig)
    body = ""
    heat = [t for t in traces if t.type == "heatmap"]
    areas = [t for t in traces if t.type == "scatter" and getattr(t, "fill", None) == "toself"]
    if heat:
        body = _describe_heatmap(heat[0])
    elif areas:
        body = _describe_map(areas)
    elif traces:
        values = [t for t in traces if t.type in ("bar", "scatter")]
        horizontal = bool(values) and values[0].orientation == "h"
        xs = _values(values[0].x) if values else []
        if values and not horizontal and _is_time_axis(_axis(fig, "xaxis"), xs):
            body = _describe_time(fig, values)
        elif values:
            body = _describe_categories(fig, [t for t in values
                                              if not _is_partial_name(t.name)])
    if not body:
        return f"Diagram: {title}." if title else ""
    body = body[0].upper() + body[1:]
    text = f"Diagram: {title}. {body}." if title else f"{body}."
    return _BREAK.sub(" ", text)
