"""The promise's comparison config: [comparison] and per goal official indicators."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from hjo_data import promise as promise_mod
from hjo_data.promise import Comparison, PromiseFileError, promise_from_mapping

PROMISE = Path(__file__).resolve().parent.parent / "data" / "medborgarlofte.toml"
KOMMUNER = Path(__file__).resolve().parent.parent / "data" / "reference" / "kommuner.csv"


def packaged() -> dict[str, Any]:
    return tomllib.loads(PROMISE.read_text(encoding="utf-8"))


def test_packaged_comparison_is_county_riket_and_two_skaraborg_peers() -> None:
    promise = promise_mod.load_promise()
    comp = promise.comparison
    assert comp == Comparison(home="1497", county="0014", riket="0000",
                              peers=("1498", "1446"))
    assert comp.geo_codes == ("1497", "0014", "0000", "1498", "1446")


def test_packaged_official_indicators_include_the_verified_kolada_kpi() -> None:
    promise = promise_mod.load_promise()
    official = promise.official_indicators()
    by_id = {o.indicator_id: o for o in official}
    assert by_id["N07403"].source == "kolada"
    assert by_id["N07403"].goal_id == "trygg_plats"
    assert by_id["N07403"].per_100k is False
    # the only Kolada id configured is the verified one
    assert [o.indicator_id for o in official if o.source == "kolada"] == ["N07403"]
    drugs = by_id["narkotikabrott"]
    assert drugs.goal_id == "andts" and drugs.per_100k is True
    assert [b.period for b in drugs.breaks] == ["2023"]
    assert official == tuple(o for g in promise.goals for o in g.official)


def test_no_comparison_table_means_home_only() -> None:
    data = packaged()
    del data["comparison"]
    comp = promise_from_mapping(data).comparison
    assert comp is not None
    assert comp.geo_codes == ("1497", "0000")


def test_integer_codes_are_zero_padded() -> None:
    data = packaged()
    data["comparison"] = {"county": 14, "peers": [1498]}
    comp = promise_from_mapping(data).comparison
    assert comp is not None and (comp.county, comp.peers) == ("0014", ("1498",))


@pytest.mark.parametrize(("comparison", "message"), [
    ({"county": "14"}, "'county' ska vara fyrsiffriga koder"),
    ({"county": "1497"}, "länskod"),
    ({"county": "0000"}, "länskod"),
    ({"peers": "1498"}, "'peers' måste vara en lista"),
    ({"peers": ["1497"]}, "kommunens egen kod 1497"),
    ({"peers": ["1498", "1498"]}, "jämförelsekommun"),
    ({"peers": ["Tidaholm"]}, "'peers' ska vara fyrsiffriga koder"),
    ("0014", "[comparison]: måste vara en tabell"),
])
def test_bad_comparison_is_refused_in_swedish(comparison: object, message: str) -> None:
    data = packaged()
    data["comparison"] = comparison
    with pytest.raises(PromiseFileError, match="medborgarlofte.toml") as err:
        promise_from_mapping(data)
    assert message in str(err.value)


def official_entry(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {"source": "kolada", "indicator_id": "N07403",
                                "title": "Våldsbrott", "unit": "antal/100 000 inv"}
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not None}


@pytest.mark.parametrize(("entry", "message"), [
    (official_entry(source="Kolada API"), "'source' = 'Kolada API'"),
    (official_entry(indicator_id=None), "'indicator_id' saknas"),
    (official_entry(unit=""), "'unit' saknas"),
    (official_entry(per_100k="ja"), "'per_100k' måste vara true/false"),
    (official_entry(breaks={"2017": "x"}), "'breaks' måste vara en lista"),
    (official_entry(breaks=[{"text": "x"}]), "behöver 'period'"),
    (official_entry(breaks=[{"period": 2017}]), "'text' saknas"),
    ("N07403", "måste vara en tabell"),
])
def test_bad_official_indicator_is_refused_in_swedish(entry: object, message: str) -> None:
    data = packaged()
    data["goals"][0]["official_indicators"] = [entry]
    with pytest.raises(PromiseFileError) as err:
        promise_from_mapping(data)
    text = str(err.value)
    assert "mål 'samverkan', officiell indikator nr 1" in text
    assert message in text


def test_same_official_indicator_twice_is_refused() -> None:
    data = packaged()
    data["goals"][0]["official_indicators"] = [official_entry()]
    with pytest.raises(PromiseFileError, match="kolada/N07403"):
        promise_from_mapping(data)


def test_break_period_may_be_a_year_number() -> None:
    data = copy.deepcopy(packaged())
    data["goals"][0]["official_indicators"] = [
        official_entry(indicator_id="N00000", breaks=[{"period": 2017, "text": "Ny metod"}])]
    first = promise_from_mapping(data).goals[0].official[0]
    assert first.breaks[0].period == "2017" and first.breaks[0].text == "Ny metod"


def test_peer_codes_exist_in_the_reference_list() -> None:
    if not KOMMUNER.exists():
        pytest.skip("data/reference/kommuner.csv is added with the statistik dataset")
    codes = {line.split(",")[0] for line in KOMMUNER.read_text(encoding="utf-8").splitlines()}
    comp = promise_mod.load_promise().comparison
    assert comp is not None and set(comp.peers) <= codes and comp.home in codes
