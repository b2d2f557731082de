"""Print the brow-lift figures (README, "Lids and brows from the image").

Each sample face (upscaled so the iris is ~17 px, as ``scripts/movement_accuracy.py``) gets
one brow lifted by 1-4 mm (``analyzer.measure.warps.brow_lift``: a Gaussian of 8 mm reach
centred on the brow's upper contour above the pupil); the truth is the same displacement
applied to the rest photo's landmarks. Each photo's landmarks come from the model
(``detect_landmarks``, 40 views), then its brows from the photo itself
(``analyzer.measure.brows``; a fit that is not confident keeps the model's points).

Columns: the true change of the brow height (``brow_height_<side>_mm``, each landmark set
measured in its own face frame, as the analyzer does); the model's read and the refined
read of it; each as a share of the truth; the refined read measured in the rest photo's
face frame and scale instead (the model's 3-D mesh tilts when a brow is lifted, which
tilts the face frame); how far the upper contour rose in the photo at the pupil's x over
how far the lift took the rest photo's points (the model's, and the refined: the brow
finder's own accuracy); whether both photos' fits were confident. Then, per face, the rest
photo's fit's brow height less the model's (placed even when not confident), the mirrored
photo's refined brow heights, and the time per call. ``tests/test_brows.py`` holds the
bars.

Run: ``.venv/bin/python scripts/brow_accuracy.py`` (about 10 s).
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.measure import topology  # noqa: E402
from analyzer.measure.analysis import Measurement, measure_landmarks  # noqa: E402
from analyzer.measure.brows import refine_brows  # noqa: E402
from analyzer.measure.clinical import side_measures  # noqa: E402
from analyzer.measure.edges import ContourFit  # noqa: E402
from analyzer.measure.frame import to_frame  # noqa: E402
from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.landmarks import detect_landmarks  # noqa: E402
from analyzer.measure.refine import place  # noqa: E402
from analyzer.measure.warps import KnownChange, brow_lift  # noqa: E402

PHOTOS = {"astronaut.png": 2.0, "grace_hopper.jpg": 1.0}  # upscale factor: iris ~17 px
LIFTS_MM = (1.0, 2.0, 3.0, 4.0)


def brow_height(points_px: np.ndarray, side: str) -> float:
    """``brow_height_<side>_mm`` of a landmark set, in its own face frame."""
    return measure_landmarks(points_px).measures[f"brow_height_{side}_mm"]


def brow_height_in(points_px: np.ndarray, rest: Measurement, side: str) -> float:
    """The brow height of a landmark set in the rest photo's face frame and scale."""
    points_mm = to_frame(points_px, rest.frame) * rest.mm_per_px
    return side_measures(points_mm, topology.BY_SIDE[side]).brow_height_mm


def contour_at_pupil(points_px: np.ndarray, side: str) -> float:
    """The photo y (pixels, down) of a side's upper brow contour at its pupil's x."""
    indices = topology.BY_SIDE[side]
    contour = points_px[list(indices.brow_upper), :2]
    order = np.argsort(contour[:, 0])
    return float(np.interp(points_px[indices.pupil, 0], contour[order, 0], contour[order, 1]))


def photo_share(
    rest_px: np.ndarray, lifted_px: np.ndarray, change: KnownChange, side: str
) -> float:
    """How far a side's upper brow contour rose in the photo, at the pupil's x, over how far
    the lift took the rest photo's points there."""
    moved = contour_at_pupil(rest_px, side) - contour_at_pupil(lifted_px, side)
    true = contour_at_pupil(rest_px, side) - contour_at_pupil(change.apply_to_points(rest_px), side)
    return moved / true


def refined(rgb: np.ndarray, points_px: np.ndarray) -> tuple[np.ndarray, dict[str, ContourFit]]:
    """The landmarks with the confident brow fits placed, and the fits."""
    fits = refine_brows(rgb, points_px)
    return place(points_px, fits), fits


def placed_anyway(points_px: np.ndarray, fit: ContourFit) -> np.ndarray:
    """The landmarks with a fit placed whether confident or not."""
    return place(points_px, {"brow": replace(fit, confident=True)})


def main() -> None:
    print(
        "| face | side | lift mm | truth mm | model mm | refined mm | model share | "
        "refined share | refined share, rest frame | in the photo: model, refined | "
        "confident |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    extras, timings = [], []
    for name, factor in PHOTOS.items():
        rgb = load_photo(ROOT / "sample_images" / name)
        rgb = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        model = detect_landmarks(rgb).landmarks
        start = time.perf_counter()
        rest, rest_fits = refined(rgb, model)
        timings.append(time.perf_counter() - start)
        rest_measurement = measure_landmarks(rest)
        measurement = measure_landmarks(model)
        for side in topology.SIDES:
            fit = rest_fits[side]
            offset = brow_height(placed_anyway(model, fit), side) - brow_height(model, side)
            extras.append(
                f"{name} {side}: rest photo, the fit's brow height − the model's "
                f"{offset:+.2f} mm ({fit.note})"
            )
            for lift in LIFTS_MM:
                change = brow_lift(
                    measurement.frame, measurement.mm_per_px, model, topology.BY_SIDE[side], lift
                )
                photo = change.apply_to_photo(rgb)
                truth = brow_height(change.apply_to_points(model), side) - brow_height(model, side)
                seen = detect_landmarks(photo).landmarks
                start = time.perf_counter()
                lifted, fits = refined(photo, seen)
                timings.append(time.perf_counter() - start)
                model_read = brow_height(seen, side) - brow_height(model, side)
                refined_read = brow_height(lifted, side) - brow_height(rest, side)
                rest_frame = brow_height_in(lifted, rest_measurement, side) - brow_height_in(
                    rest, rest_measurement, side
                )
                both = fits[side].confident and rest_fits[side].confident
                row = (
                    name,
                    side,
                    f"{lift:.0f}",
                    f"{truth:.2f}",
                    f"{model_read:.2f}",
                    f"{refined_read:.2f}",
                    f"{model_read / truth:.0%}",
                    f"{refined_read / truth:.0%}",
                    f"{rest_frame / truth:.0%}",
                    f"{photo_share(model, seen, change, side):.0%}, "
                    f"{photo_share(rest, lifted, change, side):.0%}",
                    "yes" if both else "no",
                )
                print("| " + " | ".join(row) + " |")
        flipped = np.ascontiguousarray(rgb[:, ::-1])
        mirrored, _ = refined(flipped, detect_landmarks(flipped).landmarks)
        for side, partner in (("left", "right"), ("right", "left")):
            extras.append(
                f"{name} mirrored: {side} {brow_height(rest, side):.2f} mm, as "
                f"{partner} {brow_height(mirrored, partner):.2f} mm"
            )
    print()
    for line in extras:
        print(line)
    print(f"refine_brows: median {1000 * np.median(timings):.1f} ms per photo (both brows)")


if __name__ == "__main__":
    main()
