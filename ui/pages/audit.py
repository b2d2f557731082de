"""Audit (clinic mode, admins): who did what, to whose data, and when."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from analyzer.history.accounts import audit_csv, audit_rows
from analyzer.history.service import names_by_ref
from analyzer.history.storage import get_person
from ui.auth import audit, refused
from ui.state import database, people

st.title("Audit")
if why := refused("audit"):
    st.error(why)
    st.stop()
st.caption(
    "Every sign-in, opened person, save, import, export, delete, report, correction and "
    "account change. Rows are only ever added: the database refuses to change them. People "
    "are named by their reference (P and a number), so a deleted person's rows name nobody."
)
everyone = "(everyone)"
left, middle, right = st.columns(3)
person_name = left.selectbox("Person", [everyone, *people()])
account_name = middle.text_input("User name (empty: all)")
since = right.date_input("Since", value=dt.date.today() - dt.timedelta(days=30))
with database().transaction() as session:
    person = get_person(session, person_name) if person_name != everyone else None
    rows = audit_rows(
        session,
        person_id=person.id if person else None,
        account_name=account_name.strip() or None,
        since=since,
    )
    names = names_by_ref(session)
    table = [
        {
            "when (UTC)": r.at,
            "user": r.account_name or f"(computer user {r.os_user})",
            "action": r.action,
            "person": r.person_ref or "",
            "who that is now": names.get(r.person_ref or "", ""),
            "detail": r.detail or {},
        }
        for r in rows
    ]
    text = audit_csv(rows)
shown = {"account": account_name.strip()[:80], "since": since.isoformat(), "rows": len(rows)}
audit("audit_view", None if person_name == everyone else person_name, shown)
st.dataframe(table, hide_index=True, width="stretch")
st.download_button(
    "Download as CSV",
    text.encode(),
    file_name="audit.csv",
    mime="text/csv",
    on_click=audit,
    args=("audit_export",),
)
