"""Where the analyzer keeps its data: one folder with the database and the photos.

The folder is ``ANALYZER_DATA_DIR`` when set, else the per-user data folder of the platform
(``~/.local/share/facial-symmetry-analyzer`` on Linux). ``ANALYZER_DB_URL`` overrides the
database (for example a clinic's shared PostgreSQL); photos stay in the data folder.
Photos are stored content-addressed: the file name is the SHA-256 of its bytes, so the same
photo is stored once and a half-written file can never pass for a complete one.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

APP_NAME = "facial-symmetry-analyzer"
DATABASE_FILE = "analyzer.db"


def data_dir() -> Path:
    """The data folder (created if missing)."""
    configured = os.environ.get("ANALYZER_DATA_DIR")
    folder = Path(configured).expanduser() if configured else Path(user_data_dir(APP_NAME))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def database_url() -> str:
    """``ANALYZER_DB_URL``, else an SQLite file in the data folder."""
    return os.environ.get("ANALYZER_DB_URL") or f"sqlite:///{data_dir() / DATABASE_FILE}"


def redacted(url: str) -> str:
    """A database URL safe to show: the password replaced by ***."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class PhotoStore:
    """Photos by content hash under ``root`` (``root/ab/abcdef….jpg``)."""

    root: Path

    @classmethod
    def default(cls) -> PhotoStore:
        return cls(data_dir() / "photos")

    def path_for(self, digest: str, suffix: str) -> Path:
        return self.root / digest[:2] / f"{digest}{suffix.lower()}"

    def put(self, data: bytes, suffix: str) -> str:
        """Store the bytes (atomically: written aside, then renamed); returns the relative path."""
        digest = sha256(data)
        path = self.path_for(digest, suffix)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.{os.getpid()}.part")
            partial.write_bytes(data)
            os.replace(partial, path)
        return str(path.relative_to(self.root))

    def read(self, relative: str) -> bytes:
        return (self.root / relative).read_bytes()

    def remove(self, relative: str) -> None:
        path = self.root / relative
        path.unlink(missing_ok=True)
        if path.parent != self.root and not any(path.parent.iterdir()):
            path.parent.rmdir()

    def files(self) -> list[Path]:
        """Every stored photo file (including ones no row refers to)."""
        if not self.root.exists():
            return []
        return [p for p in self.root.rglob("*") if p.is_file()]
