"""Export of one person's history: a CSV of every capture, or a ZIP of everything.

The captures CSV carries every measure, the capture's conditions (camera, face size,
pose, light, resting expression) and its hand corrections ("corrected by ada on 2026-11-26:
3 points"); the verdicts CSV each session's verdict per followed
measure against the baseline, with its reasons when the sessions are not comparable.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from analyzer.history.catalog import FOLLOWED
from analyzer.history.corrections import correction_records
from analyzer.history.photos import AnyPhotoStore
from analyzer.history.progress import (
    lid_gaps,
    measure_progress,
    session_conditions,
    session_movement,
)
from analyzer.history.side_suggestion import movement_noise
from analyzer.history.spreadsheet import cell_text
from analyzer.history.storage import (
    Capture,
    HistoryRow,
    Person,
    Sitting,
    load_history,
    load_protocol_captures,
)
from analyzer.history.verdicts import judge
from analyzer.measure import registry
from analyzer.measure.conditions import CaptureConditions
from analyzer.measure.quality import EYES_SHUT_EXPRESSIONS
from analyzer.measure.registry import expression_key
from analyzer.protocol.movement import EXPRESSIONS, PRIMARY
from analyzer.protocol.weaker_side import session_weaker_side

BASE_COLUMNS = (
    "session_day",
    "session_started_at",
    "session_tags",
    "capture_id",
    "taken_at",
    "expression",
    "quality_status",
    "accepted",
    "corrections",  # hand corrections in effect: "corrected by ada on 2026-11-26: 3 points"
)


#: The capture-condition columns, prefixed ``condition_`` in the CSV.
CONDITION_COLUMNS = tuple(f.name for f in fields(CaptureConditions))
VERDICT_COLUMNS = (
    "session_day",
    "expression",
    "measure",
    "verdict",
    "baseline",
    "current",
    "change",
    "mdc95",
    "noise",
    "reasons",
    "sentence",
)


def measure_names(rows: list[HistoryRow]) -> list[str]:
    """Every measure name that occurs, in the registry's order (``registry.in_order``)."""
    return registry.in_order(name for row in rows for name in row.measures)


def history_csv(rows: list[HistoryRow]) -> str:
    """One row per capture: time, session, expression, quality, every measure."""
    names = measure_names(rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*BASE_COLUMNS, *(f"condition_{c}" for c in CONDITION_COLUMNS), *names])
    for r in rows:
        conditions = r.conditions or {}
        writer.writerow(
            [
                r.session_day.isoformat(),
                r.session_started_at.isoformat(),
                cell_text(";".join(r.session_tags)),
                r.capture_id,
                r.taken_at.isoformat(),
                r.expression,
                r.quality_status,
                int(r.accepted),
                cell_text(r.corrected),
                *(_cell(conditions.get(c)) for c in CONDITION_COLUMNS),
                *(_number(r.measures.get(n)) for n in names),
            ]
        )
    return out.getvalue()


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _cell(value: object) -> str:
    return "" if value is None else cell_text(str(value))


def verdicts_csv(
    rows: list[HistoryRow], measures: tuple[str, ...] = FOLLOWED, affected_side: str = "none"
) -> str:
    """One row per later session and followed measure: its verdict against the baseline
    (``progress.measure_progress``), per expression of the history, in the words every page
    uses (``verdicts.judge``)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(VERDICT_COLUMNS)
    day_of = {r.session_id: r.session_day for r in rows}
    for expression in dict.fromkeys(r.expression for r in rows):
        conditions = session_conditions(rows, expression)
        available = {n for r in rows if r.expression == expression for n in r.measures}
        for measure in (m for m in measures if m in available):
            first = measure_progress(rows, measure, expression=expression, conditions=conditions)
            for session in first.sessions:
                if session.session_id in first.baseline_ids:
                    continue
                sid = session.session_id
                v = measure_progress(
                    rows, measure, expression=expression, current_id=sid, conditions=conditions
                ).verdict
                writer.writerow(
                    [
                        day_of[sid].isoformat(),
                        cell_text(expression),
                        measure,
                        v.verdict,
                        _number(v.baseline_mm),
                        _number(v.current_mm),
                        _number(v.difference_mm),
                        _number(v.mdc95_mm),
                        v.repeatability_reason,
                        "; ".join(v.reasons),
                        judge(v, affected_side=affected_side).sentence,
                    ]
                )
    return out.getvalue()


def write_csv(session: Session, person: Person, path: Path) -> int:
    """Write the person's CSV; returns the number of captures."""
    rows = load_history(session, person)
    path.write_text(history_csv(rows), encoding="utf-8")
    return len(rows)


def protocol_csv(session: Session, person: Person) -> str:
    """One row per session of the palsy protocol: every movement measure (named as on
    Trends: ``<expression>_<measure>_<side>_<unit>``, ``<expression>_ratio_pct``), the
    eFACE-style estimate and its items, how each expression was measured ("followed"
    from the rest photo, "model" alone, or "mixed" over several captures), and what showed
    between each eye's lids in the eye closures (``progress.lid_gaps``: "shut", "white" for
    an iris rolled up under an open lid, "iris", …), the side that moves less
    (``analyzer.protocol.weaker_side``), and for eye closures imported from a clip what only
    the clip shows (``video_dynamics``; these columns only then)."""
    # Over 60 lines on purpose: the CSV's columns and each row's cells are built side by side so
    # that they stay in the same order.
    rows = load_history(session, person)
    captures = load_protocol_captures(session, person)
    sessions = sorted({(c.session_started_at, c.session_id, c.session_day) for c in captures})
    found = [
        (day, session_movement(captures, rows, sid, person.affected_side))
        for _, sid, day in sessions
    ]
    measures = sorted({m for _, s in found for m in s.result.measures})
    items = sorted(
        {
            f"eface_{i.part}_{i.name}".replace(" ", "_")
            for _, s in found
            for i in s.result.estimate.items
        }
    )
    parts = ["eface_static", "eface_dynamic", "eface_synkinesis", "eface_total"]
    how = [f"{expression_key(e)}_measured_by" for e in EXPRESSIONS if e in PRIMARY]
    closures = [e for e in EXPRESSIONS if e in EYES_SHUT_EXPRESSIONS]
    shows = [
        f"{expression_key(e)}_lagophthalmos_{side}_shows"
        for e in closures
        for side in ("left", "right")
    ]
    videos = {sid: video_dynamics(rows, sid) for _, sid, _ in sessions}
    clip = sorted({c for v in videos.values() for c in v})  # only when a clip was imported
    out = io.StringIO()
    writer = csv.writer(out)
    sides = ["weaker_side", "weaker_side_confidence", "weaker_side_summary"]
    writer.writerow(["session_day", *measures, *parts, *items, *how, *shows, *sides, *clip])
    for (day, s), (_, sid, _) in zip(found, sessions, strict=True):
        gaps = lid_gaps(rows, sid)
        estimate = s.result.estimate
        scores = {f"eface_{i.part}_{i.name}".replace(" ", "_"): i.score for i in estimate.items}
        writer.writerow(
            [
                day.isoformat(),
                *(_number(s.result.measures.get(m)) for m in measures),
                *(
                    _number(v)
                    for v in (
                        estimate.static,
                        estimate.dynamic,
                        estimate.synkinesis,
                        estimate.total,
                    )
                ),
                *(_number(scores.get(i)) for i in items),
                *(s.measured_by(e) for e in EXPRESSIONS if e in PRIMARY),
                *(gaps.get(e, {}).get(side, "") for e in closures for side in ("left", "right")),
                *_weaker(s.result.measures),
                *(_number(videos[sid].get(c)) for c in clip),
            ]
        )
    return out.getvalue()


def _weaker(movement: dict[str, float]) -> tuple[str, str, str]:
    """The side that moves less in a session (``analyzer.protocol.weaker_side``)."""
    found = session_weaker_side(movement, movement_noise())
    return found.side, found.confidence, found.summary


#: What only a clip shows of an eye closure, kept in its capture's conditions by
#: ``video_import``: time to close, smallest lid gap, synkinesis r (per side).
VIDEO_KEYS = ("video_time_to_close_s", "video_min_gap_mm", "video_synkinesis_r")


def video_dynamics(rows: list[HistoryRow], session_id: int) -> dict[str, float]:
    """A session's eye closures imported from a clip: ``<expression>_<key>_<side>`` →
    value (the first capture's where there are several); empty without a clip."""
    out: dict[str, float] = {}
    for row in rows:
        if row.session_id != session_id or row.expression not in EYES_SHUT_EXPRESSIONS:
            continue
        for key in VIDEO_KEYS:
            for side in ("left", "right"):
                value = (row.conditions or {}).get(f"{key}_{side}")
                column = f"{expression_key(row.expression)}_{key}_{side}"
                if value is not None and column not in out:
                    out[column] = float(value)
    return out


def write_protocol_csv(session: Session, person: Person, path: Path) -> int:
    """Write the person's protocol CSV (``protocol_csv``); returns the number of sessions."""
    text = protocol_csv(session, person)
    path.write_text(text, encoding="utf-8")
    return text.count("\n") - 1


def write_verdicts_csv(session: Session, person: Person, path: Path) -> int:
    """Write the person's verdicts CSV (``verdicts_csv``); returns the number of rows."""
    text = verdicts_csv(load_history(session, person), affected_side=person.affected_side)
    path.write_text(text, encoding="utf-8")
    return text.count("\n") - 1


@dataclass(frozen=True)
class Exported:
    captures: int
    missing: int  # photo files that should be there but are not (listed in the archive)


def write_zip(session: Session, person: Person, store: AnyPhotoStore, path: Path) -> Exported:
    """Write everything of a person: photos, landmarks (the model's, and each hand
    correction with who made it and when), measures (JSON and CSV). A photo
    that has gone missing from the photo store is listed in ``missing_photos.txt``
    instead of stopping the export."""
    # Over 60 lines on purpose: one pass writing the ZIP's members in the order a reader
    # meets them (about, measures, landmarks, photos); each part is a few lines.
    rows = load_history(session, person)
    captures = session.scalars(
        select(Capture).where(Capture.person_id == person.id).order_by(Capture.id)
    ).all()
    sittings = session.scalars(
        select(Sitting).where(Sitting.person_id == person.id).order_by(Sitting.started_at)
    ).all()
    about = {
        "name": person.name,
        "affected_side": person.affected_side,
        "notes": person.notes,
        "sessions": [
            {
                "id": s.id,
                "day": s.day.isoformat(),
                "started_at": s.started_at.isoformat(),
                "tags": s.tags,
                "notes": s.notes,
            }
            for s in sittings
        ],
    }
    missing: list[str] = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("person.json", json.dumps(about, indent=1))
        archive.writestr("measures.csv", history_csv(rows))
        archive.writestr("verdicts.csv", verdicts_csv(rows, affected_side=person.affected_side))
        for capture in captures:
            record = {
                "id": capture.id,
                "session_id": capture.session_id,
                "taken_at": capture.taken_at.isoformat(),
                "expression": capture.expression,
                "source_name": capture.source_name,
                "photo_sha256": capture.photo_sha256,
                "scale_mm_per_px": capture.scale_mm_per_px,
                "pose": {
                    "yaw": capture.yaw_deg,
                    "pitch": capture.pitch_deg,
                    "roll": capture.roll_deg,
                },
                "quality": capture.quality,
                "accepted": capture.accepted,
                "measures": capture.measures,
                "conditions": capture.conditions,
                "identity_confirmed": capture.identity_confirmed,
                "landmarks": capture.landmarks_px().round(4).tolist(),
                "analyzer_version": capture.analyzer_version,
                "corrections": correction_records(session, capture.id),
            }
            archive.writestr(f"captures/{capture.id}.json", json.dumps(record))
            if capture.photo_path:
                suffix = Path(capture.photo_path).suffix
                try:
                    photo = store.read(capture.photo_path, session=session)
                except OSError:
                    missing.append(f"capture {capture.id}: {capture.photo_path}")
                    continue
                archive.writestr(f"photos/{capture.id}{suffix}", photo)
        if missing:
            archive.writestr("missing_photos.txt", "\n".join(missing) + "\n")
    return Exported(captures=len(captures), missing=len(missing))
