"""Segments and names on real faces without a real video: slideshow clips of real photos.

For each set of one person's expression photos (taken minutes apart: ``at-rest``,
``eyebrows-up``, ``eyes-closed``, ``big-smile``, ``nose-wrinkle``, ``lips-puckered``, as the
development set names them) a clip is made: the rest photo held 1.2 s, then each
expression photo held 1 s with the rest photo 0.6 s between (cuts, no ramps), every frame
with fresh sensor noise, H.264 at 10 fps, 640 px wide. The clip is read as
``analyze VIDEO`` reads it (``analyzer.video.exam.read_exam``) and its movements' names are
compared with the photos'. Also printed: each track's largest reading in the first rest
segment (a real face held still: the noise the thresholds must clear).

The clips are written to a temporary folder and removed: the development photos are not
ours to publish. Run: ``.venv/bin/python scripts/video_slideshows.py FOLDER [FOLDER ...]``
(each FOLDER holds one set; ``--prefix`` for a set whose names carry one, e.g. ``face-mp-``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.video.decode import encode  # noqa: E402
from analyzer.video.exam import read_exam  # noqa: E402

STEMS = {
    "brow raise": ("eyebrows-up", "eyebrows_up"),
    "gentle eye closure": ("eyes-closed", "eyes_closed", "eyes-closed-gently"),
    "broad smile": ("big-smile", "big_smile", "big-smile-teeth-closed"),
    "snarl": ("nose-wrinkle", "nose_wrinkle"),
    "lip pucker": ("lips-puckered", "lips_puckered"),
}
REST = ("at-rest", "at_rest")
FPS = 10
WIDTH = 640


def find(folder: Path, prefix: str, stems: tuple[str, ...], suffix: str) -> Path | None:
    for stem in stems:
        hits = sorted(folder.glob(f"{prefix}{stem}{suffix}.*"))
        if hits:
            return hits[0]
    return None


def frames_of(rest: np.ndarray, expressions: list[tuple[str, np.ndarray]], rng) -> list:
    def held(rgb: np.ndarray, seconds: float) -> list[np.ndarray]:
        out = []
        for _ in range(round(seconds * FPS)):
            noise = np.rint(rng.normal(0, 2.0, rgb.shape)).astype(np.int16)
            out.append(np.clip(rgb.astype(np.int16) + noise, 0, 255).astype(np.uint8))
        return out

    clip = held(rest, 1.2)
    for _, rgb in expressions:
        clip += held(rgb, 1.0) + held(rest, 0.6)
    return clip


def sized(rgb: np.ndarray, shape: tuple[int, int] | None) -> np.ndarray:
    if shape is None:
        scale = WIDTH / rgb.shape[1]
        shape = (round(rgb.shape[0] * scale) // 2 * 2, WIDTH)
    return cv2.resize(rgb, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--prefix", default="")
    parser.add_argument(
        "--suffix", action="append", default=None, help="a set's suffix (e.g. -0, -1); repeatable"
    )
    parser.add_argument("--fps", type=float, default=5.0, help="frames analysed a second")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    right = total = extra = 0
    with tempfile.TemporaryDirectory() as temp:
        for folder in args.folders:
            for suffix in args.suffix or [""]:
                rest_path = find(folder, args.prefix, REST, suffix)
                if rest_path is None:
                    continue
                rest = sized(load_photo(rest_path), None)
                expressions = []
                for name, stems in STEMS.items():
                    path = find(folder, args.prefix, stems, suffix)
                    if path is not None:
                        expressions.append((name, sized(load_photo(path), rest.shape[:2])))
                clip = Path(temp) / "clip.mp4"
                encode(clip, frames_of(rest, expressions, rng), FPS)
                exam = read_exam(clip, fps=args.fps)
                truth = [name for name, _ in expressions]
                found = [(s.expression, s.confidence) for s in exam.movements]
                first_rest = next(s for s in exam.segments if s.kind == "rest")
                inside = exam.tracks.time_s <= first_rest.end_s
                noise = {
                    n: float(np.nanmax(np.abs(v[inside]))) for n, v in exam.tracks.values.items()
                }
                hits = sum(t == f for t, (f, _) in zip(truth, found, strict=False))
                right += hits if len(found) == len(truth) else 0
                total += len(truth)
                extra += max(0, len(found) - len(truth))
                print(f"{folder.name[:6]}{suffix or ''}: truth {truth}")
                print(f"   found {[(f, round(c, 2)) for f, c in found]}")
                print("   rest noise " + ", ".join(f"{n} {v:.2f}" for n, v in noise.items()))
    print(f"named right (where the count matched): {right} of {total}; extra segments: {extra}")


if __name__ == "__main__":
    main()
