"""A clip cut into rest and movement segments from its own measures, each movement named,
its peak found and the frames around the peak averaged as a burst.

**Tracks.** Each analysed frame's landmarks are aligned to the clip's rest landmarks (the
median of its first ``REST_S`` seconds: the exam starts at rest) as the protocol aligns an
expression photo to its rest photo (``protocol.movement.align_to_rest``), and each movement's
measure is read per side: brow elevation, eye closure, commissure excursion change (out:
smile), upper-lip elevation (snarl), commissure medial movement (in: pucker).

**Segments.** A frame moves when any track passes its ``THRESHOLDS`` value on either side;
a run of moving frames (gaps under ``GAP_S`` bridged, runs under ``MIN_SEGMENT_S`` dropped)
is a movement segment, the rest are rest. A segment is named by the movement whose track,
over its threshold, is largest in it; the confidence is that movement's share of all the
tracks' (each over its threshold) at the peak. The user may rename it.

**Peaks.** The peak is the frame where the named track (the stronger side's) is largest; the
burst is every clip frame within the plateau around it (the track at least ``PLATEAU_SHARE``
of its peak), at most ``BURST_FRAMES`` nearest the peak, averaged as live capture averages
(``capture.burst``): blinks are dropped except in an eye closure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from analyzer.capture.burst import BURST_FRAMES
from analyzer.measure import topology
from analyzer.protocol.movement import align_to_rest, side_movement

#: The first seconds of a clip, taken as its rest level.
REST_S = 1.0
#: Per movement: the protocol expression whose measure is read, the measure, and the value
#: on either side past which a frame counts as moving (about three times a still face's
#: frame-to-frame jitter of one model view with refinement, 0.3-0.5 mm and 8 % of closure).
TRACKS: dict[str, tuple[str, str, float]] = {
    "brow raise": ("brow raise", "brow_elevation_mm", 1.5),
    "gentle eye closure": ("gentle eye closure", "eye_closure_pct", 30.0),
    "broad smile": ("broad smile", "commissure_excursion_change_mm", 1.5),
    "snarl": ("snarl", "upper_lip_elevation_mm", 1.0),
    "lip pucker": ("lip pucker", "commissure_medial_mm", 1.5),
}
#: Moving frames less than this apart are one segment; shorter segments are dropped.
GAP_S = 0.25
MIN_SEGMENT_S = 0.25
#: The burst's frames: where the named track is at least this share of its peak.
PLATEAU_SHARE = 0.85


@dataclass(frozen=True)
class Tracks:
    """Per analysed frame (rows), each movement's measure per side (left, right)."""

    time_s: np.ndarray  # (n,)
    values: dict[str, np.ndarray]  # movement → (n, 2): left, right; NaN where no face

    def score(self) -> dict[str, np.ndarray]:
        """Each movement's stronger side over its threshold, per frame (NaN: no face)."""
        return {name: np.max(v, axis=1) / TRACKS[name][2] for name, v in self.values.items()}


@dataclass(frozen=True)
class Segment:
    """A stretch of the clip: rest, or one movement with its peak."""

    kind: str  # "rest" or "movement"
    expression: str  # "rest", or the movement's name (the user may rename it)
    start_s: float
    end_s: float
    peak_s: float | None = None  # a movement's peak; None for rest
    confidence: float = 1.0  # the named movement's share of all movement at the peak, 0-1
    #: The burst's window: clip frames within [burst_start_s, burst_end_s] are averaged.
    burst_start_s: float = 0.0
    burst_end_s: float = 0.0

    def renamed(self, expression: str) -> Segment:
        return replace(self, expression=expression)


def rest_landmarks(times: np.ndarray, landmarks: Sequence[np.ndarray | None],
                   rest_s: float = REST_S) -> np.ndarray:  # fmt: skip
    """The clip's rest level: the median landmarks of its first ``rest_s`` seconds (of the
    frames with a face; the first such frame's alone when there is none that early)."""
    found = [i for i, p in enumerate(landmarks) if p is not None]
    if not found:
        raise ValueError("no frame with a face")
    early = [i for i in found if times[i] - times[found[0]] <= rest_s] or found[:1]
    return np.median([landmarks[i] for i in early], axis=0)


def movement_tracks(times: np.ndarray, landmarks: Sequence[np.ndarray | None],
                    rest_px: np.ndarray) -> Tracks:  # fmt: skip
    """Every movement's measure per side, per frame, against ``rest_px``."""
    values = {name: np.full((len(landmarks), 2), np.nan) for name in TRACKS}
    for i, points in enumerate(landmarks):
        if points is None:
            continue
        rest, moved = align_to_rest(rest_px, points)
        for name, (expression, key, _) in TRACKS.items():
            for column, side in enumerate((topology.LEFT, topology.RIGHT)):
                values[name][i, column] = side_movement(expression, rest, moved, side)[key]
    return Tracks(np.asarray(times, dtype=np.float64), values)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    runs, start = [], None
    for i, on in enumerate(mask):
        if on and start is None:
            start = i
        elif not on and start is not None:
            runs.append((start, i - 1))
            start = None
    if start is not None:
        runs.append((start, len(mask) - 1))
    return runs


def find_segments(tracks: Tracks, clip_end_s: float | None = None) -> list[Segment]:
    """Rest and movement segments in time order (see the module's docstring)."""
    times = tracks.time_s
    scores = tracks.score()
    stacked = np.vstack([np.nan_to_num(s, nan=0.0) for s in scores.values()])  # (m, n)
    moving = stacked.max(axis=0) >= 1.0
    runs = _runs(moving)
    merged: list[tuple[int, int]] = []
    for first, last in runs:
        if merged and times[first] - times[merged[-1][1]] <= GAP_S:
            merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    step = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    names = list(scores)
    movements = []
    for first, last in merged:
        if times[last] - times[first] + step < MIN_SEGMENT_S:
            continue
        part = stacked[:, first : last + 1]
        named = int(np.argmax(part.max(axis=1)))
        peak = first + int(np.argmax(part[named]))
        at_peak = np.clip(stacked[:, peak], 0.0, None)
        confidence = float(at_peak[named] / at_peak.sum()) if at_peak.sum() > 0 else 0.0
        plateau = part[named] >= PLATEAU_SHARE * stacked[named, peak]
        lo = hi = peak - first
        while lo > 0 and plateau[lo - 1]:
            lo -= 1
        while hi < len(plateau) - 1 and plateau[hi + 1]:
            hi += 1
        movements.append(Segment(
            kind="movement", expression=names[named], start_s=float(times[first]),
            end_s=float(times[last]), peak_s=float(times[peak]), confidence=confidence,
            burst_start_s=float(times[first + lo]) - step / 2,
            burst_end_s=float(times[first + hi]) + step / 2,
        ))  # fmt: skip
    end = float(times[-1]) if clip_end_s is None else clip_end_s
    out: list[Segment] = []
    cursor = float(times[0])
    for segment in movements:
        if segment.start_s - cursor > step:
            out.append(_rest(cursor, segment.start_s - step))
        out.append(segment)
        cursor = segment.end_s + step
    if end - cursor >= 0:
        out.append(_rest(cursor, end))
    return out


def _rest(start_s: float, end_s: float) -> Segment:
    return Segment(kind="rest", expression="rest", start_s=start_s, end_s=end_s,
                   burst_start_s=start_s, burst_end_s=end_s)  # fmt: skip


def name_as_protocol(segments: Sequence[Segment], order: Sequence[str]) -> list[Segment]:
    """Movement segments renamed in the order of the protocol ``order`` (its expressions
    after rest) when there are exactly as many as it has movements; the second of two eye
    closures is otherwise named "full eye closure". The confidence is kept (how well the
    movement read matches)."""
    moves = [s for s in segments if s.kind == "movement"]
    wanted = [e for e in order if e != "rest"]
    renamed: dict[int, str] = {}
    if wanted and len(moves) == len(wanted):
        renamed = {id(s): e for s, e in zip(moves, wanted, strict=True)}
    else:
        closures = [s for s in moves if s.expression == "gentle eye closure"]
        if len(closures) == 2:
            renamed = {id(closures[1]): "full eye closure"}
    out = []
    for s in segments:
        if id(s) in renamed:
            both_closures = "eye closure" in s.expression and "eye closure" in renamed[id(s)]
            agrees = s.expression == renamed[id(s)] or both_closures
            s = replace(s, expression=renamed[id(s)],
                        confidence=s.confidence if agrees else 0.0)  # fmt: skip
        out.append(s)
    return out


def burst_times(segment: Segment, clip_times: np.ndarray, count: int = BURST_FRAMES) -> list[float]:
    """The clip frames' times to average for ``segment``: within its burst window, at most
    ``count`` nearest its peak (a rest segment's middle); at least ``count`` frames are
    taken from the segment when the window holds fewer."""
    centre = segment.peak_s if segment.peak_s is not None else (segment.start_s + segment.end_s) / 2
    inside = clip_times[(clip_times >= segment.burst_start_s) & (clip_times <= segment.burst_end_s)]
    if len(inside) < count:
        inside = clip_times[(clip_times >= segment.start_s) & (clip_times <= segment.end_s)]
    nearest = inside[np.argsort(np.abs(inside - centre), kind="stable")[:count]]
    return sorted(float(t) for t in nearest)
