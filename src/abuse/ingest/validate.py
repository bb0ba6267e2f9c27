"""The row rules of the contract as one SQL expression: the reason a record is quarantined,
or NULL when it is fine. The first broken rule is the one reported.

The expression reads the record's text columns and, for every typed column ``c``, its typed
value ``"_t_c"`` (``typed_columns``: cast once, used by the rules and stored). A value the
contract's type does not allow is quarantined, never coerced: money with more than 2
decimals, a rating of 2.5, a count of 1e400 are not rounded into something else.
"""

from __future__ import annotations

from datetime import datetime, timezone

from abuse.ingest.options import IngestOptions
from abuse.schema import MONEY, TS, Kind

ALLOWED = {
    ("reviews", "action"): ("posted", "amended", "withdrawn"),
    ("coupon_events", "action"): ("claim", "redeem", "return", "expire"),
    ("refunds", "kind"): ("refund", "compensation"),
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def typed(name: str) -> str:
    return _q("_t_" + name)


def _show(col: str) -> str:
    # the offending value, quoted and cut short, inside the reason
    return f"'''' || left({_q(col)}, 60) || ''''"


def typed_columns(kind: Kind) -> str:
    """SQL select-list: each typed column cast once, as ``"_t_<name>"``."""
    return ", ".join(
        f"TRY_CAST({_q(c.name)} AS {c.type}) AS {typed(c.name)}" for c in kind.columns if c.type != "VARCHAR"
    )


def reject_expression(
    kind: Kind, options: IngestOptions | None = None, delivered_at: datetime | None = None, from_file: bool = False
) -> str:
    """``delivered_at`` is the "now" of the future-timestamp rule; ``from_file`` says it is the
    delivery's own 99th-percentile timestamp (a delivery dated ahead of this machine's clock)."""
    opts = options or IngestOptions()
    delivered = (delivered_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    latest = delivered + opts.future_tolerance
    tol_days = opts.future_tolerance.total_seconds() / 86400
    days = f"{tol_days:g} day{'s' if tol_days != 1 else ''}, setting future_tolerance_days"
    latest_text = (
        f"later than {delivered:%Y-%m-%d %H:%M} UTC plus {days}; the delivery is dated ahead of "
        "this machine''s clock, so its own 99th-percentile time counts as now"
        if from_file
        else f"later than the delivery ({delivered:%Y-%m-%d %H:%M} UTC) plus {days}"
    )
    max_bytes = opts.max_field_bytes
    rules: list[tuple[str, str]] = [("_pre_reject IS NOT NULL", "_pre_reject"), ("NOT _json_ok", "'not a JSON object'")]
    # one test over all columns (the usual case: none is long), then which one it is
    which = " ".join(
        f"WHEN strlen({_q(c.name)}) > {max_bytes} THEN '{c.name}: ' || format('{{:,}}', strlen({_q(c.name)}))"
        for c in kind.columns
    )
    longest = "greatest(" + ", ".join(f"coalesce(strlen({_q(c.name)}), 0)" for c in kind.columns) + ")"
    rules.append(
        (
            f"{longest} > {max_bytes}",
            f"'over-long value in ' || CASE {which} END || "
            f"' bytes (the maximum is {max_bytes:,}, setting max_field_bytes)'",
        )
    )
    for c in kind.columns:
        col, t = _q(c.name), typed(c.name)
        if c.required and not (kind.name == "reviews" and c.name == "rating"):
            what = "missing key" if c.name in kind.key else "missing required value"
            rules.append((f"{col} IS NULL", f"'{what}: {c.name}'"))
        if c.type == TS:
            rules.append(
                (f"{col} IS NOT NULL AND {t} IS NULL", f"'unparseable timestamp in {c.name}: ' || {_show(c.name)}")
            )
            rules.append(
                (
                    f"{t} < TIMESTAMPTZ '{opts.earliest.isoformat()} 00:00:00'",
                    f"'timestamp before the platform could exist in {c.name}: ' || {_show(c.name)} || "
                    f"' (earlier than {opts.earliest.isoformat()}, setting earliest_timestamp)'",
                )
            )
            rules.append(
                (
                    f"{t} > TIMESTAMPTZ '{latest.isoformat()}'",
                    f"'timestamp in the future in {c.name}: ' || {_show(c.name)} || ' ({latest_text})'",
                )
            )
        elif c.type == MONEY:
            rules.append(
                (f"{col} IS NOT NULL AND {t} IS NULL", f"'unparseable amount in {c.name}: ' || {_show(c.name)}")
            )
            rules.append(
                # the text's value read as a double differs from the 2-decimal one: 1.234 -> 1.23
                # (a double: DuckDB's DECIMAL(38) cast from text costs 5x the whole ingest)
                (
                    f"TRY_CAST({col} AS DOUBLE) <> CAST({t} AS DOUBLE)",
                    f"'more than 2 decimals in {c.name}: ' || {_show(c.name)} || ' (money is in yuan, "
                    "up to 2 decimals)'",
                )
            )
            rules.append((f"{t} < 0", f"'negative amount in {c.name}: ' || {_show(c.name)}"))
        elif c.type in ("INTEGER", "DOUBLE"):
            rules.append((f"{col} IS NOT NULL AND {t} IS NULL", f"'not a number in {c.name}: ' || {_show(c.name)}"))
            if c.type == "INTEGER":  # TRY_CAST('2.5' AS INTEGER) would round it to 3
                rules.append(
                    (f"TRY_CAST({col} AS DOUBLE) <> {t}", f"'not a whole number in {c.name}: ' || {_show(c.name)}")
                )
            else:
                rules.append((f"NOT isfinite({t})", f"'not a finite number in {c.name}: ' || {_show(c.name)}"))
        allowed = ALLOWED.get((kind.name, c.name))
        if allowed:
            values = ", ".join(f"'{v}'" for v in allowed)
            rules.append(
                (f"{col} IS NOT NULL AND lower({col}) NOT IN ({values})", f"'unknown {c.name}: ' || {_show(c.name)}")
            )
    if kind.name == "reviews":
        rules.append(
            (
                "rating IS NULL AND coalesce(lower(action), 'posted') <> 'withdrawn'",
                "'missing required value: rating (only a withdrawn action may omit it)'",
            )
        )
        rules.append((f"{typed('rating')} NOT BETWEEN 1 AND 5", "'rating outside 1..5: ' || rating"))
    if kind.name == "activity":
        rules.append((f"{typed('duration_s')} < 0", "'negative duration_s: ' || duration_s"))
    whens = "\n        ".join(f"WHEN {cond} THEN {reason}" for cond, reason in rules)
    return f"CASE\n        {whens}\n    END"
