"""The database's tables (SQLAlchemy 2 ORM) and the records the loaders return.

A person has sessions (one per day: the photos of one day are one sitting); a session has
captures (one photo of one expression, with its landmarks, quality and measures); a capture
may have points moved by hand. Clinic mode adds accounts, sign-ins, the sign-in back-off
and the append-only audit; clinic mode on PostgreSQL keeps photo bytes in ``photo``. The
schema itself is made by the Alembic migrations (``analyzer/history/migrations``).

Queries live in ``analyzer.history.storage``; opening a database in
``analyzer.history.database``. It imports no other module of the history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    deferred,
    mapped_column,
    relationship,
    validates,
)

from analyzer.errors import AnalyzerError
from analyzer.protocol.tracking import unfollowed_pair

AFFECTED_SIDES = ("left", "right", "none")


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


# --- clinic mode: accounts, sign-ins, the back-off, the audit -----------------------------

MAX_ACCOUNT_NAME_LENGTH = 80


class Account(Base):
    __tablename__ = "account"
    __table_args__ = (
        CheckConstraint("role IN ('clinician', 'viewer', 'admin')", name="account_role"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(MAX_ACCOUNT_NAME_LENGTH), unique=True)
    role: Mapped[str] = mapped_column(String(12))
    password_hash: Mapped[str] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime)


class SignIn(Base):
    """One sign-in: the session that a browser holds by a random token. Only the token's hash
    is stored; a session ends once (``ended_at``), by log-out, idle time, or a change of its
    account (disabled, new password, signed out everywhere)."""

    __tablename__ = "sign_in"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)


class LoginThrottle(Base):
    """Failed sign-ins in a row of one account (``account_id``) from one client address, or
    of unknown names from one address (``account_id`` None): the back-off's state."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("account.id", ondelete="CASCADE"), nullable=True, index=True
    )
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(DateTime)
    wait_until: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class AuditEvent(Base):
    """One thing somebody did. Rows are only added, never changed (the database refuses)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    #: The account's name; None for the command line, whose machine user is ``os_user``.
    account_name: Mapped[str | None] = mapped_column(
        String(MAX_ACCOUNT_NAME_LENGTH), nullable=True, index=True
    )
    os_user: Mapped[str | None] = mapped_column(String(80), nullable=True)
    action: Mapped[str] = mapped_column(String(40))
    #: "P<person id>": pseudonymous, never the person's name.
    person_ref: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- photos kept in the database (``analyzer.history.photos``) ---------------------------

#: The longest suffix the ``photo`` table holds (".jpeg", ".heic", ...).
MAX_SUFFIX_LENGTH = 10


class Photo(Base):
    """A photo's bytes, once per content (migration 0005)."""

    __tablename__ = "photo"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    suffix: Mapped[str] = mapped_column(String(MAX_SUFFIX_LENGTH))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


# --- what the loaders return (``analyzer.history.storage``) -------------------------------


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
        rest_px, own = unfollowed_pair(
            rest.landmarks_px,
            rest.model_px,
            rest.regions,
            self.landmarks_px,
            self.model_px,
            self.regions,
        )
        return rest_px, own, False
