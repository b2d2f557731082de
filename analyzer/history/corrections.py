"""Hand corrections of a stored capture's landmarks (the Correct view, ``analyzer correct``).

A capture's own landmarks (the model's, and the refined ones of ``Capture.measured_px``) are
never changed: each move of a point is a row of ``landmark_correction`` (old and new position
in the photo's pixels as measured, who, when), and the position in effect of a point is its
latest row. Undo deletes that row; reset deletes rows. After every change the capture's
measures, scale, pose and the conditions read from its landmarks are measured again from the
corrected landmarks (``analyzer.measure.correction``), so Trends, Compare, the verdicts, the
CSV and the report use them with no more work, and ``recompute`` keeps them
(``remeasure_corrected``). The palsy protocol measures movement from corrected points too
(``corrected_protocol_captures``). Every change is an audit event ("correct"), in the same
transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from analyzer.errors import AnalyzerError
from analyzer.history.audit import record
from analyzer.history.models import Capture, LandmarkCorrection, ProtocolCapture
from analyzer.measure import topology
from analyzer.measure.analysis import Measurement, measure_landmarks
from analyzer.measure.conditions import CaptureConditions, conditions
from analyzer.measure.correction import apply_corrections, contours_through
from analyzer.measure.folds import kept_folds
from analyzer.measure.frame import similarity_2d
from analyzer.measure.imaging import CameraInfo

#: Conditions that come from the photo itself, not its landmarks: kept as recorded.
_FROM_THE_PHOTO = ("light_mean", "light_balance", "sharpness")


class CorrectionError(AnalyzerError):
    """A correction cannot be made as asked (no such capture, point or place)."""


def local_user() -> str:
    """Who corrects when nobody is signed in: the computer's user."""
    try:
        return getpass.getuser()[:80]
    except (OSError, KeyError):  # no user name in the environment nor the password database
        return "unknown"


def point_index(text: str) -> int:
    """A landmark from what a person typed: a correctable point's name ("left_mouth_corner"
    or "left mouth corner", ``topology.CORRECTABLE``) or a MediaPipe index 0-477."""
    cleaned = " ".join(str(text).strip().lower().replace("_", " ").split())
    key = cleaned.replace(" ", "_")
    if key in topology.CORRECTABLE_POINTS:
        return topology.CORRECTABLE_POINTS[key]
    if cleaned.isdigit() and int(cleaned) < topology.N_LANDMARKS:
        return int(cleaned)
    names = ", ".join(topology.CORRECTABLE_POINTS)
    raise CorrectionError(
        f"There is no point {text!r}: give a landmark index from 0 to "
        f"{topology.N_LANDMARKS - 1} or one of these names: {names}."
    )


def point_label(index: int) -> str:
    """A landmark for a sentence: "left mouth corner (291)" or "landmark 270"."""
    name = topology.point_name(index)
    return name if name.startswith("landmark ") else f"{name} ({index})"


def region_of(index: int) -> str | None:
    """The region of ``topology.CORRECTABLE`` a landmark belongs to: its own, or that of a
    correctable point whose contours it lies on (None: none of them)."""
    for region, points in topology.CORRECTABLE.items():
        if index in points.values():
            return region
    for region, points in topology.CORRECTABLE.items():
        if any(index in c for i in points.values() for c in contours_through(i)):
            return region
    return None


def get_capture(session: Session, capture_id: int) -> Capture:
    """The capture of that id; ``CorrectionError`` with a sentence when there is none."""
    capture = session.get(Capture, int(capture_id))
    if capture is None:
        raise CorrectionError(
            f"There is no capture {capture_id}. Each capture's id is in the capture_id column "
            "of `python -m analyzer export --person NAME --csv FILE`."
        )
    return capture


def correction_rows(session: Session, capture_id: int) -> list[LandmarkCorrection]:
    """A capture's corrections, oldest first (moves undone or reset are gone)."""
    return list(
        session.scalars(
            select(LandmarkCorrection)
            .where(LandmarkCorrection.capture_id == capture_id)
            .order_by(LandmarkCorrection.id)
        )
    )


def moves_in_effect(rows: Iterable[LandmarkCorrection]) -> dict[int, tuple[float, float]]:
    """Each corrected point's position in effect: its latest row's."""
    moves: dict[int, tuple[float, float]] = {}
    for row in sorted(rows, key=lambda r: r.id):
        moves[row.landmark] = (row.new_x, row.new_y)
    return moves


def corrected_px(session: Session, capture: Capture) -> np.ndarray:
    """The landmarks a capture is measured with: its own (``measured_px``) with the hand
    corrections in effect applied."""
    moves = moves_in_effect(correction_rows(session, capture.id))
    base = capture.measured_px()
    return apply_corrections(base, moves) if moves else base


def remeasure(session: Session, capture: Capture) -> Measurement:
    """Measure a capture again from its corrected landmarks: measures, scale, pose, and the
    conditions read from landmarks (those read from the photo, light and sharpness, are kept
    as recorded). Returns the measurement."""
    points = corrected_px(session, capture)
    # The nasolabial folds were found in the photo: their measures are kept as they were.
    result = kept_folds(measure_landmarks(points, capture.user_mm_per_px), capture.measures or {})
    capture.measures = result.measures
    capture.scale_mm_per_px = result.mm_per_px
    capture.yaw_deg = result.pose.yaw_deg
    capture.pitch_deg = result.pose.pitch_deg
    capture.roll_deg = result.pose.roll_deg
    old = CaptureConditions.from_dict(capture.conditions)
    camera = CameraInfo(old.camera_make, old.camera_model, old.camera_lens, old.focal_length_35mm)
    fresh = conditions(
        points,
        (capture.image_width, capture.image_height),
        result,
        camera=camera,
        camera_label=old.camera_label,
        regions=capture.regions,
    ).as_dict()
    kept = {k: getattr(old, k) for k in _FROM_THE_PHOTO if getattr(old, k) is not None}
    capture.conditions = {**fresh, **kept}
    return result


def remeasure_corrected(session: Session) -> int:
    """Measure every capture with corrections again from its corrected landmarks (what
    ``recompute`` calls after measuring from the stored landmarks). Returns how many."""
    ids = session.scalars(select(LandmarkCorrection.capture_id).distinct()).all()
    for capture_id in ids:
        remeasure(session, session.get(Capture, capture_id))
    return len(ids)


def check_inside(capture: Capture, x: float, y: float) -> None:
    """Raise ``CorrectionError`` with a sentence unless (x, y) lies inside the photo."""
    width, height = capture.image_width, capture.image_height
    if not (math.isfinite(x) and math.isfinite(y) and 0 <= x <= width and 0 <= y <= height):
        raise CorrectionError(
            f"({x:g}, {y:g}) lies outside the photo, which is {width} × {height} px: give X "
            f"from 0 to {width} and Y from 0 to {height}, in the photo's pixels."
        )


def _audit(session: Session, capture: Capture, account: str | None, detail: dict) -> None:
    record(
        session,
        "correct",
        account=account,
        person_id=capture.person_id,
        detail={"capture": capture.id, **detail},
    )


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def add_correction(
    session: Session,
    capture: Capture,
    landmark: int,
    x: float,
    y: float,
    *,
    account: str | None = None,
) -> LandmarkCorrection:
    """Move one point of a capture to (x, y), in the photo's pixels as measured (for a
    photo saved as a mirror image, the photo turned back). ``account`` is the signed-in
    user (clinic mode); None: the computer's user. Measures the capture again and records
    the audit event. Raises ``CorrectionError`` for an index outside 0-477 or a place
    outside the photo."""
    landmark = int(landmark)
    if not 0 <= landmark < topology.N_LANDMARKS:
        raise CorrectionError(
            f"There is no landmark {landmark}: MediaPipe's are numbered 0 to "
            f"{topology.N_LANDMARKS - 1}."
        )
    x, y = float(x), float(y)
    check_inside(capture, x, y)
    old_x, old_y = corrected_px(session, capture)[landmark, :2]
    row = LandmarkCorrection(
        capture_id=capture.id,
        landmark=landmark,
        old_x=float(old_x),
        old_y=float(old_y),
        new_x=x,
        new_y=y,
        corrected_by=account or local_user(),
        corrected_at=_now(),
    )
    session.add(row)
    session.flush()
    remeasure(session, capture)
    _audit(
        session,
        capture,
        account,
        {"what": "move", "landmark": landmark, "x": round(x, 2), "y": round(y, 2)},
    )
    return row


def undo_correction(
    session: Session, capture: Capture, landmark: int, *, account: str | None = None
) -> LandmarkCorrection | None:
    """Undo the latest move of one point (its earlier move, or the automatic position, is
    in effect again). Returns the row undone; None when the point had no correction."""
    rows = [r for r in correction_rows(session, capture.id) if r.landmark == int(landmark)]
    if not rows:
        return None
    latest = rows[-1]
    session.delete(latest)
    session.flush()
    remeasure(session, capture)
    _audit(session, capture, account, {"what": "undo", "landmark": int(landmark)})
    return latest


def reset_corrections(
    session: Session,
    capture: Capture,
    landmarks: Iterable[int] | None = None,
    *,
    account: str | None = None,
) -> int:
    """Delete a capture's corrections (of ``landmarks`` only, if given): those points are
    automatic again. Returns how many points were reset."""
    chosen = None if landmarks is None else {int(i) for i in landmarks}
    rows = [
        r for r in correction_rows(session, capture.id) if chosen is None or r.landmark in chosen
    ]
    if not rows:
        return 0
    points = sorted({r.landmark for r in rows})
    for row in rows:
        session.delete(row)
    session.flush()
    remeasure(session, capture)
    detail: dict[str, Any] = {"what": "reset", "points": len(points)}
    if chosen is not None:
        detail["landmarks"] = ",".join(map(str, points))[:200]
    _audit(session, capture, account, detail)
    return len(points)


@dataclass(frozen=True)
class CorrectionSummary:
    """The hand corrections in effect on one capture, for marking it wherever it appears."""

    capture_id: int
    points: int  # how many points are corrected
    by: tuple[str, ...]  # who corrected them, latest last
    on: dt.date  # the day of the latest correction in effect

    @property
    def sentence(self) -> str:
        """ "corrected by ada on 2026-11-26: 3 points" """
        points = f"{self.points} point{'s' * (self.points != 1)}"
        return f"corrected by {', '.join(self.by)} on {self.on.isoformat()}: {points}"


def summaries(
    session: Session, *, person_id: int | None = None, capture_ids: Iterable[int] | None = None
) -> dict[int, CorrectionSummary]:
    """The corrections in effect per capture id, of one person or of the given captures."""
    query = select(LandmarkCorrection).order_by(LandmarkCorrection.id)
    if person_id is not None:
        query = query.join(Capture, Capture.id == LandmarkCorrection.capture_id).where(
            Capture.person_id == person_id
        )
    if capture_ids is not None:
        query = query.where(LandmarkCorrection.capture_id.in_([int(i) for i in capture_ids]))
    latest: dict[int, dict[int, LandmarkCorrection]] = {}
    for row in session.scalars(query):
        latest.setdefault(row.capture_id, {})[row.landmark] = row
    found = {}
    for capture_id, rows in latest.items():
        in_effect = sorted(rows.values(), key=lambda r: (r.corrected_at, r.id))
        by = tuple(dict.fromkeys(r.corrected_by for r in reversed(in_effect)))[::-1]
        found[capture_id] = CorrectionSummary(
            capture_id, len(in_effect), by, in_effect[-1].corrected_at.date()
        )
    return found


def correction_records(session: Session, capture_id: int) -> list[dict[str, Any]]:
    """A capture's corrections as plain values, for the ZIP export."""
    return [
        {
            "landmark": r.landmark,
            "point": topology.point_name(r.landmark),
            "old_x": r.old_x,
            "old_y": r.old_y,
            "new_x": r.new_x,
            "new_y": r.new_y,
            "corrected_by": r.corrected_by,
            "corrected_at": r.corrected_at.isoformat(),
        }
        for r in correction_rows(session, capture_id)
    ]


def corrected_protocol_captures(
    session: Session, captures: list[ProtocolCapture]
) -> list[ProtocolCapture]:
    """The palsy protocol's captures with their hand corrections (``load_protocol_captures``
    calls this).

    A capture's own landmarks (and the model's, which the protocol pairs region by region
    with another capture's) get its corrections: a corrected point is where it is whatever
    found it first. Where an expression was followed from its
    rest photo, each corrected point is carried into the followed landmarks (which are in
    the rest photo's pixels) by the similarity that best maps the capture's own landmarks
    onto its followed ones on ``topology.PROTOCOL_ANCHORS``, and the followed contours
    follow it the same way. A corrected rest capture simply uses its corrected landmarks.
    """
    if not captures:
        return captures
    rows = session.scalars(
        select(LandmarkCorrection)
        .where(LandmarkCorrection.capture_id.in_([c.capture_id for c in captures]))
        .order_by(LandmarkCorrection.id)
    ).all()
    by_capture: dict[int, list[LandmarkCorrection]] = {}
    for row in rows:
        by_capture.setdefault(row.capture_id, []).append(row)
    out = []
    for capture in captures:
        moves = moves_in_effect(by_capture.get(capture.capture_id, ()))
        if not moves:
            out.append(capture)
            continue
        base, followed = capture.landmarks_px, capture.followed_px
        if followed is not None:
            anchors = list(topology.PROTOCOL_ANCHORS)
            fit = similarity_2d(base[anchors, :2], followed[anchors, :2])
            carried = {i: tuple(fit[:, :2] @ np.asarray(xy) + fit[:, 2]) for i, xy in moves.items()}
            followed = apply_corrections(followed, carried)
        model = None if capture.model_px is None else apply_corrections(capture.model_px, moves)
        out.append(
            dataclasses.replace(
                capture,
                landmarks_px=apply_corrections(base, moves),
                followed_px=followed,
                model_px=model,
            )
        )
    return out
