"""Finding the files of a delivery: which are new, and in which order they count."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import IO

from abuse.ingest.objstore import ObjectStore, modified
from abuse.schema import KINDS, file_format


@dataclass(frozen=True)
class LandingFile:
    kind: str
    path: PurePath  # a local file, or (``store`` set) the object's key, ``bucket/prefix/orders/x.csv``
    format: str  # one of schema.FORMATS
    size: int
    mtime: float
    # the file's identity: the sha256 of its bytes; on object storage the store's tag of them
    # with the size (``etag:<ETag>:<size>``, ``ObjectStore.identity``)
    sha256: str
    store: ObjectStore | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        """The file as it is recorded (``_file``, the quarantine): its path, or its URL."""
        return self.store.url(self.path.as_posix()) if self.store else str(self.path)

    def open(self) -> IO[bytes]:
        """Its bytes, from the start (an object is streamed, not copied)."""
        return self.store.open(self.path.as_posix()) if self.store else Path(self.path).open("rb")


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def folder_kind(name: str) -> str | None:
    """The kind a landing folder holds: its contract name, also spelled in another case or with
    hyphens or spaces (``Orders``, ``coupon-events``); None for any other folder."""
    kind = name.strip().lower().replace("-", "_").replace(" ", "_")
    return kind if kind in KINDS else None


def discover(landing: Path | ObjectStore) -> tuple[list[LandingFile], list[Path | str]]:
    """Every landing file of a known kind and format, ordered as the contract says
    (modification time, then path), and the files that were passed over (unknown format)."""
    if isinstance(landing, ObjectStore):
        return discover_objects(landing)
    if not landing.is_dir():
        raise FileNotFoundError(f"landing directory {landing} does not exist")
    found: list[LandingFile] = []
    skipped: list[Path | str] = []
    root = landing.resolve()
    folders: list[tuple[str, Path]] = []
    for entry in sorted(landing.iterdir()):
        kind = folder_kind(entry.name)
        if kind and entry.is_dir():
            folders.append((kind, entry))
        elif not entry.name.startswith("."):
            skipped.append(entry)  # a folder of no contract kind, or a file outside the folders: named
    # (a missing folder means "no records of that kind in this delivery")
    for kind, folder in sorted(folders, key=lambda kf: (list(KINDS).index(kf[0]), kf[1].name)):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            fmt = file_format(path.name)
            if fmt is None or path.name.startswith(".") or not path.resolve().is_relative_to(root):
                # (a symlink to a file outside the landing dir is passed over, and named)
                skipped.append(path)
                continue
            st = path.stat()
            found.append(LandingFile(kind, path, fmt, st.st_size, st.st_mtime, sha256_of(path)))
    found.sort(key=lambda f: (f.mtime, str(f.path)))
    return found, skipped


def discover_objects(store: ObjectStore) -> tuple[list[LandingFile], list[Path | str]]:
    """``discover`` over the objects under an object-storage prefix, by the same rules: the
    first part of a key under the prefix is its folder, only the folders of a contract kind
    count, anything else is passed over and named (by URL); hidden names are left alone.
    Nothing is downloaded: the listing gives each object's size, time and identity."""
    found: list[LandingFile] = []
    passed: dict[str, None] = {}
    root = store.root
    for key, info in sorted(store.listing().items()):
        if key.endswith("/") or info.get("type", "file") != "file" or not key.startswith(root + "/"):
            continue  # a directory marker
        parts = key[len(root) + 1 :].split("/")
        if parts[0].startswith("."):
            continue
        kind = folder_kind(parts[0]) if len(parts) > 1 else None
        if kind is None:  # a folder of no contract kind (named once), or an object beside the folders
            passed[store.url(f"{root}/{parts[0]}")] = None
            continue
        fmt = file_format(parts[-1])
        if fmt is None or parts[-1].startswith("."):
            passed[store.url(key)] = None
            continue
        found.append(
            LandingFile(
                kind,
                PurePosixPath(key),
                fmt,
                int(info.get("size") or 0),
                modified(info),
                store.identity(key, info),
                store,
            )
        )
    found.sort(key=lambda f: (f.mtime, f.name))
    return found, list(passed)
