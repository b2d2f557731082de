"""Data: people, where the data is, export, and delete."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import streamlit as st

from analyzer.errors import AnalyzerError
from analyzer.history import service
from analyzer.history.export import history_csv, write_zip
from analyzer.history.maintenance import delete_person
from analyzer.history.storage import (
    AFFECTED_SIDES,
    MAX_NAME_LENGTH,
    get_person,
    load_history,
    person_summaries,
)
from analyzer.present.report import write_report
from ui.auth import allowed, audit, listed, opened, refusal, refused
from ui.side_hint import side_suggestion
from ui.state import database, location, people, plain, store

st.title("Data")
if "flash" in st.session_state:  # the outcome of the last action, kept across the rerun
    st.success(st.session_state.pop("flash"))
st.write(location())
st.caption("Everything stays on this computer. Photos are kept by their content's fingerprint.")

db = database()
with db.transaction() as session:
    summary = [
        {
            "person": p.name,
            "affected side": p.affected_side,
            "sessions": p.sessions,
            "captures": p.captures,
        }
        for p in person_summaries(session)
    ]
if summary:
    listed(len(summary))
    st.dataframe(summary, hide_index=True, width="stretch")
else:
    st.info("No people yet: add one below.")

may_save, may_export = allowed("save"), allowed("export")
may_report, may_delete = allowed("report"), allowed("delete")
with st.form("add-person", clear_on_submit=True):
    st.subheader("Add a person")
    name = st.text_input("Name or pseudonym")
    side = st.selectbox("Affected side (for facial palsy)", AFFECTED_SIDES, index=2)
    notes = st.text_area("Notes")
    if st.form_submit_button("Add", disabled=not may_save):
        clean = " ".join(name.split())
        if why := refused("save"):
            st.error(why)
        elif not clean:
            st.error("Give a name or a pseudonym.")
        elif not clean.isprintable() or len(clean) > MAX_NAME_LENGTH:
            st.error(f"Use up to {MAX_NAME_LENGTH} plain characters.")
        else:
            try:
                service.add_person(db, clean, side, notes)
            except AnalyzerError as error:  # a name someone has (capitals aside), or unusable
                st.error(str(error))
                st.stop()
            audit("save", clean, {"what": "person added"})
            st.session_state["person"] = clean
            st.session_state["flash"] = f"Added {plain(clean)}."
            st.rerun()

names = people()
if not names:
    st.stop()
chosen = st.selectbox(
    "Person",
    names,
    index=names.index(st.session_state.get("person"))
    if st.session_state.get("person") in names
    else 0,
)
opened(chosen)
side_suggestion(chosen, show_none=True)

with st.form("rename"):
    st.subheader("Rename")
    new_name = st.text_input("New name", value=chosen)
    if st.form_submit_button("Rename", disabled=not may_save):
        clean = " ".join(new_name.split())
        if why := refused("save", chosen):
            st.error(why)
        elif not clean or not clean.isprintable() or len(clean) > MAX_NAME_LENGTH:
            st.error("Choose a new name that nobody has yet.")
        else:
            try:
                service.rename_person(db, chosen, clean)
            except AnalyzerError as error:  # another person has it, capitals aside
                st.error(str(error))
                st.stop()
            audit("save", clean, {"what": "renamed"})
            st.session_state["person"] = clean
            st.session_state["flash"] = f"Renamed to {plain(clean)}."
            st.rerun()

st.subheader("Export")
safe_name = "".join(c if c.isalnum() else "_" for c in chosen)


def prepared(key: str) -> bytes | None:
    """An export made for this person by an allowed click of this session, else None."""
    held = st.session_state.get(key)
    return held[1] if held and held[0] == chosen else None


# Every export is made only after a click that the server checks (``refused``): nothing is
# prepared, nor registered as a download, for a role that may not have it.
col1, col2 = st.columns(2)
if col1.button("Prepare the CSV (one row per capture)", disabled=not may_export):
    if why := refused("export", chosen):
        st.error(why)
    else:
        audit("export", chosen, {"what": "csv"})
        with db.transaction() as session:
            rows = load_history(session, get_person(session, chosen))
        st.session_state["csv"] = (chosen, history_csv(rows).encode())
if (csv_bytes := prepared("csv")) is not None:
    col1.download_button(
        "Download the CSV", csv_bytes, file_name=f"{safe_name}.csv", mime="text/csv"
    )
if not may_export:
    st.caption(refusal("export"))
# The ZIP holds every photo: built only when asked, so the page (and Delete below) never
# waits for it or fails with it.
if col2.button("Prepare the ZIP (photos, landmarks, measures, verdicts)", disabled=not may_export):
    if why := refused("export", chosen):
        st.error(why)
    else:
        audit("export", chosen, {"what": "zip"})
        with db.transaction() as session, tempfile.TemporaryDirectory() as folder:
            archive = Path(folder) / "export.zip"
            exported = write_zip(session, get_person(session, chosen), store(), archive)
            st.session_state["zip"] = (chosen, archive.read_bytes(), exported.missing)
if (zip_bytes := prepared("zip")) is not None:
    if missing := st.session_state["zip"][2]:
        st.warning(
            f"{missing} photo file(s) are missing from the data folder: the ZIP lists "
            "them in missing_photos.txt."
        )
    col2.download_button(
        "Download the ZIP",
        io.BytesIO(zip_bytes),
        file_name=f"{safe_name}.zip",
        mime="application/zip",
    )

st.subheader("Report for the clinician")
if st.button(
    "Prepare the PDF report (baseline against the latest session)", disabled=not may_report
):
    if why := refused("report", chosen):
        st.error(why)
    else:
        audit("report", chosen)
        with db.transaction() as session, tempfile.TemporaryDirectory() as folder:
            pdf = Path(folder) / "report.pdf"
            write_report(session, get_person(session, chosen), store(), pdf)
            st.session_state["report"] = (chosen, pdf.read_bytes())
if (pdf_bytes := prepared("report")) is not None:
    st.download_button(
        "Download the PDF report",
        pdf_bytes,
        file_name=f"{safe_name}-report.pdf",
        mime="application/pdf",
    )
if not may_report:
    st.caption(refusal("report"))

st.subheader("Delete")
st.write("Deletes this person's every session, capture and photo. This cannot be undone.")
confirm = st.text_input(f"Type the name to confirm: {plain(chosen)}", key="confirm-delete")
if not may_delete:
    st.caption(refusal("delete"))
if st.button(
    "Delete everything of this person", type="primary", disabled=confirm != chosen or not may_delete
):
    if why := refused("delete", chosen):
        st.error(why)
    else:
        audit("delete", chosen)  # before: afterwards the person has no reference left
        deleted = delete_person(db, store(), chosen)
        st.session_state.pop("person", None)
        st.session_state["flash"] = (
            f"Deleted {plain(chosen)}: {deleted.sessions} session(s), {deleted.captures} "
            f"capture(s), {deleted.photos} photo file(s)."
        )
        st.rerun()
