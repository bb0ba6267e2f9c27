"""Where each detector spends its time: cProfile of every detector over a staged database.

    python bench/profile_detectors.py /tmp/abuse-bench/run-s5-seed1/cold/abuse.duckdb [--only timing]

Copies the working database (``<db>`` or its ``.work.duckdb`` beside it) to /tmp, sets the
window of its latest night as ``pipeline.stage`` does, runs each detector (in dependency order,
upstream results passed on) under cProfile and prints, per detector, its seconds, CPU seconds
the functions of ``abuse`` that took the most cumulative time, and the SQL statements that took
the most (named by their first line: a features file's first line names what it builds).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import shutil
import time
from pathlib import Path

from _common import cpu_s

SQL_TIMES: dict[str, list[float]] = {}


def _label(sql: object) -> str:
    text = str(sql).strip()
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    return first[:90]


def _timed(label: str, fn, *a, **kw):
    t0 = time.perf_counter()
    try:
        return fn(*a, **kw)
    finally:
        acc = SQL_TIMES.setdefault(label, [0, 0.0])
        acc[0] += 1
        acc[1] += time.perf_counter() - t0


class Rel:
    """A DuckDB relation whose materialisations are timed under its SQL's label."""

    MATERIALISE = {
        "pl",
        "df",
        "arrow",
        "fetchall",
        "fetchone",
        "fetchdf",
        "fetchnumpy",
        "fetch_arrow_table",
        "to_arrow_table",
    }

    def __init__(self, rel, label: str) -> None:
        self._rel, self._label = rel, label

    def __getattr__(self, name):
        attr = getattr(self._rel, name)
        if name in self.MATERIALISE:
            return lambda *a, **kw: _timed(self._label, attr, *a, **kw)
        return attr


class Con:
    """A connection whose statements are timed (``execute`` at once, ``sql`` when its relation is
    read)."""

    def __init__(self, con) -> None:
        self._con = con

    def execute(self, sql, *a, **kw):
        return _timed(_label(sql), self._con.execute, sql, *a, **kw)

    def sql(self, sql, *a, **kw):
        return Rel(self._con.sql(sql, *a, **kw), _label(sql))

    query = sql

    def __getattr__(self, name):
        return getattr(self._con, name)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("db", type=Path, help="the report database of a bench/nightly.py run (or its work file)")
    p.add_argument("--only", nargs="*", help="detectors to run and print (with the detectors they require)")
    p.add_argument("--top", type=int, default=12)
    p.add_argument("--memory-limit")
    p.add_argument("--threads", type=int)
    args = p.parse_args()

    import duckdb

    from abuse.detect.base import DetectContext, all_detectors, ordered, params_for
    from abuse.settings import Settings
    from abuse.sqlfiles import load_seeds, set_variables
    from abuse.store import work_path
    from abuse.window import latest_day, window_bounds

    src = args.db if args.db.name.endswith(".work.duckdb") else work_path(args.db)
    copy = Path("/tmp") / f"profile-{src.parent.parent.name}-{src.name}"
    shutil.copy2(src, copy)
    settings = Settings(landing=Path("/tmp"), db=args.db)
    con = duckdb.connect(str(copy))
    con.execute(f"SET TimeZone = '{settings.tz}'")
    if args.memory_limit:
        con.execute(f"SET memory_limit = '{args.memory_limit}'")
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    load_seeds(con)
    as_of = latest_day(con)
    start, end = window_bounds(as_of, settings.window_days, settings.tz)
    set_variables(con, window_start=start, window_end=end)
    detectors = all_detectors()
    import abuse.dossier.page  # noqa: F401  (imports outside the clock)

    needed = set(args.only or detectors)
    for name in reversed(ordered(detectors)):  # what the chosen ones require, run but not printed
        if name in needed:
            needed |= set(detectors[name].requires)
    results = {}
    for name in ordered(detectors):
        if name not in needed:
            continue
        cls = detectors[name]
        SQL_TIMES.clear()
        ctx = DetectContext(
            Con(con),
            start,
            end,
            settings.tz,
            params_for(cls, settings.detectors.get(name)),
            upstream={r: results[r] for r in cls.requires},
        )
        prof = cProfile.Profile()
        t0, c0 = time.perf_counter(), cpu_s()
        prof.enable()
        results[name] = cls().detect(ctx)
        prof.disable()
        secs, cpu = time.perf_counter() - t0, cpu_s() - c0
        if args.only and name not in args.only:
            continue
        print(f"== {name}: {secs:.2f} s, {cpu:.2f} cpu s, {len(results[name].findings)} findings")
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.sort_stats("cumulative").print_stats(r"abuse/", args.top)
        body = [ln for ln in out.getvalue().splitlines() if "abuse/" in ln]
        print("\n".join(body))
        for label, (n, t) in sorted(SQL_TIMES.items(), key=lambda kv: -kv[1][1])[: args.top]:
            print(f"   sql {t:7.2f} s  x{n:<4} {label}")
    con.close()
    copy.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
