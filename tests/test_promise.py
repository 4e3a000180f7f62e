"""The promise file (medborgarlofte.toml): typed model, validation, loading policy."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from hjo_data import promise as promise_mod
from hjo_data.promise import PromiseFileError
from hjo_data.schema import ACTIVITY_TYPES, DATASETS, normalise_value

REPO = Path(__file__).resolve().parent.parent
PROMISE = REPO / "data" / "medborgarlofte.toml"


# --------------------------------------------------------------------------- promise

GOAL_TITLES = [
    "Ökad samverkan mellan näringsidkare, kommun, polis och medborgare.",
    "Att Hjo ska uppfattas som en trygg plats.",
    "Förebygga barn och ungas början till användning samt bruk av alkohol, narkotika, "
    "dopningsmedel, tobak- och nikotinprodukter samt spel om pengar.",
    "Stärka det psykiska välbefinnandet hos medborgare.",
]


def test_promise_loads_with_goals_as_in_the_promise() -> None:
    promise = promise_mod.load_promise()
    assert promise.municipality_code == "1497"
    assert "Östra Skaraborg" in promise.police_area
    assert (promise.period_start, promise.period_end) == (2023, 2024)
    assert promise.years == (2023, 2024)
    assert [g.title for g in promise.goals] == GOAL_TITLES
    assert all(g.indicators for g in promise.goals)
    assert promise.settings.suppression_threshold == 5
    assert promise.settings.min_survey_n == 30
    assert {i.direction for i in promise.indicators} == {"up", "down"}


def test_every_indicator_spec_references_existing_schema_values() -> None:
    data = tomllib.loads(PROMISE.read_text(encoding="utf-8"))
    specs = [(ind["id"], ind["spec"]) for g in data["goals"] for ind in g["indicators"]]
    assert len(specs) == len(promise_mod.load_promise().indicators) >= 10
    for ind_id, spec in specs:
        assert spec["dataset"] in DATASETS, ind_id
        ds = DATASETS[spec["dataset"]]
        assert spec["measure"] in promise_mod.MEASURES, ind_id
        for key, value in spec.items():
            if key in ("dataset", "measure"):
                continue
            if key == "column":
                for col in [value] if isinstance(value, str) else value:
                    assert ds.column(col).kind == "int", ind_id
                continue
            col = ds.column(key)  # KeyError if the column does not exist
            values = [value] if isinstance(value, str) else value
            if col.kind == "category":
                for v in values:
                    assert v in col.vocabulary, (ind_id, key, v)


def test_promise_indicator_filters_are_canonical() -> None:
    promise = promise_mod.load_promise()
    motor = promise.indicator("motorburen")
    assert motor.dataset == "incidents" and motor.measure == "rate_per_1000"
    assert motor.filters["category"] == ("motorburen problematik",)
    assert motor.filter_value("category") == "motorburen problematik"
    assert motor.spec == {"dataset": "incidents", "measure": "rate_per_1000",
                          "category": "motorburen problematik"}
    parter = promise.indicator("est_rapporter_parter")
    assert "polis" not in parter.filters["source"] and len(parter.filters["source"]) > 1
    assert parter.filter_value("source") is None


def test_promise_activities_and_planned_counts() -> None:
    data = tomllib.loads(PROMISE.read_text(encoding="utf-8"))
    promise = promise_mod.load_promise()
    assert len(promise.activities) == len(data["activities"]) == 8
    assert {a.activity_type for a in promise.activities} == set(ACTIVITY_TYPES)
    for year in (2023, 2024):
        expected: dict[str, int] = {}
        for act in data["activities"]:
            expected[act["activity_type"]] = (expected.get(act["activity_type"], 0)
                                              + act["planned"][str(year)])
        assert promise.planned_by_type(year) == expected
    assert promise.planned_by_type(2030) == {}
    goal_ids = {g.id for g in promise.goals}
    assert all(set(a.goals) <= goal_ids and a.goals for a in promise.activities)


def _broken(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


BROKEN_CASES = [
    ('spec = { dataset = "survey", measure = "share", indicator = "otrygg_kvall" }',
     'spec = { dataset = "enkät", measure = "share", indicator = "otrygg_kvall" }',
     "okänd datamängd 'enkät'"),
    ('category = "motorburen problematik"', 'category = "rymdskepp"', "okänt värde 'rymdskepp'"),
    ('direction = "down"', 'direction = "neråt"', "'direction' måste vara"),
    ('spec = { dataset = "incidents", measure = "rate_per_1000", category = "klotter" }',
     'spec = { dataset = "incidents", measure = "share", category = "klotter" }',
     "måttet 'share' går inte"),
    ('category = "klotter"', 'kategori_x = "klotter"', "okänd kolumn 'kategori_x'"),
    ('activity_type = "grannsamverkan"\ntitle', 'activity_type = "grillfest"\ntitle',
     "okänd aktivitetstyp 'grillfest'"),
    ("code = \"1497\"", "code = \"14\"", "fyrsiffrig kommunkod"),
    ('column = "tuned_vehicle"', 'column = "area"', "ingen heltalskolumn"),
    ('indicator = "berusad_4v", grade = "gy 2"', 'indicator = "berusad_4v"',
     "exakt ett värde för 'grade'"),
]


@pytest.mark.parametrize(("old", "new", "message"), BROKEN_CASES)
def test_broken_promise_gives_clear_swedish_error(old: str, new: str, message: str) -> None:
    text = _broken(PROMISE.read_text(encoding="utf-8"), old, new)
    with pytest.raises(PromiseFileError, match="Medborgarlöftesfilen") as info:
        promise_mod.parse_promise(text)
    assert message in str(info.value)


def test_broken_promise_names_goal_and_indicator() -> None:
    text = _broken(PROMISE.read_text(encoding="utf-8"), 'category = "klotter"',
                   'category = "graffitti"')
    with pytest.raises(PromiseFileError) as info:
        promise_mod.parse_promise(text)
    assert "mål 'trygg_plats', indikator 'klotter'" in str(info.value)


def test_promise_toml_syntax_error_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "löfte.toml"
    bad.write_text('title = "x"\n[municipality\nname = "Hjo"\n', encoding="utf-8")
    with pytest.raises(PromiseFileError, match="inte giltig TOML.*rad 2"):
        promise_mod.load_promise(bad)
    with pytest.raises(PromiseFileError, match="saknas"):
        promise_mod.load_promise(tmp_path / "finns_inte.toml")
    with pytest.raises(PromiseFileError, match="inga mål"):
        promise_mod.parse_promise(
            'title = "x"\n[municipality]\nname = "X"\ncode = "0001"\n[police]\narea = "Y"\n'
            "[period]\nstart = 2023\nend = 2024\n")


def test_promise_file_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = PROMISE.read_text(encoding="utf-8").replace('code = "1497"', 'code = "1499"')
    other = tmp_path / "annan_kommun.toml"
    other.write_text(text.replace("suppression_threshold = 5", "suppression_threshold = 3"),
                     encoding="utf-8")
    monkeypatch.setenv("HJO_PROMISE_FILE", str(other))
    promise = promise_mod.load_promise()
    assert promise.municipality_code == "1499"
    assert promise.settings.suppression_threshold == 3


def test_category_synonyms_in_promise_are_mapped_to_canonical() -> None:
    text = PROMISE.read_text(encoding="utf-8").replace(
        'category = "motorburen problematik"', 'category = "EPA-traktor"')
    promise = promise_mod.parse_promise(text)
    assert promise.indicator("motorburen").filters["category"] == ("motorburen problematik",)
    assert normalise_value("EPA-traktor") in DATASETS["incidents"].column("category").synonyms


# --------------------------------------------------------------------------- loading policy


def _packaged_goal_ids() -> list[str]:
    return [g["id"] for g in tomllib.loads(PROMISE.read_text(encoding="utf-8"))["goals"]]


@pytest.mark.parametrize(("content", "reason"), [
    (None, "saknas"),  # the configured file does not exist
    ('title = "x"\n[municipality\n', "inte giltig TOML"),
    ("wrong shape", "okänd datamängd"),  # valid TOML: spec dataset = [] (a list)
])
def test_fallback_broken_configured_file_gives_packaged_promise_and_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None,
        reason: str) -> None:
    broken = tmp_path / "trasigt_lofte.toml"
    if content == "wrong shape":
        content = PROMISE.read_text(encoding="utf-8").replace('dataset = "incidents"',
                                                              "dataset = []", 1)
    if content is not None:
        broken.write_text(content, encoding="utf-8")
    monkeypatch.setenv("HJO_PROMISE_FILE", str(broken))
    promise, warning = promise_mod.load_promise_with_fallback()
    assert promise is not None
    assert [g.id for g in promise.goals] == _packaged_goal_ids()
    assert warning is not None
    assert broken.name in warning  # names the broken file (not its directory) ...
    assert reason in warning  # ... and why
    assert "Standardlöftet" in warning and "visas i stället" in warning


def test_fallback_good_configured_file_has_no_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "annan_kommun.toml"
    other.write_text(PROMISE.read_text(encoding="utf-8").replace('code = "1497"',
                                                                 'code = "1499"'),
                     encoding="utf-8")
    monkeypatch.setenv("HJO_PROMISE_FILE", str(other))
    promise, message = promise_mod.load_promise_with_fallback()
    assert message is None
    assert promise is not None and promise.municipality_code == "1499"
    monkeypatch.delenv("HJO_PROMISE_FILE")
    promise, message = promise_mod.load_promise_with_fallback()
    assert message is None
    assert promise is not None and [g.id for g in promise.goals] == _packaged_goal_ids()


def test_fallback_packaged_file_broken_gives_no_promise_and_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packaged = tmp_path / "medborgarlofte.toml"
    packaged.write_text("[goals\n", encoding="utf-8")
    monkeypatch.setattr(promise_mod, "DEFAULT_PROMISE_FILE", packaged)
    monkeypatch.delenv("HJO_PROMISE_FILE", raising=False)
    promise, error = promise_mod.load_promise_with_fallback()
    assert promise is None
    assert error is not None and "inga mål visas" in error and "inte giltig TOML" in error
    # A broken configured file on top: still no exception, both files named.
    configured = tmp_path / "saknas.toml"
    monkeypatch.setenv("HJO_PROMISE_FILE", str(configured))
    promise, error = promise_mod.load_promise_with_fallback()
    assert promise is None
    assert error is not None and configured.name in error and packaged.name in error


def test_promise_of_wrong_shape_is_a_promise_file_error() -> None:
    text = PROMISE.read_text(encoding="utf-8")
    assert text.count("[[signatures]]") == 2
    without_signatures = re.sub(r"\[\[signatures\]\]\n(?:\w+ = .*\n)*\n", "", text)
    assert "[[signatures]]" not in without_signatures
    with pytest.raises(PromiseFileError, match="signatures"):
        promise_mod.parse_promise("signatures = 1\n" + without_signatures)
    with pytest.raises(PromiseFileError, match="okänt mått"):
        promise_mod.parse_promise(text.replace('measure = "count"', "measure = {}", 1))
    with pytest.raises(PromiseFileError, match="okänd datamängd"):
        promise_mod.parse_promise(text.replace('dataset = "incidents"', 'dataset = []', 1))


def test_promise_messages_name_the_file_but_never_the_server_path(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """The messages reach public pages: file name yes, directory layout no."""
    ref = promise_mod

    secret_dir = tmp_path / "hemlig-katalog"
    secret_dir.mkdir()
    for broken in (secret_dir / "saknas.toml", secret_dir):  # missing file; a directory
        monkeypatch.setenv("HJO_PROMISE_FILE", str(broken))
        promise, message = ref.load_promise_with_fallback()
        assert promise is not None and message
        assert broken.name in message
        assert str(tmp_path) not in message, message
