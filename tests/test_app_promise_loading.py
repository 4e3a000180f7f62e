"""AppTests: pages that read the promise follow the one loading policy
(``promise.load_promise_with_fallback``) and show its warning/error as plain text."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from hjo_data import promise
from hjo_data.slides import DEFAULT_CONFIG_FILE


def _plain(text: str) -> str:
    """Markdown backslash escapes removed (pages escape messages to show plain text)."""
    return re.sub(r"\\(.)", r"\1", text)


@pytest.fixture
def broken_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    broken = tmp_path / "trasigt_löfte.toml"
    broken.write_text("[goals\n", encoding="utf-8")
    monkeypatch.setenv("HJO_PROMISE_FILE", str(broken))
    return broken


@pytest.fixture
def no_promise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Neither the configured nor the packaged promise file can be read."""
    packaged = tmp_path / "paket" / "medborgarlofte.toml"
    packaged.parent.mkdir()
    packaged.write_text("[goals\n", encoding="utf-8")
    monkeypatch.setattr(promise, "DEFAULT_PROMISE_FILE", packaged)
    monkeypatch.delenv("HJO_PROMISE_FILE", raising=False)
    return packaged


def _packaged_labels() -> list[str]:
    raw = tomllib.loads(promise.DEFAULT_PROMISE_FILE.read_text(encoding="utf-8"))
    return [i["label"] for g in raw["goals"] for i in g["indicators"]]


def test_om_data_lists_packaged_indicators_with_warning(page_app, broken_configured) -> None:
    labels = _packaged_labels()
    at = page_app("om_data")
    at.run()
    assert not at.exception
    assert any(broken_configured.name in _plain(w.value) for w in at.warning)
    definitions = at.dataframe[-1].value
    assert definitions["Indikator"].tolist() == labels


def test_om_data_without_any_promise_shows_error_and_no_indicators(page_app,
                                                                   no_promise) -> None:
    at = page_app("om_data")
    at.run()
    assert not at.exception
    assert any("inga mål visas" in _plain(e.value) for e in at.error)
    assert any("inga indikatorer" in i.value for i in at.info)


def test_lagesbild_without_any_promise_shows_error_and_no_cards(page_app,
                                                                no_promise) -> None:
    at = page_app("lagesbild")
    at.run()
    assert not at.exception
    assert any(no_promise.name in _plain(e.value) and "inga mål visas" in _plain(e.value)
               for e in at.error)
    assert any("inga mål att visa" in i.value for i in at.info)


def test_aktiviteter_warns_about_broken_promise_file(page_app, broken_configured) -> None:
    at = page_app("aktiviteter")
    at.run()
    assert not at.exception
    assert any(broken_configured.name in _plain(w.value) for w in at.warning)
    assert not at.error


def test_presentation_without_any_promise_shows_data_slides(page_app, no_promise) -> None:
    raw = tomllib.loads(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))
    # the comparison slide needs the promise's official indicators too
    expected = [s["id"] for s in raw["slides"] if s["id"] not in ("mal", "laget", "jamforelse")]
    at = page_app("presentation")
    at.query_params["interval"] = "0"
    at.run()
    assert not at.exception
    # a toast, not a banner above the slide (it would push the slide's bottom off screen)
    assert not at.error and not at.warning
    assert any("inga mål visas" in _plain(t.value) for t in at.toast)
    body = next(h.proto.body for h in at.html if "presentation-slide-body" in h.proto.body)
    assert f'data-slide-id="{expected[0]}"' in body
    assert f'data-slide-count="{len(expected)}"' in body


def test_presentation_toasts_a_promise_warning_once_per_session(page_app,
                                                                broken_configured) -> None:
    at = page_app("presentation")
    at.query_params["interval"] = "0"
    at.run()
    assert not at.exception
    assert [t for t in at.toast if broken_configured.name in _plain(t.value)]
    at.run()  # the next slide / an auto-advance rerun: not again for the audience
    assert not at.toast
