"""Print the palsy protocol's known-movement figures (README, "Facial palsy protocol").

Each sample face gets each movement of the protocol imitated by Gaussian warps
(``analyzer.measure.warps.imitate``), stronger on the left than on the right (the affected
side), and the right eye narrowed in a smile; the truth is the same warps applied to the rest
landmarks. Each expression is read by the model alone and followed from the rest photo
(``analyzer.protocol.tracking``); the smile also as retaken
(``analyzer.measure.warps.recapture``: other framing, exposure, focus and JPEG quality).
``tests/test_movement.py`` holds the bars that these figures meet.

Run: ``.venv/bin/python scripts/movement_accuracy.py`` (about 15 s).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.measure.analysis import analyze_image  # noqa: E402
from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.landmarks import detect_landmarks  # noqa: E402
from analyzer.measure.registry import expression_key  # noqa: E402
from analyzer.measure.warps import imitate, recapture  # noqa: E402
from analyzer.protocol.movement import expression_measures  # noqa: E402
from analyzer.protocol.tracking import follow_expression  # noqa: E402

PHOTOS = {"astronaut.png": 2.0, "grace_hopper.jpg": 1.0}  # upscale factor: iris ~17 px
RETAKE_SEED = 5  # as in tests/test_movement.py
#: Expression measured, movement imitated, its left and right amounts (mm, or a share of
#: the resting fissure for the lids), the measure and whether to also retake the photo.
CASES = (
    ("broad smile", "broad smile", 6.0, 3.0, "commissure_movement_{}_mm", True),
    ("brow raise", "brow raise", 4.0, 2.0, "brow_elevation_{}_mm", False),
    ("snarl", "snarl", 3.0, 1.5, "upper_lip_elevation_{}_mm", False),
    ("lip pucker", "lip pucker", 4.0, 2.0, "commissure_medial_{}_mm", False),
    ("gentle eye closure", "eye closure", 0.6, 0.3, "eye_closure_{}_pct", False),
    ("broad smile", "eye closure", 0.0, 0.35, "eye_narrowing_{}_pct", False),
)


def main() -> None:
    print("face: expression (movement): true / followed / model alone, per side and ratio")
    for name, factor in PHOTOS.items():
        rgb = load_photo(ROOT / "sample_images" / name)
        rgb = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        analysis = analyze_image(rgb)
        frame, scale, points = analysis.measurement.frame, analysis.mm_per_px, analysis.landmarks_px
        for expression, movement, left, right, stem, retake in CASES:
            if movement == "eye closure":
                left *= analysis.measures["palpebral_fissure_height_left_mm"]
                right *= analysis.measures["palpebral_fissure_height_right_mm"]
            photo, truth_points = imitate(rgb, points, frame, scale, movement, left, right)
            # The imitation moves no head: the truth is the warp's displacement as it is.
            truth = expression_measures(expression, points, truth_points, "right", followed=True)
            for label, shown in (
                ("", photo),
                (", retaken", recapture(photo, np.random.default_rng(RETAKE_SEED))),
            )[: 1 + retake]:
                model = detect_landmarks(shown).landmarks
                followed = follow_expression(rgb, points, shown, model)
                flow = expression_measures(
                    expression, points, followed.landmarks_px, "right", followed=True
                )
                alone = expression_measures(expression, points, model, "right")
                prefix = expression_key(expression)
                keys = [f"{prefix}_{stem.format(s)}" for s in ("left", "right")]
                keys += [f"{prefix}_ratio_pct"]
                print(
                    f"{name}: {expression} ({movement}{label}): "
                    + "; ".join(
                        f"{k.split('_')[-2]} {truth[k]:.2f} / {flow[k]:.2f} / {alone[k]:.2f}"
                        for k in keys
                    )
                    + f"; {followed.fraction:.0%} of points followed"
                )


if __name__ == "__main__":
    main()
