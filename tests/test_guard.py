"""The one server-side guard: every action of the dashboard re-reads the account and refuses,
with an audit row, what its role may not do, even when a client sends the click of a
greyed-out control (AppTest, like a modified websocket client, clicks disabled widgets)."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from analyzer.history.accounts import (
    Account,
    add_account,
    audit_rows,
    disable_account,
    set_password,
)
from analyzer.history.datadir import PhotoStore
from analyzer.history.importer import import_folder
from analyzer.history.storage import Capture, Person, open_database
from tests.conftest import ROOT, SAMPLE, write_photo_variants

PASSWORD = "correct horse 1"
ACCOUNTS = (("ada", "admin"), ("cleo", "clinician"), ("vic", "viewer"), ("dora", "clinician"))


@pytest.fixture(scope="module")
def clinic_data(tmp_path_factory):
    """A data folder with four accounts and one person, Pat, with one capture."""
    folder = tmp_path_factory.mktemp("guard") / "data"
    db = open_database(f"sqlite:///{folder / 'analyzer.db'}")
    with db.transaction() as session:
        for name, role in ACCOUNTS:
            add_account(session, name, role, PASSWORD)
    write_photo_variants(folder.parent / "in", ["2026-01-05_a.jpg"])
    import_folder(db, PhotoStore(folder / "photos"), folder.parent / "in", "Pat")
    db.close()
    return folder


@pytest.fixture
def data(clinic_data, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(clinic_data, copy)
    return copy


def signed_in(monkeypatch, data, name: str, page: str) -> AppTest:
    """The app as ``name`` sees it after signing in through the form, on ``page``. No
    ANALYZER_CLINIC: a database with accounts asks for a sign-in by itself."""
    monkeypatch.setenv("ANALYZER_DATA_DIR", str(data))
    monkeypatch.delenv("ANALYZER_DB_URL", raising=False)
    monkeypatch.delenv("ANALYZER_CLINIC", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert [t.value for t in at.title] == ["Sign in"]
    at.text_input[0].input(name)
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    at.switch_page(f"ui/pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def button(at: AppTest, start: str):
    return next(b for b in at.button if b.label.startswith(start))


def refusals(data, name: str) -> list[tuple[str | None, str | None, str | None]]:
    db = open_database(f"sqlite:///{data / 'analyzer.db'}")
    with db.transaction() as session:
        rows = audit_rows(session, account_name=name)
        found = [
            (r.detail.get("wanted"), r.detail.get("reason"), r.person_ref)
            for r in rows
            if r.action == "refused"
        ]
    db.close()
    return found


def people_and_captures(data) -> tuple[list[str], int]:
    db = open_database(f"sqlite:///{data / 'analyzer.db'}")
    with db.transaction() as session:
        names = sorted(n for (n,) in session.query(Person.name))
        captures = session.query(Capture).count()
    db.close()
    return names, captures


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_a_viewer_firing_every_greyed_out_action_of_the_data_page_is_refused(monkeypatch, data):
    at = signed_in(monkeypatch, data, "vic", "data")
    refusal = "A viewer may not {}: ask a clinician or an admin."
    # Nothing to download is registered for a viewer: no button, no file behind it.
    assert len(at.get("download_button")) == 0
    fired = [
        ("Add", "save", "save captures"),
        ("Rename", "save", "save captures"),
        ("Prepare the CSV", "export", "export data"),
        ("Prepare the ZIP", "export", "export data"),
        ("Prepare the PDF", "report", "make PDF reports"),
    ]
    at.text_input(key="confirm-delete").input("Pat").run()
    fired.append(("Delete everything", "delete", "delete people"))
    for label, _, words in fired:
        control = button(at, label)
        assert control.disabled, label  # greyed out in the browser ...
        control.click().run()  # ... and sent anyway
        assert not at.exception, [e.value for e in at.exception]
        assert refusal.format(words) in errors(at), label
        assert len(at.get("download_button")) == 0, label
    assert not {"csv", "zip", "report"} & set(at.session_state.filtered_state)
    assert people_and_captures(data) == (["Pat"], 1)  # nothing added, renamed or deleted
    rows = refusals(data, "vic")
    assert sorted(w for w, _, _ in rows) == sorted(w for _, w, _ in fired)
    assert {reason for _, reason, _ in rows} == {"role"}
    # Each refusal of an action on Pat names Pat (pseudonymously); Add names nobody yet.
    assert sum(ref is not None for _, _, ref in rows) == len(fired) - 1


def test_a_viewer_firing_save_on_the_capture_page_is_refused(monkeypatch, data):
    at = signed_in(monkeypatch, data, "vic", "capture")
    at.file_uploader[0].set_value(("new.png", SAMPLE.read_bytes(), "image/png")).run()
    save = button(at, "Save as rest")
    assert save.disabled
    save.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "A viewer may not save captures: ask a clinician or an admin." in errors(at)
    assert people_and_captures(data) == (["Pat"], 1)
    assert refusals(data, "vic") == [("save", "role", "P1")]


def test_a_viewer_firing_a_correction_is_refused(monkeypatch, data):
    at = signed_in(monkeypatch, data, "vic", "correct")
    reset = button(at, "Reset every point")
    assert reset.disabled
    reset.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert refusals(data, "vic") == [("correct", "role", None)]
    assert "A viewer may not correct captures" in "\n".join(errors(at))


def test_reading_the_audit_is_recorded_and_ends_once_the_role_changes(monkeypatch, data):
    at = signed_in(monkeypatch, data, "cleo", "audit")
    assert "Audit" not in [t.value for t in at.title]  # no such page for a clinician
    at = signed_in(monkeypatch, data, "ada", "audit")
    assert len(at.dataframe) == 1 and not at.error
    db = open_database(f"sqlite:///{data / 'analyzer.db'}")
    with db.transaction() as session:
        assert next(r.action for r in audit_rows(session, account_name="ada")) == "audit_view"
        session.scalar(select(Account).where(Account.name == "ada")).role = "clinician"
    at.run()  # the page open in ada's browser, at its next message: the role is read again
    assert "Audit" not in [t.value for t in at.title]
    assert "Signed in as ada (clinician)" in [c.value for c in at.sidebar.caption]
    with db.transaction() as session:
        views = [r for r in audit_rows(session, account_name="ada") if r.action == "audit_view"]
    db.close()
    assert len(views) == 1


def test_a_clinician_does_every_action_and_each_leaves_its_row(monkeypatch, data):
    at = signed_in(monkeypatch, data, "cleo", "data")
    add_name = next(t for t in at.text_input if t.label == "Name or pseudonym")
    add_name.input("Quinn")
    button(at, "Add").click().run()
    assert people_and_captures(data)[0] == ["Pat", "Quinn"]
    chosen = next(s for s in at.selectbox if s.label == "Person" and "Pat" in s.options)
    chosen.select("Pat").run()
    button(at, "Prepare the CSV").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [d.label for d in at.get("download_button")] == ["Download the CSV"]
    assert at.session_state["csv"][1].count(b"\n") == 2  # the header and the one capture
    db = open_database(f"sqlite:///{data / 'analyzer.db'}")
    with db.transaction() as session:
        actions = [(r.action, r.person_ref) for r in audit_rows(session, account_name="cleo")]
    db.close()
    assert ("export", "P1") in actions and ("open_person", "P1") in actions
    assert actions.count(("list_people", None)) == 1  # the list of everyone, once a session
    assert ("save", "P2") in actions  # the person added
    assert not refusals(data, "cleo")


def logouts(data, name: str) -> list[str]:
    db = open_database(f"sqlite:///{data / 'analyzer.db'}")
    with db.transaction() as session:
        rows = audit_rows(session, account_name=name)
        found = [r.detail.get("reason") for r in rows if r.action == "logout"]
    db.close()
    return found


def change_account(data, what, *args) -> None:
    db = open_database(f"sqlite:///{data / 'analyzer.db'}")
    with db.transaction() as session:
        what(session, *args)
    db.close()


@pytest.mark.parametrize(
    ("change", "reason", "sentence"),
    [
        ((disable_account, "dora"), "disabled", "This account was disabled: ask an admin."),
        (
            (set_password, "dora", "another good password"),
            "new password",
            "The password was changed: sign in with the new one.",
        ),
    ],
)
def test_disabling_an_account_or_changing_its_password_ends_its_open_session(
    monkeypatch, data, change, reason, sentence
):
    at = signed_in(monkeypatch, data, "dora", "data")
    assert not button(at, "Prepare the ZIP").disabled
    change_account(data, *change)
    button(at, "Prepare the ZIP").click().run()  # the session's next message
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Sign in"]
    assert sentence in [i.value for i in at.info]
    assert "zip" not in at.session_state.filtered_state
    assert len(at.get("download_button")) == 0
    assert logouts(data, "dora") == [reason]


def test_a_callback_of_an_ended_session_is_refused_before_the_page_runs(monkeypatch, data):
    """Callbacks run before the page's own check: the guard itself asks for the session."""
    at = signed_in(monkeypatch, data, "dora", "correct")
    change_account(data, disable_account, "dora")
    button(at, "Reset every point").click().run()
    assert [t.value for t in at.title] == ["Sign in"]
    assert refusals(data, None) == [("correct", "no account", None)]


def test_sign_out_everywhere_ends_the_accounts_other_sessions(monkeypatch, data):
    first = signed_in(monkeypatch, data, "cleo", "data")
    second = signed_in(monkeypatch, data, "cleo", "trends")
    button(second, "Sign out everywhere").click().run()
    assert [t.value for t in second.title] == ["Sign in"]
    button(first, "Prepare the CSV").click().run()
    assert [t.value for t in first.title] == ["Sign in"]
    assert "Signed out everywhere." in [i.value for i in first.info]
    assert "csv" not in first.session_state.filtered_state
    assert logouts(data, "cleo") == ["everywhere"]


def test_log_out_ends_this_session_only(monkeypatch, data):
    first = signed_in(monkeypatch, data, "cleo", "data")
    second = signed_in(monkeypatch, data, "cleo", "trends")
    button(second, "Log out").click().run()
    assert [t.value for t in second.title] == ["Sign in"]
    first.run()
    assert "Signed in as cleo (clinician)" in [c.value for c in first.sidebar.caption]
    assert logouts(data, "cleo") == ["logout"]
