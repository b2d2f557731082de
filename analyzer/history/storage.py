"""The history: people, sessions and captures in a real database (SQLAlchemy 2 + Alembic).

A person has sessions (one per day: the photos of one day are one sitting); a session has
captures (one photo of one expression, with its landmarks, quality and measures). The schema
is created and upgraded by the Alembic migrations in ``analyzer/history/migrations`` when the
database is opened, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    deferred,
    mapped_column,
    relationship,
    sessionmaker,
    validates,
)

from analyzer.errors import AnalyzerError
from analyzer.protocol.tracking import unfollowed_pair

AFFECTED_SIDES = ("left", "right", "none")
#: PostgreSQL advisory-lock key held while migrating.
MIGRATION_LOCK = 7_202_611
#: PostgreSQL advisory-lock key of the photo store (see ``Database.lock_photos``).
PHOTO_LOCK = 7_202_612


class StorageError(AnalyzerError):
    """The database cannot be opened or used."""


class InvalidNameError(AnalyzerError):
    """A person's name or an expression cannot be stored as given."""


#: The longest name and expression the columns hold.
MAX_NAME_LENGTH, MAX_EXPRESSION_LENGTH = 200, 40


def clean_name(text: str, *, what: str = "name", limit: int = MAX_NAME_LENGTH) -> str:
    """A name as stored: runs of white space as one space, trimmed (so "Ana " and "Ana" are
    one person). Raises ``InvalidNameError`` for an empty name, control characters or more
    than ``limit`` characters."""
    name = " ".join(str(text).split())
    if not name:
        raise InvalidNameError(f"The {what} is empty: give a {what}.")
    if not name.isprintable():
        raise InvalidNameError(f"The {what} holds control characters: type it plainly.")
    if len(name) > limit:
        raise InvalidNameError(f"The {what} is longer than {limit} characters: shorten it.")
    return name


def name_key(name: str) -> str:
    """What makes two names one person's: white space as in ``clean_name`` and capitals
    ignored ("test user" is "Test User")."""
    return " ".join(str(name).split()).casefold()


class Base(DeclarativeBase):
    pass


class Person(Base):
    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    #: ``name_key(name)``, unique: no two people whose names differ only in capitals.
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    affected_side: Mapped[str] = mapped_column(String(5), default="none")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    sessions: Mapped[list[Sitting]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="Sitting.started_at"
    )

    @validates("name")
    def _keyed(self, _key: str, name: str) -> str:
        self.name_key = name_key(name)  # set with the name, however the name is set
        return name


class Sitting(Base):
    """A session: one day's captures of one person (named so as not to clash with ORM sessions)."""

    __tablename__ = "session"
    __table_args__ = (UniqueConstraint("person_id", "day", name="one_session_per_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    person: Mapped[Person] = relationship(back_populates="sessions")
    captures: Mapped[list[Capture]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="Capture.taken_at"
    )


class Capture(Base):
    __tablename__ = "capture"
    __table_args__ = (UniqueConstraint("person_id", "photo_sha256", name="one_copy_of_a_photo"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("session.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    taken_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expression: Mapped[str] = mapped_column(String(40), default="rest")
    source_name: Mapped[str] = mapped_column(String(500), default="")
    photo_sha256: Mapped[str] = mapped_column(String(64))
    photo_path: Mapped[str | None] = mapped_column(String(200), nullable=True)
    mirrored: Mapped[bool] = mapped_column(Boolean, default=False)
    image_width: Mapped[int] = mapped_column(Integer)
    image_height: Mapped[int] = mapped_column(Integer)
    landmarks: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    #: For an expression of the palsy protocol: its landmarks followed by optical flow from
    #: the session's rest capture ``followed_from_id``, in that rest photo's pixels
    #: (``analyzer.protocol.tracking``). None where no photo was kept or the flow was not trusted.
    followed_landmarks: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    followed_from_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user_mm_per_px: Mapped[float | None] = mapped_column(Float, nullable=True)
    scale_mm_per_px: Mapped[float] = mapped_column(Float)
    yaw_deg: Mapped[float] = mapped_column(Float)
    pitch_deg: Mapped[float] = mapped_column(Float)
    roll_deg: Mapped[float] = mapped_column(Float)
    quality: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    quality_status: Mapped[str] = mapped_column(String(4))
    accepted: Mapped[bool] = mapped_column(Boolean)
    measures: Mapped[dict[str, float]] = mapped_column(JSON)
    analyzer_version: Mapped[str] = mapped_column(String(20))
    #: How the photo was taken (``analyzer.measure.conditions.CaptureConditions.as_dict``);
    #: None for captures saved before conditions were kept, until ``recompute``.
    conditions: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: The face-recognition embedding (128 float64, ``analyzer.measure.identity``), for the
    #: same-person check; None where it could not be computed.
    identity: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    #: The user confirmed that a photo flagged as another person is this person.
    identity_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: A capture averaged from a burst of video frames: how many, and each measure's SD
    #: across them (``analyzer.capture.burst``); None for a photo.
    burst_size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    burst_sd: Mapped[dict[str, float] | None] = mapped_column(JSON, nullable=True)
    #: The landmarks the measures use: the model's, with each lid and brow found in the photo
    #: itself where that fit was confident (``analyzer.measure.refine``); None: the model's.
    refined_landmarks: Mapped[bytes | None] = deferred(mapped_column(LargeBinary, nullable=True))
    #: How each region of the face was measured (``analyzer.measure.refine.REGION_NAMES`` →
    #: "refined", "followed" or "model"); None: recorded before regions were.
    regions: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    session: Mapped[Sitting] = relationship(back_populates="captures")

    def landmarks_px(self) -> np.ndarray:
        """The model's own landmarks (never changed after the photo was analysed)."""
        return landmarks_from_bytes(self.landmarks)

    def measured_px(self) -> np.ndarray:
        """The landmarks this capture's measures come from: refined from the photo where
        they were, else the model's."""
        if self.refined_landmarks is None:
            return self.landmarks_px()
        return landmarks_from_bytes(self.refined_landmarks)


def landmarks_to_bytes(landmarks_px: np.ndarray) -> bytes:
    """478 × 3 landmarks as little-endian float64 bytes (11 kB, exact)."""
    return np.asarray(landmarks_px, dtype="<f8").tobytes()


def landmarks_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<f8").reshape(-1, 3).copy()


class LandmarkCorrection(Base):
    """One point of a capture moved by hand (``analyzer.history.corrections``): one row per
    move, in the photo's pixels as measured. The capture's own landmarks are never changed;
    a point's position in effect is its latest row. Deleted with the capture."""

    __tablename__ = "landmark_correction"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capture_id: Mapped[int] = mapped_column(
        ForeignKey("capture.id", ondelete="CASCADE"), index=True
    )
    landmark: Mapped[int] = mapped_column(Integer)
    old_x: Mapped[float] = mapped_column(Float)
    old_y: Mapped[float] = mapped_column(Float)
    new_x: Mapped[float] = mapped_column(Float)
    new_y: Mapped[float] = mapped_column(Float)
    corrected_by: Mapped[str] = mapped_column(String(80))
    corrected_at: Mapped[dt.datetime] = mapped_column(DateTime)  # local time, as captures


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
    from analyzer.history.datadir import redacted

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


# --- queries -------------------------------------------------------------------------


class PersonExistsError(InvalidNameError):
    """Another person already has this name (capitals and spacing aside)."""


def get_person(session: Session, name: str) -> Person | None:
    """The person of that name, whatever its capitals ("test user" finds "Test User")."""
    return session.scalar(select(Person).where(Person.name_key == name_key(name)))


def add_person(
    session: Session, name: str, affected_side: str = "none", notes: str = ""
) -> Person:
    """A new person. Raises ``InvalidNameError`` for a name that cannot be stored and
    ``PersonExistsError`` when someone already has it, capitals aside."""
    name = clean_name(name)
    existing = get_person(session, name)
    if existing is not None:
        raise PersonExistsError(
            f"There is already a person called {existing.name!r} (names are the same whatever "
            "their capitals): choose them in the list, or give another name."
        )
    if affected_side not in AFFECTED_SIDES:
        raise ValueError(f"affected side must be one of {AFFECTED_SIDES}")
    person = Person(name=name, affected_side=affected_side, notes=notes, created_at=_now())
    session.add(person)
    session.flush()
    return person


def rename_person(session: Session, person: Person, new_name: str) -> str:
    """Give ``person`` a new name (its capitals may change); the cleaned name. Raises like
    ``add_person`` when another person has it."""
    new_name = clean_name(new_name)
    other = get_person(session, new_name)
    if other is not None and other.id != person.id:
        raise PersonExistsError(
            f"There is already a person called {other.name!r}: choose a name nobody has yet."
        )
    person.name = new_name
    session.flush()
    return new_name


def get_or_create_person(session: Session, name: str, affected_side: str = "none") -> Person:
    """The person of that name, created if there is none yet (also when another process
    creates them at the same moment: the insert is then undone and theirs is used). The
    name is cleaned first (``clean_name``)."""
    name = clean_name(name)
    person = get_person(session, name)
    if person is None:
        if affected_side not in AFFECTED_SIDES:
            raise ValueError(f"affected side must be one of {AFFECTED_SIDES}")
        try:
            with session.begin_nested():
                person = Person(name=name, affected_side=affected_side, notes="",
                                created_at=_now())  # fmt: skip
                session.add(person)
        except IntegrityError:
            person = get_person(session, name)
    return person


def session_for_day(session: Session, person: Person, when: dt.datetime) -> Sitting:
    """The person's session of that day, created if there is none yet."""
    day = when.date()
    sitting = session.scalar(
        select(Sitting).where(Sitting.person_id == person.id, Sitting.day == day)
    )
    if sitting is None:
        try:  # another process may create the same day's session at the same moment
            with session.begin_nested():
                sitting = Sitting(person_id=person.id, day=day, started_at=when, tags=[],
                                  notes="")  # fmt: skip
                session.add(sitting)
            return sitting
        except IntegrityError:
            sitting = session.scalar(
                select(Sitting).where(Sitting.person_id == person.id, Sitting.day == day)
            )
    if when < sitting.started_at:
        sitting.started_at = when
    return sitting


def known_hashes(session: Session, person: Person) -> set[str]:
    return set(session.scalars(select(Capture.photo_sha256).where(Capture.person_id == person.id)))


@dataclass(frozen=True)
class HistoryRow:
    """One capture of a person's history, without landmarks (what trends and exports need)."""

    capture_id: int
    session_id: int
    session_day: dt.date
    session_started_at: dt.datetime
    session_tags: tuple[str, ...]
    taken_at: dt.datetime
    expression: str
    quality_status: str
    accepted: bool
    measures: dict[str, float]
    conditions: dict[str, Any] | None = None  # how the photo was taken (None: not recorded)
    burst_size: int | None = None  # frames averaged into this capture (None: a photo)
    burst_sd: dict[str, float] | None = None  # each measure's SD across those frames
    #: The hand corrections in effect ("corrected by ada on 2026-11-26: 3 points"), or "".
    corrected: str = ""


def load_history(session: Session, person: Person) -> list[HistoryRow]:
    """Every capture of a person with every measure, oldest first, in one query."""
    rows = session.execute(
        select(
            Capture.id,
            Sitting.id,
            Sitting.day,
            Sitting.started_at,
            Sitting.tags,
            Capture.taken_at,
            Capture.expression,
            Capture.quality_status,
            Capture.accepted,
            Capture.measures,
            Capture.conditions,
            Capture.burst_size,
            Capture.burst_sd,
        )
        .join(Sitting, Capture.session_id == Sitting.id)
        .where(Capture.person_id == person.id)
        .order_by(Sitting.started_at, Capture.taken_at, Capture.id)
    )
    from analyzer.history.corrections import summaries  # it imports this module

    marks = {i: s.sentence for i, s in summaries(session, person_id=person.id).items()}
    return [HistoryRow(r[0], r[1], r[2], r[3], tuple(r[4] or ()), *r[5:],
                       corrected=marks.get(r[0], "")) for r in rows]  # fmt: skip


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


@dataclass(frozen=True)
class PersonSummary:
    name: str
    affected_side: str
    sessions: int
    captures: int


def person_summaries(session: Session) -> list[PersonSummary]:
    """Everybody with their number of sessions and captures, by name."""
    sessions = (
        select(Sitting.person_id, func.count(Sitting.id).label("n"))
        .group_by(Sitting.person_id)
        .subquery()
    )
    captures = (
        select(Capture.person_id, func.count(Capture.id).label("n"))
        .group_by(Capture.person_id)
        .subquery()
    )
    rows = session.execute(
        select(Person.name, Person.affected_side, sessions.c.n, captures.c.n)
        .outerjoin(sessions, sessions.c.person_id == Person.id)
        .outerjoin(captures, captures.c.person_id == Person.id)
        .order_by(Person.name)
    )
    return [PersonSummary(name, side, s or 0, c or 0) for name, side, s, c in rows]


@dataclass(frozen=True)
class ProtocolCapture:
    """One accepted capture of a person, with what the palsy protocol measures it from."""

    capture_id: int
    session_id: int
    session_day: dt.date
    session_started_at: dt.datetime
    session_tags: tuple[str, ...]
    expression: str
    taken_at: dt.datetime
    landmarks_px: np.ndarray  # as measured (refined from the photo), in this capture's photo
    followed_px: np.ndarray | None  # followed from the rest capture ``followed_from_id``
    followed_from_id: int | None
    #: How each face region was measured (``Capture.regions``); None: not recorded.
    regions: dict[str, str] | None = None
    model_px: np.ndarray | None = None  # the model's own landmarks (None: as landmarks_px)

    def is_followed_from(self, rest_id: int) -> bool:
        return self.followed_px is not None and self.followed_from_id == rest_id

    def landmarks_against(self, rest_id: int) -> np.ndarray:
        """The landmarks to measure this expression against rest capture ``rest_id`` with:
        those followed from that very rest photo when there are some, else its own."""
        return self.followed_px if self.is_followed_from(rest_id) else self.landmarks_px

    def against(self, rest: ProtocolCapture) -> tuple[np.ndarray, np.ndarray, bool]:
        """The rest's points, this expression's points and whether they were followed, to
        measure this expression's movement with. Followed landmarks started from the rest's
        own points. Otherwise a brow found in one photo but taken from the model in the
        other is taken from the model in both: the two definitions lie about 1.5 mm apart
        (README, "Lids and brows from the image"), which would read as movement."""
        if self.is_followed_from(rest.capture_id):
            assert self.followed_px is not None
            return rest.landmarks_px, self.followed_px, True
        if rest.model_px is None or self.model_px is None:
            return rest.landmarks_px, self.landmarks_px, False
        rest_px, own = unfollowed_pair(rest.landmarks_px, rest.model_px, rest.regions,
                                       self.landmarks_px, self.model_px, self.regions)  # fmt: skip
        return rest_px, own, False


def load_protocol_captures(session: Session, person: Person) -> list[ProtocolCapture]:
    """Every accepted capture of a person with its landmarks, for the palsy protocol, in the
    order they were taken."""
    rows = session.execute(
        select(Capture.id, Sitting.id, Sitting.day, Sitting.started_at, Sitting.tags,
               Capture.expression, Capture.taken_at, Capture.landmarks,
               Capture.followed_landmarks, Capture.followed_from_id,
               Capture.refined_landmarks, Capture.regions)
        .join(Capture, Capture.session_id == Sitting.id)
        .where(Capture.person_id == person.id, Capture.accepted.is_(True))
        .order_by(Sitting.started_at, Capture.taken_at)
    )  # fmt: skip
    from analyzer.history.corrections import corrected_protocol_captures  # it imports this

    return corrected_protocol_captures(session, [
        ProtocolCapture(cid, sid, day, started, tuple(tags or ()), expression, taken,
                        landmarks_from_bytes(data if refined is None else refined),
                        None if followed is None else landmarks_from_bytes(followed), source,
                        regions, landmarks_from_bytes(data))
        for (cid, sid, day, started, tags, expression, taken, data, followed, source, refined,
             regions) in rows
    ])  # fmt: skip
