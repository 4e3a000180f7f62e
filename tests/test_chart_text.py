"""Text alternatives of charts (``hjo_data.chart_text``): the sentence names the values the
chart draws — hand-made frames, expected values written out by hand — and never a hidden
(public "<5") value; every chart on the pages gets one (AppTest)."""

from __future__ import annotations

import json
import re
from datetime import date

import numpy as np
import pandas as pd
import pytest

from hjo_data import figures
from hjo_data.chart_text import describe_figure
from hjo_data.disclosure import DisclosureSettings, prepare_table


def test_period_bars_latest_previous_highest_and_partial() -> None:
    table = pd.DataFrame({"period_start": pd.date_range("2025-01-01", periods=5, freq="MS"),
                          "period": ["jan", "feb", "mar", "apr", "maj"],
                          "antal": [9.0, 4.0, 7.0, 8.0, 2.0]})
    text = describe_figure(figures.incident_trend(table, "M", title="Händelser per månad",
                                                  data_until=date(2025, 5, 10)))
    assert text.startswith("Diagram: Händelser per månad. ")
    # May is partial (data to 10 May): named as such, the latest whole month is April.
    assert "Maj 2025 (ofullständig period): 2" in text
    assert "senaste hela period april 2025: 8" in text
    assert "dessförinnan mars 2025: 7" in text
    assert "högst januari 2025: 9" in text  # higher than the two latest


def test_hidden_value_is_named_not_shown() -> None:
    """Public mode: the figure holds NaN for a hidden count; the text says "visas inte"
    and never the true count."""
    counts = pd.DataFrame({"antal": [140, 160, 3]},
                          index=pd.date_range("2025-01-01", periods=3, freq="MS"))
    prepared = prepare_table(counts, "public", DisclosureSettings(), kind="counts")
    assert np.isnan(prepared.numeric["antal"].iloc[2])  # 3 is below the threshold
    table = prepared.numeric.reset_index(names="period_start").assign(period="x")
    text = describe_figure(figures.incident_trend(table, "M"))
    assert "Senast mars 2025: visas inte" in text
    assert ": 3" not in text
    shown = prepared.numeric["antal"].iloc[1]  # published (perturbed) or hidden as well
    assert f"dessförinnan februari 2025: {'visas inte' if np.isnan(shown) else int(shown)}" \
        in text
    bars = pd.DataFrame({"area": ["A", "B", "C"], "count": [np.nan, 6.0, 11.0]})
    text = describe_figure(figures.bar_chart(bars, x="count", y="area", title="Per område",
                                             x_title="Antal", y_title=None))
    assert text == "Diagram: Per område. Högst C: 11, lägst B: 6 (1 värde visas inte)."


def test_share_lines_per_group_with_percent() -> None:
    frame = pd.DataFrame({"year": [2022, 2023, 2024] * 2,
                          "sex": ["Kvinnor"] * 3 + ["Män"] * 3,
                          "share": [0.30, 0.25, 0.20, 0.10, 0.12, 0.15],
                          "ci_low": [0.2] * 6, "ci_high": [0.4] * 6, "n": [100] * 6})
    text = describe_figure(figures.share_trend(frame, group="sex", title="Otrygga",
                                               y_title="Andel"))
    assert "Kvinnor: senast 2024: 20\u00a0%, dessförinnan 2023: 25\u00a0%, högst 2022: " \
           "30\u00a0%" in text
    assert "Män: senast 2024: 15\u00a0%, dessförinnan 2023: 12\u00a0%" in text
    assert "Män: senast 2024: 15\u00a0%, dessförinnan 2023: 12\u00a0%, högst" not in text
    assert "95" not in text  # the CI band is not a series


def test_heatmap_most_and_fewest() -> None:
    grid = pd.DataFrame([[0.0, 5.0], [2.0, 9.0]], index=[0, 1], columns=[0, 12])
    text = describe_figure(figures.weekday_hour_heatmap(grid, title="När", hours_per_cell=12))
    assert text == ("Diagram: När. Flest tis kl. 12–00: 9 händelser; "
                    "färst mån kl. 00–12: 0 händelser.")


def test_markup_in_titles_is_plain() -> None:
    bars = pd.DataFrame({"area": ["A", "B"], "count": [1.0, 2.0]})
    fig = figures.bar_chart(bars, x="count", y="area", title="Rad ett<br>rad två",
                            x_title="n", y_title=None)
    assert "<br>" not in describe_figure(fig)


def test_figure_without_values() -> None:
    assert describe_figure(figures.new_figure()) == ""


def plain(title: str) -> str:
    return re.sub(r"\s*<br\s*/?>\s*", " ", title)


def _unescaped(text: str) -> str:
    return text.replace("\\", "")


@pytest.mark.parametrize("name", ["trygghet", "handelser", "trafik", "aktiviteter"])
def test_every_chart_on_a_page_has_a_text_alternative(page_app, name: str) -> None:  # noqa: ANN001
    at = page_app(name)
    at.run(timeout=60)
    assert not at.exception, at.exception
    charts = at.get("plotly_chart")
    assert charts
    alternatives = [_unescaped(c.value) for c in at.caption if
                    _unescaped(c.value).startswith("Diagram: ")]
    assert len(alternatives) == len(charts), (len(charts), alternatives)
    for chart, text in zip(charts, alternatives, strict=True):
        # In page order, each under its own chart: it names the chart's title.
        title = json.loads(chart.proto.spec)["layout"]["title"]["text"]
        assert text.startswith(f"Diagram: {plain(title)}. "), (title, text)
        assert len(text) > len(f"Diagram: {title}. ") + 5, text


def test_series_with_every_value_hidden_is_named() -> None:
    table = pd.DataFrame({"group": ["a", "b"], "count": [np.nan, np.nan],
                          "baseline": [2.0, 3.0], "last_year": [4.0, 1.0],
                          "significant": [False, False], "change": ["", ""]})
    text = describe_figure(figures.est_week_bars(table, title="Veckan", group_title="Grupp"))
    assert "Senaste veckan: inga värden visas" in text
    assert "Snitt föregående 4 veckor: högst b: 3, lägst a: 2" in text
    assert "Samma vecka i fjol: högst a: 4, lägst b: 1" in text
