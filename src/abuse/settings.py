"""One typed settings object: defaults, then a TOML file, then ``ABUSE_*`` environment
variables, then explicit arguments (the command line or a flow's parameters).

    ABUSE_TZ=Asia/Kolkata abuse nightly ...
    ABUSE_DETECTORS='{"rings": {"min_shops": 4}}' abuse nightly ...

The settings file is ``abuse.toml`` in the working directory, or the path in
``ABUSE_SETTINGS_FILE``. Nothing secret belongs here: the pipeline needs no credentials.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from abuse.ingest.options import DEFAULT_PII_KEY


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABUSE_", extra="forbid")

    landing: Path = Field(Path("sample_data/landing"), description="landing directory to ingest")
    db: Path = Field(Path("abuse.duckdb"), description="report database file")
    tz: str = Field("Asia/Shanghai", description="platform time zone for naive timestamps and time of day")
    as_of: date | None = Field(None, description="last day of the window; default: latest day with data")
    window_days: int = Field(30, ge=1, le=3660, description="days in the detection window")
    detectors: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per-detector parameter overrides, by detector name"
    )
    disabled_detectors: list[str] = Field(default_factory=list, description="detectors not to run")
    dossiers_top: int = Field(10, ge=0, description="how many top cases get an HTML dossier")
    init: bool = Field(False, description="allow --db in a directory that does not exist yet (a new history)")
    feedback_wait_s: float = Field(
        30.0, ge=0, description="how long to retry reading a feedback database an analyst holds "
                                "open read-write before going on with the verdicts copied before")
    max_field_bytes: int = Field(
        1 << 20, ge=1024, description="longest value (UTF-8 bytes) of one field at ingest; a record "
        "holding a longer one is quarantined alone")
    earliest_timestamp: date = Field(
        date(2000, 1, 1), description="timestamps before this day (platform-local) are quarantined: "
        "no event of the platform can be that old")
    future_tolerance_days: float = Field(
        2.0, ge=0, description="timestamps later than the delivery (the run's start) plus this many "
        "days are quarantined")
    pii_hash_key: SecretStr = Field(
        SecretStr(DEFAULT_PII_KEY), exclude=True, description="key of the HMAC-SHA256 that replaces a "
        "raw mobile number delivered in phone_hash (env ABUSE_PII_HASH_KEY; never recorded in runs)")
    memory_limit: str | None = Field(
        None, description="DuckDB memory limit for the run, e.g. '6GB' (it spills beyond it); default 80% of RAM")
    threads: int | None = Field(None, ge=1, description="DuckDB (and polars) threads; default one per core")

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


def load_settings(file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from defaults < file < environment < non-None ``overrides``."""
    path = file or Path(os.environ.get("ABUSE_SETTINGS_FILE", "abuse.toml"))
    from_file: dict[str, Any] = {}
    if path.is_file():
        with path.open("rb") as f:
            from_file = tomllib.load(f)
    env = Settings().model_dump(exclude_unset=True)  # environment only
    merged = {**from_file, **env, **{k: v for k, v in overrides.items() if v is not None}}
    return Settings(**merged)
