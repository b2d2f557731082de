"""How noisy is each local measure against the number of model views? (issue 24, part 4)

``detect_landmarks`` averages the model's landmarks over in-plane rotations of the face
crop, each also mirrored. Fewer views cost less; this script measures what they cost in
noise, for 1 view (no mirror) and 1, 2, 4, 6, 8, 12, 16 and 20 angles each with its mirror
(2 to 40 views):

* **within-photo noise**: the same photo resized (long side 1920, 1440 and 1080 px) and
  re-encoded (JPEG quality 92 and 70): six copies per photo;
* **same-sitting noise**: the photos of one person and one expression taken in one
  sitting (the development set has two or three per expression), and the sample faces
  re-shot four times each (``warps.recapture``: framing, exposure, focus, JPEG).

Each figure is a pooled SD over the groups (photos, or person × expression) of every local
measure (the contour measures, which follow weight and posture, are left out). It prints,
per view count, each measure's noise as a ratio to the 40-view noise, the worst and the
median ratio, and the model runs. The views of one photo are computed once and shared
between the view counts, so the curve compares like with like.

Run: ``.venv/bin/python scripts/views_noise.py [--devset /work/devset] [--quick]``
(a few minutes; the development set's photos are read, never copied).
"""

from __future__ import annotations

import argparse
import io
import sys
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.history.catalog import describe  # noqa: E402
from analyzer.measure import landmarks as model  # noqa: E402
from analyzer.measure.analysis import analyze_image  # noqa: E402
from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.landmarks import FaceDetection, view_angles  # noqa: E402
from analyzer.measure.warps import recapture  # noqa: E402

#: (label, angles, mirrored): the view counts of the curve (``--angles`` chooses others).
CONFIGS = [("1", 1, False)] + [(str(2 * n), n, True) for n in (1, 2, 4, 6, 8, 12, 16, 20)]
REFERENCE = "40"
SIDES = (1920, 1440, 1080)
QUALITIES = (92, 70)
RESHOTS = 4
SEED = 20261206
EXPRESSIONS = (
    "at-rest",
    "big-smile",
    "eyebrows-up",
    "eyes-closed",
    "lips-puckered",
    "lower-teeth-bared",
    "nose-wrinkle",
)


def resized(rgb: np.ndarray, side: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    factor = side / max(height, width)
    size = (round(width * factor), round(height * factor))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(buffer).convert("RGB"))


def measures_per_config(rgb: np.ndarray) -> dict[str, dict[str, float]] | None:
    """Every view count's measures of one photo, from one shared set of model views."""
    try:
        faces = model._find_faces(rgb)
    except Exception:
        return None
    base = model.crop_transform(faces[0])
    crop = model.resample_crop(rgb, base)
    views: dict[tuple[float, bool], np.ndarray | None] = {}
    out = {}
    for label, count, mirrored in CONFIGS:
        estimates = []
        for angle in view_angles(count):
            for mirror in (False, True) if mirrored else (False,):
                if (angle, mirror) not in views:
                    views[angle, mirror] = model._landmarks_in_view(crop, base, angle, mirror)
                if views[angle, mirror] is not None:
                    estimates.append(views[angle, mirror])
        if not estimates:
            return None
        detection = FaceDetection(np.mean(estimates, axis=0), len(faces))
        out[label] = analyze_image(rgb, detection=detection).measures
    return out


def pooled_sd(groups: list[list[dict[str, float]]], measure: str) -> float:
    """SD pooled over groups (each group's variance about its own mean)."""
    squares, dof = 0.0, 0
    for group in groups:
        values = [m[measure] for m in group if measure in m and np.isfinite(m[measure])]
        if len(values) >= 2:
            squares += float(np.sum((np.array(values) - np.mean(values)) ** 2))
            dof += len(values) - 1
    return float(np.sqrt(squares / dof)) if dof else float("nan")


def local_measures(names: list[str]) -> list[str]:
    return [n for n in names if not describe(n).is_contour and n != "asymmetry_index_mm"]


def devset_photos(devset: Path, quick: bool) -> tuple[list[Path], dict[str, list[Path]]]:
    """Resting photos (within-photo bases) and the same-sitting groups of the development
    set: (person, expression) -> its photos."""
    groups: dict[str, list[Path]] = defaultdict(list)
    for person in sorted((devset / "reset").glob("*/images/*")):
        for photo in sorted(person.iterdir()):
            expression = photo.stem.rsplit("-", 1)[0]
            if expression in EXPRESSIONS:
                groups[f"{person.name[:4]} {expression}"].append(photo)
    rest = sorted(devset.glob("reset/*/images/*/at-rest-1.jpg"))
    rest += [
        devset / "original_assets" / "face-mp-at-rest.jpg",
        devset / "test" / "resources" / "mpeschel_at_rest.jpg",
    ]
    if quick:
        groups = {k: v for k, v in groups.items() if "at-rest" in k or "eyebrows" in k}
    return [p for p in rest if p.is_file()], {k: v for k, v in groups.items() if len(v) > 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", type=Path, default=Path("/work/devset"))
    parser.add_argument("--quick", action="store_true", help="fewer photos (a first look)")
    parser.add_argument(
        "--angles", help="only these angle counts, e.g. 12,16 (each mirrored; 20 is always in)"
    )
    args = parser.parse_args()
    if args.angles:
        counts = sorted({*map(int, args.angles.split(",")), 20})
        CONFIGS[:] = [(str(2 * n), n, True) for n in counts]
    rng = np.random.default_rng(SEED)
    samples = {p.name: load_photo(p) for p in sorted((ROOT / "sample_images").glob("*.[jp]*g"))}
    samples["astronaut.png"] = cv2.resize(
        samples["astronaut.png"], None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC
    )
    rest, sittings = devset_photos(args.devset, args.quick) if args.devset.is_dir() else ([], {})

    within: list[dict[str, list]] = []  # per photo: config -> measures of each copy
    for source in [*rest, *samples]:
        rgb = samples[source] if isinstance(source, str) else load_photo(source)
        copies = defaultdict(list)
        for side in SIDES[:1] if args.quick else SIDES:
            for quality in QUALITIES:
                found = measures_per_config(jpeg(resized(rgb, side), quality))
                for label, measures in (found or {}).items():
                    copies[label].append(measures)
        within.append(copies)
        print(f"within-photo: {getattr(source, 'name', source)}", file=sys.stderr)

    same: list[dict[str, list]] = []
    for name, photos in sittings.items():
        group = defaultdict(list)
        for photo in photos:
            rgb = load_photo(photo)
            found = measures_per_config(resized(rgb, 1920) if max(rgb.shape) > 1920 else rgb)
            for label, measures in (found or {}).items():
                group[label].append(measures)
        same.append(group)
        print(f"same sitting: {name} ({len(photos)} photos)", file=sys.stderr)
    for rgb in samples.values():
        group = defaultdict(list)
        for _ in range(RESHOTS):
            for label, measures in (measures_per_config(recapture(rgb, rng)) or {}).items():
                group[label].append(measures)
        same.append(group)

    print(
        f"Photos: {len(rest)} development-set resting photos and {len(samples)} sample "
        f"faces ({len(SIDES[:1] if args.quick else SIDES) * len(QUALITIES)} copies each); "
        f"{len(sittings)} same-sitting groups of the development set and the sample faces "
        f"re-shot {RESHOTS}×."
    )
    for title, groups in (("Within-photo noise", within), ("Same-sitting noise", same)):
        names = local_measures(list(next(m for g in groups for m in g.get(REFERENCE, []))))
        sd = {
            label: {n: pooled_sd([g[label] for g in groups], n) for n in names}
            for label, *_ in CONFIGS
        }
        labels = [label for label, *_ in CONFIGS]
        print(f"\n{title}: pooled SD at 40 views, and each view count's SD / 40 views' SD")
        print(f"{'measure':36} {'SD40':>7} " + " ".join(f"{'v' + x:>6}" for x in labels))
        for n in names:
            ratios = " ".join(f"{sd[x][n] / sd[REFERENCE][n]:6.2f}" for x in labels)
            print(f"{n:36} {sd[REFERENCE][n]:7.3f} {ratios}")
        for summary, how in (("worst", np.nanmax), ("median", np.nanmedian)):
            cells = " ".join(
                f"{how([sd[x][n] / sd[REFERENCE][n] for n in names]):6.2f}" for x in labels
            )
            print(f"{summary + ' ratio':36} {'':7} {cells}")
        mean_ratio = " ".join(
            f"{np.sqrt(np.nanmean([(sd[x][n] / sd[REFERENCE][n]) ** 2 for n in names])):6.2f}"
            for x in labels
        )
        print(f"{'rms ratio':36} {'':7} {mean_ratio}")


if __name__ == "__main__":
    main()
