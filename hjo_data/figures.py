"""Plotly figure builders. They receive small aggregated frames only (never incident rows),
so a figure's payload stays small at any data volume.

Every figure: Swedish title and axis titles with units, ``layout.separators`` for Swedish
numbers, the Okabe–Ito colour-blind-safe palette, hover texts pre-formatted with
``hjo_data.formatting`` (Swedish "12,3 %", "1 234").
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import sequential

from hjo_data import periods
from hjo_data.formatting import (
    SWEDISH_MONTHS,
    SWEDISH_MONTHS_SHORT,
    SWEDISH_WEEKDAYS,
    SWEDISH_WEEKDAYS_SHORT,
    fmt_change,
    fmt_ci,
    fmt_float,
    fmt_int,
    fmt_number,
    fmt_pct,
    plotly_separators,
)
from hjo_data.periods import UNIT_WORDS

if TYPE_CHECKING:  # sections holds specs only and never imports plotly
    from hjo_data.sections import FigureSpec

#: Okabe & Ito (2008) colour-blind-safe palette, yellow last: against white it has a
#: contrast of 1,3:1, too faint for a line on a projector, so only an 8th series gets it.
OKABE_ITO: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7",
                              "#56B4E9", "#000000", "#F0E442")
#: Sequential colour-blind-safe scale for heat maps and the area map.
SEQUENTIAL = "Cividis"
INCREASE_COLOUR = "#D55E00"
DECREASE_COLOUR = "#0072B2"
PCT_SUFFIX = "\u00a0%"
#: Under a share trend's title: what the shaded band is.
CI_BAND_NOTE = "Skuggat: 95\u00a0% konfidensintervall (osäkerheten i ett urval)"


#: What a hidden (suppressed) value shows as in hover texts when no display text is given.
HIDDEN_SV = "dolt"
#: Legend names of the beyond-noise markers on the EST week chart.
MARKER_UP_SV = "▲ ökning utanför slumpvariationen"
MARKER_DOWN_SV = "▼ minskning utanför slumpvariationen"

#: Swedish texts of the plotly toolbar (plotly.js ships English only; a locale passed in
#: the config is used by that chart: pages and the report). Keys are plotly.js's own
#: English strings.
PLOTLY_SV_DICTIONARY: dict[str, str] = {
    "Download plot as a PNG": "Ladda ner som PNG",
    "Download plot as a png": "Ladda ner som PNG",
    "Download plot": "Ladda ner diagrammet",
    "Zoom": "Zooma",
    "Pan": "Panorera",
    "Zoom in": "Zooma in",
    "Zoom out": "Zooma ut",
    "Autoscale": "Anpassa axlarna",
    "Reset axes": "Återställ axlarna",
    "Reset view": "Återställ vyn",
    "Reset camera to default": "Återställ kameran",
    "Box Select": "Markera med rektangel",
    "Lasso Select": "Markera med lasso",
    "Toggle Spike Lines": "Visa/dölj stödlinjer",
    "Show closest data on hover": "Visa närmaste värde",
    "Compare data on hover": "Jämför värden",
    "Double-click to zoom back out": "Dubbelklicka för att zooma ut",
    "Taking snapshot - this may take a few seconds": "Sparar bilden – det kan ta några sekunder",
    "Snapshot succeeded": "Bilden sparades",
    "Sorry, there was a problem downloading your snapshot!":
        "Bilden kunde inte laddas ner.",
    "Click to enter Colorscale title": "Klicka för att ange rubrik",
    "Click to enter Plot title": "Klicka för att ange rubrik",
    "Click to enter X axis title": "Klicka för att ange rubrik",
    "Click to enter Y axis title": "Klicka för att ange rubrik",
    "trace": "serie",
}
PLOTLY_SV_LOCALE: dict[str, object] = {
    "dictionary": PLOTLY_SV_DICTIONARY,
    "format": {
        # plotly.js counts weekdays from Sunday.
        "days": [SWEDISH_WEEKDAYS[6], *SWEDISH_WEEKDAYS[:6]],
        "shortDays": [SWEDISH_WEEKDAYS_SHORT[6], *SWEDISH_WEEKDAYS_SHORT[:6]],
        "months": list(SWEDISH_MONTHS),
        "shortMonths": list(SWEDISH_MONTHS_SHORT),
        "date": "%Y-%m-%d",
        "decimal": ",",
        "thousands": " ",
    },
}

# A trimmed "plotly_white": only the layout part. Assigning the full named template deep-
# copies its trace defaults on every figure (~0,1 s each), which dominated page reruns.
#: Tick labels as Swedish numbers: "10 000", never plotly's SI abbreviation "10k".
SWEDISH_TICKS: dict[str, Any] = {"exponentformat": "none", "separatethousands": True}

_TEMPLATE = go.layout.Template(layout={
    "font": {"color": "#2a3f5f"}, "hoverlabel": {"align": "left"},
    "paper_bgcolor": "white", "plot_bgcolor": "white",
    **{axis: {"gridcolor": "#EBF0F8", "linecolor": "#EBF0F8", "ticks": "",
              "title": {"standoff": 15}, "zerolinecolor": "#EBF0F8", "automargin": True,
              "zerolinewidth": 2, **SWEDISH_TICKS} for axis in ("xaxis", "yaxis")},
})


#: Trace properties that can carry data values (areas, categories, ids): plotly.js renders
#: a subset of HTML in them (<b>, <a href>, ...), so they are escaped in :func:`_trace`.
_DATA_PROPS = ("x", "y", "text", "hovertext", "name", "labels", "customdata", "legendgroup")
#: What plotly.js would read as markup: a tag start ("<b", "</a", "<!") or an entity.
_MARKUP = re.compile(r"<(?=[A-Za-z/!?])|&(?=#?\w+;)")
_OUR_BREAK = re.compile(r"&lt;br\s*/?>", re.IGNORECASE)


def plain_label(text: str) -> str:
    """``text`` shown literally by plotly: a tag start "<x" becomes "&lt;x" and an entity's
    "&" "&amp;" ("<5" and "a & b" stay as they are; the line breaks "<br>" that the
    builders put into hover texts are kept, in a user value one is merely a line break)."""
    if "<" not in text and "&" not in text:
        return text
    escaped = _MARKUP.sub(lambda m: "&lt;" if m.group() == "<" else "&amp;", text)
    return _OUR_BREAK.sub("<br>", escaped)


def _plain(value: Any) -> Any:
    """:func:`plain_label` applied to every string in ``value`` (numbers untouched)."""
    if isinstance(value, str):
        return plain_label(value)
    if isinstance(value, pd.Series | pd.Index):
        if value.dtype.kind in "OUS" or pd.api.types.is_string_dtype(value.dtype):
            return [_plain(v) for v in value.tolist()]
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OU":
            return np.array([_plain(v) for v in value.tolist()], dtype=object)
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _trace(kind: str, **props: Any) -> dict[str, Any]:
    """A trace as a plain dict (added to a ``new_figure`` without per-property validation).
    Data-carrying properties are escaped: no user value is rendered as HTML or a link."""
    for key in _DATA_PROPS:
        if key in props:
            props[key] = _plain(props[key])
    return {"type": kind, **props}


def new_figure(*traces: Any) -> go.Figure:
    """An empty figure with the dashboard's template (skips plotly's default template).

    Built with ``_validate=False``: plotly's per-property validation cost 15–60 ms per
    figure, most of a page rerun. The builders here only set known properties (the tests
    render every builder and decode the JSON), so nothing is lost in practice.
    """
    fig = go.Figure(layout={"template": _TEMPLATE}, _validate=False)
    for trace in traces:
        fig.add_trace(trace)
    return fig


def value_texts(values: Any, texts: Any = None, decimals: int = 0) -> list[str]:
    """Hover/label texts: the given display texts (e.g. ``"<5"``) or formatted numbers;
    a hidden (NaN) value without a text shows as ``"dolt"``."""
    if texts is not None:
        return [str(t) for t in texts]
    return [HIDDEN_SV if pd.isna(v) else fmt_float(v, decimals) for v in values]


@dataclass(frozen=True)
class MetricDelta:
    """Arguments for ``st.metric``: ``delta``, ``delta_arrow`` and ``delta_color``.

    The arrow comes from the number, not from the text: ``fmt_change`` writes the true minus
    (U+2212), which Streamlit does not recognise as negative (it showed "↑ −23,2"). Colour
    says good (blue) / bad (orange) relative to the desired direction — the colour-blind
    safe pair of the charts — or grey (no change, or within random variation); the text
    says it in words too, so nothing depends on colour alone.
    """

    text: str | None
    arrow: Literal["up", "down", "off"]
    color: Literal["blue", "orange", "gray"]


def metric_delta(diff: float | None, *, desired: Literal["up", "down"] | None = "down",
                 decimals: int | None = 1, significant: bool | None = None,
                 suffix: str = "") -> MetricDelta:
    """``st.metric`` delta for a change ``diff`` (e.g. count minus baseline).

    ``desired``: the direction the promise wants (incidents: "down"); None = neutral.
    ``significant``: False greys the delta out and says "inom slumpvariationen".
    """
    if diff is None or pd.isna(diff):
        return MetricDelta(None, "off", "gray")
    x = float(diff)
    text = fmt_change(x, decimals=decimals if not x.is_integer() else 0) + suffix
    if x == 0:
        return MetricDelta(f"{text} (oförändrat)", "off", "gray")
    arrow: Literal["up", "down"] = "up" if x > 0 else "down"
    word = "ökning" if x > 0 else "minskning"
    if significant is False:
        return MetricDelta(f"{text} ({word} inom slumpvariationen)", arrow, "gray")
    if desired is None:
        return MetricDelta(f"{text} ({word})", arrow, "gray")
    good = arrow == desired
    verdict = "i önskad riktning" if good else "mot önskad riktning"
    return MetricDelta(f"{text} ({word}, {verdict})", arrow, "blue" if good else "orange")


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


def _layout(*, title: str, x_title: str | None, y_title: str | None, height: int = 420,
            legend_title: str | None = None, xaxis: dict | None = None,
            yaxis: dict | None = None, subtitle: str | None = None,
            **extra: Any) -> dict[str, Any]:
    """The ``base_layout`` properties as one dict (plus axis and other extras)."""
    x_axis = {**({"title": {"text": x_title}} if x_title is not None else {}), **(xaxis or {})}
    y_axis = {**({"title": {"text": y_title}} if y_title is not None else {}), **(yaxis or {})}
    legend = {"title": {"text": legend_title or ""}, **extra.pop("legend", {})}
    heading: dict[str, Any] = {"text": title, "x": 0.0, "xanchor": "left"}
    if subtitle:
        heading["subtitle"] = {"text": subtitle}
    return {"title": heading,
            "separators": plotly_separators, "colorway": list(OKABE_ITO), "height": height,
            "margin": {"l": 60, "r": 20, "t": 60, "b": 50}, "legend": legend,
            "hovermode": "closest", "xaxis": x_axis, "yaxis": y_axis, **extra}


def _figure(traces: Sequence[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """The figure in one constructor call without validation: ``add_trace`` and the
    ``update_*`` methods walk plotly's property tree per call (~20–70 ms per figure)."""
    return go.Figure(data=list(traces), layout={"template": _TEMPLATE, **layout},
                     _validate=False)


def _pct(values: Any) -> np.ndarray:
    return np.asarray(values, dtype="float64") * 100


# --------------------------------------------------------------------------- periods on x

#: Opacity of a partial (incomplete) period's bar or line segment.
PARTIAL_ALPHA = 0.35
#: At most this many labelled ticks on a period axis.
MAX_PERIOD_TICKS = 12


def period_axis(starts: Any, gran: str) -> dict[str, Any]:
    """x-axis properties for period starts: a date axis with explicit Swedish tick labels
    (plotly.js would write English month names such as "Jan 2024" or "May"). At most
    ``MAX_PERIOD_TICKS`` ticks, the latest period always labelled."""
    values = sorted({pd.Timestamp(v) for v in starts if not pd.isna(v)})
    if not values:
        return {"type": "date"}
    step = -(-len(values) // MAX_PERIOD_TICKS)
    ticks = values[::-1][::step][::-1]
    return {"type": "date", "tickmode": "array",
            "tickvals": [t.strftime("%Y-%m-%d") for t in ticks],
            "ticktext": [periods.tick_label(t, gran) for t in ticks]}


def partial_periods(starts: Any, gran: str, data_until: Any) -> np.ndarray:
    """Which periods are partial on ``data_until`` (all False without a date)."""
    values = pd.Series(pd.to_datetime(np.asarray(starts)))
    if data_until is None or not len(values):
        return np.zeros(len(values), dtype=bool)
    return periods.partial_mask(values, gran, data_until)


def _bar_widths(starts: np.ndarray, gran: str) -> np.ndarray:
    """Bar widths (milliseconds, 80 % of each period) on a date axis: plotly derives a
    trace's bar width from the gaps between ITS x values, so a lone partial bar would be a
    hairline without it."""
    days = [(periods.next_start(s, gran) - periods.to_date(s)).days for s in starts]
    return np.asarray(days, dtype="float64") * 86_400_000 * 0.8


def period_bar_traces(x: Any, y: Any, *, partial: np.ndarray, name: str, colour: str,
                      hover: Sequence[str], data_until: Any, gran: str = "M", **extra: Any
                      ) -> list[dict[str, Any]]:
    """Bars over periods (``x``: period starts of ``gran``); partial periods as a second,
    lighter hatched trace named "ofullständig, t.o.m. <datum>" (so the current period
    never looks like a drop)."""
    xs, ys = np.asarray(x), np.asarray(y, dtype="float64")
    hover = np.asarray(list(hover), dtype=object)
    widths = _bar_widths(xs, gran)
    done = ~partial
    traces = [_trace("bar", x=xs[done], y=ys[done], name=name, marker_color=colour,
                     text=hover[done], hovertemplate="%{text}<extra></extra>",
                     textposition="none", width=widths[done], **extra)]
    if partial.any():
        label = periods.partial_text(data_until)
        traces.append(_trace("bar", x=xs[partial], y=ys[partial], name=label,
                             width=widths[partial],
                             marker={"color": _rgba(colour, PARTIAL_ALPHA),
                                     "line": {"color": colour, "width": 1.5},
                                     "pattern": {"shape": "/", "fgcolor": colour}},
                             text=[f"{h} ({label})" for h in hover[partial]],
                             hovertemplate="%{text}<extra></extra>", textposition="none",
                             showlegend=True, **extra))
    return traces


def period_line_traces(x: Any, y: Any, *, partial: np.ndarray, name: str, colour: str,
                       hover: Sequence[str], data_until: Any, show_partial_legend: bool = True,
                       **extra: Any) -> list[dict[str, Any]]:
    """A line over periods: solid through the complete periods, a lighter dashed segment
    into each partial period (named "ofullständig, t.o.m. <datum>")."""
    xs, ys = np.asarray(x), np.asarray(y, dtype="float64")
    hover = np.asarray(list(hover), dtype=object)
    done = ~partial
    traces = [_trace("scatter", x=xs[done], y=ys[done], mode="lines+markers", name=name,
                     line={"color": colour}, text=hover[done],
                     hovertemplate="%{text}<extra></extra>", **extra)]
    if partial.any():
        label = periods.partial_text(data_until)
        # The partial points and their complete neighbours (so the dashed part connects).
        near = partial | np.roll(partial, 1) & (np.arange(len(partial)) > 0) \
            | np.roll(partial, -1) & (np.arange(len(partial)) < len(partial) - 1)
        seg_y = np.where(near, ys, np.nan)
        traces.append(_trace("scatter", x=xs, y=seg_y, mode="lines+markers", name=label,
                             line={"color": _rgba(colour, 0.6), "dash": "dash"},
                             marker={"color": _rgba(colour, 0.6),
                                     "size": [8 if p else 0 for p in partial]},
                             text=[f"{h} ({label})" for h in hover],
                             hovertemplate="%{text}<extra></extra>", connectgaps=False,
                             legendgroup="ofullstandig", showlegend=show_partial_legend,
                             **{k: v for k, v in extra.items()
                                if k not in ("legendgroup", "showlegend")}))
    return traces


def period_bars(frame: pd.DataFrame, *, x: str, y: str, gran: str, title: str,
                x_title: str, y_title: str, name: str, hover: Sequence[str] | None = None,
                data_until: Any = None, colour_index: int = 0, height: int = 420
                ) -> go.Figure:
    """Bars of one value per period (``x``: period starts) with Swedish ticks; the periods
    the data do not cover fully (``data_until``; or a boolean ``partial`` column of
    ``frame``) are drawn lighter and hatched, labelled "ofullständig, t.o.m. <datum>"."""
    partial = (frame["partial"].to_numpy(dtype=bool) if "partial" in frame.columns
               else partial_periods(frame[x], gran, data_until))
    if hover is None:
        hover = [f"{periods.period_label(p, gran)}: {v}"
                 for p, v in zip(frame[x], value_texts(frame[y]), strict=True)]
    traces = period_bar_traces(frame[x], frame[y], partial=partial, name=name,
                               colour=colour(colour_index), hover=hover,
                               data_until=data_until, gran=gran)
    return _figure(traces, _layout(
        title=title, x_title=x_title, y_title=y_title, height=height, barmode="overlay",
        xaxis=period_axis(frame[x], gran), yaxis={"rangemode": "tozero"},
        showlegend=bool(partial.any()), legend={"orientation": "h", "y": -0.2}))


def share_trend(frame: pd.DataFrame, *, group: str | None, title: str, y_title: str,
                x: str = "year", x_title: str = "År", legend_title: str | None = None,
                data_until: Any = None) -> go.Figure:
    """Shares over ``x`` as lines per ``group`` with a shaded 95 % CI band and n in hover.

    ``frame`` columns: x, [group], share, ci_low, ci_high, n (shares 0..1). Rows whose
    share is NaN (hidden in public mode: too few answers) are left out of the chart.
    ``data_until`` (x = calendar year of continuously registered data, e.g. activities;
    not for surveys, whose year is complete once its results exist): a year the data do
    not cover fully is drawn as a dashed segment "ofullständig, t.o.m. <datum>".
    """
    frame = frame[frame["share"].notna()]
    traces: list[dict[str, Any]] = []
    groups = list(dict.fromkeys(frame[group])) if group else [None]
    for i, g in enumerate(groups):
        sub = frame if g is None else frame[frame[group] == g]
        sub = sub.sort_values(x)
        c = colour(i)
        xs = sub[x].tolist()
        name = str(g) if g is not None else "Andel"
        traces.append(_trace("scatter",
            x=xs + xs[::-1],
            y=list(_pct(sub["ci_high"])) + list(_pct(sub["ci_low"]))[::-1],
            mode="lines", fill="toself", fillcolor=_rgba(c, 0.18), line={"width": 0},
            hoverinfo="skip",
            showlegend=False, legendgroup=name, name=f"{name} 95 % KI"))
        hover = [f"{name} {xv}: {fmt_pct(s)} {fmt_ci(lo, hi)}<br>n = {fmt_int(n)}"
                 for xv, s, lo, hi, n in zip(xs, sub["share"], sub["ci_low"], sub["ci_high"],
                                             sub["n"], strict=True)]
        partial = (partial_periods([pd.Timestamp(int(y), 1, 1) for y in xs], "Y", data_until)
                   if x == "year" else np.zeros(len(xs), dtype=bool))
        traces += period_line_traces(xs, _pct(sub["share"]), partial=partial, name=name,
                                     colour=c, hover=hover, data_until=data_until,
                                     show_partial_legend=i == 0, legendgroup=name,
                                     showlegend=g is not None)  # one line needs no legend
    return _figure(traces, _layout(
        title=title, x_title=x_title, y_title=y_title, legend_title=legend_title,
        subtitle=CI_BAND_NOTE if len(frame) else None,
        yaxis={"ticksuffix": PCT_SUFFIX, "rangemode": "tozero"},
        xaxis={"tickformat": "d", "dtick": 1} if x == "year" else None))


#: Bars that are context (region, country) next to the emphasised one (our municipality).
CONTEXT_GREY = "#9E9E9E"


def ranked_share_bars(frame: pd.DataFrame, *, label: str, title: str, x_title: str,
                      colour_index: int = 0, emphasis: str | None = None) -> go.Figure:
    """Horizontal bars of shares (largest on top) with 95 % CI error bars and n in hover.
    Rows whose share is NaN (hidden: too few answers) are left out. ``emphasis``: a
    boolean column; its rows keep the colour, the others are grey context bars."""
    sub = frame[frame["share"].notna()].sort_values("share")
    colours: str | list[str] = colour(colour_index)
    if emphasis is not None:
        colours = [colour(colour_index) if bool(e) else CONTEXT_GREY for e in sub[emphasis]]
    share = _pct(sub["share"])
    hover = [f"{lab}: {fmt_pct(s)} {fmt_ci(lo, hi)}<br>n = {fmt_int(n)}"
             for lab, s, lo, hi, n in zip(sub[label], sub["share"], sub["ci_low"],
                                          sub["ci_high"], sub["n"], strict=True)]
    bar = _trace("bar",
        x=share, y=sub[label].astype(str), orientation="h", marker_color=colours,
        error_x={"type": "data", "symmetric": False,
                 "array": _pct(sub["ci_high"]) - share, "arrayminus": share - _pct(sub["ci_low"]),
                 "color": "#444"},
        text=hover, hovertemplate="%{text}<extra></extra>", textposition="none")
    return _figure([bar], _layout(title=title, x_title=x_title, y_title=None,
                                  height=max(260, 60 + 40 * len(sub)),
                                  xaxis={"ticksuffix": PCT_SUFFIX, "rangemode": "tozero"}))


def est_week_bars(table: pd.DataFrame, *, title: str, group_title: str,
                  texts: pd.DataFrame | None = None) -> go.Figure:
    """This week vs mean of the previous 4 weeks vs same week last year, per group.

    ``table`` = ``EstWeek.table`` without the total row (in public mode with hidden counts
    as NaN). ``texts``: optional display texts (columns count, baseline, last_year, e.g.
    ``"<5"``) for the hover. Groups whose change is beyond random variation get a ▲/▼
    label on top of their "Senaste veckan" bar, explained by two legend entries.
    """
    groups = table["group"].astype(str).tolist()
    traces: list[dict[str, Any]] = []
    series = (("count", "Senaste veckan", 0), ("baseline", "Snitt föregående 4 veckor", 5),
              ("last_year", "Samma vecka i fjol", 6))
    sig = table["significant"].astype(bool).to_numpy()
    up = (table["count"].astype("float64") > table["baseline"].astype("float64")).to_numpy()
    marks = ["" if not s_ else ("▲" if u else "▼") for s_, u in zip(sig, up, strict=True)]
    for col, name, ci in series:
        values = table[col].to_numpy(dtype="float64")
        shown = value_texts(values, None if texts is None else texts[col],
                            1 if col == "baseline" else 0)
        hover = [f"{g}: {v} ({name.lower()})" for g, v in zip(groups, shown, strict=True)]
        extra: dict[str, Any] = {"textposition": "none"}
        if col == "count":
            hover = [f"{h}<br>{c}" if m else h
                     for h, m, c in zip(hover, marks, table["change"].astype(str),
                                        strict=True)]
            extra = {"text": marks, "textposition": "outside", "cliponaxis": False,
                     "textfont": {"size": 16, "color": [
                         INCREASE_COLOUR if u else DECREASE_COLOUR for u in up]}}
        traces.append(_trace("bar", x=groups, y=values, name=name, marker_color=colour(ci),
                             hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
                             **extra))
    for present, name, symbol, c in ((sig & up, MARKER_UP_SV, "triangle-up", INCREASE_COLOUR),
                                     (sig & ~up, MARKER_DOWN_SV, "triangle-down",
                                      DECREASE_COLOUR)):
        if present.any():  # legend entry only: the marker itself is the bar's label
            traces.append(_trace("scatter", x=[None], y=[None], mode="markers", name=name,
                                 marker={"symbol": symbol, "color": c, "size": 11},
                                 hoverinfo="skip"))
    return _figure(traces, _layout(title=title, x_title=group_title,
                                   y_title="Antal händelser", barmode="group",
                                   yaxis={"rangemode": "tozero"}))


def count_lines(frame: pd.DataFrame, *, x: str, group: str | None, title: str,
                x_title: str, y_title: str, legend_title: str | None = None,
                monthly: bool = True, value_text: str | None = None,
                data_until: Any = None) -> go.Figure:
    """Counts over time as one line per group (long frame: x, group, count).

    ``value_text`` names a column of display texts for the counts (public mode: "<5");
    hidden counts are NaN and leave a gap in the line. ``monthly``: x holds month starts
    (Swedish ticks); with ``data_until`` (the reference day) a month the data do not cover
    fully is drawn as a lighter dashed segment "ofullständig, t.o.m. <datum>".
    """
    traces: list[dict[str, Any]] = []
    groups = list(dict.fromkeys(frame[group])) if group else [None]
    for i, g in enumerate(groups):
        sub = frame if g is None else frame[frame[group] == g]
        labels = [_month_label(v) if monthly else str(v) for v in sub[x]]
        shown = value_texts(sub["count"], None if value_text is None else sub[value_text])
        text = [f"{g or 'Antal'} {lab}: {c}" for lab, c in zip(labels, shown, strict=True)]
        partial = (partial_periods(sub[x], "M", data_until) if monthly
                   else np.zeros(len(sub), dtype=bool))
        traces += period_line_traces(sub[x], sub["count"], partial=partial,
                                     name=str(g) if g is not None else "Antal",
                                     colour=colour(i), hover=text, data_until=data_until,
                                     show_partial_legend=i == 0, legendgroup=str(g))
    return _figure(traces, _layout(title=title, x_title=x_title, y_title=y_title,
                                   legend_title=legend_title, yaxis={"rangemode": "tozero"},
                                   xaxis=period_axis(frame[x], "M") if monthly else None))


def _month_label(value: Any) -> str:
    return periods.tick_label(value, "M")


def weekday_hour_heatmap(grid: pd.DataFrame, *, title: str,
                         texts: pd.DataFrame | None = None,
                         hours_per_cell: int = 1) -> go.Figure:
    """Weekday × hour counts as a heat map.

    ``grid``: index weekday 0..6, columns = first hour of each cell (0..23, or 0, 3, ..., 21
    with ``hours_per_cell=3``). Hidden cells (public mode) are NaN and drawn blank;
    ``texts`` gives their display text ("<5") for the hover.
    """
    z = grid.to_numpy(dtype="float64")
    days = [SWEDISH_WEEKDAYS_SHORT[i] for i in grid.index]
    starts = [int(h) for h in grid.columns]
    hours = [f"{h:02d}" if hours_per_cell == 1 else
             f"{h:02d}–{(h + hours_per_cell) % 24:02d}" for h in starts]
    shown = texts.to_numpy() if texts is not None else None
    text = [[f"{days[r]} kl. {starts[c]:02d}–{(starts[c] + hours_per_cell) % 24:02d}: "
             f"{shown[r, c] if shown is not None else value_texts([z[r, c]])[0]} händelser"
             for c in range(z.shape[1])] for r in range(z.shape[0])]
    heat = _trace("heatmap", z=z, x=hours, y=days, colorscale=SEQUENTIAL, text=text,
                  hovertemplate="%{text}<extra></extra>", hoverongaps=True,
                  colorbar={"title": {"text": "Antal"}, **SWEDISH_TICKS})
    x_title = "Timme på dygnet" if hours_per_cell == 1 else \
        f"Tid på dygnet ({hours_per_cell}-timmarsblock)"
    return _figure([heat], _layout(title=title, x_title=x_title, y_title="Veckodag",
                                   height=360, yaxis={"autorange": "reversed"}))


def bar_chart(frame: pd.DataFrame, *, x: str, y: str, title: str, x_title: str,
              y_title: str | None, horizontal: bool = True, colour_index: int = 0,
              decimals: int = 0, suffix: str = "", hover: str | None = None,
              value_text: str | None = None) -> go.Figure:
    """Bar chart of a value per category. Horizontal: ``x`` is the value and ``y`` the
    category (largest on top); vertical: ``x`` category, ``y`` value. ``hover`` names a
    column of extra pre-formatted hover text; ``value_text`` a column of display texts
    for the value (public mode: "<5" where the value is hidden, i.e. NaN: no bar)."""
    value_col, cat_col = (x, y) if horizontal else (y, x)
    sub = frame.sort_values(value_col, ascending=True, na_position="first") \
        if horizontal else frame
    values, cats = sub[value_col], sub[cat_col].astype(str)
    shown = value_texts(values, None if value_text is None else sub[value_text], decimals)
    text = [f"{c}: {v}{suffix}" for c, v in zip(cats, shown, strict=True)]
    if hover is not None:
        text = [f"{t}<br>{e}" for t, e in zip(text, sub[hover], strict=True)]
    bar = _trace("bar", x=values if horizontal else cats, y=cats if horizontal else values,
                 orientation="h" if horizontal else "v", marker_color=colour(colour_index),
                 text=text, hovertemplate="%{text}<extra></extra>", textposition="none")
    return _figure([bar], _layout(title=title, x_title=x_title, y_title=y_title,
                                  height=max(280, 60 + 32 * len(sub)) if horizontal else 420))


#: Fill of an area whose value is hidden (public mode) or unknown; legend names for it.
HIDDEN_FILL = "#BBBBBB"
HIDDEN_LEGEND_SV = "Grått: värdet visas inte (för få händelser)"
NO_DATA_FILL = "#F2F2F2"
NO_DATA_LEGEND_SV = "Ljusgrått: ingår inte i urvalet"
#: Decimals kept of map coordinates (5 ≈ 1 m) and the most vertices drawn per ring.
MAP_DECIMALS = 5
MAP_MAX_RING_POINTS = 400
#: An area narrower AND lower than this share of the whole map is "small" (a town
#: district): with two or more of them the map gets a second panel, a close-up of them,
#: where they are labelled (in the overview they are a few pixels wide).
MAP_SMALL_AREA = 0.2
#: The colour scale ends at this percentile of the area values (rounded up to a round
#: number): one outlying area does not wash out the differences between the others.
MAP_COLOUR_PERCENTILE = 90
#: Officials' positions: up to this many are drawn as points; more as a density grid
#: (single points merge into a blob).
MAP_MAX_POINTS = 300
#: Cells across a panel's width in the density grid.
MAP_DENSITY_CELLS = 36
MAP_HEIGHT = 620
#: Kilometres per degree of latitude (and of longitude at the equator): cell areas.
KM_PER_DEGREE = 111.2
MAP_INSET_TITLE_SV = "Förstoring: tätorten"
DENSITY_NAME_SV = "Händelser per km²"
#: Legend text of the map: near-black (a theme's faded grey is below 4.5:1 on white).
MAP_TEXT_FONT = {"color": "#111111"}
MAP_OVERVIEW_TITLE_SV = "Hela kommunen"
#: Density colours: transparent to Okabe–Ito vermillion (stands out on Cividis fills).
DENSITY_SCALE = [[0.0, "rgba(213,94,0,0.15)"], [1.0, "rgba(213,94,0,0.95)"]]


def _outer_rings(geometry: dict | None) -> list[list[tuple[float, float]]]:
    """Outer rings (lon, lat) of a Polygon / MultiPolygon, rounded and thinned so the
    figure stays small. Holes are not drawn (a ``toself`` fill cannot cut them out)."""
    if not isinstance(geometry, dict):
        return []
    coords = geometry.get("coordinates") or []
    kind = geometry.get("type")
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    rings = []
    for polygon in polygons:
        if not polygon:
            continue
        ring: list[tuple[float, float]] = []
        for point in polygon[0]:
            xy = (round(float(point[0]), MAP_DECIMALS), round(float(point[1]), MAP_DECIMALS))
            if not ring or ring[-1] != xy:
                ring.append(xy)
        if len(ring) > MAP_MAX_RING_POINTS:
            step = -(-len(ring) // MAP_MAX_RING_POINTS)
            ring = ring[:-1:step] + [ring[-1]]
        if len(ring) >= 3:
            rings.append(ring)
    return rings


def _feature_name(feature: dict, feature_key: str) -> str | None:
    node: Any = feature
    for part in feature_key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return None if node is None else str(node)


def _cividis_stops() -> np.ndarray:
    return np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in sequential.Cividis],
                    dtype="float64")


_SCALE_STOPS: np.ndarray | None = None


def sequential_colours(fractions: Sequence[float]) -> list[str]:
    """``rgb(r, g, b)`` colours of the Cividis scale at ``fractions`` (0..1), linearly
    interpolated between its stops (plotly's ``sample_colorscale`` costs ~2 ms a call)."""
    global _SCALE_STOPS
    if _SCALE_STOPS is None:
        _SCALE_STOPS = _cividis_stops()
    stops = _SCALE_STOPS
    at = np.clip(np.asarray(fractions, dtype="float64"), 0.0, 1.0)
    grid = np.linspace(0.0, 1.0, len(stops))
    rgb = np.column_stack([np.interp(at, grid, stops[:, c]) for c in range(3)]).round()
    return [f"rgb({int(r)}, {int(g)}, {int(b)})" for r, g, b in rgb]


def _text_colour(fill: str) -> str:
    """Black or white label text, whichever contrasts more with an ``rgb(r, g, b)`` fill."""
    nums = [float(v) for v in fill[fill.index("(") + 1:fill.index(")")].split(",")[:3]]
    luminance = 0.299 * nums[0] + 0.587 * nums[1] + 0.114 * nums[2]
    return "#000000" if luminance > 140 else "#FFFFFF"


def round_up(value: float) -> float:
    """The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 or 10 times a power of ten that is
    >= ``value`` (> 0): a colour scale's end that reads as a round number."""
    if not value > 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * power >= value * (1 - 1e-12):
            return step * power
    return 10 * power


def colour_range(values: Any, percentile: float = MAP_COLOUR_PERCENTILE
                 ) -> tuple[float, float, bool]:
    """(cmin, cmax, capped) of a map's colour scale: from 0 (or a negative minimum) to the
    ``percentile`` of the finite values rounded up (:func:`round_up`), at most the
    maximum rounded up; ``capped``: some value lies above cmax (drawn in the top colour)."""
    finite = np.asarray(values, dtype="float64")
    finite = finite[np.isfinite(finite)]
    if not len(finite):
        return 0.0, 1.0, False
    cmin = min(0.0, float(finite.min()))
    top = float(finite.max())
    cmax = round_up(float(np.percentile(finite, percentile))) if top > 0 else 1.0
    cmax = min(cmax, round_up(top)) if top > 0 else cmax
    if cmax <= cmin:
        cmax = cmin + 1.0
    return cmin, cmax, bool(top > cmax)


@dataclass(frozen=True)
class _Area:
    name: str
    rings: list[list[tuple[float, float]]]
    fill: str
    legend: str | None  # legend entry (hidden / not in the selection), None = coloured
    hover: str
    label: str
    value: float


def _bbox(rings: Sequence[Sequence[tuple[float, float]]]) -> tuple[float, float, float, float]:
    xs = [p[0] for ring in rings for p in ring]
    ys = [p[1] for ring in rings for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


def _centroid(ring: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Area centroid of a closed ring (shoelace); the vertex mean for a degenerate one."""
    pts = np.asarray(ring, dtype="float64")
    x, y = pts[:, 0], pts[:, 1]
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    area = cross.sum() / 2
    if abs(area) < 1e-15:
        return float(x.mean()), float(y.mean())
    return (float(((x[:-1] + x[1:]) * cross).sum() / (6 * area)),
            float(((y[:-1] + y[1:]) * cross).sum() / (6 * area)))


def _ring_xy(rings: Sequence[Sequence[tuple[float, float]]]
             ) -> tuple[list[float | None], list[float | None]]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for ring in rings:
        if xs:
            xs.append(None)
            ys.append(None)
        xs += [p[0] for p in ring]
        ys += [p[1] for p in ring]
    return xs, ys


def _small_areas(areas: Sequence[_Area]) -> list[_Area]:
    """The areas too small to see or label on the whole map (see ``MAP_SMALL_AREA``)."""
    if len(areas) < 3:
        return []
    x0, y0, x1, y1 = _bbox([r for a in areas for r in a.rings])
    small = []
    for area in areas:
        a0, b0, a1, b1 = _bbox(area.rings)
        if a1 - a0 < MAP_SMALL_AREA * (x1 - x0) and b1 - b0 < MAP_SMALL_AREA * (y1 - y0):
            small.append(area)
    return small if len(small) >= 2 else []


def density_grid(lon: Any, lat: Any, box: tuple[float, float, float, float],
                 cells: int = MAP_DENSITY_CELLS
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Counts of positions in a grid over ``box`` (lon0, lat0, lon1, lat1), square cells
    on screen (latitude scaled by cos): x centres, y centres, counts (NaN for empty cells,
    drawn transparent) and one cell's area in km². Positions outside the box are not
    counted."""
    lon0, lat0, lon1, lat1 = box
    scale = float(np.cos(np.radians((lat0 + lat1) / 2)))
    step = (lon1 - lon0) / cells
    rows = max(1, int(np.ceil((lat1 - lat0) / (step * scale))))
    x_edges = lon0 + step * np.arange(cells + 1)
    y_edges = lat0 + step * scale * np.arange(rows + 1)
    counts, _, _ = np.histogram2d(np.asarray(lon, dtype="float64"),
                                  np.asarray(lat, dtype="float64"), bins=[x_edges, y_edges])
    z = counts.T.astype("float64")
    z[z == 0] = np.nan
    km2 = (step * KM_PER_DEGREE * scale) ** 2
    return (x_edges[:-1] + x_edges[1:]) / 2, (y_edges[:-1] + y_edges[1:]) / 2, z, km2


def area_map(rates: pd.DataFrame, geojson: dict, *, value: str, title: str,
             colour_title: str, points: pd.DataFrame | None = None,
             feature_key: str = "properties.name", count_text: str | None = None,
             rate_note: str | None = None, value_text: str | None = None) -> go.Figure:
    """Map of the areas from the GeoJSON, coloured by ``value`` — drawn without plotly's geo
    subplots (those fetch a world topojson from cdn.plot.ly) and without any tile server,
    so it works offline and tells no third party who looks at it.

    Each area is a filled ``scatter`` polygon on plain lon/lat axes; the y axis is scaled by
    1/cos(mean latitude) (equirectangular projection) so shapes keep their proportions.
    Areas too small to see on the whole map (town districts, ``MAP_SMALL_AREA``) are drawn
    again in a second panel, a close-up, and labelled there; the overview marks the
    close-up with a dashed frame. Every area is labelled with its name and value
    (``value_text``: a column of display texts, e.g. the table's; else formatted).

    The fill colour comes from the Cividis scale from 0 to :func:`colour_range` (the 90th
    percentile, rounded up: a value above it gets the top colour, and the colour bar's
    title says where the scale ends); an invisible marker trace carries the colour bar.
    ``customdata`` of each area trace holds its drawn value (NaN when hidden).
    ``rates`` columns: area, count, per_1000 (and ``value``). Hidden values (public mode)
    are NaN and drawn grey; ``count_text`` names a column of display texts for the count
    ("<5"). Areas of the GeoJSON missing from ``rates`` are drawn light grey.
    ``points`` (lat, lon, category) — only pass them for the official audience — are
    drawn on top when there are at most ``MAP_MAX_POINTS`` (more: :func:`density_map`).
    ``rate_note`` replaces every rate in the hover (e.g. "underlag saknas" when the
    selection is too short for a yearly rate).
    """
    counts = value_texts(rates["count"], None if count_text is None else rates[count_text])
    rates_txt = ([f"{r} per 1 000 inv. och år" for r in value_texts(rates["per_1000"], None, 1)]
                 if rate_note is None else [f"per 1 000 inv. och år: {rate_note}"] * len(rates))
    values = pd.to_numeric(rates[value], errors="coerce").astype("float64").to_numpy()
    labels = (value_texts(values, None, 1 if value == "per_1000" else 0) if value_text is None
              else [str(t) for t in rates[value_text]])
    by_area = {str(a): (v, f"{a}: {c} händelser, {r}", lab) for a, v, c, r, lab in
               zip(rates["area"], values, counts, rates_txt, labels, strict=True)}
    cmin, cmax, capped = colour_range(values)

    areas: list[_Area] = []
    for name, rings in _features(geojson, feature_key):
        val, hover, label = by_area.get(name, (np.nan, None, ""))
        if hover is None:
            fill, legend = NO_DATA_FILL, NO_DATA_LEGEND_SV
            hover = f"{name}: ingår inte i urvalet"
        elif not np.isfinite(val):
            fill, legend = HIDDEN_FILL, HIDDEN_LEGEND_SV
        else:
            fill, legend = sequential_colours([(val - cmin) / (cmax - cmin)])[0], None
        areas.append(_Area(name, rings, fill, legend, hover, label, float(val)))
    extra: list[dict[str, Any]] = []
    if areas:
        # Colour bar: an invisible marker trace that carries the scale.
        anchor = areas[0].rings[0][0]
        scale_title = colour_title + (f"<br>(skalan slutar vid {fmt_number(cmax)};"
                                      "<br>högre värden samma färg)" if capped else "")
        extra.append(_trace("scatter",
            x=[anchor[0], anchor[0]], y=[anchor[1], anchor[1]], mode="markers",
            hoverinfo="skip", showlegend=False, name=colour_title,
            marker={"size": 0.1, "opacity": 0, "color": [cmin, cmax], "cmin": cmin,
                    "cmax": cmax, "colorscale": SEQUENTIAL, "showscale": True,
                    "colorbar": {"title": {"text": scale_title, "font": MAP_TEXT_FONT},
                                 "tickfont": MAP_TEXT_FONT, "len": 0.8, **SWEDISH_TICKS}}))
    if points is not None and 0 < len(points) <= MAP_MAX_POINTS:
        extra.append(_trace("scatter",
            x=points["lon"], y=points["lat"], mode="markers", name="Händelser (position)",
            marker={"size": 6, "color": "#000000", "opacity": 0.8,
                    "line": {"color": "#FFFFFF", "width": 1}},
            text=points["category"].astype(str), hovertemplate="%{text}<extra></extra>"))
    return _draw_map(areas, title, extra, line="#FFFFFF")


def density_map(points: pd.DataFrame, geojson: dict, *, title: str,
                feature_key: str = "properties.name") -> go.Figure:
    """Where incidents with a position happen (officials only: positions are personal
    data): counts in a grid of square cells (:func:`density_grid`, empty cells
    transparent) under the area outlines, with the same overview and close-up panels as
    :func:`area_map`; hover: the count in the cell."""
    areas = [_Area(name, rings, "rgba(255,255,255,0)", None, name, "", math.nan)
             for name, rings in _features(geojson, feature_key)]
    return _draw_map(areas, title, [], line="#444444", density=points)


def _features(geojson: dict, feature_key: str
              ) -> list[tuple[str, list[list[tuple[float, float]]]]]:
    out = []
    for feature in (geojson or {}).get("features", []):
        name = _feature_name(feature, feature_key)
        rings = _outer_rings(feature.get("geometry"))
        if name is not None and rings:
            out.append((name, rings))
    return out


def _draw_map(areas: list[_Area], title: str, extra: list[dict[str, Any]], *, line: str,
              density: pd.DataFrame | None = None) -> go.Figure:
    """The areas (filled polygons with ``customdata`` = value, hover text), their labels,
    on one panel or overview + close-up (see :func:`area_map`); ``extra`` traces are
    repeated on each panel; ``density`` positions become a grid under the polygons."""
    small = _small_areas(areas)
    small_names = {a.name for a in small}
    panels = [("x", "y")] + ([("x2", "y2")] if small else [])
    overview = _bbox([r for a in areas for r in a.rings]) if areas else None
    zoom = _bbox([r for a in small for r in a.rings]) if small else None
    traces: list[dict[str, Any]] = []
    legend_done: set[str] = set()
    grids = [density_grid(density["lon"], density["lat"],
                          _box_padded(zoom if panel else overview))
             for panel in range(len(panels))] if density is not None and len(density) else []
    top = max((float(np.nanmax(g[2])) / g[3] for g in grids if np.isfinite(g[2]).any()),
              default=1.0)
    for panel, (xaxis, yaxis) in enumerate(panels):
        if grids:
            gx, gy, z, km2 = grids[panel]
            # Per km²: the close-up's cells are smaller, so counts per cell would not
            # compare between the panels; one colour scale for both.
            traces.append(_trace("heatmap",
                x=gx, y=gy, z=z / km2, customdata=z, colorscale=DENSITY_SCALE, zmin=0,
                zmax=top, showscale=panel == 0, name=DENSITY_NAME_SV, hoverongaps=False,
                hovertemplate="%{customdata:.0f} händelser i rutan "
                              "(%{z:.0f} per km²)<extra></extra>",
                colorbar={"title": {"text": "Händelser<br>per km²", "font": MAP_TEXT_FONT},
                          "tickfont": MAP_TEXT_FONT, "len": 0.8, **SWEDISH_TICKS},
                xaxis=xaxis, yaxis=yaxis))
        labels = []
        for area in areas:
            xs, ys = _ring_xy(area.rings)
            show = area.legend is not None and area.legend not in legend_done
            if area.legend:
                legend_done.add(area.legend)
            traces.append(_trace("scatter",
                x=xs, y=ys, mode="lines", fill="toself", fillcolor=area.fill,
                name=area.legend or area.name, line={"color": line, "width": 1.5},
                hoveron="fills", hoverinfo="text", text=area.hover, showlegend=show,
                legendgroup=area.legend or "areas", customdata=[area.value],
                xaxis=xaxis, yaxis=yaxis))
            if bool(panel) == (area.name in small_names):
                cx, cy = _centroid(max(area.rings, key=len))
                text = f"{area.name}<br>{area.label}" if area.label else area.name
                labels.append((cx, cy, text, _text_colour(area.fill)
                               if area.fill.startswith("rgb(") else "#000000"))
        if labels:
            cx, cy, text, colours = zip(*labels, strict=True)
            traces.append(_trace("scatter",
                x=list(cx), y=list(cy), mode="text", text=list(text), hoverinfo="skip",
                textfont={"size": 12, "color": list(colours)}, cliponaxis=False,
                showlegend=False, name="Områden", xaxis=xaxis, yaxis=yaxis))
        for trace in extra:
            traces.append({**trace, "xaxis": xaxis, "yaxis": yaxis,
                           "showlegend": bool(trace.get("showlegend", True)) and not panel,
                           **({"marker": {**trace["marker"], "showscale": False}}
                              if panel and "showscale" in trace.get("marker", {}) else {})})
    return go.Figure(data=traces, _validate=False, layout=_map_layout(title, overview, zoom))


def _box_padded(box: tuple[float, float, float, float] | None
                ) -> tuple[float, float, float, float]:
    if box is None:
        return (0.0, 0.0, 1.0, 1.0)
    lon = _padded([box[0], box[2]], 0.06) or [box[0], box[2]]
    lat = _padded([box[1], box[3]], 0.06) or [box[1], box[3]]
    return lon[0], lat[0], lon[1], lat[1]


def _map_layout(title: str, overview: tuple[float, float, float, float] | None,
                zoom: tuple[float, float, float, float] | None) -> dict[str, Any]:
    """Layout of :func:`area_map`: one equirectangular panel, or the overview (left) and
    the close-up (right) with a dashed frame around the close-up's box on the overview."""
    hidden_axis = {"visible": False, "showgrid": False, "zeroline": False,
                   "constrain": "domain", "fixedrange": False}
    layout: dict[str, Any] = {
        "template": _TEMPLATE, "title": {"text": title, "x": 0.0, "xanchor": "left"},
        "separators": plotly_separators, "colorway": list(OKABE_ITO), "height": MAP_HEIGHT,
        "margin": {"l": 10, "r": 10, "t": 70, "b": 10}, "hovermode": "closest",
        "legend": {"orientation": "h", "y": -0.02, "yanchor": "top"}}
    boxes = [("", overview)] + ([("2", zoom)] if zoom is not None else [])
    for suffix, box in boxes:
        if box is None:
            layout["xaxis"], layout["yaxis"] = dict(hidden_axis), {**hidden_axis,
                                                                    "scaleanchor": "x"}
            continue
        lon0, lat0, lon1, lat1 = box
        mean_lat = (lat0 + lat1) / 2
        layout[f"xaxis{suffix}"] = {**hidden_axis, "range": _padded([lon0, lon1], 0.06),
                                    "domain": [0.0, 0.47] if zoom and not suffix
                                    else [0.51, 0.98] if suffix else [0.0, 0.98]}
        layout[f"yaxis{suffix}"] = {**hidden_axis, "range": _padded([lat0, lat1], 0.06),
                                    "scaleanchor": f"x{suffix}",
                                    "scaleratio": float(1 / np.cos(np.radians(mean_lat))),
                                    "domain": [0.0, 0.93] if zoom else [0.0, 1.0]}
    if zoom is not None:
        lon0, lat0, lon1, lat1 = _box_padded(zoom)
        layout["shapes"] = [{"type": "rect", "xref": "x", "yref": "y", "x0": lon0,
                             "x1": lon1, "y0": lat0, "y1": lat1,
                             "line": {"color": "#000000", "width": 1.5, "dash": "dash"}}]
        layout["annotations"] = [
            {"text": f"<b>{MAP_OVERVIEW_TITLE_SV}</b>", "xref": "x domain",
             "yref": "paper", "x": 0, "y": 1.0, "xanchor": "left", "yanchor": "bottom",
             "showarrow": False, "font": {"size": 13, "color": "#111111"}},
            {"text": f"<b>{MAP_INSET_TITLE_SV}</b> (streckad ram till vänster)",
             "xref": "x2 domain", "yref": "paper", "x": 0, "y": 1.0, "xanchor": "left",
             "yanchor": "bottom", "showarrow": False,
             "font": {"size": 13, "color": "#111111"}}]
    return layout


def _max_or_zero(values: pd.Series) -> float:
    """Largest finite value (hidden "<5" values are NaN), 0 when there is none."""
    top = pd.to_numeric(values, errors="coerce").max()
    return float(top) if pd.notna(top) else 0.0


def _padded(values: list[float], pad: float = 0.03) -> list[float] | None:
    """Axis range around ``values`` with a margin (None: let plotly choose)."""
    if not values:
        return None
    lo, hi = min(values), max(values)
    margin = (hi - lo) * pad or 0.01
    return [lo - margin, hi + margin]


#: Steps of a count axis: 1, 2 or 5 times a power of ten (counts have no half values).
_COUNT_STEPS = (1, 2, 5)


def count_step(maximum: float, intervals: int = 4) -> int:
    """Smallest 1-2-5 step (an integer >= 1) that covers ``maximum`` in ``intervals``."""
    target = max(float(maximum), 1.0) / intervals
    power = 1
    while True:
        for base in _COUNT_STEPS:
            if base * power >= target:
                return base * power
        power *= 10


def shared_count_grid(left_max: float, right_max: float, intervals: int = 4
                      ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Axis settings for two count axes whose ticks fall on the same grid lines: each axis
    gets round integer steps and both get the same number of intervals."""
    left_step, right_step = count_step(left_max, intervals), count_step(right_max, intervals)
    n = max(int(np.ceil(max(left_max, 1) / left_step)),
            int(np.ceil(max(right_max, 1) / right_step)))
    return ({"range": [0, n * left_step], "tickmode": "linear", "tick0": 0,
             "dtick": left_step},
            {"range": [0, n * right_step], "tickmode": "linear", "tick0": 0,
             "dtick": right_step})


def bars_with_line(frame: pd.DataFrame, *, x: str, bars: str, line: str, bar_name: str,
                   line_name: str, title: str, x_title: str, bar_title: str,
                   line_title: str, texts: pd.DataFrame | None = None,
                   data_until: Any = None) -> go.Figure:
    """Bars (left axis) with a line (right axis) per month, e.g. controls vs incidents.
    ``texts``: optional display texts per value column (public mode: "<5"). With
    ``data_until`` (the reference day) a month the data do not cover fully is drawn
    lighter (hatched bar, dashed line), labelled "ofullständig, t.o.m. <datum>"."""
    labels = [_month_label(v) for v in frame[x]]
    bar_txt = value_texts(frame[bars], None if texts is None or bars not in texts
                          else texts[bars])
    line_txt = value_texts(frame[line], None if texts is None or line not in texts
                           else texts[line])
    partial = partial_periods(frame[x], "M", data_until)
    traces = period_bar_traces(
        frame[x], frame[bars], partial=partial, name=bar_name, colour=colour(0),
        hover=[f"{lab}: {v} {bar_name.lower()}" for lab, v in zip(labels, bar_txt,
                                                                  strict=True)],
        data_until=data_until)
    traces += period_line_traces(
        frame[x], frame[line], partial=partial, name=line_name, colour=colour(3),
        hover=[f"{lab}: {v} {line_name.lower()}" for lab, v in zip(labels, line_txt,
                                                                   strict=True)],
        data_until=data_until, show_partial_legend=False, yaxis="y2")
    # Both axes count things: round steps on one shared grid (not 57,2 händelser).
    left, right = shared_count_grid(_max_or_zero(frame[bars]), _max_or_zero(frame[line]))
    return _figure(traces, _layout(
        title=title, x_title=x_title, y_title=bar_title, yaxis=left, barmode="overlay",
        xaxis=period_axis(frame[x], "M"),
        yaxis2={"title": {"text": line_title}, "overlaying": "y", "side": "right",
                "showgrid": False, **right},
        legend={"orientation": "h", "y": -0.2}))


def grouped_bars(frame: pd.DataFrame, *, x: str, series: Sequence[tuple[str, str]],
                 title: str, x_title: str, y_title: str,
                 texts: pd.DataFrame | None = None) -> go.Figure:
    """Grouped vertical bars: one bar per (column, Swedish name) in ``series`` per x.
    ``texts``: optional display texts per value column (public mode: "<5")."""
    traces: list[dict[str, Any]] = []
    cats = frame[x].astype(str)
    for i, (col, name) in enumerate(series):
        shown = value_texts(frame[col], None if texts is None or col not in texts
                            else texts[col])
        traces.append(_trace("bar", x=cats, y=frame[col], name=name, marker_color=colour(i),
                             text=[f"{c}: {v} ({name.lower()})"
                                   for c, v in zip(cats, shown, strict=True)],
                             hovertemplate="%{text}<extra></extra>", textposition="none"))
    # Category axis: labels such as "2024-05" must not turn it into a date axis.
    return _figure(traces, _layout(title=title, x_title=x_title, y_title=y_title,
                                   barmode="group", xaxis={"type": "category"}))


def share_lines_errorbars(frame: pd.DataFrame, *, group: str, title: str, y_title: str,
                          legend_title: str | None = None) -> go.Figure:
    """Shares per year as lines per ``group`` with 95 % CI error bars (youth indicators).
    Rows whose share is NaN (hidden: too few answers) are left out."""
    frame = frame[frame["share"].notna()]
    traces: list[dict[str, Any]] = []
    for i, g in enumerate(dict.fromkeys(frame[group])):
        sub = frame[frame[group] == g].sort_values("year")
        share = _pct(sub["share"])
        hover = [f"{g} {y}: {fmt_pct(s)} {fmt_ci(lo, hi)}<br>n = {fmt_int(n)}"
                 for y, s, lo, hi, n in zip(sub["year"], sub["share"], sub["ci_low"],
                                            sub["ci_high"], sub["n"], strict=True)]
        traces.append(_trace("scatter",
            x=sub["year"], y=share, mode="lines+markers", name=str(g),
            line={"color": colour(i)},
            error_y={"type": "data", "symmetric": False, "array": _pct(sub["ci_high"]) - share,
                     "arrayminus": share - _pct(sub["ci_low"])},
            text=hover, hovertemplate="%{text}<extra></extra>"))
    return _figure(traces, _layout(title=title, x_title="År", y_title=y_title,
                                   legend_title=legend_title,
                                   yaxis={"ticksuffix": PCT_SUFFIX, "rangemode": "tozero"},
                                   xaxis={"tickformat": "d", "dtick": 1}))


#: Line style per geography role in the comparison of official statistics.
_ROLE_STYLE = {"home": {"width": 4, "dash": "solid"}, "county": {"width": 2, "dash": "dash"},
               "riket": {"width": 2, "dash": "dot"}, "peer": {"width": 1.5, "dash": "solid"}}


def comparison_lines(frame: pd.DataFrame, *, title: str, y_title: str, periods: Sequence[str],
                     breaks: Sequence[tuple[str, str]] = (), percent: bool = False
                     ) -> go.Figure:
    """Official statistics over the periods: one line per geography (the municipality
    bold, county dashed, Riket dotted, peers thin) with 95 % CI error bars where known, and
    a vertical line with "Seriebrott" before each period in ``breaks`` ((period, text)).

    ``frame``: period, geo_name, role, value, ci_low, ci_high (``comparison`` series).
    """
    frame = frame[frame["value"].notna()]
    order = {p: i for i, p in enumerate(periods)}
    suffix = PCT_SUFFIX if percent else ""
    traces: list[dict[str, Any]] = []
    for i, (raw_name, sub) in enumerate(frame.groupby("geo_name", sort=False)):
        # plotly reads some HTML tags (<a href>) in names: the data's text is escaped
        name = html.escape(str(raw_name), quote=False)
        sub = sub.sort_values("period", key=lambda s: s.map(order))
        role = str(sub["role"].iloc[0])
        value = sub["value"].to_numpy(dtype="float64")
        low = sub["ci_low"].to_numpy(dtype="float64")
        high = sub["ci_high"].to_numpy(dtype="float64")
        hover = [f"{name} {p}: {fmt_float(v, 1)}{suffix}"
                 + (f" {fmt_ci(lo, hi, pct=False)}" if np.isfinite(lo) else "")
                 for p, v, lo, hi in zip(sub["period"], value, low, high, strict=True)]
        traces.append(_trace("scatter",
            x=sub["period"].astype(str).tolist(), y=value, mode="lines+markers",
            name=str(name), line={"color": colour(i), **_ROLE_STYLE.get(role, {})},
            error_y={"type": "data", "symmetric": False,
                     "array": np.where(np.isfinite(high), high - value, 0.0),
                     "arrayminus": np.where(np.isfinite(low), value - low, 0.0),
                     "visible": bool(np.isfinite(low).any())},
            text=hover, hovertemplate="%{text}<extra></extra>"))
    shapes, notes = [], []
    for period, text in breaks:
        if period not in order:
            continue
        x = order[period] - 0.5
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x,
                       "y0": 0, "y1": 1, "line": {"color": "#555", "dash": "dash",
                                                  "width": 1}})
        notes.append({"x": x, "y": 1, "xref": "x", "yref": "paper", "text": "Seriebrott",
                      "hovertext": text, "showarrow": False, "xanchor": "left",
                      "yanchor": "bottom", "font": {"size": 11, "color": "#555"}})
    return _figure(traces, _layout(
        title=title, x_title="Period", y_title=y_title, legend_title="Geografi",
        xaxis={"type": "category", "categoryorder": "array", "categoryarray": list(periods)},
        yaxis={"ticksuffix": suffix, "rangemode": "tozero"},
        shapes=shapes, annotations=notes))


def figure_values(fig: go.Figure) -> list[list[Any]]:
    """The y (or x for horizontal bars) values of every trace — for tests and checks."""
    out = []
    for trace in fig.data:
        horizontal = getattr(trace, "orientation", None) == "h"
        vals = trace.x if horizontal else getattr(trace, "y", None)
        out.append(list(vals) if vals is not None else [])
    return out


def incident_trend(table: pd.DataFrame, granularity: str = "M", *,
                   title: str | None = None, data_until: Any = None) -> go.Figure:
    """Bars of incidents per period (``est.incidents_per_period``: period_start, period,
    antal; hidden counts NaN) with Swedish ticks. With ``data_until`` (the reference day) a
    period the data do not cover fully is drawn lighter, "ofullständig, t.o.m. <datum>"."""
    gran = granularity if granularity in UNIT_WORDS else "M"
    unit = UNIT_WORDS[gran]
    hover = [f"{p}: {v} händelser" for p, v in zip(table["period"],
                                                  value_texts(table["antal"]), strict=True)]
    return period_bars(table, x="period_start", y="antal", gran=gran,
                       title=title or f"Händelser (EST) per {unit}", x_title=unit.capitalize(),
                       y_title="Antal händelser", name="Händelser", hover=hover,
                       data_until=data_until, height=340)


#: FigureSpec.kind -> builder (each takes the spec's data first, its options as keywords).
BUILDERS = {
    "share_trend": share_trend,
    "ranked_share_bars": ranked_share_bars,
    "bar_chart": bar_chart,
    "grouped_bars": grouped_bars,
    "incident_trend": incident_trend,
    "period_bars": period_bars,
    "bars_with_line": bars_with_line,
    "share_lines_errorbars": share_lines_errorbars,
    "comparison_lines": comparison_lines,
}


def build(spec: FigureSpec) -> go.Figure:
    """The plotly figure of a section's figure spec (``hjo_data.sections``)."""
    return BUILDERS[spec.kind](spec.data, **dict(spec.options))

