"""Sign-in in the dashboard: the login form, the idle time-out, log-out, roles, audit.

A database with an account always asks for a sign-in, whatever started the app; so does
``analyzer serve --clinic`` (``ANALYZER_CLINIC=1``). Each page asks ``allowed`` to grey out
what the role may not do, and every action asks ``refused`` on the server before it runs: a
greyed-out control is no check, since a client may send its click anyway. Without accounts
the dashboard is the single-user local app, and it refuses to run when it was started to
listen beyond this computer. Sensitive actions are written to the audit trail (``audit``).
"""

from __future__ import annotations

import ipaddress
import os
import time

import streamlit as st

from analyzer.errors import AnalyzerError
from analyzer.history.accounts import (
    PERMISSION_WORDS,
    NotAllowedError,
    authenticate,
    can,
    get_account,
    guard,
    has_accounts,
    record,
)
from analyzer.history.storage import get_person
from ui.state import database, plain

ACCOUNT = "account"  # session-state key: {"name", "role", "seen"}


def clinic() -> bool:
    """Whether the app was started to serve a clinic's network (``serve --clinic``)."""
    return os.environ.get("ANALYZER_CLINIC") == "1"


def signin_required() -> bool:
    """Whether this dashboard asks for a sign-in: always when its database has an account,
    whatever started the app (``streamlit run`` or ``serve`` without ``--clinic``), and in
    clinic mode. Keyed to the data: an environment variable left out opens nothing."""
    if clinic():
        return True
    with database().transaction() as session:
        return has_accounts(session)


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
    if not signin_required():
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
    """Whether the signed-in user's role offers ``action`` (always, outside clinic mode): for
    greying out a control only. The action itself asks ``refused``."""
    return not signin_required() or (role() is not None and can(role(), action))


def refused(action: str, person_name: str | None = None) -> str | None:
    """The one guard before every action: None if the signed-in account, read again from the
    database, may ``action`` now; else the sentence that refuses it, with its audit row
    (``accounts.guard``). A control greyed out in the browser is no check: a client can send
    its click anyway, so the action asks here, on the server, every time."""
    if not signin_required():
        return None
    user = st.session_state.get(ACCOUNT)
    try:
        with database().transaction() as session:
            person = get_person(session, person_name) if person_name else None
            guard(session, user["name"] if user else None, action,
                  person_id=person.id if person else None)  # fmt: skip
    except NotAllowedError as error:
        return str(error)
    return None


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
