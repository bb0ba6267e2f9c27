"""The row rules of the contract as one SQL expression: the reason a record is quarantined,
or NULL when it is fine. The first broken rule is the one reported."""

from __future__ import annotations

from abuse.schema import MONEY, TS, Kind

ALLOWED = {
    ("reviews", "action"): ("posted", "amended", "withdrawn"),
    ("coupon_events", "action"): ("claim", "redeem", "return", "expire"),
    ("refunds", "kind"): ("refund", "compensation"),
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _show(col: str) -> str:
    # the offending value, quoted and cut short, inside the reason
    return f"'''' || left({_q(col)}, 60) || ''''"


def reject_expression(kind: Kind) -> str:
    rules: list[tuple[str, str]] = [("NOT _json_ok", "'not a JSON object'")]
    for c in kind.columns:
        col = _q(c.name)
        if c.required and not (kind.name == "reviews" and c.name == "rating"):
            what = "missing key" if c.name in kind.key else "missing required value"
            rules.append((f"{col} IS NULL", f"'{what}: {c.name}'"))
        if c.type == TS:
            rules.append(
                (f"{col} IS NOT NULL AND TRY_CAST({col} AS TIMESTAMPTZ) IS NULL",
                 f"'unparseable timestamp in {c.name}: ' || {_show(c.name)}")
            )
        elif c.type == MONEY:
            rules.append(
                (f"{col} IS NOT NULL AND TRY_CAST({col} AS {MONEY}) IS NULL",
                 f"'unparseable amount in {c.name}: ' || {_show(c.name)}")
            )
            rules.append(
                (f"TRY_CAST({col} AS {MONEY}) < 0", f"'negative amount in {c.name}: ' || {_show(c.name)}")
            )
        elif c.type in ("INTEGER", "DOUBLE"):
            rules.append(
                (f"{col} IS NOT NULL AND TRY_CAST({col} AS {c.type}) IS NULL",
                 f"'not a number in {c.name}: ' || {_show(c.name)}")
            )
        allowed = ALLOWED.get((kind.name, c.name))
        if allowed:
            values = ", ".join(f"'{v}'" for v in allowed)
            rules.append(
                (f"{col} IS NOT NULL AND lower({col}) NOT IN ({values})",
                 f"'unknown {c.name}: ' || {_show(c.name)}")
            )
    if kind.name == "reviews":
        rules.append(
            ("rating IS NULL AND coalesce(lower(action), 'posted') <> 'withdrawn'",
             "'missing required value: rating (only a withdrawn action may omit it)'")
        )
        rules.append(
            ("TRY_CAST(rating AS INTEGER) NOT BETWEEN 1 AND 5", "'rating outside 1..5: ' || rating")
        )
    if kind.name == "activity":
        rules.append(("TRY_CAST(duration_s AS DOUBLE) < 0", "'negative duration_s: ' || duration_s"))
    whens = "\n        ".join(f"WHEN {cond} THEN {reason}" for cond, reason in rules)
    return f"CASE\n        {whens}\n    END"
