"""Shared fixtures: the real sample photo through the real model, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from analyzer.measure.analysis import FaceAnalysis, analyze_image
from analyzer.measure.imaging import load_photo

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_images" / "astronaut.png"
SECOND_SAMPLE = ROOT / "sample_images" / "grace_hopper.jpg"
#: What a failed browser test saw (the page's text, the app's log), written as it fails and
#: printed at the end of the run, also when the rerun passed: a flaky page stays visible.
BROWSER_FAILURES = ROOT / "out" / "browser-failures.log"


def note_browser_failure(text: str) -> None:
    """Print ``text`` (shown with the failure) and keep it for the end of the run."""
    print(text)
    BROWSER_FAILURES.parent.mkdir(parents=True, exist_ok=True)
    with BROWSER_FAILURES.open("a") as log:
        log.write(text + "\n\n")


def pytest_sessionstart(session) -> None:
    BROWSER_FAILURES.unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter) -> None:
    if BROWSER_FAILURES.exists():
        terminalreporter.section("what failed browser tests saw (reruns included)")
        terminalreporter.write_line(BROWSER_FAILURES.read_text()[-12_000:])


@pytest.fixture(scope="session")
def sample_path() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def face_rgb() -> np.ndarray:
    """The astronaut portrait upscaled ×2 (1024 px): its iris is then ~17 px wide."""
    rgb = load_photo(SAMPLE)
    return cv2.resize(rgb, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)


@pytest.fixture(scope="session")
def face_analysis(face_rgb: np.ndarray) -> FaceAnalysis:
    return analyze_image(face_rgb)


@pytest.fixture(scope="session")
def second_face_rgb() -> np.ndarray:
    """Grace Hopper's portrait at its own resolution (iris ~17 px; glasses, cap)."""
    return load_photo(SECOND_SAMPLE)


@pytest.fixture(scope="session")
def second_face_analysis(second_face_rgb: np.ndarray) -> FaceAnalysis:
    return analyze_image(second_face_rgb)


# --- storage ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server on loopback for the whole test run (never skipped)."""
    from tests.postgres import PostgresServer

    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'analyzer.db'}"
    return request.getfixturevalue("postgres_server").url()


def write_photo_variants(folder: Path, names: list[str], source: Path = SAMPLE) -> list[Path]:
    """Distinct photo files of the same real face (each slightly rescaled, so their bytes
    differ), saved as JPEG under the given names."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    base = Image.open(source).convert("RGB")
    paths = []
    for i, name in enumerate(names):
        side = 900 + 7 * i
        path = folder / name
        base.resize((side, side * base.height // base.width)).save(path, quality=92)
        paths.append(path)
    return paths


def save_smile_sessions(data: Path, face_rgb, face_analysis, name: str, affected_side: str) -> None:
    """Two protocol sessions (rest and broad smile) of a person whose right side recovers:
    the smile lifts the left corner 5 mm both times and the right 1 mm, then 4 mm."""
    import datetime as dt
    import io

    from PIL import Image

    from analyzer.history.datadir import PhotoStore
    from analyzer.history.importer import save_capture
    from analyzer.history.storage import get_or_create_person, open_database
    from analyzer.measure import topology
    from analyzer.measure.warps import feature_change, recapture

    db = open_database(f"sqlite:///{data / 'analyzer.db'}")
    store = PhotoStore(data / "photos")
    with db.transaction() as session:
        get_or_create_person(session, name, affected_side)
    frame, scale = face_analysis.measurement.frame, face_analysis.mm_per_px
    points = face_analysis.landmarks_px
    for month, (left_mm, right_mm) in ((1, (5.0, 1.0)), (3, (5.0, 4.0))):
        when = dt.datetime(2026, month, 2, 10)
        smile = face_rgb
        for side, lift in ((topology.LEFT, left_mm), (topology.RIGHT, right_mm)):
            change = feature_change(frame, scale, points[side.mouth_corner, :2], (0.0, lift), 10.0)
            smile = change.apply_to_photo(smile)
        # Each session's rest photo is a fresh re-capture (the same bytes are stored once).
        rest = recapture(face_rgb, np.random.default_rng(month))
        for k, (expression, rgb) in enumerate((("rest", rest), ("broad smile", smile))):
            buffer = io.BytesIO()
            Image.fromarray(rgb).save(buffer, format="JPEG", quality=92)
            analysis = analyze_image(rgb, expression=expression)
            taken = when + dt.timedelta(minutes=k)
            save_capture(
                db,
                store,
                name,
                buffer.getvalue(),
                ".jpg",
                analysis,
                taken_at=taken,
                expression=expression,
            )
    db.close()
