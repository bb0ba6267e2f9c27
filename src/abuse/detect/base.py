"""The one detector signature, the shapes of what detectors return, and the registry.

A detector is a plain object with a ``name``, the ``patterns`` it may emit, a pydantic
``Params`` model of its thresholds (all with defaults), and ``detect(ctx) -> DetectorResult``.
It reads the staged tables (``stg_*``) and features through ``ctx.con`` and returns findings;
it never writes tables and knows nothing of runs or publishing.

Modules in ``abuse.detect`` register their detector with ``@register``; the registry imports
every module of the package, so a new detector plugs in without touching the flow.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

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
    loss_estimate: float = 0.0
    evidence: dict[str, Any] = field(default_factory=dict)


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


@dataclass
class DetectorResult:
    findings: list[Finding] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    spikes: list[Spike] = field(default_factory=list)


class Detector(Protocol):
    name: ClassVar[str]
    patterns: ClassVar[tuple[str, ...]]
    Params: ClassVar[type[BaseModel]]

    def detect(self, ctx: DetectContext) -> DetectorResult: ...


_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make a detector known to the nightly run."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"two detectors are named {cls.name!r}")
    _REGISTRY[cls.name] = cls
    return cls


def all_detectors() -> dict[str, type]:
    """Every registered detector class by name, importing each module of ``abuse.detect``."""
    import abuse.detect as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if not mod.name.startswith("_") and mod.name != "base":
            importlib.import_module(f"abuse.detect.{mod.name}")
    return dict(sorted(_REGISTRY.items()))


def params_for(cls: type, overrides: dict[str, Any] | None) -> BaseModel:
    """A detector's typed parameters: its defaults, overridden by settings. A name the
    detector does not know is an error, not a silently ignored typo."""
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(cls.Params.model_fields))
    if unknown:
        known = ", ".join(cls.Params.model_fields)
        raise ValueError(f"detector {cls.name!r} has no parameter {', '.join(unknown)} (it has: {known})")
    return cls.Params(**overrides)


