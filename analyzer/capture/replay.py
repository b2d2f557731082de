"""A recorded clip played through a live session, on a clock of its own.

``replay`` feeds frames to a ``LiveSession`` at a clip's frame rate, the session's clock
moved by the clip's time rather than the wall clock, until the shutter fires and the burst
is averaged (or the clip ends). What the live camera would have done with that video, run
as fast as the machine allows: for checking the gauges on many faces (``scripts/
live_many_faces.py``) and in the tests, with no browser.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from analyzer.capture.guidance import FrameReading, Target
from analyzer.capture.live import LiveSession, Taken


@dataclass(frozen=True)
class Replay:
    """How a live session met a clip."""

    fired_at_s: float | None  # clip time when the shutter fired by itself; None: never
    taken: Taken | None  # the burst, once averaged
    frames_played: int
    last_reading: FrameReading | None  # the gauges of the last frame before the shutter fired
    #: Before the shutter fired: per gauge, in how many frames it was not green.
    held_back: dict[str, int]

    @property
    def not_green(self) -> dict[str, tuple[str, float]]:
        """The gauges that were not green on the last frame read: name → (status, value)."""
        if self.last_reading is None:
            return {"face": ("red", float("nan"))}
        return {
            g.name: (g.status, g.value) for g in self.last_reading.gauges if g.status != "green"
        }


class _ClipClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def replay(
    frames: Iterable[np.ndarray],
    target: Target,
    *,
    fps: float = 15.0,
    seconds: float = 6.0,
    resting: bool = True,
    blinks: bool = True,
    average_timeout_s: float = 120.0,
) -> Replay:
    """Play ``frames`` (a clip, e.g. ``guidance.still_frames``) into a fresh
    ``LiveSession`` with ``target`` at ``fps``, for at most ``seconds`` of clip time, and
    wait (in real time, at most ``average_timeout_s``) for the burst's average."""
    clock = _ClipClock()
    session = LiveSession(target, resting=resting, blinks=blinks, clock=clock)
    clip = iter(frames)
    fired_at: float | None = None
    last: FrameReading | None = None
    held_back: dict[str, int] = {}
    played = 0
    while clock.now <= seconds and session.state not in ("processing", "done"):
        rgb = next(clip, None)
        if rgb is None:
            break
        session.process(rgb)
        played += 1
        if session.state == "collecting" and fired_at is None:
            fired_at = clock.now
        elif fired_at is None:
            last = session.reading
            for gauge in last.gauges if last else ():
                if gauge.status != "green":
                    held_back[gauge.name] = held_back.get(gauge.name, 0) + 1
        clock.now += 1.0 / fps
    taken = None
    if fired_at is not None:
        deadline = time.monotonic() + average_timeout_s
        while taken is None and time.monotonic() < deadline:
            taken = session.take()
            if taken is None:
                time.sleep(0.02)
    return Replay(
        fired_at_s=fired_at,
        taken=taken,
        frames_played=played,
        last_reading=last,
        held_back=held_back,
    )
