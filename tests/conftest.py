"""Shared fixtures (helper functions are in helpers.py): a landing folder, a Prefect server, the
bundled sample run once, and ``generated`` (the cached generated data sets). And the session's
order: the tests that need the Prefect server run last, while it boots in the background."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import helpers
import pytest

from abuse.pipeline import run_nightly
from abuse.settings import Settings


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


_SERVER: list = []  # the session's Prefect server, launched once collection knows a test needs it


@pytest.hookimpl(trylast=True)  # after pytest groups the parametrized fixtures
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need the Prefect server go last (in their collected order), and the server is
    launched now: it boots (15-50 s on two busy cores) beside the quick tests instead of before
    the first slow one."""
    needs = [item for item in items if "prefect_server" in getattr(item, "fixturenames", ())]
    if not needs:
        return
    rest = [item for item in items if "prefect_server" not in getattr(item, "fixturenames", ())]
    items[:] = rest + needs
    if not config.option.collectonly and not _SERVER:
        from prefect_server import PrefectServer

        _SERVER.append(PrefectServer(Path(tempfile.mkdtemp(prefix="abuse-prefect-home-"))).launch())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    while _SERVER:
        server = _SERVER.pop()
        server.stop()
        shutil.rmtree(server.home, ignore_errors=True)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """A real Prefect server on loopback, shared by the tests of one session (launched at
    collection, see above; started here when a test asks for it otherwise)."""
    from prefect_server import PrefectServer

    if not _SERVER:
        _SERVER.append(PrefectServer(tmp_path_factory.mktemp("prefect-home")).launch())
    return _SERVER[0].wait_healthy()


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    """The bundled sample run once per session (report + work database + three dossiers):
    ``(report database, the run's summary)``, for every test that checks what an analyst sees on
    the sample (README queries, dossier figures, the planted abuse found). Read it, never write."""
    out = tmp_path_factory.mktemp("sample-report")
    root = Path(__file__).resolve().parent.parent
    summary = run_nightly(
        Settings(landing=root / "sample_data" / "landing", db=out / "abuse.duckdb", dossiers_top=3), say=lambda _m: None
    )
    return out / "abuse.duckdb", summary


@pytest.fixture(scope="session")
def sample_report(sample_run) -> Path:
    """The report database of ``sample_run``."""
    return sample_run[0]


@pytest.fixture(scope="session", autouse=True)
def _generated_root(tmp_path_factory) -> None:
    helpers.set_generated_root(tmp_path_factory.mktemp("generated"))


@pytest.fixture(scope="session")
def generated():
    """``generated(seed, scale, **flags) -> Path``: the generator's output, made once per
    session per argument set (see helpers.generated). A module may shadow this name with a
    parametrized fixture of its own that calls ``helpers.generated``."""
    return helpers.generated
