"""The delivery's own clock: the "now" of the future-timestamp rule for a data set dated ahead
of this machine."""

from __future__ import annotations

from datetime import datetime

import duckdb

from abuse.ingest.options import IngestOptions
from abuse.ingest.readers import _q
from abuse.ingest.results import FileResult
from abuse.schema import KINDS, TS

MIN_RECORDS_FOR_CLOCK = 50  # a delivery smaller than this never moves the future rule's "now"


def delivery_clock(
    con: duckdb.DuckDBPyConnection, results: list[FileResult], ingested_at: datetime, opts: IngestOptions
) -> datetime | None:
    """The delivery's own 99th-percentile timestamp when most of its records (at least
    ``MIN_RECORDS_FOR_CLOCK``) were quarantined as later than the run's start plus
    ``future_tolerance``: the data set describes days after this machine's clock (another team's
    generator, a clock set wrong). None for a delivery dated normally (the usual case: one count
    per kind). A stray row years ahead stays in the future of the delivery's own percentile."""
    seqs = [r.file_seq for r in results if not r.rejected]
    if not seqs:
        return None
    total = ahead = 0
    parts = []
    for name, kind in KINDS.items():
        row = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE _reject LIKE 'timestamp in the future%') "
            f"FROM raw_{name} WHERE list_contains(?, _file_seq)",
            [seqs],
        ).fetchall()[0]
        total, ahead = total + row[0], ahead + row[1]
        parts += [
            f"SELECT {_q(c.name)} AS t FROM raw_{name} WHERE list_contains($seqs, _file_seq)"
            for c in kind.columns
            if c.type == TS
        ]
    if total < MIN_RECORDS_FOR_CLOCK or ahead * 2 <= total:
        return None
    top = con.execute(f"SELECT quantile_disc(t, 0.99) FROM ({' UNION ALL '.join(parts)})", {"seqs": seqs}).fetchall()[
        0
    ][0]
    return top if top is not None and top > ingested_at + opts.future_tolerance else None
