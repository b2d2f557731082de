"""The live camera in a real browser, run by ``tests/test_live_browser.py`` inside a network
namespace of its own (``unshare --net``), so no traffic can leave it. Writes one JSON object
of findings; the test asserts on them.

``person`` (the default): the namespace is a person's computer, loopback and a LAN address
on a veth pair; Chromium runs with its stock WebRTC settings (only the fake camera's flags).
Scenarios, each a Chromium with a fake camera fed from a y4m file: a newcomer (Grace
Hopper's portrait, the face a quarter of the frame's width, an empty data folder): names
themselves, takes a webcam photo, then a live burst, and finds both on Trends; then the
sample face: steady (auto-shutter, a burst saved, shown on Trends), rolled 10°, 70 % as
large (further away), blinking now and then (the blinks left out of the burst), and
WebRTC blocked (the photo fallback still saves).

``loopback-only``: the namespace has only loopback, which no person's computer has; stock
Chromium then cannot reach the app's 127.0.0.1-only offer: the page says the live camera
could not connect, and the webcam photo saves.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402

from analyzer.history.datadir import PhotoStore  # noqa: E402
from analyzer.history.importer import save_capture  # noqa: E402
from analyzer.history.storage import Capture, open_database  # noqa: E402
from analyzer.measure.analysis import analyze_image  # noqa: E402
from analyzer.measure.conditions import CaptureConditions, analysis_conditions  # noqa: E402
from analyzer.measure.imaging import load_photo  # noqa: E402
from analyzer.measure.warps import imitate, webcam_framing  # noqa: E402
from analyzer.protocol.movement import INSTRUCTIONS  # noqa: E402

# Stock WebRTC: no --allow-loopback-in-peer-connection (a person's Chromium has none).
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
FRAMES = 30
# Pages render slower on a loaded 2-core machine than Playwright's 5-s default allows.
expect.set_options(timeout=30_000)


def webcam_frame() -> np.ndarray:
    """The sample face framed as a webcam frames it (as tests/test_browser.py does)."""
    face = load_photo(ROOT / "sample_images" / "astronaut.png")[10:350, 55:395]
    frame = np.full((480, 640, 3), 200, dtype=np.uint8)
    frame[:, 80:560] = cv2.resize(face, (480, 480), interpolation=cv2.INTER_CUBIC)
    return frame


def write_y4m(path: Path, frames: list[np.ndarray]) -> None:
    with path.open("wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\n")
        for rgb in frames:
            out.write(b"FRAME\n" + cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).tobytes())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(data: Path) -> tuple[subprocess.Popen, str]:
    """The app on a free loopback port with ``data`` as its data folder."""
    port = free_port()
    env = {**os.environ, "ANALYZER_DATA_DIR": str(data)}
    env.pop("ANALYZER_DB_URL", None)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for _ in range(120):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    return server, f"http://127.0.0.1:{port}"


def stop_app(server: subprocess.Popen, log_path: Path) -> bool:
    """Stop the app; whether its log held a traceback while it served."""
    server.terminate()
    try:
        log = server.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        server.kill()
        log = server.communicate()[0]
    log_path.write_text(log)
    return "Traceback" in log.split("Stopping...")[0]


def open_page(playwright, video: Path, viewport=(1400, 2600)):
    browser = playwright.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=[*ARGS, f"--use-file-for-fake-video-capture={video}"],
    )
    context = browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]}, permissions=["camera"]
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    return browser, page


def take_webcam_photo(page) -> None:
    """What a person does: scroll to the webcam, wait until they see themselves, take the
    photo, and take it again if nothing came of the click. (Chromium pauses a muted video
    outside the window: clicked at once after the scroll, the webcam hands over a black
    frame, which the page calls blank; a click during a rerun is lost.)"""
    found = page.get_by_text("Landmarks found")
    for _ in range(4):
        video = page.locator("[data-testid='stCameraInputWebcamComponent'] video").first
        video.scroll_into_view_if_needed()
        video.evaluate(
            "v => new Promise(done => { const t0 = v.currentTime; const check = () => "
            "v.readyState >= 2 && v.currentTime > t0 + 0.3 ? done() : "
            "setTimeout(check, 100); check(); })"
        )
        page.get_by_role("button", name="Take Photo").click()
        clear = page.get_by_role("button", name="Clear photo")
        try:
            expect(clear).to_be_visible(timeout=15_000)  # the click took a picture
        except AssertionError:
            continue  # lost in a rerun: click again
        blank = page.get_by_text("The picture is blank")
        expect(found.or_(blank)).to_be_visible(timeout=90_000)
        if found.is_visible():
            return
        clear.click()  # a black frame: clear it and take another
    expect(found).to_be_visible()


def choose_expression(page, expression: str) -> None:
    """Pick an expression in Capture's select box (a click that a rerun swallows is made
    again)."""
    for _ in range(5):
        page.get_by_label("Expression", exact=True).click()
        option = page.get_by_role("option", name=expression, exact=True)
        try:
            option.click(timeout=5_000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    expect(page.get_by_text(INSTRUCTIONS[expression])).to_be_visible()


def newcomer(playwright, work: Path, shots: Path) -> dict:
    """A new user whose face is unlike the samples (Grace Hopper, the face a quarter of the
    frame's width), in a 1280 × 720 window and an empty data folder: names themselves, takes
    a webcam photo (their baseline), then a live burst at rest, and finds both on Trends."""
    portrait = load_photo(ROOT / "sample_images" / "grace_hopper.jpg")
    frame = webcam_framing(portrait, analyze_image(portrait).landmarks_px, face_share=0.25)
    video = work / "newcomer.y4m"
    write_y4m(video, [frame] * FRAMES)
    data = work / "newcomer-data"
    server, url = start_app(data)
    result: dict[str, object] = {}
    browser, page = open_page(playwright, video, viewport=(1280, 720))
    try:
        page.goto(url)
        page.get_by_label("Name or pseudonym").fill("Grace")
        page.get_by_role("button", name="Add and go on").click()
        take_webcam_photo(page)
        page.get_by_role("button", name="Save as rest").click()
        expect(page.get_by_text("Saved (capture")).to_be_visible()
        result["photo_saved"] = True
        page.screenshot(path=str(shots / "newcomer-photo.png"), full_page=True)
        # The expression stays as chosen (the walk-through is off): rest again for the burst.
        expect(page.get_by_text(INSTRUCTIONS["rest"]).first).to_be_visible()
        choose_expression(page, "rest")
        page.locator("iframe[title*='webrtc']").first.scroll_into_view_if_needed()
        camera = page.frame_locator("iframe[title*='webrtc']").first
        camera.get_by_role("button", name="Start camera").click()
        saved = page.get_by_text("Saved (burst of")
        expect(saved).to_be_visible(timeout=90_000)
        result["message"] = saved.first.inner_text()
        page.screenshot(path=str(shots / "newcomer-live.png"), full_page=True)
        page.get_by_role("link", name="Trends").click()
        expect(page.get_by_role("heading", name="Trends")).to_be_visible()
        page.wait_for_timeout(2000)
        page.screenshot(path=str(shots / "newcomer-trends.png"), full_page=True)
        result["trends_words"] = page.inner_text("body")
        result["traceback"] = "Traceback" in page.inner_text("body")
    except Exception:
        page.screenshot(path=str(shots / "newcomer-failed.png"), full_page=True)
        (work / "newcomer-failed.txt").write_text(page.inner_text("body"))
        raise
    finally:
        browser.close()
        result["server_traceback"] = stop_app(server, work / "newcomer.log")
    db = open_database(f"sqlite:///{data / 'analyzer.db'}")
    with db.transaction() as session:
        rows = session.execute(
            select(Capture.expression, Capture.source_name, Capture.burst_size)
        ).all()
    db.close()
    result["captures"] = [list(row) for row in rows]
    return result


def loopback_only(playwright, work: Path, shots: Path) -> dict:
    """Only loopback, stock Chromium: the live camera cannot connect; the page says so, and
    the webcam photo still saves."""
    video = work / "steady.y4m"
    server, url = start_app(work / "loopback-data")
    result: dict[str, object] = {}
    try:
        browser, page = open_page(playwright, video)
        page.goto(url)
        page.get_by_label("Name or pseudonym").fill("Ana")
        page.get_by_role("button", name="Add and go on").click()
        camera = page.frame_locator("iframe[title*='webrtc']").first
        camera.get_by_role("button", name="Start camera").click()
        warning = page.get_by_text("The live camera could not connect")
        expect(warning).to_be_visible(timeout=60_000)
        result["says_cannot_connect"] = True
        page.screenshot(path=str(shots / "live-loopback-only.png"), full_page=True)
        take_webcam_photo(page)
        page.get_by_role("button", name="Save as rest").click()
        expect(page.get_by_text("Saved (capture")).to_be_visible()
        result["fallback_saved"] = True
        result["traceback"] = "Traceback" in page.inner_text("body")
        browser.close()
    finally:
        result["server_traceback"] = stop_app(server, work / "loopback.log")
    return result


def main(out_path: str, network: str = "person") -> None:
    findings: dict[str, object] = {"network": network}
    base = webcam_frame()
    analysis = analyze_image(base)
    work = Path(tempfile.mkdtemp(prefix="live-"))
    data = work / "data"
    db_url = f"sqlite:///{data / 'analyzer.db'}"
    db = open_database(db_url)
    buffer = io.BytesIO()
    Image.fromarray(base).save(buffer, format="JPEG", quality=95)
    yesterday = dt.datetime.now().replace(microsecond=0) - dt.timedelta(days=1)
    save_capture(
        db,
        PhotoStore(data / "photos"),
        "Ana",
        buffer.getvalue(),
        ".jpg",
        analysis,
        taken_at=yesterday,
    )  # the baseline: the same framing
    db.close()

    height, width = base.shape[:2]
    rolled = cv2.warpAffine(
        base,
        cv2.getRotationMatrix2D((width / 2, height / 2), 10, 1.0),
        (width, height),
        borderMode=cv2.BORDER_REPLICATE,
    )
    small = np.full_like(base, 200)
    shrunk = cv2.resize(base, None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
    y0, x0 = (height - shrunk.shape[0]) // 2, (width - shrunk.shape[1]) // 2
    small[y0 : y0 + shrunk.shape[0], x0 : x0 + shrunk.shape[1]] = shrunk
    fissure = analysis.measures["palpebral_fissure_height_left_mm"]
    blink, _ = imitate(
        base,
        analysis.landmarks_px,
        analysis.measurement.frame,
        analysis.mm_per_px,
        "eye closure",
        0.85 * fissure,
        0.85 * fissure,
    )
    # A blink of 12 frames (400 ms) every 1.2 s. The eyes gauge is red while the eyes are shut
    # and the shutter holds half a second, so a burst starts 0.5 s into the 0.8 s the eyes
    # are open and meets the next blink: its frames are passed over, and any the live
    # reading let through are dropped by the average. 400 ms outlasts the pauses seen
    # between frames reaching the server (up to about 300 ms).
    videos = {
        "steady": [base] * FRAMES,
        "rolled": [rolled] * FRAMES,
        "far": [small] * FRAMES,
        "blink": [blink if i < 12 else base for i in range(36)],
    }
    for name, frames in videos.items():
        write_y4m(work / f"{name}.y4m", frames)

    shots = ROOT / "out" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    if network == "loopback-only":
        with sync_playwright() as playwright:
            findings["loopback_only"] = loopback_only(playwright, work, shots)
        Path(out_path).write_text(json.dumps(findings, indent=1))
        return
    with sync_playwright() as playwright:
        findings["newcomer"] = newcomer(playwright, work, shots)
    server, url = start_app(data)

    findings["baseline_eyes_mm"] = analysis_conditions(analysis).eye_opening_mm

    def bursts() -> list[int]:
        return [size for size, _, _ in saved_bursts()]

    def saved_bursts() -> list[tuple[int, float, float]]:
        """Each burst saved: its size, its eyes' opening (the mean fissure height) and the
        fissure heights' largest spread across the burst's frames (a blink averaged in
        would spread them by a millimetre or more)."""
        db = open_database(db_url)
        with db.transaction() as session:
            rows = session.execute(
                select(Capture.burst_size, Capture.conditions, Capture.burst_sd)
                .where(Capture.burst_size.is_not(None))
                .order_by(Capture.id)
            ).all()
        db.close()
        fissures = ("palpebral_fissure_height_left_mm", "palpebral_fissure_height_right_mm")
        return [
            (
                size,
                CaptureConditions.from_dict(conditions).eye_opening_mm,
                max(sd[n] for n in fissures),
            )
            for size, conditions, sd in rows
        ]

    def forget_today() -> None:
        db = open_database(db_url)
        with db.transaction() as session:
            today = select(Capture).where(Capture.taken_at > yesterday + dt.timedelta(hours=12))
            for capture in session.scalars(today):
                session.delete(capture)
        db.close()

    try:
        with sync_playwright() as playwright:
            for name in ("rolled", "far", "steady", "blink", "blocked"):
                video = work / f"{'steady' if name == 'blocked' else name}.y4m"
                browser, page = open_page(playwright, video)
                if name == "blocked":  # WebRTC's component cannot load
                    page.route(
                        lambda u: "webrtc" in u and u.split("?")[0].endswith(".js"),
                        lambda route: route.abort(),
                    )
                page.goto(url)
                expect(page.get_by_role("heading", name="Capture")).to_be_visible()
                result: dict[str, object] = {}
                if name == "blocked":
                    take_webcam_photo(page)
                    save = page.get_by_role("button", name="Save as rest")
                    expect(save).to_be_enabled()
                    save.click()
                    expect(page.get_by_text("Saved (capture")).to_be_visible()
                    result["fallback_saved"] = True
                else:
                    if name == "steady":  # the walk-through moves on after the burst
                        page.get_by_text("Walk through the palsy protocol").click()
                    # The component lives in its own frame.
                    camera = page.frame_locator("iframe[title*='webrtc']").first
                    camera.get_by_role("button", name="Start camera").click()
                    if name in ("steady", "blink"):
                        saved = page.get_by_text("Saved (burst of")
                        try:
                            expect(saved).to_be_visible(timeout=60_000)
                        except AssertionError:
                            page.screenshot(
                                path=str(shots / f"live-{name}-failed.png"), full_page=True
                            )
                            raise
                        result["message"] = saved.first.inner_text()
                        rows = saved_bursts()
                        result["sizes"] = [size for size, _, _ in rows]
                        result["eyes_mm"] = [eyes for _, eyes, _ in rows]
                        result["fissure_sd_mm"] = [sd for _, _, sd in rows]
                        page.screenshot(path=str(shots / f"live-{name}.png"), full_page=True)
                        if name == "steady":
                            # Saved, the walk-through moves on; then Trends shows the capture.
                            expect(page.get_by_text("Brow raise:")).to_be_visible()
                            page.get_by_role("link", name="Trends").click()
                            expect(page.get_by_text("2 session(s) of 'rest'")).to_be_visible(
                                timeout=60_000
                            )
                            result["trends"] = True
                    else:
                        expect(page.get_by_text("Aiming").first).to_be_visible(timeout=60_000)
                        page.wait_for_timeout(6000)  # time enough to shoot, were it green
                        result["words"] = page.inner_text("body")
                        result["sizes"] = bursts()
                        page.screenshot(path=str(shots / f"live-{name}.png"), full_page=True)
                result["traceback"] = "Traceback" in page.inner_text("body")
                findings[name] = result
                browser.close()
                forget_today()  # the next scenario starts the walk-through at rest again
    finally:
        findings["server_traceback"] = stop_app(server, Path(out_path + ".log"))
        Path(out_path).write_text(json.dumps(findings, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:3])
