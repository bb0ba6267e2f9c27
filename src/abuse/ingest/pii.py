"""Raw mobile numbers caught at ingest, as SQL expressions over one text column.

A mainland mobile number is 11 digits starting ``1[3-9]``, possibly written with ``+86`` /
``0086`` and spaces, dashes, dots or brackets. Where the contract promises no raw number:

- ``phone_prefix`` (the number segment) keeps the first 7 digits;
- ``phone_hash`` gets HMAC-SHA256(key, the 11 digits) in hex, so the same number delivered raw
  in any spelling gets one stable pseudonym and still links accounts (the key is the setting
  ``pii_hash_key`` / ``ABUSE_PII_HASH_KEY``; hashes delivered already hashed are kept);
- free text (``text``, ``reason``, ``name``) is masked to ``139****0020``.

The raw number is replaced before anything is stored, so no table, report view, dossier or
log line downstream can show it. A value counts as masked when the expression changed it
(counted per kind and column in the run record).
"""

from __future__ import annotations

import hashlib
import re

# spelling of a whole value that is one mobile number
_SEPARATORS = r"[\s\-().]"
_WHOLE = r"(\+?86|0086)?1[3-9][0-9]{9}"
# a number inside text: not glued to other digits, digit groups separated by a space or a dash
_S = "[ -]?"
_IN_TEXT = (
    r"(^|[^0-9])(?:\+?86"
    + _S
    + r")?(1[3-9][0-9])"
    + (_S + "[0-9]") * 4
    + "".join(_S + "([0-9])" for _ in range(4))
    + r"([^0-9]|$)"
)
_IN_TEXT_REPL = r"\1\2****\3\4\5\6\7"
_LOOSE = "1[3-9](" + _S + "[0-9]){9}"  # cheap pre-filter: most texts hold no candidate at all


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _norm(col: str) -> str:
    return f"regexp_replace({col}, {_lit(_SEPARATORS)}, '', 'g')"


def is_mobile(col: str) -> str:
    """SQL: the whole value is one raw mobile number."""
    return f"regexp_full_match({_norm(col)}, {_lit(_WHOLE)})"


def _digits(col: str) -> str:
    return f"right({_norm(col)}, 11)"


def hmac_sql(message: str, key: str) -> str:
    """SQL for HMAC-SHA256(key, message) in hex (RFC 2104, over DuckDB's sha256 of blobs)."""
    k = key.encode()
    if len(k) > 64:
        k = hashlib.sha256(k).digest()
    k = k.ljust(64, b"\0")
    ipad = bytes(b ^ 0x36 for b in k).hex()
    opad = bytes(b ^ 0x5C for b in k).hex()
    inner = f"sha256(unhex('{ipad}') || encode({message}))"
    return f"sha256(unhex('{opad}') || unhex({inner}))"


def prefix_sql(col: str) -> str:
    return f"CASE WHEN {is_mobile(col)} THEN left({_digits(col)}, 7) ELSE {col} END"


def hash_sql(col: str, key: str) -> str:
    return f"CASE WHEN {is_mobile(col)} THEN {hmac_sql(_digits(col), key)} ELSE {col} END"


def mask_text_sql(col: str) -> str:
    """SQL: ``col`` with every mobile number in it masked (``139****0020``)."""
    once = f"regexp_replace({{}}, {_lit(_IN_TEXT)}, {_lit(_IN_TEXT_REPL)}, 'g')"
    # twice: two numbers one separator apart share that separator between their matches
    twice = once.format(once.format(col))
    return f"CASE WHEN regexp_matches({col}, {_lit(_LOOSE)}) THEN {twice} ELSE {col} END"


def protect_sql(kind: str, col: str, key: str) -> str | None:
    """SQL replacing raw numbers in column ``col`` of ``kind`` (None: the column is left)."""
    what = PII_COLUMNS.get((kind, col))
    if what == "prefix":
        return prefix_sql(_q(col))
    if what == "hash":
        return hash_sql(_q(col), key)
    if what == "text":
        return mask_text_sql(_q(col))
    return None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# Where raw numbers are looked for. Identifier columns are opaque and left alone: an 11-digit
# numeric order id is not a phone number, and changing ids would break the joins.
PII_COLUMNS = {
    ("accounts", "phone_prefix"): "prefix",
    ("accounts", "phone_hash"): "hash",
    ("reviews", "text"): "text",
    ("refunds", "reason"): "text",
    ("campaigns", "name"): "text",
}


_PY_IN_TEXT = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?(1[3-9][0-9])(?:[ -]?[0-9]){4}((?:[ -]?[0-9]){4})(?![0-9])")


def mask_text(text: str | None) -> str | None:
    """``mask_text_sql`` in Python, for messages (a reader's error quoting a line)."""
    if not text:
        return text
    return _PY_IN_TEXT.sub(lambda m: m.group(1) + "****" + re.sub(r"[ -]", "", m.group(2)), text)
