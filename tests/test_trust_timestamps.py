"""Every ISO 8601 timestamp spelling keeps its instant; what is not ISO 8601 is quarantined with a
reason, never misread (a zone abbreviation such as CST is ambiguous: DuckDB reads it as US
Central time, 14 hours off China Standard Time)."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_trust_deliveries import deliver, load

HEAD = "order_id,account_id,shop_id,amount,created_at\n"
UTC = timezone.utc


def _orders(stamps: list[str]) -> bytes:
    return (HEAD + "".join(f'o{i:02d},a,s,1,"{t}"\n' for i, t in enumerate(stamps))).encode()


def _instants(con) -> dict[str, datetime]:
    rows = con.execute("SELECT order_id, created_at FROM raw_orders WHERE _reject IS NULL").fetchall()
    return {k: v.astimezone(UTC) for k, v in rows}


SPELLINGS = {  # text -> the instant it names (naive: Asia/Shanghai, UTC+8)
    "2026-06-18T20:00:03+08:00": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
    "2026-06-18T12:00:03Z": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
    "2026-06-18t12:00:03z": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
    "2026-06-18T20:00:03": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
    "2026-06-18 20:00:03": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
    "2026-06-18T20:00:03+0800": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
    "2026-06-18T20:00:03+08": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
    "2026-06-18T20:00:03 +08:00": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
    "2026-06-18T07:00:03-05:00": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
    "2026-06-18T17:45:03+05:45": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
    "2026-06-18T20:00": datetime(2026, 6, 18, 12, 0, tzinfo=UTC),
    "2026-06-18": datetime(2026, 6, 17, 16, 0, tzinfo=UTC),
    "2026-06-18T20:00:03.123456+08:00": datetime(2026, 6, 18, 12, 0, 3, 123456, tzinfo=UTC),
    "2026-06-18T20:00:03.123456789+08:00": datetime(2026, 6, 18, 12, 0, 3, 123456, tzinfo=UTC),
    "2026-06-18T20:00:03,5+08:00": datetime(2026, 6, 18, 12, 0, 3, 500000, tzinfo=UTC),
    "20260618T200003+0800": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
    "20260618T120003Z": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
    "2026-06-18T20:00:03+08:00[Asia/Shanghai]": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
    "2026-06-18T20:00:03[Asia/Shanghai]": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
    "2026-06-18T12:00:03 UTC": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
    "2026-06-18 12:00:03 gmt": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
    "2026-06-18 07:00:03 America/New_York": datetime(2026, 6, 18, 11, 0, 3, tzinfo=UTC),
    " 2026-06-18T20:00:03+08:00 ": datetime(2026, 6, 18, 12, 0, 3, tzinfo=UTC),
}
REFUSED = {  # text -> the quarantine reason
    "2026-06-18T20:00:03 CST": "time zone abbreviation in created_at: '2026-06-18T20:00:03 CST' (ambiguous: CST is "
    "China or US Central time; ISO 8601 offsets such as +08:00 are expected)",
    "2026-06-18 20:00:03 EST": "time zone abbreviation in created_at: '2026-06-18 20:00:03 EST' (ambiguous: CST is "
    "China or US Central time; ISO 8601 offsets such as +08:00 are expected)",
    "1781784003": "unparseable timestamp in created_at: '1781784003' (a plain number, perhaps epoch seconds or "
    "milliseconds; the contract's timestamps are ISO 8601)",
    "1781784003000": "unparseable timestamp in created_at: '1781784003000' (a plain number, perhaps epoch seconds or "
    "milliseconds; the contract's timestamps are ISO 8601)",
    "18/06/2026 20:00": "unparseable timestamp in created_at: '18/06/2026 20:00'",
    "2026-02-30T10:00:00": "unparseable timestamp in created_at: '2026-02-30T10:00:00'",
    "Thursday": "unparseable timestamp in created_at: 'Thursday'",
}


def test_every_iso_spelling_keeps_its_instant_and_the_rest_is_quarantined(tmp_path: Path) -> None:
    stamps = list(SPELLINGS) + list(REFUSED)
    deliver(tmp_path, {"orders": [("o.csv", _orders(stamps))]})
    con, q = load(tmp_path)
    got = _instants(con)
    assert got == {f"o{i:02d}": want for i, want in enumerate(SPELLINGS.values())}
    assert [(n, r) for _f, n, r in q] == [(len(SPELLINGS) + 1 + i, why) for i, why in enumerate(REFUSED.values())]


def test_local_times_in_a_zone_with_daylight_saving(tmp_path: Path) -> None:
    """--tz America/New_York: a naive time the zone's clock skips or repeats is read in standard
    time (DuckDB's ICU rule, the same every run): 02:30 in the spring-forward gap is 02:30 EST
    (07:30 UTC, which the clock shows as 03:30 EDT); 01:30 in the autumn overlap is its second
    occurrence, 01:30 EST. An explicit offset settles either; every other local time is exact."""
    stamps = {
        "2026-03-08T01:59:59": datetime(2026, 3, 8, 6, 59, 59, tzinfo=UTC),
        "2026-03-08T02:30:00": datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
        "2026-03-08T03:00:00": datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
        "2026-11-01T00:59:59": datetime(2026, 11, 1, 4, 59, 59, tzinfo=UTC),
        "2026-11-01T01:30:00": datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
        "2026-11-01T01:30:00-04:00": datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        "2026-11-01T02:00:00": datetime(2026, 11, 1, 7, 0, tzinfo=UTC),
    }
    deliver(tmp_path, {"orders": [("o.csv", _orders(list(stamps)))]})
    con, q = load(tmp_path, tz="America/New_York")
    assert q == [] and _instants(con) == {f"o{i:02d}": want for i, want in enumerate(stamps.values())}


ZONES = ["Asia/Shanghai", "America/New_York", "UTC", "Asia/Kolkata"]


def _spell(instant: datetime, form: int, tz: str) -> str:
    local = instant.astimezone(ZoneInfo(tz))
    offset = timezone(timedelta(minutes=(form * 97) % 1560 - 720))  # some offset in -12:00..+13:59
    return [
        lambda: instant.astimezone(offset).isoformat(),
        lambda: instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        lambda: instant.astimezone(offset).strftime("%Y-%m-%dT%H:%M:%S.%f%z"),
        lambda: instant.astimezone(UTC).strftime("%Y%m%dT%H%M%S,%fz"),
        lambda: local.replace(tzinfo=None).isoformat(),  # naive: the platform's zone
        lambda: local.strftime("%Y-%m-%d %H:%M:%S.%f"),
        lambda: local.isoformat() + f"[{tz}]",
    ][form % 7]()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    instants=st.lists(
        st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2026, 11, 1), timezones=st.just(UTC)),
        min_size=1,
        max_size=30,
    ),
    forms=st.lists(st.integers(0, 200), min_size=30, max_size=30),
    tz=st.sampled_from(ZONES),
    ext=st.sampled_from(["csv", "jsonl"]),
)
def test_any_instant_in_any_spelling_loads_as_that_instant(instants, forms, tz, ext) -> None:
    zone = ZoneInfo(tz)
    # a naive spelling of a local time the zone repeats (autumn overlap) names two instants: skip those
    instants = [
        t
        for t in instants
        if t.astimezone(zone).replace(tzinfo=None, fold=0).replace(tzinfo=zone).astimezone(UTC) == t.replace(fold=0)
        and t.astimezone(zone).replace(tzinfo=None, fold=1).replace(tzinfo=zone).astimezone(UTC) == t.replace(fold=0)
    ]
    stamps = [_spell(t, f, tz) for t, f in zip(instants, forms)]
    with tempfile.TemporaryDirectory(prefix="trust5-ts-") as d:
        landing = Path(d)
        if ext == "csv":
            data = _orders(stamps)
        else:
            data = "".join(
                f'{{"order_id":"o{i:02d}","account_id":"a","shop_id":"s","amount":1,"created_at":"{t}"}}\n'
                for i, t in enumerate(stamps)
            ).encode()
        deliver(landing, {"orders": [(f"o.{ext}", data)]})
        con, q = load(landing, tz=tz)
        assert q == []
        assert _instants(con) == {f"o{i:02d}": t for i, t in enumerate(instants[: len(stamps)])}
        con.close()


@pytest.mark.parametrize("column", ["released_at"])
def test_a_zone_abbreviation_quarantines_only_its_record(tmp_path: Path, column: str) -> None:
    head = f"campaign_id,{column},face_value\n"
    data = head + "c1,2026-06-18T20:00:00+08:00,5\nc2,2026-06-18 20:00:00 CST,5\nc3,2026-06-18T20:00:00,5\n"
    deliver(tmp_path, {"campaigns": [("c.csv", data.encode())]})
    con, q = load(tmp_path)
    assert [(n, r.split(":")[0]) for _f, n, r in q] == [(2, f"time zone abbreviation in {column}")]
    assert con.execute("SELECT campaign_id FROM raw_campaigns WHERE _reject IS NULL ORDER BY 1").fetchall() == [
        ("c1",),
        ("c3",),
    ]
