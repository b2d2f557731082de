"""Photos kept in the database ("clinic mode"), and moving a photo folder into it.

On PostgreSQL the photo bytes live in the ``photo`` table (migration 0005), content-addressed
by SHA-256 and written in the same transaction as the capture that records them: two app
servers on two machines see the same photos, and a backup of the database (``pg_dump``) is
a backup of everything. SQLite, the personal default, keeps the photo folder
(``datadir.PhotoStore``); ``photo_store_for`` picks one.

``DatabasePhotoStore`` has ``PhotoStore``'s interface (``put``, ``read``, ``remove``,
``files``, ``relative``, ``in_database``); each method takes the caller's ORM session as
``session=``. A photo in the database is named ``db:<sha256><suffix>`` in
``Capture.photo_path`` (``db:9f86…08.jpg``), so a path says where its photo is: one
without the prefix is a file of the folder, read and removed through ``legacy`` until
``migrate_photos`` has moved it.
"""

from __future__ import annotations

import datetime as dt
import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from analyzer.history.database import Database
from analyzer.history.datadir import PhotoStore, sha256
from analyzer.history.models import MAX_SUFFIX_LENGTH, Capture, Photo, StorageError

#: ``Capture.photo_path`` of a photo kept in the database: this prefix, its SHA-256, its suffix.
DB_PREFIX = "db:"


def _digest(relative: str) -> str | None:
    """The SHA-256 named by a database photo path, None for any other path."""
    if not relative.startswith(DB_PREFIX):
        return None
    digest = relative[len(DB_PREFIX) : len(DB_PREFIX) + 64]
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return None
    return digest


def _missing(relative: str) -> FileNotFoundError:
    # The folder store's read raises FileNotFoundError for a photo that is gone; callers
    # (export, stored_photo) treat both stores alike by catching OSError.
    return FileNotFoundError(errno.ENOENT, "photo not in the database", relative)


@dataclass(frozen=True)
class DatabasePhotoStore:
    """Photos in the database's ``photo`` table, written in the caller's transaction.

    ``put`` needs ``session=`` (the transaction that records the capture); a rolled-back
    capture leaves no photo row. ``read``, ``remove`` and ``files`` use the session given,
    else a short transaction of their own. ``legacy`` is the folder that paths without the
    ``db:`` prefix still point into (captures saved before ``migrate_photos``).
    """

    db: Database
    legacy: PhotoStore | None = None

    def put(self, data: bytes, suffix: str, *, session: Session | None = None) -> str:
        """Insert the bytes (once per content; concurrent writers of the same photo do not
        clash) and return their path, ``db:<sha256><suffix>``; the suffix is the one the
        photo was first stored with, so equal bytes always get equal paths."""
        if session is None:
            raise ValueError(
                "DatabasePhotoStore.put writes in the caller's transaction: pass session="
            )
        suffix = suffix.lower()
        if len(suffix) > MAX_SUFFIX_LENGTH:
            raise ValueError(f"a photo suffix holds at most {MAX_SUFFIX_LENGTH} characters")
        digest = sha256(data)
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(
            dialect.insert(Photo)
            .values(
                sha256=digest,
                suffix=suffix,
                size=len(data),
                data=data,
                created_at=dt.datetime.now().replace(microsecond=0),
            )
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
        stored = session.scalar(select(Photo.suffix).where(Photo.sha256 == digest))
        return f"{DB_PREFIX}{digest}{stored}"

    def read(self, relative: str, *, session: Session | None = None) -> bytes:
        """The photo's bytes; FileNotFoundError when there is no such photo."""
        digest = _digest(relative)
        if digest is None:
            if self.legacy is None:
                raise _missing(relative)
            return self.legacy.read(relative)
        query = select(Photo.data).where(Photo.sha256 == digest)
        if session is not None:
            data = session.scalar(query)
        else:
            with self.db.sessions() as own:
                data = own.scalar(query)
        if data is None:
            raise _missing(relative)
        return bytes(data)

    def remove(self, relative: str, *, session: Session | None = None) -> None:
        """Delete the photo (nothing when it is not there). A database photo goes with
        ``session``'s transaction; a legacy file at once."""
        digest = _digest(relative)
        if digest is None:
            if self.legacy is not None:
                self.legacy.remove(relative)
            return
        statement = delete(Photo).where(Photo.sha256 == digest)
        if session is not None:
            session.execute(statement)
        else:
            with self.db.transaction() as own:
                own.execute(statement)

    def files(self, *, session: Session | None = None) -> list[PurePosixPath]:
        """Every photo in the table, as paths (``relative`` gives back ``db:…``)."""
        query = select(Photo.sha256, Photo.suffix).order_by(Photo.sha256)
        if session is not None:
            rows = session.execute(query).all()
        else:
            with self.db.sessions() as own:
                rows = own.execute(query).all()
        return [PurePosixPath(f"{DB_PREFIX}{digest}{suffix}") for digest, suffix in rows]

    def relative(self, path: PurePosixPath) -> str:
        return str(path)

    def in_database(self, relative: str) -> bool:
        """Whether the photo is a row, removed in the transaction that removes its capture."""
        return _digest(relative) is not None


#: Either store: callers pass ``session=`` and the folder store ignores it.
AnyPhotoStore = PhotoStore | DatabasePhotoStore


def photo_store_for(db: Database) -> AnyPhotoStore:
    """The photo store of a database: its ``photo`` table on PostgreSQL (with the data
    folder for photos not yet moved), the data folder's ``photos/`` otherwise."""
    if db.engine.dialect.name == "postgresql":
        return DatabasePhotoStore(db, legacy=PhotoStore.default())
    return PhotoStore.default()


@dataclass
class MigrationReport:
    """What ``migrate_photos`` did; paths as the captures named them."""

    moved: int = 0  # photos inserted into the table now (their files then removed)
    already_there: int = 0  # photos whose bytes were already in the table
    captures: int = 0  # captures now pointing into the table
    missing: list[str] = field(default_factory=list)  # no such file: captures left as they were
    corrupt: list[str] = field(default_factory=list)  # bytes do not match the capture's SHA-256


def migrate_photos(
    db: Database,
    folder_store: PhotoStore,
    progress: Callable[[int, int], None] | None = None,
) -> MigrationReport:
    """Move the photos of ``folder_store`` that captures point to into the database.

    Per photo, in one transaction: the file's SHA-256 is checked against the captures'
    ``photo_sha256`` (a mismatch is reported as corrupt and the file left alone), the bytes
    are inserted (or found already there), read back and checked again, and every capture
    that named the file is pointed at ``db:<sha256><suffix>``; only after that commit is the
    file removed. Interrupted, it leaves every capture pointing at a whole photo, in the
    folder or in the table, and running it again finishes the job (a file whose photo was
    committed just before is one no capture names: ``maintenance.reconcile_store(db,
    folder_store)`` removes it). Run twice, the second run changes nothing.
    ``progress(done, total)`` is called as each photo is taken up (for a progress bar).
    """
    report = MigrationReport()
    store = DatabasePhotoStore(db)
    with db.sessions() as session:
        pending = session.execute(
            select(Capture.photo_path, Capture.photo_sha256)
            .where(Capture.photo_path.is_not(None), Capture.photo_path.not_like(f"{DB_PREFIX}%"))
            .distinct()
        ).all()
    expected: dict[str, set[str]] = {}
    for relative, digest in pending:
        expected.setdefault(relative, set()).add(digest)
    for done, relative in enumerate(sorted(expected), start=1):
        if progress:
            progress(done, len(expected))
        try:
            data = folder_store.read(relative)
        except OSError:
            report.missing.append(relative)
            continue
        digest = sha256(data)
        if {digest} != expected[relative]:
            report.corrupt.append(relative)
            continue
        with db.transaction() as session:
            db.lock_photos(session)
            there = session.scalar(select(Photo.sha256).where(Photo.sha256 == digest))
            moved = store.put(data, Path(relative).suffix, session=session)
            if sha256(store.read(moved, session=session)) != digest:
                raise StorageError(
                    f"The photo {relative} read back from the database differs "
                    "from the file: nothing was moved for it."
                )
            result = session.execute(
                update(Capture).where(Capture.photo_path == relative).values(photo_path=moved)
            )
        report.captures += result.rowcount
        if there is None:
            report.moved += 1
        else:
            report.already_there += 1
        folder_store.remove(relative)
    return report
