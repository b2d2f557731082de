"""Real one-sided movement without a patient: composites of real expression photos.

For each session folder (``rest.*`` plus any of ``eyes-closed.*``, ``broad-smile.*`` and
``brow-raise.*``, one person photographed minutes apart) the expression photo is aligned on
the rest photo and one side's region of it is blended into the rest photo across a feathered
seam on the face's midline:

* a **wink**: one eye region from the eyes-closed photo, the other eye from the rest photo;
* a **one-sided smile**: one half of the lower face from the smile photo;
* a **one-sided brow raise**: one brow and forehead half from the brow-raise photo.

The side taken from the rest photo did not move (truth: 0), the other moved as the real
expression did. The script prints per session each side's movement as the model alone reads
it and as the analyzer reads it (landmarks refined from the image and followed from the rest
photo), and the two-sided real expressions' side ratios (healthy people: near 100 %).

The composites are made in memory and never written: the development photos are not ours to
publish. Run: ``.venv/bin/python scripts/real_movement.py FOLDER [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.measure import topology  # noqa: E402
from analyzer.measure.frame import similarity_2d  # noqa: E402
from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.landmarks import detect_landmarks  # noqa: E402
from analyzer.measure.refine import refine_landmarks  # noqa: E402
from analyzer.measure.registry import expression_key  # noqa: E402
from analyzer.measure.scale import mm_per_px_from_iris  # noqa: E402
from analyzer.protocol.movement import expression_measures  # noqa: E402
from analyzer.protocol.tracking import follow_expression, unfollowed_pair  # noqa: E402

MAX_SIDE_PX = 2000
FILES = {
    "gentle eye closure": "eyes-closed",
    "broad smile": "broad-smile",
    "brow raise": "brow-raise",
}
#: The measure each composite is judged on.
MEASURE = {
    "gentle eye closure": "eye_closure_{}_pct",
    "broad smile": "commissure_movement_{}_mm",
    "brow raise": "brow_elevation_{}_mm",
}


def _photo(folder: Path, stem: str) -> np.ndarray | None:
    hits = sorted(folder.glob(f"{stem}.*"))
    if not hits:
        return None
    rgb = load_photo(hits[0])
    scale = MAX_SIDE_PX / max(rgb.shape[:2])
    if scale < 1:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return rgb


def composite(
    rest_rgb: np.ndarray,
    rest_px: np.ndarray,
    other_rgb: np.ndarray,
    other_px: np.ndarray,
    side: str,
    expression: str,
) -> np.ndarray:
    """The rest photo with one side's region (eye, lower face or brow) from ``other_rgb``,
    aligned on the rest photo by a similarity on the protocol's anchor points and feathered
    across the midline and the region's upper and lower edges."""
    anchors = list(topology.PROTOCOL_ANCHORS)
    fit = similarity_2d(other_px[anchors, :2], rest_px[anchors, :2])
    height, width = rest_rgb.shape[:2]
    aligned = cv2.warpAffine(other_rgb, fit, (width, height), borderMode=cv2.BORDER_REPLICATE)
    mm = mm_per_px_from_iris(rest_px)
    right_eye, left_eye = rest_px[topology.RIGHT.pupil, :2], rest_px[topology.LEFT.pupil, :2]
    across = (left_eye - right_eye) / np.linalg.norm(left_eye - right_eye)  # to subject's left
    down = np.array([-across[1], across[0]])
    if np.dot(down, rest_px[topology.CHIN, :2] - right_eye) < 0:
        down = -down
    origin = rest_px[topology.NOSE_BRIDGE, :2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    offset = np.stack([xs - origin[0], ys - origin[1]], axis=-1)
    u = (offset @ across) * mm  # mm towards the subject's left of the midline
    v = (offset @ down) * mm  # mm down from the nasal bridge
    sign = 1.0 if side == "left" else -1.0
    half = 1 / (1 + np.exp(-(sign * u) / 1.0))
    pupil_v = float(((rest_px[topology.LEFT.pupil, :2] - origin) @ down) * mm)
    nose_v = float(((rest_px[topology.SUBNASALE, :2] - origin) @ down) * mm)
    bands = {  # (top, bottom) in mm down from the nasal bridge
        "gentle eye closure": (pupil_v - 9.0, pupil_v + 9.0),
        "brow raise": (pupil_v - 60.0, pupil_v - 9.0),
        "broad smile": (nose_v + 2.0, nose_v + 60.0),
    }
    top, bottom = bands[expression]
    band = 1 / (1 + np.exp(-(v - top) / 1.5)) * 1 / (1 + np.exp((v - bottom) / 1.5))
    weight = (half * band)[..., None]
    blended = rest_rgb * (1 - weight) + aligned * weight
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def readings(
    expression: str, rest_rgb: np.ndarray, rest_px: np.ndarray, rgb: np.ndarray
) -> dict[str, dict[str, float]]:
    """Each side's primary movement and the side ratio: model alone / the analyzer's."""
    model = detect_landmarks(rgb).landmarks
    rest_refined = refine_landmarks(rest_rgb, rest_px)
    refined = refine_landmarks(rgb, model)
    followed = follow_expression(
        rest_rgb,
        rest_refined.landmarks_px,
        rgb,
        refined.landmarks_px,
        rest_regions=rest_refined.regions,
        expression_regions=refined.regions,
    )
    out = {}
    # As the app pairs them (``ProtocolCapture.against``): followed landmarks when some
    # region was followed, else each photo's own, a brow from the model in both unless both
    # photos had it.
    regions = followed.regions
    if followed.any_followed:
        analyzer = (rest_refined.landmarks_px, followed.landmarks_px, True)
    else:
        pair = unfollowed_pair(
            rest_refined.landmarks_px,
            rest_px,
            rest_refined.regions,
            refined.landmarks_px,
            model,
            refined.regions,
        )
        analyzer = (*pair, False)
    for label, rest, moved, is_followed in (
        ("model", rest_px, model, False),
        ("analyzer", *analyzer),
    ):
        measures = expression_measures(expression, rest, moved, followed=is_followed)
        stem = expression_key(expression) + "_" + MEASURE[expression]
        out[label] = {side: measures[stem.format(side)] for side in ("left", "right")}
    out["regions"] = regions
    return out


def ratio(moved_side: float, still_side: float) -> float:
    """The still side's movement over the moving side's, in percent (truth: 0)."""
    return 100 * max(still_side, 0.0) / moved_side if moved_side > 1e-9 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    for session in sorted(p for p in args.folder.iterdir() if p.is_dir()):
        rest_rgb = _photo(session, "rest")
        if rest_rgb is None:
            continue
        rest_px = detect_landmarks(rest_rgb).landmarks
        for expression, stem in FILES.items():
            other = _photo(session, stem)
            if other is None:
                continue
            other_px = detect_landmarks(other).landmarks
            whole = readings(expression, rest_rgb, rest_px, other)
            row = {"session": session.name, "expression": expression, "both": whole}
            for side in ("left", "right"):
                image = composite(rest_rgb, rest_px, other, other_px, side, expression)
                row[f"{side} only"] = readings(expression, rest_rgb, rest_px, image)
            results.append(row)
            _print(row)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


def _print(row: dict) -> None:
    print(f"{row['session']}  {row['expression']}")
    for case in ("both", "left only", "right only"):
        cells = []
        for label in ("model", "analyzer"):
            reading = row[case][label]
            cells.append(f"{label} L {reading['left']:6.1f} R {reading['right']:6.1f}")
        regions = ",".join(f"{k}={v[0]}" for k, v in row[case]["regions"].items())
        print(f"  {case:10s} " + " | ".join(cells) + f"  [{regions}]")


if __name__ == "__main__":
    main()
