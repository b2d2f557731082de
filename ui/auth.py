"""Sign-in in the dashboard: the login form, the idle time-out, log-out, roles, audit.

A database with an account always asks for a sign-in, whatever started the app; so does
``analyzer serve --clinic`` (``ANALYZER_CLINIC=1``). Each page asks ``allowed`` to grey out
what the role may not do, and every action asks ``refused`` on the server before it runs: a
greyed-out control is no check, since a client may send its click anyway. Without accounts
the dashboard is the single-user local app, and it refuses to run when it was started to
listen beyond this computer. Sensitive actions are written to the audit trail (``audit``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analyzer.errors import AnalyzerError
from analyzer.history.accounts import (
    PERMISSION_WORDS,
    NotAllowedError,
    SessionEndedError,
    authenticate,
    can,
    check_session,
    end_session,
    end_sessions,
    get_account,
    guard,
    has_accounts,
    record,
    start_session,
)
from analyzer.history.datadir import database_url
from analyzer.history.storage import get_person
from ui.clinic_http import COOKIE as BROWSER_COOKIE
from ui.clinic_http import signed_in
from ui.common import database, plain

ACCOUNT = "account"  # session-state key: {"name", "role", "token"}
IDLE_CHECK_SECONDS = 20  # how often the page's timer asks whether its session is still open


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


def _setup_problem() -> str | None:
    """Why this server may not serve as started, or None. A server for a network needs
    clinic mode; clinic mode needs TLS and PostgreSQL, however it was started (``serve
    --clinic`` checks the same before starting)."""
    if not clinic():
        if serves_loopback_only():
            return None
        return (
            "This dashboard was started without clinic mode, and face photos are health "
            "data: it serves this computer only. Start it with `python -m analyzer serve` "
            "(or `make run`); for a clinic's network use `python -m analyzer serve "
            "--clinic` (accounts, TLS)."
        )
    if not st.get_option("server.sslCertFile") or not st.get_option("server.sslKeyFile"):
        return (
            "Clinic mode serves only over TLS: start it with `python -m analyzer serve "
            "--clinic --cert CERT.pem --key KEY.pem`."
        )
    if not database_url().startswith("postgresql"):
        return (
            "Clinic mode keeps its data in PostgreSQL: set ANALYZER_DB_URL and start it "
            "with `python -m analyzer serve --clinic`."
        )
    return None


def _idle() -> dt.timedelta:
    return dt.timedelta(minutes=idle_minutes())


def require_login() -> None:
    """Stop the page unless it may be shown: a server started as it may serve, and where the
    database has accounts, a signed-in session that is still open (checked in the database
    at every message: log-out elsewhere, a disabled account, a new password or idle time
    end it)."""
    if problem := _setup_problem():
        st.error(problem)
        st.stop()
    if not signin_required():
        return
    user = st.session_state.get(ACCOUNT)
    if user:
        try:
            with database().transaction() as session:
                user["role"] = check_session(session, user.get("token"), idle=_idle()).role
        except SessionEndedError as error:
            _signed_out(str(error))
            user = None
    if not user:
        _login_form()
        st.stop()
    # Clinic mode's HTTP rules (ui/clinic_http.py): this session's browser, by its cookie,
    # may now upload, fetch the downloads it prepared, and resume this session.
    signed_in[_streamlit_session()] = st.context.cookies.get(BROWSER_COOKIE)
    st.sidebar.caption(f"Signed in as {plain(user['name'])} ({user['role']})")
    with st.sidebar:
        _idle_watch()
    everywhere = st.sidebar.button(
        "Sign out everywhere",
        help="Ends this account's sessions in every browser and on every computer.",
    )
    if st.sidebar.button("Log out") or everywhere:
        with database().transaction() as session:
            if everywhere:
                end_sessions(session, get_account(session, user["name"]), "everywhere")
            else:
                end_session(session, user["token"])
        _signed_out("Signed out everywhere." if everywhere else "Signed out.")
        st.rerun()


def _streamlit_session() -> str:
    context = get_script_run_ctx()
    return context.session_id if context else ""


def _signed_out(sentence: str) -> None:
    signed_in.pop(_streamlit_session(), None)
    st.session_state.clear()
    st.session_state["signed_out"] = sentence


@st.fragment(run_every=dt.timedelta(seconds=IDLE_CHECK_SECONDS))
def _idle_watch() -> None:
    """The page's timer: every few seconds the server checks the session, without counting
    the check as activity, and once it has ended (idle, or ended elsewhere) the whole page
    runs again and shows the sign-in form instead of a person's data."""
    user = st.session_state.get(ACCOUNT)
    try:
        with database().transaction() as session:
            check_session(session, user and user.get("token"), idle=_idle(), touch=False)
    except SessionEndedError:
        st.rerun(scope="app")


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
            # It records the login; the back-off is per account and client address (the
            # socket's peer, not a header: loopback reads as None).
            client = st.context.ip_address or "this computer"
            account = authenticate(session, name, password, client=client)
            user = {
                "name": account.name,
                "role": account.role,
                "token": start_session(session, account),
            }
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
    name = _session_account()
    try:
        with database().transaction() as session:
            person = get_person(session, person_name) if person_name else None
            guard(session, name, action, person_id=person.id if person else None)
    except NotAllowedError as error:
        return str(error)
    return None


def _session_account() -> str | None:
    """The name of this session's account, from its record in the database (not from what
    the browser's session state says), or None once the session has ended."""
    user = st.session_state.get(ACCOUNT)
    try:
        with database().transaction() as session:
            token = user.get("token") if user else None
            return check_session(session, token, idle=_idle(), touch=False).name
    except SessionEndedError:
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
        record(
            session, action, account=account, person_id=person.id if person else None, detail=detail
        )


def listed(count: int) -> None:
    """Record that this session was shown the list of everyone, once per session."""
    if not st.session_state.get("listed"):
        st.session_state["listed"] = True
        audit("list_people", detail={"people": count})


def opened(person_name: str) -> None:
    """Record that this session opened a person's data, once per session and person."""
    seen = st.session_state.setdefault("opened", set())
    if person_name not in seen:
        seen.add(person_name)
        audit("open_person", person_name)
