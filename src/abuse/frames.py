"""Scalars read out of polars frames, with the types the code relies on.

Polars types an aggregate (``Series.max()``, ``.min()``, ``.median()``, ``.item()``) as any Python
literal or None, whatever the column holds. These say what the caller knows: a numeric column's
aggregate is an int, float or Decimal, a timestamp column's a datetime; None (an empty or all-null
column) is ``default`` where one is given and an error where it is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

import polars as pl
from polars.datatypes import DataTypeClass

_NUMBER = (int, float, Decimal)


def number(value: object, default: float | None = None) -> float:
    """A numeric aggregate as a float (None: ``default``)."""
    if value is None and default is not None:
        return default
    if not isinstance(value, _NUMBER):
        raise TypeError(f"expected a number, got {value!r}")
    return float(value)


def integer(value: object, default: int | None = None) -> int:
    """A numeric aggregate as an int, truncated like ``int()`` (None: ``default``)."""
    if value is None and default is not None:
        return default
    if not isinstance(value, _NUMBER):
        raise TypeError(f"expected a number, got {value!r}")
    return int(value)


def instant(value: object) -> datetime | None:
    """A timestamp aggregate (``ts.min()``) as a datetime; None (no rows) stays None."""
    if value is not None and not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {value!r}")
    return value


# A frame's schema as the code writes it: column name to a polars type, class (``pl.String``) or
# instance (``pl.Datetime("us", "UTC")``).
Schema = Mapping[str, pl.DataType | DataTypeClass]
