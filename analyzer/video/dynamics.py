"""What only a clip shows: how quickly and how completely each eye closes, the blinks at
rest, and whether a mouth corner moves with its eye (synkinesis), from a clip's tracks.

- **Eye closure over time** (per eye-closure segment and side): the time from the
  segment's start until the eye is closed to ``CLOSED_SHARE`` of its deepest closure in the
  segment, and the smallest gap between the lids (lagophthalmos, mm) reached.
- **Blinks at rest**: in rest segments, each dip of the eyes' closure past
  ``BLINK_PCT`` is a blink; its completeness per side is its deepest closure (100 %:
  fully shut). A blink lasts 100-300 ms: only frames analysed at 10 a second or more
  (``--fps 0``: every frame) catch one.
- **Synkinesis**: per side, the correlation (Pearson r) over the clip's frames of that
  side's eye closure with its mouth corner's movement from rest, leaving out the mouth's
  own movements (smile, snarl, pucker: a corner moved on purpose is not synkinesis). A
  healthy face closes its eyes without moving its mouth (r near 0, or undefined where the
  corner never moves); oral synkinesis moves the corner with the eye (r towards 1). eFACE
  grades it by eye.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyzer.video.segments import CLOSURE, Segment, Tracks

#: An eye is "closed" when its closure reaches this share of its deepest in the segment.
CLOSED_SHARE = 0.9
#: A dip of closure past this (either eye), in a rest segment, is a blink.
BLINK_PCT = 30.0
#: Corner movement under this (mm, SD over the clip) is no movement: r is not given.
STILL_CORNER_MM = 0.1


@dataclass(frozen=True)
class ClosureTiming:
    """One eye-closure segment, per side (left, right)."""

    expression: str
    start_s: float
    time_to_close_s: tuple[float, float]  # from the segment's start; NaN: never closed
    deepest_pct: tuple[float, float]
    min_gap_mm: tuple[float, float]  # the smallest lid gap (lagophthalmos)


@dataclass(frozen=True)
class Blink:
    time_s: float
    completeness_pct: tuple[float, float]  # left, right


@dataclass(frozen=True)
class Dynamics:
    closures: list[ClosureTiming]
    blinks: list[Blink]
    synkinesis_r: tuple[float, float]  # left, right; NaN: a corner that never moved

    def as_dict(self) -> dict:
        """Plain numbers for JSON and for a capture's conditions (``video_…``)."""

        def pair(name: str, values: tuple[float, float], digits: int = 2) -> dict:
            return {
                f"{name}_{side}": (None if np.isnan(v) else round(float(v), digits))
                for side, v in zip(("left", "right"), values, strict=True)
            }

        return {
            "closures": [
                {
                    "expression": c.expression,
                    "start_s": round(c.start_s, 3),
                    **pair("time_to_close_s", c.time_to_close_s),
                    **pair("deepest_pct", c.deepest_pct, 1),
                    **pair("min_gap_mm", c.min_gap_mm),
                }
                for c in self.closures
            ],
            "blinks": [
                {"time_s": round(b.time_s, 3), **pair("completeness_pct", b.completeness_pct, 1)}
                for b in self.blinks
            ],
            **pair("synkinesis_r", self.synkinesis_r),
        }


def closure_timing(tracks: Tracks, segment: Segment) -> ClosureTiming:
    """Time to close and the smallest lid gap of one eye-closure segment (see module)."""
    inside = (tracks.time_s >= segment.start_s) & (tracks.time_s <= segment.end_s)
    times = tracks.time_s[inside]
    closure = tracks.values[CLOSURE][inside]
    gaps = tracks.eye_gap_mm[inside] if tracks.eye_gap_mm is not None else closure * np.nan
    # From the last frame at rest before the segment: the movement's true start.
    before = tracks.time_s[tracks.time_s < segment.start_s]
    start = float(before[-1]) if len(before) else segment.start_s
    timing, deepest, smallest = [], [], []
    for column in range(2):
        series = closure[:, column]
        top = float(np.nanmax(series)) if np.isfinite(series).any() else np.nan
        closed = np.flatnonzero(series >= CLOSED_SHARE * top) if np.isfinite(top) else []
        timing.append(float(times[closed[0]] - start) if len(closed) else np.nan)
        deepest.append(top)
        column_gaps = gaps[:, column]
        smallest.append(float(np.nanmin(column_gaps)) if np.isfinite(column_gaps).any() else np.nan)
    return ClosureTiming(segment.expression, start, tuple(timing), tuple(deepest), tuple(smallest))


def rest_blinks(tracks: Tracks, segments: list[Segment]) -> list[Blink]:
    """Each blink in the rest segments and its completeness per side (see module)."""
    closure = tracks.values[CLOSURE]
    either = np.nanmax(closure, axis=1)
    blinks = []
    for segment in (s for s in segments if s.kind == "rest"):
        inside = np.flatnonzero(
            (tracks.time_s >= segment.start_s) & (tracks.time_s <= segment.end_s)
        )
        dipping = [i for i in inside if either[i] >= BLINK_PCT]
        runs: list[list[int]] = []
        for i in dipping:
            if runs and i == runs[-1][-1] + 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        for run in runs:
            deepest = closure[run].max(axis=0)
            peak = run[int(np.argmax(either[run]))]
            blinks.append(Blink(float(tracks.time_s[peak]), (float(deepest[0]), float(deepest[1]))))
    return blinks


#: Segments whose mouth moves on purpose: left out of the synkinesis correlation.
MOUTH_MOVEMENTS = ("broad smile", "snarl", "lip pucker")


def synkinesis_r(tracks: Tracks, segments: list[Segment] = ()) -> tuple[float, float]:
    """Per side, Pearson's r of the eye's closure with its mouth corner's movement over the
    clip's frames outside ``MOUTH_MOVEMENTS`` segments (NaN where the corner or the eye
    never moved)."""
    out = []
    closure = tracks.values[CLOSURE]
    keep = np.ones(len(tracks.time_s), dtype=bool)
    for s in segments:
        if s.expression in MOUTH_MOVEMENTS:
            keep &= ~((tracks.time_s >= s.start_s) & (tracks.time_s <= s.end_s))
    for column in range(2):
        eye = closure[:, column]
        corner = tracks.corner_mm[:, column] if tracks.corner_mm is not None else eye * np.nan
        ok = np.isfinite(eye) & np.isfinite(corner) & keep
        if ok.sum() < 3 or np.std(corner[ok]) < STILL_CORNER_MM or np.std(eye[ok]) == 0:
            out.append(np.nan)
            continue
        out.append(float(np.corrcoef(eye[ok], corner[ok])[0, 1]))
    return (out[0], out[1])


def dynamics(tracks: Tracks, segments: list[Segment]) -> Dynamics:
    """Everything of this module for one clip."""
    closures = [
        closure_timing(tracks, s)
        for s in segments
        if s.kind == "movement" and "eye closure" in s.expression
    ]
    return Dynamics(closures, rest_blinks(tracks, segments), synkinesis_r(tracks, segments))
