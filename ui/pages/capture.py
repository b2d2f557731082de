"""Capture: take or upload photos, see landmarks, quality and measures, save to the session."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from analyzer.history import service
from analyzer.history.catalog import FOLLOWED, HOW_WORDS, describe
from analyzer.history.importer import EARLIEST_YEAR, CaptureRequest, Identity, photo_date
from analyzer.history.progress import latest_movement, region_label
from analyzer.history.storage import get_person, load_protocol_captures
from analyzer.measure import registry
from analyzer.measure.analysis import FaceAnalysis
from analyzer.measure.quality import QualityCheck
from analyzer.present.visuals import aligned, draw_landmarks, face_crop
from analyzer.protocol.movement import EXPRESSIONS, INSTRUCTIONS, regions_of
from ui.auth import allowed, audit, refusal, refused
from ui.live import live_section
from ui.side_hint import side_suggestion
from ui.state import (
    analyse_bytes,
    choose_person,
    correct_button,
    database,
    distinct_photos,
    load_photo_for_display,
    photo,
    photo_key,
    plain,
    same_person_check,
    store,
    upload_refusal,
)
from ui.video import video_section

WEBCAM_NAME = "webcam.jpg"
#: A save the server's guard refused starts with this (shown as an error, with its sentence).
REFUSED = "Refused: "
ICONS = {
    "pass": ":green[:material/check_circle:]",
    "warn": ":orange[:material/warning:]",
    "fail": ":red[:material/block:]",
}
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
side_suggestion(person)


def todays_expressions(person_name: str) -> set[str]:
    """The expressions already saved in today's session."""
    return service.todays_expressions(database(), person_name, dt.date.today())


done = todays_expressions(person)
missing = [e for e in EXPRESSIONS if e not in done]
walkthrough = st.session_state.get("walkthrough", False)
moved_on = []
if st.session_state.pop("advance", False) and walkthrough and missing:
    # Only in the walk-through, which the person turned on, and it says so: a choice is
    # never changed silently.
    st.session_state["expression"] = missing[0]
    moved_on.append(
        f"Protocol walk-through: the expression is now {missing[0]}, the next "
        "one still missing today."
    )
left, right = st.columns([2, 1])
if "expression" not in st.session_state:
    st.session_state["expression"] = EXPRESSIONS[0]
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
for note in [*st.session_state.pop("saved", []), *moved_on]:
    (notices.success if note.startswith("Saved") else notices.info)(note)
for note in st.session_state.pop("not_saved", []):
    notices.warning(note)
for note in st.session_state.pop("refused_save", []):  # the server refused this account
    notices.error(note)
last_saved = st.session_state.get("saved_capture")  # (person, capture id)
if last_saved and last_saved[0] == person:
    correct_button(
        notices,
        last_saved[1],
        f"Correct the points of capture {last_saved[1]}",
        key="correct-saved",
    )
right.checkbox(
    "Walk through the palsy protocol",
    key="walkthrough",
    help="After each save, the expression moves on to the next one still missing today "
    "(and the page says so). Off: the expression stays as you chose it.",
)
mirrored = right.checkbox(
    "The camera shows a mirror image",
    help="Front cameras often mirror the picture. Tick this so left and right stay the "
    "subject's own.",
)
with st.expander("How to take photos that can be compared", expanded=False):
    st.markdown(GUIDANCE)

st.subheader("Live camera")
# One container: the live section shows more or fewer elements as the camera connects and
# plays, and without it the tabs below would move on the page, be drawn anew and fall back
# to their first tab (an upload's result then hid in "Upload photos").
with st.container():
    live_section(person, expression)
st.subheader("Or a photo")
camera_tab, upload_tab, video_tab = st.tabs(["Webcam", "Upload photos", "Upload a video"])
photos: list[tuple[str, bytes]] = []
with camera_tab:
    shot = st.camera_input("Look straight at the camera, then take the photo")
    if shot is not None:
        photos.append((WEBCAM_NAME, shot.getvalue()))
with upload_tab:
    # No ``type=`` filter: Streamlit's own refusal of a wrong type shows only on hover;
    # each file is checked here and a wrong one's reason is said on the page.
    uploads = st.file_uploader("Photos (JPEG, PNG, WebP or HEIC)", accept_multiple_files=True)
    for upload in uploads or []:
        not_a_photo = upload_refusal(upload.name)  # not "refused": ui.auth's check is that
        if not_a_photo:
            st.error(not_a_photo)
        else:
            photos.append((upload.name, upload.getvalue()))
with video_tab:
    video_section(person)


def _rounded(value: float, unit: str) -> str:
    """A measure's value with its unit: 1 decimal, 2 for a ratio (no unit)."""
    return f"{value:.{2 if not unit else 1}f} {unit}".strip()


def todays_movement(person_name: str, expression_name: str) -> str:
    """What the latest capture of an expression moved today, per side, from today's rest."""
    with database().transaction() as session:
        owner = get_person(session, person_name)
        today = next((s for s in owner.sessions if s.day == dt.date.today()), None)
        if today is None:
            return ""
        result = latest_movement(
            load_protocol_captures(session, owner), today.id, expression_name, owner.affected_side
        )
    if result is None:
        return "Take today's rest photo too: each movement is measured from it."
    names = registry.primary_names(expression_name)
    parts = []
    for side in ("left", "right"):
        name = names[side]
        info = describe(name)
        parts.append(f"{info.plain} {result.measures[name]:.1f} {info.unit}")
    ratio = result.measures.get(names["ratio"], math.nan)
    if not math.isnan(ratio):
        parts.append(f"{describe(names['ratio']).plain} {ratio:.0f}")
    how = ", ".join(f"{region_label(r)} {HOW_WORDS[h]}" for r, h in result.hows.items())
    return f"Movement from today's rest photo: {'; '.join(parts)} (measured: {how})."


def baseline_photo(person_name: str, expression_name: str):
    """The person's baseline photo of this expression (``service.baseline``), aligned, to
    match the pose to; None without one."""
    found = service.baseline(database(), person_name, expression_name)
    if found is None:
        return None
    return _baseline_picture(found.capture_id, found.photo_path, found.mirrored, found.landmarks_px)


@st.cache_data(show_spinner=False, max_entries=16)
def _baseline_picture(capture_id: int, photo_path: str, mirrored: bool, _landmarks_px):
    """The baseline photo aligned on the eyes: read (outside any transaction) and aligned
    once per capture and photo, not on every rerun of the page."""
    rgb = service.read_photo(store(), photo_path, mirrored)
    return None if rgb is None else aligned(rgb, _landmarks_px)[0]


@dataclass(frozen=True)
class Choice:
    """One photo as it stands on screen: what Save stores, and what stops it."""

    name: str
    data: bytes
    analysis: FaceAnalysis
    expression: str
    taken_at: dt.datetime
    anyway: bool
    identity: QualityCheck | None  # the same-person check shown (None: nothing to check)
    identity_overridden: bool
    tags: tuple[str, ...]
    blocked: str  # why it may not be saved now ("" when it may)


def when_taken(name: str, data: bytes, now: dt.datetime) -> tuple[dt.datetime, str]:
    """The photo's own time (EXIF, else its file name) and a sentence saying where it came
    from; the webcam's photo and undated photos are taken now."""
    if name == WEBCAM_NAME:
        return now, "Taken now."
    found, source = photo_date(name, data, now=now)
    if found is None:
        return now, "No date in the photo or its name: today's."
    return found, f"Date from its {source}."


def show(name: str, data: bytes) -> Choice | None:
    """One photo: its expression and date (each its own), landmarks, quality, measures and
    its Save button. Returns what Save stores, or None when the photo has no face."""
    # Over 60 lines on purpose: one photo's panel from top to bottom as the page shows it,
    # its widgets keyed by the photo; split, the order on screen would be scattered.
    key = photo_key(data)  # the photo's own widgets, whatever its place
    st.subheader(plain(name))
    now = dt.datetime.now().replace(microsecond=0)
    found, source = when_taken(name, data, now)
    pick = st.columns(2)
    if f"expression-{key}" not in st.session_state:
        st.session_state[f"expression-{key}"] = expression  # the page's, when it first shows
    chosen = pick[0].selectbox("Expression of this photo", EXPRESSIONS, key=f"expression-{key}")
    day = pick[1].date_input(
        "Taken on",
        value=found.date(),
        min_value=dt.date(EARLIEST_YEAR, 1, 1),
        max_value=now.date(),
        key=f"date-{key}",
        format="YYYY-MM-DD",
        help="Photos of one day form one session. Change it if the photo's date is wrong.",
    )
    pick[1].caption(source)
    taken_at = dt.datetime.combine(day, found.time())
    result = analyse_bytes(data, mirrored, chosen)
    if isinstance(result, str):
        st.error(result)
        return None
    analysis: FaceAnalysis = result
    rgb_cols = st.columns(2)
    rgb = load_photo_for_display(data, mirrored)
    drawn = face_crop(draw_landmarks(rgb, analysis.measured_px), analysis.measured_px)
    photo(rgb_cols[0], drawn, "Landmarks found")
    baseline = baseline_photo(person, chosen)
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
        {
            "measure": describe(n).plain or describe(n).label,
            "value": _rounded(measures[n], describe(n).unit),
            "technical name": f"{describe(n).label} ({n})",
            "points": ", ".join(
                sorted({HOW_WORDS[analysis.regions.get(r, "model")] for r in regions_of(n)})
            ),
        }
        for n in FOLLOWED
        if n in measures
    ]
    st.caption(
        "Points: where the measure's points come from. Lids and brows are found in "
        "the photo itself where that is clear; otherwise the face-mesh model's."
    )
    st.dataframe(rows, hide_index=True, width="stretch")

    status = analysis.quality_status
    anyway = False
    if status == "fail":
        st.warning("A quality check failed: this photo would make comparisons unreliable.")
        anyway = st.checkbox("Save anyway", key=f"anyway-{key}")
    confirmed = True
    if identity is not None and identity.status == "fail":
        st.error(
            f"This may not be {plain(person)}. Saving it into their history needs your "
            "confirmation, which is recorded with the photo."
        )
        confirmed = st.checkbox(f"It is {plain(person)}", key=f"identity-{key}")
    tags = st.multiselect(
        "Treatment in this session", ["microcurrent", "exercise", "other"], key=f"tags-{key}"
    )
    may_save = allowed("save")
    if not may_save:
        st.caption(refusal("save"))
        blocked = refusal("save")
    elif status == "fail" and not anyway:
        blocked = "a quality check failed (tick Save anyway to keep it)"
    elif not confirmed:
        blocked = f"it may not be {plain(person)} (tick It is {plain(person)})"
    else:
        blocked = ""
    choice = Choice(
        name=name,
        data=data,
        analysis=analysis,
        expression=chosen,
        taken_at=taken_at,
        anyway=anyway,
        identity=identity,
        identity_overridden=bool(identity and identity.status == "fail"),
        tags=tuple(tags),
        blocked=blocked,
    )
    if st.button(f"Save as {chosen}", key=f"save-{key}", disabled=bool(blocked)):
        finish(save(choice))
    return choice


def save(choice: Choice) -> list[str]:
    """Store one photo under its own expression and date; the sentences that say what
    happened (a refusal starts with "Not saved")."""
    if why := refused("save", person):  # the server's own check, whatever the page showed
        return [f"{REFUSED}{why}"]
    if choice.blocked:
        return [f"Not saved: {plain(choice.name)}: {choice.blocked}."]
    try:
        request = CaptureRequest(
            choice.data,
            Path(choice.name).suffix or ".jpg",
            choice.analysis,
            choice.taken_at,
            choice.expression,
            mirrored=mirrored,
            accept_anyway=choice.anyway,
            tags=choice.tags,
            identity=Identity(
                confirmed=choice.identity_overridden, checked=True, check=choice.identity
            ),  # the check shown above: made once
            source_name=choice.name,
            camera_label="browser webcam" if choice.name == WEBCAM_NAME else "",
        )
        capture_id, new = service.save(database(), store(), person, request)
    except (OSError, service.SaveError) as error:
        cause = error.__cause__ or error
        return [
            f"Not saved: {plain(choice.name)} ({type(cause).__name__}: the disk may be "
            "full, the data folder read-only, or the database busy). Nothing was changed "
            "for it; try again."
        ]
    if not new:
        return [f"Already saved (capture {capture_id}): {plain(choice.name)}, this exact photo."]
    audit(
        "save",
        person,
        {
            "capture": capture_id,
            "expression": choice.expression,
            "identity_confirmed": choice.identity_overridden,
        },
    )
    st.session_state["saved_capture"] = (person, capture_id)
    st.session_state["advance"] = True
    notes = [
        f"Saved (capture {capture_id}): {plain(choice.name)}, {choice.expression}, "
        f"{choice.taken_at:%Y-%m-%d}. See it on Trends."
    ]
    if choice.expression != "rest" and choice.taken_at.date() == dt.date.today():
        notes.append(plain(todays_movement(person, choice.expression)))
    return [n for n in notes if n]


def finish(notes: list[str]) -> None:
    """Show what the save did once the page is drawn again (the protocol's list of what is
    still missing is then current): what was saved first, what was not as warnings."""
    st.session_state["saved"] = [n for n in notes if not n.startswith(("Not saved", REFUSED))]
    st.session_state["not_saved"] = [n for n in notes if n.startswith("Not saved")]
    st.session_state["refused_save"] = sorted(
        {n.removeprefix(REFUSED) for n in notes if n.startswith(REFUSED)}
    )
    st.rerun()


photos, repeats = distinct_photos(photos)
if repeats:
    st.info("\n\n".join(repeats))
if not photos:
    st.caption("Take a photo or upload some to see the landmarks, quality checks and measures.")
choices = [c for c in (show(name, data) for name, data in photos) if c is not None]
if len(photos) > 1:
    ready = [c for c in choices if not c.blocked]
    st.divider()
    st.caption(
        "Save all: each photo under its own expression and date, as chosen above "
        f"({len(ready)} of {len(photos)} ready)."
    )
    if st.button(f"Save all ({len(ready)} photos)", key="save-all", disabled=not ready):
        finish([note for c in choices for note in save(c)])
