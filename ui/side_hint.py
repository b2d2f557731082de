"""The weaker side suggested beside the affected-side choice, with a button: never set
without the person's click (``analyzer.history.side_suggestion``)."""

from __future__ import annotations

import streamlit as st

from analyzer.history.side_suggestion import set_affected_side, suggest_side
from analyzer.history.storage import get_person
from ui.auth import allowed, audit, refused
from ui.state import database, plain

DONE = "side-hint-done"  # the sentence saying what a click set, shown once after the rerun


def side_suggestion(
    person_name: str, where=st, key: str = "side-hint", show_none: bool = False
) -> None:
    """Show the person's suggested weaker side and a button that sets it; nothing when
    there is nothing to suggest or the suggestion is the side already set (with
    ``show_none``, a caption saying why no side is suggested)."""
    if DONE in st.session_state:
        where.success(st.session_state.pop(DONE))
    with database().transaction() as session:
        owner = get_person(session, person_name)
        found = suggest_side(session, owner) if owner is not None else None
        current = owner.affected_side if owner is not None else "none"
    if found is None:
        return
    side = found.weaker.side
    if side == "none":
        if show_none:
            where.caption(
                f"Affected side: {current}. Suggested from the photos: none. {found.sentence}"
            )
        return
    if side == current:
        return
    where.info(f"{found.sentence} Set the affected side to {side}? (now: {current})")
    if where.button(
        f"Set the affected side to {side}", key=f"{key}-{side}", disabled=not allowed("save")
    ):
        if why := refused("save", person_name):
            where.error(why)
            return
        with database().transaction() as session:
            set_affected_side(session, get_person(session, person_name), side)
        audit("save", person_name, {"what": f"affected side set to {side} (suggested)"})
        st.session_state[DONE] = f"The affected side of {plain(person_name)} is now {side}."
        st.rerun()
