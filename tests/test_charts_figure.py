"""ui.charts.plotly_input: a cached figure is serialised once, and Streamlit sends exactly
the chart spec it sends for the figure itself (same bytes, every session)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from streamlit.testing.v1 import AppTest

from hjo_data import figures
from ui.charts import plotly_input


def _figures() -> list[go.Figure]:
    """Figures as the pages build them: numpy arrays, text labels, a CI band, dates."""
    shares = pd.DataFrame({"year": [2022, 2024], "share": [0.2, 0.25], "ci_low": [0.15, 0.2],
                           "ci_high": [0.26, 0.31], "n": [300, 280]})
    week = pd.DataFrame({"group": ["brand", "klotter"], "count": [30, 2],
                         "baseline": [1.0, 2.0], "last_year": [0, 1],
                         "significant": [True, False],
                         "change": ["ökning utanför slumpvariationen", "inom"]})
    dated = go.Figure(go.Scatter(x=pd.date_range("2025-01-01", periods=40, freq="W"),
                                 y=list(range(40)), text=[f"<{i}" for i in range(40)]))
    return [figures.share_trend(shares, group=None, title="Andel otrygga", y_title="Andel"),
            figures.est_week_bars(week, title="Vecka", group_title="Kategori"), dated]


class _Counting(go.Figure):
    calls = 0

    def to_dict(self) -> dict:
        type(self).calls += 1
        return super().to_dict()


def test_the_figure_is_serialised_once_per_figure_object() -> None:
    fig = _Counting(_figures()[1])
    first = plotly_input(fig).to_dict()
    for _ in range(5):
        assert plotly_input(fig).to_dict() is first
    assert _Counting.calls == 1
    assert first == go.Figure(_figures()[1]).to_dict()


def test_other_inputs_pass_through_unchanged() -> None:
    spec = {"data": [{"type": "bar", "y": [1, 2]}]}
    assert plotly_input(spec) is spec
    assert plotly_input(None) is None


def _script() -> None:
    import streamlit as st

    from tests.test_charts_figure import _figures
    from ui.charts import plotly_input

    for i, fig in enumerate(_figures()):
        st.plotly_chart(fig, key=f"direct{i}")
        st.plotly_chart(plotly_input(fig), key=f"memo{i}")
        st.plotly_chart(plotly_input(fig), key=f"again{i}")  # the kept dict, reused


def test_streamlit_sends_the_same_spec_as_for_the_figure() -> None:
    at = AppTest.from_function(_script, default_timeout=60)
    at.run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 9
    for i in range(3):
        direct, memo, again = (c.proto.spec for c in charts[3 * i:3 * i + 3])
        assert direct == memo == again
        assert len(direct) > 100
