"""The video upload in a real browser: a short clip made from the sample face (rest, then a
smile stronger on the left), its time line on the Capture page, saved as two captures. A
screenshot is written to ``out/screenshots/capture-video.png``."""

from __future__ import annotations

from playwright.sync_api import expect, sync_playwright

from analyzer.history.storage import Capture, open_database
from analyzer.video.decode import encode
from analyzer.video.synthetic import Hold, clip_frames
from tests.test_browser import ARGS, CHROMIUM, SCREENSHOTS, server  # noqa: F401 (a fixture)


def test_a_video_upload_shows_its_time_line_and_saves_its_captures(
    server,  # noqa: F811 (the fixture imported above)
    tmp_path,
    face_rgb,
    face_analysis,
):
    url, data = server
    clip = tmp_path / "smile.mp4"
    holds = [
        Hold(None, hold_s=0.0, ramp_s=0.0, rest_s=1.0),
        Hold("broad smile", 6.0, 3.0, hold_s=1.0, ramp_s=0.3, rest_s=0.3),
    ]
    encode(clip, clip_frames(face_rgb, face_analysis, holds, 10), 10)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.set_default_timeout(120_000)
        page.goto(url)
        page.get_by_role("tab", name="Upload a video").click()
        page.locator("input[type=file][accept*='.mp4']").set_input_files(str(clip))
        expect(page.locator(".js-plotly-plot").first).to_be_visible()
        expect(page.get_by_text("peak").first).to_be_visible()
        save = page.get_by_role("button", name="Save the rest and 1 movement(s)")
        expect(save).to_be_visible()
        page.wait_for_timeout(1500)  # let the chart draw
        page.screenshot(path=str(SCREENSHOTS / "capture-video.png"), full_page=True)
        save.click()
        expect(page.get_by_text("Saved 2 capture(s) from smile.mp4")).to_be_visible()
        assert "Traceback" not in page.inner_text("body")
        browser.close()
    db = open_database(f"sqlite:///{data / 'analyzer.db'}")
    with db.transaction() as session:
        stored = session.query(Capture).filter(Capture.source_name.like("smile.mp4 @%")).all()
        assert sorted(c.expression for c in stored) == ["broad smile", "rest"]
    db.close()
