"""One typed settings object: defaults < file < environment < command line < flow parameters,
merged deeply (field by field), every detector threshold checked before any work starts."""

import subprocess
import sys
from pathlib import Path

import pytest

from abuse.detect.base import all_detectors, params_for
from abuse.settings import SettingsError, load_settings, thresholds_model

ROOT = Path(__file__).resolve().parent.parent
ABUSE = str(Path(sys.executable).parent / "abuse")

FILE = """tz = "Asia/Kolkata"
window_days = 10
dossiers_top = 4

[detectors.rings]
min_members = 5
low_rating = 1

[detectors.hoarding]
fast_claim_s = 20.0
"""


@pytest.fixture
def toml(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("ABUSE_DETECTORS", "ABUSE_TZ", "ABUSE_WINDOW_DAYS", "ABUSE_SETTINGS_FILE"):
        monkeypatch.delenv(var, raising=False)
    path = tmp_path / "abuse.toml"
    path.write_text(FILE)
    return path


def flow_settings(file: Path | None, **params):
    from flows.nightly import DetectorThresholds, settings_for

    thresholds = params.pop("thresholds", None)
    return settings_for(
        str(file) if file else None, DetectorThresholds(**thresholds) if thresholds is not None else None, **params
    )


# (layer, what it sets) -> what survives from every other layer
ENV = {
    "ABUSE_DETECTORS": '{"hoarding": {"min_accounts": 8}}',
    "ABUSE_WINDOW_DAYS": "12",
    "ABUSE_DETECTORS__RINGS__HUB_CAP": "150",
}


@pytest.mark.parametrize("env", [False, True], ids=["no-env", "env"])
@pytest.mark.parametrize("cli", [False, True], ids=["no-cli", "cli"])
@pytest.mark.parametrize("flow", [False, True], ids=["no-flow", "flow"])
def test_deep_merge_matrix(toml: Path, monkeypatch, env: bool, cli: bool, flow: bool) -> None:
    if env:
        for k, v in ENV.items():
            monkeypatch.setenv(k, v)
    cli_args = {"window_days": 14, "detectors": {"rings": {"min_members": 6}}} if cli else {}
    if flow:  # a UI run that changes one threshold and the window (on top of the command line)
        params = {
            **{k: v for k, v in cli_args.items() if k != "detectors"},
            "window_days": 3,
            "thresholds": {"rings": {"min_members": 7}, **({"timing": {"min_hits": 9}})},
        }
        if cli:  # the command line's thresholds reach the flow as its parameters
            params["thresholds"]["hoarding"] = {"min_accounts": 9}
        s = flow_settings(None, **params)
    else:
        s = load_settings(None, **cli_args)
    rings, hoarding = s.detectors["rings"], s.detectors["hoarding"]
    # the file's settings survive every layer that does not name them
    assert s.tz == "Asia/Kolkata" and s.dossiers_top == 4
    assert rings["low_rating"] == 1 and hoarding["fast_claim_s"] == 20.0
    assert rings["min_members"] == (7 if flow else 6 if cli else 5)
    assert s.window_days == (3 if flow else 14 if cli else 12 if env else 10)
    assert rings.get("hub_cap") == (150 if env else None)  # nested environment variable, typed
    assert hoarding.get("min_accounts") == (9 if flow and cli else 8 if env else None)
    assert s.detectors.get("timing", {}).get("min_hits") == (9 if flow else None)


def test_file_is_abuse_toml_or_pyproject_or_the_one_given(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ABUSE_SETTINGS_FILE", raising=False)
    assert load_settings().tz == "Asia/Shanghai"  # nothing there: defaults
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.abuse]\ntz = "Europe/Berlin"\n[tool.abuse.detectors.rings]\nmin_members = 4\n'
    )
    s = load_settings()
    assert (s.tz, s.detectors) == ("Europe/Berlin", {"rings": {"min_members": 4}})
    (tmp_path / "abuse.toml").write_text('tz = "Asia/Tokyo"\n')
    assert load_settings().tz == "Asia/Tokyo"  # abuse.toml before pyproject
    other = tmp_path / "other.toml"
    other.write_text('tz = "UTC"\n')
    assert load_settings(other).tz == "UTC"
    monkeypatch.setenv("ABUSE_SETTINGS_FILE", str(other))
    assert load_settings().tz == "UTC"
    with pytest.raises(SettingsError, match="settings file .*missing.toml does not exist"):
        load_settings(tmp_path / "missing.toml")


def test_bad_values_are_refused(toml: Path) -> None:
    with pytest.raises(SettingsError, match="unknown time zone"):
        load_settings(tz="Mars/Base")
    with pytest.raises(SettingsError, match="window_days"):
        load_settings(window_days=0)
    bad = toml.parent / "bad.toml"
    bad.write_text("windw_days = 3\n")
    with pytest.raises(SettingsError, match="windw_days"):
        load_settings(bad)


@pytest.mark.parametrize(
    "table, message",
    [
        ("[detectors.rings]\nmin_membrs = 5\n", "detector 'rings' has no threshold min_membrs"),
        ("[detectors.rings]\nmin_members = 1\n", r"detectors.rings.min_members: input should be greater"),
        ('[detectors.rings]\nmin_members = "many"\n', r"detectors.rings.min_members: input should be a valid"),
        ("[detectors.ringz]\nmin_members = 5\n", "there is no detector 'ringz'"),
        ('disabled_detectors = ["spikez"]\n', "no detector 'spikez' to disable"),
    ],
)
def test_every_threshold_is_checked_when_settings_load(toml: Path, table: str, message: str) -> None:
    toml.write_text(table)
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_a_bad_threshold_fails_before_ingest(toml: Path, tmp_path: Path) -> None:
    toml.write_text("[detectors.rings]\nmin_membrs = 5\n")
    landing = tmp_path / "landing"
    (landing / "orders").mkdir(parents=True)
    out = subprocess.run(
        [ABUSE, "nightly", "--landing", str(landing), "--db", str(tmp_path / "x.duckdb")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.returncode != 0
    err = out.stderr.strip().splitlines()
    assert len(err) == 1 and "no threshold min_membrs" in err[0] and "Error" not in err[0], out.stderr
    assert not list(tmp_path.glob("*.duckdb"))  # nothing was created


def test_flow_parameter_model_is_typed_with_titles() -> None:
    model = thresholds_model()
    schema = model.model_json_schema()
    assert set(schema["properties"]) == set(all_detectors())
    rings = schema["$defs"]["RingsThresholds"]
    assert rings["additionalProperties"] is False
    field = rings["properties"]["min_members"]
    default = all_detectors()["rings"].Params.model_fields["min_members"].default
    assert field["title"] == "min members" and f"(default {default!r};" in field["description"]
    with pytest.raises(ValueError):
        model(rings={"min_members": 1})  # the detector's own bounds
    assert model().model_dump(exclude_none=True) == {name: {} for name in all_detectors()}


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


def test_docstring_examples_name_real_thresholds() -> None:
    import json
    import re

    import abuse.settings as mod

    detectors = all_detectors()
    blobs = re.findall(r"ABUSE_DETECTORS='(\{.*?\})'", mod.__doc__)
    assert blobs
    for blob in blobs:
        for det, values in json.loads(blob).items():
            assert set(values) <= set(detectors[det].Params.model_fields), blob
    for det, param in re.findall(r"ABUSE_DETECTORS__(\w+?)__(\w+)=", mod.__doc__):
        assert param.lower() in detectors[det.lower()].Params.model_fields
