"""The one detector signature, the shapes of what detectors return, and the registry.

A detector is a subclass of ``DetectorBase`` with a ``name``, the ``patterns`` it may emit
(declared in ``abuse.detect.patterns``), a pydantic ``Params`` model of its thresholds (all with
defaults), the names of the detectors whose results it reads (``requires``), and
``run(ctx) -> DetectorResult``. It reads the staged tables (``stg_*``) and features through
``ctx.con``, and upstream results through ``ctx.upstream.get(name)``; it never writes tables, never
recomputes another detector's work, and knows nothing of runs or publishing.

Each detector is a package ``abuse.detect.<name>/`` (``__init__.py`` holds the detector and its
Params; one module per step beside it) and registers itself with ``@register``; the registry
imports every package, so a new detector plugs in without touching the flow. ``ordered`` gives
the run order that honours ``requires``.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import duckdb
from pydantic import BaseModel


@dataclass(frozen=True)
class DetectContext:
    """What a detector gets. ``con``'s session TimeZone is the platform zone, so
    ``extract(hour from ts)`` on a TIMESTAMPTZ column is platform-local time of day.
    Staged tables hold all history; the window is ``[window_start, window_end)``."""

    con: duckdb.DuckDBPyConnection
    window_start: datetime
    window_end: datetime
    tz: str
    params: BaseModel
    upstream: dict[str, "DetectorResult"] = field(default_factory=dict)  # results of ``requires``


@dataclass
class Finding:
    """One account flagged under one pattern."""

    account_id: str
    pattern: str
    score: float  # 0..1, higher = more certain
    reason: str  # one sentence a person can read, naming the figures behind it
    evidence: dict[str, Any] = field(default_factory=dict)
    cluster_key: str | None = None  # a Cluster.cluster_key of the same result, or None


@dataclass
class Cluster:
    """One ring or batch. ``cluster_key`` is local to one detector result; the publisher
    turns it into a stable ``cluster_id`` across runs."""

    cluster_key: str
    pattern: str
    account_ids: list[str]
    score: float
    summary: str
    shop_ids: list[str] | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    loss_estimate: float | None = 0.0  # yuan; None where the pattern estimates no money
    evidence: dict[str, Any] = field(default_factory=dict)
    target_ids: list[str] | None = None  # activity targets a cluster inflated (vote_inflation)


@dataclass
class Spike:
    """A window in which a scope's count far exceeds its baseline."""

    scope: str
    window_start: datetime
    window_end: datetime
    observed: float
    expected: float
    score: float
    top_account_ids: list[str] = field(default_factory=list)
    explained_by: str | None = None
    p_value: float | None = None  # of the count against its baseline, corrected for the tests made
    occurrences: int = 1  # a recurring incident: how many bursts it folds
    cadence: str | None = None  # e.g. "every hour at :26"
    flagged_share: float | None = None  # of the first minutes' accounts, flagged by upstream detectors
    cluster_keys: list[tuple[str, str]] = field(default_factory=list)  # (pattern, cluster_key) of those


@dataclass
class DetectorResult:
    findings: list[Finding] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    spikes: list[Spike] = field(default_factory=list)
    # frames a detector hands to the detectors that require it (e.g. spikes' burst "events")
    handover: dict[str, Any] = field(default_factory=dict)


class DetectorBase:
    """What every detector shares. Subclasses set ``name``, ``patterns``, ``Params`` and
    optionally ``requires``, and implement ``run``; ``detect`` checks what ``run`` returns
    against the declared patterns and the score range."""

    name: ClassVar[str]
    patterns: ClassVar[tuple[str, ...]] = ()
    Params: ClassVar[type[BaseModel]]
    requires: ClassVar[tuple[str, ...]] = ()
    # What a night costs it: "window" when it reads every event of the window each run (its
    # statistics - medians, gaps, the population's own clock - do not add up day by day, so an
    # incremental night costs it as much as a cold one), "day" when it needs only the new
    # day's rows and maintained aggregates. Said in the progress lines and the benchmark.
    reads: ClassVar[str] = "window"

    @classmethod
    def maintain(cls, con: duckdb.DuckDBPyConnection, params: BaseModel) -> str | None:
        """Bring the detector's per-day feature tables up to date after staging (the stage
        calls it on the write connection; abuse.features); says what it did. None: it keeps none."""
        return None

    def run(self, ctx: DetectContext) -> DetectorResult:
        raise NotImplementedError

    def detect(self, ctx: DetectContext) -> DetectorResult:
        result = self.run(ctx)
        allowed = set(self.patterns)
        items: list[Finding | Cluster] = [*result.findings, *result.clusters]
        for item in items:
            if item.pattern not in allowed:
                raise ValueError(
                    f"detector {self.name!r} emitted pattern {item.pattern!r}, not among its declared {sorted(allowed)}"
                )
            if not 0.0 <= item.score <= 1.0:
                raise ValueError(f"detector {self.name!r} gave {item.pattern} a score of {item.score}")
        return result


Detector = DetectorBase  # the name the rest of the code uses for the signature


_REGISTRY: dict[str, type[DetectorBase]] = {}


def register(cls: type[DetectorBase]) -> type[DetectorBase]:
    """Class decorator: make a detector known to the nightly run. Its patterns must be declared
    in ``abuse.detect.patterns``."""
    from abuse.detect.patterns import pattern

    for name in cls.patterns:
        pattern(name)
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"two detectors are named {cls.name!r}")
    _REGISTRY[cls.name] = cls
    return cls


def all_detectors() -> dict[str, type[DetectorBase]]:
    """Every registered detector class by name, importing each package of ``abuse.detect``."""
    import abuse.detect as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.ispkg:
            importlib.import_module(f"abuse.detect.{mod.name}")
    return dict(sorted(_REGISTRY.items()))


def ordered(detectors: dict[str, type[DetectorBase]]) -> list[str]:
    """Detector names in an order where each comes after the detectors it ``requires``
    (alphabetical among equals, so the order is stable). A required detector that is not in
    ``detectors`` (disabled) is skipped: its result is then absent from ``ctx.upstream``, and the
    detector that reads it goes on without (``ctx.upstream.get``). A circular requirement is an
    error naming the detectors involved."""
    done: list[str] = []
    todo = dict(sorted(detectors.items()))
    while todo:
        ready = [n for n, c in todo.items() if all(r in done or r not in detectors for r in getattr(c, "requires", ()))]
        if not ready:
            raise ValueError(
                f"detectors {sorted(todo)} require each other or a detector that is "
                f"not there: {[(n, c.requires) for n, c in todo.items()]}"
            )
        done.append(ready[0])
        del todo[ready[0]]
    return done


def params_for(cls: type[DetectorBase], overrides: dict[str, Any] | None) -> BaseModel:
    """A detector's typed parameters: its defaults, overridden by settings. A name the
    detector does not know is an error, not a silently ignored typo."""
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(cls.Params.model_fields))
    if unknown:
        known = ", ".join(cls.Params.model_fields)
        raise ValueError(f"detector {cls.name!r} has no parameter {', '.join(unknown)} (it has: {known})")
    return cls.Params(**overrides)
