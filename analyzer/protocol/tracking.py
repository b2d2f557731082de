"""Following the skin from the rest photo into an expression photo.

The face-mesh model reads a strongly one-sided movement as more symmetric than it is: mouth
corners moved 6 mm on one side and 3 mm on the other read about 4.8 mm and 3.1 mm, a side
ratio of 65 % for a true 50 % (README, "Palsy protocol"). Optical flow has no such prior.
So for the palsy protocol each rest landmark's patch of skin is followed into the
expression photo by pyramidal Lucas-Kanade, started from where the model put that landmark,
and kept only when following it back lands where it started (forward-backward check, Kalal
et al. 2010) and it stays near the model's estimate. Points that fail keep the model's position.

Both photos are brought into the rest photo's face crop first: the expression by the
similarity that carries its anchor points onto the rest photo's, so pose and scale drop out.
Those are the model's points, which can be a millimetre off (the canthi of a closed eye), so
afterwards the followed points of the face's stable region register the expression onto the
rest photo exactly. The result is in the rest photo's pixels, with the rest photo's depth:
it says where each rest landmark's tissue went in the rest photo's image plane.

Following is accepted region by region (``topology.FACE_REGIONS``: each brow, each eye, the
nose, the mouth, each cheek): in a real smile the lower face changes how it looks (folds,
teeth) and its points fail the round-trip check, which must not throw away the brows' and
eyes' good points. A region whose lids or brow were found in both photos themselves
(``analyzer.measure.refine``) is measured from those instead: a shut eye cannot be followed,
and an image edge reads a brow lift more fully than the flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import cv2
import numpy as np

from analyzer.measure import topology
from analyzer.measure.frame import camera_coordinates, face_frame, similarity_2d, to_frame
from analyzer.measure.landmarks import crop_transform, resample_crop
from analyzer.measure.scale import mm_per_px_from_iris

#: Lucas-Kanade window in crop pixels (the face is 320 px wide there, ~0.45 mm/px): about
#: 6 mm of skin. Much larger windows average a deforming patch and under-read its centre
#: (31 px read a 6 mm corner lift as 5.2 mm); 9 px read it as well as 13 but follow less.
WINDOW_PX = 13
PYRAMID_LEVELS = 3
#: A point is kept when following it back returns within this many crop pixels (~0.2 mm) …
MAX_ROUND_TRIP_PX = 0.5
#: … and it lies within this distance of the model's own estimate.
MAX_FROM_MODEL_MM = 3.0
#: The followed points of the face's stable region (``topology``) register the expression
#: onto the rest photo; points off by more than this after the fit are left out of it.
STEADY_MM = 0.3
MIN_STEADY_POINTS = 20
#: … and they must reach beyond the eyes (this many inner-canthal distances across): the
#: nose alone is too small a base for the rotation that carries the mouth corners.
MIN_STEADY_SPREAD = 2.0
#: A region is followed when at least this fraction of its own points pass; below it, the
#: region's appearance changed too much (a fold, the teeth, a shut eye) and it keeps the
#: model's points. With fewer than ``MIN_STEADY_POINTS`` of the stable region followed, the
#: photos are too unlike (another person, other light) and nothing is followed.
MIN_REGION_FRACTION = 0.25


#: The regions below the registering points (``steady_similarity_2d``).
LOWER_FACE = ("nose", "mouth", "cheek_right", "cheek_left")
#: Regions whose refined points keep the model's own definition (a lid moves to the image's
#: edge only beyond 1 mm of disagreement, and a shut eye's fissure is nil by any definition),
#: so an expression's refined lids are used even against a rest photo whose lids were the
#: model's. A brow's edge is its own definition: it is used only when both photos have it.
REFINED_ALONE = ("eye_right", "eye_left")


@dataclass(frozen=True)
class Followed:
    """An expression's landmarks in the rest photo's pixels, followed from the rest photo."""

    landmarks_px: np.ndarray  # (478, 3): x, y in the rest photo; z is the rest photo's depth
    followed: np.ndarray  # (478,) bool: True where the flow was kept, False: the model's point
    #: How each of ``topology.FACE_REGIONS`` was measured: "followed", "refined" or "model".
    regions: dict[str, str] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        return float(self.followed.mean())

    @property
    def any_followed(self) -> bool:
        return "followed" in self.regions.values()


def steady_similarity_2d(
    source: np.ndarray, target: np.ndarray, max_residual: float, min_points: int = 12
) -> np.ndarray:
    """``similarity_2d`` on the points that agree with it: while the worst-fitting point is
    off by more than ``max_residual`` and more than ``min_points`` remain, it is left out
    and the fit redone (points the expression itself moved, such as the forehead's edge in
    a brow raise, then do not drag the registration)."""
    keep = np.arange(len(source))
    fit = similarity_2d(source, target)
    while len(keep) > min_points:
        residual = np.linalg.norm(_apply(fit, source[keep]) - target[keep], axis=1)
        worst = int(np.argmax(residual))
        if residual[worst] <= max_residual:
            break
        keep = np.delete(keep, worst)
        fit = similarity_2d(source[keep], target[keep])
    return fit


def _homogeneous(matrix: np.ndarray) -> np.ndarray:
    return np.vstack([matrix, [0.0, 0.0, 1.0]])


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:2, :2].T + matrix[:2, 2]


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _matched_exposure(image: np.ndarray, reference: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """``image`` with the mean and spread of ``reference`` inside the face (the flow assumes
    constant brightness; a photo taken in other light differs by a gain and an offset)."""
    a, b = image[inside].astype(np.float64), reference[inside].astype(np.float64)
    gain = b.std() / max(a.std(), 1e-6)
    adjusted = (image.astype(np.float64) - a.mean()) * gain + b.mean()
    return np.clip(adjusted, 0, 255).astype(np.uint8)


def follow_expression(
    rest_rgb: np.ndarray,
    rest_px: np.ndarray,
    expression_rgb: np.ndarray,
    expression_px: np.ndarray,
    *,
    rest_regions: Mapping[str, str] | None = None,
    expression_regions: Mapping[str, str] | None = None,
) -> Followed:
    """Where each rest landmark's skin went in the expression photo, in rest-photo pixels.

    ``rest_px`` and ``expression_px`` are the two photos' (478, 3) landmarks as they were
    measured (refined from the image where they were, ``analyzer.measure.refine``), and
    ``rest_regions`` / ``expression_regions`` say which regions were refined. A region
    refined in both photos (an eye: in the expression, ``REFINED_ALONE``) keeps the
    expression's refined points; any other region is
    followed when ``MIN_REGION_FRACTION`` of its points pass, else keeps the expression's
    points. Points not followed are carried into the rest photo by the registration.
    """
    # Over 60 lines on purpose: following one expression from rest (align, flow per region, checks,
    # fall-backs) shares the regions' masks and transforms.
    anchors = list(topology.PROTOCOL_ANCHORS)
    to_rest = similarity_2d(expression_px[anchors, :2], rest_px[anchors, :2])
    rest_crop = crop_transform(rest_px)
    expression_crop = (_homogeneous(rest_crop) @ _homogeneous(to_rest))[:2]
    rest_image = _grey(resample_crop(rest_rgb, rest_crop))
    expression_image = _grey(resample_crop(expression_rgb, expression_crop))

    start = _apply(rest_crop, rest_px[:, :2]).astype(np.float32)
    model = _apply(expression_crop, expression_px[:, :2]).astype(np.float32)
    face = np.zeros(rest_image.shape, np.uint8)
    cv2.fillConvexPoly(face, cv2.convexHull(start.astype(np.int32)), 1)
    expression_image = _matched_exposure(expression_image, rest_image, face.astype(bool))

    lk = dict(
        winSize=(WINDOW_PX, WINDOW_PX),
        maxLevel=PYRAMID_LEVELS,
        criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 0.01),
        flags=cv2.OPTFLOW_USE_INITIAL_FLOW,
    )
    there, ok_there, _ = cv2.calcOpticalFlowPyrLK(
        rest_image, expression_image, start.copy(), model.copy(), **lk
    )
    back, ok_back, _ = cv2.calcOpticalFlowPyrLK(
        expression_image, rest_image, there.copy(), there.copy(), **lk
    )
    crop_mm_per_px = mm_per_px_from_iris(rest_px) / _scale(rest_crop)
    followed = (
        (ok_there[:, 0] == 1)
        & (ok_back[:, 0] == 1)
        & (np.linalg.norm(back - start, axis=1) < MAX_ROUND_TRIP_PX)
        & (np.linalg.norm(there - model, axis=1) * crop_mm_per_px < MAX_FROM_MODEL_MM)
    )
    regions = {}
    for name in topology.FACE_REGIONS:
        members = topology.face_region(name)
        refined = [(r or {}).get(name) == "refined" for r in (rest_regions, expression_regions)]
        if refined[1] and (refined[0] or name in REFINED_ALONE):
            followed[members] = False
            regions[name] = "refined"
        elif followed[members].mean() < MIN_REGION_FRACTION:
            followed[members] = False
            regions[name] = "model"
        else:
            regions[name] = "followed"
    steady = np.intersect1d(np.flatnonzero(followed), topology.region_indices("stable"))
    inner = np.linalg.norm(start[topology.LEFT.eye_inner] - start[topology.RIGHT.eye_inner])
    spread = np.ptp(start[steady, 0]) if len(steady) else 0.0
    if len(steady) < MIN_STEADY_POINTS or spread < MIN_STEADY_SPREAD * inner:
        followed[:] = False
        regions = {n: "refined" if v == "refined" else "model" for n, v in regions.items()}
    in_crop = np.where(followed[:, None], there, model).astype(np.float64)
    if followed.any():
        # The anchor similarity came from the model's points; the followed stable points
        # register the expression onto the rest photo more exactly.
        fit = steady_similarity_2d(
            in_crop[steady], start[steady].astype(np.float64), STEADY_MM / crop_mm_per_px
        )
        in_crop = _apply(fit, in_crop)
    out = np.array(rest_px, dtype=np.float64, copy=True)
    out[:, :2] = _apply(np.linalg.inv(_homogeneous(rest_crop)), in_crop)
    # A lower-face region that could not be followed at all keeps the expression's own
    # points, put where the rest photo would show them by the two photos' face frames (as
    # an expression that could not be followed is measured): a registration on the upper
    # face cannot undo a head turned between the photos, which moves the lower face against
    # the upper (a healthy real smile read 82 % so, and 87 % by the frames, whose resting
    # excursions changed alike). Brows and eyes lie beside the registering points and keep
    # it: their frame tilts when a raised brow changes the model's depth.
    own = [
        topology.face_region(n) for n, how in regions.items() if how == "model" and n in LOWER_FACE
    ]
    if own and followed.any():
        members = np.concatenate(own)
        out[members, :2] = frame_aligned(rest_px, expression_px)[members, :2]
    return Followed(landmarks_px=out, followed=followed, regions=regions)


def frame_aligned(rest_px: np.ndarray, expression_px: np.ndarray) -> np.ndarray:
    """The expression's landmarks carried into the rest photo's pixels through the face
    frames: each photo's landmarks in its own face frame, the expression fitted onto the
    rest by a similarity on ``topology.PROTOCOL_ANCHORS`` (as ``movement.align_to_rest``),
    then out of the rest's frame into its image. Measured in the rest's frame, they give
    what ``align_to_rest`` gives for an expression that was not followed."""
    rest_frame = face_frame(rest_px)
    rest = to_frame(rest_px, rest_frame)
    expression = to_frame(expression_px, face_frame(expression_px))
    anchors = list(topology.PROTOCOL_ANCHORS)
    fit = similarity_2d(expression[anchors, :2], rest[anchors, :2])
    moved = expression.copy()
    moved[:, :2] = _apply(fit, expression[:, :2])
    moved[:, 2] *= _scale(fit)
    camera = moved @ rest_frame.axes.T + rest_frame.origin
    return camera_coordinates(camera)  # the map is its own inverse


def _scale(matrix: np.ndarray) -> float:
    return float(np.sqrt(abs(np.linalg.det(matrix[:2, :2]))))


def unfollowed_pair(
    rest_px: np.ndarray,
    rest_model_px: np.ndarray,
    rest_regions: Mapping[str, str] | None,
    expression_px: np.ndarray,
    expression_model_px: np.ndarray,
    expression_regions: Mapping[str, str] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """A rest and an expression capture's points to measure a movement with when the
    expression could not be followed: each as measured, except that a brow found in one
    photo but taken from the model in the other is taken from the model in both (the two
    definitions of a brow's edge lie about 1.5 mm apart, which would read as movement; a
    lid's refinement keeps the model's definition, ``REFINED_ALONE``)."""
    rest_px, expression_px = rest_px.copy(), expression_px.copy()
    for region in brows_from_the_model(rest_regions, expression_regions):
        side = topology.BY_SIDE[region.removeprefix("brow_")]
        brow = list(side.brow_upper + side.brow_lower)
        rest_px[brow], expression_px[brow] = rest_model_px[brow], expression_model_px[brow]
    return rest_px, expression_px


def brows_from_the_model(
    rest_regions: Mapping[str, str] | None, expression_regions: Mapping[str, str] | None
) -> list[str]:
    """The brow regions that ``unfollowed_pair`` takes from the model in both photos: those
    found in the photo itself in one of them only."""
    rest, expression = rest_regions or {}, expression_regions or {}
    brows = [region for region in topology.FACE_REGIONS if region.startswith("brow")]
    return [region for region in brows if rest.get(region) != expression.get(region)]
