"""The demo person: real sample photos over several sessions, with a known induced change.

So that every page of the dashboard shows real content on first run, the demo person gets
six sessions two weeks apart, three re-captures each (``warps.recapture``, after random
0.3-mm moves of the mouth corners and brows, as a face is never held quite the same) of the
astronaut portrait. From the fourth session, tagged ``microcurrent``, the subject's left
mouth corner is lifted by ``LIFT_MM`` (a known-change warp): the change the dashboard should
find.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from analyzer import topology
from analyzer.analysis import analyze_image
from analyzer.datadir import PhotoStore
from analyzer.imaging import load_photo
from analyzer.importer import save_capture
from analyzer.storage import Database, get_person
from analyzer.warps import feature_change, recapture

SAMPLE_IMAGES = Path(__file__).resolve().parents[1] / "sample_images"
DEMO_PERSON = "Demo (sample photos)"
DEMO_MARKER = ".demo-created"
SESSIONS, PER_SESSION, TREATED_FROM = 6, 3, 3
LIFT_MM = 2.0
FIRST_DAY = dt.datetime(2026, 6, 1, 9, 0)


def sample_photo() -> np.ndarray:
    """The astronaut portrait, upscaled ×2 so that its iris is about 17 px wide."""
    rgb = load_photo(SAMPLE_IMAGES / "astronaut.png")
    return cv2.resize(rgb, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)


def _small_expression_change(rgb: np.ndarray, reference, rng: np.random.Generator) -> np.ndarray:
    """A face held a little differently each time: each mouth corner and brow moved by a
    random 0.3 mm (SD), as between real repeat photos."""
    frame, scale, points = reference.measurement.frame, reference.mm_per_px, reference.landmarks_px
    for side in (topology.LEFT, topology.RIGHT):
        for index, reach in ((side.mouth_corner, 10.0), (side.brow_upper[2], (15.0, 6.0))):
            shift = (float(rng.normal(0, 0.3)), float(rng.normal(0, 0.3)))
            rgb = feature_change(frame, scale, points[index, :2], shift, reach).apply_to_photo(rgb)
    return rgb


def ensure_demo(
    db: Database, store: PhotoStore, progress: Callable[[int, int], None] | None = None
) -> bool:
    """Create the demo person once per data folder; returns True when it was created now.

    A marker file remembers that it was made, so a user who deletes the demo person does not
    get them back on the next start.
    """
    marker = store.root.parent / DEMO_MARKER
    with db.transaction() as session:
        if marker.exists() or get_person(session, DEMO_PERSON) is not None:
            return False
    rng = np.random.default_rng(7)
    base = sample_photo()
    reference = analyze_image(base)
    lifted = feature_change(
        reference.measurement.frame, reference.mm_per_px,
        reference.landmarks_px[topology.LEFT.mouth_corner, :2], (0.0, LIFT_MM), 12.0,
    ).apply_to_photo(base)  # fmt: skip
    total = SESSIONS * PER_SESSION
    for s in range(SESSIONS):
        when = FIRST_DAY + dt.timedelta(days=14 * s)
        source = lifted if s >= TREATED_FROM else base
        tags = ["microcurrent"] if s >= TREATED_FROM else []
        for c in range(PER_SESSION):
            photo = recapture(_small_expression_change(source, reference, rng), rng)
            buffer = io.BytesIO()
            Image.fromarray(photo).save(buffer, format="JPEG", quality=92)
            save_capture(
                db, store, DEMO_PERSON, buffer.getvalue(), ".jpg", analyze_image(photo),
                taken_at=when + dt.timedelta(minutes=c), tags=tags,
                source_name=f"demo-session{s + 1}-{c + 1}.jpg",
            )  # fmt: skip
            if progress:
                progress(s * PER_SESSION + c + 1, total)
    marker.write_text("The demo person was created here once; delete this file to recreate.\n")
    return True
