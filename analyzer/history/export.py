"""Export of one person's history: a CSV of every capture, or a ZIP of everything."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from analyzer.history.datadir import PhotoStore
from analyzer.history.storage import Capture, HistoryRow, Person, Sitting, load_history

BASE_COLUMNS = (
    "session_day",
    "session_started_at",
    "session_tags",
    "capture_id",
    "taken_at",
    "expression",
    "quality_status",
    "accepted",
)


def measure_names(rows: list[HistoryRow]) -> list[str]:
    """Every measure name that occurs, in first-seen order."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row.measures))
    return list(names)


def history_csv(rows: list[HistoryRow]) -> str:
    """One row per capture: time, session, expression, quality, every measure."""
    names = measure_names(rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*BASE_COLUMNS, *names])
    for r in rows:
        writer.writerow(
            [
                r.session_day.isoformat(),
                r.session_started_at.isoformat(),
                ";".join(r.session_tags),
                r.capture_id,
                r.taken_at.isoformat(),
                r.expression,
                r.quality_status,
                int(r.accepted),
                *(_number(r.measures.get(n)) for n in names),
            ]
        )
    return out.getvalue()


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def write_csv(session: Session, person: Person, path: Path) -> int:
    """Write the person's CSV; returns the number of captures."""
    rows = load_history(session, person)
    path.write_text(history_csv(rows), encoding="utf-8")
    return len(rows)


def write_zip(session: Session, person: Person, store: PhotoStore, path: Path) -> int:
    """Write everything of a person: photos, landmarks, measures (JSON and CSV)."""
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
            {"id": s.id, "day": s.day.isoformat(), "started_at": s.started_at.isoformat(),
             "tags": s.tags, "notes": s.notes}
            for s in sittings
        ],
    }  # fmt: skip
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("person.json", json.dumps(about, indent=1))
        archive.writestr("measures.csv", history_csv(rows))
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
                "landmarks": capture.landmarks_px().round(4).tolist(),
                "analyzer_version": capture.analyzer_version,
            }
            archive.writestr(f"captures/{capture.id}.json", json.dumps(record))
            if capture.photo_path:
                suffix = Path(capture.photo_path).suffix
                archive.writestr(f"photos/{capture.id}{suffix}", store.read(capture.photo_path))
    return len(captures)
