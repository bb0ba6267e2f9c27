"""Every pattern the detectors may emit, declared once: its name (as in the contract), a title
for people, and the prefix of its case ids (``ring-3f2a…``). Cases, dossiers, evaluation and the
README check read this table; a detector declares which of these names it emits.

To add a pattern: add a row here, a row to the README's pattern table (a test checks), and, when
it is in the data contract, use the contract's name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pattern:
    name: str
    title: str  # "Extortion ring": heading of a dossier, a case in the index
    cluster_prefix: str  # case ids are "<prefix>-<hash>"
    members: str = "accounts"  # what its members are called in a sentence


PATTERNS: dict[str, Pattern] = {
    p.name: p
    for p in (
        Pattern("extortion_ring", "Extortion ring", "ring"),
        Pattern("coupon_hoarding", "Coupon-hoarding batch", "batch"),
        Pattern("scripted_timing", "Scripted accounts", "bots"),
        Pattern("batch_registration", "Registration batch", "regs"),
        Pattern("vote_inflation", "Vote / like / follow farm", "farm"),
        Pattern("brushing_ring", "Order-brushing crew", "brush"),
        Pattern("serial_refunder", "Serial refunders", "refund"),
    )
}


def pattern(name: str) -> Pattern:
    """The declared pattern ``name``; an undeclared name is an error, not a silent new kind."""
    try:
        return PATTERNS[name]
    except KeyError:
        raise ValueError(f"pattern {name!r} is not declared in abuse.detect.patterns") from None
