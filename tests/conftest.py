"""Shared fixtures (helper functions are in helpers.py): a landing folder, a Prefect server, the
bundled sample run once, and ``generated`` (the cached generated data sets). And the session's
order: the tests that need the Prefect server run last, while it boots in the background.

The suite runs on pytest-xdist workers (``-n auto`` in pyproject's addopts): each test file is
one unit of work, so its module fixtures are built once, and the tests that need the Prefect
server are one unit (one worker, one server). Generated worlds, staged worlds and the sample run
are built once for all workers, in a folder they share (``shared_root``), under a file lock."""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Any

import helpers
import pytest

from abuse.pipeline import run_nightly
from abuse.settings import Settings

RAM_TEMP = Path("/dev/shm")  # a tmpfs on Linux
RAM_TEMP_FREE = 6 << 30  # the room a session may use there at most (worlds, runs, a Prefect home)


def _temp_in_ram() -> None:
    """Temp folders (pytest's ``tmp_path`` and basetemp, ``tempfile``, the processes tests start)
    in RAM when ``TMPDIR`` is not set and ``/dev/shm`` is a tmpfs with room: the suite's nightly
    runs commit to DuckDB files hundreds of times, and on a disk each commit's fsync waits
    (the small runs spend more time waiting than computing; the kernel's write-back costs CPU
    too). Set ``TMPDIR`` to keep them on a disk. pyproject's ``tmp_path_retention_policy =
    "failed"`` keeps only what failed tests wrote, so a green session leaves nothing there."""
    if os.environ.get("TMPDIR") or not RAM_TEMP.is_dir() or not os.access(RAM_TEMP, os.W_OK):
        return
    try:
        with open("/proc/mounts", encoding="utf-8") as f:
            tmpfs = any(line.split()[1:3] == [str(RAM_TEMP), "tmpfs"] for line in f)
        room = shutil.disk_usage(RAM_TEMP).free
    except OSError:
        return
    if tmpfs and room >= RAM_TEMP_FREE:
        os.environ["TMPDIR"] = str(RAM_TEMP)
        tempfile.tempdir = None  # gettempdir() reads TMPDIR again


_temp_in_ram()  # at import: before pytest makes its basetemp (xdist workers get theirs from it)


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


_SERVER: list = []  # the session's Prefect server, launched once collection knows a test needs it
WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", ... on an xdist worker, else None


def _needs_server(item: pytest.Item) -> bool:
    return "prefect_server" in getattr(item, "fixturenames", ())


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: a worker per core this process may use, at most four (each worker keeps a
    few staged worlds of about 250 MB open)."""
    return max(1, min(4, len(os.sched_getaffinity(0))))


SERVER_TESTS = "prefect-server-tests.txt"  # in the shared folder: what the workers collected


def _shared_folder(base: Path) -> Path:
    """The session's folder every xdist worker shares: beside the workers' own temp folders
    (``base`` is this process's pytest temp folder)."""
    return (base.parent if WORKER else base) / "shared"


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """The units of work handed to the workers: every test file is one (its module fixtures are
    built once), except that the tests that need the Prefect server are one unit of their own,
    sent first (the longest: they run one after another on one worker, against one server).
    xdist's ``--dist loadgroup`` would do this with ``xdist_group`` marks, but on pytest 9.2
    it silently stops grouping (pytest-xdist issue #1386), so the units are made here, from the
    list the workers write at collection."""
    from xdist.scheduler import LoadScopeScheduling

    listing = _shared_folder(config._tmp_path_factory.getbasetemp()) / SERVER_TESTS

    class Units(LoadScopeScheduling):
        server_tests: frozenset[str] = frozenset()

        def schedule(self) -> None:
            if self.collection is None and listing.exists():  # the first call: collection is done
                self.server_tests = frozenset(listing.read_text().splitlines())
            super().schedule()

        def _split_scope(self, nodeid: str) -> str:
            return "prefect" if nodeid in self.server_tests else nodeid.split("::")[0]

        def _assign_work_unit(self, node: Any) -> None:
            if "prefect" in self.workqueue:
                self.workqueue.move_to_end("prefect", last=False)
            super()._assign_work_unit(node)

    return Units(config, log)


@pytest.hookimpl(trylast=True)  # after pytest groups the parametrized fixtures
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need the Prefect server go last (in their collected order), and, in a run
    without xdist workers, the server is launched now: it boots (15-50 s on two busy cores)
    beside the quick tests instead of before the first slow one. On xdist workers it is
    launched by the first test that asks for it: only the worker that runs them needs one."""
    needs = [item for item in items if _needs_server(item)]
    if WORKER and not config.option.collectonly:  # for the scheduler (pytest_xdist_make_scheduler)
        listing = _shared_folder(config._tmp_path_factory.getbasetemp()) / SERVER_TESTS
        listing.parent.mkdir(exist_ok=True)
        part = listing.with_name(f"{listing.name}.{WORKER}")
        part.write_text("".join(item.nodeid + "\n" for item in needs))
        os.replace(part, listing)  # every worker writes the same list
    if not needs:
        return
    rest = [item for item in items if not _needs_server(item)]
    items[:] = rest + needs
    if not config.option.collectonly and not _SERVER and WORKER is None:
        from prefect_server import PrefectServer

        _SERVER.append(PrefectServer(Path(tempfile.mkdtemp(prefix="abuse-prefect-home-"))).launch())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    while _SERVER:
        server = _SERVER.pop()
        server.stop()
        shutil.rmtree(server.home, ignore_errors=True)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """A real Prefect server on loopback, on a free port, shared by the tests of one session
    (without xdist workers launched at collection, see above; on a worker, started here by the
    first test that asks: they all run on one worker, see pytest_xdist_make_scheduler)."""
    from prefect_server import PrefectServer

    if not _SERVER:
        _SERVER.append(PrefectServer(tmp_path_factory.mktemp("prefect-home")).launch())
    return _SERVER[0].wait_healthy()


@pytest.fixture(scope="session")
def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this test session shared by all its xdist workers (the parent of their own
    temp folders), for what they build once: write into it through ``helpers.built_once``."""
    root = _shared_folder(tmp_path_factory.getbasetemp())
    root.mkdir(exist_ok=True)
    return root


@pytest.fixture(scope="session")
def sample_run(shared_root: Path) -> tuple[Path, dict[str, Any]]:
    """The bundled sample run once per session, for all xdist workers (report + work database +
    three dossiers): ``(report database, the run's summary)``, for every test that checks what an
    analyst sees on the sample (README queries, dossier figures, the planted abuse found). Read
    it (read-only connections: other workers read it too), never write."""
    root = Path(__file__).resolve().parent.parent

    def run(out: Path) -> dict[str, Any]:
        out.mkdir()
        settings = Settings(landing=root / "sample_data" / "landing", db=out / "abuse.duckdb", dossiers_top=3)
        summary = run_nightly(settings, say=lambda _m: None)
        (out / "summary.pickle").write_bytes(pickle.dumps(summary))
        return summary

    out, summary = helpers.built_once(shared_root / "sample-report", run)
    return out / "abuse.duckdb", summary if summary is not None else pickle.loads((out / "summary.pickle").read_bytes())


@pytest.fixture(scope="session")
def sample_report(sample_run) -> Path:
    """The report database of ``sample_run``."""
    return sample_run[0]


@pytest.fixture(scope="session", autouse=True)
def _generated_root(shared_root: Path) -> None:
    helpers.set_generated_root(shared_root)


@pytest.fixture(scope="session")
def generated():
    """``generated(seed, scale, **flags) -> Path``: the generator's output, made once per
    session per argument set (see helpers.generated). A module may shadow this name with a
    parametrized fixture of its own that calls ``helpers.generated``."""
    return helpers.generated
