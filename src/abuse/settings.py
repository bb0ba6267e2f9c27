"""One typed settings object, from pydantic-settings sources merged deeply, field by field:

    defaults < settings file < ABUSE_* environment < command line < flow (UI) parameters

The settings file is the one given (``--settings FILE``, or ``ABUSE_SETTINGS_FILE``), else
``abuse.toml`` in the working directory, else the ``[tool.abuse]`` table of ``pyproject.toml``
there. Nested tables merge key by key: a file holding ``[detectors.rings] min_members = 5`` keeps
it when the environment sets another detector's threshold::

    ABUSE_TZ=Asia/Kolkata abuse nightly ...
    ABUSE_DETECTORS='{"hoarding": {"min_accounts": 8}}' abuse nightly ...
    ABUSE_DETECTORS__RINGS__MIN_MEMBERS=4 abuse nightly ...

Every detector threshold is checked against that detector's typed ``Params`` when the settings
load, so a misspelt name or a bad value is one clear error before any work starts. Nothing
secret belongs here: the pipeline needs no credentials.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, create_model, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

if TYPE_CHECKING:
    from abuse.detect.base import DetectorBase

DEFAULT_FILE = Path("abuse.toml")
_FILE: ContextVar[Path | None] = ContextVar("abuse_settings_file", default=None)


class SettingsError(ValueError):
    """A setting that cannot be used, in one plain sentence."""


def _detectors() -> dict[str, type[DetectorBase]]:
    from abuse.detect.base import all_detectors  # lazy: the registry imports every detector

    return all_detectors()


def _error_text(exc: ValidationError, prefix: str) -> str:
    parts = []
    for err in exc.errors():
        own = (err.get("ctx") or {}).get("error")
        if isinstance(own, SettingsError):  # already says where
            parts.append(str(own))
            continue
        loc = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        msg = err["msg"].removeprefix("Value error, ")
        given = f" (got {err['input']!r})" if err["type"] != "extra_forbidden" and "input" in err else ""
        parts.append(f"{loc}: {msg[0].lower()}{msg[1:]}{given}")
    return "; ".join(parts)


def check_thresholds(value: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Validate per-detector threshold overrides against each detector's ``Params`` and return
    them typed (only the thresholds given; ``None`` means "not given"). An unknown detector,
    an unknown threshold or a bad value raises ``SettingsError`` naming it."""
    detectors = _detectors()
    out: dict[str, dict[str, Any]] = {}
    for name, given in (value or {}).items():
        if name not in detectors:
            raise SettingsError(f"there is no detector {name!r} (there are: {', '.join(detectors)})")
        if given is None:
            continue
        if isinstance(given, BaseModel):
            given = given.model_dump(exclude_none=True)
        if not isinstance(given, dict):
            raise SettingsError(f"detectors.{name} must be a table of thresholds, not {given!r}")
        given = {k: v for k, v in given.items() if v is not None}
        params = detectors[name].Params
        unknown = sorted(set(given) - set(params.model_fields))
        if unknown:
            raise SettingsError(
                f"detector {name!r} has no threshold {', '.join(unknown)} (it has: {', '.join(params.model_fields)})"
            )
        try:
            typed = params(**given)
        except ValidationError as exc:
            raise SettingsError(_error_text(exc, f"detectors.{name}")) from None
        if given:
            out[name] = typed.model_dump(include=set(given))
    return out


from abuse.ingest.options import DEFAULT_PII_KEY  # noqa: E402 - after the helpers it imports beside


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ABUSE_", extra="forbid", env_nested_delimiter="__")

    landing: Path | str = Field(
        Path("sample_data/landing"),
        description="landing directory to ingest: a local directory, or object storage "
        "(s3://bucket/prefix, with the s3 extra; kept as text, a URL is no local path)",
    )
    landing_endpoint_url: str | None = Field(
        None,
        description="endpoint of the S3-compatible store of an s3:// landing (MinIO, Ceph, ...); "
        "default AWS_ENDPOINT_URL, else AWS. Credentials only ever come from the AWS environment",
    )
    db: Path = Field(Path("abuse.duckdb"), description="report database file")
    tz: str = Field("Asia/Shanghai", description="platform time zone for naive timestamps and time of day")
    as_of: date | None = Field(None, description="last day of the window; default: latest day with data")
    window_days: int = Field(30, ge=1, le=3660, description="days in the detection window")
    detectors: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="per-detector threshold overrides, by detector name (checked against each detector's Params)",
    )
    disabled_detectors: list[str] = Field(default_factory=list, description="detectors not to run")
    dossiers_top: int = Field(10, ge=0, description="how many top cases get an HTML dossier")
    flow_run_id: str | None = Field(None, description="the Prefect flow run this run is (set by flows/)")
    deployment: str | None = Field(None, description="the Prefect deployment that started it (set by flows/)")
    init: bool = Field(False, description="allow --db in a directory that does not exist yet (a new history)")
    feedback_wait_s: float = Field(
        30.0,
        ge=0,
        description="how long to retry reading a feedback database an analyst holds "
        "open read-write before going on with the verdicts copied before",
    )
    max_field_bytes: int = Field(
        1 << 20,
        ge=1024,
        description="longest value (UTF-8 bytes) of one field at ingest; a record "
        "holding a longer one is quarantined alone",
    )
    earliest_timestamp: date = Field(
        date(2000, 1, 1),
        description="timestamps before this day (platform-local) are quarantined: "
        "no event of the platform can be that old",
    )
    future_tolerance_days: float = Field(
        2.0,
        ge=0,
        description="timestamps later than the delivery (the run's start) plus this many "
        "days are quarantined (a delivery mostly later than that is measured against its own "
        "99th-percentile time instead)",
    )
    pii_hash_key: SecretStr = Field(
        SecretStr(DEFAULT_PII_KEY),
        exclude=True,
        description="key of the HMAC-SHA256 that replaces a "
        "raw mobile number delivered in phone_hash (env ABUSE_PII_HASH_KEY; never recorded in runs)",
    )
    lock_wait_s: float = Field(
        900.0,
        ge=0,
        description="seconds a run waits while another process has the working database "
        "open (a second nightly or backfill on the same --db) before it fails",
    )
    memory_limit: str | None = Field(
        None,
        description="memory budget of the whole run process, e.g. '6GB': DuckDB gets 60% of it (it spills "
        "beyond that), the rest is for polars, numpy and networkx; default DuckDB's own, 80% of RAM",
    )
    threads: int | None = Field(None, ge=1, description="DuckDB (and polars) threads; default one per core")

    @field_validator("landing", mode="before")
    @classmethod
    def _landing(cls, value: Any) -> Any:
        from abuse.ingest.objstore import landing_location

        return landing_location(value) if isinstance(value, (str, Path)) else value

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("detectors", mode="before")
    @classmethod
    def _known_thresholds(cls, value: Any) -> Any:
        return check_thresholds(value) if isinstance(value, dict) else value

    @field_validator("disabled_detectors")
    @classmethod
    def _known_detectors(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(_detectors()))
        if unknown:
            raise ValueError(
                f"there is no detector {', '.join(map(repr, unknown))} to disable "
                f"(there are: {', '.join(_detectors())})"
            )
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Highest first; pydantic-settings merges them deeply (nested tables key by key)."""
        file = _FILE.get()
        if file is None:
            return init_settings, env_settings
        header = ("tool", "abuse") if file.name == "pyproject.toml" else ()
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, file, header)

    def thresholds(self, detector: str) -> dict[str, Any]:
        """The thresholds set for ``detector`` (the rest take its Params defaults)."""
        return dict(self.detectors.get(detector, {}))

    def check_paths(self) -> None:
        """Refuse, at once, paths a run cannot use: a landing directory that does not exist, a
        report database whose folder cannot be made. A landing on object storage is listed
        once: s3fs missing, the bucket unreachable or the prefix empty is an error now too."""
        if isinstance(self.landing, str):
            from abuse.ingest.objstore import LandingError, ObjectStore

            try:
                ObjectStore(self.landing, self.landing_endpoint_url).check()
            except LandingError as exc:
                raise SettingsError(str(exc)) from None
        elif not (landing := Path(self.landing)).is_dir():
            what = "is not a directory" if landing.exists() else "does not exist"
            raise SettingsError(f"the landing directory {landing} {what}")
        parent = Path(self.db).resolve().parent
        existing = next((p for p in (parent, *parent.parents) if p.exists()), None)
        if existing is None or not existing.is_dir() or not os.access(existing, os.W_OK):
            raise SettingsError(f"cannot write the report database {self.db}: {existing} is not a writable directory")


def settings_file(file: Path | str | None = None) -> Path | None:
    """The settings file to read: the one given, else ``ABUSE_SETTINGS_FILE``, else ``abuse.toml``
    in the working directory, else ``pyproject.toml`` there if it has a ``[tool.abuse]`` table."""
    given = file or os.environ.get("ABUSE_SETTINGS_FILE")
    if given:
        path = Path(given)
        if not path.is_file():
            raise SettingsError(f"the settings file {path} does not exist")
        return path
    if DEFAULT_FILE.is_file():
        return DEFAULT_FILE
    pyproject = Path("pyproject.toml")
    if pyproject.is_file():
        import tomllib

        try:
            if "abuse" in tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}):
                return pyproject
        except tomllib.TOMLDecodeError:
            return None
    return None


def load_settings(file: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings from defaults < file < environment < non-None ``overrides`` (the command line,
    then a flow's parameters), merged deeply: ``overrides["detectors"]`` adds to the file's and
    the environment's thresholds instead of replacing them."""
    path = settings_file(file)
    token = _FILE.set(path)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        where = f" (settings file {path})" if path else ""
        raise SettingsError(_error_text(exc, "") + where) from None
    finally:
        _FILE.reset(token)


def _optional_params(name: str, params: type[BaseModel]) -> type[BaseModel]:
    """``params`` with every field optional (None = as the settings say), same checks, a title
    and a description naming the default: the model a Prefect UI form is built from."""
    fields: dict[str, Any] = {}
    for field, info in params.model_fields.items():
        default = info.get_default(call_default_factory=True)
        desc = (info.description or "").rstrip(".")
        kw = {k: getattr(info, k) for k in ("ge", "gt", "le", "lt") if getattr(info, k, None) is not None}
        for meta in info.metadata:  # pydantic keeps constraints as metadata
            for k in ("ge", "gt", "le", "lt"):
                if getattr(meta, k, None) is not None:
                    kw[k] = getattr(meta, k)
        fields[field] = (
            Optional[info.annotation],
            Field(  # noqa: UP045 - pydantic needs a real type
                None,
                title=field.replace("_", " "),
                description=f"{desc} (default {default!r}; None keeps the settings file's value)",
                **kw,
            ),
        )
    title = f"{name} thresholds"
    return create_model(
        f"{name.title()}Thresholds",
        __config__=ConfigDict(extra="forbid", title=title),
        __doc__=(params.__doc__ or "").strip() or None,
        **fields,
    )


def thresholds_model() -> type[BaseModel]:
    """One typed model of every detector's thresholds, all optional: a flow parameter (and the
    Prefect UI form) that changes only the thresholds it names."""
    fields: dict[str, Any] = {}
    for name, cls in _detectors().items():
        sub = _optional_params(name, cls.Params)
        fields[name] = (
            sub,
            Field(
                default_factory=sub,
                title=f"{name} detector",
                description=f"thresholds of the {name} detector ({', '.join(cls.patterns)})",
            ),
        )
    return create_model(
        "DetectorThresholds", __config__=ConfigDict(extra="forbid", title="detector thresholds"), **fields
    )
