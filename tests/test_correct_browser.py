"""Correcting a point in a real browser (Debian's Chromium, driven by Playwright): open a
capture of the sample face from Trends, move the subject's left mouth corner 10 px down with
two clicks on the enlarged mouth, see ``commissure_height_diff_mm`` change by what the pure
functions give for that move, undo it, and find the correction marked on Trends. Screenshots
of the Correct view are written to ``out/screenshots/``."""

from __future__ import annotations

import datetime as dt
import re
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select

from analyzer.history.corrections import local_user
from analyzer.history.datadir import PhotoStore
from analyzer.history.importer import import_folder, stored_photo
from analyzer.history.storage import Capture, LandmarkCorrection, open_database
from analyzer.measure.analysis import measure_landmarks
from analyzer.measure.correction import apply_corrections, contours_through
from analyzer.measure.topology import CORRECTABLE, LEFT
from analyzer.present.visuals import region_zoom
from tests.conftest import write_photo_variants
from tests.test_browser import ARGS, CHROMIUM, SCREENSHOTS, is_media_photo, serving

expect.set_options(timeout=30_000)
COMPONENT = 'iframe[title="streamlit_image_coordinates.streamlit_image_coordinates"]'
MEASURE = "commissure_height_diff_mm"


@pytest.fixture
def history(tmp_path):
    """Ana's history: the sample face on two days, photos kept."""
    data = tmp_path / "data"
    write_photo_variants(tmp_path / "in", ["2026-01-05_a.jpg", "2026-02-05_a.jpg"])
    db = open_database(f"sqlite:///{data / 'analyzer.db'}")
    import_folder(db, PhotoStore(data / "photos"), tmp_path / "in", "Ana")
    with db.transaction() as session:
        capture = session.scalars(select(Capture).order_by(Capture.taken_at.desc())).first()
        automatic = capture.measured_px()
        rgb = stored_photo(PhotoStore(data / "photos"), capture)
    db.close()
    return data, capture.id, automatic, rgb


def shown_value(page, *, other_than: float | None = None, equal_to: float | None = None) -> float:
    """The corrected (after) value of the measure in the page's table, once it is other than
    (or equal to) the value given: the table is drawn after the rest of the page."""
    deadline = time.monotonic() + 30
    while True:
        row = page.locator("tr", has_text=MEASURE).first
        numbers = re.findall(r"[-+−]?\d+\.\d+", row.inner_text())
        value = float(numbers[-2].replace("−", "-"))  # automatic, corrected, change
        settled = (other_than is None or value != other_than) and (
            equal_to is None or value == equal_to
        )
        if settled or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(200)


def test_move_the_left_mouth_corner_see_the_measure_follow_and_undo(history):
    data, capture_id, automatic, rgb = history
    points = CORRECTABLE["mouth"]
    contours = list(dict.fromkeys(c for i in points.values() for c in contours_through(i)))
    # The page draws the same enlargement: clicks are aimed with it.
    zoom = region_zoom(rgb, automatic, list(points.values()), contours, automatic_px=automatic)
    corner = automatic[LEFT.mouth_corner, :2]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with serving(data) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2000})
        page.set_default_timeout(90_000)
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{url}/trends")
        expect(page.get_by_role("heading", name="Trends")).to_be_visible()
        page.get_by_role("button", name="Open it in Correct").click()
        expect(page.get_by_role("heading", name="Correct")).to_be_visible()
        expect(page.get_by_role("combobox", name="Capture")).to_have_value(
            re.compile(rf"\(capture {capture_id}\)$")
        )
        page.get_by_text("mouth", exact=True).click()
        expect(page.get_by_text("Measures of the mouth")).to_be_visible()
        picture = page.frame_locator(COMPONENT).locator("img#image")
        expect(picture).to_be_visible()
        page.wait_for_timeout(1000)  # the component sizes its frame once the picture loads
        before = shown_value(page)
        assert before == pytest.approx(measure_landmarks(automatic).measures[MEASURE], abs=0.006)
        box = picture.bounding_box()
        shown = box["width"] / zoom.image.shape[1]

        def click(x: float, y: float) -> None:
            expect(page.locator(COMPONENT)).to_have_count(1)  # the page has settled
            u, v = zoom.to_image(x, y)
            picture.click(position={"x": u * shown, "y": v * shown})

        click(*corner)
        expect(page.get_by_text("Selected: left mouth corner (291)")).to_be_visible()
        page.wait_for_timeout(500)
        page.screenshot(path=str(SCREENSHOTS / "correct-selected.png"), full_page=True)
        click(corner[0], corner[1] + 10.0)
        expect(page.get_by_text("Moved the left mouth corner (291)")).to_be_visible()
        expect(page.get_by_role("button", name=re.compile(r"^Undo"))).to_be_visible()
        after = shown_value(page, other_than=before)
        page.wait_for_timeout(500)
        page.screenshot(path=str(SCREENSHOTS / "correct-moved.png"), full_page=True)

        db = open_database(f"sqlite:///{data / 'analyzer.db'}")
        with db.transaction() as session:
            (row,) = session.scalars(select(LandmarkCorrection)).all()
            placed = (row.new_x, row.new_y)
            assert row.capture_id == capture_id and row.landmark == LEFT.mouth_corner
            assert row.corrected_by == local_user()
        db.close()
        # Where the click put it: 10 px down, to within a click's precision.
        assert placed[0] == pytest.approx(corner[0], abs=0.6)
        assert placed[1] - corner[1] == pytest.approx(10.0, abs=0.6)
        pure = measure_landmarks(apply_corrections(automatic, {LEFT.mouth_corner: placed}))
        change = pure.measures[MEASURE] - measure_landmarks(automatic).measures[MEASURE]
        assert after - before == pytest.approx(change, abs=0.011)
        assert change < -3  # the corner is lower on the left: the difference falls

        page.get_by_role("button", name=re.compile(r"^Undo")).click()
        expect(page.get_by_text("Undid the last move of the left mouth corner")).to_be_visible()
        assert shown_value(page, equal_to=before) == before

        # Corrected again, the capture is marked where it appears.
        click(*corner)
        expect(page.get_by_text("Selected: left mouth corner (291)")).to_be_visible()
        click(corner[0], corner[1] + 10.0)
        expect(page.get_by_text("Moved the left mouth corner (291)")).to_be_visible()
        mark = f"corrected by {local_user()} on {dt.date.today().isoformat()}: 1 point"
        page.get_by_role("link", name="Trends").click()
        expect(page.get_by_role("heading", name="Trends")).to_be_visible()
        expect(page.get_by_text("1 capture(s) here have points corrected by hand")).to_be_visible()
        expect(page.get_by_text(f"rest (capture {capture_id}): {mark}")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / "trends-corrected.png"), full_page=True)
        page.get_by_role("link", name="Compare").click()
        expect(page.get_by_role("heading", name="Compare")).to_be_visible()
        after_photo = f"The after photo (capture {capture_id}) is {mark}"
        expect(page.get_by_text(after_photo)).to_be_visible()
        assert "Traceback" not in page.inner_text("body")
        browser.close()
    hosts = {urlsplit(u).hostname for u in requested if urlsplit(u).scheme in ("http", "https")}
    assert hosts == {"127.0.0.1"}
    # The enlarged photo travels inside the page, never through the media endpoint.
    assert not [u for u in requested if is_media_photo(u)]
