"""Framing: which parts of the face the photo holds, and which measures it can therefore give.

The face-mesh model places all 478 points even on a photo cut off below the nose: it
extrapolates the missing half (a mouth 22.9 mm wide, "closed", on a photo with no mouth).
A part of the face (``topology.FRAMING_PARTS``) whose points lie outside the photo, or
within ``EDGE_MARGIN`` of its edge, is missing: the measures that read it are not given,
and the ``framing`` check says which part is missing and what to do.

Every measure reads both eyes (the scale is the iris, the face frame rests on the inner eye
corners and the nose), plus the parts its name says (``parts_read``).
"""

from __future__ import annotations

import numpy as np

from analyzer.measure import topology
from analyzer.measure.quality import QualityCheck

#: A point closer than this share of the photo's shorter side to an edge counts as outside
#: (the model's points near an edge are extrapolated as often as found); at least 2 px.
EDGE_MARGIN = 0.01
MIN_MARGIN_PX = 2.0

#: Read by every measure: the iris gives the scale, and the face frame rests on the eyes'
#: inner corners and the bridge of the nose (``topology.STABLE_POINTS``).
ALWAYS_READ = ("eye_right", "eye_left", "nose_bridge")
#: The parts a measure reads beyond ``ALWAYS_READ``, by a word of its name; sided parts are
#: read on the measure's side, or on both for a difference or a ratio.
_PARTS_BY_WORD = (
    ("nasolabial", ("nose", "mouth", "cheek")),
    ("brow", ("brow",)),
    ("commissure", ("mouth",)),
    ("smile_angle", ("mouth",)),
    ("dental", ("mouth",)),
    ("lip", ("mouth",)),
    ("mouth", ("mouth",)),
    ("cheek", ("cheek",)),
    ("nose", ("nose",)),
    ("nasal", ("nose",)),
    ("jawline", ("jaw", "chin")),
    ("jaw", ("jaw", "chin")),
    ("lower_face_height", ("mouth", "chin")),
    ("face_height", ("forehead", "chin")),
)
#: Parts that hold no measure of their own feature: a cut outline only warns.
OUTLINE_PARTS = frozenset(
    {"jaw_right", "jaw_left", "chin", "forehead", "cheek_right", "cheek_left"}
)
_WORDS = {
    "brow": ("the {side} brow", "include the forehead"),
    "eye": ("the {side} eye", "include both eyes"),
    "nose": ("the nose", "include the whole nose"),
    "nose_bridge": ("the bridge of the nose", "centre the face in the photo"),
    "mouth": ("the mouth", "include the mouth and chin"),
    "cheek": ("the {side} cheek", "include both sides of the face"),
    "jaw": ("the {side} jaw", "include the jaw and chin"),
    "chin": ("the chin", "include the jaw and chin"),
    "forehead": ("the forehead", "include the top of the forehead"),
}


def parts_outside(landmarks_px: np.ndarray, image_size: tuple[int, int]) -> tuple[str, ...]:
    """The parts of ``topology.FRAMING_PARTS`` with a point outside the photo or within the
    edge margin (``image_size`` is (width, height))."""
    width, height = image_size
    margin = max(MIN_MARGIN_PX, EDGE_MARGIN * min(width, height))
    xy = np.asarray(landmarks_px)[:, :2]
    inside = (
        (xy[:, 0] >= margin)
        & (xy[:, 0] <= width - 1 - margin)
        & (xy[:, 1] >= margin)
        & (xy[:, 1] <= height - 1 - margin)
    )
    return tuple(p for p in topology.FRAMING_PARTS if not inside[topology.framing_part(p)].all())


def parts_read(measure: str) -> frozenset[str]:
    """The parts of the face (``topology.FRAMING_PARTS``) a measure needs in the photo."""
    if measure == "asymmetry_index_mm":  # the whole face's mirror asymmetry
        return frozenset(topology.FRAMING_PARTS)
    words = f"_{measure}_"
    sides = [s for s in topology.SIDES if f"_{s}_" in words] or list(topology.SIDES)
    parts = set(ALWAYS_READ)
    for word, bases in _PARTS_BY_WORD:
        if word in measure:
            for base in bases:
                if f"{base}_left" in topology.FRAMING_PARTS:
                    parts.update(f"{base}_{side}" for side in sides)
                else:
                    parts.add(base)
            break
    return frozenset(parts)


def measurable(measures: dict[str, float], outside: tuple[str, ...]) -> dict[str, float]:
    """The measures whose parts are all in the photo."""
    missing = set(outside)
    return {name: value for name, value in measures.items() if not parts_read(name) & missing}


def framing_check(outside: tuple[str, ...]) -> QualityCheck:
    """Whether the photo holds the whole face; which part is missing and what to do.
    ``fail`` when a feature (brow, eye, nose, mouth) is missing, ``warn`` when only the
    outline is cut (its measures are left out; the rest are sound)."""
    if not outside:
        return QualityCheck("framing", "pass", "The whole face is in the photo.")
    phrases, advice = [], []
    for part in outside:
        base, _, side = part.partition("_")
        what, do = _WORDS[part if part in _WORDS else base]
        phrases.append(what.format(side=side))
        if do not in advice:
            advice.append(do)
    missing = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
    verb = "is" if len(phrases) == 1 else "are"
    status = "warn" if set(outside) <= OUTLINE_PARTS else "fail"
    # The head's pose is fitted to the whole mesh, the missing part guessed: with a feature
    # gone, the pose (and every measure in the face frame) is less reliable too.
    caveat = (
        " The head's pose is estimated from the whole face, so the other measures "
        "are less reliable too."
        if status == "fail"
        else ""
    )
    return QualityCheck(
        "framing",
        status,
        f"{missing[0].upper()}{missing[1:]} {verb} outside the photo (or at its very edge), "
        f"so {'its' if len(phrases) == 1 else 'their'} measures are left out: "
        f"{'; '.join(advice)}.{caveat}",
    )
