"""The report picker on Lägesbild preselects the last COMPLETE period: a report of a month
with 3 days of data would compare nothing and look like a collapse."""

from __future__ import annotations

import calendar
from datetime import date

from tests.conftest import incidents


def test_report_picker_defaults_to_the_last_complete_period(page_app, store_with) -> None:
    last = date(2024, 5, 15)  # data run into the middle of May 2024
    store_with(incidents=incidents([("2024-03-05T12:00:00", "klotter", "Hamnen"),
                                    ("2024-04-10T12:00:00", "klotter", "Hamnen"),
                                    (f"{last.isoformat()}T12:00:00", "klotter", "Hamnen")]))
    at = page_app("lagesbild")
    at.run()
    assert not at.exception, at.exception
    months = at.selectbox(key="hjo_rap_period_M")
    assert months.options[0].startswith("maj 2024")  # the running month is offered ...
    assert "ofullständig, t.o.m. 2024-05-15" in months.options[0]
    assert months.value == "2024-04"  # ... but April, the last complete one, is chosen
    # Independent check: May is not complete on the last data day.
    assert last.day < calendar.monthrange(last.year, last.month)[1]
    at.selectbox(key="hjo_rap_gran").set_value("Q").run()
    quarters = at.selectbox(key="hjo_rap_period_Q")
    assert quarters.value == "2024-Q1"
    at.selectbox(key="hjo_rap_gran").set_value("W").run()
    # 2024-05-15 is a Wednesday of ISO week 20: week 19 is the last complete week.
    assert at.selectbox(key="hjo_rap_period_W").value == f"2024-W{last.isocalendar()[1] - 1:02d}"
