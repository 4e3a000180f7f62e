"""Charts on a page: ``show_figure`` (chart, source/date caption, "Visa data" table with
CSV download), the plotly config (Swedish toolbar and month names, PNG download)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date

import pandas as pd
import streamlit as st
from plotly.basedatatypes import BaseFigure

from hjo_data.chart_text import describe_figure
from hjo_data.disclosure import (
    AudienceTable,
    DisclosureError,
    DisclosureSettings,
    RowLevelNotPublicError,
    TableKind,
    table_for_audience,
)
from hjo_data.export import to_csv_bytes
from hjo_data.figures import PLOTLY_SV_LOCALE
from hjo_data.sections import Section
from ui.auth import current_audience, md_escape
from ui.context import disclosure_settings


def format_data_date(value: date | int | str | None) -> str:
    """"2024-05-01" for dates, "2024" for years, "okänt datum" when missing."""
    if value is None:
        return "okänt datum"
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


_SV_ASCII = str.maketrans({"å": "a", "ä": "a", "ö": "o", "Å": "A", "Ä": "A", "Ö": "O"})


def image_file_name(text: str) -> str:
    """File name (without .png) for a chart's PNG download: "handelser-per-manad"."""
    ascii_text = unicodedata.normalize("NFKD", str(text).translate(_SV_ASCII))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:80].strip("-")
    return slug or "diagram"



def chart_config(name: str) -> dict[str, object]:
    """Plotly config: Swedish toolbar (locale "sv": "Ladda ner som PNG", "Zooma", ...) and
    month names on date axes, PNG download with a Swedish file name, no plotly logo."""
    return {
        "displaylogo": False,
        "displayModeBar": True,
        "locale": "sv",
        "locales": {"sv": PLOTLY_SV_LOCALE},
        "toImageButtonOptions": {"format": "png", "filename": image_file_name(name),
                                 "scale": 2},
        "modeBarButtonsToRemove": ["lasso2d", "select2d", "sendDataToCloud"],
    }


_PLOTLY_DICT = "_hjo_plotly_dict"  # the figure's to_dict(), kept on the (cached) figure


class _SerialisedFigure(BaseFigure):
    """What ``st.plotly_chart`` gets for a figure: a plotly figure whose ``to_dict()`` is
    the figure's dict computed once per figure object. Streamlit calls ``to_dict()`` (a
    deep copy with every array base64-encoded) on each call; the figures are cached and
    shared by every session (read-only), so that copy was per-session work on every rerun
    (about a tenth of a page's server time, benchmarks/bench_load.py). The chart spec sent
    is the same (tests/test_charts_figure.py)."""

    def __init__(self, figure_dict: dict[str, object]) -> None:  # no validation: done
        self._hjo_figure_dict = figure_dict

    def to_dict(self) -> dict[str, object]:
        return self._hjo_figure_dict


def plotly_input(figure: object) -> object:
    """``figure`` for ``st.plotly_chart``: a plotly figure as its dict, serialised once
    per figure object (other inputs unchanged). Treat the figure as read-only afterwards."""
    if not isinstance(figure, BaseFigure):
        return figure
    frozen = getattr(figure, _PLOTLY_DICT, None)
    if frozen is None:
        frozen = figure.to_dict()
        setattr(figure, _PLOTLY_DICT, frozen)
    return _SerialisedFigure(frozen)


def _figure_title(fig: object) -> str:
    try:
        return str(fig.layout.title.text or "")  # type: ignore[attr-defined]
    except AttributeError:
        return ""


def show_text_alternative(figure: object, key: str) -> None:
    """The chart in words under it (WCAG 1.1.1), from the figure's own (disclosed) values:
    ``hjo_data.chart_text.describe_figure``. Plain text: data values are escaped."""
    text = describe_figure(figure)
    if text:
        st.caption(md_escape(text))


def show_figure(fig: object | Callable[[pd.DataFrame], object], table: pd.DataFrame, *,
                source: str, data_date: date | int | str | None, key: str,
                title: str | None = None, kind: TableKind | None = None,
                audience: str | None = None, settings: DisclosureSettings | None = None,
                count_columns: Iterable[str] | None = None) -> None:
    """Chart + "Källa: … · Data t.o.m. …" + a "Visa data" expander with table and CSV.

    With ``kind`` ("counts" | "shares" | "rows") the table goes through
    ``table_for_audience`` for ``audience`` (default: the session's, e.g. public): small
    counts "<5", few answers "för få svar", row-level data refused in public mode. ``fig``
    may be a function of the (suppressed) numeric table, so the chart shows no hidden
    value either. Without ``kind`` the table is shown as given (the caller made it safe).
    The chart has a "Ladda ner som PNG" button (plotly toolbar, Swedish file name) and
    a text alternative under it (``show_text_alternative``).
    """
    if title:
        st.subheader(title)
    aud = audience or current_audience()
    safe: AudienceTable | None = AudienceTable(table, table)
    refused = ""
    if kind is not None:
        try:
            safe = table_for_audience(table, aud, kind, settings or disclosure_settings(),
                                      count_columns=count_columns)
        except RowLevelNotPublicError as err:
            safe, refused = None, str(err)
        except DisclosureError as err:
            safe, refused = None, f"Tabellen visas inte i publikt läge. {err}"
    figure = fig(safe.numeric if safe is not None else table.iloc[0:0]) if callable(fig) \
        else fig
    if safe is None and callable(fig):
        figure = None
    if figure is not None:
        name = title or _figure_title(figure) or key
        st.plotly_chart(plotly_input(figure), key=key, config=chart_config(name))
        show_text_alternative(figure, key)
    st.caption(f"Källa: {source} · Data t.o.m. {format_data_date(data_date)}")
    with st.expander("Visa data"):
        if safe is None:
            st.info(refused, icon=":material/lock:")
            return
        st.dataframe(safe.display, hide_index=True, key=f"{key}_table")
        if safe.note:
            st.caption(safe.note)
        # Lazy: the bytes are built when the button is clicked, not on every rerun
        # (~5–30 ms per table, ~7 tables per page).
        display = safe.display
        st.download_button("Ladda ner CSV", data=lambda: to_csv_bytes(display),
                           file_name=f"{key}.csv", mime="text/csv", key=f"{key}_csv",
                           icon=":material/download:")


def show_section(section: Section, figure: object | None) -> None:
    """A ``hjo_data.sections.Section``: its figure (built by ``figures.build``), source
    caption and "Visa data" table as given (already safe for the audience), then its
    notes; the section's own text when it is empty."""
    if section.is_empty:
        st.info(section.empty, icon=":material/info:")
        return
    show_figure(figure, section.table, source=section.source, data_date=section.data_date,
                key=section.key)
    if section.note:
        st.caption(section.note)
