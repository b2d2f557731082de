"""Capture conditions: how a photo was taken, recorded beside what it measures.

Between days, what varies is mostly the capture: the camera (a phone close up or a webcam
further away changes perspective), the distance, the head's pose, the light, how wide the
eyes are open, a faint smile. Two captures can only be compared when these match closely
enough (``analyzer.history.comparability`` decides); this module only records them.

Everything here is plain numbers and strings, so a capture's conditions are stored as one
JSON object (``CaptureConditions.as_dict``) and read back with ``from_dict``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from analyzer.measure import topology
from analyzer.measure.analysis import FaceAnalysis, Measurement
from analyzer.measure.imaging import CameraInfo
from analyzer.measure.perspective import camera_distance_mm
from analyzer.measure.quality import ImageStats
from analyzer.measure.scale import IRIS_DIAMETER_MM


@dataclass(frozen=True)
class CaptureConditions:
    """How one photo was taken. None: not known for this capture (e.g. no EXIF, no photo)."""

    # the camera
    camera_make: str = ""
    camera_model: str = ""
    camera_lens: str = ""
    focal_length_35mm: float | None = None
    camera_label: str = ""  # a webcam's label as the browser gives it
    image_width: int | None = None
    image_height: int | None = None
    # the face in the frame
    iris_px: float | None = None  # iris diameter, photo pixels
    face_width_px: float | None = None  # face oval at cheekbone level, photo pixels
    face_centre_x: float | None = None  # between the eyes, as a share of the width
    face_centre_y: float | None = None  # … and of the height (0: top)
    camera_distance_mm: float | None = None  # estimated; needs the focal length
    yaw_deg: float | None = None
    pitch_deg: float | None = None
    roll_deg: float | None = None
    # the light
    light_mean: float | None = None  # mean luma of the face, 0-255
    light_balance: float | None = None  # (left − right cheek) / mean; positive: left brighter
    sharpness: float | None = None
    # the resting expression's state
    fissure_left_mm: float | None = None
    fissure_right_mm: float | None = None
    commissure_excursion_left_mm: float | None = None
    commissure_excursion_right_mm: float | None = None
    mouth_gap_mm: float | None = None
    brow_height_left_mm: float | None = None
    brow_height_right_mm: float | None = None
    # where the brows' points came from: "both", "left", "right" or "none" found in the photo
    # itself (``analyzer.measure.refine``; else the model's); None: not recorded
    brows_from_photo: str | None = None
    # what the lid finder saw between each eye's lids (``lid_gap``): "iris", "white" (the
    # iris rolled up: Bell's phenomenon), "unseen", "shut" or "uncertain"; None: not recorded
    lid_gap_left: str | None = None
    lid_gap_right: str | None = None

    @property
    def camera(self) -> str:
        """The camera in words: "samsung SM-J700T, 23 mm", "webcam: HD Camera", or ""."""
        if self.camera_make or self.camera_model:
            name = " ".join(p for p in (self.camera_make, self.camera_model) if p)
            if self.focal_length_35mm:
                name += f", {self.focal_length_35mm:.0f} mm"
            return name
        return f"webcam: {self.camera_label}" if self.camera_label else ""

    @property
    def face_share(self) -> float | None:
        """The face's width as a share of the frame's diagonal: how much of the picture the
        face fills, the same whichever way the camera was held."""
        if not (self.face_width_px and self.image_width and self.image_height):
            return None
        return self.face_width_px / float(np.hypot(self.image_width, self.image_height))

    @property
    def eye_opening_mm(self) -> float | None:
        """Mean palpebral fissure height of both eyes."""
        return _mean(self.fissure_left_mm, self.fissure_right_mm)

    @property
    def excursion_mm(self) -> float | None:
        """Mean commissure excursion of both sides: widens with a smile."""
        return _mean(self.commissure_excursion_left_mm, self.commissure_excursion_right_mm)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CaptureConditions:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})


def conditions(
    landmarks_px: np.ndarray,
    image_size: tuple[int, int],
    measurement: Measurement,
    *,
    stats: ImageStats | None = None,
    camera: CameraInfo | None = None,
    camera_label: str = "",
    regions: dict[str, str] | None = None,
    notes: dict[str, str] | None = None,
) -> CaptureConditions:
    """The conditions of one capture from its landmarks, measures and (if known) its image
    statistics, camera, how each region was found (``refine.Refinement.regions``) and what
    the finders saw (``Refinement.notes``). ``recompute`` calls this without a photo when
    none was kept."""
    camera = camera or CameraInfo()
    measures = measurement.measures
    from_iris = measurement.scale_source == "iris"
    iris_px = IRIS_DIAMETER_MM / measurement.mm_per_px if from_iris else None
    oval = landmarks_px[[topology.LEFT.cheek_oval, topology.RIGHT.cheek_oval], :2]
    gap = (
        measurement.points_mm[topology.INNER_UPPER_LIP_MID, 1]
        - measurement.points_mm[topology.INNER_LOWER_LIP_MID, 1]
    )
    distance = None
    if camera.focal_length_35mm and iris_px:
        distance = camera_distance_mm(landmarks_px, image_size, camera.focal_length_35mm)
    pose = measurement.pose
    return CaptureConditions(
        camera_make=camera.make,
        camera_model=camera.model,
        camera_lens=camera.lens,
        focal_length_35mm=camera.focal_length_35mm,
        camera_label=camera_label.strip()[:100],
        image_width=int(image_size[0]),
        image_height=int(image_size[1]),
        iris_px=_round(iris_px, 2),
        face_width_px=_round(float(np.linalg.norm(oval[0] - oval[1])), 1),
        face_centre_x=_round(float(landmarks_px[topology.NOSE_BRIDGE, 0] / image_size[0]), 3),
        face_centre_y=_round(float(landmarks_px[topology.NOSE_BRIDGE, 1] / image_size[1]), 3),
        camera_distance_mm=_round(distance, 0),
        yaw_deg=_round(pose.yaw_deg, 2),
        pitch_deg=_round(pose.pitch_deg, 2),
        roll_deg=_round(pose.roll_deg, 2),
        light_mean=_round(stats.light_mean, 1) if stats else None,
        light_balance=_round(stats.light_balance, 3) if stats else None,
        sharpness=_round(stats.sharpness, 1) if stats else None,
        fissure_left_mm=_round(measures.get("palpebral_fissure_height_left_mm"), 2),
        fissure_right_mm=_round(measures.get("palpebral_fissure_height_right_mm"), 2),
        commissure_excursion_left_mm=_round(measures.get("commissure_excursion_left_mm"), 2),
        commissure_excursion_right_mm=_round(measures.get("commissure_excursion_right_mm"), 2),
        mouth_gap_mm=_round(max(float(gap), 0.0), 2),
        brow_height_left_mm=_round(measures.get("brow_height_left_mm"), 2),
        brow_height_right_mm=_round(measures.get("brow_height_right_mm"), 2),
        brows_from_photo=None if not regions else brows_found(regions),
        lid_gap_left=lid_gap((notes or {}).get("eye_left")),
        lid_gap_right=lid_gap((notes or {}).get("eye_right")),
    )


def brows_found(regions: dict[str, str]) -> str:
    """Which brows were found in the photo itself: "both", "left", "right" or "none"."""
    found = [side for side in topology.SIDES if regions.get(f"brow_{side}") == "refined"]
    return "both" if len(found) == 2 else found[0] if found else "none"


def lid_gap(note: str | None) -> str | None:
    """What shows between an eye's lids, from the lid finder's note (``refine``): "shut",
    "iris", "white" (only white between open lids: the iris rolled up, Bell's phenomenon),
    "unseen" (open, neither seen clearly), "uncertain" (the lids were left to the model);
    None without a note."""
    if not note:
        return None
    if note.startswith("shut"):
        return "shut"
    if note.startswith("uncertain"):
        return "uncertain"
    for words, gap in (("iris shows", "iris"), ("white shows", "white"), ("no iris", "unseen")):
        if words in note:
            return gap
    return "unseen"


def analysis_conditions(
    analysis: FaceAnalysis, camera: CameraInfo | None = None, camera_label: str = ""
) -> CaptureConditions:
    """The conditions of an analysed photo (see ``conditions``)."""
    return conditions(
        analysis.landmarks_px,
        analysis.image_size,
        analysis.measurement,
        stats=analysis.image_stats,
        camera=camera,
        camera_label=camera_label,
        regions=analysis.regions,
        notes=analysis.refinement.notes if analysis.refinement is not None else None,
    )


def _mean(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else (a + b) / 2


def _round(value: float | None, digits: int) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), digits)
