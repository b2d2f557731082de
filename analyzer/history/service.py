"""What the dashboard asks of the history: people, captures, the baseline, saving, correcting.

The pages call these and render what comes back; none of them writes a query (``ui/`` has
no SQLAlchemy import: ``tests/test_layers.py``). Each function that takes a ``Database``
runs in a transaction of its own and returns records or detached rows whose columns are
loaded (the sessions do not expire on commit), so a page may read them afterwards; a photo
is read after the transaction, never inside it (see ``baseline_photo``).

**The baseline** of a person and an expression is one capture, ``baseline_capture``: the
person's first *accepted* capture of that expression, which is the first accepted one of
the first session that has one. Why this one: the verdicts start from the first session
(``progress.measure_progress``: the first session, or the baseline phase that begins with
it), so the photo a person matches their pose to, the live ghost and target, Compare's
"before" and the first point of a trend are all that session's; and only an accepted
capture, one that passed the quality checks, is worth matching (a capture left out of the
statistics for a turned head would teach the same turned head). A baseline without a kept
photo still gives its landmarks (the ghost) and its conditions (the gauges' target).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from analyzer.errors import AnalyzerError
from analyzer.history import storage
from analyzer.history.corrections import (
    CorrectionSummary,
    corrected_px,
    correction_rows,
    moves_in_effect,
    summaries,
)
from analyzer.history.database import Database
from analyzer.history.importer import CaptureRequest, stored_photo
from analyzer.history.importer import save as importer_save
from analyzer.history.models import (
    Capture,
    HistoryRow,
    Person,
    ProtocolCapture,
    Sitting,
    StorageError,
)
from analyzer.history.photos import AnyPhotoStore
from analyzer.history.progress import protocol_rows
from analyzer.history.same_person import identity_check, references
from analyzer.history.storage import get_person, load_history, load_protocol_captures
from analyzer.measure.analysis import FaceAnalysis
from analyzer.measure.imaging import as_measured, load_photo
from analyzer.measure.quality import QualityCheck


def people(db: Database) -> list[str]:
    """Everybody's name, in order."""
    with db.transaction() as session:
        return list(session.scalars(select(Person.name).order_by(Person.name)))


def add_person(db: Database, name: str, affected_side: str = "none", notes: str = "") -> str:
    """A new person; their name as stored. Raises ``InvalidNameError`` (with
    ``PersonExistsError`` when someone has the name, capitals aside)."""
    with db.transaction() as session:
        return storage.add_person(session, name, affected_side, notes).name


def rename_person(db: Database, name: str, new_name: str) -> str:
    """``name`` renamed (its capitals may change); the new name as stored. Raises like
    ``add_person`` when another person has it."""
    with db.transaction() as session:
        person = storage.get_person(session, name)
        if person is None:
            raise storage.InvalidNameError(f"There is nobody called {name!r} any more.")
        return storage.rename_person(session, person, new_name)


def names_by_ref(session: Session) -> dict[str, str]:
    """Each person's pseudonymous reference in the audit ("P<id>") → their name now."""
    return {f"P{pid}": name for pid, name in session.execute(select(Person.id, Person.name))}


def history(db: Database, person_name: str, *, with_protocol: bool = False) -> list[HistoryRow]:
    """Every capture of a person, oldest first (and, for the palsy protocol, the movement
    rows, ``progress.protocol_rows``); [] for nobody of that name."""
    with db.transaction() as session:
        owner = get_person(session, person_name)
        if owner is None:
            return []
        rows = load_history(session, owner)
        if with_protocol and any(r.expression != "rest" for r in rows):
            rows += protocol_rows(load_protocol_captures(session, owner), owner.affected_side)
    return rows


def affected_side(db: Database, person_name: str) -> str:
    """The person's affected side ("left", "right"), or "none" (a self-test person)."""
    with db.transaction() as session:
        owner = get_person(session, person_name)
        return (owner.affected_side if owner else None) or "none"


def protocol_captures(db: Database, person_name: str) -> list[ProtocolCapture]:
    """Every accepted capture of a person with its landmarks and how each region was had."""
    with db.transaction() as session:
        owner = get_person(session, person_name)
        return [] if owner is None else load_protocol_captures(session, owner)


def same_person(db: Database, person_name: str, analysis: FaceAnalysis) -> QualityCheck | None:
    """A photo against the person's earlier photos (``same_person.identity_check``; None:
    nothing to check against). Hand it to ``save`` in the request's ``Identity``, so that
    saving does not make it again."""
    with db.transaction() as session:
        owner = get_person(session, person_name)
        refs = references(session, owner.id if owner else None)
    return identity_check(analysis.identity, refs, person_name)


def todays_expressions(db: Database, person_name: str, today: dt.date) -> set[str]:
    """The expressions already saved in the person's session of ``today``."""
    with db.transaction() as session:
        owner = get_person(session, person_name)
        if owner is None:
            return set()
        return {c.expression for s in owner.sessions if s.day == today for c in s.captures}


# --- the baseline ---------------------------------------------------------------------------


def baseline_capture(session: Session, person_id: int, expression: str) -> Capture | None:
    """The baseline of a person and an expression (see the module's docstring): their first
    accepted capture of it, by the time it was taken."""
    return session.scalars(
        select(Capture)
        .where(
            Capture.person_id == person_id,
            Capture.expression == expression,
            Capture.accepted.is_(True),
        )
        .order_by(Capture.taken_at, Capture.id)
        .limit(1)
    ).first()


@dataclass(frozen=True)
class Baseline:
    """The baseline capture as the pages use it, read in one transaction."""

    capture_id: int
    session_id: int
    photo_path: str  # "" when the photo was not kept
    mirrored: bool
    landmarks_px: np.ndarray  # the model's (478, 3), in the photo's pixels: the ghost
    image_size: tuple[int | None, int | None]  # (width, height) of its photo
    conditions: dict[str, Any] | None  # how it was taken (the gauges' target without a photo)


def baseline(db: Database, person_name: str, expression: str) -> Baseline | None:
    """The person's baseline of ``expression``; None before their first accepted capture."""
    with db.transaction() as session:
        owner = get_person(session, person_name)
        first = None if owner is None else baseline_capture(session, owner.id, expression)
        if first is None:
            return None
        return Baseline(
            capture_id=first.id,
            session_id=first.session_id,
            photo_path=first.photo_path or "",
            mirrored=bool(first.mirrored),
            landmarks_px=first.landmarks_px(),
            image_size=(first.image_width, first.image_height),
            conditions=first.conditions,
        )


def baseline_photo(store: AnyPhotoStore | None, found: Baseline) -> np.ndarray | None:
    """The baseline's photo as it was measured (mirror corrected), or None when it was not
    kept or cannot be read (``read_photo``)."""
    return read_photo(store, found.photo_path, found.mirrored)


def read_photo(store: AnyPhotoStore | None, photo_path: str, mirrored: bool) -> np.ndarray | None:
    """A kept photo as it was measured (mirror corrected), or None when there is none or it
    cannot be read. Call it outside any transaction: a photo kept in the database is read
    in a transaction of its own, which on SQLite would wait for the write lock an open one
    holds ("database is locked")."""
    if store is None or not photo_path:
        return None
    try:
        rgb = load_photo(store.read(photo_path))
    except (OSError, AnalyzerError):
        return None
    return as_measured(rgb, mirrored)


# --- captures -------------------------------------------------------------------------------


def representative(captures: Iterable[Capture], expression: str) -> Capture | None:
    """A session's capture of an expression to show (Compare, the report's photos): its
    first accepted one, else its first. In the baseline's session this is the baseline."""
    own = sorted((c for c in captures if c.expression == expression), key=lambda c: c.taken_at)
    return next((c for c in own if c.accepted), own[0] if own else None)


def session_capture(
    db: Database, store: AnyPhotoStore | None, session_id: int, expression: str
) -> tuple[Capture, np.ndarray, np.ndarray | None] | None:
    """A session's capture of an expression to compare (``representative``), the landmarks
    it is measured with (hand corrections applied) and its photo."""
    with db.transaction() as session:
        sitting = session.get(Sitting, session_id)
        capture = None if sitting is None else representative(sitting.captures, expression)
        if capture is None:
            return None
        return capture, corrected_px(session, capture), stored_photo(store, capture)


@dataclass(frozen=True)
class Listed:
    """One capture in a person's list: what a picker shows."""

    capture_id: int
    day: dt.date
    taken_at: dt.datetime
    expression: str


def capture_list(
    db: Database, person_name: str
) -> tuple[list[Listed], dict[int, CorrectionSummary]]:
    """Every capture of a person, oldest first, and the hand corrections in effect per
    capture id."""
    with db.transaction() as session:
        owner = get_person(session, person_name)
        if owner is None:
            return [], {}
        listed = session.execute(
            select(Capture.id, Sitting.day, Capture.taken_at, Capture.expression)
            .join(Sitting, Capture.session_id == Sitting.id)
            .where(Capture.person_id == owner.id)
            .order_by(Sitting.started_at, Capture.taken_at, Capture.id)
        ).all()
        return [Listed(*row) for row in listed], summaries(session, person_id=owner.id)


def capture(db: Database, capture_id: int) -> Capture | None:
    """One capture (detached, its columns loaded), or None when there is none."""
    with db.transaction() as session:
        return session.get(Capture, capture_id)


def capture_photo(db: Database, store: AnyPhotoStore | None, capture_id: int) -> np.ndarray | None:
    """A stored capture's photo as measured (mirror corrected), or None."""
    with db.transaction() as session:
        found = session.get(Capture, capture_id)
        return None if found is None else stored_photo(store, found)


@dataclass(frozen=True)
class CorrectionState:
    """A capture on the Correct page: its landmarks before and after the hand corrections."""

    capture: Capture
    automatic_px: np.ndarray  # as measured, without corrections
    current_px: np.ndarray  # with the corrections in effect
    moves: dict[int, tuple[float, float]]  # point → its position in effect
    photo: np.ndarray | None  # as measured (mirror corrected); None: not kept
    summary: CorrectionSummary | None  # the corrections in effect, in words


def correction_state(
    db: Database, store: AnyPhotoStore | None, capture_id: int
) -> CorrectionState | None:
    """Where a capture's points stand; None when it has just been deleted."""
    with db.transaction() as session:
        found = session.get(Capture, capture_id)
        if found is None:
            return None
        return CorrectionState(
            capture=found,
            automatic_px=found.measured_px(),
            current_px=corrected_px(session, found),
            moves=moves_in_effect(correction_rows(session, capture_id)),
            photo=stored_photo(store, found),
            summary=summaries(session, capture_ids=[capture_id]).get(capture_id),
        )


def correct(db: Database, capture_id: int, change: Callable[..., Any], *args, **kwargs) -> Any:
    """Make one change to a capture's points (``corrections.add_correction``,
    ``undo_correction``, ``reset_corrections``) in a transaction of its own."""
    with db.transaction() as session:
        found = session.get(Capture, capture_id)
        if found is None:
            raise AnalyzerError("This capture has just been deleted: choose another.")
        return change(session, found, *args, **kwargs)


def save(
    db: Database, store: AnyPhotoStore | None, person_name: str, request: CaptureRequest
) -> tuple[int, bool]:
    """Save one photo (``importer.save``): the capture id and whether it was new. The
    database's own failures become ``SaveError``."""
    with saving():
        return importer_save(db, store, person_name, request)


class SaveError(StorageError):
    """The database failed during a save (busy, full, gone); its own error is the cause."""


@contextmanager
def saving() -> Iterator[None]:
    """Around a save: the database's own failures become ``SaveError`` (the UI imports no
    SQLAlchemy to catch them)."""
    try:
        yield
    except SQLAlchemyError as error:
        raise SaveError(f"The database refused the save ({type(error).__name__}).") from error
