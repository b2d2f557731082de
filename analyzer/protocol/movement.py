"""Facial palsy protocol: each side's movement from rest, synkinesis signs, an eFACE-style
estimate.

Each expression capture is aligned to the rest capture of the same session on points the
expressions barely move (``topology.PROTOCOL_ANCHORS``: inner eye corners, nasal bridge and
dorsum, temples), by a similarity fitted in the face frame, and carried in the rest
capture's millimetres: during eye closure the iris, the usual ruler, is hidden. Where both
photos are kept, the expression's landmarks are those followed from the rest photo by
optical flow (``analyzer.protocol.tracking``), which reads one-sided movement truly; else the
model's. Then, per side (MEASURES.md, "Movement"):

| expression | measure |
| --- | --- |
| brow raise | brow elevation (mm) |
| gentle / full eye closure | closure: 1 − fissure / resting fissure (%), lagophthalmos (mm) |
| broad smile | commissure movement (mm), its vertical part, excursion change, |
| | canthal tilt change (°) |
| snarl | upper-lip and nasal-ala elevation (mm) |
| lip pucker | commissure movement towards the midline (mm) |

Lagophthalmos is the gap left between the lids at mid-eye, the fissure in the closure photo:
incomplete closure leaves the cornea uncovered, whatever the eye's opening at rest.
Each movement also as the ratio of the affected to the healthy side in percent (weaker to
stronger when no side is set). Synkinesis signs: eye narrowing during smile and pucker, and
mouth-corner movement during eye closure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analyzer.measure import registry, topology
from analyzer.measure.clinical import canthal_tilt_deg, contour_y_at
from analyzer.measure.frame import face_frame, to_frame
from analyzer.measure.quality import EYES_SHUT_EXPRESSIONS
from analyzer.measure.scale import mm_per_px_from_iris
from analyzer.protocol.tracking import similarity_2d

EXPRESSIONS = registry.EXPRESSIONS
INSTRUCTIONS = {
    "rest": "Relax the face, lips gently closed, eyes open, look at the lens.",
    "brow raise": "Raise both eyebrows as high as you can.",
    "gentle eye closure": "Close the eyes gently, as in sleep.",
    "full eye closure": "Squeeze the eyes shut tightly.",
    "broad smile": "Smile as broadly as you can, showing the teeth.",
    "snarl": "Wrinkle the nose and lift the upper lip (snarl).",
    "lip pucker": "Pucker the lips as for a kiss.",
}


def protocol_frame(landmarks_px: np.ndarray) -> np.ndarray:
    """Landmarks in the face frame, in pixels (x to the subject's left, y up)."""
    return to_frame(landmarks_px, face_frame(landmarks_px))[:, :2]


def align_to_rest(
    rest_px: np.ndarray, expression_px: np.ndarray, *, followed: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Rest and expression landmarks (x, y) in the rest capture's face frame, in mm.

    ``followed`` expression landmarks are already registered onto the rest photo
    (``analyzer.protocol.tracking``) and are put in the rest capture's frame as they are; others are
    put in their own face frame and fitted onto rest by a similarity on
    ``topology.PROTOCOL_ANCHORS`` (Umeyama), so their own pose and scale drop out. The rest
    capture's iris gives the millimetres.
    """
    scale = mm_per_px_from_iris(rest_px)
    rest = protocol_frame(rest_px)
    if followed:
        return rest * scale, to_frame(expression_px, face_frame(rest_px))[:, :2] * scale
    expression = protocol_frame(expression_px)
    anchors = list(topology.PROTOCOL_ANCHORS)
    fit = similarity_2d(expression[anchors], rest[anchors])
    moved = expression @ fit[:, :2].T + fit[:, 2]
    return rest * scale, moved * scale


def _fissure(points: np.ndarray, side: topology.SideIndices) -> float:
    x = (points[side.eye_outer, 0] + points[side.eye_inner, 0]) / 2
    return contour_y_at(points, side.upper_lid, x) - contour_y_at(points, side.lower_lid, x)


def _brow(points: np.ndarray, side: topology.SideIndices, x: float) -> float:
    return contour_y_at(points, side.brow_upper, x)


def _excursion(points: np.ndarray, side: topology.SideIndices) -> float:
    lower = topology.RIGHT.lower_lip_outer + tuple(reversed(topology.LEFT.lower_lip_outer[:-1]))
    lip = np.array([0.0, contour_y_at(points, lower, 0.0)])
    return float(np.linalg.norm(points[side.mouth_corner, :2] - lip))


def side_movement(
    expression: str, rest: np.ndarray, moved: np.ndarray, side: topology.SideIndices
) -> dict[str, float]:
    """One side's movement measures for an expression (aligned points in mm)."""
    corner = moved[side.mouth_corner] - rest[side.mouth_corner]
    out: dict[str, float] = {}
    if expression == "brow raise":
        x = rest[side.pupil, 0]
        out["brow_elevation_mm"] = _brow(moved, side, x) - _brow(rest, side, x)
    elif expression in EYES_SHUT_EXPRESSIONS:
        out["eye_closure_pct"] = 100 * (1 - _fissure(moved, side) / _fissure(rest, side))
        # Incomplete closure puts the cornea at risk: the gap itself, whatever the rest.
        out["lagophthalmos_mm"] = max(_fissure(moved, side), 0.0)
        out["commissure_movement_mm"] = float(np.hypot(*corner))  # synkinesis sign
    elif expression == "broad smile":
        out["commissure_movement_mm"] = float(np.hypot(*corner))
        out["commissure_vertical_mm"] = float(corner[1])
        out["commissure_excursion_change_mm"] = _excursion(moved, side) - _excursion(rest, side)
        out["eye_narrowing_pct"] = 100 * (1 - _fissure(moved, side) / _fissure(rest, side))
        # The cheek lifts the outer eye corner in a full smile: the eye line's tilt changes.
        tilt = canthal_tilt_deg(moved, side) - canthal_tilt_deg(rest, side)
        out["canthal_tilt_change_deg"] = tilt
    elif expression == "snarl":
        out["upper_lip_elevation_mm"] = float(
            moved[side.upper_lip_peak, 1] - rest[side.upper_lip_peak, 1]
        )
        out["nasal_ala_elevation_mm"] = float(moved[side.nose_ala, 1] - rest[side.nose_ala, 1])
    elif expression == "lip pucker":
        out["commissure_medial_mm"] = float(
            abs(rest[side.mouth_corner, 0]) - abs(moved[side.mouth_corner, 0])
        )
        out["eye_narrowing_pct"] = 100 * (1 - _fissure(moved, side) / _fissure(rest, side))
    return out


#: The movement measure whose side ratio says how well each expression is performed
#: (``registry.PRIMARY``), as ``side_movement`` names it: "brow_elevation_mm".
PRIMARY = {e: f"{m.stem}_{m.unit}" for e, m in registry.PRIMARY.items()}

#: The regions of ``topology.FACE_REGIONS`` a measure's points come from (the registry's).
regions_of = registry.regions_of


def synkinesis_measures(affected_side: str) -> tuple[str, ...]:
    """The protocol measures that show synkinesis on the affected side (eFACE's items): the
    eye narrowing during the smile and the pucker, and the mouth corner moving during full
    eye closure. None without an affected side."""
    if affected_side not in ("left", "right"):
        return ()
    narrowing = registry.find("eye_narrowing", movement=True)
    corner = registry.find("commissure_movement", movement=True)
    return (
        narrowing.name(affected_side, "broad smile"),
        narrowing.name(affected_side, "lip pucker"),
        corner.name(affected_side, "full eye closure"),
    )


def side_ratio_pct(left: float, right: float, affected_side: str) -> float:
    """Affected side's movement over the healthy side's, in percent (with no affected side:
    weaker over stronger). Movement against the expected direction counts as none."""
    left, right = max(left, 0.0), max(right, 0.0)
    if affected_side == "left":
        weak, strong = left, right
    elif affected_side == "right":
        weak, strong = right, left
    else:
        weak, strong = min(left, right), max(left, right)
    if strong <= 1e-9:
        return math.nan
    return 100 * weak / strong


def expression_measures(
    expression: str,
    rest_px: np.ndarray,
    expression_px: np.ndarray,
    affected_side: str = "none",
    *,
    followed: bool = False,
) -> dict[str, float]:
    """Every movement measure of one expression capture against rest, named
    ``<expression>_<measure>_<side>`` plus ``<expression>_ratio_pct`` for the primary one.
    ``followed``: the expression's landmarks were followed from the rest photo."""
    rest, moved = align_to_rest(rest_px, expression_px, followed=followed)
    prefix = registry.expression_key(expression)
    out: dict[str, float] = {}
    per_side = {
        name: side_movement(expression, rest, moved, side)
        for name, side in topology.BY_SIDE.items()
    }
    for side_name, values in per_side.items():
        for measure, value in values.items():
            stem, unit = measure.rsplit("_", 1)
            out[f"{prefix}_{stem}_{side_name}_{unit}"] = value
    primary = PRIMARY.get(expression)
    if primary:
        out[registry.ratio_name(expression)] = side_ratio_pct(
            per_side["left"][primary], per_side["right"][primary], affected_side
        )
    return out


@dataclass(frozen=True)
class Item:
    """One item of the eFACE-style estimate: its score (0-100) and the measure behind it."""

    part: str  # "static", "dynamic" or "synkinesis"
    name: str
    score: float
    source: str  # the measure (and how) it comes from


@dataclass(frozen=True)
class EfaceEstimate:
    """A landmark-based estimate in the style of eFACE, never the clinician-graded score."""

    items: list[Item]
    static: float | None
    dynamic: float | None
    synkinesis: float | None
    total: float | None
    missing: list[str]

    LABEL = "Landmark-based estimate in the style of eFACE (not a clinician-graded eFACE score)"


def _mean(values: list[float]) -> float | None:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else None


def eface_estimate(
    rest_measures: dict[str, float], movement: dict[str, float], affected_side: str
) -> EfaceEstimate:
    """Static, dynamic and synkinesis parts (0-100, 100 = symmetric and normal) and total.

    Static items score 100 − 10 per mm of left-right difference at rest (brow height,
    fissure height, commissure height); dynamic items are the side ratios of the
    expressions; synkinesis items score 100 − the affected eye's narrowing during smile
    and pucker (%), and 100 − 20 per mm of mouth-corner movement during full eye closure.
    """
    # Over 60 lines on purpose: the eFACE-style items (static, dynamic, synkinesis) are listed as
    # the scale lists them.
    items: list[Item] = []
    for name, measure in (
        ("resting brow", "brow_height_diff_mm"),
        ("palpebral fissure at rest", "palpebral_fissure_height_diff_mm"),
        ("oral commissure at rest", "commissure_height_diff_mm"),
    ):
        if measure in rest_measures:
            score = max(0.0, 100 - 10 * abs(rest_measures[measure]))
            items.append(Item("static", name, score, f"{measure} (100 − 10 per mm)"))
    for expression in PRIMARY:
        key = registry.ratio_name(expression)
        if key in movement and not math.isnan(movement[key]):
            items.append(Item("dynamic", expression, min(movement[key], 100.0), key))
    side = affected_side if affected_side in ("left", "right") else None
    narrowing = registry.find("eye_narrowing", movement=True)
    for expression in ("broad smile", "lip pucker"):
        sides = [side] if side else ["left", "right"]
        keys = [narrowing.name(s, expression) for s in sides]
        if all(k in movement for k in keys):
            worst = max(movement[k] for k in keys)
            items.append(
                Item(
                    "synkinesis",
                    f"eye narrowing during {expression}",
                    max(0.0, 100 - max(worst, 0.0)),
                    " / ".join(keys),
                )
            )
    sides = [side] if side else ["left", "right"]
    corner = registry.find("commissure_movement", movement=True)
    keys = [corner.name(s, "full eye closure") for s in sides]
    if all(k in movement for k in keys):
        worst = max(movement[k] for k in keys)
        items.append(
            Item(
                "synkinesis",
                "mouth corner during eye closure",
                max(0.0, 100 - 20 * worst),
                " / ".join(keys),
            )
        )
    parts = {
        p: _mean([i.score for i in items if i.part == p])
        for p in ("static", "dynamic", "synkinesis")
    }
    present = {i.name for i in items}
    missing = [e for e in EXPRESSIONS[1:] if e not in present and e in PRIMARY]
    available = [v for v in parts.values() if v is not None]
    return EfaceEstimate(
        items=items,
        static=parts["static"],
        dynamic=parts["dynamic"],
        synkinesis=parts["synkinesis"],
        total=float(np.mean(available)) if available else None,
        missing=missing,
    )


@dataclass(frozen=True)
class ProtocolResult:
    """One session's protocol: movement measures, the eFACE-style estimate, what is missing."""

    measures: dict[str, float]
    estimate: EfaceEstimate
    present: list[str]
    missing: list[str]
    message: str


def session_protocol(
    landmarks_by_expression: dict[str, list[np.ndarray]],
    rest_measures: dict[str, float] | None,
    affected_side: str = "none",
    followed: dict[str, list[bool]] | None = None,
    rest_for: dict[str, list[np.ndarray]] | None = None,
) -> ProtocolResult:
    """Movement of every expression of a session against its rest capture.

    ``landmarks_by_expression`` holds each expression's accepted captures (478 × 3 pixels);
    several captures of one expression are averaged measure by measure. ``followed`` says,
    in the same order, which were followed from the first rest capture
    (``analyzer.protocol.tracking``; none when not given), and ``rest_for`` gives, in the
    same order, the rest capture's points to measure each against (default: the first rest
    capture's). Without a rest capture nothing can be measured, and the message says so.
    """
    present = [e for e in EXPRESSIONS if landmarks_by_expression.get(e)]
    missing = [e for e in EXPRESSIONS if e not in present]
    measures: dict[str, float] = {}
    rests = landmarks_by_expression.get("rest") or []
    if rests:
        rest = rests[0]
        for expression in present[1:] if present[0] == "rest" else present:
            if expression == "rest":
                continue
            captures = landmarks_by_expression[expression]
            flags = (followed or {}).get(expression) or [False] * len(captures)
            bases = (rest_for or {}).get(expression) or [rest] * len(captures)
            runs = [
                expression_measures(expression, r, e, affected_side, followed=f)
                for r, e, f in zip(bases, captures, flags, strict=True)
            ]
            for key in runs[0]:
                measures[key] = float(np.nanmean([run[key] for run in runs]))
    estimate = eface_estimate(rest_measures or {}, measures, affected_side)
    if not rests:
        message = "No rest photo in this session: movements are measured from rest, so none can be."
    elif missing:
        message = f"Measured {len(present) - 1} of 6 movements; missing: {', '.join(missing)}."
    else:
        message = "All six movements of the protocol were measured."
    return ProtocolResult(measures, estimate, present, missing, message)
