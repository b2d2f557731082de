"""Does the live camera fire on faces it has never seen? Run on your own photos.

Usage::

    .venv/bin/python scripts/live_many_faces.py PHOTO_OR_FOLDER ... [--glob '*rest*']
        [--json OUT] [--variants plain,mirrored,grey,lowres,quarter]

Each photo is framed as a 640 × 480 webcam frames it, in several variants (as it is,
mirrored, greyscale, shot at 320 × 240 and enlarged, the face a quarter of the frame's
width). For each variant the frame is the person's baseline (read as a live frame is read,
``guidance.live_target``) and a still clip of it (fresh sensor noise on every frame, 15 fps)
is played into a ``LiveSession`` (``analyzer.capture.replay``), no browser. A face passes
when every gauge goes green and the shutter fires within 3 s of clip time, and the saved
burst measures each followed measure within the within-session noise of the baseline
photo measured as a still (40 views, lids and brows found): |burst − still| at most the
95 % limit of two captures of one session, 1.96 × √2 × SD_within. It prints one line per
clip and the totals: the share fired, the worst face's gauge, the worst measure. No photo
is kept or copied anywhere.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.capture.burst import burst_analysis  # noqa: E402
from analyzer.capture.guidance import live_target, still_frames  # noqa: E402
from analyzer.capture.replay import replay  # noqa: E402
from analyzer.errors import AnalyzerError  # noqa: E402
from analyzer.history.catalog import FOLLOWED, default_within_sd  # noqa: E402
from analyzer.measure.analysis import analyze_image  # noqa: E402
from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.landmarks import detect_landmarks  # noqa: E402
from analyzer.measure.warps import webcam_framing  # noqa: E402

FIRE_WITHIN_S = 3.0
#: 6 s of a 15-fps clip: time to fire (3 s at most) and to collect the burst.
CLIP_FRAMES = 90
VARIANTS = ("plain", "mirrored", "grey", "lowres", "quarter")
SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".heic")


def variant_frame(rgb: np.ndarray, landmarks: np.ndarray, variant: str) -> np.ndarray:
    """The photo framed by a 640 × 480 webcam, as ``variant`` says."""
    if variant == "quarter":
        return webcam_framing(rgb, landmarks, face_share=0.25)
    frame = webcam_framing(rgb, landmarks)
    if variant == "mirrored":
        return np.ascontiguousarray(frame[:, ::-1])
    if variant == "grey":
        return np.repeat(frame.mean(axis=2, keepdims=True), 3, axis=2).astype(np.uint8)
    if variant == "lowres":
        import cv2

        small = cv2.resize(frame, (320, 240), interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (640, 480), interpolation=cv2.INTER_LINEAR)
    return frame


def noise_limit(name: str) -> float:
    """How far two captures of one session may differ (95 %): 1.96 × √2 × SD_within."""
    return 1.96 * math.sqrt(2) * float(default_within_sd(name) or 0.0)


def check_clip(frame: np.ndarray, seed: int) -> dict:
    """One clip of ``frame`` with ``frame`` as the baseline: fired, when, gauges, measures."""
    target = live_target(frame)
    still = analyze_image(frame)
    run = replay(still_frames(frame, CLIP_FRAMES, seed=seed + 1), target)
    found: dict = {
        "fired_at_s": run.fired_at_s,
        "not_green": run.not_green,
        "held_back": run.held_back,
        "frames": run.frames_played,
    }
    if run.taken is None or run.taken.result is None:
        found["burst_error"] = run.taken.error if run.taken else "never fired"
        return found
    saved = burst_analysis(run.taken.frames, run.taken.result).measures
    ratios = {
        n: abs(saved[n] - still.measures[n]) / noise_limit(n)
        for n in FOLLOWED
        if n in saved and n in still.measures and noise_limit(n) > 0
    }
    worst = max(ratios, key=ratios.get)
    found.update(
        burst_size=run.taken.result.size,
        worst_measure=worst,
        worst_difference=round(saved[worst] - still.measures[worst], 3),
        worst_share_of_noise=round(ratios[worst], 3),
        within_noise=ratios[worst] <= 1.0,
    )
    return found


def describe(found: dict) -> str:
    """One clip's findings in a line."""
    when = found["fired_at_s"]
    words = (
        f"fired at {when:.2f} s"
        if found["fired"]
        else "NOT FIRED"
        + (f" (fired only at {when:.2f} s)" if when else "")
        + f", last gauges {found['not_green']} {found.get('burst_error', '')}"
    )
    if found.get("held_back"):
        words += f"; held back by {found['held_back']} (frames)"
    if "worst_measure" in found:
        words += (
            f"; burst's worst {found['worst_measure']} {found['worst_difference']:+.2f}"
            f" ({found['worst_share_of_noise']:.2f} of the noise limit)"
        )
    return words


def photos_in(paths: list[Path], pattern: str) -> list[Path]:
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob(pattern) if p.suffix.lower() in SUFFIXES)
        else:
            found.append(path)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", type=Path, nargs="+")
    parser.add_argument("--glob", default="*", help="photos to take from a folder")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--json", type=Path, help="also write every clip's findings here")
    args = parser.parse_args(argv)
    variants = args.variants.split(",")
    results = []
    for index, path in enumerate(photos_in(args.paths, args.glob)):
        try:
            rgb = load_photo(path)
            landmarks = detect_landmarks(rgb).landmarks
        except AnalyzerError as error:
            print(f"{path.name}: not a usable photo ({error})")
            continue
        for variant in variants:
            try:
                found = check_clip(variant_frame(rgb, landmarks, variant), seed=index)
            except AnalyzerError as error:
                found = {"fired_at_s": None, "not_green": {}, "burst_error": str(error)}
            fired = found["fired_at_s"] is not None and found["fired_at_s"] <= FIRE_WITHIN_S
            found.update(photo=str(path), variant=variant, fired=fired)
            results.append(found)
            print(f"{path.parent.name}/{path.name} [{variant}]: {describe(found)}")
    n = len(results)
    if not n:
        print("No photos.")
        return 1
    fired = [r for r in results if r["fired"]]
    within = [r for r in fired if r.get("within_noise")]
    print(
        f"\n{len(fired)} of {n} clips fired within {FIRE_WITHIN_S:.0f} s "
        f"({100 * len(fired) / n:.0f} %); {len(within)} of {len(fired)} bursts within the "
        "within-session noise of the baseline."
    )
    unfired = [r for r in results if not r["fired"]]
    for r in unfired:
        print(f"  not fired: {r['photo']} [{r['variant']}]: {r['not_green']}")
    if fired:
        worst = max(fired, key=lambda r: r.get("worst_share_of_noise", 0.0))
        print(
            f"  worst burst: {Path(worst['photo']).name} [{worst['variant']}], "
            f"{worst.get('worst_measure')} {worst.get('worst_difference'):+.2f} "
            f"({worst.get('worst_share_of_noise'):.2f} of the noise limit)"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
