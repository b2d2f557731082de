"""The history's queries: people, sessions and captures read from and written to the database.

The tables are in ``analyzer.history.models``, opening the database in
``analyzer.history.database``; the names a caller needs of either are importable from here
too (``from analyzer.history.storage import Capture, open_database``). Loaders return the
records of ``models`` (``HistoryRow``, ``ProtocolCapture``) with hand corrections applied
(``analyzer.history.corrections``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analyzer.history.corrections import corrected_protocol_captures, summaries
from analyzer.history.database import (
    MIGRATION_LOCK,
    PHOTO_LOCK,
    Database,
    busy_timeout_s,
    open_database,
    upgrade,
)
from analyzer.history.models import (
    AFFECTED_SIDES,
    MAX_EXPRESSION_LENGTH,
    MAX_NAME_LENGTH,
    Base,
    Capture,
    HistoryRow,
    InvalidNameError,
    LandmarkCorrection,
    Person,
    ProtocolCapture,
    Sitting,
    StorageError,
    clean_name,
    landmarks_from_bytes,
    landmarks_to_bytes,
    name_key,
)

#: Names that moved to ``models`` and ``database``, importable from here as before.
__all__ = [
    "AFFECTED_SIDES",
    "MAX_EXPRESSION_LENGTH",
    "MAX_NAME_LENGTH",
    "MIGRATION_LOCK",
    "PHOTO_LOCK",
    "Base",
    "Capture",
    "Database",
    "HistoryRow",
    "InvalidNameError",
    "LandmarkCorrection",
    "Person",
    "PersonExistsError",
    "PersonSummary",
    "ProtocolCapture",
    "Sitting",
    "StorageError",
    "add_person",
    "busy_timeout_s",
    "clean_name",
    "get_or_create_person",
    "get_person",
    "known_hashes",
    "landmarks_from_bytes",
    "landmarks_to_bytes",
    "load_history",
    "load_protocol_captures",
    "open_database",
    "person_summaries",
    "rename_person",
    "session_for_day",
    "upgrade",
]

# --- queries -------------------------------------------------------------------------


class PersonExistsError(InvalidNameError):
    """Another person already has this name (capitals and spacing aside)."""


def get_person(session: Session, name: str) -> Person | None:
    """The person of that name, whatever its capitals ("test user" finds "Test User")."""
    return session.scalar(select(Person).where(Person.name_key == name_key(name)))


def add_person(session: Session, name: str, affected_side: str = "none", notes: str = "") -> Person:
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
                person = Person(name=name, affected_side=affected_side, notes="", created_at=_now())
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
                sitting = Sitting(person_id=person.id, day=day, started_at=when, tags=[], notes="")
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


def load_history(session: Session, person: Person) -> list[HistoryRow]:
    """Every capture of a person with every measure, oldest first, in one query."""
    rows = session.execute(
        select(
            Capture.id.label("capture_id"),
            Sitting.id.label("session_id"),
            Sitting.day.label("session_day"),
            Sitting.started_at.label("session_started_at"),
            Sitting.tags.label("session_tags"),
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
    marks = {i: s.sentence for i, s in summaries(session, person_id=person.id).items()}
    return [
        HistoryRow(
            **(row._asdict() | {"session_tags": tuple(row.session_tags or ())}),
            corrected=marks.get(row.capture_id, ""),
        )
        for row in rows
    ]


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


def load_protocol_captures(session: Session, person: Person) -> list[ProtocolCapture]:
    """Every accepted capture of a person with its landmarks, for the palsy protocol, in the
    order they were taken."""
    rows = session.execute(
        select(
            Capture.id,
            Sitting.id,
            Sitting.day,
            Sitting.started_at,
            Sitting.tags,
            Capture.expression,
            Capture.taken_at,
            Capture.landmarks,
            Capture.followed_landmarks,
            Capture.followed_from_id,
            Capture.refined_landmarks,
            Capture.regions,
        )
        .join(Capture, Capture.session_id == Sitting.id)
        .where(Capture.person_id == person.id, Capture.accepted.is_(True))
        .order_by(Sitting.started_at, Capture.taken_at)
    )
    return corrected_protocol_captures(
        session,
        [
            ProtocolCapture(
                cid,
                sid,
                day,
                started,
                tuple(tags or ()),
                expression,
                taken,
                landmarks_from_bytes(data if refined is None else refined),
                None if followed is None else landmarks_from_bytes(followed),
                source,
                regions,
                landmarks_from_bytes(data),
            )
            for (
                cid,
                sid,
                day,
                started,
                tags,
                expression,
                taken,
                data,
                followed,
                source,
                refined,
                regions,
            ) in rows
        ],
    )
