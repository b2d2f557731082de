"""What each measure is called in words, its unit, which way is which, and its default noise.

One place for the human side of the measure names that the measuring modules produce, so
sentences ("left brow 1.8 mm higher than at baseline") and charts say the same thing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from analyzer.measure import registry

#: Allowance added (root-sum-square) to the analyzer's digital noise for the default
#: repeatability: real re-captures also differ in head pose, expression and light. A person's
#: own figure replaces the default after three sessions with two captures each.
CAPTURE_ALLOWANCE = {"mm": 0.5, "°": 1.0, "": 0.01, "%": 10.0}

#: The least between-day SD a protocol measure is given: healthy eyes close completely every
#: time (a side ratio of 100 % each sitting), which says nothing of how a weak side's varies;
#: half the capture allowance.
PROTOCOL_FLOOR = {unit: allowance / 2 for unit, allowance in CAPTURE_ALLOWANCE.items()}

#: Direction words by the registry's ``Measure.direction`` key: for a positive and a
#: negative change.
_WORDS = {
    "opening": ("more open", "less open"),  # an eye's fissure height
    "height": ("higher", "lower"),
    "width": ("wider", "narrower"),
    "excursion": ("longer", "shorter"),
    "show": ("more", "less"),
    "mrd1": ("larger", "smaller"),
    "mrd2": ("larger", "smaller"),
    "asymmetry": ("larger", "smaller"),
    "angle": ("larger", "smaller"),
    "tilt": ("more upturned", "more downturned"),  # canthal tilt: the outer eye corner
    "contrast": ("deeper", "shallower"),  # a nasolabial fold's shade
    "length": ("longer", "shorter"),
    "ratio": ("larger", "smaller"),
    "elevation": ("more", "less"),
    "closure": ("more", "less"),
    "movement": ("more", "less"),
    "vertical": ("more", "less"),
    "medial": ("more", "less"),
    "narrowing": ("more", "less"),
    "lagophthalmos": ("wider", "narrower"),
}

#: Plain words for a measure's stem (its name without expression, side and unit), for the
#: short names people read on chips, cards and in the PDF; the technical name stays in
#: ``MeasureInfo.label`` (shown beside it as a second line or a tooltip). First match wins.
_PLAIN = {
    "palpebral_fissure_height": "eye opening",
    "palpebral_fissure_width": "eye width",
    "commissure_height": "mouth corner height",
    "commissure_excursion_change": "mouth corner reach change",
    "commissure_excursion": "mouth corner reach",
    "commissure_movement": "mouth corner movement",
    "commissure_vertical": "mouth corner lift",
    "commissure_medial": "mouth corner pull inward",
    "smile_angle": "mouth corner angle",
    "dental_show": "teeth showing",
    "mrd1": "upper lid to pupil (MRD1)",
    "mrd2": "lower lid to pupil (MRD2)",
    "asymmetry_index": "overall asymmetry",
    "lagophthalmos": "eye left open",
    "brow_elevation": "brow lift",
    "upper_lip_elevation": "upper lip lift",
    "nasal_ala_elevation": "nostril lift",
    "upper_lip_height": "upper lip level",
    "canthal_tilt_change": "eye corner tilt change",
    "canthal_tilt": "eye corner tilt",
    "nasolabial_fold_contrast_change": "smile fold depth change",
    "nasolabial_fold_angle_change": "smile fold angle change",
    "nasolabial_fold_contrast": "smile fold depth (shade)",
    "nasolabial_fold_angle": "smile fold angle",
    "nasolabial_fold_length": "smile fold length",
    "lower_lip_height": "lower lip level",
}

#: Name prefixes of the palsy protocol's movement measures (``analyzer.protocol.movement``).
PROTOCOL_PREFIXES = tuple(registry.expression_key(e) for e in registry.MOVEMENT_EXPRESSIONS)

#: The measures a person follows by default, in the order they are shown.
FOLLOWED = (
    "asymmetry_index_mm",
    "brow_height_left_mm",
    "brow_height_right_mm",
    "palpebral_fissure_height_left_mm",
    "palpebral_fissure_height_right_mm",
    "commissure_height_diff_mm",
    "commissure_excursion_left_mm",
    "commissure_excursion_right_mm",
    "cheek_height_left_mm",
    "cheek_height_right_mm",
    "jaw_taper_ratio",
)


@dataclass(frozen=True)
class MeasureInfo:
    name: str
    label: str  # "left brow height"
    unit: str  # "mm", "°" or "" (a ratio)
    direction_words: tuple[str, str]  # for a positive and a negative change
    is_contour: bool  # an outline measure: also changes with weight, water and posture
    plain: str = ""  # short plain name: "left eye opening", "Broad smile: right eye narrowing"


#: The outline's stems (the registry's ``contour`` measures).
CONTOUR_STEMS = tuple(m.stem for m in registry.MEASURES if m.contour)


def describe(name: str) -> MeasureInfo:
    """Label, unit and direction words of a measure, from its name."""
    parts = registry.split_name(name)
    unit = {"deg": "°", "pct": "%"}.get(parts.unit, parts.unit)
    side, stem = parts.side, parts.stem
    expression = registry.expression_key(parts.expression) if parts.expression else None
    words = stem.replace("_", " ")
    words = words.replace("mrd1", "MRD1").replace("mrd2", "MRD2")
    if expression:
        during = expression.replace("_", " ")
        label = (
            f"{side} {words} in {during}".strip()
            if words != "ratio"
            else (f"{during}: affected / healthy side")
        )
    elif side in ("left", "right"):
        label = f"{side} {words}"
    elif side == "diff":
        label = f"{words} difference (left − right)"
    else:
        label = words
    entry = registry.lookup(name)
    if entry is not None:
        direction = _WORDS[entry.direction]
    else:  # a name not registered (yet): the first key its stem contains
        direction = next((w for key, w in _WORDS.items() if key in stem), ("larger", "smaller"))
    plain = _plain_words(stem, words)
    if stem.startswith("asymmetry_") and stem != "asymmetry_index":  # asymmetry_brow_mm
        plain = f"{stem.removeprefix('asymmetry_').replace('_', ' ')} asymmetry"
    if side in ("left", "right"):
        plain = f"{side} {plain}"
    elif side == "diff":
        plain = f"{plain} difference (left − right)"
    if expression:
        during = expression.replace("_", " ")
        plain = (
            f"{during.capitalize()}: {plain}"
            if words != "ratio"
            else f"{during.capitalize()}: affected side (% of healthy)"
        )
    if side == "diff":  # left − right: positive means the left side has more of it
        direction = (f"{direction[0]} on the left", f"{direction[0]} on the right")
    return MeasureInfo(
        name=name,
        label=label,
        unit=unit,
        direction_words=direction,
        is_contour=stem.startswith(CONTOUR_STEMS),
        plain=plain,
    )


def _plain_words(stem: str, words: str) -> str:
    """The stem in plain words (``_PLAIN``), else its own words."""
    return next((plain for key, plain in _PLAIN.items() if stem.startswith(key)), words)


def plain_name(name: str, *, unit: bool = False) -> str:
    """A stored name in words, for a person: "broad_smile_eye_narrowing_right_pct" →
    "Broad smile: right eye narrowing" ("… (%)" with ``unit``)."""
    info = describe(name)
    shown = info.plain[:1].upper() + info.plain[1:]
    if unit and info.unit and f"({info.unit}" not in shown:  # not twice: "(% of healthy)"
        return f"{shown} ({info.unit})"
    return shown


@cache
def _noise_file() -> dict[str, dict[str, float]]:
    text = resources.files("analyzer.history").joinpath("data/default_noise.json").read_text()
    return json.loads(text)


def _digital_noise() -> dict[str, float]:
    return _noise_file()["within_session_sd"]


def default_between_day_sd(name: str) -> float | None:
    """Typical SD of one session's value of a measure between days on an unchanged face.

    Measured on simulated re-captures of the sample faces whose conditions (distance, pose,
    eye opening, faint smile, light) vary within the tolerances of
    ``analyzer.history.comparability``, plus the capture allowance for what a simulation
    cannot imitate (``scripts/measure_default_noise.py`` writes it). A split-face
    difference (``<stem>_split``) has its own figure: conditions that move both sides alike
    cancel in it. The protocol's movement measures and side ratios have figures measured
    between sittings of real people (``_protocol_noise``); any other movement measure keeps
    its within-session default.
    """
    between = _noise_file().get("between_day_sd", {})
    if name in between:
        return float(between[name])
    protocol = _protocol_noise()
    if name in protocol:
        return protocol[name]
    return default_within_sd(name)


def _protocol_noise() -> dict[str, float]:
    """Between-sitting SD of the protocol's movement measures and side ratios, measured on
    real people (``scripts/ratio_noise.py``: healthy people doing the protocol on different
    days with different cameras), never below ``PROTOCOL_FLOOR``. Each figure is its own
    measure's: a broad smile's side ratio varies far less than a brow raise's or a lip
    pucker's, whose small movements make a ratio unstable."""
    measured = _noise_file().get("protocol_between_day_sd", {})
    return {
        name: max(float(sd), PROTOCOL_FLOOR[describe(name).unit]) for name, sd in measured.items()
    }


def default_within_sd(name: str) -> float | None:
    """Typical within-session SD of a measure: the analyzer's noise on digital re-captures
    of the sample faces, plus the capture allowance. A movement measure (a difference of two
    captures) gets √2 × the allowance."""
    unit = describe(name).unit
    digital = _digital_noise().get(name)
    if digital is None:
        allowance = CAPTURE_ALLOWANCE[unit] * 2**0.5
        # Photos of one sitting cannot vary more than sittings on other days do.
        return min(allowance, _protocol_noise().get(name, allowance))
    allowance = CAPTURE_ALLOWANCE[unit]
    return float((digital**2 + allowance**2) ** 0.5)


#: How a region's points were had (``FaceAnalysis.regions``, ``progress.capture_how``), in
#: words for a person.
HOW_WORDS = {"refined": "from the photo", "followed": "followed from rest", "model": "model"}
