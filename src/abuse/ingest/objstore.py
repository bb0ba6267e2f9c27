"""A landing directory on object storage (``s3://bucket/prefix``), through fsspec.

The landing is listed, never downloaded to find what is new: a file's identity is the store's
own content tag (the S3 ETag, an MD5 of the bytes for an object uploaded in one part) with its
size, so a re-run skips what it ingested and a changed object is a redelivery, as a local file
with new bytes is. DuckDB reads the objects in place through the fsspec filesystem registered
on the run's connection (CSV, JSONL and their ``.gz`` are streamed, parquet is read by ranges);
the careful reader and the header checks stream the object too. Only a name holding glob
characters (``*?[]{}``), which DuckDB would expand, is copied to a local temporary file first.

``s3fs`` is the optional ``s3`` extra; endpoint and credentials come from the standard AWS
environment (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN``, ``AWS_PROFILE``, ``AWS_DEFAULT_REGION``, instance roles), the endpoint
also from the ``landing_endpoint_url`` setting. Any other fsspec protocol (``gs://``,
``az://``) goes through ``fsspec.filesystem`` untried.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", re.S)
# the package that serves a protocol, for the error when it is missing
_PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs"}
# where a store's listing keeps a tag of the object's bytes, most specific first
_TAGS = ("ETag", "etag", "md5Hash", "content_md5", "md5", "checksum")


class LandingError(OSError):
    """The landing cannot be listed or read: one sentence saying why."""


def is_url(landing: object) -> bool:
    """Whether ``landing`` names object storage (``s3://...``) rather than a local directory."""
    if not isinstance(landing, str):
        return False
    m = _URL.match(landing)
    return m is not None and m.group(1).lower() != "file"


def landing_location(value: str | Path) -> str | Path:
    """A landing as given on a command line or in settings: a URL kept as text (a ``Path``
    would fold ``s3://`` into ``s3:/``), ``file://...`` and everything else a local ``Path``."""
    if isinstance(value, Path):
        return value
    text = str(value).strip()
    m = _URL.match(text)
    if m and m.group(1).lower() == "file":
        return Path(m.group(2) or "/")
    if m:
        return f"{m.group(1).lower()}://{m.group(2).strip('/')}"
    return Path(text)


class ObjectStore:
    """The objects under one URL prefix: listing, identities, opening, and DuckDB's access."""

    def __init__(self, url: str, endpoint_url: str | None = None) -> None:
        m = _URL.match(url)
        if not m:
            raise LandingError(f"{url!r} is not an object-storage URL (scheme://bucket/prefix)")
        self.protocol = m.group(1).lower()
        self.root = m.group(2).strip("/")
        if not self.root:
            raise LandingError(f"the landing {url} names no bucket")
        self.bucket = self.root.split("/", 1)[0]
        self.endpoint_url = endpoint_url
        self.fs = _filesystem(self.protocol, endpoint_url)

    @property
    def location(self) -> str:
        return self.url(self.root)

    def url(self, key: str | PurePosixPath) -> str:
        return f"{self.protocol}://{key}"

    def _where(self) -> str:
        if self.protocol not in ("s3", "s3a"):
            return ""
        endpoint = self.endpoint_url or getattr(self.fs, "endpoint_url", None)
        if not endpoint:
            client = getattr(self.fs, "client_kwargs", None) or {}
            endpoint = client.get("endpoint_url")
        endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        return f" (endpoint {endpoint or 'AWS'}, credentials from the AWS environment)"

    def listing(self) -> dict[str, dict[str, Any]]:
        """Every object under the prefix, key -> the store's details (directory markers, keys
        ending in ``/``, included). Raises ``LandingError`` naming why it cannot list."""
        try:
            found = self.fs.find(self.root, detail=True)
        except FileNotFoundError as exc:
            raise LandingError(f"cannot list the landing {self.location}: {_brief(exc)}{self._where()}") from exc
        except PermissionError as exc:
            raise LandingError(
                f"cannot list the landing {self.location}: access denied ({_brief(exc)}){self._where()}"
            ) from exc
        except Exception as exc:  # noqa: BLE001 - no route, no credentials, a bad endpoint: one sentence
            raise LandingError(
                f"cannot reach the landing {self.location}: {type(exc).__name__}: {_brief(exc)}{self._where()}"
            ) from exc
        if not found:
            # a prefix with no object is a directory that does not exist (a typo, or not made yet:
            # an empty marker object ``prefix/`` makes an empty landing)
            raise LandingError(f"the landing {self.location} does not exist: no object under it{self._where()}")
        return {str(k): v for k, v in found.items()}

    def check(self) -> None:
        """Raise ``LandingError`` unless the landing can be listed and holds something."""
        self.listing()

    def open(self, key: str | PurePosixPath) -> IO[bytes]:
        # read ahead in large blocks: the readers stream each object from start to end
        f: IO[bytes] = self.fs.open(str(key), "rb", block_size=8 << 20, cache_type="readahead")
        return f

    def identity(self, key: str, info: dict[str, Any]) -> str:
        """The object's bytes as the store tags them, with its size (``etag:<tag>:<size>``);
        without a tag (a store that keeps none), the sha256 of its bytes, streamed."""
        size = int(info.get("size") or 0)
        for name in _TAGS:
            tag = info.get(name)
            if tag:
                return f"{name.lower()}:{str(tag).strip(chr(34))}:{size}"
        h = hashlib.sha256()
        with self.open(key) as f:
            while block := f.read(1 << 20):
                h.update(block)
        return h.hexdigest()

    def register(self, con: duckdb.DuckDBPyConnection) -> bool:
        """Let DuckDB's readers open this store's URLs on ``con``; False when it already could."""
        name = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        if con.filesystem_is_registered(name):
            return False
        con.register_filesystem(self.fs)
        return True

    def unregister(self, con: duckdb.DuckDBPyConnection) -> None:
        name = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        if con.filesystem_is_registered(name):
            con.unregister_filesystem(name)


def modified(info: dict[str, Any]) -> float:
    """An object's modification time (seconds since the epoch) from the store's details."""
    for name in ("LastModified", "mtime", "last_modified", "updated", "modified"):
        value = info.get(name)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str) and value:
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return 0.0


def _filesystem(protocol: str, endpoint_url: str | None) -> Any:
    package = _PACKAGES.get(protocol, f"the fsspec implementation of {protocol}://")
    try:
        if protocol in ("s3", "s3a"):
            import s3fs

            kw: dict[str, Any] = {"skip_instance_cache": True}
            if endpoint_url:
                kw["endpoint_url"] = endpoint_url
            return s3fs.S3FileSystem(**kw)
        import fsspec

        return fsspec.filesystem(protocol, skip_instance_cache=True)
    except ImportError as exc:
        hint = " (pip install 'abuse[s3]', or uv sync --extra s3)" if package == "s3fs" else ""
        raise LandingError(f"a landing on {protocol}:// needs {package}, which is not installed{hint}") from exc
    except ValueError as exc:  # fsspec: unknown protocol
        raise LandingError(f"cannot read a landing on {protocol}://: {_brief(exc)}") from exc


def _brief(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]
