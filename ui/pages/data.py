"""Data: people, where the data is, export, and delete."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import streamlit as st

from analyzer.history.export import history_csv, write_zip
from analyzer.history.maintenance import delete_person
from analyzer.history.storage import (
    AFFECTED_SIDES,
    get_or_create_person,
    get_person,
    load_history,
    person_summaries,
)
from analyzer.present.report import write_report
from ui.state import database, location, people, plain, store

st.title("Data")
if "flash" in st.session_state:  # the outcome of the last action, kept across the rerun
    st.success(st.session_state.pop("flash"))
st.write(location())
st.caption("Everything stays on this computer. Photos are kept by their content's fingerprint.")

db = database()
with db.transaction() as session:
    summary = [
        {"person": p.name, "affected side": p.affected_side, "sessions": p.sessions,
         "captures": p.captures}
        for p in person_summaries(session)
    ]  # fmt: skip
if summary:
    st.dataframe(summary, hide_index=True, width="stretch")
else:
    st.info("No people yet: add one below.")

with st.form("add-person", clear_on_submit=True):
    st.subheader("Add a person")
    name = st.text_input("Name or pseudonym")
    side = st.selectbox("Affected side (for facial palsy)", AFFECTED_SIDES, index=2)
    notes = st.text_area("Notes")
    if st.form_submit_button("Add"):
        clean = name.strip()
        if not clean:
            st.error("Give a name or a pseudonym.")
        elif clean in people():
            st.error("There is already a person with that name.")
        else:
            with db.transaction() as session:
                person = get_or_create_person(session, clean, side)
                person.notes = notes
            st.session_state["person"] = clean
            st.session_state["flash"] = f"Added {plain(clean)}."
            st.rerun()

names = people()
if not names:
    st.stop()
chosen = st.selectbox("Person", names, index=names.index(st.session_state.get("person"))
                      if st.session_state.get("person") in names else 0)  # fmt: skip

with st.form("rename"):
    st.subheader("Rename")
    new_name = st.text_input("New name", value=chosen)
    if st.form_submit_button("Rename"):
        clean = new_name.strip()
        if not clean or clean in names:
            st.error("Choose a new name that nobody has yet.")
        else:
            with db.transaction() as session:
                get_person(session, chosen).name = clean
            st.session_state["person"] = clean
            st.session_state["flash"] = f"Renamed to {plain(clean)}."
            st.rerun()

st.subheader("Export")
with db.transaction() as session:
    owner = get_person(session, chosen)
    rows = load_history(session, owner)
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "export.zip"
        write_zip(session, owner, store(), archive)
        zip_bytes = archive.read_bytes()
safe_name = "".join(c if c.isalnum() else "_" for c in chosen)
col1, col2 = st.columns(2)
col1.download_button("Download CSV (one row per capture)", history_csv(rows).encode(),
                     file_name=f"{safe_name}.csv", mime="text/csv")  # fmt: skip
col2.download_button("Download ZIP (photos, landmarks, measures)", io.BytesIO(zip_bytes),
                     file_name=f"{safe_name}.zip", mime="application/zip")  # fmt: skip

st.subheader("Report for the clinician")
if st.button("Prepare the PDF report (baseline against the latest session)"):
    with db.transaction() as session, tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "report.pdf"
        write_report(session, get_person(session, chosen), store(), pdf)
        st.session_state["report"] = (chosen, pdf.read_bytes())
if st.session_state.get("report", (None,))[0] == chosen:
    st.download_button("Download the PDF report", st.session_state["report"][1],
                       file_name=f"{safe_name}-report.pdf", mime="application/pdf")  # fmt: skip

st.subheader("Delete")
st.write("Deletes this person's every session, capture and photo. This cannot be undone.")
confirm = st.text_input(f"Type the name to confirm: {chosen}", key="confirm-delete")
if st.button("Delete everything of this person", type="primary", disabled=confirm != chosen):
    deleted = delete_person(db, store(), chosen)
    st.session_state.pop("person", None)
    st.session_state["flash"] = (
        f"Deleted {plain(chosen)}: {deleted.sessions} session(s), {deleted.captures} "
        f"capture(s), {deleted.photos} photo file(s)."
    )
    st.rerun()
