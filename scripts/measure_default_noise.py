"""Measure the analyzer's own noise on the sample photos: the default repeatability.

Until a person has enough repeated captures of their own, change verdicts need a within-
session standard deviation for each measure. This script estimates it from digital
re-captures of the sample faces: each photo re-shot with a small random change of framing
(in-plane rotation up to ±4°, scale ±10 %, shift), exposure (±12 %), sharpness and JPEG
quality, then analysed. The pooled SD per measure over the re-captures is written to
``analyzer/history/data/default_noise.json``.

This is a floor: real re-captures also differ in head pose, expression and light direction,
so a person's own figure (from their repeated captures) is usually larger, and replaces this
as soon as there are three sessions with two captures each.

Run: ``.venv/bin/python scripts/measure_default_noise.py`` (about a minute).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.measure.analysis import analyze_image  # noqa: E402
from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.warps import recapture  # noqa: E402

OUT = ROOT / "analyzer" / "history" / "data" / "default_noise.json"
PHOTOS = {"astronaut.png": 2.0, "grace_hopper.jpg": 1.0}  # upscale factor: iris ~17 px
RECAPTURES = 12
SEED = 20261125


def main() -> None:
    rng = np.random.default_rng(SEED)
    per_photo: dict[str, list[dict[str, float]]] = {}
    for name, factor in PHOTOS.items():
        rgb = load_photo(ROOT / "sample_images" / name)
        if factor != 1:
            rgb = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        per_photo[name] = [analyze_image(recapture(rgb, rng)).measures for _ in range(RECAPTURES)]
    names = list(per_photo[next(iter(PHOTOS))][0])
    sd = {}
    for measure in names:
        variances = [np.var([m[measure] for m in runs], ddof=1) for runs in per_photo.values()]
        sd[measure] = round(float(np.sqrt(np.mean(variances))), 4)
    OUT.write_text(
        json.dumps(
            {
                "source": "scripts/measure_default_noise.py: "
                f"{RECAPTURES} digital re-captures of each of {sorted(PHOTOS)}",
                "within_session_sd": sd,
            },
            indent=1,
        )
        + "\n"
    )
    print(json.dumps(sd, indent=1))


if __name__ == "__main__":
    main()
