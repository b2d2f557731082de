"""Clips made from one resting photo by known-change warps over time: the ground truth of
the video tests, the speed figures and the demo. No one is filmed.

A clip is a schedule of holds: the face at rest, then each movement ramped up, held, ramped
down and rested (``Hold``); each frame is the photo with the movement ``imitate``d at that
instant's share of its full amount, plus fresh sensor noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analyzer.measure.analysis import FaceAnalysis
from analyzer.measure.warps import imitate

#: Sensor noise of every frame, grey levels (SD): a still camera's frames are never equal.
NOISE_SD = 2.0


@dataclass(frozen=True)
class Hold:
    """One movement of a clip: ``movement`` of ``warps.IMITATIONS`` (None: rest) made
    ``left_mm`` / ``right_mm`` on each side, reached after ``ramp_s``, held ``hold_s``, then
    back to rest over ``ramp_s`` and rested ``rest_s``."""

    movement: str | None
    left_mm: float = 0.0
    right_mm: float = 0.0
    hold_s: float = 1.0
    ramp_s: float = 0.3
    rest_s: float = 0.3
    #: Other movements made at the same time, each (movement, left_mm, right_mm): an eye
    #: closure that pulls a mouth corner with it (synkinesis).
    also: tuple[tuple[str, float, float], ...] = ()


def share_at(hold: Hold, t_s: float) -> float:
    """How much of the hold's movement shows ``t_s`` seconds after it began, 0-1."""
    if t_s < hold.ramp_s:
        return t_s / hold.ramp_s
    if t_s < hold.ramp_s + hold.hold_s:
        return 1.0
    down = t_s - hold.ramp_s - hold.hold_s
    return max(0.0, 1.0 - down / hold.ramp_s) if hold.ramp_s else 0.0


def duration_s(hold: Hold) -> float:
    return 2 * hold.ramp_s + hold.hold_s + hold.rest_s


def schedule(holds: Sequence[Hold], fps: float) -> list[tuple[Hold, float]]:
    """Per frame, the hold it belongs to and its movement's share."""
    out = []
    for hold in holds:
        count = round(duration_s(hold) * fps)
        out += [(hold, share_at(hold, i / fps)) for i in range(count)]
    return out


def clip_frames(
    rgb: np.ndarray, analysis: FaceAnalysis, holds: Sequence[Hold], fps: float, *, seed: int = 0
) -> list[np.ndarray]:
    """The clip's frames: ``rgb`` (the resting photo, analysed as ``analysis``) with each
    hold's movement made at each frame's share, and sensor noise."""
    rng = np.random.default_rng(seed)
    frame, scale = analysis.measurement.frame, analysis.mm_per_px
    out, cache = [], {}
    for hold, share in schedule(holds, fps):
        key = (hold, round(share, 4))
        if key not in cache:
            cache[key] = rgb
            movements = [(hold.movement, hold.left_mm, hold.right_mm), *hold.also]
            for movement, left_mm, right_mm in movements if hold.movement and share > 0 else ():
                cache[key], _ = imitate(
                    cache[key],
                    analysis.landmarks_px,
                    frame,
                    scale,
                    movement,
                    share * left_mm,
                    share * right_mm,
                )
        noise = np.rint(rng.normal(0.0, NOISE_SD, size=rgb.shape)).astype(np.int16)
        out.append(np.clip(cache[key].astype(np.int16) + noise, 0, 255).astype(np.uint8))
    return out


def protocol_holds(analysis: FaceAnalysis, hold_s: float = 1.0) -> list[Hold]:
    """The palsy protocol, the right side weaker: rest, brow raise, gentle and full eye
    closure (the lids lowered by shares of each resting fissure), broad smile, snarl, lip
    pucker. The amounts are the photo tests' (``tests/test_movement.py``)."""
    fissure = {
        side: analysis.measures[f"palpebral_fissure_height_{side}_mm"] for side in ("left", "right")
    }
    return [
        Hold(None, hold_s=0.0, ramp_s=0.0, rest_s=1.2),
        Hold("brow raise", 4.0, 2.0, hold_s),
        Hold("eye closure", 0.6 * fissure["left"], 0.3 * fissure["right"], hold_s),
        Hold("eye closure", 0.9 * fissure["left"], 0.6 * fissure["right"], hold_s),
        Hold("broad smile", 6.0, 3.0, hold_s),
        Hold("snarl", 3.0, 1.5, hold_s),
        Hold("lip pucker", 4.0, 2.0, hold_s),
    ]


#: The protocol's expression for each hold of ``protocol_holds``, in order.
PROTOCOL_EXPRESSIONS = (
    "rest",
    "brow raise",
    "gentle eye closure",
    "full eye closure",
    "broad smile",
    "snarl",
    "lip pucker",
)
