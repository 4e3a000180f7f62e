"""Tests for hjo_data.disclosure: audiences, suppression, public frames, the prepare gate."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from hjo_data import disclosure as d
from hjo_data.errors import UnknownDatasetError
from hjo_data.schema import DATASETS

NBSP = "\u00a0"


def sv_int(value: int) -> str:
    """Reference Swedish integer formatting, written independently of the module."""
    return f"{value:,}".replace(",", NBSP)


# --------------------------------------------------------------------------- audience


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HJO_MODE": "official"}, "official"),
        ({"HJO_MODE": " Official "}, "official"),
        ({"HJO_MODE": "public"}, "public"),
        ({"HJO_MODE": ""}, "public"),
        ({"HJO_MODE": "admin"}, "public"),
        ({}, "public"),
    ],
)
def test_audience_from_env_mapping(env: dict[str, str], expected: str) -> None:
    assert d.audience_from_env(env) == expected


def test_audience_from_process_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HJO_MODE", raising=False)
    assert d.audience_from_env() == "public"
    monkeypatch.setenv("HJO_MODE", "official")
    assert d.audience_from_env() == "official"


def test_audience_labels_and_check() -> None:
    assert d.AUDIENCE_LABEL_SV == {"public": "Publikt läge", "official": "Tjänstepersonsläge"}
    assert set(d.AUDIENCES) == {"public", "official"}
    assert d.check_audience("official") == "official"
    with pytest.raises(ValueError):
        d.check_audience("Public")


# --------------------------------------------------------------------------- settings


def test_settings_defaults_and_from_mapping() -> None:
    s = d.DisclosureSettings()
    assert (s.threshold, s.min_survey_n, s.suppress_zero) == (5, 30, False)
    assert s.small_mark == "<5"
    assert d.DisclosureSettings.from_mapping(None) == s
    assert d.DisclosureSettings.from_mapping({}) == s
    got = d.DisclosureSettings.from_mapping(
        {"small_count_threshold": 3, "Min_N": 50, "unrelated": "x"})
    assert (got.threshold, got.min_survey_n, got.suppress_zero) == (3, 50, False)
    assert got.small_mark == "<3"
    assert d.DisclosureSettings.from_mapping({"suppress_zero": True}).suppress_zero is True


@pytest.mark.parametrize("bad", [{"threshold": 0}, {"threshold": "5"}, {"threshold": True},
                                 {"min_survey_n": -1}, {"suppress_zero": "ja"}])
def test_settings_reject_bad_values(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        d.DisclosureSettings.from_mapping(bad)


# --------------------------------------------------------------------------- suppression


def table(rows: list[list[int]], index: list[str] | None = None,
          columns: list[str] | None = None) -> pd.DataFrame:
    index = index or [f"r{i}" for i in range(len(rows))]
    columns = columns or [f"c{j}" for j in range(len(rows[0]))]
    return pd.DataFrame(rows, index=index, columns=columns)


def test_nothing_to_suppress_formats_swedish() -> None:
    t = table([[1234, 0, 5], [7, 12, 99999]])
    r = d.suppress_counts(t)
    assert not r.suppressed.to_numpy().any()
    assert not r.primary.to_numpy().any()
    expected = [[sv_int(v) for v in row] for row in t.to_numpy().tolist()]
    assert r.display.to_numpy().tolist() == expected
    assert r.display.loc["r0", "c0"] == "1\u00a0234"
    assert r.display.loc["r0", "c1"] == "0"  # zero is not disclosive: shown
    np.testing.assert_array_equal(r.numeric.to_numpy(), t.to_numpy().astype(float))


def test_single_small_cell_gets_a_partner_in_row_and_column() -> None:
    # Without secondary suppression r0c0 = row total - 20 - 30 could be recomputed.
    t = table([[2, 20, 30], [40, 50, 60], [70, 80, 90]])
    r = d.suppress_counts(t)
    sup = r.suppressed.to_numpy()
    assert r.display.loc["r0", "c0"] == "<5"
    assert sup[0].sum() >= 2 and sup[:, 0].sum() >= 2
    # Hand-derived: the cheapest fix hides one rectangle 2/20/40/50 (20 and 40 are the
    # smallest cells >= 8 in row 0 / column 0, and they share the crossing cell 50).
    expected = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 0]], dtype=bool)
    np.testing.assert_array_equal(sup, expected)
    assert r.display.loc["r0", "c1"] == ".."
    assert r.display.loc["r1", "c1"] == ".."
    assert r.display.loc["r2", "c2"] == "90"
    assert np.isnan(r.numeric.loc["r0", "c0"]) and r.numeric.loc["r2", "c2"] == 90


def test_two_small_cells_share_partners() -> None:
    # Worked by hand: row r0 needs a partner for 3; 15 (column c2) is best because its
    # column already hides exactly one cell (2). Then row r2 needs a partner for 2; 20
    # (column c0, which hides exactly 3) fixes both. Four cells hidden in all.
    t = table([[3, 12, 15], [10, 7, 30], [20, 0, 2]])
    r = d.suppress_counts(t)
    expected = [["<5", "12", ".."], ["10", "7", "30"], ["..", "0", "<5"]]
    assert r.display.to_numpy().tolist() == expected


def test_chain_across_rows_and_columns_is_closed() -> None:
    # A zero forces the chain to go around: every row/column ends with 0 or >= 2 hidden.
    t = table([[3, 10, 9], [0, 7, 50], [8, 60, 70]])
    r = d.suppress_counts(t)
    sup = r.suppressed.to_numpy()
    assert sup.sum() > 1
    for line in [*sup, *sup.T]:
        assert line.sum() != 1
    assert not recomputable(t, r)


def test_all_small_cells() -> None:
    t = table([[1, 2], [3, 4]])
    r = d.suppress_counts(t)
    assert (r.display.to_numpy() == "<5").all()
    assert r.primary.to_numpy().all()
    assert r.secondary.to_numpy().sum() == 0


def test_threshold_and_zero_options() -> None:
    t = table([[0, 2, 3, 30], [10, 10, 10, 10]])
    r3 = d.suppress_counts(t, threshold=3)
    assert r3.display.loc["r0", "c1"] == "<3"
    assert r3.display.loc["r0", "c2"] == "3"
    assert r3.display.loc["r0", "c0"] == "0"
    rz = d.suppress_counts(t, suppress_zero=True)
    assert rz.display.loc["r0", "c0"] == "<5"
    assert rz.primary.loc["r0", "c0"]


def test_assume_totals_false_without_margins_is_primary_only() -> None:
    t = table([[2, 20, 30], [40, 50, 60]])
    r = d.suppress_counts(t, assume_totals=False)
    np.testing.assert_array_equal(r.suppressed.to_numpy(), r.primary.to_numpy())
    assert r.suppressed.to_numpy().sum() == 1


def test_margins_are_protected_and_small_margin_hidden() -> None:
    # Column total of c0 is 3 (small) -> hidden; then the totals row would expose it as
    # 20 - 17, so a second cell of the totals row must be hidden as well.
    inner = pd.DataFrame({"c0": [3, 0], "c1": [10, 7]}, index=["a", "b"])
    t = inner.copy()
    t["Totalt"] = t.sum(axis=1)
    t.loc["Totalt"] = t.sum(axis=0)
    r = d.suppress_counts(t)
    assert r.display.loc["Totalt", "c0"] == "<5"
    assert r.suppressed.loc["Totalt"].sum() >= 2
    assert r.display.loc["Totalt", "Totalt"] == "20"  # the grand total is not small
    assert not recomputable(t, r)


def test_pandas_crosstab_margins_and_label_order_kept() -> None:
    s1 = pd.Series(list("aabbbcccccccccc"))
    s2 = pd.Series(list("xyxyxyxxxxxxxxx"))
    t = pd.crosstab(s1, s2, margins=True)  # margin label "All"
    r = d.suppress_counts(t)
    assert list(r.display.index) == list(t.index)
    assert list(r.display.columns) == list(t.columns)
    assert r.display.loc["All", "All"] == sv_int(15)
    # Row c is x=9, y=1: the 1 is small, so the 9 must go too (else 10 - 9 = 1).
    assert r.display.loc["c", "y"] == "<5" and r.display.loc["c", "x"] == ".."
    # Column y's total is 3 (small); the totals row 12 + 3 = 15 then needs a partner.
    assert r.display.loc["All", "y"] == "<5" and r.display.loc["All", "x"] == ".."
    assert r.display.loc["c", "All"] == sv_int(10)
    assert not recomputable(t, r)


def test_margin_in_the_middle_is_detected() -> None:
    t = pd.DataFrame({"Totalt": [32, 60], "c0": [2, 30], "c1": [30, 30]}, index=["a", "b"])
    r = d.suppress_counts(t)
    # Row a: 2 + 30 = 32 -> both cells are hidden; the published total stays.
    assert r.display.loc["a", "c0"] == "<5"
    assert r.display.loc["a", "c1"] == ".."
    assert r.display.loc["a", "Totalt"] == "32"
    assert not recomputable(t, r)


def test_bad_values_rejected_and_nan_is_zero() -> None:
    with pytest.raises(ValueError):
        d.suppress_counts(table([[1, -2]]))
    with pytest.raises(ValueError):
        d.suppress_counts(pd.DataFrame({"a": [1.5, 2.0]}))
    r = d.suppress_counts(pd.DataFrame({"a": [np.nan, 10.0], "b": [10.0, 10.0]}))
    assert r.display.loc[0, "a"] == "0"


# ----- property test: no hidden cell can be recomputed by subtraction


def recomputable(t: pd.DataFrame, r: d.SuppressionResult, threshold: int = 5,
                 assume_totals: bool = True) -> list[tuple[object, object]]:
    """An attacker's solver, independent of the module: which hidden cells can be derived.

    Equations: every inner row sums to its row total and every inner column to its column
    total; margins are the table's own total row/column when present. A total absent from
    the table is assumed published elsewhere when ``assume_totals`` (and the line has at
    least two cells), known unless it is itself small. Repeatedly solve any equation with
    one unknown; return the hidden cells that got solved.
    """
    labels = {"totalt", "total", "all"}
    rt = next((i for i in t.index if str(i).lower() in labels), None)
    ct = next((c for c in t.columns if str(c).lower() in labels), None)
    rows = [i for i in t.index if i != rt]
    cols = [c for c in t.columns if c != ct]
    grid, mask = t.to_numpy(), r.suppressed.to_numpy()
    value = {(i, c): int(grid[a, b]) for a, i in enumerate(t.index)
             for b, c in enumerate(t.columns)}
    hidden = {(i, c) for a, i in enumerate(t.index) for b, c in enumerate(t.columns)
              if mask[a, b]}
    known = {k: v for k, v in value.items() if k not in hidden}

    def small(v: int) -> bool:
        return 0 < v < threshold

    equations: list[tuple[list[object], object]] = []  # (cells, total key or number)
    all_rows = rows + ([rt] if rt is not None else [])
    all_cols = cols + ([ct] if ct is not None else [])
    for i in all_rows:
        cells = [(i, c) for c in cols]
        if ct is not None:
            equations.append((cells, (i, ct)))
        elif assume_totals and len(cols) >= 2:  # row total (or grand total) elsewhere
            tot = sum(value[c] for c in cells)
            if not small(tot):
                equations.append((cells, tot))
    for c in all_cols:
        cells = [(i, c) for i in rows]
        if rt is not None:
            equations.append((cells, (rt, c)))
        elif assume_totals and len(rows) >= 2:
            tot = sum(value[x] for x in cells)
            if not small(tot):
                equations.append((cells, tot))
    progress = True
    while progress:
        progress = False
        for cells, total in equations:
            keys = list(cells) + ([total] if isinstance(total, tuple) else [])
            unknown = [k for k in keys if k not in known]
            if len(unknown) != 1:
                continue
            tot = known[total] if isinstance(total, tuple) and total in known else total
            (u,) = unknown
            if u == total:
                known[u] = sum(known[k] for k in cells)
            else:
                known[u] = int(tot) - sum(known[k] for k in cells if k != u)  # type: ignore[arg-type]
            progress = True
    return [k for k in value if k in hidden and k in known]


def random_table(rng: np.random.Generator, margins: bool) -> pd.DataFrame:
    n_rows, n_cols = rng.integers(1, 7), rng.integers(1, 7)
    kind = rng.choice(3, size=(n_rows, n_cols), p=[0.25, 0.35, 0.40])
    values = np.where(kind == 0, 0, np.where(kind == 1, rng.integers(1, 5, (n_rows, n_cols)),
                                             rng.integers(5, 60, (n_rows, n_cols))))
    t = pd.DataFrame(values, index=[f"r{i}" for i in range(n_rows)],
                     columns=[f"c{j}" for j in range(n_cols)])
    if margins:
        t["Totalt"] = t.sum(axis=1)
        t.loc["Totalt"] = t.sum(axis=0)
    return t


@pytest.mark.parametrize("margins", [False, True])
def test_property_no_suppressed_cell_recomputable(margins: bool) -> None:
    rng = np.random.default_rng(1497 + margins)
    for _ in range(80):
        t = random_table(rng, margins)
        r = d.suppress_counts(t)
        values = t.to_numpy()
        shown = r.display.to_numpy()
        sup = r.suppressed.to_numpy()
        # Primary rule: exactly the small cells are "<5"; shown cells show their value.
        for (i, j), v in np.ndenumerate(values):
            if 0 < v < 5:
                assert shown[i, j] == "<5"
            elif sup[i, j]:
                assert shown[i, j] == ".."
            else:
                assert shown[i, j] == sv_int(int(v))
        # No line with a (published or assumed) total has exactly one hidden cell ...
        inner = sup[:-1, :-1] if margins else sup
        if margins:
            for line in [*sup, *sup.T]:
                assert line.sum() != 1, t
        else:
            if inner.shape[1] >= 2:
                for i, line in enumerate(inner):
                    tot = values[i].sum()
                    assert line.sum() + (0 < tot < 5) != 1, t
            if inner.shape[0] >= 2:
                for j, line in enumerate(inner.T):
                    tot = values[:, j].sum()
                    assert line.sum() + (0 < tot < 5) != 1, t
        # ... so an attacker solving the sums recovers nothing.
        assert recomputable(t, r) == [], t


def test_property_with_hidden_zeros() -> None:
    rng = np.random.default_rng(2024)
    for k in range(60):
        t = random_table(rng, margins=bool(k % 2))
        r = d.suppress_counts(t, suppress_zero=True)
        assert (r.display.to_numpy()[t.to_numpy() == 0] == "<5").all()
        assert recomputable(t, r) == [], t


def test_property_attacker_finds_leak_without_secondary() -> None:
    """Sanity check of the attacker: primary-only suppression does leak."""
    t = table([[2, 20, 30], [40, 50, 60]])
    r = d.suppress_counts(t, assume_totals=False)  # primary only
    assert recomputable(t, r) == [("r0", "c0")]


# --------------------------------------------------------------------------- series


def test_suppress_series_total_options() -> None:
    s = pd.Series([3, 10, 20, 0], index=["a", "b", "c", "d"], name="antal")
    plain = d.suppress_series(s)
    assert plain.tolist() == ["<5", "10", "20", "0"]
    published = d.suppress_series(s, total_published=True)
    # 3 + 10 + 20 = 33 is published: 10 (smallest cell >= 8) is hidden as well.
    assert published.tolist() == ["<5", "..", "20", "0"]
    assert list(published.index) == list(s.index) and published.name == "antal"
    with_total = pd.Series([3, 10, 20, 33], index=["a", "b", "c", "Totalt"])
    shown = d.suppress_series(with_total)
    assert shown.tolist() == ["<5", "..", "20", "33"]


def test_suppress_series_small_total_is_hidden() -> None:
    s = pd.Series([1, 2, 3], index=["a", "b", "Totalt"])
    assert d.suppress_series(s).tolist() == ["<5", "<5", "<5"]


# --------------------------------------------------------------------------- shares


def test_share_display() -> None:
    assert d.share_display(0.123, 40) == f"12,3{NBSP}%"
    assert d.share_display(0.5, 30) == f"50,0{NBSP}%"
    assert d.share_display(0.5, 29) == "för få svar"
    assert d.share_display(0.5, None) == "för få svar"
    assert d.share_display(0.5, 10, min_n=5) == f"50,0{NBSP}%"
    assert d.share_display(None, 100) == "–"


# --------------------------------------------------------------------------- frames

PLANTED = "PLANTED-7f3a9c"
PLANTED_LAT = 58.3042917
PLANTED_LON = 14.2877113


def incidents_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "incident_id": ["EST-1", "EST-2"],
        "occurred_at": pd.to_datetime(["2024-05-01 22:10", "2024-05-02 01:00"]),
        "occurred_at_has_time": [True, True],
        "category": ["klotter", "övrigt"],
        "category_raw": ["klotter", f"konstigt {PLANTED}"],
        "area": ["Centrum", "Hamnen"],
        "source": ["polis", "skola"],
        "source_raw": ["polis", "skola"],
        "lat": [PLANTED_LAT, 58.3],
        "lon": [PLANTED_LON, 14.28],
        "description": [f"Namn Namnsson {PLANTED}", "Ring 0701234567"],
        "record_id": ["r1", "r2"],
        "batch_id": ["b1", "b1"],
        "_line": [2, 3],
        "extra_notes": [PLANTED, PLANTED],
    })


def test_public_frame_drops_private_columns_and_planted_values() -> None:
    frame = incidents_frame()
    pub = d.public_frame(frame, "incidents")
    assert list(pub.columns) == ["occurred_at", "category", "area", "source"]
    text = pub.to_csv()
    assert PLANTED not in text
    assert str(PLANTED_LAT) not in text and str(PLANTED_LON) not in text
    assert "EST-1" not in text
    d.assert_public_safe(pub, "incidents")
    assert d.official_frame(frame, "incidents") is frame


def test_public_frame_activities_notes() -> None:
    frame = pd.DataFrame({"date": pd.to_datetime(["2024-03-01"]),
                          "activity_type": ["trygghetsvandring"], "notes": [PLANTED],
                          "participants": [12]})
    pub = d.public_frame(frame, DATASETS["activities"])
    assert "notes" not in pub.columns and PLANTED not in pub.to_csv()
    assert list(pub.columns) == ["date", "activity_type", "participants"]


def test_public_columns_exclude_every_free_text_and_position() -> None:
    for ds in DATASETS.values():
        cols = set(d.public_columns(ds.name))
        for col in ds.columns:
            if col.free_text or col.position or col.name == ds.id_column:
                assert col.name not in cols
        assert not cols & {"record_id", "batch_id"}
        assert not any(c.endswith("_raw") for c in cols)


def test_assert_public_safe_raises() -> None:
    with pytest.raises(d.DisclosureError, match="description"):
        d.assert_public_safe(incidents_frame(), "incidents")
    pnr = pd.DataFrame({"area": ["Centrum", "Boende 19850312-1234"]})
    with pytest.raises(d.DisclosureError, match="personnummer"):
        d.assert_public_safe(pnr, "incidents")
    d.assert_public_safe(pd.DataFrame({"area": ["2024-05-01", "Centrum 12"]}), "incidents")
    with pytest.raises(UnknownDatasetError):
        d.public_frame(pd.DataFrame(), "nope")


# --------------------------------------------------------------------------- the gate


def test_prepare_counts_public_and_official() -> None:
    t = table([[2, 20, 30], [40, 50, 1234]])
    pub = d.prepare_table(t, "public")
    assert pub.display.loc["r0", "c0"] == "<5"
    assert pub.suppressed is not None and pub.suppressed.to_numpy().sum() >= 2
    assert "<5" in pub.note
    assert pub.numeric.isna().to_numpy().sum() == pub.suppressed.to_numpy().sum()
    off = d.prepare_table(t, "official")
    assert off.display.loc["r0", "c0"] == "2"
    assert off.display.loc["r1", "c2"] == sv_int(1234)
    assert off.note == "" and not off.numeric.isna().to_numpy().any()
    clean = d.prepare_table(table([[10, 20]]), "public")
    assert clean.note == ""


def test_prepare_counts_series_protects_its_total() -> None:
    s = pd.Series([3, 10, 20], index=["a", "b", "c"], name="Antal")
    got = d.prepare_table(s, "public", d.DisclosureSettings(threshold=5))
    assert got.display["Antal"].tolist() == ["<5", "..", "20"]


def test_prepare_shares() -> None:
    t = pd.DataFrame({"group": ["Totalt", "Kvinnor"], "share": [0.25, 0.4], "n": [120, 12],
                      "ci_low": [0.18, 0.2], "ci_high": [0.33, 0.6]})
    pub = d.prepare_table(t, "public", kind="shares")
    assert pub.display["share"].tolist() == [f"25,0{NBSP}%", "för få svar"]
    assert pub.display["ci_low"].tolist()[1] == "för få svar"
    assert np.isnan(pub.numeric.loc[1, "share"]) and pub.numeric.loc[0, "share"] == 0.25
    assert "30" in pub.note
    off = d.prepare_table(t, "official", kind="shares")
    assert off.display["share"].tolist() == [f"25,0{NBSP}%", f"40,0{NBSP}%"]
    stricter = d.prepare_table(t, "public", d.DisclosureSettings(min_survey_n=200),
                               kind="shares")
    assert stricter.display["share"].tolist() == ["för få svar", "för få svar"]
    with pytest.raises(ValueError):
        d.prepare_table(t.drop(columns="n"), "public", kind="shares")


def test_prepare_rows_refused_in_public() -> None:
    frame = incidents_frame()
    with pytest.raises(d.RowLevelNotPublicError) as err:
        d.prepare_table(frame, "public", kind="rows")
    assert "publikt läge" in str(err.value)
    off = d.prepare_table(frame, "official", kind="rows")
    assert off.display is frame
    with pytest.raises(ValueError):
        d.prepare_table(frame, "everyone", kind="rows")  # type: ignore[arg-type]


def test_suppression_exhaustive_small_tables() -> None:
    """Every 2x2 table over {0, 2, 6, 9}: no hidden cell is ever recomputable."""
    for values in itertools.product((0, 2, 6, 9), repeat=4):
        t = table([list(values[:2]), list(values[2:])])
        r = d.suppress_counts(t)
        assert recomputable(t, r) == [], values


# --------------------------------------------------------------------------- promise settings


def test_promise_settings_follow_the_one_loading_policy(tmp_path, monkeypatch) -> None:
    """A broken configured promise file gives the packaged promise's limits; the strict
    defaults only when there is no promise at all."""
    from hjo_data import promise as promise_mod

    packaged = tmp_path / "medborgarlofte.toml"
    packaged.write_text(promise_mod.DEFAULT_PROMISE_FILE.read_text(encoding="utf-8").replace(
        "suppression_threshold = 5", "suppression_threshold = 3").replace(
        "min_survey_n = 30", "min_survey_n = 50"), encoding="utf-8")
    monkeypatch.setattr(promise_mod, "DEFAULT_PROMISE_FILE", packaged)
    monkeypatch.setenv("HJO_PROMISE_FILE", str(tmp_path / "saknas.toml"))
    settings = d.promise_settings()
    assert (settings.threshold, settings.min_survey_n) == (3, 50)

    broken = tmp_path / "trasig" / "medborgarlofte.toml"  # no promise at all
    broken.parent.mkdir()
    broken.write_text("[settings\n", encoding="utf-8")
    monkeypatch.setattr(promise_mod, "DEFAULT_PROMISE_FILE", broken)
    assert d.promise_settings() == d.DisclosureSettings()


def test_settings_of_reads_the_typed_promise_and_is_strict_without_one() -> None:
    from hjo_data.promise import load_promise
    from tests.conftest import make_promise

    promise = load_promise()
    from_file = d.settings_of(promise)
    assert from_file.threshold == promise.settings.suppression_threshold
    assert from_file.min_survey_n == promise.settings.min_survey_n
    strict = d.settings_of(make_promise([{"id": "g", "title": "G"}], settings={
        "suppression_threshold": 3, "min_survey_n": 50, "suppress_zero": True}))
    assert (strict.threshold, strict.min_survey_n, strict.suppress_zero) == (3, 50, True)
    assert d.settings_of(None) == d.DisclosureSettings()


@pytest.mark.parametrize("suppress_zero", [False, True])
@pytest.mark.parametrize("threshold", [3, 5])
def test_single_counts_follow_the_table_rule(threshold: int, suppress_zero: bool) -> None:
    """is_small / count_text hide exactly the counts suppress_counts hides as primary."""
    settings = d.DisclosureSettings(threshold=threshold, suppress_zero=suppress_zero)
    values = list(range(0, threshold + 3))
    table = pd.DataFrame({"antal": values}, index=[f"r{v}" for v in values])
    primary = d.suppress_counts(table, threshold, assume_totals=False,
                                suppress_zero=suppress_zero).primary["antal"].tolist()
    assert [d.is_small(v, settings) for v in values] == primary
    for value, hidden in zip(values, primary, strict=True):
        assert d.count_text(value, "public", settings) == (f"<{threshold}" if hidden
                                                          else str(value))
        assert d.count_text(value, "official", settings) == str(value)
    assert not d.is_small(None, settings) and not d.is_small(float("nan"), settings)
    assert d.count_text(None, "public", settings) == "–"
