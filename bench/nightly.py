"""The nightly run per stage against a bare DuckDB load of the same files.

    python bench/nightly.py --scale 0.5
    python bench/nightly.py --scale 5 --json > /tmp/nightly-5.json
    python bench/nightly.py --scale 10 --memory-limit 6GB --threads 2 --incremental
    python bench/nightly.py --scale 50 --memory-limit 6GB --incremental --no-cold   # hours on 2 cores
    python bench/nightly.py --show /tmp/abuse-bench/run-s50-seed1/bench.json   # its tables, so far

Data comes from `abuse generate --scale S --seed N` (cached under /tmp/abuse-bench/ by scale
and seed). Each measurement runs in a fresh child process so its peak RSS is its own:

- bare: every landing file `CREATE TABLE AS SELECT * FROM read_csv/read_parquet/read_json(file)`
  into a fresh DuckDB file, per kind;
- nightly: the pipeline's own stages (`abuse.pipeline.start, ingest_stage, stage, detect,
  publish_stage, dossiers_stage`) on a fresh database, with `run.timings`, ingest seconds per
  kind from the per-file results, and the peak RSS during each stage (psutil, sampled every
  20 ms in a thread; the `total` row is the child's ru_maxrss);
- with --incremental: the same landing split into history (all but the last day) and the last
  day; a cold nightly over the history, then the day's files land and a second nightly runs
  on that database (an incremental night).

Prints a table (rows, seconds, rows/s, peak RSS MB, bare seconds and nightly/bare ratio, and
the CPU seconds of the process (every thread) per stage with their ratio to the bare load's:
on a machine other work shares, CPU seconds move far less than wall seconds);
--json prints the measurements as JSON instead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import PeakRSS, cpu_s, maxrss_mb

from abuse.window import EVENT_TIMES

CACHE = Path("/tmp/abuse-bench")


# --- data ------------------------------------------------------------------------------------


def generated(scale: float, seed: int) -> Path:
    """The landing directory of `abuse generate` at this scale and seed (cached)."""
    out = CACHE / f"gen-s{scale:g}-seed{seed}"
    if not (out / "landing").is_dir():
        from abuse.generate import generate

        tmp = out.with_name(out.name + ".part")
        shutil.rmtree(tmp, ignore_errors=True)
        generate(tmp, seed=seed, scale=scale)
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
    return out / "landing"


def reader(path: Path) -> str:
    name = path.name
    if name.endswith((".csv", ".csv.gz")):
        return f"read_csv('{path}')"
    if name.endswith((".jsonl", ".jsonl.gz")):
        return f"read_json('{path}', format='newline_delimited')"
    return f"read_parquet('{path}')"


def landing_files(landing: Path) -> list[tuple[str, Path]]:
    return sorted((p.parent.name, p) for p in landing.glob("*/*") if p.is_file())


def _as_text(con: Any, path: Path) -> str:
    """A relation over ``path`` with every column as the text the file holds (parquet keeps
    its types: it has no text to keep)."""
    if path.name.endswith((".csv", ".csv.gz")):
        return f"read_csv('{path}', all_varchar=true)"
    if path.name.endswith((".jsonl", ".jsonl.gz")):
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {reader(path)}").fetchall()]
        cols = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
        return f"read_json('{path}', format='newline_delimited', columns={cols})"
    return reader(path)


def split_last_day(landing: Path) -> tuple[Path, Path]:
    """(history landing, last-day folder): each file's rows before the last day (by the date
    its time column names) go to ``history/<kind>/``, the last day's rows to ``day/<kind>/``,
    as parquet; campaigns stay whole in the history."""
    import duckdb

    root = landing.parent / "split"
    hist, day = root / "history", root / "day"
    if (root / "done").exists():
        return hist, day
    shutil.rmtree(root, ignore_errors=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    files = landing_files(landing)
    day_of = {kind: f"left(CAST({col} AS VARCHAR), 10)" for kind, col in EVENT_TIMES.items()}
    last = max(
        con.execute(f"SELECT max({day_of[kind]}) FROM {_as_text(con, path)}").fetchone()[0]
        for kind, path in files
        if kind == "orders"
    )
    for kind, path in files:
        (hist / kind).mkdir(parents=True, exist_ok=True)
        if kind not in EVENT_TIMES:
            shutil.copy2(path, hist / kind / path.name)
            continue
        (day / kind).mkdir(parents=True, exist_ok=True)
        src = _as_text(con, path)
        stem = path.name.split(".")[0]
        con.execute(
            f"COPY (SELECT * FROM {src} WHERE {day_of[kind]} < '{last}') "
            f"TO '{hist / kind / stem}.parquet' (FORMAT parquet)"
        )
        con.execute(
            f"COPY (SELECT * FROM {src} WHERE {day_of[kind]} >= '{last}') "
            f"TO '{day / kind / stem}_day.parquet' (FORMAT parquet)"
        )
    (root / "done").write_text(str(last))
    return hist, day


# --- measurements (in a child process) -------------------------------------------------------


class Stages(list):
    """The stage rows of one measurement; each is also told on stderr as it lands (a long run
    shows how far it got)."""

    def append(self, row: dict[str, Any]) -> None:
        super().append(row)
        print(
            f"[bench {time.strftime('%H:%M:%S')}] {row['stage']}: {row['seconds']:.1f}s, "
            f"{row.get('cpu_s') or 0:.1f} cpu s, {row['peak_mb']:.0f} MB, load {os.getloadavg()[0]:.1f}",
            file=sys.stderr,
            flush=True,
        )


def measure_bare(landing: Path, work: Path) -> dict[str, Any]:
    import duckdb

    peak = PeakRSS(every_s=0.02).begin()
    db = work / "bare.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    stages: list[dict[str, Any]] = Stages()
    t_all = time.perf_counter()
    per_kind: dict[str, list[float]] = {}
    for i, (kind, path) in enumerate(landing_files(landing)):
        peak.reset()
        t0 = time.perf_counter()
        con.execute(f"CREATE TABLE {kind}_{i} AS SELECT * FROM {reader(path)}")
        rows = con.execute(f"SELECT count(*) FROM {kind}_{i}").fetchone()[0]
        acc = per_kind.setdefault(kind, [0, 0.0, 0.0, 0.0])
        acc[0] += rows
        acc[1] += time.perf_counter() - t0
        acc[2] = max(acc[2], peak.mb())
        acc[3] += peak.cpu_s()
    con.execute("CHECKPOINT")
    con.close()
    for kind, (rows, secs, mb, cpu) in per_kind.items():
        stages.append({"stage": f"ingest:{kind}", "rows": rows, "seconds": secs, "peak_mb": mb, "cpu_s": cpu})
    return {
        "stages": stages,
        "seconds": time.perf_counter() - t_all,
        "cpu_s": cpu_s(),
        "rows": sum(s["rows"] for s in stages),
        "peak_mb": maxrss_mb(),
    }


def measure_nightly(
    landing: Path, db: Path, memory_limit: str | None, threads: int | None, dossiers_top: int
) -> dict[str, Any]:
    from abuse import pipeline
    from abuse.engine import limits
    from abuse.settings import Settings

    peak = PeakRSS(every_s=0.02).begin()
    kw: dict[str, Any] = {"memory_limit": memory_limit, "threads": threads}
    settings = Settings(
        landing=landing, db=db, dossiers_top=dossiers_top, init=True, **{k: v for k, v in kw.items() if v is not None}
    )
    said: list[str] = []
    from abuse.detect.base import DetectContext, all_detectors, ordered, params_for

    all_detectors()  # imports every detector package (outside the stages' times)
    import abuse.dossier.page  # noqa: F401  (and the dossier pages' scipy: with PYTHONDONTWRITEBYTECODE

    # set, as on the development machine, every process compiles it from source, seconds of CPU)
    t_all = time.perf_counter()
    run = pipeline.start(settings, say=said.append)
    engine_limits = limits(run.con)
    stages: list[dict[str, Any]] = Stages()
    stages.append({"stage": "start", "rows": 0, "seconds": time.perf_counter() - t_all, "peak_mb": peak.mb()})
    con = run.con

    def staged_rows() -> int:
        tables = [
            r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'stg_%'").fetchall()
        ]
        return sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)

    try:
        peak.reset()
        report = pipeline.ingest_stage(run)
        mb, cpu = peak.mb(), peak.cpu_s()
        by_kind: dict[str, list[float]] = {}
        for f in report.files:
            acc = by_kind.setdefault(f.file.kind, [0, 0.0])
            acc[0] += f.rows
            acc[1] += f.seconds
        for kind, (rows, secs) in sorted(by_kind.items()):
            stages.append({"stage": f"ingest:{kind}", "rows": rows, "seconds": secs, "peak_mb": mb})
        stages.append(
            {
                "stage": "ingest",
                "rows": sum(f.rows for f in report.files),
                "seconds": run.timings["ingest"],
                "peak_mb": mb,
                "cpu_s": cpu,
            }
        )
        peak.reset()
        pipeline.stage(run)
        n_staged = staged_rows()
        note = next((s for s in said if s.startswith("[stage]")), "")
        staging_s = re.search(r" in ([0-9.]+)s; window", note)
        stages.append(
            {
                "stage": "stage",
                "rows": n_staged,
                "seconds": run.timings["stage"],
                "peak_mb": peak.mb(),
                "cpu_s": peak.cpu_s(),
                "note": note,
            }
        )
        if staging_s:  # of which: stg_* maintained (merged or rebuilt); the rest is checks and seeds
            stages.append(
                {
                    "stage": "stage:staging",
                    "rows": n_staged,
                    "seconds": float(staging_s.group(1)),
                    "peak_mb": stages[-1]["peak_mb"],
                    "note": note.split(";")[0][17:],
                }
            )
        detectors = {n: c for n, c in all_detectors().items() if n not in settings.disabled_detectors}
        for name in ordered(detectors):  # pipeline.detect, one detector at a time to see each one's peak
            cls = detectors[name]
            peak.reset()
            t0 = time.perf_counter()
            ctx = DetectContext(
                run.con,
                run.window_start,
                run.window_end,
                settings.tz,
                params_for(cls, settings.detectors.get(name)),
                upstream={r: run.results[r] for r in cls.requires},
            )
            result = cls().detect(ctx)
            run.results[name] = result
            run.timings[f"detect:{name}"] = time.perf_counter() - t0
            stages.append(
                {
                    "stage": f"detect:{name}",
                    "rows": n_staged,
                    "seconds": run.timings[f"detect:{name}"],
                    "peak_mb": peak.mb(),
                    "cpu_s": peak.cpu_s(),
                    "note": f"{len(result.findings)} findings; reads the {cls.reads}",
                }
            )
        peak.reset()
        pipeline.publish_stage(run)
        findings = sum(len(r.findings) for r in run.results.values())
        stages.append(
            {
                "stage": "publish",
                "rows": findings,
                "seconds": run.timings["publish"],
                "peak_mb": peak.mb(),
                "cpu_s": peak.cpu_s(),
            }
        )
    except BaseException as exc:
        pipeline.fail(run, exc)
        run.con.close()
        raise
    peak.reset()
    pages = pipeline.dossiers_stage(run)
    stages.append(
        {
            "stage": "dossiers",
            "rows": len(pages),
            "seconds": run.timings.get("dossiers", 0.0),
            "peak_mb": peak.mb(),
            "cpu_s": peak.cpu_s(),
        }
    )
    peak.reset()
    t0 = time.perf_counter()
    run.con.close()  # checkpoints the write-ahead log into the file
    stages.append(
        {"stage": "close", "rows": 0, "seconds": time.perf_counter() - t0, "peak_mb": peak.mb(), "cpu_s": peak.cpu_s()}
    )
    return {
        "stages": stages,
        "seconds": time.perf_counter() - t_all,
        "cpu_s": cpu_s(),
        "rows": sum(s["rows"] for s in stages if s["stage"].startswith("ingest:")),
        "peak_mb": maxrss_mb(),
        "limits": engine_limits,
    }


# --- driver ----------------------------------------------------------------------------------


def child(mode: str, *args: str, keep: tuple[dict[str, Any], Path] | None = None, name: str = "") -> dict[str, Any]:
    """One measurement in a fresh process; with ``keep=(out, path)`` it is also stored as
    ``out[name]`` and ``out`` written to ``path`` (what a killed run had measured stays)."""
    load0 = os.getloadavg()[0]
    # (stderr passes through: the child's progress lines, and its traceback if it fails)
    out = subprocess.run([sys.executable, __file__, "--child", mode, *args], stdout=subprocess.PIPE, text=True)
    if out.returncode:
        raise SystemExit(f"{mode} failed (its error is above)")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["load_1min"] = [round(load0, 2), round(os.getloadavg()[0], 2)]  # at its start and end
    if keep:
        keep[0][name] = res
        keep[1].write_text(json.dumps(keep[0], indent=1))
    return res


def machine() -> dict[str, Any]:
    import psutil

    return {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_1min": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
    }


def _row(stage: str, m: dict[str, Any], bare_s: float | None, bare_cpu: float | None) -> str:
    """One line of the table: a stage's (or the process's) measures ``m`` and their ratios to the
    bare load's seconds and CPU seconds, where those are known."""
    rate = m["rows"] / m["seconds"] if m["seconds"] > 0 else 0
    bare_col = "" if bare_s is None else f"{bare_s:7.2f}"
    ratio_col = "" if not bare_s else f"{m['seconds'] / bare_s:5.1f}x"
    cpu = m.get("cpu_s")
    cpu_col = "" if cpu is None else f"{cpu:7.2f}"
    cpu_ratio = "" if cpu is None or not bare_cpu else f"{cpu / bare_cpu:8.1f}x"
    return (
        f"{stage:<24} {m['rows']:>11,} {m['seconds']:>8.2f} {rate:>11,.0f} "
        f"{m['peak_mb']:>8.0f} {bare_col:>7} {ratio_col:>6} {cpu_col:>7} {cpu_ratio:>9}"
    )


def table(title: str, nightly: dict[str, Any], bare: dict[str, Any] | None) -> str:
    bare_s = {s["stage"]: s["seconds"] for s in (bare or {}).get("stages", [])}
    bare_cpu = {s["stage"]: s.get("cpu_s") for s in (bare or {}).get("stages", [])}
    if bare:  # all of ingest against the whole bare load
        bare_s["ingest"] = sum(s["seconds"] for s in bare["stages"])
        bare_cpu["ingest"] = sum(s.get("cpu_s") or 0.0 for s in bare["stages"]) or None
    if nightly.get("load_1min"):
        title += f" (1-min load {nightly['load_1min'][0]} -> {nightly['load_1min'][1]}"
        title += f"; bare load's {bare['load_1min'][0]} -> {bare['load_1min'][1]})" if bare else ")"
    lines = [
        title,
        f"{'stage':<24} {'rows':>11} {'seconds':>8} {'rows/s':>11} {'peak MB':>8} "
        f"{'bare s':>7} {'ratio':>6} {'cpu s':>7} {'cpu ratio':>9}  note",
    ]
    for s in nightly["stages"]:
        row = _row(s["stage"], s, bare_s.get(s["stage"]), bare_cpu.get(s["stage"]))
        lines.append(f"{row}  {s.get('note', '')[:90]}")
    bcpu = (bare or {}).get("cpu_s")
    lines.append(_row("total (process)", nightly, bare["seconds"] if bare else None, bcpu))
    if bare:
        bcpu_col = "" if bcpu is None else f"{bcpu:7.2f}"
        lines.append(
            f"{'bare load (process)':<24} {bare['rows']:>11,} {bare['seconds']:>8.2f} "
            f"{bare['rows'] / bare['seconds']:>11,.0f} {bare['peak_mb']:>8.0f} {'':>7} {'':>6} "
            f"{bcpu_col:>7}"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", type=float, default=0.5, help="abuse generate --scale")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--memory-limit", help="the memory_limit setting, e.g. 6GB")
    p.add_argument("--threads", type=int, help="the threads setting")
    p.add_argument("--dossiers", type=int, default=10, help="dossiers_top")
    p.add_argument(
        "--incremental",
        action="store_true",
        help="also: history (all but the last day) cold, then the last day as an incremental night",
    )
    p.add_argument(
        "--no-cold",
        action="store_true",
        help="with --incremental: skip the cold night over the whole landing; the history night is the cold "
        "night, against a bare load of the history files (one night fewer at large scales)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument("--show", type=Path, help="print the tables of a saved --json output, and nothing else")
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.show:
        show(json.loads(args.show.read_text()))
        return
    if args.child:
        mode, *rest = args.child
        if mode == "bare":
            res = measure_bare(Path(rest[0]), Path(rest[1]))
        else:
            res = measure_nightly(
                Path(rest[0]), Path(rest[1]), rest[2] or None, int(rest[3]) if rest[3] else None, int(rest[4])
            )
        print(json.dumps(res))
        return

    landing = generated(args.scale, args.seed)
    work = CACHE / f"run-s{args.scale:g}-seed{args.seed}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    lim = [args.memory_limit or "", str(args.threads or ""), str(args.dossiers)]
    out: dict[str, Any] = {
        "scale": args.scale,
        "seed": args.seed,
        "machine": machine(),
        "landing_mb": round(sum(p.stat().st_size for _, p in landing_files(landing)) / 2**20, 1),
    }
    keep = (out, work / "bench.json")  # (python bench/nightly.py --show <it> prints its tables)
    cold = not (args.incremental and args.no_cold)
    if cold:
        out["bare"] = child("bare", str(landing), str(work), keep=keep, name="bare")
        out["nightly"] = child(
            "nightly", str(landing), str(work / "cold" / "abuse.duckdb"), *lim, keep=keep, name="nightly"
        )
    if args.incremental:
        hist, day = split_last_day(landing)
        inc_landing = work / "landing"
        shutil.copytree(hist, inc_landing)
        if not cold:  # the bare load of the files the history night reads
            out["bare"] = child("bare", str(inc_landing), str(work), keep=keep, name="bare")
        out["history"] = child(
            "nightly", str(inc_landing), str(work / "inc" / "abuse.duckdb"), *lim, keep=keep, name="history"
        )
        shutil.copytree(day, inc_landing, dirs_exist_ok=True)
        out["incremental"] = child(
            "nightly", str(inc_landing), str(work / "inc" / "abuse.duckdb"), *lim, keep=keep, name="incremental"
        )
    out["machine"]["load_1min_end"] = round(os.getloadavg()[0], 2)
    if args.json:
        print(json.dumps(out, indent=1))
        return
    show(out)


def show(out: dict[str, Any]) -> None:
    """The tables of one benchmark run (``out``: what --json prints)."""
    m = out["machine"]
    first = out.get("nightly") or out.get("history") or {}
    print(
        f"scale {out['scale']:g} seed {out['seed']}: landing {out['landing_mb']} MB, {m['cores']} cores, "
        f"{m['memory_gb']} GB, load {m['load_1min']} -> {m.get('load_1min_end', '?')}; limits {first.get('limits')}"
    )
    cold = "nightly" in out
    if cold:
        print(table("cold nightly vs bare DuckDB load of the same files", out["nightly"], out["bare"]))
    if "history" in out:
        print()
        print(
            table(
                "history (all but the last day), cold" + ("" if cold else ", vs a bare load of the history files"),
                out["history"],
                None if cold else out["bare"],
            )
        )
    if "incremental" in out:
        print()
        print(table("incremental night (the last day's files on the ingested history)", out["incremental"], None))


if __name__ == "__main__":
    main()
