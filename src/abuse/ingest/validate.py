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


def zone_abbreviation(col: str) -> str:
    """SQL: the text ends in a zone abbreviation (``20:00:03 CST``). ISO 8601 has none, and DuckDB
    would read CST as US Central time, 14 hours off China Standard Time: such a timestamp is
    quarantined, never misread. A full zone name (``Asia/Shanghai``) or UTC/GMT is kept. DuckDB
    reads a zone word only after a space that follows the time, so the cheap first test (a
    space after a colon) is false for ISO 8601 and for ``2026-06-18 20:00:03`` alike."""
    c = _q(col)
    return (
        f"({c} LIKE '%:% %' AND regexp_matches({c}, '[A-Ya-y]$') "
        f"AND NOT regexp_matches({c}, '(/[A-Za-z_+-]+|[^A-Za-z](UTC|GMT|UT))$', 'i'))"
    )


def iso_spelled(col: str) -> str:
    """SQL: the ISO 8601 spellings DuckDB does not read, respelled as ones it does (evaluated
    only for a value DuckDB could not read): the basic format ``20260618T200003+0800``, a
    lower-case ``t`` or ``z``, a decimal comma ``20:00:03,5``, a space before the offset, and
    a zone name in brackets after the offset (``+08:00[Asia/Shanghai]``, Java's form: the offset
    counts) or alone (``20:00:03[Asia/Shanghai]``: the named zone)."""
    steps = [
        (r"^([0-9]{4})([0-9]{2})([0-9]{2})[Tt]([0-9]{2})([0-9]{2})([0-9]{2})", r"\1-\2-\3T\4:\5:\6"),
        (r"^([0-9]{4}-[0-9]{2}-[0-9]{2})t", r"\1T"),
        (r"([0-9]{2}:[0-9]{2}:[0-9]{2}),([0-9])", r"\1.\2"),
        (r"([0-9])\s+([+-][0-9]{2}(:?[0-9]{2})?)$", r"\1\2"),
        (r"([0-9])z$", r"\1Z"),
        (r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)\[[^\]]*\]$", r"\1"),
        (r"\[([^\]]+)\]$", r" \1"),
    ]
    out = f"trim({_q(col)})"
    for pattern, repl in steps:
        out = f"regexp_replace({out}, '{pattern}', '{repl}')"
    return out


def typed_columns(kind: Kind) -> str:
    """SQL select-list: each typed column cast once, as ``"_t_<name>"``. A timestamp DuckDB
    cannot read as it stands is read again in its ISO 8601 respelling (``iso_spelled``); one
    ending in a zone abbreviation is not read at all."""

    def cast(c) -> str:
        if c.type != TS:
            return f"TRY_CAST({_q(c.name)} AS {c.type})"
        return (
            f"CASE WHEN {zone_abbreviation(c.name)} THEN NULL::TIMESTAMPTZ "
            f"ELSE coalesce(TRY_CAST({_q(c.name)} AS {TS}), TRY_CAST({iso_spelled(c.name)} AS {TS})) END"
        )

    return ", ".join(f"{cast(c)} AS {typed(c.name)}" for c in kind.columns if c.type != "VARCHAR")


Rule = tuple[str, str]  # (SQL condition, SQL reason)


def reject_expression(
    kind: Kind, options: IngestOptions | None = None, delivered_at: datetime | None = None, from_file: bool = False
) -> str:
    """``delivered_at`` is the "now" of the future-timestamp rule; ``from_file`` says it is the
    delivery's own 99th-percentile timestamp (a delivery dated ahead of this machine's clock).
    The first rule a record breaks is its reason: record-wide rules, then each column's (its
    type's, then its allowed values), then the kind's own."""
    opts = options or IngestOptions()
    latest, latest_text = _latest_allowed(opts, delivered_at, from_file)
    rules = _record_rules(kind, opts.max_field_bytes)
    for c in kind.columns:
        col = _q(c.name)
        if c.required and not (kind.name == "reviews" and c.name == "rating"):
            what = "missing key" if c.name in kind.key else "missing required value"
            rules.append((f"{col} IS NULL", f"'{what}: {c.name}'"))
        if c.type == TS:
            rules += _timestamp_rules(c.name, opts, latest, latest_text)
        elif c.type == MONEY:
            rules += _money_rules(c.name)
        elif c.type in ("INTEGER", "DOUBLE"):
            rules += _number_rules(c.name, c.type)
        allowed = ALLOWED.get((kind.name, c.name))
        if allowed:
            values = ", ".join(f"'{v}'" for v in allowed)
            rules.append(
                (f"{col} IS NOT NULL AND lower({col}) NOT IN ({values})", f"'unknown {c.name}: ' || {_show(c.name)}")
            )
    rules += _kind_rules(kind)
    whens = "\n        ".join(f"WHEN {cond} THEN {reason}" for cond, reason in rules)
    return f"CASE\n        {whens}\n    END"


def _record_rules(kind: Kind, max_bytes: int) -> list[Rule]:
    """What the reader found, a repeated header row, an over-long value."""
    rules: list[Rule] = [("_pre_reject IS NOT NULL", "_pre_reject"), ("NOT _json_ok", "'not a JSON object'")]
    # the header again inside the file (exports joined with cat): named as such, not as a bad amount
    first, second = kind.required[:2]
    rules.append(
        (
            f"{_q(first)} = '{first}' AND {_q(second)} = '{second}'",
            "'a repeated header row (files joined together?)'",
        )
    )
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
    return rules


def _latest_allowed(opts: IngestOptions, delivered_at: datetime | None, from_file: bool) -> tuple[datetime, str]:
    """The latest timestamp a record may carry (the delivery's "now" plus the tolerance), and
    how the future rule's reason says so."""
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
    return latest, latest_text


def _timestamp_rules(name: str, opts: IngestOptions, latest: datetime, latest_text: str) -> list[Rule]:
    """A zone abbreviation, a plain number, unparseable, before the platform, in the future."""
    col, t = _q(name), typed(name)
    return [
        (
            f"{col} IS NOT NULL AND {t} IS NULL AND {zone_abbreviation(name)} AND "
            f"TRY_CAST(regexp_replace({col}, '\\s*[A-Za-z]+$', '') AS {TS}) IS NOT NULL",
            f"'time zone abbreviation in {name}: ' || {_show(name)} || ' (ambiguous: CST is China "
            "or US Central time; ISO 8601 offsets such as +08:00 are expected)'",
        ),
        (
            f"{col} IS NOT NULL AND {t} IS NULL AND regexp_full_match(trim({col}), '[0-9]{{9,13}}([.][0-9]*)?')",
            f"'unparseable timestamp in {name}: ' || {_show(name)} || ' (a plain number, perhaps "
            "epoch seconds or milliseconds; the contract''s timestamps are ISO 8601)'",
        ),
        (f"{col} IS NOT NULL AND {t} IS NULL", f"'unparseable timestamp in {name}: ' || {_show(name)}"),
        (
            f"{t} < TIMESTAMPTZ '{opts.earliest.isoformat()} 00:00:00'",
            f"'timestamp before the platform could exist in {name}: ' || {_show(name)} || "
            f"' (earlier than {opts.earliest.isoformat()}, setting earliest_timestamp)'",
        ),
        (
            f"{t} > TIMESTAMPTZ '{latest.isoformat()}'",
            f"'timestamp in the future in {name}: ' || {_show(name)} || ' ({latest_text})'",
        ),
    ]


def _money_rules(name: str) -> list[Rule]:
    """Unparseable, more than 2 decimals, negative."""
    col, t = _q(name), typed(name)
    return [
        (f"{col} IS NOT NULL AND {t} IS NULL", f"'unparseable amount in {name}: ' || {_show(name)}"),
        # the text's value read as a double differs from the 2-decimal one: 1.234 -> 1.23
        # (a double: DuckDB's DECIMAL(38) cast from text costs 5x the whole ingest).
        # Within a millionth it is that value written as a binary float by a JSON or CSV
        # writer (17.099999999999998 is 17.10), as parquet's doubles are read
        (
            f"abs(TRY_CAST({col} AS DOUBLE) - CAST({t} AS DOUBLE)) > 1e-6",
            f"'more than 2 decimals in {name}: ' || {_show(name)} || ' (money is in yuan, up to 2 decimals)'",
        ),
        (f"{t} < 0", f"'negative amount in {name}: ' || {_show(name)}"),
    ]


def _number_rules(name: str, type_: str) -> list[Rule]:
    """Not a number; for an INTEGER not whole, for a DOUBLE not finite."""
    col, t = _q(name), typed(name)
    rules = [(f"{col} IS NOT NULL AND {t} IS NULL", f"'not a number in {name}: ' || {_show(name)}")]
    if type_ == "INTEGER":  # TRY_CAST('2.5' AS INTEGER) would round it to 3
        rules.append((f"TRY_CAST({col} AS DOUBLE) <> {t}", f"'not a whole number in {name}: ' || {_show(name)}"))
    else:
        rules.append((f"NOT isfinite({t})", f"'not a finite number in {name}: ' || {_show(name)}"))
    return rules


def _kind_rules(kind: Kind) -> list[Rule]:
    """Rules of one kind across its columns (a review's rating, an activity's duration)."""
    rules: list[Rule] = []
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
    return rules
