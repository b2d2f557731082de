"""The weaker side to suggest for a person: from their latest protocol session's movements,
else from their latest resting photo. Never set by itself: the pages show it with a button.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from analyzer.history.catalog import default_between_day_sd, default_within_sd
from analyzer.history.progress import session_movement
from analyzer.history.storage import (
    AFFECTED_SIDES,
    HistoryRow,
    Person,
    load_history,
    load_protocol_captures,
)
from analyzer.measure.weaker_side import REST_EVIDENCE, WeakerSide, photo_weaker_side
from analyzer.protocol.movement import PRIMARY
from analyzer.protocol.weaker_side import primary_names, session_weaker_side


@dataclass(frozen=True)
class SideSuggestion:
    """A suggested weaker side, what it comes from and the day of that session."""

    weaker: WeakerSide
    source: str  # "protocol" (movements of a session) or "rest" (one resting photo)
    day: dt.date

    @property
    def sentence(self) -> str:
        """ "On 2026-12-01 the right side moves less in 5 of 6 expressions." """
        summary = self.weaker.summary
        return f"On {self.day.isoformat()}, {summary[:1].lower()}{summary[1:].rstrip('.')}."


def movement_noise() -> dict[str, float]:
    """The within-session SD of each side's primary movement measure."""
    return {name: default_within_sd(name) for e in PRIMARY for name in primary_names(e)}


def rest_noise() -> dict[str, float]:
    """The between-day SD of each resting left − right difference that tells a side."""
    return {name: default_between_day_sd(name) for name in REST_EVIDENCE}


def latest_rest(rows: list[HistoryRow]) -> HistoryRow | None:
    return next((r for r in reversed(rows) if r.expression == "rest" and r.accepted), None)


def suggest_side(session: Session, person: Person) -> SideSuggestion | None:
    """The weaker side suggested by the latest protocol session with a movement, else by the
    latest accepted resting photo; None when the person has neither."""
    rows = load_history(session, person)
    captures = load_protocol_captures(session, person)
    days = {c.session_id: c.session_day for c in captures}
    for session_id in sorted(days, key=lambda s: days[s], reverse=True):
        found = session_movement(captures, rows, session_id, person.affected_side)
        if any(e in found.result.present for e in PRIMARY):
            weaker = session_weaker_side(found.result.measures, movement_noise())
            return SideSuggestion(weaker, "protocol", days[session_id])
    rest = latest_rest(rows)
    if rest is None:
        return None
    return SideSuggestion(photo_weaker_side(rest.measures, rest_noise()), "rest", rest.session_day)


def set_affected_side(session: Session, person: Person, side: str) -> None:
    """Record the affected side a person chose ("left", "right" or "none")."""
    if side not in AFFECTED_SIDES:
        raise ValueError(f"affected side must be one of {AFFECTED_SIDES}")
    person.affected_side = side
