"""Measure the default noise on the sample photos: within a session and between days.

Until a person has enough photos of their own, change verdicts need two figures per measure:

* **Within a session** (the camera's own noise): each sample photo re-shot with a small
  random change of framing (in-plane rotation up to ±4°, scale ±10 %, shift), exposure
  (±12 %), sharpness and JPEG quality (``warps.recapture``), then analysed; the pooled SD per
  measure over the re-captures.
* **Between days** (what an unchanged face varies by on another day): each sample photo
  re-taken as on another day (``warps.recapture_day``) with its conditions drawn within the
  tolerances of ``analyzer.history.comparability``: camera distance ±15 %, yaw and pitch
  ±5°, both eyes opened or narrowed by up to 1 mm, a faint smile of up to 1 mm, light
  (gain ±15 %, gamma ±20 %, a left-right gradient ±30 %), plus the framing, focus and
  JPEG of a re-shot photo. The pooled SD per measure over those re-captures, combined
  (root-sum-square) with the capture allowance of ``catalog.CAPTURE_ALLOWANCE`` for what a
  warp cannot imitate (skin that folds, another sensor's processing, posture), is the
  default between-day SD. Split-face differences (treated − untreated side of each per-side
  measure, ``<stem>_split``) get their own figure the same way.

Both are written to ``analyzer/history/data/default_noise.json``; the script also prints
the spread of the conditions it drew, as the analyzer read them, beside the tolerances.
A person's own figures replace the defaults: within a session after three sessions with two
captures each, between days after three baseline sessions on different days.

Run: ``.venv/bin/python scripts/measure_default_noise.py`` (about three minutes).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.history import comparability  # noqa: E402
from analyzer.history.catalog import CAPTURE_ALLOWANCE, describe  # noqa: E402
from analyzer.measure.analysis import analyze_image  # noqa: E402
from analyzer.measure.conditions import analysis_conditions  # noqa: E402
from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.warps import recapture, recapture_day  # noqa: E402

OUT = ROOT / "analyzer" / "history" / "data" / "default_noise.json"
PHOTOS = {"astronaut.png": 2.0, "grace_hopper.jpg": 1.0}  # upscale factor: iris ~17 px
RECAPTURES = 12
DAY_RECAPTURES = 30
SEED = 20261125
DISTANCE = 1 + comparability.DISTANCE_TOLERANCE


def pooled_sd(per_photo: dict[str, list[dict[str, float]]], measure: str) -> float:
    variances = [np.var([m[measure] for m in runs], ddof=1) for runs in per_photo.values()]
    return float(np.sqrt(np.mean(variances)))


def with_splits(measures: dict[str, float]) -> dict[str, float]:
    """The measures plus left − right of every per-side measure, as ``<stem>_split``."""
    splits = {}
    for name, value in measures.items():
        if "_left_" in name:
            stem = name.split("_left_")[0]
            right = name.replace("_left_", "_right_")
            splits[f"{stem}_split"] = value - measures[right]
    return {**measures, **splits}


def main() -> None:
    rng = np.random.default_rng(SEED)
    within: dict[str, list[dict[str, float]]] = {}
    between: dict[str, list[dict[str, float]]] = {}
    drawn = []
    for name, factor in PHOTOS.items():
        rgb = load_photo(ROOT / "sample_images" / name)
        if factor != 1:
            rgb = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        within[name] = [analyze_image(recapture(rgb, rng)).measures for _ in range(RECAPTURES)]
        original = analyze_image(rgb)
        between[name] = []
        for _ in range(DAY_RECAPTURES):
            photo, _, _ = recapture_day(
                rgb,
                original.landmarks_px,
                original.mm_per_px,
                rng,
                distance_ratio=(1 / DISTANCE, DISTANCE),
            )
            analysis = analyze_image(photo)
            between[name].append(with_splits(analysis.measures))
            drawn.append((name, analysis_conditions(analysis)))
    within_sd = {m: round(pooled_sd(within, m), 4) for m in within[next(iter(PHOTOS))][0]}
    between_sd = {}
    first = between[next(iter(PHOTOS))][0]
    for measure in first:
        # A split (left − right) is in its sides' unit: the allowance of degrees for an angle.
        sides = [n for n in first if n.startswith(measure.removesuffix("split") + "left_")]
        unit = describe(sides[0] if measure.endswith("_split") else measure).unit
        simulated = pooled_sd(between, measure)
        between_sd[measure] = round(float(np.hypot(simulated, CAPTURE_ALLOWANCE[unit])), 4)
    # Other scripts' figures in the same file (``protocol_between_day_sd``) are kept.
    kept = json.loads(OUT.read_text()) if OUT.exists() else {}
    kept.update(
        {
            "source": "scripts/measure_default_noise.py: "
            f"{RECAPTURES} digital re-captures and {DAY_RECAPTURES} simulated re-captures "
            f"on other days of each of {sorted(PHOTOS)}",
            "within_session_sd": within_sd,
            "between_day_sd": between_sd,
        }
    )
    OUT.write_text(json.dumps(kept, indent=1) + "\n")
    print(f"{'measure':40s} {'within':>8s} {'between':>8s}")
    for measure, value in between_sd.items():
        print(f"{measure:40s} {within_sd.get(measure, float('nan')):8.3f} {value:8.3f}")
    print("\nConditions drawn, as read (per face: median and 5th-95th percentile):")
    for field in (
        "yaw_deg",
        "pitch_deg",
        "light_balance",
        "face_share",
        "eye_opening_mm",
        "excursion_mm",
        "mouth_gap_mm",
    ):
        for name in PHOTOS:
            values = np.array([getattr(c, field) for n, c in drawn if n == name], dtype=float)
            low, mid, high = np.percentile(values, [5, 50, 95])
            print(f"  {field:16s} {name:18s} {mid:8.3f} ({low:.3f} to {high:.3f})")


if __name__ == "__main__":
    main()
