"""Can two sessions be compared? Capture conditions against tolerances, reasons in words.

A change is only a change of the face when the photos were taken alike. Real re-captures of
unchanged faces differ mostly by how they were taken: camera and distance (perspective),
head pose, side light, how wide the eyes are open, a faint smile. So a session is compared
with the baseline only when its conditions (``analyzer.measure.conditions``) match the
baseline's within the tolerances below; otherwise the verdict is "not comparable", with a
sentence saying what differs and what to do.

The tolerances and the default between-day noise (``analyzer.history.catalog``) are derived
together: the default noise was measured on simulated re-captures of the sample faces whose
conditions vary within exactly these tolerances (``scripts/measure_default_noise.py``,
``analyzer.measure.warps.recapture_day``). Within them, that noise holds what the
conditions do to a measure; beyond them it would not, so the comparison is refused rather
than judged with a noise figure that does not cover it. Each tolerance's effect on the
measures is written beside it, measured by ``scripts/measure_default_noise.py`` and
``scripts/perspective_effect.py``.

A condition only refuses the measures it moves: a faint smile does not make a brow height
incomparable. The resting-face conditions (eyes wider, mouth corners out, lips parted) judge
rest captures only: in a movement they are what is measured (a smile moves the corners, a
recovering smile moves them further), so a movement is refused only for how its photo was
taken (``HOW_TAKEN``). Left − right differences (``*_diff_*``) are compared across cameras,
distances and bilateral expression changes, which move both sides alike; only pose and side
light, which do not, refuse them.
"""

from __future__ import annotations

import statistics as pystats
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from analyzer.measure.conditions import CaptureConditions
from analyzer.protocol.movement import regions_of

#: Head yaw or pitch differing by more than this from the baseline (median of each
#: session's captures). The default noise holds poses drawn within ±5° of frontal (read
#: within about ±4.5°).
POSE_TOLERANCE_DEG = 5.0
#: The face's size in the frame (diagonal share; same camera) differing by more than this
#: ratio: the camera was nearer or further. The default noise holds camera distances drawn
#: within ±15 %. Perspective (``analyzer.measure.perspective``) from 40 to 46 cm (15 %)
#: moves a mouth corner's height by about 0.35 mm and the face's widths by 1.5-2 mm (from
#: 40 to 60 cm: 0.9 mm and 3.8-5.4 mm, ``scripts/perspective_effect.py``): beyond 15 % the
#: noise would not cover it.
DISTANCE_TOLERANCE = 0.15
#: Left/right light balance ((left − right cheek) / mean) differing by more than this. The
#: default noise holds light from a left-right gradient of ±30 % across the photo, which the
#: analyzer reads as balances within about ±0.04 of the photo's own (5th-95th percentile).
LIGHT_BALANCE_TOLERANCE = 0.10
#: Both eyes open wider (or narrower) by more than this, in mm of fissure height, taken as
#: the change the two eyes share (a one-sided change, as in palsy, is not an expression
#: difference). The default noise holds lids moved by ±1 mm, which the analyzer reads as
#: eye openings within about ±0.4 mm (5th-95th percentile), and its 0.5 mm allowance.
EYE_OPENING_TOLERANCE_MM = 1.0
#: Both mouth corners further from the midline by more than this (commissure excursion the
#: two sides share): a faint smile. The default noise holds faint smiles of up to 1 mm,
#: read as mouth widths within about ±0.7 mm, and its 0.5 mm allowance.
SMILE_TOLERANCE_MM = 1.5
#: Lips parted by more than this, in mm, against the baseline.
MOUTH_GAP_TOLERANCE_MM = 2.0

_EYE_STEMS = (
    "palpebral_fissure",
    "mrd1",
    "mrd2",
    "brow_height",
    "asymmetry_eye",
    "asymmetry_brow",
    "canthal_tilt",
)
_MOUTH_STEMS = (
    "commissure_excursion",
    "commissure_height",
    "smile_angle",
    "dental_show",
    "cheek_height",
    "lower_face_height",
    "face_height",
    "asymmetry_mouth",
    "asymmetry_cheek",
    "asymmetry_index",
    "nasolabial_fold",
)
_LIGHT_STEMS = ("cheek", "jaw", "face_height", "lower_face_height", "asymmetry", "nasolabial_fold")


#: The conditions that can refuse a movement (any expression but rest): how the photo was
#: taken, not what the face did.
HOW_TAKEN = ("camera", "distance", "pose", "light")


@dataclass(frozen=True)
class Difference:
    """One way the current session was taken differently from the baseline."""

    condition: str  # "camera", "distance", "pose", "light", "eye_opening", "smile",
    # "mouth_gap" or "points"
    sentence: str  # what differs and what to do, for a person
    regions: tuple[str, ...] = ()  # "points": the regions whose points came from elsewhere


def _is_difference_measure(measure: str) -> bool:
    return "_diff_" in measure


#: Which measures each condition moves (see the module doc).
AFFECTS: dict[str, Callable[[str], bool]] = {
    "camera": lambda m: not _is_difference_measure(m),
    "distance": lambda m: not _is_difference_measure(m),
    "pose": lambda m: True,
    "light": lambda m: m.startswith(_LIGHT_STEMS) or _is_difference_measure(m),
    "eye_opening": lambda m: m.startswith(_EYE_STEMS) and not _is_difference_measure(m),
    "smile": lambda m: m.startswith(_MOUTH_STEMS) and not _is_difference_measure(m),
    "mouth_gap": lambda m: m.startswith(_MOUTH_STEMS) and not _is_difference_measure(m),
}


def reasons_for(measure: str, differences: Sequence[Difference]) -> list[str]:
    """The sentences of the differences that move ``measure``."""
    return [d.sentence for d in differences if _moves(d, measure)]


def _moves(difference: Difference, measure: str) -> bool:
    if difference.condition == "points":
        return bool(set(regions_of(measure)) & set(difference.regions))
    return AFFECTS[difference.condition](measure)


def camera_key(c: CaptureConditions) -> tuple[str, ...]:
    """What identifies a camera: make, model and focal length (a phone's front and back
    cameras differ), else the webcam's label, else only the picture's shape (no EXIF at all:
    a resized copy keeps its shape, another device rarely does). The distance is judged
    apart, by the face's share of the frame, so a resized photo stays comparable."""
    if c.camera_make or c.camera_model:
        focal = f"{c.focal_length_35mm:.0f}" if c.focal_length_35mm else ""
        return ("exif", c.camera_make.lower(), c.camera_model.lower(), focal)
    shape = f"{c.image_width / c.image_height:.2f}" if c.image_width and c.image_height else ""
    if c.camera_label:
        return ("label", c.camera_label.lower(), shape)
    return ("unknown", shape)


def _camera_words(c: CaptureConditions) -> str:
    if c.camera:
        return c.camera
    return f"a camera that recorded no details ({c.image_width}×{c.image_height} px)"


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return pystats.median(known) if known else None


def _shared_change(
    reference: Sequence[CaptureConditions],
    current: Sequence[CaptureConditions],
    left: str,
    right: str,
) -> float | None:
    """The change both sides share (same sign, the smaller of the two), else 0."""
    changes = []
    for side in (left, right):
        before = _median([getattr(c, side) for c in reference])
        after = _median([getattr(c, side) for c in current])
        if before is None or after is None:
            return None
        changes.append(after - before)
    a, b = changes
    if a * b <= 0:
        return 0.0
    return min(a, b) if a > 0 else max(a, b)


def differences(
    reference: Sequence[CaptureConditions],
    current: Sequence[CaptureConditions],
    expression: str = "rest",
) -> list[Difference]:
    """How ``current`` (one session's captures of ``expression``) was taken differently from
    ``reference`` (the baseline's captures of it), beyond the tolerances. Conditions not
    known on either side (captures saved before they were kept) are not judged. For a
    movement, only the conditions in ``HOW_TAKEN`` are judged."""
    found = _all_differences(reference, current)
    if expression == "rest":
        return found
    return [d for d in found if d.condition in HOW_TAKEN]


def _all_differences(
    reference: Sequence[CaptureConditions], current: Sequence[CaptureConditions]
) -> list[Difference]:
    # Over 60 lines on purpose: one rule per capture condition (distance, pose, light, eyes, smile,
    # camera), each a few lines against its tolerance; one list of rules reads better than a
    # function per rule.
    if not reference or not current:
        return []
    found: list[Difference] = []
    ref_cameras = {camera_key(c): c for c in reference}
    cur_cameras = {camera_key(c): c for c in current}
    same_camera = bool(set(ref_cameras) & set(cur_cameras))
    if not same_camera:
        found.append(
            Difference(
                "camera",
                f"taken with another camera ({_camera_words(next(iter(cur_cameras.values())))} "
                f"versus {_camera_words(next(iter(ref_cameras.values())))} at baseline): use the "
                "baseline's camera, or start a new baseline with this one",
            )
        )
    else:
        before = _median([c.face_share for c in reference])
        after = _median([c.face_share for c in current])
        if before and after and abs(after / before - 1) > DISTANCE_TOLERANCE:
            bigger = after > before
            found.append(
                Difference(
                    "distance",
                    f"the face is {abs(after / before - 1):.0%} "
                    f"{'larger' if bigger else 'smaller'} "
                    f"in the frame: the camera was {'nearer' if bigger else 'further away'}; hold "
                    "it as far away as at baseline",
                )
            )
    for field, tolerance, words in (
        (
            "yaw_deg",
            POSE_TOLERANCE_DEG,
            ("head turned {:.0f}° more to the left", "head turned {:.0f}° more to the right"),
        ),
        ("pitch_deg", POSE_TOLERANCE_DEG, ("chin {:.0f}° lower", "chin {:.0f}° higher")),
    ):
        before = _median([getattr(c, field) for c in reference])
        after = _median([getattr(c, field) for c in current])
        if before is not None and after is not None and abs(after - before) > tolerance:
            text = words[0] if after > before else words[1]
            found.append(
                Difference(
                    "pose",
                    f"{text.format(abs(after - before))} than at baseline: face the camera as at "
                    "baseline, the lens at eye height",
                )
            )
    before = _median([c.light_balance for c in reference])
    after = _median([c.light_balance for c in current])
    if before is not None and after is not None and abs(after - before) > LIGHT_BALANCE_TOLERANCE:
        side = "left" if after > before else "right"
        found.append(
            Difference(
                "light",
                f"lit more from the {side} (cheeks differ by {abs(after):.0%} against "
                f"{abs(before):.0%} at baseline): use the baseline's light",
            )
        )
    eyes = _shared_change(reference, current, "fissure_left_mm", "fissure_right_mm")
    if eyes is not None and abs(eyes) > EYE_OPENING_TOLERANCE_MM:
        found.append(
            Difference(
                "eye_opening",
                f"both eyes open {abs(eyes):.1f} mm {'wider' if eyes > 0 else 'narrower'} than at "
                "baseline: match the baseline expression (relaxed, looking at the lens)",
            )
        )
    smile = _shared_change(
        reference, current, "commissure_excursion_left_mm", "commissure_excursion_right_mm"
    )
    if smile is not None and abs(smile) > SMILE_TOLERANCE_MM:
        found.append(
            Difference(
                "smile",
                f"both mouth corners {abs(smile):.1f} mm "
                f"{'further from' if smile > 0 else 'nearer'} "
                f"{'' if smile > 0 else 'to '}the midline than at baseline"
                f"{' (a faint smile?)' if smile > 0 else ''}: relax the mouth as at baseline",
            )
        )
    found.extend(_brow_sources(reference, current))
    before = _median([c.mouth_gap_mm for c in reference])
    after = _median([c.mouth_gap_mm for c in current])
    if before is not None and after is not None and abs(after - before) > MOUTH_GAP_TOLERANCE_MM:
        found.append(
            Difference(
                "mouth_gap",
                f"lips parted {abs(after - before):.1f} mm {'more' if after > before else 'less'} "
                "than at baseline: rest the lips as at baseline",
            )
        )
    return found


def _brow_sources(
    reference: Sequence[CaptureConditions], current: Sequence[CaptureConditions]
) -> list[Difference]:
    """A brow found in the photo itself at baseline and taken from the model now, or the
    reverse (most captures of each session): the two lie about 1.5 mm apart on the same face
    (README, "Lids and brows from the image"), more than a real change to be judged."""
    found = []
    for side in ("left", "right"):
        before = _majority([_brow_in_photo(c, side) for c in reference])
        after = _majority([_brow_in_photo(c, side) for c in current])
        if before is None or after is None or before == after:
            continue
        now, then = (
            ("found in the photo", "the model's")
            if after
            else ("the model's", "found in the photo")
        )
        found.append(
            Difference(
                "points",
                f"the {side} brow's edge is {now} now but was {then} at baseline (hair over the "
                "brow, glasses or light can hide it): the two differ by about 1.5 mm; take the "
                "photo as at baseline",
                regions=(f"brow_{side}",),
            )
        )
    return found


def _brow_in_photo(c: CaptureConditions, side: str) -> bool | None:
    if c.brows_from_photo is None:
        return None
    return c.brows_from_photo in ("both", side)


def _majority(flags: Sequence[bool | None]) -> bool | None:
    known = [f for f in flags if f is not None]
    if not known:
        return None
    return sum(known) * 2 >= len(known)
