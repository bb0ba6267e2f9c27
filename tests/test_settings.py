"""One typed settings object: defaults < file < environment < explicit arguments."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from abuse.detect.base import all_detectors, params_for
from abuse.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_precedence(tmp_path: Path, monkeypatch) -> None:
    file = tmp_path / "abuse.toml"
    file.write_text('tz = "Asia/Kolkata"\nwindow_days = 10\n[detectors.rings]\nlow_rating = 1\n')
    assert load_settings(file).tz == "Asia/Kolkata"
    monkeypatch.setenv("ABUSE_WINDOW_DAYS", "12")
    s = load_settings(file)
    assert (s.tz, s.window_days, s.detectors["rings"]["low_rating"]) == ("Asia/Kolkata", 12, 1)
    assert load_settings(file, window_days=3, tz=None).window_days == 3  # None means "not given"
    monkeypatch.setenv("ABUSE_DETECTORS", '{"hoarding": {"fast_claim_s": 5}}')
    assert load_settings(file).detectors == {"hoarding": {"fast_claim_s": 5}}


def test_bad_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        load_settings(tmp_path / "none.toml", tz="Mars/Base")
    with pytest.raises(ValidationError):
        load_settings(tmp_path / "none.toml", window_days=0)
    bad = tmp_path / "bad.toml"
    bad.write_text("windw_days = 3\n")
    with pytest.raises(ValidationError, match="windw_days"):
        load_settings(bad)


def test_example_file_is_valid_for_every_detector() -> None:
    s = load_settings(ROOT / "abuse.example.toml")
    detectors = all_detectors()
    assert set(s.detectors) <= set(detectors)
    for name, cls in detectors.items():
        params_for(cls, s.detectors.get(name))  # raises if a threshold is misspelt or mistyped


def test_a_misspelt_threshold_is_an_error() -> None:
    rings = all_detectors()["rings"]
    with pytest.raises(ValueError, match="no parameter low_ratng"):
        params_for(rings, {"low_ratng": 1})
