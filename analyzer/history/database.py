"""Opening the history database: the engine, SQLite's pragmas, the Alembic migrations.

``open_database`` creates and upgrades the schema (``analyzer/history/migrations``) on
SQLite and PostgreSQL alike and gives a ``Database``: its engine and one transaction per
unit of work.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from analyzer.history.datadir import redacted
from analyzer.history.models import StorageError

#: PostgreSQL advisory-lock key held while migrating.
MIGRATION_LOCK = 7_202_611
#: PostgreSQL advisory-lock key of the photo store (see ``Database.lock_photos``).
PHOTO_LOCK = 7_202_612


@dataclass
class Database:
    """An open database: its engine and a session factory."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any error."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    def lock_photos(self, session: Session, *, exclusive: bool = False) -> None:
        """Take the photo store's lock for this transaction.

        Writers write photo files inside the transaction that records them and hold the lock
        shared; the reconciler (``maintenance.reconcile_store``) holds it exclusively, so it
        never takes a file of a live transaction for an orphan. On SQLite every transaction
        already begins IMMEDIATE (one writer at a time), which is the same guarantee.
        """
        if session.get_bind().dialect.name == "postgresql":
            function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
            session.execute(text(f"SELECT {function}(:key)"), {"key": PHOTO_LOCK})


def busy_timeout_s() -> float:
    """How long a writer waits for another to finish before giving up with a sentence:
    ``ANALYZER_DB_TIMEOUT_S``, 30 s by default."""
    try:
        return max(0.1, float(os.environ.get("ANALYZER_DB_TIMEOUT_S", "30")))
    except ValueError:
        return 30.0


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the dashboard) work while an import writes; foreign keys make
    # cascading deletes real; the busy timeout lets two importers take turns.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s() * 1000)}")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock at the start of a transaction, so two writers queue instead of
    # failing halfway with "database is locked".
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Open (creating and upgrading as needed) the database at ``url``."""
    is_sqlite = url.startswith("sqlite")
    if is_sqlite and url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # Readable by this computer's user only; SQLite gives its -wal and -shm the same mode.
        with contextlib.suppress(OSError):  # a folder or no right to write: SQLite says so
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    engine = create_engine(url, connect_args={"timeout": busy_timeout_s()} if is_sqlite else {})
    if is_sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy's own transaction control drive BEGIN (pysqlite's is off).
        event.listen(
            engine,
            "connect",
            lambda dbapi_connection, _record: setattr(dbapi_connection, "isolation_level", None),
        )
        event.listen(engine, "begin", _sqlite_begin_immediate)
    try:
        if migrate:
            upgrade(engine)
    except Exception as error:  # a database we cannot reach or upgrade: say so plainly
        engine.dispose()
        raise StorageError(_cannot_open(url, error)) from error
    return Database(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))


def _cannot_open(url: str, error: Exception) -> str:
    """Why the database cannot be opened, in one sentence (no SQL, no library links)."""
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200]
    if "locked" in reason or "busy" in reason:
        return (
            f"The database is busy: another program has held {_safe(url)} for more than "
            f"{busy_timeout_s():.0f} s. Close it or try again in a minute; nothing was changed."
        )
    return f"The database at {_safe(url)} cannot be opened ({reason}). Check ANALYZER_DB_URL."


def _safe(url: str) -> str:
    return redacted(url)


def upgrade(engine: Engine) -> None:
    """Run the Alembic migrations up to the newest."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two processes opening a new database at once must not both create the schema:
            # the second waits for the first's transaction (SQLite's BEGIN IMMEDIATE does this).
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
