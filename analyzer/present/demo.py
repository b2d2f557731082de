"""The demo person: real sample photos over several sessions, with a known induced change.

So that every page of the dashboard shows real content on first run, the demo person gets
six sessions two weeks apart, three re-captures each (``warps.recapture``, after random
0.3-mm moves of the mouth corners and brows, as a face is never held quite the same) of the
astronaut portrait. From the fourth session, tagged ``microcurrent``, the subject's left
mouth corner is lifted by ``LIFT_MM`` (a known-change warp): the change the dashboard should
find.

A second demo person follows the palsy protocol: a right-sided palsy recovering over four
monthly sessions, each with all seven expressions imitated on the same portrait
(``warps.imitate``): the left side moves fully, the right side by ``RECOVERY`` of it, and
from the third session the right eye narrows during the smile (synkinesis, as in aberrant
regeneration).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from analyzer.history.datadir import PhotoStore, data_dir, write_private
from analyzer.history.importer import save_capture
from analyzer.history.photos import AnyPhotoStore
from analyzer.history.storage import Database, get_or_create_person, get_person
from analyzer.measure import topology
from analyzer.measure.analysis import analyze_image
from analyzer.measure.imaging import load_photo
from analyzer.measure.warps import feature_change, imitate, recapture

SAMPLE_IMAGES = Path(__file__).resolve().parents[2] / "sample_images"
DEMO_PERSON = "Demo (sample photos)"
DEMO_MARKER = ".demo-created"
SESSIONS, PER_SESSION, TREATED_FROM = 6, 3, 3
LIFT_MM = 2.0
FIRST_DAY = dt.datetime(2026, 6, 1, 9, 0)

DEMO_PALSY_PERSON = "Demo palsy patient (sample photos)"
#: The right side's movement as a share of the left's, session by session.
RECOVERY = (0.15, 0.4, 0.65, 0.85)
#: The right eye's narrowing during the smile (share of its resting fissure), by session.
SYNKINESIS = (0.0, 0.0, 0.15, 0.25)
#: Each expression of the protocol as an imitated movement and its full amount: mm, or for
#: the lids a share of the resting fissure height.
PROTOCOL = {
    "brow raise": ("brow raise", 4.0),
    "gentle eye closure": ("eye closure", 0.6),
    "full eye closure": ("eye closure", 0.85),
    "broad smile": ("broad smile", 6.0),
    "snarl": ("snarl", 3.0),
    "lip pucker": ("lip pucker", 4.0),
}


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


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def _protocol_photos(base: np.ndarray, reference, session: int) -> dict[str, np.ndarray]:
    """One palsy session's seven expressions of the portrait (before re-capturing)."""
    frame, scale, points = reference.measurement.frame, reference.mm_per_px, reference.landmarks_px
    fissure = {
        side: reference.measures[f"palpebral_fissure_height_{side}_mm"]
        for side in ("left", "right")
    }
    photos = {"rest": base}
    for expression, (movement, amount) in PROTOCOL.items():
        left = amount * (fissure["left"] if movement == "eye closure" else 1.0)
        right = (
            RECOVERY[session] * amount * (fissure["right"] if movement == "eye closure" else 1.0)
        )
        photo, _ = imitate(base, points, frame, scale, movement, left, right)
        if expression == "broad smile" and SYNKINESIS[session]:
            narrowing = SYNKINESIS[session] * fissure["right"]
            photo, _ = imitate(photo, points, frame, scale, "eye closure", 0.0, narrowing)
        photos[expression] = photo
    return photos


def ensure_demo(
    db: Database, store: AnyPhotoStore, progress: Callable[[int, int], None] | None = None
) -> bool:
    """Create the demo people once per data folder; returns True when they were created now.

    A marker file remembers that they were made, so a user who deletes a demo person does
    not get them back on the next start.
    """
    # Over 60 lines on purpose: the two demo people's sessions are written in the order a person
    # would take them.
    folder = store.root.parent if isinstance(store, PhotoStore) else data_dir()
    marker = folder / DEMO_MARKER
    with db.transaction() as session:
        if marker.exists() or get_person(session, DEMO_PERSON) is not None:
            return False
    rng = np.random.default_rng(7)
    base = sample_photo()
    reference = analyze_image(base)
    lifted = feature_change(
        reference.measurement.frame,
        reference.mm_per_px,
        reference.landmarks_px[topology.LEFT.mouth_corner, :2],
        (0.0, LIFT_MM),
        12.0,
    ).apply_to_photo(base)
    total = SESSIONS * PER_SESSION + len(RECOVERY) * (len(PROTOCOL) + 1)
    for s in range(SESSIONS):
        when = FIRST_DAY + dt.timedelta(days=14 * s)
        source = lifted if s >= TREATED_FROM else base
        tags = ["microcurrent"] if s >= TREATED_FROM else []
        for c in range(PER_SESSION):
            photo = recapture(_small_expression_change(source, reference, rng), rng)
            save_capture(
                db,
                store,
                DEMO_PERSON,
                _jpeg(photo),
                ".jpg",
                analyze_image(photo),
                taken_at=when + dt.timedelta(minutes=c),
                tags=tags,
                source_name=f"demo-session{s + 1}-{c + 1}.jpg",
            )
            if progress:
                progress(s * PER_SESSION + c + 1, total)
    with db.transaction() as session:
        get_or_create_person(session, DEMO_PALSY_PERSON, "right")
    done = SESSIONS * PER_SESSION
    for s in range(len(RECOVERY)):
        when = FIRST_DAY + dt.timedelta(days=28 * s)
        for c, (expression, photo) in enumerate(_protocol_photos(base, reference, s).items()):
            photo = recapture(photo, rng)
            save_capture(
                db,
                store,
                DEMO_PALSY_PERSON,
                _jpeg(photo),
                ".jpg",
                analyze_image(photo, expression=expression),
                taken_at=when + dt.timedelta(minutes=c),
                expression=expression,
                source_name=f"demo-palsy-session{s + 1}-{expression.replace(' ', '-')}.jpg",
            )
            done += 1
            if progress:
                progress(done, total)
    write_private(marker, b"The demo person was created here once; delete this file to recreate.\n")
    return True
