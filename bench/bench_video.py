"""Benchmark of reading a clip (``analyzer.video``): CPU time per frame at 640 × 480 and
1280 × 720, for decoding, one model view with refinement (``track.analyze_frame``) and
following the frame from the rest frame (``protocol.tracking.follow_expression``).

The clip is the sample face framed as a webcam frames it (the face 40 % of the width),
smiling over a one-second ramp, 20 frames, encoded as H.264. CPU time
(``time.process_time``, every thread of the process) is what one core would spend; the
machine's other work does not count in it.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/bench_video.py``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzer.measure.analysis import analyze_image  # noqa: E402
from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.warps import webcam_framing  # noqa: E402
from analyzer.video.decode import encode, frames  # noqa: E402
from analyzer.video.synthetic import Hold, clip_frames  # noqa: E402
from analyzer.video.track import track  # noqa: E402

FRAMES = 20


def main() -> None:
    photo = load_photo(ROOT / "sample_images" / "astronaut.png")
    still = analyze_image(photo)
    folder = Path(tempfile.mkdtemp())
    for size in ((640, 480), (1280, 720)):
        framed = webcam_framing(photo, still.landmarks_px, face_share=0.4, size=size)
        analysis = analyze_image(framed)
        holds = [Hold("broad smile", 5.0, 2.0, hold_s=0.0, ramp_s=1.0, rest_s=0.0)]
        clip = clip_frames(framed, analysis, holds, FRAMES)[:FRAMES]
        path = folder / f"clip_{size[0]}.mp4"
        encode(path, clip, FRAMES)
        start = time.process_time()
        decoded = sum(1 for _ in frames(path))
        decode_ms = (time.process_time() - start) / decoded * 1000
        for follow in (False, True):
            start = time.process_time()
            results = list(track(path, fps=0, follow=follow))
            per_frame = (time.process_time() - start) / len(results)
            print(
                f"{size[0]}x{size[1]} follow={follow}: {per_frame * 1000:.0f} ms CPU a frame "
                f"(decoding {decode_ms:.1f} ms), {1 / per_frame:.1f} frames a second; "
                f"{sum(r.analysis is not None for r in results)}/{len(results)} with a face"
            )


if __name__ == "__main__":
    main()
