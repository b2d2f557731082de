"""What every page shares: the database, the photo store, the chosen person, safe text
(``database`` and ``plain`` live in ``ui.common``, below ``ui.auth``)."""

from __future__ import annotations

import base64
import hashlib
import html
import io

import numpy as np
import streamlit as st
from PIL import Image

from analyzer.errors import AnalyzerError
from analyzer.history import service
from analyzer.history.datadir import data_dir, database_url, redacted
from analyzer.history.importer import stored_photo
from analyzer.history.photos import AnyPhotoStore, photo_store_for
from analyzer.history.storage import (
    Capture,
    HistoryRow,
    ProtocolCapture,
)
from analyzer.measure.analysis import FaceAnalysis, analyze_image
from analyzer.measure.imaging import ACCEPTED_SUFFIXES, as_measured, load_photo
from analyzer.measure.quality import QualityCheck
from analyzer.present.demo import DEMO_PERSON
from ui.auth import allowed, audit, opened, refused
from ui.common import database
from ui.common import plain as plain  # the pages take it from here


def photo(where, rgb: np.ndarray, caption: str = "", width: int | None = None) -> None:
    """A photo shown inline, as a ``data:`` URI inside the page, never through Streamlit's
    media endpoint: a media URL serves its file to anyone who has it, logged in or not, and
    face photos are health data."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buffer, format="JPEG", quality=90)
    source = base64.b64encode(buffer.getvalue()).decode("ascii")
    size = f"width:{width}px;max-width:100%" if width else "width:100%"
    label = (
        f'<figcaption style="text-align:center;color:#808495;font-size:0.85rem">'
        f"{html.escape(caption)}</figcaption>"
        if caption
        else ""
    )
    where.markdown(
        f'<figure class="face-photo" style="margin:0 0 0.5rem 0">'
        f'<img alt="{html.escape(caption)}" style="{size}" '
        f'src="data:image/jpeg;base64,{source}"/>{label}</figure>',
        unsafe_allow_html=True,
    )


def upload_refusal(name: str) -> str | None:
    """Why an uploaded file is not taken, in a sentence (None: its type is a photo's)."""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    if suffix in ACCEPTED_SUFFIXES:
        return None
    kind = f"a {suffix} file" if suffix else "a file without a type in its name"
    return (
        f"{plain(name)} is {kind}, not a photo this app reads: choose a JPEG, PNG, WebP "
        "or HEIC photo (.jpg, .png, .webp, .heic)."
    )


def photo_key(data: bytes) -> str:
    """A photo's own name for its widgets: the same bytes, the same key, whatever its place."""
    return hashlib.sha256(data).hexdigest()[:16]


def distinct_photos(photos: list[tuple[str, bytes]]) -> tuple[list[tuple[str, bytes]], list[str]]:
    """The photos with each one's bytes kept once (the first name wins), and a sentence for
    each repeat: the same photo chosen twice is shown and saved once."""
    first: dict[str, str] = {}
    kept, repeats = [], []
    for name, data in photos:
        key = photo_key(data)
        if key in first:
            repeats.append(
                f"{plain(name)} is the same photo as {plain(first[key])} (the same bytes): "
                "it is shown and saved once."
            )
        else:
            first[key] = name
            kept.append((name, data))
    return kept, repeats


def store() -> AnyPhotoStore:
    """Where photos are kept: the database's photo table on PostgreSQL, else the folder."""
    return photo_store_for(database())


def location() -> str:
    return f"Data folder: {data_dir()} — database: {redacted(database_url())}"


def people() -> list[str]:
    return service.people(database())


def choose_person() -> str | None:
    """The person picker in the sidebar; None (with a message) when there is nobody yet."""
    names = people()
    if not names:
        st.info(
            "No people yet: type a name or a pseudonym to begin (more details, such as "
            "the affected side, on the Data page)."
        )
        _new_person_form("first-person", "Add and go on")
        return None
    current = st.session_state.get("person")
    if current not in names:
        current = DEMO_PERSON if DEMO_PERSON in names else names[0]
    person = st.sidebar.selectbox("Person", names, index=names.index(current))
    st.session_state["person"] = person
    with st.sidebar.expander("+ New person"):
        _new_person_form("new-person", "Add")
    st.sidebar.caption("Left and right are always the subject's own sides.")
    opened(person)
    return person


def _new_person_form(key: str, button: str) -> None:
    """Adding a person right where one is chosen (the first one, where there is nobody yet,
    and "+ New person" beside the picker): not a dead end, and the new person is chosen."""
    with st.form(key, clear_on_submit=True):
        name = st.text_input("Name or pseudonym", key=f"{key}-name")
        added = st.form_submit_button(button, disabled=not allowed("save"))
    if not added:
        return
    if why := refused("save"):
        st.error(why)
        return
    try:
        clean = service.add_person(database(), name)
    except AnalyzerError as error:  # unusable, or someone has the name (capitals aside)
        st.error(str(error))
        return
    audit("save", clean, {"what": "person added"})
    st.session_state["person"] = clean
    st.rerun()


@st.cache_data(show_spinner="Measuring the face…", max_entries=64)
def analyse_bytes(data: bytes, mirrored: bool, expression: str) -> FaceAnalysis | str:
    """The analysis of a photo, or the sentence saying why there is none (whatever went
    wrong: one odd upload must not take the page down with it)."""
    try:
        rgb = as_measured(load_photo(data), mirrored)
        return analyze_image(rgb, expression=expression, identity=True)
    except AnalyzerError as error:
        return str(error)
    except Exception as error:  # the edge: a sentence, never a traceback
        return (
            f"This file could not be analysed ({type(error).__name__}). It may be damaged: "
            "open it in a photo viewer, or export a fresh copy."
        )


def same_person_check(person_name: str, analysis: FaceAnalysis) -> QualityCheck | None:
    """The photo against the person's earlier photos (None: nothing to check against)."""
    return service.same_person(database(), person_name, analysis)


def capture_photo(capture: Capture) -> np.ndarray | None:
    """A stored capture's photo as seen for measuring (mirror corrected), or None."""
    return stored_photo(store(), capture)


@st.cache_data(show_spinner=False, max_entries=16)
def load_photo_for_display(data: bytes, mirrored: bool) -> np.ndarray:
    return as_measured(load_photo(data), mirrored)


def history(person_name: str, *, with_protocol: bool = False) -> list[HistoryRow]:
    """Every capture of a person (and, for the palsy protocol, the movement rows)."""
    return service.history(database(), person_name, with_protocol=with_protocol)


def affected_side(person_name: str) -> str:
    """The person's affected side ("left", "right"), or "none" (a self-test person)."""
    return service.affected_side(database(), person_name)


def protocol_captures(person_name: str) -> list[ProtocolCapture]:
    """Every accepted capture of a person with its landmarks and how each region was had."""
    return service.protocol_captures(database(), person_name)


def correct_button(where, capture_id: int, label: str, key: str) -> None:
    """A button that opens the Correct page on a stored capture."""
    if where.button(label, key=key):
        st.session_state["correct_capture"] = capture_id
        st.switch_page("ui/pages/correct.py")


def expressions_of(rows: list[HistoryRow]) -> list[str]:
    """The expressions in a history, rest first."""
    return sorted({r.expression for r in rows}, key=lambda e: (e != "rest", e))
