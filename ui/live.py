"""The live camera on Capture: the webcam stream through WebRTC, gauges drawn on the video,
auto-shutter, and the burst saved to today's session (``analyzer.capture``).

The stream goes from the browser to this server only. On loopback (the personal app) the
server offers only 127.0.0.1 to the browser, so the video never travels over a network
address; a clinic server (``serve --clinic``, TLS) offers its own addresses. No STUN or TURN
server is ever asked. When WebRTC cannot start, the photo and upload below stay as they are.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

import av
import numpy as np
import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from analyzer.capture.guidance import Target, live_target
from analyzer.capture.live import LiveSession
from analyzer.errors import AnalyzerError
from analyzer.history import service
from analyzer.history.importer import save_burst
from analyzer.measure.conditions import CaptureConditions
from analyzer.measure.quality import EYES_SHUT_EXPRESSIONS, RESTING_EXPRESSIONS
from ui.auth import allowed, audit, clinic, refused, serves_loopback_only
from ui.state import database, plain, store

#: Where the page keeps the person's live session (the component keeps its own under "live").
SESSION_KEY = "live_session"
#: After this long trying to connect without a picture, say so and point to the photo.
CONNECT_TIMEOUT_S = 10.0


def _keep_media_on_loopback() -> None:
    """The personal app listens on loopback only: offer the browser 127.0.0.1, which aioice
    leaves out by default (it would offer the machine's network addresses)."""
    if not clinic() and serves_loopback_only():
        import aioice.ice

        aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


def _baseline(person_name: str, expression: str) -> tuple[Target, np.ndarray | None, tuple | None]:
    """The person's baseline of this expression (``service.baseline``): the gauges' target
    (its photo read as a live frame is read, ``guidance.live_target``), its landmarks and
    size for the ghost. Its id and photo path are read in one transaction; the photo is
    decoded after it, once per capture (``_photo_target``), not on every rerun."""
    found = service.baseline(database(), person_name, expression)
    if found is None or not found.conditions:
        return Target(), None, None
    target = _photo_target(found.capture_id, found.photo_path, found.mirrored)
    if target is None:
        target = Target.from_conditions(CaptureConditions.from_dict(found.conditions))
    return target, found.landmarks_px, found.image_size


@st.cache_data(show_spinner=False, max_entries=64)
def _photo_target(capture_id: int, photo_path: str, mirrored: bool) -> Target | None:
    """The baseline photo read once as a live frame (cached per capture and photo); None
    without a readable photo or face. Called outside any transaction (``service.read_photo``)."""
    rgb = service.read_photo(store(), photo_path, mirrored)
    if rgb is None:
        return None
    try:
        return live_target(rgb)
    except AnalyzerError:
        return None


def live_section(person: str, expression: str) -> None:
    """The live camera, its gauges and its shutter, for ``person`` and ``expression``."""
    _keep_media_on_loopback()
    target, ghost, ghost_size = _baseline(person, expression)
    resting = expression in RESTING_EXPRESSIONS
    blinks = expression not in EYES_SHUT_EXPRESSIONS
    live: LiveSession | None = st.session_state.get(SESSION_KEY)
    if live is None:
        live = st.session_state[SESSION_KEY] = LiveSession(
            target, resting=resting, blinks=blinks, ghost=ghost, ghost_size=ghost_size
        )
    else:
        live.retarget(target, resting=resting, blinks=blinks, ghost=ghost, ghost_size=ghost_size)

    def callback(frame: av.VideoFrame) -> av.VideoFrame:
        return av.VideoFrame.from_ndarray(
            live.process(frame.to_ndarray(format="rgb24")), format="rgb24"
        )

    st.caption(
        "Follow the words on the video until every gauge is green: after half a second the "
        "camera takes 8 frames by itself and keeps their average"
        + (" (a blink is passed over: blink as you need to). " if resting else ". ")
        + (
            "The first photo of this expression sets your baseline: frontal, level, the "
            "face about half the picture's height."
            if ghost is None
            else "The faint outline is your baseline: match it."
        )
    )
    try:
        context = webrtc_streamer(
            key="live",
            mode=WebRtcMode.SENDRECV,
            video_frame_callback=callback,
            media_stream_constraints={"video": {"width": 640, "height": 480}, "audio": False},
            rtc_configuration={"iceServers": []},  # never a STUN or TURN server
            translations={"start": "Start camera", "stop": "Stop camera"},
            async_processing=True,
        )
    except Exception:  # no WebRTC runtime here (a test harness, a broken install)
        logging.getLogger(__name__).exception("The live camera could not start")
        st.info("The live camera is not available here: take a photo or upload one below.")
        return
    if context.state.signalling and not context.state.playing:
        st.session_state.setdefault("live_connecting", time.monotonic())
        _connecting()
    else:
        st.session_state.pop("live_connecting", None)
    if context.state.playing:
        _watch(person, expression, live)


@st.fragment(run_every=1.0)
def _connecting() -> None:
    """While the camera tries to connect: after ``CONNECT_TIMEOUT_S`` without a picture, say
    so (nothing else reruns the page when the connection never comes)."""
    started = st.session_state.get("live_connecting")
    if started is not None and time.monotonic() - started > CONNECT_TIMEOUT_S:
        st.warning(
            "The live camera could not connect. Take a photo with the webcam or upload one below."
        )


@st.fragment(run_every=0.5)
def _watch(person: str, expression: str, live: LiveSession) -> None:
    """Every half second: the shutter's state and the gauges in words; a finished burst is
    saved to today's session."""
    reading = live.reading
    state = {
        "aiming": "Aiming",
        "holding": "Hold still…",
        "collecting": "Taking 8 frames…",
        "processing": "Averaging…",
        "done": "Saving…",
    }[live.state]
    words = []
    if reading is None:
        words.append("No face: look at the camera.")
    else:
        for g in reading.gauges:
            colour = {"green": "green", "amber": "orange", "red": "red"}[g.status]
            words.append(f":{colour}[●] {g.name}: {g.instruction}")
    st.markdown(f"**{state}**  \n" + "  \n".join(words))
    if st.button("Take the burst now", disabled=not allowed("save")):
        live.shutter()
    taken = live.take()
    if taken is None:
        return
    if taken.result is None:
        st.warning(taken.error)
        return
    if why := refused("save", person):
        st.warning(why)
        return
    capture_id, new, _ = save_burst(
        database(),
        store(),
        person,
        taken.frames,
        taken.result,
        expression=expression,
        taken_at=dt.datetime.now().replace(microsecond=0),
        camera_label=f"live webcam {taken.frames[0].shape[1]}×{taken.frames[0].shape[0]}",
    )
    audit("save", person, {"capture": capture_id, "expression": expression, "burst": True})
    left_out = taken.left_out
    notes = [
        f"Saved (burst of {taken.result.size} frames): {plain(expression)}, capture "
        f"{capture_id}" + (f"; {left_out} frame(s) left out (blink or blur)." if left_out else ".")
    ]
    saved = service.capture(database(), capture_id)
    failed = [q["message"] for q in saved.quality if q["status"] == "fail"]
    if not saved.accepted:
        notes.append("It is kept but left out of the statistics: " + " ".join(failed))
    st.session_state["saved"] = notes
    st.session_state["saved_capture"] = (person, capture_id)
    st.session_state["advance"] = new
    st.rerun(scope="app")
