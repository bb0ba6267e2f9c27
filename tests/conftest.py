"""Shared fixtures (helper functions are in helpers.py): a landing folder, a Prefect server, the
bundled sample run once, and ``generated`` (the cached generated data sets)."""

from __future__ import annotations

from pathlib import Path

import helpers
import pytest

from abuse.pipeline import run_nightly
from abuse.settings import Settings


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """A real Prefect server on loopback, shared by the tests of one session."""
    from prefect_server import PrefectServer

    server = PrefectServer(tmp_path_factory.mktemp("prefect-home")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory) -> Path:
    """The bundled sample run once per session (report + work database + dossiers): for tests
    that check what an analyst sees on the sample (README queries, dossier figures)."""
    out = tmp_path_factory.mktemp("sample-report")
    root = Path(__file__).resolve().parent.parent
    run_nightly(
        Settings(landing=root / "sample_data" / "landing", db=out / "abuse.duckdb", dossiers_top=3), say=lambda _m: None
    )
    return out / "abuse.duckdb"


@pytest.fixture(scope="session", autouse=True)
def _generated_root(tmp_path_factory) -> None:
    helpers.set_generated_root(tmp_path_factory.mktemp("generated"))


@pytest.fixture(scope="session")
def generated():
    """``generated(seed, scale, **flags) -> Path``: the generator's output, made once per
    session per argument set (see helpers.generated). A module may shadow this name with a
    parametrized fixture of its own that calls ``helpers.generated``."""
    return helpers.generated
