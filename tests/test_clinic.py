"""Clinic mode: `serve --clinic` with TLS, accounts and roles, the audit trail, and two app
servers sharing one PostgreSQL database, photos included, in a real browser."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from analyzer.history.accounts import (
    WRONG_LOGIN,
    SignIn,
    add_account,
    audit_protection_problem,
    audit_rows,
    authenticate,
    record,
)
from analyzer.history.importer import import_folder
from analyzer.history.photos import photo_store_for
from analyzer.history.storage import get_person, open_database
from tests.conftest import ROOT, SAMPLE, write_photo_variants
from tests.test_browser import ARGS, CHROMIUM, SCREENSHOTS, free_port, is_media_photo

PASSWORD = "correct horse 1"
# Pages render slower on a loaded 2-core machine than Playwright's 5-s default allows.
expect.set_options(timeout=30_000)


def cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analyzer", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def local_env(tmp_path) -> dict[str, str]:
    env = {**os.environ, "ANALYZER_DATA_DIR": str(tmp_path / "data")}
    env.pop("ANALYZER_DB_URL", None)
    return env


def test_serve_refuses_a_network_address_without_clinic_mode(local_env):
    result = cli(local_env, "serve", "--host", "0.0.0.0")
    assert result.returncode == 2
    assert "without --clinic the dashboard has no login" in result.stderr
    clinic = cli(local_env, "serve", "--clinic", "--host", "0.0.0.0")
    assert clinic.returncode == 2
    assert "PostgreSQL" in clinic.stderr and "--cert must name" in clinic.stderr
    assert "Traceback" not in result.stderr + clinic.stderr
    not_pem = Path(local_env["ANALYZER_DATA_DIR"]).parent / "not.pem"
    not_pem.write_text("not a certificate")
    wrong = cli(local_env, "serve", "--clinic", "--cert", str(not_pem), "--key", str(not_pem))
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    assert "--cert and --key must be a PEM certificate and its own private key" in wrong.stderr


def test_accounts_from_the_command_line(local_env):
    added = cli(
        local_env,
        "users",
        "add",
        "Ada",
        "--role",
        "admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    short = cli(
        local_env, "users", "add", "Bo", "--role", "viewer", "--password-stdin", stdin="short\n"
    )
    assert short.returncode == 1 and "shorter than 12 characters" in short.stderr
    common = cli(
        local_env,
        "users",
        "add",
        "Bo",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="password1234\n",
    )
    assert common.returncode == 1 and "most common" in common.stderr
    cli(
        local_env,
        "users",
        "add",
        "Cleo",
        "--role",
        "clinician",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert cli(local_env, "users", "disable", "Cleo").returncode == 0
    listed = cli(local_env, "users", "list").stdout
    assert "Ada: admin, active" in listed and "Cleo: clinician, disabled" in listed
    assert (
        cli(
            local_env, "users", "passwd", "Ada", "--password-stdin", stdin="another good one\n"
        ).returncode
        == 0
    )
    db = open_database(f"sqlite:///{Path(local_env['ANALYZER_DATA_DIR']) / 'analyzer.db'}")
    with db.transaction() as session:
        assert authenticate(session, "Ada", "another good one").role == "admin"
    with db.transaction() as session:
        actions = [r.action for r in audit_rows(session)]
    assert {"account_add", "account_disable", "account_password", "login"} <= set(actions)
    db.close()
    trail = cli(local_env, "audit")
    assert "account_add" in trail.stdout and trail.returncode == 0


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed pair for localhost, as the README's trial recipe makes it."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@contextlib.contextmanager
def clinic_server(env: dict[str, str], cert: Path, key: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "analyzer",
            "serve",
            "--clinic",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--cert",
            str(cert),
            "--key",
            str(key),
            "--idle-minutes",
            "20",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []  # read as they come, so that the log can be cut where it stops
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, "".join(lines)
            time.sleep(0.3)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        time.sleep(1)  # let the last page runs and websocket closings finish
        served = "".join(lines)  # while it served: its own shutdown may race a script thread
        process.send_signal(signal.SIGINT)  # as Ctrl-C: the server stops cleanly
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=10)
    assert "Traceback" not in served, served[-3000:]


def sign_in(page, url: str, name: str, password: str = PASSWORD) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_role("textbox", name="User name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def go_to(page, name: str, heading: str) -> None:
    """Open a page from the sidebar once the sign-in has finished: a click made while the
    app still reruns after signing in can be lost (seen once on a loaded machine)."""
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    expect(page.get_by_role("heading", name="Capture")).to_be_visible()
    page.get_by_role("link", name=heading).click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible()


def protect_audit(postgres_server, url: str, admin_url: str) -> None:
    """Hand the audit to a role of its own with the SQL lines that clinic mode asks for."""
    db = open_database(url)
    with db.transaction() as session:
        problem = audit_protection_problem(session)
    db.close()
    lines = [line.strip() for line in problem.splitlines()[1:]]
    assert len(lines) == 2, problem
    postgres_server.run_sql(admin_url, lines)


@pytest.fixture
def clinic(postgres_server, tmp_path):
    url, admin_url = postgres_server.app_url()
    db = open_database(url)
    with db.transaction() as session:
        for name, role in (
            ("ada", "admin"),
            ("cleo", "clinician"),
            ("vic", "viewer"),
            ("lou", "clinician"),
        ):
            add_account(session, name, role, PASSWORD)
    write_photo_variants(tmp_path / "in", ["2026-01-05_a.jpg"])
    import_folder(db, photo_store_for(db), tmp_path / "in", "Pat")
    with db.transaction() as session:
        pat = get_person(session, "Pat").id
    db.close()
    protect_audit(postgres_server, url, admin_url)
    env = {**os.environ, "ANALYZER_DB_URL": url, "ANALYZER_DATA_DIR": str(tmp_path / "data")}
    return url, env, pat


def test_clinic_mode_refuses_an_app_role_that_could_erase_the_audit(postgres_server, tmp_path):
    url, admin_url = postgres_server.app_url()
    db = open_database(url)  # the app's role makes the tables: it owns audit_event
    with db.transaction() as session:
        add_account(session, "ada", "admin", PASSWORD)
    with db.engine.connect() as connection:  # the attack: it can switch the guard off
        connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        assert connection.execute(text("DELETE FROM audit_event")).rowcount == 1
        connection.rollback()
    db.close()
    cert, key = make_certificate(tmp_path)
    env = {**os.environ, "ANALYZER_DB_URL": url, "ANALYZER_DATA_DIR": str(tmp_path / "data")}
    serve = ["serve", "--clinic", "--cert", str(cert), "--key", str(key)]
    refused = cli(env, *serve)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "owns the audit trail (audit_event)" in refused.stderr
    superuser = cli({**env, "ANALYZER_DB_URL": admin_url}, *serve)
    assert superuser.returncode == 2 and "a superuser" in superuser.stderr

    protect_audit(postgres_server, url, admin_url)  # the two lines of the message
    db = open_database(url)
    with db.transaction() as session:
        assert audit_protection_problem(session) is None
        record(session, "audit_view", account="ada")  # the app still adds and reads rows
        assert len(audit_rows(session)) == 2
    for attack in (
        "ALTER TABLE audit_event DISABLE TRIGGER USER",
        "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only",
        "CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END; $$",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        "ALTER TABLE audit_event OWNER TO CURRENT_USER",
    ):
        with pytest.raises(DBAPIError), db.engine.begin() as connection:
            connection.execute(text(attack))
    with db.transaction() as session:
        assert len(audit_rows(session)) == 2
    db.close()


def test_clinic_mode_in_a_browser_two_servers_one_database(clinic, tmp_path):
    url, env, pat = clinic
    cert, key = make_certificate(tmp_path)
    photo = tmp_path / "new.jpg"
    write_photo_variants(tmp_path / "more", ["x.jpg", "y.jpg", "new.jpg"])
    photo.write_bytes((tmp_path / "more" / "new.jpg").read_bytes())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with clinic_server(env, cert, key) as first, clinic_server(env, cert, key) as second:
        # TLS: https answers; plain http gets no page.
        unverified = ssl._create_unverified_context()
        with urllib.request.urlopen(first, context=unverified, timeout=30) as answer:
            assert answer.status == 200
        with pytest.raises(OSError):
            urllib.request.urlopen(first.replace("https", "http"), timeout=10).read()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)

            def fresh():
                context = browser.new_context(
                    ignore_https_errors=True, viewport={"width": 1400, "height": 2000}
                )
                page = context.new_page()
                page.set_default_timeout(90_000)
                requested: list[str] = []
                page.on("request", lambda request: requested.append(request.url))
                return page, requested

            # Nobody signed in: the login form and nothing else.
            page, requested = fresh()
            page.goto(first)
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            body = page.inner_text("body")
            assert "Capture" not in body and "Pat" not in body
            page.screenshot(path=str(SCREENSHOTS / "clinic-sign-in.png"))
            # A wrong password and an unknown name get the same sentence (the back-off that
            # follows repeated failures is timed in test_accounts.py, with a clock passed in).
            for name in ("lou", "nobody"):
                sign_in(page, first, name, "wrong password!")
                expect(page.get_by_text(WRONG_LOGIN)).to_be_visible()

            # A viewer sees Pat but may not save or delete.
            page, requested = fresh()
            sign_in(page, first, "vic")
            expect(page.get_by_role("heading", name="Capture")).to_be_visible()
            page.get_by_role("tab", name="Upload photos").click()
            page.locator("input[type=file][multiple]").set_input_files([str(photo)])
            expect(page.get_by_text("Your role (viewer) may not save captures.")).to_be_visible()
            expect(page.get_by_role("button", name="Save as rest")).to_be_disabled()
            page.get_by_role("link", name="Data").click()
            expect(page.get_by_text("Your role (viewer) may not delete people.")).to_be_visible()
            assert page.get_by_role("link", name="Audit").count() == 0

            # A clinician saves on the first server ...
            page, requested = fresh()
            sign_in(page, first, "cleo")
            page.get_by_role("tab", name="Upload photos").click()
            page.locator("input[type=file][multiple]").set_input_files([str(photo)])
            save = page.get_by_role("button", name="Save as rest")
            expect(save).to_be_enabled()
            save.click()
            expect(page.get_by_text("Saved (capture")).to_be_visible()
            page.get_by_role("button", name="Log out").click()
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            # ... and the second server shows that photo: the database holds it.
            other, other_requests = fresh()
            sign_in(other, second, "cleo")
            go_to(other, "cleo", "Compare")
            after = other.locator("img[alt^='After: ']").first  # the latest session: today's
            expect(after).to_be_visible(timeout=60_000)
            assert f"{dt.date.today():%d %b %Y}" in after.get_attribute("alt")
            other.screenshot(path=str(SCREENSHOTS / "clinic-second-server.png"), full_page=True)

            # An admin reads what the others did.
            admin, admin_requests = fresh()
            sign_in(admin, second, "ada")
            go_to(admin, "ada", "Audit")
            admin.wait_for_timeout(1500)
            admin.screenshot(path=str(SCREENSHOTS / "clinic-audit.png"), full_page=True)
            for log in (requested, other_requests, admin_requests):
                # Photos only inline: nothing from the media endpoint (fonts are /static/).
                assert not [u for u in log if is_media_photo(u)]
            browser.close()
    db = open_database(url)
    with db.transaction() as session:
        rows = audit_rows(session)
        by_action = {(r.action, r.account_name) for r in rows}
        assert ("login_failed", "lou") in by_action
        assert ("login", "vic") in by_action and ("logout", "cleo") in by_action
        saved = [r for r in rows if r.action == "save"]
        assert saved and saved[0].account_name == "cleo" and saved[0].person_ref == f"P{pat}"
        assert {("open_person", "vic"), ("open_person", "cleo")} <= by_action
    db.close()


def test_a_photo_is_never_served_by_the_media_endpoint_without_a_session(clinic, tmp_path):
    """Photos are inline; the media endpoint has nothing to give a client with no session."""
    _, env, _ = clinic
    cert, key = make_certificate(tmp_path)
    with clinic_server(env, cert, key) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(ignore_https_errors=True)
        page = context.new_page()
        page.set_default_timeout(90_000)
        sign_in(page, server, "cleo")
        page.get_by_role("tab", name="Upload photos").click()
        page.locator("input[type=file][multiple]").set_input_files([str(SAMPLE)])
        expect(page.get_by_text("Landmarks found")).to_be_visible()
        sources = page.eval_on_selector_all("img", "els => els.map(e => e.src)")
        assert any(s.startswith("data:image/jpeg;base64,") for s in sources)
        media = [s for s in sources if is_media_photo(s)]
        browser.close()
    assert media == []


def fetch(url: str, method: str = "GET", cookie: str | None = None) -> tuple[int, Message]:
    """A request as a script would send it: no browser, no cookie unless given."""
    request = urllib.request.Request(
        url,
        method=method,
        data=b"x" if method == "PUT" else None,
        headers={"Cookie": cookie} if cookie else {},
    )
    try:
        with urllib.request.urlopen(
            request, context=ssl._create_unverified_context(), timeout=30
        ) as answer:
            return answer.status, answer.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def test_clinic_http_headers_metrics_downloads_and_uploads(clinic, tmp_path):
    """Every answer has the security headers; metrics are closed; a prepared download is
    fetched by the browser that prepared it, and a cookie-less GET of its URL gets 404; an
    upload into a session that has not signed in is refused."""
    _, env, _ = clinic
    cert, key = make_certificate(tmp_path)
    with clinic_server(env, cert, key) as server, sync_playwright() as playwright:
        status, headers = fetch(server + "/")
        assert status == 200
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "HttpOnly" in headers["Set-Cookie"] and "Secure" in headers["Set-Cookie"]
        assert fetch(server + "/_stcore/metrics")[0] == 404
        assert fetch(server + "/_stcore/upload_file/any-session/any-file", "PUT")[0] == 403
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(ignore_https_errors=True)
        page = context.new_page()
        page.set_default_timeout(90_000)
        uploads: list[str] = []
        page.on("request", lambda r: uploads.append(r.url) if "/upload_file/" in r.url else None)
        sign_in(page, server, "cleo")
        expect(page.get_by_text("Signed in as cleo")).to_be_visible()
        page.get_by_role("tab", name="Upload photos").click()
        page.locator("input[type=file][multiple]").set_input_files([str(SAMPLE)])
        expect(page.get_by_text("Landmarks found")).to_be_visible()  # the browser uploads
        # The same upload URL (it names cleo's session) from a client without her cookie.
        foreign_upload = fetch(uploads[0], "PUT")[0]
        page.get_by_role("link", name="Data").click()
        expect(page.get_by_role("heading", name="Data")).to_be_visible()
        page.get_by_role("button", name="Prepare the CSV").click()
        with page.expect_download() as waiting:
            page.get_by_role("button", name="Download the CSV").click()
        url = waiting.value.url
        assert urlsplit(url).path.startswith("/media/")
        assert context.request.get(url).status == 200  # the browser that prepared it
        missing, headers = fetch(url)  # the same URL, without the browser's cookie
        made_up = fetch(url, cookie="analyzer_browser=made-up")[0]
        browser.close()
    assert (missing, made_up, foreign_upload) == (404, 404, 403)
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_an_idle_session_clears_the_screen_on_time_without_a_click(clinic, tmp_path):
    """The page's timer asks the server every 20 s: once the session has been idle too long
    (its last activity set back in the database, as if 21 minutes had passed with the page
    open), the patient's data leaves the screen with no click."""
    url, env, _ = clinic
    cert, key = make_certificate(tmp_path)
    with clinic_server(env, cert, key) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(ignore_https_errors=True).new_page()
        page.set_default_timeout(90_000)
        sign_in(page, server, "cleo")
        go_to(page, "cleo", "Trends")
        db = open_database(url)
        with db.transaction() as session:
            for sign_in_row in session.query(SignIn).filter(SignIn.ended_at.is_(None)):
                sign_in_row.last_seen_at -= dt.timedelta(minutes=21)  # --idle-minutes 20
        db.close()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Signed out after 20 idle minutes.")).to_be_visible()
        assert "Pat" not in page.inner_text("body")
        browser.close()
    db = open_database(url)
    with db.transaction() as session:
        reasons = [
            r.detail.get("reason")
            for r in audit_rows(session, account_name="cleo")
            if r.action == "logout"
        ]
    db.close()
    assert reasons == ["idle"]


def streamlit_client_sees(server: str, session_id: str, cookie: str | None) -> bytes:
    """What a client of our own, speaking Streamlit's websocket protocol, is sent when it
    connects asking to resume ``session_id`` and asks for a run of the page."""
    import asyncio
    import concurrent.futures

    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ClientState_pb2 import ClientState
    from websockets.asyncio.client import connect

    async def run() -> bytes:
        headers = {"Origin": server, **({"Cookie": cookie} if cookie else {})}
        received = b""
        async with connect(
            server.replace("https", "wss") + "/_stcore/stream",
            subprotocols=["streamlit", "no-xsrf", session_id],
            additional_headers=headers,
            ssl=ssl._create_unverified_context(),
        ) as socket:
            await socket.send(BackMsg(rerun_script=ClientState()).SerializeToString())
            try:
                while b"Signed in as" not in received and b"User name" not in received:
                    received += await asyncio.wait_for(socket.recv(), timeout=60)
            except TimeoutError:
                pass
        return received

    # In a thread of its own: Playwright's synchronous API holds this thread's event loop.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(run())).result()


def browser_session(playwright, server: str, name: str) -> tuple[str, str]:
    """Sign ``name`` in with a real browser, look at a photo (a viewer may), and close the
    tab; Streamlit keeps the session for a reconnect. Returns the session's id (it is in
    every upload URL) and the browser's cookie header."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.set_default_timeout(90_000)
    uploads: list[str] = []
    page.on("request", lambda r: uploads.append(r.url) if "/upload_file/" in r.url else None)
    sign_in(page, server, name)
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    page.get_by_role("tab", name="Upload photos").click()
    page.locator("input[type=file][multiple]").set_input_files([str(SAMPLE)])
    expect(page.get_by_text("Landmarks found")).to_be_visible()
    session_id = urlsplit(uploads[0]).path.split("/")[3]
    cookie = next(c for c in context.cookies() if c["name"] == "analyzer_browser")
    browser.close()
    return session_id, f"analyzer_browser={cookie['value']}"


def test_a_signed_in_sessions_id_from_another_client_gets_the_sign_in_form(clinic, tmp_path):
    """The review re-used a signed-in session's id (it is in every upload URL) from another
    client and was "Signed in as ...": now only the session's own browser resumes it."""
    _, env, _ = clinic
    cert, key = make_certificate(tmp_path)
    with clinic_server(env, cert, key) as server, sync_playwright() as playwright:
        session_id, own_cookie = browser_session(playwright, server, "cleo")

        def own_resumes() -> bytes:
            # Streamlit resumes a session only once its last websocket has closed.
            deadline = time.monotonic() + 60
            while True:
                time.sleep(2)
                seen = streamlit_client_sees(server, session_id, own_cookie)
                if b"Signed in as cleo" in seen or time.monotonic() > deadline:
                    return seen

        own_resumes()  # the session is there to be resumed ...
        time.sleep(2)
        foreign = streamlit_client_sees(server, session_id, None)  # ... but not by another
        own = own_resumes()  # ... and still there for its own browser
    assert b"User name" in foreign and b"Signed in as" not in foreign and b"Pat" not in foreign
    assert b"Signed in as cleo" in own  # the same request with her browser's cookie resumes


class StreamlitClient:
    """Our own client of Streamlit's websocket protocol, as the review's modified one: it
    sends whatever a browser could send, greyed-out buttons' clicks included."""

    def __init__(self, server: str, session_id: str, cookie: str) -> None:
        from websockets.sync.client import connect

        self.socket = connect(
            server.replace("https", "wss") + "/_stcore/stream",
            subprotocols=["streamlit", "no-xsrf", session_id],
            additional_headers={"Origin": server, "Cookie": cookie},
            ssl=ssl._create_unverified_context(),
        )

    def run(self, page_hash: str = "", click: str | None = None) -> list:
        """Ask for a run of the page (clicking the button whose id is ``click``); returns
        every ForwardMsg of that run."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ClientState_pb2 import ClientState
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        state = ClientState(page_script_hash=page_hash)
        if click:
            state.widget_states.widgets.append(WidgetState(id=click, trigger_value=True))
        self.socket.send(BackMsg(rerun_script=state).SerializeToString())
        # The run asked for starts with a new_session message of the whole page (a run of
        # the idle timer's fragment, or one still under way, may come first: passed over).
        messages: list = []
        while True:
            message = ForwardMsg.FromString(self.socket.recv(timeout=120))
            kind = message.WhichOneof("type")
            if kind == "new_session" and not message.new_session.fragment_ids_this_run:
                messages = [message]
            elif messages:
                messages.append(message)
                if kind == "script_finished":
                    return messages

    def close(self) -> None:
        self.socket.close()


def buttons(messages: list) -> dict[str, tuple[str, bool]]:
    """Each button's label -> (id, disabled) in a run's messages."""
    found = {}
    for message in messages:
        if message.WhichOneof("type") == "delta" and message.delta.HasField("new_element"):
            element = message.delta.new_element
            if element.WhichOneof("type") == "button":
                found[element.button.label] = (element.button.id, element.button.disabled)
    return found


def test_a_viewers_client_firing_greyed_out_buttons_over_the_websocket_is_refused(clinic, tmp_path):
    """The review's attack itself: a client speaking Streamlit's protocol sends the "clicked"
    message of each greyed-out export, report and delete button of a viewer's session."""
    url, env, _ = clinic
    cert, key = make_certificate(tmp_path)
    with clinic_server(env, cert, key) as server, sync_playwright() as playwright:
        # vic's own browser goes; her client of our own takes the session
        session_id, own_cookie = browser_session(playwright, server, "vic")
        navigation = None
        deadline = time.monotonic() + 60
        while navigation is None and time.monotonic() < deadline:
            # Streamlit resumes a session only once its browser's websocket has closed: until
            # then a connection gets a new session (the sign-in form, no page list).
            time.sleep(2)
            client = StreamlitClient(server, session_id, own_cookie)
            first = client.run()
            found = [m.navigation for m in first if m.WhichOneof("type") == "navigation"]
            if found:
                navigation = found[0]
            else:
                client.close()
        assert navigation is not None, "vic's session was never resumed"
        data_page = next(p.page_script_hash for p in navigation.app_pages if p.page_name == "Data")
        shown = buttons(client.run(data_page))
        fired = {}
        for start in ("Prepare the CSV", "Prepare the ZIP", "Prepare the PDF", "Delete everything"):
            label = next(label for label in shown if label.startswith(start))
            button_id, disabled = shown[label]
            assert disabled, label  # greyed out, and clicked anyway
            run = client.run(data_page, click=button_id)
            fired[start] = b"".join(m.SerializeToString() for m in run)
        client.close()
    for start, sent in fired.items():
        assert b"A viewer may not" in sent, start
        assert b"Download the" not in sent, start  # nothing prepared, nothing to download
    db = open_database(url)
    with db.transaction() as session:
        refused = sorted(
            r.detail["wanted"]
            for r in audit_rows(session, account_name="vic")
            if r.action == "refused"
        )
        assert get_person(session, "Pat") is not None  # not deleted
    db.close()
    assert refused == ["delete", "export", "export", "report"]
