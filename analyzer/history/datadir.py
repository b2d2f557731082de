"""Where the analyzer keeps its data: one folder with the database and the photos.

The folder is ``ANALYZER_DATA_DIR`` when set, else the per-user data folder of the platform
(``~/.local/share/facial-symmetry-analyzer`` on Linux). ``ANALYZER_DB_URL`` overrides the
database (for example a clinic's shared PostgreSQL, which then keeps the photos too:
``photos.photo_store_for``). In the folder, photos are stored content-addressed: the file
name is the SHA-256 of its bytes, so the same photo is stored once and a half-written file
can never pass for a complete one.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_data_dir

from analyzer.errors import AnalyzerError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

APP_NAME = "facial-symmetry-analyzer"
DATABASE_FILE = "analyzer.db"
#: A photo being written; renamed to its final name once whole.
PARTIAL_SUFFIX = ".part"


class DataFolderError(AnalyzerError):
    """The data folder or the database URL the environment names cannot be used."""


def data_dir() -> Path:
    """The data folder (created if missing)."""
    configured = os.environ.get("ANALYZER_DATA_DIR")
    folder = Path(configured).expanduser() if configured else Path(user_data_dir(APP_NAME))
    if folder.exists() and not folder.is_dir():
        raise DataFolderError(
            f"The data folder {folder} is a file, not a folder: set ANALYZER_DATA_DIR to a "
            "folder (it is created if missing)."
        )
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        private_folder(folder)
    except OSError as error:
        raise DataFolderError(
            f"The data folder {folder} cannot be created ({error.strerror}): set "
            "ANALYZER_DATA_DIR to a folder you can write to."
        ) from None
    return folder


def private_folder(folder: Path) -> Path:
    """Create ``folder`` and its missing parents inside the data, each readable by this
    computer's user only (0700): face photos are health data."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        each.mkdir(mode=0o700, exist_ok=True)
    return folder


def write_private(path: Path, data: bytes) -> None:
    """Write a new file readable by this computer's user only (0600), whatever the umask."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)


def database_url() -> str:
    """``ANALYZER_DB_URL``, else an SQLite file in the data folder."""
    url = os.environ.get("ANALYZER_DB_URL") or f"sqlite:///{data_dir() / DATABASE_FILE}"
    redacted(url)  # refuse a malformed URL here, with a sentence
    return url


def redacted(url: str) -> str:
    """A database URL safe to show: the password replaced by ***."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        raise DataFolderError(
            "ANALYZER_DB_URL is not a database URL: use e.g. "
            "postgresql+psycopg://user:password@host/database, or unset it for the local file."
        ) from None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class PhotoStore:
    """Photos by content hash under ``root`` (``root/ab/abcdef….jpg``).

    Its methods take ``session=`` only to share ``photos.DatabasePhotoStore``'s interface
    and ignore it: a file is written at once, and removed after the rows that name it.
    """

    root: Path

    @classmethod
    def default(cls) -> PhotoStore:
        return cls(data_dir() / "photos")

    def path_for(self, digest: str, suffix: str) -> Path:
        return self.root / digest[:2] / f"{digest}{suffix.lower()}"

    def put(self, data: bytes, suffix: str, *, session: Session | None = None) -> str:
        """Store the bytes (atomically: written aside, then renamed); returns the relative path."""
        digest = sha256(data)
        path = self.path_for(digest, suffix)
        if not path.exists():
            private_folder(path.parent)
            partial = path.with_name(f".{path.name}.{os.getpid()}{PARTIAL_SUFFIX}")
            try:
                write_private(partial, data)
                os.replace(partial, path)
            finally:  # a full disk or a read-only folder must not leave half a face behind
                partial.unlink(missing_ok=True)
        return str(path.relative_to(self.root))

    def read(self, relative: str, *, session: Session | None = None) -> bytes:
        return (self.root / relative).read_bytes()

    def remove(self, relative: str, *, session: Session | None = None) -> None:
        path = self.root / relative
        path.unlink(missing_ok=True)
        if path.parent != self.root and not any(path.parent.iterdir()):
            path.parent.rmdir()

    def files(self, *, session: Session | None = None) -> list[Path]:
        """Every stored photo file (including ones no row refers to, and partial ones)."""
        if not self.root.exists():
            return []
        return [p for p in self.root.rglob("*") if p.is_file()]

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def in_database(self, relative: str) -> bool:
        """False: a file is never part of a database transaction."""
        return False
