"""Cheaper model views: what each design costs, and what it does to noise and accuracy.

``detect_landmarks`` reads 40 views of the face (20 in-plane rotations over ±8°, each also
mirrored), the face 320 px wide in a 640-px square crop, each view one run of MediaPipe's
FaceMesh in static image mode: its face detector, then its landmark model on the region the
detector gives. On one core a view costs about 4.7 ms of model and 2 ms of resampling, and
no input size makes the model cheaper. Issue 24 asks for 150 ms per 1920-px photo, of which
everything but the views takes about 100 ms; this script measures the ways a view could be
cheaper, against today's design:

* **size**: the face 192 px wide in a 384-px crop, or 128 in 256 (less resampling; the
  landmark model reads a 192-px square whatever it is given);
* **mosaic**: 2 or 4 views side by side in one image, read in one model run, so the face
  detector runs once for all of them (a view then costs about 3.2 ms);
* **tracked**: the plain views and the mirrored ones each followed as one chain in tracking
  mode (``static_image_mode=False``), which skips the detector after a chain's first view
  (2.9 ms a view); a blank image between chains starts each afresh;
* **fewer views**: 24 or 32 of today's.

For each design, on one core:

* the landmarks' CPU time on a 1920-px photo (Grace Hopper's, enlarged), median of 7;
* the **within-photo** and **same-sitting** noise of every local measure as a ratio to
  today's (``scripts/views_noise.py`` defines both; median, 90th percentile and worst over
  the measures). Today's with its angles moved by a twentieth (``today-b``) shows how far
  two equally good designs differ by chance;
* the **metamorphic** differences on the sample faces as ``tests/test_metamorphic.py``
  makes them (the astronaut ×2 and Grace Hopper, mirrored, twice the size and turned
  ±10°), each as a share of that test's tolerance for the measure (0.3 mm, 0.4 mm with
  glasses, 1 % for whole-face sizes, 1° for angles): over 1, the test fails.

Run: ``.venv/bin/python scripts/view_designs.py [--devset /work/devset] [--designs a,b]``
(about a minute per design on one core; the development set's photos are read, never
copied). Results of 2026-12-06 are in the README ("Speed").
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import views_noise  # noqa: E402

from analyzer.measure import landmarks as model  # noqa: E402
from analyzer.measure.analysis import analyze_image  # noqa: E402
from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.landmarks import FaceDetection  # noqa: E402
from analyzer.measure.warps import recapture  # noqa: E402
from tests.helpers import swapped_sides, tolerance_for  # noqa: E402

BLANK = np.zeros((64, 64, 3), dtype=np.uint8)


@dataclass(frozen=True)
class Design:
    """How the views of one photo are made and read."""

    side_px: int = model.CROP_SIDE_PX  # the crop's side; the face is half of it wide
    angles: int = 20  # rotations over ±8°, each also mirrored
    tiles: int = 1  # views read in one model run (a mosaic, 2 wide)
    tracked: bool = False  # chains in tracking mode instead of one static run per image
    spread_deg: float = 8.0

    def angle_list(self) -> np.ndarray:
        return np.linspace(-self.spread_deg, self.spread_deg, self.angles)


DESIGNS = {
    "today": Design(),
    "today-b": Design(spread_deg=8.4),
    "32 views": Design(angles=16),
    "24 views": Design(angles=12),
    "384 px": Design(side_px=384),
    "256 px": Design(side_px=256),
    "256 px, 16 views": Design(side_px=256, angles=8),
    "mosaic 2": Design(tiles=2),
    "mosaic 2, 384 px": Design(side_px=384, tiles=2),
    "mosaic 4, 384 px": Design(side_px=384, tiles=4),
    "mosaic 4, 384 px, 24 views": Design(side_px=384, angles=12, tiles=4),
    "mosaic 4, 256 px, 16 views": Design(side_px=256, angles=8, tiles=4),
    "tracked, 256 px, 16 views": Design(side_px=256, angles=8, tracked=True),
    "tracked, 16 views": Design(angles=8, tracked=True),
}

_trackers: list = []


def _tracker():
    """FaceMesh in tracking mode (built once)."""
    if not _trackers:
        from mediapipe.python.solutions import face_mesh

        _trackers.append(
            face_mesh.FaceMesh(static_image_mode=False, refine_landmarks=True, max_num_faces=1)
        )
    return _trackers[0]


def _tracked(images: list[np.ndarray]) -> list[np.ndarray | None]:
    """Each image's face (its pixels) read as one chain in tracking mode."""
    tracker, found = _tracker(), []
    for image in images:
        result = tracker.process(np.ascontiguousarray(image))
        faces = result.multi_face_landmarks
        height, width = image.shape[:2]
        found.append(
            np.array([(p.x, p.y, p.z) for p in faces[0].landmark]) * (width, height, width)
            if faces
            else None
        )
    tracker.process(BLANK)  # the next chain starts from the detector
    return found


def _mosaic(images: list[np.ndarray]) -> list[np.ndarray | None]:
    """The images side by side (two wide), read in one static model run; each face found
    is given to the image whose tile holds its centre."""
    side = images[0].shape[0]
    columns = min(len(images), 2)
    rows = -(-len(images) // columns)
    mosaic = np.zeros((rows * side, columns * side, 3), dtype=np.uint8)
    for tile, image in enumerate(images):
        row, column = divmod(tile, columns)
        mosaic[row * side : (row + 1) * side, column * side : (column + 1) * side] = image
    found: list[np.ndarray | None] = [None] * len(images)
    for face in model.detect_faces(mosaic):  # largest first
        column, row = (face[:, :2].mean(axis=0) // side).astype(int)
        tile = int(row) * columns + int(column)
        if 0 <= column < columns and tile < len(images) and found[tile] is None:
            found[tile] = face - [column * side, row * side, 0.0]
    return found


def landmarks_of(rgb: np.ndarray, design: Design) -> FaceDetection:
    """The photo's landmarks read with ``design``: the plain views as one group, the
    mirrored ones (their angles negated, so a mirrored photo is read through the same
    images) as another."""
    faces = model._find_faces(rgb)
    base = model.crop_transform(faces[0]) * (design.side_px / model.CROP_SIDE_PX)
    crop = model.resample_crop(rgb, base, design.side_px)
    estimates = []
    for mirror in (False, True):
        views = [model.view(crop, -a if mirror else a, mirror) for a in design.angle_list()]
        read: Callable[[list[np.ndarray]], list[np.ndarray | None]]
        read = _tracked if design.tracked else _mosaic
        found: list[np.ndarray | None] = []
        step = len(views) if design.tracked else design.tiles
        for start in range(0, len(views), step):
            found += read([image for image, _ in views[start : start + step]])
        for face, (_, in_crop) in zip(found, views, strict=True):
            if face is not None:
                estimates.append(model.view_to_photo(face, in_crop, base, mirror))
    return FaceDetection(np.mean(estimates, axis=0), len(faces))


def measures_of(rgb: np.ndarray, design: Design) -> dict[str, float] | None:
    try:
        return analyze_image(rgb, detection=landmarks_of(rgb, design)).measures
    except Exception:  # a copy without a face: left out of the figures
        return None


def cost_ms(rgb: np.ndarray, design: Design) -> float:
    landmarks_of(rgb, design)
    times = []
    for _ in range(7):
        start = time.process_time()
        landmarks_of(rgb, design)
        times.append(1000 * (time.process_time() - start))
    return float(np.median(times))


def metamorphic(faces: dict[str, tuple[np.ndarray, float]], design: Design) -> dict[str, str]:
    """Per face: the largest difference over the mirrored, doubled and turned (±10°) copies
    as a share of the tests' tolerance for that measure (above 1: a test fails), and which
    measure and copy it was."""
    worst = {}
    for name, (rgb, local_mm) in faces.items():
        reference = measures_of(rgb, design) or {}
        height, width = rgb.shape[:2]
        copies = {
            "mirrored": np.ascontiguousarray(rgb[:, ::-1]),
            "doubled": cv2.resize(rgb, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC),
        }
        for angle in (10.0, -10.0):
            matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
            copies[f"turned {angle:+.0f}°"] = cv2.warpAffine(
                rgb, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
            )
        share, what = 0.0, ""
        for label, copy in copies.items():
            found = measures_of(copy, design) or {}
            expected = swapped_sides(reference) if label == "mirrored" else reference
            for measure, value in expected.items():
                if measure in found:
                    tolerance = tolerance_for(measure, value, local_mm, 0.01)
                    if abs(found[measure] - value) / tolerance > share:
                        share = abs(found[measure] - value) / tolerance
                        what = f"{measure}, {label}"
        worst[name] = f"{share:.2f} ({what})"
    return worst


def noise_ratios(groups: list[dict[str, list]], names: list[str], label: str) -> list[float]:
    reference = {n: views_noise.pooled_sd([g["today"] for g in groups], n) for n in names}
    mine = {n: views_noise.pooled_sd([g[label] for g in groups], n) for n in names}
    return [mine[n] / reference[n] for n in names if reference[n] > 0]


def summary(ratios: list[float]) -> str:
    return (
        f"{np.nanmedian(ratios):.2f} / {np.nanpercentile(ratios, 90):.2f} / {np.nanmax(ratios):.2f}"
    )


def main() -> None:
    # Over 60 lines on purpose: one pass over the photos for every design, then one table.
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", type=Path, default=Path("/work/devset"))
    parser.add_argument("--designs", help="only these designs (comma-separated labels)")
    args = parser.parse_args()
    labels = args.designs.split(",") if args.designs else list(DESIGNS)
    designs = {"today": DESIGNS["today"], **{k: DESIGNS[k] for k in labels}}
    samples = {p.name: load_photo(p) for p in sorted((ROOT / "sample_images").glob("*.[jp]*g"))}
    samples["astronaut.png"] = cv2.resize(
        samples["astronaut.png"], None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC
    )
    rest, sittings = (
        views_noise.devset_photos(args.devset, False) if args.devset.is_dir() else ([], {})
    )

    within: list[dict[str, list]] = []
    for source in [*rest, *samples]:
        rgb = samples[source] if isinstance(source, str) else load_photo(source)
        copies = defaultdict(list)
        for side in views_noise.SIDES:
            for quality in views_noise.QUALITIES:
                copy = views_noise.jpeg(views_noise.resized(rgb, side), quality)
                for label, design in designs.items():
                    if (found := measures_of(copy, design)) is not None:
                        copies[label].append(found)
        within.append(copies)
    same: list[dict[str, list]] = []
    for photos in sittings.values():
        group = defaultdict(list)
        for photo in photos:
            rgb = load_photo(photo)
            rgb = views_noise.resized(rgb, 1920) if max(rgb.shape) > 1920 else rgb
            for label, design in designs.items():
                if (found := measures_of(rgb, design)) is not None:
                    group[label].append(found)
        same.append(group)
    rng = np.random.default_rng(views_noise.SEED)
    for rgb in samples.values():
        group = defaultdict(list)
        for _ in range(views_noise.RESHOTS):
            copy = recapture(rgb, rng)
            for label, design in designs.items():
                if (found := measures_of(copy, design)) is not None:
                    group[label].append(found)
        same.append(group)

    names = views_noise.local_measures(list(within[0]["today"][0]))
    names = [n for n in names if "nasolabial" not in n]  # found or not by light: apart
    enlarged = samples["grace_hopper.jpg"]
    enlarged = cv2.resize(
        enlarged, None, fx=1920 / max(enlarged.shape), fy=1920 / max(enlarged.shape)
    )
    faces = {
        "astronaut": (samples["astronaut.png"], 0.3),
        "grace hopper": (samples["grace_hopper.jpg"], 0.4),
    }
    print(
        f"{len(rest)} development-set resting photos and {len(samples)} sample faces, 6 copies "
        f"each; {len(sittings)} same-sitting groups and the sample faces re-shot "
        f"{views_noise.RESHOTS}×; {len(names)} local measures (folds apart)."
    )
    print(
        "design | landmarks, ms | within-photo noise / today's: median / p90 / worst | "
        "same-sitting: median / p90 / worst | metamorphic, largest difference / the tests' "
        "tolerance (over 1 fails), astronaut | Grace Hopper"
    )
    for label, design in designs.items():
        worst = metamorphic(faces, design)
        cells = [
            label,
            f"{cost_ms(enlarged, design):.0f}",
            summary(noise_ratios(within, names, label)),
            summary(noise_ratios(same, names, label)),
            *worst.values(),
        ]
        print(" | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
