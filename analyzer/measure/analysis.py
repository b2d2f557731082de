"""One photo → landmarks → pose, scale, quality and every measure: the analyzer's pipeline.

``measure_landmarks`` is pure (landmarks in, numbers out) and is what ``recompute`` reruns
on stored landmarks; ``analyze_image`` adds the model, the lids and brows found in the photo
itself (``analyzer.measure.refine``) and the image-based quality checks; ``analyze_photo``
adds loading a file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from analyzer.errors import BlankPhotoError
from analyzer.measure import topology
from analyzer.measure.clinical import clinical_measures
from analyzer.measure.contour import contour_measures
from analyzer.measure.folds import with_folds
from analyzer.measure.frame import FaceFrame, Pose, face_frame, to_frame
from analyzer.measure.framing import framing_check, measurable, parts_outside
from analyzer.measure.identity import face_embedding
from analyzer.measure.imaging import load_photo
from analyzer.measure.landmarks import FaceDetection, detect_landmarks
from analyzer.measure.quality import (
    ImageStats,
    QualityCheck,
    expression_checks,
    face_count_check,
    face_size_check,
    image_stats,
    pose_checks,
    stats_checks,
    upright_check,
    worst,
)
from analyzer.measure.refine import Refinement, refine_landmarks
from analyzer.measure.scale import IRIS_DIAMETER_MM, iris_diameters_px, mm_per_px_from_iris
from analyzer.measure.symmetry import Asymmetry, mirror_asymmetry


@dataclass(frozen=True)
class Measurement:
    """Everything measured from one landmark set."""

    frame: FaceFrame
    mm_per_px: float
    scale_source: str  # "iris" or "user"
    points_mm: np.ndarray  # (478, 3) landmarks in the face frame, millimetres
    asymmetry: Asymmetry
    measures: dict[str, float]

    @property
    def pose(self) -> Pose:
        return self.frame.pose


@dataclass(frozen=True)
class FaceAnalysis:
    """The analysis of one photo."""

    landmarks_px: np.ndarray  # (478, 3) the model's, in the photo's pixels
    image_size: tuple[int, int]  # (width, height)
    face_count: int
    measurement: Measurement
    quality: tuple[QualityCheck, ...]
    image_stats: ImageStats | None = None  # light and focus of the face (None: not measured)
    iris_px: float | None = None  # the iris diameter in the photo's pixels
    identity: np.ndarray | None = None  # face-recognition descriptor (``analyze_image(identity=)``)
    refinement: Refinement | None = None  # lids and brows from the photo (None: not refined)

    @property
    def measured_px(self) -> np.ndarray:
        """The landmarks the measures come from: refined from the photo where they were."""
        return self.landmarks_px if self.refinement is None else self.refinement.landmarks_px

    @property
    def regions(self) -> dict[str, str]:
        """How each region was found ("refined" or "model"); empty when not refined."""
        return {} if self.refinement is None else self.refinement.regions

    @property
    def measures(self) -> dict[str, float]:
        return self.measurement.measures

    @property
    def pose(self) -> Pose:
        return self.measurement.pose

    @property
    def mm_per_px(self) -> float:
        return self.measurement.mm_per_px

    @property
    def quality_status(self) -> str:
        return worst(self.quality)


def measure_landmarks(landmarks_px: np.ndarray, mm_per_px: float | None = None) -> Measurement:
    """Pose, scale and every measure from 478 landmarks in pixel units.

    ``mm_per_px`` overrides the iris scale (for a photo with a ruler or a known distance).
    """
    landmarks_px = np.asarray(landmarks_px, dtype=np.float64)
    if landmarks_px.shape != (topology.N_LANDMARKS, 3):
        raise ValueError(f"expected (478, 3) landmarks, got {landmarks_px.shape}")
    if mm_per_px is not None and not (np.isfinite(mm_per_px) and mm_per_px > 0):
        raise ValueError(f"mm_per_px must be a positive number, got {mm_per_px}")
    frame = face_frame(landmarks_px)
    source = "iris" if mm_per_px is None else "user"
    scale = mm_per_px_from_iris(landmarks_px) if mm_per_px is None else mm_per_px
    points_mm = to_frame(landmarks_px, frame) * scale
    asymmetry = mirror_asymmetry(points_mm)
    measures = asymmetry.as_measures()
    measures.update(clinical_measures(points_mm))
    measures.update(contour_measures(points_mm))
    return Measurement(
        frame=frame,
        mm_per_px=scale,
        scale_source=source,
        points_mm=points_mm,
        asymmetry=asymmetry,
        measures=measures,
    )


def mouth_gap_ratio(points_mm: np.ndarray) -> float:
    """Inner-lip gap at the midline over mouth width (0 for closed lips)."""
    gap = points_mm[topology.INNER_UPPER_LIP_MID, 1] - points_mm[topology.INNER_LOWER_LIP_MID, 1]
    width = np.linalg.norm(
        points_mm[topology.LEFT.mouth_corner, :2] - points_mm[topology.RIGHT.mouth_corner, :2]
    )
    return float(max(gap, 0.0) / width)


def analyze_image(
    rgb: np.ndarray,
    *,
    mm_per_px: float | None = None,
    expression: str = "rest",
    identity: bool = False,
    detection: FaceDetection | None = None,
    refine: bool = True,
) -> FaceAnalysis:
    """Analyse an RGB ``uint8`` photo: the largest face's landmarks, quality and measures.

    ``identity`` also computes the face-recognition descriptor (``analyzer.measure.identity``,
    about 70 ms) for the same-person check of a stored history. ``detection`` gives landmarks
    found otherwise (a burst of video frames averaged): the model is then not run, and the
    checks and measures are those of this photo with these landmarks. Raises ``NoFaceError``
    when there is no face, ``ImageTooSmallError`` when it is too small to measure and
    ``UpsideDownError`` when the photo is upside down. ``refine`` finds the lids and brows
    in the photo (``analyzer.measure.refine``); without it the model's points are measured.
    """
    if detection is None:
        refuse_blank(rgb)
        detection = detect_landmarks(rgb)
    refinement = refine_landmarks(rgb, detection.landmarks, mm_per_px) if refine else None
    measured = detection.landmarks if refinement is None else refinement.landmarks_px
    measurement = with_folds(measure_landmarks(measured, mm_per_px), rgb, measured)
    height, width = rgb.shape[:2]
    outside = parts_outside(detection.landmarks, (width, height))
    if outside:  # the model extrapolated these parts: their measures are not given
        measurement = replace(measurement, measures=measurable(measurement.measures, outside))
    iris_px = float(np.mean(list(iris_diameters_px(detection.landmarks).values())))
    if mm_per_px is not None:
        iris_px = IRIS_DIAMETER_MM / mm_per_px
    stats = image_stats(rgb, detection.landmarks, measurement.points_mm[:, 0])
    checks = [
        upright_check(measurement.pose),
        *pose_checks(measurement.pose),
        face_size_check(iris_px),
        *stats_checks(stats),
        framing_check(outside),
        *expression_checks(
            measurement.measures, mouth_gap_ratio(measurement.points_mm), expression, outside
        ),
        face_count_check(detection.face_count, detection.face_areas_px),
    ]
    return FaceAnalysis(
        landmarks_px=detection.landmarks,
        image_size=(width, height),
        face_count=detection.face_count,
        measurement=measurement,
        quality=tuple(checks),
        image_stats=stats,
        iris_px=iris_px,
        identity=face_embedding(rgb, detection.landmarks) if identity else None,
        refinement=refinement,
    )


#: A picture whose levels spread less than this (SD, 0-255) is one flat colour, such as the
#: black frame a webcam gives before its video has started (SD 0). A smooth wall still has
#: some texture (a blurred noise picture: SD 0.8) and is told that no face was found.
BLANK_SD = 0.5
BLANK_MESSAGE = (
    "The picture is blank (one flat colour): if it came from the webcam, the camera had not "
    "shown a picture yet. Clear it, wait until you see yourself in the preview, then take "
    "the photo again."
)


def refuse_blank(rgb: np.ndarray) -> None:
    """Raise ``BlankPhotoError`` for a picture of one flat colour."""
    small = rgb[:: max(1, rgb.shape[0] // 256), :: max(1, rgb.shape[1] // 256)]
    if float(small.std()) < BLANK_SD:
        raise BlankPhotoError(BLANK_MESSAGE)


def analyze_photo(
    source: str | Path | bytes,
    *,
    mm_per_px: float | None = None,
    expression: str = "rest",
    identity: bool = False,
) -> FaceAnalysis:
    """Load a photo file (or its bytes) and analyse it; see ``analyze_image``. The face
    descriptor (``identity``) is computed only when asked: it serves the same-person check
    of a saved history, not the measures."""
    return analyze_image(
        load_photo(source), mm_per_px=mm_per_px, expression=expression, identity=identity
    )
