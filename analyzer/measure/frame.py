"""Head pose and the pose-normalised face frame in which every measure is taken.

Emotrics measures in the image plane, so a head turned a few degrees reads as asymmetry.
We rotate the 3-D landmarks into a head-fixed frame instead:

* x: the normal of the face's mirror plane, from the subject's right to their left;
* y: up along the midline, perpendicular to x, in the face's best-fit plane;
* z: towards the camera (x × y).

The mirror plane comes from the points that expressions and palsy barely move (nose, inner
eye corners, upper midline, upper face oval: the reflection that best maps each onto its
mirror partner), not from the inter-pupil line or the whole face, so a drooping eye, brow or
mouth corner does not tilt the frame it is measured in. The origin lies on the mirror plane
at the height of the pupils: the midline is x = 0 and the inter-pupil line is y = 0.
Coordinates stay in pixels; ``analyzer.measure.scale`` converts them to millimetres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from analyzer.measure import topology


@dataclass(frozen=True)
class Pose:
    """Head rotation from frontal, in degrees.

    ``yaw_deg`` > 0: face turned towards the subject's left (the image's right, unmirrored);
    ``pitch_deg`` > 0: chin down; ``roll_deg`` > 0: head tilted towards the subject's right
    shoulder (the subject's left eye higher).
    """

    yaw_deg: float
    pitch_deg: float
    roll_deg: float


@dataclass(frozen=True)
class FaceFrame:
    """A head-fixed frame: ``axes`` columns are x, y, z in camera coordinates."""

    axes: np.ndarray  # (3, 3) rotation matrix, frame → camera
    origin: np.ndarray  # (3,) camera coordinates, pixel units
    pose: Pose


def camera_coordinates(landmarks_px: np.ndarray) -> np.ndarray:
    """Image landmarks (x right, y down, z away) → right-handed camera coordinates.

    Camera coordinates: X to the image's right, Y up, Z towards the viewer, in pixels.
    """
    return landmarks_px * np.array([1.0, -1.0, -1.0])


def mirror_reflection(points: np.ndarray, subset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The improper orthogonal map S and shift t that best carry each point onto its partner.

    Minimises Σ‖S·p(m(i)) + t − p(i)‖² over reflections S and the indices in ``subset``
    (which must be closed under the mirror map), by Kabsch on the x-reflected,
    mirror-reordered copy. ``points`` are (478, d), d = 2 or 3.
    """
    partner = topology.mirror_map()
    dim = points.shape[1]
    flip = np.eye(dim)
    flip[0, 0] = -1.0
    source = points[partner[subset]] @ flip  # reflected and reordered: source[i] ~ point i
    rotation, shift = kabsch(source, points[subset])
    return rotation @ flip, shift


def kabsch(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation R and translation t minimising Σ‖R·source_i + t − target_i‖² (no scaling)."""
    source_mean = source.mean(axis=0)
    target_mean = target.mean(axis=0)
    covariance = (source - source_mean).T @ (target - target_mean)
    u, _, vt = np.linalg.svd(covariance)
    correction = np.eye(source.shape[1])
    correction[-1, -1] = np.sign(np.linalg.det(vt.T @ u.T))
    rotation = vt.T @ correction @ u.T
    return rotation, target_mean - rotation @ source_mean


def face_frame(landmarks_px: np.ndarray) -> FaceFrame:
    """The pose-normalised frame of one face, from its 478 landmarks in image pixels."""
    points = camera_coordinates(landmarks_px)
    mesh = points[: topology.N_MESH]
    stable = topology.region_indices("stable")
    reflection, _ = mirror_reflection(points, stable)
    eigenvalues, eigenvectors = np.linalg.eigh((reflection + reflection.T) / 2)
    x_axis = eigenvectors[:, np.argmin(eigenvalues)]
    if x_axis @ (points[topology.LEFT.pupil] - points[topology.RIGHT.pupil]) < 0:
        x_axis = -x_axis

    centred = mesh - mesh.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    z_axis = vt[2] - (vt[2] @ x_axis) * x_axis
    z_axis /= np.linalg.norm(z_axis)
    if z_axis @ (points[topology.NOSE_TIP] - mesh.mean(axis=0)) < 0:
        z_axis = -z_axis
    y_axis = np.cross(z_axis, x_axis)
    axes = np.column_stack([x_axis, y_axis, z_axis])

    pupils = (points[topology.LEFT.pupil] + points[topology.RIGHT.pupil]) / 2
    on_plane = points[stable].mean(axis=0)  # the subset is mirror-closed: its mean is on the plane
    origin = pupils - ((pupils - on_plane) @ x_axis) * x_axis
    return FaceFrame(axes=axes, origin=origin, pose=pose_from_axes(axes))


def pose_from_axes(axes: np.ndarray) -> Pose:
    """Yaw, pitch and roll of a frame (intrinsic Y-X-Z rotation from frontal)."""
    yaw, pitch, roll = Rotation.from_matrix(axes).as_euler("YXZ", degrees=True)
    return Pose(yaw_deg=float(yaw), pitch_deg=float(pitch), roll_deg=float(roll))


def rotation_from_pose(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """The rotation matrix of a pose, inverse of ``pose_from_axes``."""
    return Rotation.from_euler("YXZ", [yaw_deg, pitch_deg, roll_deg], degrees=True).as_matrix()


def to_frame(landmarks_px: np.ndarray, frame: FaceFrame) -> np.ndarray:
    """Landmarks in the face frame (x to the subject's left, y up, z forward), in pixels."""
    return (camera_coordinates(landmarks_px) - frame.origin) @ frame.axes


def similarity_2d(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2×3 similarity that best carries ``source`` points onto ``target`` (Umeyama)."""
    s_mean, t_mean = source.mean(axis=0), target.mean(axis=0)
    s, t = source - s_mean, target - t_mean
    u, singular, vt = np.linalg.svd(t.T @ s / len(s))
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rotation = u @ d @ vt
    factor = float(np.trace(np.diag(singular) @ d) / (s**2).sum(axis=1).mean())
    linear = factor * rotation
    return np.hstack([linear, (t_mean - linear @ s_mean)[:, None]])
