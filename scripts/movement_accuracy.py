"""Print the palsy protocol's known-movement figures (README, "Facial palsy protocol").

Each sample face gets a "broad smile" made by Gaussian warps: the left mouth corner up and
out 6 mm, the right 3 mm (the affected side), and, separately, the right eye narrowed by
35 % of its resting fissure. The truth is the same warp applied to the rest landmarks. Each
expression is read by the model alone and followed from the rest photo
(``analyzer.tracking``), as taken and as retaken a little turned (5°), farther away (×0.8)
and darker. ``tests/test_movement.py`` holds the bars these figures meet.

Run: ``.venv/bin/python scripts/movement_accuracy.py`` (about 10 s).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer import topology  # noqa: E402
from analyzer.analysis import analyze_image  # noqa: E402
from analyzer.imaging import load_photo  # noqa: E402
from analyzer.landmarks import detect_landmarks  # noqa: E402
from analyzer.movement import expression_measures  # noqa: E402
from analyzer.tracking import follow_expression  # noqa: E402
from analyzer.warps import feature_change  # noqa: E402

PHOTOS = {"astronaut.png": 2.0, "grace_hopper.jpg": 1.0}  # upscale factor: iris ~17 px
DIAGONAL = 1 / np.sqrt(2)
LEFT, RIGHT = (f"broad_smile_commissure_movement_{s}_mm" for s in ("left", "right"))
RATIO = "broad_smile_ratio_pct"
NARROWING = "broad_smile_eye_narrowing_{}_pct"


def retaken(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), 5.0, 0.8)
    out = cv2.warpAffine(rgb, turn, (width, height), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT)  # fmt: skip
    return np.clip(out * 0.8 + 10, 0, 255).astype(np.uint8)


def read(rgb, points, photo) -> tuple[dict[str, float], dict[str, float], float]:
    model = detect_landmarks(photo).landmarks
    followed = follow_expression(rgb, points, photo, model)
    alone = expression_measures("broad smile", points, model, "right")
    flow = expression_measures("broad smile", points, followed.landmarks_px, "right")
    return alone, flow, followed.fraction


def main() -> None:
    print("face, expression photo: true / followed / model alone; share of points followed")
    for name, factor in PHOTOS.items():
        rgb = load_photo(ROOT / "sample_images" / name)
        rgb = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        analysis = analyze_image(rgb)
        frame, scale, points = analysis.measurement.frame, analysis.mm_per_px, analysis.landmarks_px
        smile, truth_points = rgb, points
        for side, mm, outwards in ((topology.LEFT, 6.0, 1), (topology.RIGHT, 3.0, -1)):
            change = feature_change(frame, scale, points[side.mouth_corner, :2],
                                    (outwards * mm * DIAGONAL, mm * DIAGONAL), 10.0)  # fmt: skip
            smile, truth_points = change.apply_to_photo(smile), change.apply_to_points(truth_points)
        truth = expression_measures("broad smile", points, truth_points, "right")
        for label, photo in (("as taken", smile), ("retaken", retaken(smile))):
            alone, flow, fraction = read(rgb, points, photo)
            print(f"{name} smile, {label}: "
                  + "; ".join(f"{key.split('_')[-2]} {truth[key]:.2f} / {flow[key]:.2f} / "
                              f"{alone[key]:.2f}" for key in (LEFT, RIGHT, RATIO))
                  + f"; followed {fraction:.0%}")  # fmt: skip
        fissure = analysis.measures["palpebral_fissure_height_right_mm"]
        lid = feature_change(frame, scale, points[topology.RIGHT.upper_lid[4], :2],
                             (0, -0.35 * fissure), (8.0, 3.0))  # fmt: skip
        truth = expression_measures("broad smile", points, lid.apply_to_points(points), "right")
        alone, flow, fraction = read(rgb, points, lid.apply_to_photo(rgb))
        keys = {side: NARROWING.format(side) for side in ("right", "left")}
        print(f"{name} right eye narrowed: "
              + "; ".join(f"{side} {truth[k]:.1f} / {flow[k]:.1f} / {alone[k]:.1f} %"
                          for side, k in keys.items())
              + f"; followed {fraction:.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
