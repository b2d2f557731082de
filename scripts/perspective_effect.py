"""How much every measure moves when only the camera distance changes (perspective).

Each sample face's landmarks are taken as seen from the nearer distance, reprojected to the
farther one (``analyzer.measure.perspective.reproject``: the iris plane keeps its size, the
nose shrinks and the face outline grows relative to it), and measured again with the iris
scale, as the analyzer would. A printed change is what the analyzer reports (far − near) for
a face that did not change at all, when one photo is taken from 60 cm and the other from
40 cm (a laptop webcam) or 30 cm (a phone held at arm's length).

Run: ``.venv/bin/python scripts/perspective_effect.py`` (a few seconds).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.measure.analysis import analyze_image, measure_landmarks  # noqa: E402
from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.perspective import reproject  # noqa: E402

PHOTOS = {"astronaut": ("astronaut.png", 2.0), "grace_hopper": ("grace_hopper.jpg", 1.0)}
MOVES_MM = ((400.0, 600.0), (300.0, 600.0))


def perspective_effect(landmarks_px: np.ndarray, near_mm: float, far_mm: float) -> dict[str, float]:
    """Change of every measure (far − near) when the landmarks, seen from ``near_mm``, are
    seen from ``far_mm`` instead; the photo's scale at the iris plane is kept."""
    near = measure_landmarks(landmarks_px)
    far = measure_landmarks(reproject(landmarks_px, near_mm, far_mm, near.mm_per_px))
    return {name: far.measures[name] - value for name, value in near.measures.items()}


def main() -> None:
    effects = {}
    for face, (file, upscale) in PHOTOS.items():
        rgb = load_photo(ROOT / "sample_images" / file)
        if upscale != 1.0:
            rgb = cv2.resize(rgb, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_CUBIC)
        landmarks = analyze_image(rgb).landmarks_px
        for near, far in MOVES_MM:
            effects[face, near, far] = perspective_effect(landmarks, near, far)
    columns = list(effects)
    header = " | ".join(f"{face} {near / 10:.0f}->{far / 10:.0f} cm" for face, near, far in columns)
    print(f"| measure | {header} |")
    print("| --- " * (len(columns) + 1) + "|")
    for name in effects[columns[0]]:
        row = " | ".join(f"{effects[column][name]:+.3f}" for column in columns)
        print(f"| `{name}` | {row} |")


if __name__ == "__main__":
    main()
