"""Open eyes are never called shut: the lid finder on real photos, small and mirrored.

For a folder of development photos (resting faces ``*at-rest*`` / ``*at_rest*`` and eye
closures ``*eyes-closed*`` / ``*eyes_closed*`` of the same sessions), at the photos' own size
(at most 2000 px) and downscaled to 320 px wide greyscale, the script prints:

* **open eyes**: the palpebral fissure of every open eye, as the app measures it, in the
  resting photos, in one-eye closures made from them by warping (``warps.shut_eye``: the
  other eye is open and untouched) and in Bell's phenomenon made from them
  (``warps.hide_iris``: one eye's iris painted with its sclera's colour); minimum and 5th
  percentile, and how many open eyes read under 2 mm;
* **real winks**: one eye from the eyes-closed photo blended into the resting photo of the
  same session (``scripts/real_movement.composite``), each side: the side ratio (the open
  eye's closure over the shut eye's; truth 0);
* **mirrored**: every photo above and its mirror image: the share of lid and brow regions
  refined alike (sides swapped) and the worst difference of a mirrored lid or brow measure;
* **resolution** (``--resolution PHOTO``): one photo at 480, 720 and 1080 px high and 4000 px
  high: the range of each fissure;
* **iris width** (``--iris``): the resting and eyes-closed photos downscaled so their iris is
  4-16 px wide, greyscale, read with the lid finder at work whatever the iris: each open
  eye's fissure against the same photo's at full size, and shut eyes read shut (this is how
  ``lids.MIN_IRIS_PX`` was chosen).

The composites and copies are made in memory and never written: the development photos are
not ours to publish. Run: ``.venv/bin/python scripts/lid_margins.py FOLDER [--resolution
PHOTO] [--iris] [--only [open] [winks]]``.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from real_movement import composite, ratio, readings  # noqa: E402

from analyzer.errors import AnalyzerError  # noqa: E402
from analyzer.measure import lids, topology  # noqa: E402
from analyzer.measure.analysis import (  # noqa: E402
    FaceAnalysis,
    analyze_image,
    measure_landmarks,
)
from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.lids import state  # noqa: E402
from analyzer.measure.warps import hide_iris, shut_eye  # noqa: E402

MAX_SIDE_PX = 2000
LOW_WIDTH_PX = 320
SKIP = ("badger", "beaver", "cat", "dog", "owl", "icon", "splash", "profile", "face-f-")
REST = re.compile(r"at[-_]rest")
CLOSED = re.compile(r"eyes[-_]closed(?![-_]tightly)")
#: The measures compared between a photo and its mirror image (sides swapped).
MIRRORED = ("palpebral_fissure_height", "mrd1", "mrd2", "brow_height")
BELL = "Bell's"
IRIS_TARGETS_PX = (4, 5, 6, 8, 10, 12, 16)
LIDS_AND_BROWS = ("eye_left", "eye_right", "brow_left", "brow_right")


@dataclass(frozen=True)
class Session:
    name: str
    rest: Path
    closed: Path | None


def sessions(folder: Path) -> list[Session]:
    """Resting photos, each with the eyes-closed photo of its session (same folder, same
    name apart from the expression and the same trailing number). A photo kept twice (at
    another size or encoding) is counted once, the larger copy."""
    photos = sorted(
        (
            p
            for p in folder.rglob("*")
            if p.suffix.lower() in (".jpg", ".jpeg", ".png")
            and not any(s in p.name.lower() for s in SKIP)
        ),
        key=lambda p: (-p.stat().st_size, str(p)),
    )
    thumbnails: list[np.ndarray] = []
    found = []
    for rest in photos:
        if not REST.search(rest.name.lower()):
            continue
        thumbnail = _thumbnail(rest)
        if thumbnail is None or any(np.mean(np.abs(thumbnail - t)) < 3 for t in thumbnails):
            continue
        thumbnails.append(thumbnail)
        prefix, suffix = REST.split(rest.name.lower(), maxsplit=1)
        number = re.sub(r"\D", "", suffix)
        closed = [
            p
            for p in rest.parent.iterdir()
            if CLOSED.search(p.name.lower())
            and p.name.lower().startswith(prefix)
            and _number(p) in (number, "")
        ]
        closed.sort(key=lambda p: ("gently" in p.name, p.name))
        found.append(
            Session(f"{rest.parent.name[:8]}/{rest.stem}", rest, closed[0] if closed else None)
        )
    return found


def _number(path: Path) -> str:
    """The digits after the expression in an eyes-closed photo's name ("" for none)."""
    return re.sub(r"\D", "", CLOSED.split(path.name.lower())[1])


def _thumbnail(path: Path) -> np.ndarray | None:
    try:
        rgb = load_photo(path)
    except AnalyzerError:
        return None
    return cv2.resize(
        cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (16, 16), interpolation=cv2.INTER_AREA
    ).astype(np.float32)


def photo(path: Path) -> np.ndarray:
    rgb = load_photo(path)
    scale = MAX_SIDE_PX / max(rgb.shape[:2])
    if scale < 1:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return rgb


def low(rgb: np.ndarray) -> np.ndarray:
    """The photo 320 px wide, greyscale (three equal channels)."""
    height = round(rgb.shape[0] * LOW_WIDTH_PX / rgb.shape[1])
    small = cv2.resize(rgb, (LOW_WIDTH_PX, height), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)


def fissure(analysis: FaceAnalysis, side: str) -> float:
    return analysis.measures[f"palpebral_fissure_height_{side}_mm"]


def mirror_check(rgb: np.ndarray, analysis: FaceAnalysis) -> tuple[int, int, int, float]:
    """Of the photo's 4 lid and brow regions, how many are refined alike in its mirror image
    (sides swapped), how many eyes get the same answer (open, shut, uncertain), and the
    worst difference of a mirrored lid or brow measure (mm)."""
    flipped = analyze_image(np.ascontiguousarray(rgb[:, ::-1]))
    alike = sum(analysis.regions[r] == flipped.regions[_partner(r)] for r in LIDS_AND_BROWS)
    notes, flipped_notes = analysis.refinement.notes, flipped.refinement.notes
    answers = sum(
        state(notes[f"eye_{s}"]) == state(flipped_notes[f"eye_{o}"])
        for s, o in (("left", "right"), ("right", "left"))
    )
    return alike, len(LIDS_AND_BROWS), answers, _worst(analysis.measures, flipped.measures)


def mirror_model_alone(rgb: np.ndarray, analysis: FaceAnalysis) -> float:
    """The worst mirrored lid or brow measure difference of the model's own landmarks."""
    flipped = analyze_image(np.ascontiguousarray(rgb[:, ::-1]), refine=False)
    return _worst(measure_landmarks(analysis.landmarks_px).measures, flipped.measures)


def _worst(measures: dict[str, float], flipped: dict[str, float]) -> float:
    return max(
        abs(measures[f"{m}_{s}_mm"] - flipped[f"{m}_{o}_mm"])
        for m in MIRRORED
        for s, o in (("left", "right"), ("right", "left"))
    )


def _partner(region: str) -> str:
    stem, side = region.rsplit("_", 1)
    return f"{stem}_{'right' if side == 'left' else 'left'}"


def _summary(values: list[float]) -> str:
    if not values:
        return "n = 0"
    v = np.array(values)
    return (
        f"n = {len(v)}, min {v.min():.2f} mm, 5th percentile {np.percentile(v, 5):.2f} mm, "
        f"median {np.median(v):.2f} mm, under 2 mm: {int(np.sum(v < 2))}"
    )


def open_eyes_and_mirrors(found: list[Session]) -> None:
    for label, prepare in (("own size", lambda x: x), ("320 px wide, grey", low)):
        open_eyes: dict[str, list[float]] = {"rest": [], "one eye shut": [], BELL: []}
        shut_read, shut_n, alike, regions, answers, worst, model_worst = 0, 0, 0, 0, 0, [], 0.0
        for session in found:
            rgb = prepare(photo(session.rest))
            try:
                rest = analyze_image(rgb)
            except AnalyzerError as error:
                print(f"  {session.name}: {error}")
                continue
            cases = [("rest", rgb, rest, None)]
            for side in topology.SIDES:
                for kind, warp in (("one eye shut", shut_eye), (BELL, hide_iris)):
                    made = warp(rgb, rest.landmarks_px, side)
                    cases.append((kind, made, analyze_image(made), side))
            for kind, image, analysis, side in cases:
                for eye in topology.SIDES:
                    if kind == "one eye shut" and eye == side:
                        shut_n += 1
                        shut_read += analysis.refinement.notes[f"eye_{eye}"] == "shut"
                    else:
                        open_eyes[kind if eye == side or kind == "rest" else "rest"].append(
                            fissure(analysis, eye)
                        )
                a, n, same, w = mirror_check(image, analysis)
                alike, regions, answers = alike + a, regions + n, answers + same
                worst.append((w, same == 2 and a == n))
                model_worst = max(model_worst, mirror_model_alone(image, analysis))
                notes = {
                    k: v.split(":")[0][:12]
                    for k, v in analysis.refinement.notes.items()
                    if k.startswith("eye")
                }
                print(
                    f"  {session.name:38s} {kind:13s} {side or '':5s} fissure L "
                    f"{fissure(analysis, 'left'):5.2f} R {fissure(analysis, 'right'):5.2f} "
                    f"{notes}  mirror: {a}/{n}, {same}/2 answers, worst {w:.2f} mm"
                )
        print(
            f"{label}: open eyes (rest, and the untouched eye of warps): "
            f"{_summary(open_eyes['rest'])}"
        )
        print(f"{label}: Bell's phenomenon eyes: {_summary(open_eyes[BELL])}")
        print(f"{label}: warped shut eyes read shut: {shut_read} of {shut_n}")
        print(
            f"{label}: mirrored: {alike} of {regions} regions refined alike, {answers} of "
            f"{regions // 2} eyes given the same answer; worst measure difference "
            f"{max(w for w, _ in worst):.2f} mm, {max(w for w, a in worst if a):.2f} mm "
            f"in the {sum(a for _, a in worst)} of {len(worst)} photos read alike; the model "
            f"alone {model_worst:.2f} mm"
        )


def real_winks(found: list[Session]) -> None:
    for label, prepare in (("own size", lambda x: x), ("320 px wide, grey", low)):
        ratios, open_closure = [], []
        for session in found:
            if session.closed is None:
                continue
            rest_rgb, closed_rgb = prepare(photo(session.rest)), prepare(photo(session.closed))
            try:
                rest_px = analyze_image(rest_rgb, refine=False).landmarks_px
                closed_px = analyze_image(closed_rgb, refine=False).landmarks_px
            except AnalyzerError as error:
                print(f"  {session.name}: {error}")
                continue
            for side in topology.SIDES:
                other = "right" if side == "left" else "left"
                image = composite(
                    rest_rgb, rest_px, closed_rgb, closed_px, side, "gentle eye closure"
                )
                reading = readings("gentle eye closure", rest_rgb, rest_px, image)["analyzer"]
                ratios.append(ratio(reading[side], reading[other]))
                open_closure.append(reading[other])
                print(
                    f"  {session.name:38s} {side:5s} shut: closure {reading[side]:6.1f} %, "
                    f"open eye {reading[other]:6.1f} %, ratio {ratios[-1]:5.1f} %"
                )
        r = np.array(ratios)
        print(
            f"{label}: real winks n = {len(r)}, side ratio median {np.nanmedian(r):.1f} %, "
            f"max {np.nanmax(r):.1f} %, over 20 %: {int(np.sum(r > 20))}; open eye's "
            f"closure {min(open_closure):.1f} to {max(open_closure):.1f} %"
        )


def resolution(path: Path) -> None:
    original = load_photo(path)
    read: dict[str, list[float]] = {}
    for height in (480, 720, 1080, 4000):
        scale = height / original.shape[0]
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        rgb = cv2.resize(original, None, fx=scale, fy=scale, interpolation=interpolation)
        analysis = analyze_image(rgb)
        model = measure_landmarks(analysis.landmarks_px).measures
        for side in topology.SIDES:
            read.setdefault(side, []).append(fissure(analysis, side))
            read.setdefault(f"{side}, model alone", []).append(
                model[f"palpebral_fissure_height_{side}_mm"]
            )
        notes = {
            k: v.split(":")[0][:12]
            for k, v in analysis.refinement.notes.items()
            if k.startswith("eye")
        }
        print(
            f"  {height:5d} px high (iris {analysis.iris_px:5.1f} px): fissure L "
            f"{fissure(analysis, 'left'):.2f} R {fissure(analysis, 'right'):.2f}",
            notes,
        )
    for name, values in read.items():
        print(f"resolution: {name} fissure ranges over {np.ptp(values):.2f} mm")


def iris_widths(found: list[Session]) -> None:
    """The lid finder at small iris widths, with its own floor (``lids.MIN_IRIS_PX``) lifted:
    how far each open eye's fissure moves from the same photo's at full size, how many open
    eyes read under 2 mm, and how many shut eyes are still read shut."""
    floor, lids.MIN_IRIS_PX = lids.MIN_IRIS_PX, 0.0
    rows: dict[int, dict[str, list[float]]] = {}
    try:
        for path, is_open in [(s.rest, True) for s in found] + [
            (s.closed, False) for s in found if s.closed is not None
        ]:
            rgb = photo(path)
            full = analyze_image(rgb)
            if full.iris_px < 30:
                continue
            for target in IRIS_TARGETS_PX:
                scale = target / full.iris_px
                small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                small = cv2.cvtColor(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
                try:
                    analysis = analyze_image(small)
                except AnalyzerError:
                    continue
                row = rows.setdefault(target, {"off": [], "open": [], "shut": []})
                for side in topology.SIDES:
                    if is_open:
                        row["off"].append(abs(fissure(analysis, side) - fissure(full, side)))
                        row["open"].append(fissure(analysis, side))
                    else:
                        row["shut"].append(analysis.refinement.notes[f"eye_{side}"] == "shut")
    finally:
        lids.MIN_IRIS_PX = floor
    for target, row in sorted(rows.items()):
        off = np.array(row["off"])
        print(
            f"iris {target:2d} px, the finder at work: open eyes n = {len(off)}, fissure off "
            f"the full size's by median {np.median(off):.2f} mm, worst {off.max():.2f} mm, "
            f"under 2 mm: {sum(v < 2 for v in row['open'])}; shut eyes read shut: "
            f"{sum(row['shut'])} of {len(row['shut'])}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--resolution", type=Path, help="one photo to read at four sizes")
    parser.add_argument("--iris", action="store_true", help="also read at small iris widths")
    parser.add_argument(
        "--only",
        choices=["open", "winks"],
        nargs="*",
        default=None,
        help="run only these of the default sections",
    )
    args = parser.parse_args()
    found = sessions(args.folder)
    print(
        f"{len(found)} resting photos, {sum(s.closed is not None for s in found)} with an "
        "eyes-closed photo of the same session"
    )
    only = ["open", "winks"] if args.only is None else args.only
    if "open" in only:
        open_eyes_and_mirrors(found)
    if "winks" in only:
        real_winks(found)
    if args.resolution:
        resolution(args.resolution)
    if args.iris:
        iris_widths(found)


if __name__ == "__main__":
    main()
