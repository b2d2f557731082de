"""Every measure the analyzer emits, one typed entry each: the table names are derived from.

Like scikit-image's ``regionprops`` ``PROPS`` table, ``MEASURES`` holds the structure of each
measure once: its name stem, unit, sides, the face region its points are read from, the key
of its direction words (the words themselves live in ``analyzer.history.catalog``), the
expressions it is a movement of, and the landmarks it reads. Names follow one pattern::

    [<expression>_]<stem>[_<side>][_<unit>]     brow_height_left_mm, snarl_ratio_pct,
                                                 broad_smile_commissure_movement_right_mm

``<side>`` is ``left``, ``right`` (the subject's) or ``diff`` (left − right); ``<unit>`` is
``mm``, ``deg`` or ``pct``, or nothing for a ratio (``jaw_taper_ratio``). A measure with
``expressions`` is a movement of those expressions against rest
(``analyzer.protocol.movement``); one without is measured on every photo
(``analyzer.measure.analysis``). ``tests/test_registry.py`` checks that what the analyzer
emits and this table agree, both ways.

Adding a measure: write its function (``clinical.py``, ``contour.py`` or
``protocol/movement.py``), add one ``Measure`` here, and, if its stem has no direction key
yet, the words for the key in ``analyzer.history.catalog``.

May import: the standard library only (it is below everything that names a measure).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

#: The palsy protocol's expressions, in the order they are taken (rest first).
EXPRESSIONS = (
    "rest",
    "brow raise",
    "gentle eye closure",
    "full eye closure",
    "broad smile",
    "snarl",
    "lip pucker",
)
SIDES = ("left", "right")
UNITS = ("mm", "deg", "pct")

BOTH = ("left", "right")
BOTH_AND_DIFF = ("left", "right", "diff")
CLOSURES = ("gentle eye closure", "full eye closure")


def expression_key(expression: str) -> str:
    """An expression as it starts a measure's name: "broad smile" → "broad_smile"."""
    return expression.replace(" ", "_")


@dataclass(frozen=True)
class Measure:
    """One measure: the parts of its names and what it is read from."""

    stem: str  # "brow_height", "jaw_taper_ratio"
    unit: str  # "mm", "deg", "pct", or "" (a ratio: no unit in the name)
    sides: tuple[str, ...]  # of "left", "right", "diff"; () for a single value
    region: str | None  # base of ``topology.FACE_REGIONS`` its points come from; None: outline
    direction: str  # key of the catalog's direction words ("height" → higher / lower)
    source: str  # the module whose function computes it
    #: expressions it is a movement of (against rest); () for a measure of every photo
    expressions: tuple[str, ...] = ()
    #: expressions whose side ratio is read from it (``movement.PRIMARY``)
    primary_for: tuple[str, ...] = ()
    contour: bool = False  # an outline measure: also changes with weight, water and posture
    landmarks: tuple[str, ...] = ()  # ``topology.SideIndices`` fields / topology names it reads

    def name(self, side: str = "", expression: str = "") -> str:
        """The name of one of its values: ``name("left")`` → "brow_height_left_mm"."""
        parts = [expression_key(expression)] if expression else []
        parts += [self.stem, side, self.unit]
        return "_".join(p for p in parts if p)

    def names(self) -> tuple[str, ...]:
        """Every name it is emitted under (each expression × each side)."""
        sides = self.sides or ("",)
        expressions = self.expressions or ("",)
        return tuple(self.name(s, e) for e in expressions for s in sides)


_SIDE_EYE = ("pupil", "upper_lid", "lower_lid", "eye_outer", "eye_inner")
_SIDE_MOUTH = ("mouth_corner", "lower_lip_outer")

MEASURES: tuple[Measure, ...] = (
    # Mirror-Procrustes asymmetry (analyzer.measure.symmetry), over all or a region's points.
    Measure("asymmetry_index", "mm", (), None, "asymmetry", "symmetry"),
    Measure("asymmetry_brow", "mm", (), "brow", "asymmetry", "symmetry"),
    Measure("asymmetry_eye", "mm", (), "eye", "asymmetry", "symmetry"),
    Measure("asymmetry_nose", "mm", (), "nose", "asymmetry", "symmetry"),
    Measure("asymmetry_mouth", "mm", (), "mouth", "asymmetry", "symmetry"),
    Measure("asymmetry_cheek", "mm", (), None, "asymmetry", "symmetry"),
    Measure("asymmetry_jaw", "mm", (), None, "asymmetry", "symmetry"),
    # Emotrics' clinical set (analyzer.measure.clinical).
    Measure(
        "brow_height",
        "mm",
        BOTH_AND_DIFF,
        "brow",
        "height",
        "clinical",
        landmarks=("pupil", "brow_upper"),
    ),
    Measure("mrd1", "mm", BOTH, "eye", "mrd1", "clinical", landmarks=("pupil", "upper_lid")),
    Measure("mrd2", "mm", BOTH, "eye", "mrd2", "clinical", landmarks=("pupil", "lower_lid")),
    Measure(
        "palpebral_fissure_height",
        "mm",
        BOTH_AND_DIFF,
        "eye",
        "opening",
        "clinical",
        landmarks=_SIDE_EYE[1:],
    ),
    Measure(
        "palpebral_fissure_width",
        "mm",
        BOTH,
        "eye",
        "width",
        "clinical",
        landmarks=("eye_outer", "eye_inner"),
    ),
    Measure(
        "commissure_excursion",
        "mm",
        BOTH_AND_DIFF,
        "mouth",
        "excursion",
        "clinical",
        landmarks=_SIDE_MOUTH,
    ),
    Measure("smile_angle", "deg", BOTH, "mouth", "angle", "clinical", landmarks=_SIDE_MOUTH),
    Measure(
        "dental_show",
        "mm",
        BOTH,
        "mouth",
        "show",
        "clinical",
        landmarks=("mouth_corner", "upper_lip_inner", "lower_lip_inner"),
    ),
    # left and right: contour.py (from the stomion); diff: clinical.py (corner heights)
    Measure(
        "commissure_height",
        "mm",
        BOTH_AND_DIFF,
        "mouth",
        "height",
        "clinical, contour",
        landmarks=("mouth_corner", "INNER_UPPER_LIP_MID", "INNER_LOWER_LIP_MID"),
    ),
    Measure(
        "upper_lip_height",
        "mm",
        ("diff",),
        "mouth",
        "height",
        "clinical",
        landmarks=("mouth_corner", "upper_lip_outer"),
    ),
    Measure(
        "lower_lip_height",
        "mm",
        ("diff",),
        "mouth",
        "height",
        "clinical",
        landmarks=("mouth_corner", "lower_lip_outer"),
    ),
    # The eye corners' line (analyzer.measure.clinical): positive when the outer corner is higher.
    Measure(
        "canthal_tilt",
        "deg",
        BOTH_AND_DIFF,
        "eye",
        "tilt",
        "clinical",
        landmarks=("eye_outer", "eye_inner"),
    ),
    # Nasolabial folds found in the photo (analyzer.measure.folds); absent when not found.
    Measure("nasolabial_fold_contrast", "pct", BOTH_AND_DIFF, "mouth", "contrast", "folds"),
    Measure("nasolabial_fold_angle", "deg", BOTH_AND_DIFF, "mouth", "angle", "folds"),
    Measure("nasolabial_fold_length", "mm", BOTH_AND_DIFF, "mouth", "length", "folds"),
    # The outline (analyzer.measure.contour).
    Measure(
        "cheek_height", "mm", BOTH, None, "height", "contour", contour=True, landmarks=("cheek",)
    ),
    Measure(
        "jawline_angle",
        "deg",
        BOTH,
        None,
        "angle",
        "contour",
        contour=True,
        landmarks=("jaw_angle", "jaw_above", "jaw_below"),
    ),
    Measure(
        "jaw_width", "mm", (), None, "width", "contour", contour=True, landmarks=("jaw_angle",)
    ),
    Measure(
        "cheek_width", "mm", (), None, "width", "contour", contour=True, landmarks=("cheek_oval",)
    ),
    Measure(
        "jaw_taper_ratio",
        "",
        (),
        None,
        "ratio",
        "contour",
        contour=True,
        landmarks=("jaw_angle", "cheek_oval"),
    ),
    Measure(
        "lower_face_height",
        "mm",
        (),
        "nose",
        "height",
        "contour",
        contour=True,
        landmarks=("SUBNASALE", "CHIN"),
    ),
    Measure(
        "face_height",
        "mm",
        (),
        None,
        "height",
        "contour",
        contour=True,
        landmarks=("FOREHEAD", "CHIN"),
    ),
    # A smile's change of each eye's canthal tilt and each fold (protocol.movement,
    # protocol.fold_movement).
    Measure(
        "canthal_tilt_change",
        "deg",
        BOTH,
        "eye",
        "tilt",
        "movement",
        expressions=("broad smile",),
        landmarks=("eye_outer", "eye_inner"),
    ),
    Measure(
        "nasolabial_fold_angle_change",
        "deg",
        BOTH,
        "mouth",
        "angle",
        "fold_movement",
        expressions=("broad smile",),
    ),
    Measure(
        "nasolabial_fold_contrast_change",
        "pct",
        BOTH,
        "mouth",
        "contrast",
        "fold_movement",
        expressions=("broad smile",),
    ),
    # Movement against rest, per side (analyzer.protocol.movement.side_movement).
    Measure(
        "brow_elevation",
        "mm",
        BOTH,
        "brow",
        "elevation",
        "movement",
        expressions=("brow raise",),
        primary_for=("brow raise",),
        landmarks=("pupil", "brow_upper"),
    ),
    Measure(
        "eye_closure",
        "pct",
        BOTH,
        "eye",
        "closure",
        "movement",
        expressions=CLOSURES,
        primary_for=CLOSURES,
        landmarks=_SIDE_EYE[1:],
    ),
    Measure(
        "lagophthalmos",
        "mm",
        BOTH,
        "eye",
        "lagophthalmos",
        "movement",
        expressions=CLOSURES,
        landmarks=_SIDE_EYE[1:],
    ),
    Measure(
        "commissure_movement",
        "mm",
        BOTH,
        "mouth",
        "movement",
        "movement",
        expressions=(*CLOSURES, "broad smile"),
        primary_for=("broad smile",),
        landmarks=("mouth_corner",),
    ),
    Measure(
        "commissure_vertical",
        "mm",
        BOTH,
        "mouth",
        "vertical",
        "movement",
        expressions=("broad smile",),
        landmarks=("mouth_corner",),
    ),
    Measure(
        "commissure_excursion_change",
        "mm",
        BOTH,
        "mouth",
        "excursion",
        "movement",
        expressions=("broad smile",),
        landmarks=_SIDE_MOUTH,
    ),
    Measure(
        "eye_narrowing",
        "pct",
        BOTH,
        "eye",
        "narrowing",
        "movement",
        expressions=("broad smile", "lip pucker"),
        landmarks=_SIDE_EYE[1:],
    ),
    Measure(
        "upper_lip_elevation",
        "mm",
        BOTH,
        "mouth",
        "elevation",
        "movement",
        expressions=("snarl",),
        primary_for=("snarl",),
        landmarks=("upper_lip_peak",),
    ),
    Measure(
        "nasal_ala_elevation",
        "mm",
        BOTH,
        "nose",
        "elevation",
        "movement",
        expressions=("snarl",),
        landmarks=("nose_ala",),
    ),
    Measure(
        "commissure_medial",
        "mm",
        BOTH,
        "mouth",
        "medial",
        "movement",
        expressions=("lip pucker",),
        primary_for=("lip pucker",),
        landmarks=("mouth_corner",),
    ),
    # The primary movement's affected / healthy side ratio; read where the primary is.
    Measure(
        "ratio",
        "pct",
        (),
        None,
        "ratio",
        "movement",
        expressions=("brow raise", *CLOSURES, "broad smile", "snarl", "lip pucker"),
    ),
)

#: The expressions whose names start measures (every one but rest).
MOVEMENT_EXPRESSIONS = tuple(e for e in EXPRESSIONS if any(e in m.expressions for m in MEASURES))
#: Each expression's primary movement (``movement.PRIMARY``): its measure, in protocol order.
PRIMARY: dict[str, Measure] = {e: m for e in EXPRESSIONS for m in MEASURES if e in m.primary_for}
STATIC = tuple(m for m in MEASURES if not m.expressions)
MOVEMENT = tuple(m for m in MEASURES if m.expressions)


@dataclass(frozen=True)
class NameParts:
    """A measure name taken apart (``split_name``)."""

    expression: str  # "broad smile", or "" for a measure of every photo
    stem: str
    side: str  # "left", "right", "diff" or ""
    unit: str  # "mm", "deg", "pct" or ""


def split_name(name: str) -> NameParts:
    """Take a measure name apart by the pattern; works for names not (yet) registered.

    >>> split_name("broad_smile_commissure_movement_left_mm")
    NameParts(expression='broad smile', stem='commissure_movement', side='left', unit='mm')
    """
    head, _, last = name.rpartition("_")
    unit = last if head and last in UNITS else ""
    stem = head if unit else name
    side = ""
    for candidate in ("left", "right", "diff"):
        if stem.endswith(f"_{candidate}"):
            side, stem = candidate, stem.removesuffix(f"_{candidate}")
    expression = next(
        (e for e in MOVEMENT_EXPRESSIONS if stem.startswith(f"{expression_key(e)}_")), ""
    )
    return NameParts(expression, stem.removeprefix(f"{expression_key(expression)}_"), side, unit)


@cache
def _by_stem() -> dict[tuple[str, bool], Measure]:
    return {(m.stem, bool(m.expressions)): m for m in MEASURES}


def lookup(name: str) -> Measure | None:
    """The entry a measure name belongs to; None for a name not in ``MEASURES``."""
    parts = split_name(name)
    entry = _by_stem().get((parts.stem, bool(parts.expression)))
    if entry is None or entry.unit != parts.unit:
        return None
    if parts.expression and parts.expression not in entry.expressions:
        return None
    return entry


def in_order(names: Iterable[str]) -> list[str]:
    """``names`` in the registry's order (``MEASURES``, each entry's expressions and sides),
    any unregistered name after them in the order given: the one column order of every
    table and export."""
    given = list(dict.fromkeys(names))
    rank = _rank()
    registered = sorted((n for n in given if n in rank), key=rank.__getitem__)
    return registered + [n for n in given if n not in rank]


@cache
def _rank() -> dict[str, int]:
    return {n: i for i, n in enumerate(n for m in MEASURES for n in m.names())}


@cache
def all_names() -> frozenset[str]:
    """Every name a measure is emitted under."""
    return frozenset(n for m in MEASURES for n in m.names())


def find(stem: str, *, movement: bool = False) -> Measure:
    """The entry of a stem ("brow_height"); ``movement`` for a movement's stem."""
    return _by_stem()[(stem, movement)]


def side_names(stem: str) -> dict[str, str]:
    """A per-side stem's left and right names: {"left": "brow_height_left_mm", …}."""
    entry = find(stem)
    return {side: entry.name(side) for side in SIDES}


def primary_names(expression: str) -> dict[str, str]:
    """An expression's primary movement, per side: {"left": "brow_raise_brow_elevation_left_mm",
    …}, and its side ratio under "ratio"."""
    entry = PRIMARY[expression]
    names = {side: entry.name(side, expression) for side in SIDES}
    return names | {"ratio": ratio_name(expression)}


def ratio_name(expression: str) -> str:
    """The name of an expression's affected / healthy side ratio: "snarl_ratio_pct"."""
    return f"{expression_key(expression)}_ratio_pct"


def regions_of(name: str) -> tuple[str, ...]:
    """The regions of ``topology.FACE_REGIONS`` a measure's points come from: its side's
    (``brow_height_left_mm`` → ``brow_left``), both sides for a left − right difference or
    a side ratio, or the midline region (mouth, nose); () for the outline, whole-face
    symmetry and names not registered. A side ratio is read where its expression's
    primary movement is."""
    entry = lookup(name)
    if entry is None:
        return ()
    parts = split_name(name)
    if entry.stem == "ratio":
        entry = PRIMARY[parts.expression]
    if entry.region is None:
        return ()
    if entry.region in ("mouth", "nose"):
        return (entry.region,)
    sides = [parts.side] if parts.side in SIDES else list(reversed(SIDES))
    return tuple(f"{entry.region}_{side}" for side in sides)


def static_names_by_region() -> dict[str, tuple[str, ...]]:
    """Per region base ("brow", "eye", "nose", "mouth"), the names of the measures of every
    photo read from it."""
    out: dict[str, tuple[str, ...]] = {}
    for entry in STATIC:
        if entry.region is not None:
            out[entry.region] = out.get(entry.region, ()) + entry.names()
    return out
