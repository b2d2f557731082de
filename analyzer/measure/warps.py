"""Known-change warps: move one facial feature by a known number of millimetres.

A smooth local displacement (a Gaussian-weighted shift, applied with ``cv2.remap``) moves a
feature and its surroundings like a real change of soft tissue would. The same displacement
applied to the original landmarks gives where every landmark truly went, so the true change
of every measure is known: the ground truth for accuracy tests, benchmarks and the demo.

Re-captures on another day (``recapture_day``) change what really changes between days for
a face that did not change: camera distance (perspective) and head pose (the 3-D landmarks
reprojected, the photo moved along the mesh triangles by ``piecewise_affine_warp``), how
wide the eyes are open and a faint smile (``imitate``), light, framing, focus and JPEG.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay

from analyzer.measure import topology
from analyzer.measure.frame import FaceFrame, face_frame, rotation_from_pose
from analyzer.measure.perspective import face_centre_px, project, unproject


@dataclass(frozen=True)
class KnownChange:
    """A Gaussian displacement in image pixels: d(p) = shift · exp(−½ Σ ((p − centre) / σ)²)."""

    centre_px: tuple[float, float]
    shift_px: tuple[float, float]
    sigma_px: tuple[float, float]  # reach along the image's x and y

    def weight(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """How much of the shift the points (x, y) receive, 0-1."""
        (cx, cy), (sx, sy) = self.centre_px, self.sigma_px
        return np.exp(-(((x - cx) / sx) ** 2 + ((y - cy) / sy) ** 2) / 2)

    def apply_to_photo(self, rgb: np.ndarray) -> np.ndarray:
        """The photo with the change made. Output pixel q samples the source at p with
        p + d(p) = q, solved by fixed-point iteration."""
        height, width = rgb.shape[:2]
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        src_x, src_y = xs.copy(), ys.copy()
        for _ in range(5):
            weight = self.weight(src_x, src_y)
            src_x = xs - self.shift_px[0] * weight
            src_y = ys - self.shift_px[1] * weight
        return cv2.remap(
            rgb, src_x, src_y, interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
        )

    def apply_to_points(self, points_px: np.ndarray) -> np.ndarray:
        """Where image points go under the change (depth, the third column, is kept)."""
        moved = np.array(points_px, dtype=np.float64, copy=True)
        weight = self.weight(moved[:, 0], moved[:, 1])
        moved[:, 0] += self.shift_px[0] * weight
        moved[:, 1] += self.shift_px[1] * weight
        return moved


def frame_direction_to_image(frame: FaceFrame, direction_xy: tuple[float, float]) -> np.ndarray:
    """A direction in the face frame (x to the subject's left, y up) as an image (dx, dy)."""
    camera = frame.axes @ np.array([direction_xy[0], direction_xy[1], 0.0])
    return np.array([camera[0], -camera[1]])


def feature_change(
    frame: FaceFrame,
    mm_per_px: float,
    centre_px: np.ndarray,
    shift_mm: tuple[float, float],
    sigma_mm: float | tuple[float, float],
) -> KnownChange:
    """Move the feature at image point ``centre_px`` by ``shift_mm`` (face-frame x, y).

    ``sigma_mm`` is the reach of the change in millimetres (one value, or one per image
    axis): about 10 mm moves a mouth corner with its surrounding skin.
    """
    magnitude = float(np.hypot(*shift_mm))
    if magnitude == 0:
        shift_px = np.zeros(2)
    else:
        direction = (shift_mm[0] / magnitude, shift_mm[1] / magnitude)
        shift_px = frame_direction_to_image(frame, direction) * magnitude / mm_per_px
    sigma = np.broadcast_to(np.asarray(sigma_mm, dtype=float), (2,)) / mm_per_px
    return KnownChange(
        centre_px=(float(centre_px[0]), float(centre_px[1])),
        shift_px=(float(shift_px[0]), float(shift_px[1])),
        sigma_px=(float(sigma[0]), float(sigma[1])),
    )


def brow_lift(
    frame: FaceFrame,
    mm_per_px: float,
    landmarks_px: np.ndarray,
    side: topology.SideIndices,
    lift_mm: float,
    reach_mm: float = 8.0,
) -> KnownChange:
    """Lift one brow ``lift_mm`` straight up the face: a change of ``reach_mm`` reach centred
    on the brow's upper contour above the pupil (narrow enough to leave the eye nearly alone;
    the same displacement's ``apply_to_points`` is the truth)."""
    contour = np.asarray(landmarks_px, dtype=np.float64)[list(side.brow_upper), :2]
    order = np.argsort(contour[:, 0])
    pupil_x = float(landmarks_px[side.pupil, 0])
    centre = np.array([pupil_x, np.interp(pupil_x, contour[order, 0], contour[order, 1])])
    return feature_change(frame, mm_per_px, centre, (0.0, lift_mm), reach_mm)


#: Imitations of the palsy protocol's movements, for known-movement tests and figures: per
#: expression, the landmark moved on each side (a ``topology.SideIndices`` field, and the
#: position in it for a contour), the direction it moves on the subject's left side in the
#: face frame (x is mirrored for the right side) and the reach in mm.
IMITATIONS: dict[str, tuple[str, int | None, tuple[float, float], float | tuple[float, float]]] = {
    "broad smile": ("mouth_corner", None, (1 / np.sqrt(2), 1 / np.sqrt(2)), 10.0),
    "brow raise": ("brow_upper", 4, (0.0, 1.0), (15.0, 6.0)),
    "snarl": ("upper_lip_peak", None, (0.0, 1.0), 6.0),
    "lip pucker": ("mouth_corner", None, (-1.0, 0.0), 8.0),
    "eye closure": ("upper_lid", 4, (0.0, -1.0), (10.0, 4.0)),
}


def imitate(
    rgb: np.ndarray,
    landmarks_px: np.ndarray,
    frame: FaceFrame,
    mm_per_px: float,
    movement: str,
    left_mm: float,
    right_mm: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``rgb`` with a movement of ``IMITATIONS`` made, ``left_mm`` on the subject's left side
    and ``right_mm`` on the right; and where every landmark of ``landmarks_px`` truly went."""
    field, position, (dx, dy), reach = IMITATIONS[movement]
    photo, truth = rgb, landmarks_px
    for side, mm, mirror in ((topology.LEFT, left_mm, 1.0), (topology.RIGHT, right_mm, -1.0)):
        if mm == 0:
            continue
        index = getattr(side, field)
        index = index if position is None else index[position]
        change = feature_change(
            frame, mm_per_px, landmarks_px[index, :2], (mirror * dx * mm, dy * mm), reach
        )
        photo, truth = change.apply_to_photo(photo), change.apply_to_points(truth)
    return photo, truth


def recapture(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The photo as if taken again: a little other framing (rotation up to ±4°, scale ±10 %,
    shift), exposure (±12 %), focus and JPEG quality. Used for the default-noise estimate and
    the demo person's repeat photos."""
    height, width = rgb.shape[:2]
    matrix = _reframing(width, height, rng)
    out = cv2.warpAffine(
        rgb, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    )
    out = np.clip(out.astype(float) * rng.uniform(0.88, 1.12), 0, 255).astype(np.uint8)
    return _focus_and_jpeg(out, rng)[0]


def _reframing(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A random in-plane rotation (±4°), scale (±10 %) and shift: a 2 × 3 image matrix."""
    centre = (width / 2 + rng.uniform(-20, 20), height / 2 + rng.uniform(-20, 20))
    angle = rng.uniform(-4, 4)
    return cv2.getRotationMatrix2D(centre, angle, rng.uniform(0.9, 1.1))


def _focus_and_jpeg(rgb: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float, int]:
    """The photo a little out of focus (blur σ 0-0.8 px) and JPEG-compressed (quality
    80-95); and the σ and quality drawn."""
    import io

    from PIL import Image

    sigma = rng.uniform(0, 0.8)
    if sigma > 0.1:
        rgb = cv2.GaussianBlur(rgb, (0, 0), sigma)
    quality = int(rng.integers(80, 96))
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB")), float(sigma), quality


# --- other days: view, light and a relaxed face -------------------------------------------

#: Camera-to-face distance assumed for a photo whose distance is not known (mm): a laptop
#: webcam or a phone held out at arm's length.
DEFAULT_DISTANCE_MM = 500.0
#: Points per image side that stay put in ``piecewise_affine_warp`` (corners included), so
#: the background follows the face smoothly and the whole photo is covered by triangles.
BORDER_POINTS_PER_SIDE = 9


def border_points(width: int, height: int) -> np.ndarray:
    """Evenly spaced points on the image's border, corners included: (n, 2) pixels."""
    xs = np.linspace(0, width - 1, BORDER_POINTS_PER_SIDE)
    ys = np.linspace(0, height - 1, BORDER_POINTS_PER_SIDE)[1:-1]
    return np.vstack(
        [
            np.column_stack([xs, np.zeros_like(xs)]),
            np.column_stack([xs, np.full_like(xs, height - 1)]),
            np.column_stack([np.zeros_like(ys), ys]),
            np.column_stack([np.full_like(ys, width - 1), ys]),
        ]
    )


def piecewise_affine_warp(
    rgb: np.ndarray, source_px: np.ndarray, target_px: np.ndarray
) -> np.ndarray:
    """The photo with each point of ``source_px`` moved to ``target_px`` ((n, 2) or more
    columns; only x, y are used), affinely inside each triangle of the targets' Delaunay
    triangulation; points on the image border stay put.

    The same map as ``skimage.transform.PiecewiseAffineTransform`` with ``skimage``'s
    ``warp``, which takes over 3 s on a 1024-px photo: here each output pixel's triangle is
    found by rasterising the triangles (``cv2.fillConvexPoly``), its source position by that
    triangle's affine map, and the photo resampled once with ``cv2.remap`` (about 0.1 s).
    """
    height, width = rgb.shape[:2]
    border = border_points(width, height)
    target = np.vstack([np.asarray(target_px, dtype=np.float64)[:, :2], border])
    source = np.vstack([np.asarray(source_px, dtype=np.float64)[:, :2], border])
    triangulation = Delaunay(target)
    triangles = triangulation.simplices
    # Affine map of each triangle, target → source: [x y 1] @ affine = source position.
    corners = np.concatenate([target[triangles], np.ones((len(triangles), 3, 1))], axis=2)
    affine = np.linalg.solve(corners, source[triangles])  # (triangles, 3, 2)

    label = np.full((height, width), -1, dtype=np.int32)
    fixed_point = 16  # sub-pixel vertices: 4 fractional bits
    for k, triangle in enumerate(triangles):
        vertices = np.round(target[triangle] * fixed_point).astype(np.int32)
        cv2.fillConvexPoly(label, vertices, k, lineType=cv2.LINE_8, shift=4)
    ys, xs = np.mgrid[0:height, 0:width]
    missed = label < 0  # rasterisation can leave a stray pixel between two triangles
    if missed.any():
        found = triangulation.find_simplex(np.column_stack([xs[missed], ys[missed]]))
        label[missed] = np.maximum(found, 0)
    a = affine[label]
    map_x = (xs * a[..., 0, 0] + ys * a[..., 1, 0] + a[..., 2, 0]).astype(np.float32)
    map_y = (xs * a[..., 0, 1] + ys * a[..., 1, 1] + a[..., 2, 1]).astype(np.float32)
    return cv2.remap(
        rgb, map_x, map_y, interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    )


def view_change(
    rgb: np.ndarray,
    landmarks_px: np.ndarray,
    mm_per_px: float,
    *,
    distance_mm: float = DEFAULT_DISTANCE_MM,
    to_distance_mm: float | None = None,
    yaw_deg: float = 0.0,
    pitch_deg: float = 0.0,
    roll_deg: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The photo as taken from another distance or with the head turned; and where every
    landmark truly went (x, y in pixels, z on the scale of x).

    The 3-D landmarks are unprojected from ``distance_mm`` (camera to iris plane; see
    ``analyzer.measure.perspective``), rotated about the mesh's centroid by a pose in the
    analyzer's convention (``analyzer.measure.frame.Pose``: yaw > 0 turns the face towards
    the subject's left, pitch > 0 lowers the chin, roll > 0 tilts towards the subject's
    right shoulder), projected from ``to_distance_mm`` (default: the same) with the iris
    plane at the same scale, and the photo is moved along the mesh triangles.
    """
    landmarks_px = np.asarray(landmarks_px, dtype=np.float64)
    centre = face_centre_px(landmarks_px)
    points = unproject(landmarks_px, distance_mm, mm_per_px, centre)
    if (yaw_deg, pitch_deg, roll_deg) != (0.0, 0.0, 0.0):
        # The pose's rotation is in camera coordinates (x right, y up, z towards the viewer);
        # these points have y down and z away.
        flip = np.diag([1.0, -1.0, -1.0])
        rotation = flip @ rotation_from_pose(yaw_deg, pitch_deg, roll_deg) @ flip
        head_centre = points[: topology.N_MESH].mean(axis=0)
        points = (points - head_centre) @ rotation.T + head_centre
    to_distance = distance_mm if to_distance_mm is None else to_distance_mm
    truth = project(points, to_distance, mm_per_px, centre)
    return piecewise_affine_warp(rgb, landmarks_px, truth), truth


def relight(
    rgb: np.ndarray, gain: float = 1.0, gamma: float = 1.0, gradient: float = 0.0
) -> np.ndarray:
    """The photo under other light: brightness ``gain`` × (value / 255) ** ``gamma``, times a
    left-right ramp from 1 − gradient/2 at the image's left edge to 1 + gradient/2 at its
    right (``gradient`` > 0: light from the image's right, the subject's left unmirrored)."""
    width = rgb.shape[1]
    ramp = 1.0 + gradient * (np.linspace(0.0, 1.0, width) - 0.5)
    out = 255.0 * gain * (rgb.astype(np.float64) / 255.0) ** gamma * ramp[None, :, None]
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class LightRange:
    """How much light differs between days: gain 1 ± ``gain``, gamma 1 ± ``gamma``, and a
    left-right ``gradient`` (see ``relight``) within ± ``gradient``."""

    gain: float = 0.15
    gamma: float = 0.2
    gradient: float = 0.3


def recapture_day(
    rgb: np.ndarray,
    landmarks_px: np.ndarray,
    mm_per_px: float,
    rng: np.random.Generator,
    *,
    distance_mm: float = DEFAULT_DISTANCE_MM,
    distance_ratio: tuple[float, float] = (0.6, 1.5),
    pose_deg: float = 5.0,
    eye_mm: float = 1.0,
    smile_mm: float = 1.0,
    light: LightRange = LightRange(),
    reframe: bool = True,
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """The same, unchanged face photographed on another day; where every landmark truly went;
    and the conditions drawn.

    Drawn uniformly: the camera distance as ``distance_ratio`` × ``distance_mm`` (the photo
    is taken to be from ``distance_mm``); yaw and pitch within ± ``pose_deg``; both upper
    lids raised (> 0) or lowered by up to ``eye_mm``; both mouth corners up and out by 0 to
    ``smile_mm`` (a faint smile); light within ``light``. With ``reframe``, also
    ``recapture``'s framing (in-plane rotation ±4°, scale ±10 %, shift), focus and JPEG. A
    range of (1, 1) or 0 turns a condition off.
    """
    # Over 60 lines on purpose: one simulated re-capture applies its perturbations in a fixed order,
    # each two or three lines.
    height, width = rgb.shape[:2]
    ratio = float(rng.uniform(*distance_ratio))
    yaw, pitch = (float(v) for v in rng.uniform(-pose_deg, pose_deg, 2))
    eye = float(rng.uniform(-eye_mm, eye_mm))
    smile = float(rng.uniform(0.0, smile_mm))
    gain = float(rng.uniform(1 - light.gain, 1 + light.gain))
    gamma = float(rng.uniform(1 - light.gamma, 1 + light.gamma))
    gradient = float(rng.uniform(-light.gradient, light.gradient))
    conditions = {
        "distance_ratio": ratio,
        "yaw_deg": yaw,
        "pitch_deg": pitch,
        "eye_opening_mm": eye,
        "smile_mm": smile,
        "gain": gain,
        "gamma": gamma,
        "gradient": gradient,
    }

    frame = face_frame(landmarks_px)
    photo, truth = rgb, np.asarray(landmarks_px, dtype=np.float64)
    if eye != 0:
        photo, truth = imitate(photo, truth, frame, mm_per_px, "eye closure", -eye, -eye)
    if smile != 0:
        photo, truth = imitate(photo, truth, frame, mm_per_px, "broad smile", smile, smile)
    if ratio != 1 or yaw != 0 or pitch != 0:
        photo, truth = view_change(
            photo,
            truth,
            mm_per_px,
            distance_mm=distance_mm,
            to_distance_mm=ratio * distance_mm,
            yaw_deg=yaw,
            pitch_deg=pitch,
        )
    if reframe:
        matrix = _reframing(width, height, rng)
        photo = cv2.warpAffine(
            photo, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
        )
        truth = truth.copy()
        truth[:, :2] = truth[:, :2] @ matrix[:, :2].T + matrix[:, 2]
        scale = float(np.sqrt(np.linalg.det(matrix[:, :2])))
        truth[:, 2] *= scale
        rotation = np.degrees(np.arctan2(-matrix[1, 0], matrix[0, 0]))  # counter-clockwise
        conditions["reframe_rotation_deg"] = float(rotation)
        conditions["reframe_scale"] = scale
    photo = relight(photo, gain, gamma, gradient)
    if reframe:
        photo, sigma, quality = _focus_and_jpeg(photo, rng)
        conditions["blur_sigma_px"] = sigma
        conditions["jpeg_quality"] = float(quality)
    return photo, truth, conditions


def shut_eye(rgb: np.ndarray, landmarks_px: np.ndarray, side: str) -> np.ndarray:
    """The photo with one eye shut: the opening between the lids covered by the colour of
    the lid skin around it (feathered) and a lash line drawn along the lower lid, where a
    shut eye's lids meet. Not a real shut eye (the lid's own folds and shading are missing),
    but one whose iris is truly hidden: the truth is a fissure of nil on that side, the other
    side untouched."""
    eye = topology.BY_SIDE[side]
    opening = np.vstack(
        [landmarks_px[list(eye.upper_lid), :2], landmarks_px[list(eye.lower_lid[::-1]), :2]]
    )
    ring = landmarks_px[list(eye.iris_ring), :2]
    iris_px = float(np.linalg.norm(ring[0] - ring[2]))
    mask = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.rint(opening).astype(np.int32)], 255)
    grow = max(1, round(0.15 * iris_px))
    mask = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    around = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)) & ~mask
    skin = np.median(rgb[around > 0], axis=0)
    weight = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), max(1.0, grow / 2))
    weight = weight[..., None]
    shut = rgb.astype(np.float32) * (1 - weight) + skin[None, None, :] * weight
    shut = np.clip(np.rint(shut), 0, 255).astype(np.uint8)
    lashes = np.rint(landmarks_px[list(eye.lower_lid), :2]).astype(np.int32)
    dark = tuple(int(v) for v in np.percentile(rgb[mask > 0], 5, axis=0))
    cv2.polylines(shut, [lashes], False, dark, max(1, round(0.06 * iris_px)), cv2.LINE_AA)
    return shut


def webcam_framing(
    rgb: np.ndarray,
    landmarks_px: np.ndarray,
    *,
    face_share: float | None = None,
    size: tuple[int, int] = (640, 480),
    background: int = 128,
) -> np.ndarray:
    """The photo as a webcam of ``size`` (width, height) frames it: the whole photo fitted in
    the frame (``face_share`` None), or scaled so the face (its cheekbone-level width) fills
    that share of the frame's width, the eyes a little above the middle. What lies outside
    the photo is a plain ``background``."""
    width, height = size
    oval = landmarks_px[[topology.LEFT.cheek_oval, topology.RIGHT.cheek_oval], :2]
    if face_share is None:
        scale = min(width / rgb.shape[1], height / rgb.shape[0])
        centre_from = np.array([rgb.shape[1], rgb.shape[0]]) / 2
        centre_to = np.array([width, height]) / 2
    else:
        scale = face_share * width / float(np.linalg.norm(oval[0] - oval[1]))
        centre_from = landmarks_px[topology.NOSE_BRIDGE, :2]
        centre_to = np.array([width * 0.5, height * 0.45])
    source = rgb
    if scale < 1:  # shrink with area averaging, as a camera's sensor would see it
        source = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        factor = np.array([source.shape[1] / rgb.shape[1], source.shape[0] / rgb.shape[0]])
        centre_from, scale = centre_from * factor, 1.0
    shift = centre_to - scale * centre_from
    matrix = np.array([[scale, 0.0, shift[0]], [0.0, scale, shift[1]]])
    return cv2.warpAffine(
        source,
        matrix,
        (width, height),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(background,) * 3,
    )


def hide_iris(rgb: np.ndarray, landmarks_px: np.ndarray, side: str) -> np.ndarray:
    """The photo with one eye's iris and pupil painted the colour of its sclera, the lids
    unchanged: Bell's phenomenon, an eye that stays open while trying to close, its iris
    rolled up under the upper lid so that only white shows between the lids. The truth is
    the eye's own fissure, the other side untouched."""
    eye = topology.BY_SIDE[side]
    opening = np.vstack(
        [landmarks_px[list(eye.upper_lid), :2], landmarks_px[list(eye.lower_lid[::-1]), :2]]
    )
    ring = landmarks_px[list(eye.iris_ring), :2]
    centre = landmarks_px[eye.pupil, :2]
    radius = float(np.linalg.norm(ring[0] - ring[2])) / 2
    inside = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(inside, [np.rint(opening).astype(np.int32)], 255)
    iris = np.zeros_like(inside)
    cv2.circle(iris, tuple(int(v) for v in np.rint(centre)), round(1.15 * radius), 255, -1)
    # The sclera: the opening beside the iris, its brighter half (the lid's shadow and the
    # lashes are darker).
    sclera_pixels = rgb[(inside > 0) & (iris == 0)]
    brightness = sclera_pixels.astype(np.float32).sum(axis=1)
    sclera = np.median(sclera_pixels[brightness >= np.median(brightness)], axis=0)
    grow = max(1, round(0.1 * radius))
    paint = cv2.dilate(iris & inside, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)) & inside
    weight = cv2.GaussianBlur(paint.astype(np.float32) / 255, (0, 0), max(0.7, grow / 2))
    weight = weight[..., None]
    painted = rgb.astype(np.float32) * (1 - weight) + sclera[None, None, :] * weight
    return np.clip(np.rint(painted), 0, 255).astype(np.uint8)


def one_sided_droop(
    rgb: np.ndarray,
    landmarks_px: np.ndarray,
    frame: FaceFrame,
    mm_per_px: float,
    side: topology.SideIndices,
    droop_mm: float,
) -> tuple[np.ndarray, np.ndarray]:
    """A resting palsy's look on one side: that side's mouth corner (12 mm reach) and brow
    (``brow_lift``'s reach) moved ``droop_mm`` down the face. Returns the photo and where the
    landmarks truly went."""
    corner = landmarks_px[side.mouth_corner, :2]
    changes = (
        feature_change(frame, mm_per_px, corner, (0.0, -droop_mm), 12.0),
        brow_lift(frame, mm_per_px, landmarks_px, side, -droop_mm),
    )
    photo, points = rgb, np.asarray(landmarks_px, dtype=np.float64)
    for change in changes:
        photo, points = change.apply_to_photo(photo), change.apply_to_points(points)
    return photo, points
