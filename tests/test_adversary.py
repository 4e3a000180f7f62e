"""An automated adversary against the public surfaces (issue 13, docs/PRIVACY.md).

A seeded store has small counts in several areas, categories, sources and months. The
test collects every public figure the surfaces publish for every public selection
(period, area, category, source, "all"): the Händelser sections (reporters, map, monthly
lines, weekly tables, hotspots), the lägesbild trend, the report's tables and the CLI's
public exports. For each figure it works out, by hand from the rows, WHICH incidents the
figure counts (a set of row numbers). Then it attacks the way a reader could:

* differencing: for every two figures where one set contains the other, the difference
  A - B is the count of A's extra incidents (intersected with a figure for exactly those
  incidents, when one is published);
* totals minus the shown cells: for every table whose cells partition a published total,
  each cell = total - the other cells.

The attacker knows the published rules: a figure shown as a number p means the true count
lies in [max(threshold, p - MAX_NOISE), p + MAX_NOISE] (MAX_NOISE = 0: exact figures);
"<5" means 0..4+MAX_NOISE, or 1.. when the surfaces also print a bare "0"; ".." means any
count. A derivation pins a count when its possible values shrink to one number. The test
asserts that no derivation pins a count of 1..4.

On the previous design (exact numbers, "<5" = 1..4, secondary suppression ".." per table)
the same test finds 129 pinned counts and fails the two named cases.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from datetime import date, datetime
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from hjo_data import disclosure as dc
from hjo_data import est, periods, sections
from hjo_data import est_sections as sec
from hjo_data import export as ex
from hjo_data import report as rep
from hjo_data.disclosure import DisclosureSettings
from hjo_data.filters import Filters, apply_filters
from tests.conftest import canonical, make_promise

SETTINGS = DisclosureSettings()
#: The rules the attacker knows: the published noise bound (0 = exact figures).
NOISE = int(getattr(dc, "MAX_NOISE", 0))
T = SETTINGS.threshold
AREAS = ("Hamnen", "Mofalla", "Hjo centrum", "Korsberga")
CATEGORIES = ("klotter", "skadegörelse", "övrigt", "brand")
SOURCES = ("kommun", "polis")
MONTHS = ((2026, 9), (2026, 10), (2026, 11))
DATA_END = date(2026, 11, 29)


def seeded_incidents(seed: int = 13) -> pd.DataFrame:
    """Small counts (Poisson 0.7) per area × category × source × month, Hamnen's klotter
    larger (6..9 a month), each incident on a seeded day and hour."""
    rng = np.random.default_rng(seed)
    rows = []
    for year, month in MONTHS:
        for area in AREAS:
            for cat in CATEGORIES:
                for src in SOURCES:
                    n = int(rng.integers(6, 10)) if (area, cat, src) == (
                        "Hamnen", "klotter", "kommun") else int(rng.poisson(0.7))
                    last = 29 if month == 11 else 28
                    for _ in range(n):
                        rows.append({"occurred_at": datetime(year, month,
                                                             int(rng.integers(1, last + 1)),
                                                             int(rng.integers(0, 24))),
                                     "category": cat, "area": area, "source": src})
    rows.append({"occurred_at": datetime(*DATA_END.timetuple()[:3], 12), "category": "klotter",
                 "area": "Hamnen", "source": "kommun"})
    frame = canonical("incidents", rows)
    frame["incident_id"] = [f"ADV-{i:04d}" for i in range(len(frame))]
    frame["record_id"] = frame["incident_id"]
    return frame.sort_values("occurred_at", kind="stable", ignore_index=True)


# --------------------------------------------------------------------------- figures

class Board:
    """Every published figure: record set (an int bitmask of row numbers) -> shown texts,
    plus the tables (total set, cell sets) whose cells partition a total."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.bit = {rid: 1 << i for i, rid in enumerate(frame["record_id"])}
        self.shown: dict[int, set[str]] = defaultdict(set)
        self.tables: list[list[int]] = []

    def mask(self, rows: pd.DataFrame) -> int:
        m = 0
        for rid in rows["record_id"]:
            m |= self.bit[rid]
        return m

    def add(self, rows: pd.DataFrame, text: object) -> int:
        m = self.mask(rows)
        self.shown[m].add(str(text).replace("\u00a0", " ").strip())
        return m

    def table(self, cells: list[int]) -> None:
        self.tables.append(cells)


def rows_in(frame: pd.DataFrame, flt: Filters) -> pd.DataFrame:
    """The rows a selection covers (period bounds: whole days, end day included)."""
    return apply_filters(frame, "incidents", flt)


def month_range(i: int, j: int) -> tuple[date, date]:
    (y0, m0), (y1, m1) = MONTHS[i], MONTHS[j]
    return date(y0, m0, 1), (pd.Timestamp(y1, m1, 1) + pd.offsets.MonthEnd(0)).date()


def public_selections() -> list[Filters]:
    """Every whole-month period (and "all") with each area, each category, each source
    (one at a time, the others "all"); and for the whole period every area × category ×
    source combination."""
    spans = [(None, None)] + [month_range(i, j) for i in range(len(MONTHS))
                              for j in range(i, len(MONTHS))]
    out = []
    for start, end in spans:
        out.append(Filters(start=start, end=end))
        out += [Filters(start=start, end=end, areas=(a,)) for a in AREAS]
        out += [Filters(start=start, end=end, categories=(c,)) for c in CATEGORIES]
        out += [Filters(start=start, end=end, sources=(s,)) for s in SOURCES]
    for area in (None, *AREAS):
        for cat in (None, *CATEGORIES):
            for src in (None, *SOURCES):
                if sum(x is not None for x in (area, cat, src)) >= 2:
                    out.append(Filters(areas=(area,) if area else (),
                                       categories=(cat,) if cat else (),
                                       sources=(src,) if src else ()))
    return out


def collect_handelser(board: Board, flt: Filters) -> None:
    """Reporters, map and monthly lines of one Händelser selection."""
    frame = board.frame
    sel = rows_in(frame, flt)
    if sel.empty:
        return
    cube = est.incident_cube(frame).select(flt)
    sources = sec.sources_section(cube, "public", SETTINGS).table
    board.table([board.add(sel[sel["source"] == g], v)
                 for g, v in zip(sources["Rapportör"], sources["Antal"], strict=True)])
    population, geojson = sec.reference_data()
    years = est.covered_years(est.incident_cube(frame), flt.start, flt.end)
    areas = sec.map_section(cube, population, geojson or {"type": "FeatureCollection",
                                                           "features": []},
                            years, "public", SETTINGS).table
    board.table([board.add(sel[sel["area"] == g], v)
                 for g, v in zip(areas["Område"], areas["Antal"], strict=True)])
    monthly = sec.monthly_section(cube, "public", SETTINGS, DATA_END).table
    month_of = sel["occurred_at"].dt.strftime("%Y-%m")
    per_month: dict[str, list[int]] = defaultdict(list)
    for m, g, v in zip(monthly["Månad"], monthly["Kategori"], monthly["Antal"], strict=True):
        per_month[m].append(board.add(sel[(month_of == m) & (sel["category"] == g)], v))
    for cells in per_month.values():
        board.table(cells)


def collect_weekly(board: Board, flt: Filters) -> None:
    """The weekly tables (per category and per area) and hotspots of one selection (the
    weekly comparison ignores the period filter, as on the page)."""
    frame = board.frame
    no_period = Filters(areas=flt.areas, categories=flt.categories, sources=flt.sources)
    sel = rows_in(frame, no_period)
    if sel.empty:
        return
    cube = est.incident_cube(frame).select(no_period)
    as_of = periods.reference_day(DATA_END)
    when = sel["occurred_at"]
    for by in ("category", "area"):
        week, prepared = sec.weekly(cube, as_of, by, "public", SETTINGS)
        w0 = pd.Timestamp(week.week_start)
        spans = {"count": [(w0, w0 + pd.Timedelta(days=7))],
                 "last_year": [(w0 - pd.Timedelta(days=364), w0 - pd.Timedelta(days=357))],
                 "baseline_total": [(w0 - pd.Timedelta(days=28), w0)]}
        for col, windows in spans.items():
            in_window = np.zeros(len(sel), dtype=bool)
            for lo, hi in windows:
                in_window |= ((when >= lo) & (when < hi)).to_numpy()
            cells = []
            for group, shown in zip(prepared.display["group"], prepared.display[col],
                                    strict=True):
                if col == "baseline_total":  # shown as the 4-week mean ("Snitt 4 veckor")
                    mean = prepared.display["baseline"][prepared.display["group"] == group]
                    text = str(mean.iloc[0])
                    shown = text if not _is_number(text) else _fmt(_num(text) * 4)
                part = sel[in_window] if group == "Totalt" else \
                    sel[in_window & (sel[by] == group).to_numpy()]
                m = board.add(part, shown)
                if group != "Totalt":
                    cells.append(m)
            board.table(cells)
    population, _ = sec.reference_data()
    spots = sec.hotspots_section(cube, population, as_of, "public", SETTINGS)
    if spots is not None:
        end = pd.Timestamp(periods.latest_complete_period(as_of, "W")[1])
        start = end - pd.Timedelta(days=28)
        base_lo = start - pd.Timedelta(days=28 * est.BASELINE_WEEKS)
        for area, count, mean in zip(spots.table["Område"], spots.table["Antal (4 veckor)"],
                                     spots.table["Snitt tidigare 4-veckorsperioder"],
                                     strict=True):
            here = sel[sel["area"] == area]
            board.add(here[(here["occurred_at"] >= start) & (here["occurred_at"] < end)], count)
            total = _fmt(_num(str(mean)) * 4) if _is_number(str(mean)) \
                else mean
            board.add(here[(here["occurred_at"] >= base_lo) & (here["occurred_at"] < start)],
                      total)


def collect_trend(board: Board, flt: Filters) -> None:
    """The lägesbild trend section (per month) of one selection."""
    sel = rows_in(board.frame, flt)
    if sel.empty:
        return
    section = sections.incident_trend_section(sel, granularity="M", audience="public",
                                              disclosure=SETTINGS, data_date=DATA_END)
    if section.is_empty:
        return
    month_of = sel["occurred_at"].dt.strftime("%Y-%m")
    for start, shown in zip(section.numeric["period_start"], section.table["Antal händelser"],
                            strict=True):
        board.add(sel[month_of == pd.Timestamp(start).strftime("%Y-%m")], shown)


def collect_exports(board: Board) -> None:
    """``python -m hjo_data export`` in public mode, for every grouping it offers."""
    frame = board.frame.assign(månad=board.frame["occurred_at"].dt.strftime("%Y-%m"))
    for by in (("area",), ("category",), ("source",), ("månad", "category"),
               ("månad", "area"), ("area", "category"), ("category", "source")):
        text = ex.export_aggregate(frame, "incidents", by, "public").decode("utf-8-sig")
        lines = [line.split(";") for line in text.strip().splitlines()]
        header = lines[0]
        grid: dict[tuple[str, str], int] = {}
        for line in lines[1:]:
            row = frame if line[0] == "Totalt" else frame[frame[by[0]] == line[0]]
            for col, shown in zip(header[1:], line[1:], strict=True):
                cell = row if len(by) == 1 or col == "Totalt" else row[row[by[1]] == col]
                grid[(line[0], col)] = board.add(cell, shown)
        row_labels = [line[0] for line in lines[1:] if line[0] != "Totalt"]
        col_labels = [c for c in header[1:] if c != "Totalt"]
        if len(by) == 1:
            board.table([grid[(r, header[1])] for r in row_labels])
        else:
            for r in [*row_labels, "Totalt"]:
                board.table([grid[(r, c)] for c in col_labels])
            for c in [*col_labels, "Totalt"]:
                board.table([grid[(r, c)] for r in row_labels])


def collect_report(board: Board) -> None:
    """The report's category and area tables for every month."""
    frame = board.frame
    promise = make_promise([{"id": "g", "title": "G"}])
    for year, month in MONTHS:
        period = periods.parse_period(f"{year}-{month:02d}")
        report = rep.build_report({"incidents": frame}, period, promise=promise,
                                  today=date(2026, 12, 3))
        sel = frame[(frame["occurred_at"].dt.year == year)
                    & (frame["occurred_at"].dt.month == month)]
        for chart in report.charts:
            table = chart.table.frame if chart.table is not None else None
            if table is None or "Antal" not in table.columns:
                continue
            column = {"Kategori": "category", "Område": "area"}.get(table.columns[0])
            if column is None:
                continue
            cells = []
            for label, shown in zip(table.iloc[:, 0], table["Antal"], strict=True):
                m = board.add(sel if label == "Totalt" else sel[sel[column] == label], shown)
                if label != "Totalt":
                    cells.append(m)
            board.table(cells)


def _is_number(text: str) -> bool:
    return re.fullmatch(r"-?\d[\d\s\u00a0]*([,.]\d+)?", text.strip()) is not None


def _num(text: str) -> float:
    return float(text.replace(" ", "").replace("\u00a0", "").replace(",", "."))


def _fmt(value: float) -> str:
    return str(int(round(value)))


# --------------------------------------------------------------------------- the attacker

def bounds(texts: set[str], zero_printed: bool) -> tuple[float, float]:
    """What the attacker knows of a true count from the figure(s) published for it."""
    lo, hi = 0.0, math.inf
    for text in texts:
        if text == SETTINGS.small_mark:
            a, b = (1.0 if zero_printed else 0.0), float(T - 1 + NOISE)
        elif text in (dc.SECONDARY_MARK, "", "–"):
            a, b = 0.0, math.inf
        else:
            p = _num(text)
            a, b = ((p, p) if p == 0 or NOISE == 0
                    else (max(float(T), p - NOISE), p + NOISE))
        lo, hi = max(lo, a), min(hi, b)
    return lo, hi


def pinned(lo: float, hi: float) -> int | None:
    """The count when the possible values are one small number (1..threshold-1)."""
    if lo == hi and 1 <= lo <= T - 1:
        return int(lo)
    return None


def attack(board: Board) -> list[str]:
    zero_printed = any("0" in texts for texts in board.shown.values())
    known = {m: bounds(texts, zero_printed) for m, texts in board.shown.items()}
    leaks: list[str] = []

    def size(m: int) -> int:
        return bin(m).count("1")

    # Differencing: B ⊂ A gives A - B, intersected with a figure for exactly A \ B.
    masks = sorted(known, key=size)
    for i, b in enumerate(masks):
        lo_b, hi_b = known[b]
        for a in masks[i + 1:]:
            if a & b != b or a == b:
                continue
            lo_a, hi_a = known[a]
            lo, hi = max(0.0, lo_a - hi_b), hi_a - lo_b
            rest = a & ~b
            if rest in known:
                lo, hi = max(lo, known[rest][0]), min(hi, known[rest][1])
            value = pinned(lo, hi)
            if value is not None and value == size(rest):
                leaks.append(f"difference pins {value} ({size(a)} - {size(b)} incidents)")
    # Totals minus the shown cells.
    for cells in board.tables:
        total = 0
        for c in cells:
            total |= c
        if total not in known or len(cells) < 2:
            continue
        lo_t, hi_t = known[total]
        for j, cell in enumerate(cells):
            others = [known[c] for k, c in enumerate(cells) if k != j]
            lo = max(known[cell][0], lo_t - sum(h for _, h in others))
            hi = min(known[cell][1], hi_t - sum(lo_ for lo_, _ in others))
            value = pinned(lo, hi)
            if value is not None and value == size(cell):
                leaks.append(f"total minus cells pins {value}")
    return leaks


@pytest.fixture(scope="module")
def board() -> Board:
    frame = seeded_incidents()
    b = Board(frame)
    for flt in public_selections():
        collect_handelser(b, flt)
        collect_trend(b, flt)
        if flt.start is None:
            collect_weekly(b, flt)
    collect_exports(b)
    collect_report(b)
    return b


def test_the_seeded_store_has_small_counts_everywhere(board: Board) -> None:
    """The attack has something to find: many published cells hold 1..4 incidents."""
    sizes = [bin(m).count("1") for m in board.shown]
    assert sum(1 <= s <= 4 for s in sizes) >= 40
    assert len(board.shown) >= 150 and len(board.tables) >= 150


def test_no_count_of_one_to_four_can_be_derived(board: Board) -> None:
    leaks = attack(board)
    assert not leaks, f"{len(leaks)} derivations pin a small count, e.g. {leaks[:5]}"


def test_same_records_same_published_value(board: Board) -> None:
    """One truth: a set of incidents shows one value on every surface and selection."""
    clashes = {m: t for m, t in board.shown.items()
               if len({x for x in t if x != dc.SECONDARY_MARK}) > 1}
    assert not clashes, list(clashes.values())[:5]


def test_published_values_follow_the_stated_rule(board: Board) -> None:
    """Every figure is one the stated rule allows for its true count, and the noise is
    real: at least a quarter of the counts of 5 or more are not shown exactly."""
    shown_exactly = moved = 0
    for m, texts in board.shown.items():
        n = bin(m).count("1")
        for text in texts:
            lo, hi = bounds({text}, zero_printed=False)
            assert lo <= n <= hi or (text == "0" and n == 0), (text, n)
            if _is_number(text) and n >= T:
                moved += int(_num(text) != n)
                shown_exactly += int(_num(text) == n)
    assert moved >= (moved + shown_exactly) / 4


# --------------------------------------------------------------------------- the cases

def _interval(text: str) -> tuple[float, float]:
    return bounds({text}, zero_printed=False)


def test_export_by_area_seven_plus_four_ones() -> None:
    """Issue 13: Hamnen 7 and four areas with 1 each. The old export showed Hamnen 7,
    Totalt 11 and four "<5": (11 - 7) / 4 = 1 each, by hand."""
    rows = [{"occurred_at": datetime(2026, 10, d + 1, 12), "category": "klotter",
             "area": "Hamnen", "source": "kommun"} for d in range(7)]
    rows += [{"occurred_at": datetime(2026, 10, 20, 12), "category": "klotter", "area": a,
              "source": "kommun"} for a in ("Mofalla", "Hjo centrum", "Korsberga", "Fågelås")]
    frame = canonical("incidents", rows)
    lines = ex.export_aggregate(frame, "incidents", ("area",), "public").decode(
        "utf-8-sig").strip().splitlines()
    shown = dict(line.split(";") for line in lines[1:])
    hidden = [a for a, v in shown.items() if v == SETTINGS.small_mark]
    assert sorted(hidden) == ["Fågelås", "Hjo centrum", "Korsberga", "Mofalla"]
    # The attacker: hidden sum = Totalt - Hamnen, each hidden cell 0..4+noise.
    lo_t, hi_t = _interval(shown["Totalt"])
    lo_h, hi_h = _interval(shown["Hamnen"])
    lo_sum, hi_sum = max(0.0, lo_t - hi_h), hi_t - lo_h
    each_hi = T - 1 + NOISE
    for _ in hidden:
        lo = max(0.0, lo_sum - 3 * each_hi)
        hi = min(each_hi, hi_sum)
        assert lo < hi, "a hidden area's count follows from the total"
    # And the naive reading (published = exact) does not give the truth of 1 each.
    naive = (float(shown["Totalt"]) - float(shown["Hamnen"])) / len(hidden)
    assert naive != 1.0 or NOISE > 0


def test_handelser_mofalla_minus_other_categories() -> None:
    """Issue 13: Mofalla 2026-09-01..2026-11-29 had 21 incidents, 18 of them outside
    "övrigt", so övrigt = 21 - 18 = 3 although shown as "<5"."""
    rows = []
    for i, cat in enumerate(["klotter"] * 8 + ["skadegörelse"] * 6 + ["brand"] * 4
                            + ["övrigt"] * 3):
        rows.append({"occurred_at": datetime(2026, 9 + i % 3, 3 + i, 10), "category": cat,
                     "area": "Mofalla", "source": "kommun"})
    frame = canonical("incidents", rows)
    cube = est.incident_cube(frame)
    span = dict(start=date(2026, 9, 1), end=date(2026, 11, 29), areas=("Mofalla",))
    everything = cube.where(**span)
    but_ovrigt = cube.where(**span, categories=("klotter", "skadegörelse", "brand"))
    ovrigt = cube.where(**span, categories=("övrigt",))
    assert (everything.total, but_ovrigt.total, ovrigt.total) == (21, 18, 3)  # by hand
    # The page publishes each selection's count (the reporters table; one reporter here).
    shown = [sec.sources_section(c, "public", SETTINGS).table["Antal"].iloc[0]
             for c in (everything, but_ovrigt, ovrigt)]
    assert shown[2] == SETTINGS.small_mark
    lo_a, hi_a = _interval(shown[0])
    lo_b, hi_b = _interval(shown[1])
    lo_x, hi_x = _interval(shown[2])
    lo, hi = max(lo_x, lo_a - hi_b), min(hi_x, hi_a - lo_b)
    assert lo < hi, f"övrigt pinned to {lo}"


def test_a_derivation_is_caught() -> None:
    """The attacker finds a leak when there is one: exact figures 11 and 7 with four
    cells shown "<5" (and zeros printed) pin each cell to 1."""
    b = Board(canonical("incidents", [
        {"occurred_at": datetime(2026, 10, 1, h), "category": "klotter", "area": "A",
         "source": "kommun"} for h in range(11)]))
    frame = b.frame
    ids = list(frame["record_id"])
    cells = [b.add(frame[frame["record_id"].isin(ids[:7])], "7")]
    cells += [b.add(frame[frame["record_id"] == i], "<5") for i in ids[7:]]
    b.add(frame, "11")
    b.add(frame.iloc[:0], "0")
    b.table(cells)
    exact = attack(b) if NOISE == 0 else _attack_exact(b)
    assert any("pins 1" in leak for leak in exact)


def _attack_exact(b: Board) -> list[str]:
    """``attack`` with exact figures assumed (the rule before cell-key perturbation)."""
    global NOISE
    saved, NOISE = NOISE, 0
    try:
        return attack(b)
    finally:
        NOISE = saved


def test_no_pairs_were_skipped(board: Board) -> None:
    """Sanity: the board holds nested figures to difference (hundreds of pairs)."""
    masks = list(board.shown)
    nested = sum(1 for a, b in combinations(masks[:400], 2) if a & b in (a, b))
    assert nested >= 100
