"""Capture: take or upload photos, see landmarks, quality and measures, save to the session."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import streamlit as st
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from analyzer.history.catalog import FOLLOWED, describe
from analyzer.history.importer import save_capture
from analyzer.history.progress import latest_movement, region_label
from analyzer.history.storage import Capture, get_person, load_protocol_captures
from analyzer.measure.analysis import FaceAnalysis
from analyzer.measure.refine import HOW_WORDS
from analyzer.present.visuals import aligned, draw_landmarks, face_crop
from analyzer.protocol.movement import EXPRESSIONS, INSTRUCTIONS, PRIMARY, regions_of
from ui.auth import allowed, audit, refusal, refused
from ui.live import live_section
from ui.state import (
    analyse_bytes,
    capture_photo,
    choose_person,
    correct_button,
    database,
    load_photo_for_display,
    photo,
    plain,
    same_person_check,
    store,
)

WEBCAM_NAME = "webcam.jpg"
ICONS = {"pass": ":green[:material/check_circle:]", "warn": ":orange[:material/warning:]",
         "fail": ":red[:material/block:]"}  # fmt: skip
GUIDANCE = """
- **Distance**: the face fills about half of the frame's height; camera at eye height.
- **Light** from the front (face a window), no strong light from one side.
- **Neutral face** for *rest*: lips closed and relaxed, eyes open, looking at the lens.
- **Hair** off the brows and forehead; **glasses off**.
- **Same set-up every time**: same place, same time of day, same distance.
"""

st.title("Capture")
person = choose_person()
if person is None:
    st.stop()


def todays_expressions(person_name: str) -> set[str]:
    """The expressions already saved in today's session."""
    with database().transaction() as session:
        owner = get_person(session, person_name)
        if owner is None:
            return set()
        today = dt.date.today()
        return {c.expression for s in owner.sessions if s.day == today for c in s.captures}


done = todays_expressions(person)
missing = [e for e in EXPRESSIONS if e not in done]
if st.session_state.pop("advance", False) and missing:
    st.session_state["expression"] = missing[0]  # the walk-through moves on after a save
left, right = st.columns([2, 1])
if "expression" not in st.session_state:
    st.session_state["expression"] = missing[0] if missing else EXPRESSIONS[0]
expression = left.selectbox("Expression", EXPRESSIONS, key="expression")
st.info(f"**{expression.capitalize()}**: {INSTRUCTIONS[expression]}")
st.caption(
    "Palsy protocol today: "
    + (f"still missing {', '.join(missing)}." if missing else "all seven expressions taken.")
)
# One container for what comes and goes after a save, so that the live camera below keeps
# its place on the page: a component moved to another place is mounted again, and the
# WebRTC component mounted again stays blank.
notices = st.container()
for index, note in enumerate(st.session_state.pop("saved", [])):
    (notices.success if index == 0 else notices.info)(note)
last_saved = st.session_state.get("saved_capture")  # (person, capture id)
if last_saved and last_saved[0] == person:
    correct_button(notices, last_saved[1], f"Correct the points of capture {last_saved[1]}",
                   key="correct-saved")  # fmt: skip
mirrored = right.checkbox(
    "The camera shows a mirror image",
    help="Front cameras often mirror the picture. Tick this so left and right stay the "
    "subject's own.",
)
with st.expander("How to take photos that can be compared", expanded=False):
    st.markdown(GUIDANCE)

st.subheader("Live camera")
live_section(person, expression)
st.subheader("Or a photo")
camera_tab, upload_tab = st.tabs(["Webcam", "Upload photos"])
photos: list[tuple[str, bytes]] = []
with camera_tab:
    shot = st.camera_input("Look straight at the camera, then take the photo")
    if shot is not None:
        photos.append((WEBCAM_NAME, shot.getvalue()))
with upload_tab:
    uploads = st.file_uploader(
        "Photos (JPEG, PNG, WebP or HEIC)",
        type=["jpg", "jpeg", "png", "webp", "heic", "heif"],
        accept_multiple_files=True,
    )
    photos.extend((upload.name, upload.getvalue()) for upload in uploads or [])


def todays_movement(person_name: str, expression_name: str) -> str:
    """What the latest capture of an expression moved today, per side, from today's rest."""
    with database().transaction() as session:
        owner = get_person(session, person_name)
        today = next((s for s in owner.sessions if s.day == dt.date.today()), None)
        if today is None:
            return ""
        result = latest_movement(load_protocol_captures(session, owner), today.id,
                                 expression_name, owner.affected_side)  # fmt: skip
    if result is None:
        return "Take today's rest photo too: each movement is measured from it."
    prefix = expression_name.replace(" ", "_")
    stem, unit = PRIMARY[expression_name].rsplit("_", 1)
    parts = []
    for side in ("left", "right"):
        name = f"{prefix}_{stem}_{side}_{unit}"
        parts.append(f"{describe(name).label} {result.measures[name]:.1f} {describe(name).unit}")
    ratio = result.measures.get(f"{prefix}_ratio_pct", math.nan)
    if not math.isnan(ratio):
        parts.append(f"{describe(prefix + '_ratio_pct').label} {ratio:.0f} %")
    how = ", ".join(f"{region_label(r)} {HOW_WORDS[h]}" for r, h in result.hows.items())
    return f"Movement from today's rest photo: {'; '.join(parts)} (measured: {how})."


def baseline_photo(person_name: str, expression_name: str):
    """The person's first stored photo of this expression, aligned, to match the pose to."""
    with database().transaction() as session:
        owner = get_person(session, person_name)
        if owner is None:
            return None
        captures = session.scalars(
            select(Capture)
            .where(Capture.person_id == owner.id, Capture.expression == expression_name,
                   Capture.photo_path.is_not(None))
            .order_by(Capture.taken_at)
        ).all()  # fmt: skip
        for capture in captures:
            rgb = capture_photo(capture)
            if rgb is not None:
                return aligned(rgb, capture.landmarks_px())[0]
    return None


def show(name: str, data: bytes, index: int) -> None:
    result = analyse_bytes(data, mirrored, expression)
    st.subheader(plain(name))
    if isinstance(result, str):
        st.error(result)
        return
    analysis: FaceAnalysis = result
    rgb_cols = st.columns(2)
    rgb = load_photo_for_display(data, mirrored)
    drawn = face_crop(draw_landmarks(rgb, analysis.measured_px), analysis.measured_px)
    photo(rgb_cols[0], drawn, "Landmarks found")
    baseline = baseline_photo(person, expression)
    if baseline is not None:
        new_aligned = aligned(rgb, analysis.landmarks_px)[0]
        pair = rgb_cols[1].columns(2)
        photo(pair[0], baseline, "Baseline")
        photo(pair[1], new_aligned, "This photo")
        rgb_cols[1].caption("Both aligned on the eyes: match the baseline's pose and distance.")
    else:
        rgb_cols[1].info("This will be the first photo of this expression: the baseline.")

    st.markdown("**Quality**")
    identity = same_person_check(person, analysis)
    for check in [*analysis.quality, *([identity] if identity else [])]:
        st.markdown(f"{ICONS[check.status]} {plain(check.message)}")
    measures = analysis.measures
    rows = [
        {"measure": describe(n).label, "value": round(measures[n], 2), "unit": describe(n).unit,
         "points": ", ".join(sorted({HOW_WORDS[analysis.regions.get(r, "model")]
                                     for r in regions_of(n)}))}
        for n in FOLLOWED
        if n in measures
    ]  # fmt: skip
    st.caption(
        "Points: where the measure's points come from. Lids and brows are found in "
        "the photo itself where that is clear; otherwise the face-mesh model's."
    )
    st.dataframe(rows, hide_index=True, width="stretch")

    status = analysis.quality_status
    anyway = False
    if status == "fail":
        st.warning("A quality check failed: this photo would make comparisons unreliable.")
        anyway = st.checkbox("Save anyway", key=f"anyway-{index}")
    confirmed = True
    if identity is not None and identity.status == "fail":
        st.error(f"This may not be {plain(person)}. Saving it into their history needs your "
                 "confirmation, which is recorded with the photo.")  # fmt: skip
        confirmed = st.checkbox(f"It is {plain(person)}", key=f"identity-{index}")
    tags = st.multiselect(
        "Treatment in this session", ["microcurrent", "exercise", "other"], key=f"tags-{index}"
    )
    may_save = allowed("save")
    blocked = (status == "fail" and not anyway) or not confirmed or not may_save
    if not may_save:
        st.caption(refusal("save"))
    if st.button("Save to today's session", key=f"save-{index}", disabled=blocked):
        if why := refused("save", person):
            st.error(why)
            return
        try:
            capture_id, new = save_capture(
                database(), store(), person, data, Path(name).suffix or ".jpg", analysis,
                taken_at=dt.datetime.now().replace(microsecond=0), expression=expression,
                mirrored=mirrored, accept_anyway=anyway, tags=tags, source_name=name,
                camera_label="browser webcam" if name == WEBCAM_NAME else "",
                identity_confirmed=identity is not None and identity.status == "fail"
                and confirmed,
            )  # fmt: skip
        except (OSError, SQLAlchemyError) as error:
            st.error(f"The photo could not be saved ({type(error).__name__}: the disk may be "
                     "full, the data folder read-only, or the database busy). Nothing was "
                     "changed; try again.")  # fmt: skip
            st.stop()
        overridden = bool(identity and identity.status == "fail" and confirmed)
        audit("save", person, {"capture": capture_id, "expression": expression,
                               "identity_confirmed": overridden})  # fmt: skip
        if new:
            notes = [
                f"Saved (capture {capture_id}): {plain(name)}, {expression}. See it on Trends."
            ]
            if expression != "rest":
                notes.append(plain(todays_movement(person, expression)))
            st.session_state["saved"] = [n for n in notes if n]
            st.session_state["saved_capture"] = (person, capture_id)
            st.session_state["advance"] = True
            st.rerun()  # so that the protocol's list of what is still missing is current
        else:
            st.info("This exact photo is already saved for this person.")


if not photos:
    st.caption("Take a photo or upload some to see the landmarks, quality checks and measures.")
for index, (name, data) in enumerate(photos):
    show(name, data, index)
