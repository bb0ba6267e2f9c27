"""Time zones: offsets are absolute, naive times are platform-local, time of day is local."""

from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import _bump_mtime, nightly, order, work


@pytest.mark.parametrize("tz, naive_utc_hour", [("Asia/Shanghai", 12), ("Asia/Kolkata", 14), ("UTC", 20)])
def test_naive_timestamps_are_platform_local(tmp_path: Path, landing: Path, tz: str, naive_utc_hour: int) -> None:
    from helpers import write_landing

    write_landing(
        landing,
        "orders",
        "o.csv",
        [
            order(1, created_at="2026-06-18T20:00:00"),  # naive: platform-local 20:00
            order(2, created_at="2026-06-18T20:00:00+08:00"),  # absolute
            order(3, created_at="2026-06-18T12:00:00Z"),
        ],
    )  # absolute, same instant as 2
    nightly(tmp_path, landing, tz=tz)
    utc = work(tmp_path, "SELECT order_id, created_at FROM stg_orders ORDER BY 1", tz=tz)
    hours = {oid: ts.astimezone(timezone.utc).hour + ts.astimezone(timezone.utc).minute / 60 for oid, ts in utc}
    assert hours["o_0002"] == hours["o_0003"] == 12
    assert hours["o_0001"] == {"Asia/Shanghai": 12, "Asia/Kolkata": 14.5, "UTC": 20}[tz]
    local = work(
        tmp_path,
        "SELECT order_id, extract(hour FROM created_at), extract(minute FROM created_at) FROM stg_orders ORDER BY 1",
        tz=tz,
    )
    assert local[0][1:] == (20, 0)  # the naive one is 20:00 local in every zone


def test_parquet_timestamps_with_and_without_zone(tmp_path: Path, landing: Path) -> None:
    path = landing / "orders" / "o.parquet"
    path.parent.mkdir(parents=True)
    aware = datetime(2026, 6, 18, 12, 0, tzinfo=timezone.utc)
    naive = datetime(2026, 6, 18, 20, 0)
    table = pa.table(
        {
            "order_id": ["o1", "o2"],
            "account_id": ["a", "a"],
            "shop_id": ["s", "s"],
            "amount": pa.array([1.5, 2.0]),
            "created_at": pa.array([aware, aware.replace(hour=13)], pa.timestamp("us", tz="UTC")),
        }
    )
    pq.write_table(table, path)
    _bump_mtime(path)
    path2 = landing / "orders" / "o_naive.parquet"
    pq.write_table(
        pa.table(
            {
                "order_id": ["o3"],
                "account_id": ["a"],
                "shop_id": ["s"],
                "amount": pa.array([3.0]),
                "created_at": pa.array([naive], pa.timestamp("us")),
            }
        ),
        path2,
    )
    _bump_mtime(path2)
    nightly(tmp_path, landing, tz="Asia/Kolkata")
    got = dict(work(tmp_path, "SELECT order_id, created_at FROM stg_orders", tz="Asia/Kolkata"))
    assert got["o1"].astimezone(timezone.utc) == aware
    local = got["o3"]
    assert (local.hour, local.minute) == (20, 0) and local.utcoffset().total_seconds() == 5.5 * 3600
