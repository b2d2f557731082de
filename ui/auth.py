"""Clinic mode in the dashboard: the login form, the idle time-out, log-out, roles, audit.

``analyzer serve --clinic`` sets ``ANALYZER_CLINIC=1``: every page then shows the login form
until a user signs in, an idle session is signed out, and each page asks ``allowed`` before
offering an action. Without clinic mode the dashboard is the single-user local app, and it
refuses to run when it was started to listen beyond this computer. Sensitive actions are
written to the audit trail in both modes (``audit``).
"""

from __future__ import annotations

import ipaddress
import os
import time

import streamlit as st

from analyzer.errors import AnalyzerError
from analyzer.history.accounts import (
    PERMISSION_WORDS,
    authenticate,
    can,
    get_account,
    record,
)
from analyzer.history.storage import get_person
from ui.state import database, plain

ACCOUNT = "account"  # session-state key: {"name", "role", "seen"}


def clinic() -> bool:
    return os.environ.get("ANALYZER_CLINIC") == "1"


def idle_minutes() -> float:
    try:
        return max(1.0, float(os.environ.get("ANALYZER_IDLE_MINUTES", "30")))
    except ValueError:
        return 30.0


def serves_loopback_only() -> bool:
    """Whether Streamlit was told to listen on this computer only (an empty address means
    every interface)."""
    address = str(st.get_option("server.address") or "")
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def require_login() -> None:
    """Stop the page unless it may be shown: in clinic mode, a signed-in, recently active
    user; else a server that listens on this computer only."""
    if not clinic():
        if not serves_loopback_only():
            st.error(
                "This dashboard has no login, and face photos are health data: it serves this "
                "computer only. Start it with `python -m analyzer serve` (or `make run`); for "
                "a clinic's network use `python -m analyzer serve --clinic` (accounts, TLS)."
            )
            st.stop()
        return
    user = st.session_state.get(ACCOUNT)
    now = time.monotonic()
    if user and now - user["seen"] > idle_minutes() * 60:
        audit("logout", detail={"reason": "idle"})
        st.session_state.clear()
        st.session_state["signed_out"] = f"Signed out after {idle_minutes():.0f} idle minutes."
        user = None
    if not user:
        _login_form()
        st.stop()
    user["seen"] = now
    st.sidebar.caption(f"Signed in as {plain(user['name'])} ({user['role']})")
    if st.sidebar.button("Log out"):
        audit("logout")
        st.session_state.clear()
        st.session_state["signed_out"] = "Signed out."
        st.rerun()


def _login_form() -> None:
    st.title("Sign in")
    if "signed_out" in st.session_state:
        st.info(st.session_state.pop("signed_out"))
    with st.form("login"):
        name = st.text_input("User name")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if not submitted:
        return
    try:
        with database().transaction() as session:
            account = authenticate(session, name, password)  # it records the login
            user = {"name": account.name, "role": account.role, "seen": time.monotonic()}
    except AnalyzerError as error:
        st.error(str(error))
        return
    st.session_state[ACCOUNT] = user
    st.rerun()


def role() -> str | None:
    user = st.session_state.get(ACCOUNT)
    return user["role"] if user else None


def allowed(action: str) -> bool:
    """Whether the signed-in user may ``action`` (always, outside clinic mode)."""
    return not clinic() or (role() is not None and can(role(), action))


def refusal(action: str) -> str:
    """Why an action is not offered, for a caption beside the disabled control."""
    return f"Your role ({role()}) may not {PERMISSION_WORDS[action]}."


def audit(action: str, person_name: str | None = None, detail: dict | None = None) -> None:
    """Add a row to the audit trail: who (the signed-in user, else the computer's user),
    what, and whom (by the person's pseudonymous reference, never the name)."""
    user = st.session_state.get(ACCOUNT)
    with database().transaction() as session:
        person = get_person(session, person_name) if person_name else None
        account = get_account(session, user["name"]) if user else None
        record(session, action, account=account, person_id=person.id if person else None,
               detail=detail)  # fmt: skip


def opened(person_name: str) -> None:
    """Record that this session opened a person's data, once per session and person."""
    seen = st.session_state.setdefault("opened", set())
    if person_name not in seen:
        seen.add(person_name)
        audit("open_person", person_name)
