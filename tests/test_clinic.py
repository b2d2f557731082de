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
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from analyzer.history.accounts import add_account, audit_rows, authenticate
from analyzer.history.importer import import_folder
from analyzer.history.photos import photo_store_for
from analyzer.history.storage import get_person, open_database
from tests.conftest import ROOT, SAMPLE, write_photo_variants
from tests.test_browser import ARGS, CHROMIUM, SCREENSHOTS, free_port, is_media_photo

PASSWORD = "correct horse 1"
# Pages render slower on a loaded 2-core machine than Playwright's 5-s default allows.
expect.set_options(timeout=30_000)


def cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analyzer", *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=120)  # fmt: skip


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


def test_accounts_from_the_command_line(local_env):
    added = cli(local_env, "users", "add", "Ada", "--role", "admin", "--password-stdin",
                stdin=PASSWORD + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    short = cli(local_env, "users", "add", "Bo", "--role", "viewer", "--password-stdin",
                stdin="short\n")  # fmt: skip
    assert short.returncode == 1 and "shorter than 10 characters" in short.stderr
    cli(local_env, "users", "add", "Cleo", "--role", "clinician", "--password-stdin",
        stdin=PASSWORD + "\n")  # fmt: skip
    assert cli(local_env, "users", "disable", "Cleo").returncode == 0
    listed = cli(local_env, "users", "list").stdout
    assert "Ada: admin, active" in listed and "Cleo: clinician, disabled" in listed
    assert cli(local_env, "users", "passwd", "Ada", "--password-stdin",
               stdin="another good one\n").returncode == 0  # fmt: skip
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
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)  # fmt: skip
    return cert, key


@contextlib.contextmanager
def clinic_server(env: dict[str, str], cert: Path, key: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "analyzer", "serve", "--clinic", "--host", "127.0.0.1",
         "--port", str(port), "--cert", str(cert), "--key", str(key), "--idle-minutes", "20"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, process.stdout.read()
            time.sleep(0.3)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)  # as Ctrl-C: Streamlit stops cleanly
        try:
            log = process.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            process.kill()
            log = process.communicate()[0]
    # While it served (Streamlit's own shutdown may race a finishing script thread).
    served = log.split("Stopping...")[0]
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


@pytest.fixture
def clinic(postgres_server, tmp_path):
    url = postgres_server.url()
    db = open_database(url)
    with db.transaction() as session:
        for name, role in (("ada", "admin"), ("cleo", "clinician"), ("vic", "viewer"),
                           ("lou", "clinician")):  # fmt: skip
            add_account(session, name, role, PASSWORD)
    write_photo_variants(tmp_path / "in", ["2026-01-05_a.jpg"])
    import_folder(db, photo_store_for(db), tmp_path / "in", "Pat")
    with db.transaction() as session:
        pat = get_person(session, "Pat").id
    db.close()
    env = {**os.environ, "ANALYZER_DB_URL": url, "ANALYZER_DATA_DIR": str(tmp_path / "data")}
    return url, env, pat


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
                context = browser.new_context(ignore_https_errors=True,
                                              viewport={"width": 1400, "height": 2000})  # fmt: skip
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
            # Five wrong passwords lock the account; then even the right one is refused.
            for _ in range(5):
                sign_in(page, first, "lou", "wrong password!")
                expect(page.get_by_text("The name or the password is wrong")).to_be_visible()
            sign_in(page, first, "lou")
            expect(page.get_by_text("locked for 15 more minutes")).to_be_visible()

            # A viewer sees Pat but may not save or delete.
            page, requested = fresh()
            sign_in(page, first, "vic")
            expect(page.get_by_role("heading", name="Capture")).to_be_visible()
            page.get_by_role("tab", name="Upload photos").click()
            page.locator("input[type=file]").set_input_files([str(photo)])
            expect(page.get_by_text("Your role (viewer) may not save captures.")).to_be_visible()
            expect(page.get_by_role("button", name="Save as rest")).to_be_disabled()
            page.get_by_role("link", name="Data").click()
            expect(page.get_by_text("Your role (viewer) may not delete people.")).to_be_visible()
            assert page.get_by_role("link", name="Audit").count() == 0

            # A clinician saves on the first server ...
            page, requested = fresh()
            sign_in(page, first, "cleo")
            page.get_by_role("tab", name="Upload photos").click()
            page.locator("input[type=file]").set_input_files([str(photo)])
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
        page.locator("input[type=file]").set_input_files([str(SAMPLE)])
        expect(page.get_by_text("Landmarks found")).to_be_visible()
        sources = page.eval_on_selector_all("img", "els => els.map(e => e.src)")
        assert any(s.startswith("data:image/jpeg;base64,") for s in sources)
        media = [s for s in sources if is_media_photo(s)]
        browser.close()
    assert media == []
