"""Importing a clip of the exam: each segment's peak burst stored as a capture of its
expression, the clip's first rest segment as the rest capture.

Every capture goes through ``importer.save_capture`` (the same-person check against the
person's history, the quality gate, following from the session's rest photo) by way of
``_save`` alone, so a change of that call is one place. Where in the clip each capture came
from is kept twice: in its ``source_name`` ("exam.mp4 @ 4.33 s (3.50-4.33 s)") and in its
conditions (``video_peak_s``, ``video_start_s``, ``video_end_s``, ``video_file``).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from analyzer.history.importer import save_capture
from analyzer.history.photos import AnyPhotoStore
from analyzer.history.storage import Capture, Database
from analyzer.video.dynamics import closure_timing, synkinesis_r
from analyzer.video.exam import Exam, PeakCapture, peak_captures, read_exam
from analyzer.video.track import SAMPLE_FPS


@dataclass
class VideoImportReport:
    """What a video import did: per stored capture, its expression, clip time, whether it
    was new and accepted, and its quality checks that did not pass."""

    exam: Exam | None = None
    stored: list[dict] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return sum(1 for s in self.stored if s["new"])


def video_taken_at(path: Path) -> dt.datetime:
    """When the clip was recorded: the container's ``creation_time`` (local time), else the
    file's modification time."""
    import av

    try:
        with av.open(str(path)) as container:
            text = container.metadata.get("creation_time", "")
        if text:
            when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            return when.astimezone().replace(tzinfo=None, microsecond=0)
    except (av.FFmpegError, ValueError, OSError):
        pass
    return dt.datetime.fromtimestamp(path.stat().st_mtime).replace(microsecond=0)


def _jpeg(rgb) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def _save(
    db: Database,
    store: AnyPhotoStore | None,
    person: str,
    peak: PeakCapture,
    taken_at: dt.datetime,
    source_name: str,
) -> tuple[int, bool]:
    """The one call of ``importer.save_capture`` for a clip's capture."""
    return save_capture(
        db,
        store,
        person,
        _jpeg(peak.photo),
        ".jpg",
        peak.analysis,
        taken_at=taken_at,
        expression=peak.segment.expression,
        source_name=source_name,
        camera_label="video",
        burst=peak.burst,
    )


def _video_conditions(exam: Exam, peak: PeakCapture) -> dict:
    """Where in the clip a capture came from and, for an eye closure, what only the clip
    shows of it (``analyzer.video.dynamics``), as ``video_…`` keys of its conditions."""
    segment = peak.segment
    out = {
        "video_file": exam.path.name,
        "video_peak_s": round(peak.photo_time_s, 3),
        "video_start_s": round(segment.start_s, 3),
        "video_end_s": round(segment.end_s, 3),
    }
    if segment.kind == "movement" and "eye closure" in segment.expression:
        timing = closure_timing(exam.tracks, segment)
        synkinesis = synkinesis_r(exam.tracks, exam.segments)
        found = {
            "time_to_close_s": timing.time_to_close_s,
            "min_gap_mm": timing.min_gap_mm,
            "synkinesis_r": synkinesis,
        }
        for name, values in found.items():
            for value, side in zip(values, ("left", "right"), strict=True):
                if np.isfinite(value):
                    out[f"video_{name}_{side}"] = round(float(value), 3)
    return out


def import_video(
    db: Database,
    store: AnyPhotoStore | None,
    path: Path,
    person: str,
    *,
    protocol: bool = False,
    taken_at: dt.datetime | None = None,
    fps: float = SAMPLE_FPS,
    exam: Exam | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VideoImportReport:
    """Read ``path`` (or use ``exam``, already read and perhaps renamed), and store its
    rest and each movement's peak as captures of ``person``, ``taken_at`` (default
    ``video_taken_at``) plus each capture's offset in the clip. ``protocol``: the clip
    follows the protocol's order, which names the segments."""
    path = Path(path)
    exam = exam or read_exam(path, fps=fps, protocol=protocol, progress=progress)
    start = taken_at or video_taken_at(path)
    report = VideoImportReport(exam=exam)
    for peak in peak_captures(exam, identity=True):
        segment = peak.segment
        offset = peak.photo_time_s
        source = f"{path.name} @ {offset:.2f} s ({segment.start_s:.2f}-{segment.end_s:.2f} s)"
        capture_id, new = _save(
            db, store, person, peak, start + dt.timedelta(seconds=offset), source
        )
        with db.transaction() as session:
            capture = session.get(Capture, capture_id)
            if new:
                capture.conditions = {
                    **(capture.conditions or {}),
                    **_video_conditions(exam, peak),
                }
            failed = [q["message"] for q in capture.quality if q["status"] == "fail"]
            report.stored.append(
                {
                    "expression": segment.expression,
                    "time_s": offset,
                    "new": new,
                    "accepted": bool(capture.accepted),
                    "confidence": segment.confidence,
                    "burst_frames": peak.burst.size if peak.burst else 1,
                    "failed": failed,
                }
            )
    return report
