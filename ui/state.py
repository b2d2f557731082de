"""What every page shares: the database, the photo store, the chosen person, safe text."""

from __future__ import annotations

import base64
import html
import io
import re

import numpy as np
import streamlit as st
from PIL import Image

from analyzer.errors import AnalyzerError
from analyzer.history.datadir import data_dir, database_url, redacted
from analyzer.history.importer import stored_photo
from analyzer.history.photos import AnyPhotoStore, photo_store_for
from analyzer.history.progress import protocol_rows
from analyzer.history.same_person import identity_check, references
from analyzer.history.storage import (
    Capture,
    Database,
    HistoryRow,
    Person,
    ProtocolCapture,
    get_or_create_person,
    get_person,
    load_history,
    load_protocol_captures,
    open_database,
)
from analyzer.measure.analysis import FaceAnalysis, analyze_image
from analyzer.measure.imaging import ACCEPTED_SUFFIXES, load_photo
from analyzer.measure.quality import QualityCheck
from analyzer.present.demo import DEMO_PERSON

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def photo(where, rgb: np.ndarray, caption: str = "", width: int | None = None) -> None:
    """A photo shown inline, as a ``data:`` URI inside the page, never through Streamlit's
    media endpoint: a media URL serves its file to anyone who has it, logged in or not, and
    face photos are health data."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buffer, format="JPEG", quality=90)
    source = base64.b64encode(buffer.getvalue()).decode("ascii")
    size = f"width:{width}px;max-width:100%" if width else "width:100%"
    label = f'<figcaption style="text-align:center;color:#808495;font-size:0.85rem">' \
            f"{html.escape(caption)}</figcaption>" if caption else ""  # fmt: skip
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
    return (f"{plain(name)} is {kind}, not a photo this app reads: choose a JPEG, PNG, WebP "
            "or HEIC photo (.jpg, .png, .webp, .heic).")  # fmt: skip


def plain(text: str) -> str:
    """User text (names, notes) made inert for Markdown: shown as typed, never as markup."""
    return _MARKDOWN.sub(r"\\\1", text)


def database() -> Database:
    """The database the environment points at (opened once per URL)."""
    return _open(database_url())


@st.cache_resource(show_spinner=False)
def _open(url: str) -> Database:
    return open_database(url)


def store() -> AnyPhotoStore:
    """Where photos are kept: the database's photo table on PostgreSQL, else the folder."""
    return photo_store_for(database())


def location() -> str:
    return f"Data folder: {data_dir()} — database: {redacted(database_url())}"


def people() -> list[str]:
    with database().transaction() as session:
        return [name for (name,) in session.query(Person.name).order_by(Person.name)]


def choose_person() -> str | None:
    """The person picker in the sidebar; None (with a message) when there is nobody yet."""
    names = people()
    if not names:
        st.info("No people yet: type a name or a pseudonym to begin (more details, such as "
                "the affected side, on the Data page).")  # fmt: skip
        _first_person_form()
        return None
    current = st.session_state.get("person")
    if current not in names:
        current = DEMO_PERSON if DEMO_PERSON in names else names[0]
    person = st.sidebar.selectbox("Person", names, index=names.index(current))
    st.session_state["person"] = person
    st.sidebar.caption("Left and right are always the subject's own sides.")
    from ui.auth import opened  # here: ui.auth uses this module

    opened(person)
    return person


def _first_person_form() -> None:
    """Where there is nobody yet, adding the first person right here, not a dead end."""
    from ui.auth import allowed, audit, refused

    with st.form("first-person"):
        name = st.text_input("Name or pseudonym")
        added = st.form_submit_button("Add and go on", disabled=not allowed("save"))
    if not added:
        return
    if why := refused("save"):
        st.error(why)
        return
    try:
        with database().transaction() as session:
            clean = get_or_create_person(session, name).name
    except AnalyzerError as error:
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
        rgb = load_photo(data)
        if mirrored:
            rgb = np.ascontiguousarray(rgb[:, ::-1])
        return analyze_image(rgb, expression=expression, identity=True)
    except AnalyzerError as error:
        return str(error)
    except Exception as error:  # the edge: a sentence, never a traceback
        return (f"This file could not be analysed ({type(error).__name__}). It may be damaged: "
                "open it in a photo viewer, or export a fresh copy.")  # fmt: skip


def same_person_check(person_name: str, analysis: FaceAnalysis) -> QualityCheck | None:
    """The photo against the person's earlier photos (None: nothing to check against)."""
    with database().transaction() as session:
        owner = get_person(session, person_name)
        refs = references(session, owner.id if owner else None)
    return identity_check(analysis.identity, refs, person_name)


def capture_photo(capture: Capture) -> np.ndarray | None:
    """A stored capture's photo as seen for measuring (mirror corrected), or None."""
    return stored_photo(store(), capture)


@st.cache_data(show_spinner=False, max_entries=16)
def load_photo_for_display(data: bytes, mirrored: bool) -> np.ndarray:
    rgb = load_photo(data)
    return np.ascontiguousarray(rgb[:, ::-1]) if mirrored else rgb


def history(person_name: str, *, with_protocol: bool = False) -> list[HistoryRow]:
    """Every capture of a person (and, for the palsy protocol, the movement rows)."""
    with database().transaction() as session:
        owner = get_person(session, person_name)
        if owner is None:
            return []
        rows = load_history(session, owner)
        if with_protocol and any(r.expression != "rest" for r in rows):
            rows += protocol_rows(load_protocol_captures(session, owner), owner.affected_side)
    return rows


def affected_side(person_name: str) -> str:
    """The person's affected side ("left", "right"), or "none" (a self-test person)."""
    with database().transaction() as session:
        owner = get_person(session, person_name)
        return (owner.affected_side if owner else None) or "none"


def protocol_captures(person_name: str) -> list[ProtocolCapture]:
    """Every accepted capture of a person with its landmarks and how each region was had."""
    with database().transaction() as session:
        owner = get_person(session, person_name)
        return [] if owner is None else load_protocol_captures(session, owner)


def correct_button(where, capture_id: int, label: str, key: str) -> None:
    """A button that opens the Correct page on a stored capture."""
    if where.button(label, key=key):
        st.session_state["correct_capture"] = capture_id
        st.switch_page("ui/pages/correct.py")


def expressions_of(rows: list[HistoryRow]) -> list[str]:
    """The expressions in a history, rest first."""
    return sorted({r.expression for r in rows}, key=lambda e: (e != "rest", e))
