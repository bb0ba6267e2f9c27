"""What the spikes detector hands to the detectors that read its result (``requires``).

- ``DetectorResult.spikes``: the incidents (``report.activity_spikes``); ``spike_frame`` gives
  the ones a reader keeps as a frame (scope, window, observed, expected, p_value);
- ``DetectorResult.handover["events"]``: the events (family, detail, minute, ts, account_id,
  device_id, ip; sql/features/spikes_events.sql) of each one-off burst's scope family from
  ``handover_pad_min`` minutes before to as long after it, inside the window: who acted in a
  burst, so a reader (timing's lone members) never rebuilds the event union the search read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

import polars as pl

from abuse.detect.base import DetectorResult, Spike
from abuse.frames import Schema
from abuse.sqlfiles import read_sql, temp_table

EVENTS = "events"
EVENT_SCHEMA: Schema = {
    "family": pl.String,
    "detail": pl.String,
    "minute": pl.Datetime("us", "UTC"),
    "ts": pl.Datetime("us", "UTC"),
    "account_id": pl.String,
    "device_id": pl.String,
    "ip": pl.String,
}


def spike_frame(upstream: dict[str, DetectorResult], tz: str, keep: Callable[[Spike], bool]) -> pl.DataFrame:
    """The spikes of the ``spikes`` result in ``upstream`` (none when it is absent) that ``keep``
    accepts: scope, window_start, window_end (in ``tz``), observed, expected, p_value."""
    found = upstream["spikes"].spikes if "spikes" in upstream else []
    return pl.DataFrame(
        [
            {
                "scope": s.scope,
                "window_start": s.window_start,
                "window_end": s.window_end,
                "observed": float(s.observed),
                "expected": float(s.expected),
                "p_value": float(s.p_value if s.p_value is not None else 1.0),
            }
            for s in found
            if keep(s)
        ],
        schema={
            "scope": pl.String,
            "window_start": pl.Datetime("us", tz),
            "window_end": pl.Datetime("us", tz),
            "observed": pl.Float64,
            "expected": pl.Float64,
            "p_value": pl.Float64,
        },
    )


def burst_events(con, spikes: Iterable[Spike], pad_min: int) -> pl.DataFrame:
    """The events of ``spikes_events`` (the detector's TEMP table, still there) in each one-off
    spike's family, ``pad_min`` minutes either side of it (sql/features/spikes_handover.sql)."""
    rows = [
        (
            s.scope.split(":", 1)[0],
            s.window_start - timedelta(minutes=pad_min),
            s.window_end + timedelta(minutes=pad_min),
        )
        for s in spikes
        if s.occurrences == 1
    ]
    frame = pl.DataFrame(
        rows,
        schema={"family": pl.String, "lo": pl.Datetime("us", "UTC"), "hi": pl.Datetime("us", "UTC")},
        orient="row",
    )
    with temp_table(con, "spikes_handover_found", frame):
        return con.sql(read_sql("features/spikes_handover.sql")).pl()


def events_of(upstream: dict[str, DetectorResult]) -> pl.DataFrame:
    """The burst events the ``spikes`` result handed over (none without one)."""
    result = upstream.get("spikes")
    events = None if result is None else result.handover.get(EVENTS)
    return pl.DataFrame(schema=EVENT_SCHEMA) if events is None else events
