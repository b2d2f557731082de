"""Clinic accounts and the append-only audit trail, on an SQLite file and a PostgreSQL server."""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import io
import json
import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from argon2 import PasswordHasher
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError

from analyzer.history import accounts
from analyzer.history.accounts import (
    ACTIONS,
    MAX_FAILED_LOGINS,
    MAX_WAIT_MINUTES,
    PERMISSION_WORDS,
    PERMISSIONS,
    ROLES,
    WRONG_LOGIN,
    Account,
    AccountError,
    AuditEvent,
    LoginError,
    LoginThrottle,
    NotAllowedError,
    SessionEndedError,
    SignIn,
    add_account,
    audit_csv,
    audit_rows,
    authenticate,
    can,
    check_session,
    disable_account,
    end_session,
    end_sessions,
    get_account,
    guard,
    has_accounts,
    list_accounts,
    record,
    require,
    set_password,
    start_session,
)
from analyzer.history.storage import (
    Person,
    get_or_create_person,
    get_person,
    load_history,
    open_database,
)

MIGRATIONS = Path(open_database.__code__.co_filename).parent / "migrations"
OLD_DATABASE = Path(__file__).parent / "data" / "database_before_layers.db"
PASSWORD = "correct horse battery staple"
T0 = dt.datetime(2026, 11, 27, 9, 0)
MINUTE = dt.timedelta(minutes=1)
SECOND = dt.timedelta(seconds=1)
REFUSAL = "audit rows cannot be changed"


@pytest.fixture
def db(db_url):
    database = open_database(db_url)
    yield database
    database.close()


def login(
    db, name: str, password: str, now: dt.datetime | None = None, client: str = ""
) -> Account:
    """A login as the dashboard makes it: in a transaction of its own."""
    with db.transaction() as session:
        return authenticate(session, name, password, now=now, client=client)


def refusal(db, name: str, password: str, now: dt.datetime | None = None, client: str = "") -> str:
    with pytest.raises(LoginError) as refused:
        login(db, name, password, now, client)
    return str(refused.value)


def audit_table(db) -> list[tuple]:
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text("SELECT * FROM audit_event"))]


def migrate(engine, revision: str, *, down: bool = False) -> None:
    """Upgrade (or downgrade) to exactly ``revision``, as ``storage.upgrade`` does to head."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def table_names(db) -> set[str]:
    return set(inspect(db.engine).get_table_names())


# --- accounts ------------------------------------------------------------------------------


def test_accounts_are_added_listed_disabled_and_given_new_passwords(db):
    with db.transaction() as session:
        assert not has_accounts(session)
        add_account(session, "  Dr   Ana ", "admin", PASSWORD)
        add_account(session, "Ben", "clinician", "another long password")
        add_account(session, "Cleo", "viewer", "a third long password")
    with db.transaction() as session:
        assert has_accounts(session)
        accounts = list_accounts(session)
        assert [(a.name, a.role, a.disabled) for a in accounts] == [
            ("Ben", "clinician", False),
            ("Cleo", "viewer", False),
            ("Dr Ana", "admin", False),
        ]
        disable_account(session, "Cleo")
    assert "disabled" in refusal(db, "Cleo", "a third long password")
    assert login(db, "Dr Ana", PASSWORD).role == "admin"
    with db.transaction() as session:
        set_password(session, "Ben", "a brand new password")
    assert refusal(db, "Ben", "another long password") == WRONG_LOGIN
    assert login(db, "Ben", "a brand new password").name == "Ben"
    with db.transaction() as session:
        assert [a.name for a in list_accounts(session) if a.disabled] == ["Cleo"]
        changes = [(e.action, e.detail) for e in audit_rows(session) if e.action != "login"]
    assert ("account_disable", {"account": "Cleo"}) in changes
    assert ("account_password", {"account": "Ben"}) in changes
    assert ("account_add", {"account": "Dr Ana", "role": "admin"}) in changes


def test_a_duplicate_name_a_short_password_and_a_bad_name_or_role_are_refused(db):
    with db.transaction() as session:
        add_account(session, "Ana", "clinician", PASSWORD)
    for name, role, password, words in [
        ("Ana ", "viewer", PASSWORD, "already an account named 'Ana'"),
        ("Bo", "clinician", "short pw 11", "shorter than 12 characters"),
        ("", "clinician", PASSWORD, "name is empty"),
        ("x" * 81, "clinician", PASSWORD, "longer than 80 characters"),
        ("Bo\x1b[31m", "clinician", PASSWORD, "control characters"),
        ("Bo", "nurse", PASSWORD, "no role 'nurse'"),
    ]:
        with pytest.raises(AccountError, match=words), db.transaction() as session:
            add_account(session, name, role, password)
    with pytest.raises(AccountError, match="shorter than"), db.transaction() as session:
        set_password(session, "Ana", "123456789")
    with pytest.raises(AccountError, match="no account named 'Zoe'"), db.transaction() as s:
        disable_account(s, "Zoe")
    with db.transaction() as session:
        assert [a.name for a in list_accounts(session)] == ["Ana"]


def test_a_common_password_is_refused_even_repeated_or_with_digits_added(db):
    with db.transaction() as session:
        add_account(session, "Ana", "clinician", PASSWORD)
    refused = {
        "aaaaaaaaaaaa": "fewer than 5 different characters",
        "password1234": "most common",
        "Password 2024!": "most common",
        "qwertyqwerty": "most common",
        "1qaz2wsx3edc": "most common",
        "iloveyou iloveyou": "most common",
    }
    for password, words in refused.items():
        with pytest.raises(AccountError, match=words), db.transaction() as session:
            set_password(session, "Ana", password)
        with pytest.raises(AccountError, match=words), db.transaction() as session:
            add_account(session, "Bo", "viewer", password)
    with db.transaction() as session:  # an uncommon one of the same length is fine
        set_password(session, "Ana", "ochre kettle 7")
    assert login(db, "Ana", "ochre kettle 7").name == "Ana"


def test_the_last_enabled_admin_cannot_be_disabled(db):
    with db.transaction() as session:
        add_account(session, "Ana", "admin", PASSWORD)
    with pytest.raises(AccountError, match="last admin"), db.transaction() as session:
        disable_account(session, "Ana")
    with db.transaction() as session:
        add_account(session, "Ben", "admin", PASSWORD)
        disable_account(session, "Ana")
        assert get_account(session, "Ana").disabled


def test_the_hash_is_argon2id_and_the_password_is_nowhere_in_the_database(db, db_url):
    with db.transaction() as session:
        add_account(session, "Ana", "admin", PASSWORD)
        set_password(session, "Ana", PASSWORD + " 2")
    login(db, "Ana", PASSWORD + " 2")
    refusal(db, "Ana", PASSWORD)
    with db.transaction() as session:
        stored = get_account(session, "Ana").password_hash
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    secrets = [PASSWORD, PASSWORD + " 2"]
    with db.engine.connect() as connection:
        for table in inspect(db.engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    cell = value if isinstance(value, bytes) else str(value).encode()
                    assert not any(secret.encode() in cell for secret in secrets), table
    if db_url.startswith("sqlite"):  # nor in the file's bytes, pages and log included
        db.close()
        path = Path(db_url.removeprefix("sqlite:///"))
        for file in path.parent.glob(path.name + "*"):
            assert not any(secret.encode() in file.read_bytes() for secret in secrets)


# --- logging in ----------------------------------------------------------------------------


def test_failures_from_one_address_delay_that_address_more_and_more_and_no_other(db):
    with db.transaction() as session:
        add_account(session, "Ana", "clinician", PASSWORD)
    for attempt in range(MAX_FAILED_LOGINS):
        assert refusal(db, "Ana", f"wrong {attempt}", now=T0, client="10.0.0.9") == WRONG_LOGIN
    # Each refusal rolled the caller's transaction back, and the count still stands.
    with db.transaction() as session:
        (throttle,) = session.scalars(select(LoginThrottle)).all()
        assert (throttle.failures, throttle.wait_until) == (5, T0 + 2 * SECOND)
    # Within the wait even the right password gets the same sentence, and the wait doubles.
    assert refusal(db, "Ana", PASSWORD, now=T0 + SECOND, client="10.0.0.9") == WRONG_LOGIN
    assert refusal(db, "Ana", "wrong", now=T0 + 3 * SECOND, client="10.0.0.9") == WRONG_LOGIN
    with db.transaction() as session:
        assert session.scalar(select(LoginThrottle.wait_until)) == T0 + 11 * SECOND
    # The account's owner, elsewhere, is not delayed: nobody can lock an account out.
    assert login(db, "Ana", PASSWORD, now=T0 + SECOND, client="10.0.0.7").name == "Ana"
    # The wait is capped, and once it is over the right password works from there too.
    for _ in range(30):
        refusal(db, "Ana", "wrong", now=T0, client="10.0.0.9")
    with db.transaction() as session:
        waits = session.scalars(select(LoginThrottle.wait_until)).all()
    assert waits == [T0 + dt.timedelta(minutes=MAX_WAIT_MINUTES)]
    later = T0 + dt.timedelta(minutes=MAX_WAIT_MINUTES)
    assert login(db, "Ana", PASSWORD, now=later, client="10.0.0.9").name == "Ana"
    with db.transaction() as session:
        assert session.scalars(select(LoginThrottle)).all() == []  # a success resets it
        reasons = [e.detail.get("reason") for e in audit_rows(session, account_name="Ana")]
    assert reasons.count("wrong password") == MAX_FAILED_LOGINS  # then 1 + 1 + 30 waits
    assert reasons.count("waiting") == 32


def test_a_new_password_lifts_every_wait_of_the_account(db):
    with db.transaction() as session:
        add_account(session, "Ana", "clinician", PASSWORD)
    for _ in range(MAX_FAILED_LOGINS + 3):
        refusal(db, "Ana", "not the password", now=T0, client="10.0.0.9")
    with db.transaction() as session:
        set_password(session, "Ana", "a new long password")
    assert login(db, "Ana", "a new long password", now=T0, client="10.0.0.9").name == "Ana"


def test_an_unknown_name_a_wrong_password_and_a_wait_get_the_same_sentence(db):
    with db.transaction() as session:
        add_account(session, "Ana", "clinician", PASSWORD)
    unknown = refusal(db, "Anna", PASSWORD)
    wrong = refusal(db, "Ana", PASSWORD + "!")
    for _ in range(MAX_FAILED_LOGINS):
        refusal(db, "Ana", PASSWORD + "!", now=T0)
    waiting = refusal(db, "Ana", PASSWORD, now=T0)
    assert unknown == wrong == waiting == WRONG_LOGIN
    # Failures with unknown names are counted, not each recorded: rows at 1, 10, 100 ...
    for _ in range(11):
        refusal(db, "Nobody", "x", client="10.0.0.9")
    with db.transaction() as session:
        failed = [e for e in audit_rows(session) if e.action == "login_failed"]
    anonymous = [e.detail for e in failed if e.account_name is None]
    assert anonymous == [
        {"reason": "unknown name", "client": "10.0.0.9", "count": 10},
        {"reason": "unknown name", "client": "10.0.0.9", "count": 1},
        {"reason": "unknown name", "client": "", "count": 1},
    ]
    # The unknown name is not kept: it may be a password typed into the wrong field.
    assert "Anna" not in json.dumps([e.detail for e in failed])


def test_every_refusal_checks_exactly_one_password_hash(db, monkeypatch):
    """The hash dominates a sign-in's time (about 0.25 s here), so one check each makes an
    unknown name, a wrong password and a wait take the same time (measured by
    ``scripts/signin_timing.py``: medians within 10 %)."""
    with db.transaction() as session:
        add_account(session, "Ana", "clinician", PASSWORD)
    for _ in range(MAX_FAILED_LOGINS):
        refusal(db, "Ana", "wrong", now=T0, client="waiting")
    checked: list[str] = []
    real_verify = accounts._verify
    monkeypatch.setattr(accounts, "_verify", lambda h, p: checked.append(p) or real_verify(h, p))
    for name, password, client in (
        ("Nobody", "x1", "a"),
        ("Ana", "x2", "b"),
        ("Ana", PASSWORD, "waiting"),
    ):
        assert refusal(db, name, password, now=T0, client=client) == WRONG_LOGIN
    assert checked == ["x1", "x2", PASSWORD]


def test_a_disabled_account_is_said_so_only_to_whoever_knows_its_password(db):
    with db.transaction() as session:
        add_account(session, "Ana", "admin", PASSWORD)
        add_account(session, "Ben", "clinician", PASSWORD)
        disable_account(session, "Ben")
    assert refusal(db, "Ben", "not the password") == WRONG_LOGIN
    assert refusal(db, "Ben", PASSWORD) == "This account is disabled: ask an admin."


def test_a_hash_made_with_weaker_parameters_is_rehashed_at_login(db):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with db.transaction() as session:
        add_account(session, "Ana", "clinician", PASSWORD).password_hash = weak
    assert login(db, "Ana", PASSWORD).name == "Ana"
    with db.transaction() as session:
        stored = get_account(session, "Ana").password_hash
    assert stored != weak and stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert login(db, "Ana", PASSWORD).name == "Ana"


# --- permissions ---------------------------------------------------------------------------


def test_a_viewer_only_views_and_an_admin_does_what_a_clinician_does_and_more():
    assert set(PERMISSIONS) == set(ROLES)
    assert set(PERMISSION_WORDS) == set().union(*PERMISSIONS.values())
    assert [a for a in PERMISSION_WORDS if can("viewer", a)] == ["view"]
    clinician = {a for a in PERMISSION_WORDS if can("clinician", a)}
    admin = {a for a in PERMISSION_WORDS if can("admin", a)}
    assert clinician == {"view", "save", "import", "export", "report", "delete", "correct"}
    assert admin == clinician | {"accounts", "audit"}
    with pytest.raises(ValueError, match="unknown action"):
        can("admin", "exprot")
    with pytest.raises(ValueError, match="unknown role"):
        can("nurse", "view")
    viewer = Account(name="Cleo", role="viewer")
    with pytest.raises(NotAllowedError) as refused:
        require(viewer, "export")
    assert str(refused.value) == "A viewer may not export data: ask a clinician or an admin."
    with pytest.raises(NotAllowedError, match="A clinician may not manage accounts: ask an admin"):
        require(Account(name="Ben", role="clinician"), "accounts")
    require(viewer, "view")


# --- the audit -----------------------------------------------------------------------------


def test_the_guard_rereads_the_account_and_leaves_a_row_for_each_refusal(db):
    with db.transaction() as session:
        add_account(session, "cleo", "clinician", PASSWORD)
        add_account(session, "vic", "viewer", PASSWORD)
    with db.transaction() as session:
        assert guard(session, "cleo", "export", person_id=3, now=T0).name == "cleo"
    with db.transaction() as session:
        disable_account(session, "cleo")
    wanted = (
        ("vic", "export", "A viewer may not export data: ask a clinician or an admin."),
        ("cleo", "export", "This account is disabled: ask an admin."),
        ("nobody", "save", "Sign in first: this needs an account."),
        (None, "delete", "Sign in first: this needs an account."),
    )
    for name, action, sentence in wanted:
        with pytest.raises(NotAllowedError) as refused, db.transaction() as session:
            guard(session, name, action, person_id=3, now=T0)
        assert str(refused.value) == sentence
    with db.transaction() as session:  # the rows survived the callers' rollbacks
        rows = [
            (r.account_name, r.detail["wanted"], r.detail["reason"], r.person_ref)
            for r in audit_rows(session)
            if r.action == "refused"
        ]
    assert sorted(rows, key=str) == sorted(
        [
            ("vic", "export", "role", "P3"),
            ("cleo", "export", "disabled", "P3"),
            ("nobody", "save", "no account", "P3"),
            (None, "delete", "no account", "P3"),
        ],
        key=str,
    )


IDLE = dt.timedelta(minutes=30)


def open_session(db, name: str, now: dt.datetime = T0) -> str:
    with db.transaction() as session:
        return start_session(session, get_account(session, name), now=now)


def session_refusal(db, token: str, now: dt.datetime) -> str:
    with pytest.raises(SessionEndedError) as ended, db.transaction() as session:
        check_session(session, token, idle=IDLE, now=now)
    return str(ended.value)


def test_a_session_is_kept_by_its_tokens_hash_and_ends_after_idle_minutes(db):
    with db.transaction() as session:
        add_account(session, "cleo", "clinician", PASSWORD)
    token = open_session(db, "cleo")
    with db.transaction() as session:
        assert session.scalar(select(SignIn.token_hash)) != token  # only its hash is stored
        # Activity within the limit keeps it open; a timer's check does not count as activity.
        assert check_session(session, token, idle=IDLE, now=T0 + 29 * MINUTE).name == "cleo"
        check_session(session, token, idle=IDLE, now=T0 + 58 * MINUTE, touch=False)
    assert session_refusal(db, token, T0 + 60 * MINUTE) == "Signed out after 30 idle minutes."
    assert session_refusal(db, token, T0 + 61 * MINUTE) == "Signed out after 30 idle minutes."
    assert session_refusal(db, "a guessed token", T0) == "Sign in to go on."
    with db.transaction() as session:
        logouts = [r.detail for r in audit_rows(session) if r.action == "logout"]
    assert logouts == [{"reason": "idle"}]  # once, when it ended


def test_disabling_a_new_password_or_signing_out_everywhere_ends_every_session(db):
    with db.transaction() as session:
        add_account(session, "ada", "admin", PASSWORD)
        add_account(session, "cleo", "clinician", PASSWORD)
    ends = (
        (lambda s: disable_account(s, "cleo"), "This account was disabled: ask an admin."),
        (
            lambda s: set_password(s, "cleo", "another good one"),
            "The password was changed: sign in with the new one.",
        ),
        (lambda s: end_sessions(s, get_account(s, "cleo"), "everywhere"), "Signed out everywhere."),
    )
    for end, sentence in ends:
        with db.transaction() as session:
            get_account(session, "cleo").disabled = False
        tokens = [open_session(db, "cleo"), open_session(db, "cleo")]
        other = open_session(db, "ada")
        with db.transaction() as session:
            end(session)
        for token in tokens:
            assert session_refusal(db, token, T0 + MINUTE) == sentence
        with db.transaction() as session:  # another account's session goes on
            assert check_session(session, other, idle=IDLE, now=T0 + MINUTE).name == "ada"
    token = open_session(db, "ada")
    with db.transaction() as session:
        end_session(session, token)
    assert session_refusal(db, token, T0 + MINUTE) == "Signed out."
    with db.transaction() as session:
        assert check_session(session, other, idle=IDLE, now=T0 + MINUTE).name == "ada"


def test_audit_rows_are_filtered_by_person_account_and_day_newest_first(db):
    with db.transaction() as session:
        ana = add_account(session, "Ana", "clinician", PASSWORD)
        add_account(session, "Ben", "viewer", PASSWORD)
        first = get_or_create_person(session, "Eva Example")
        second = get_or_create_person(session, "Max Example")
        session.flush()
        p1, p2 = first.id, second.id
        day = dt.timedelta(days=1)
        record(session, "open_person", account=ana, person_id=p1, now=T0)
        record(session, "open_person", account="Ben", person_id=p2, now=T0 + day)
        record(session, "export", account=ana, person_id=p1, detail={"files": 3}, now=T0 + day)
        record(session, "open_person", account="Ben", person_id=p1, now=T0 + 2 * day)
        record(session, "import", person_id=p2, detail={"photos": 4}, now=T0 + 3 * day)
    with db.transaction() as session:
        seen = [(e.account_name, e.action, e.at) for e in audit_rows(session, person_id=p1)]
        assert seen == [
            ("Ben", "open_person", T0 + 2 * day),
            ("Ana", "export", T0 + day),
            ("Ana", "open_person", T0),
        ]
        assert {e.person_ref for e in audit_rows(session, person_id=p1)} == {f"P{p1}"}
        by_ben = audit_rows(session, account_name="Ben", since=T0)
        assert [e.person_ref for e in by_ben] == [f"P{p1}", f"P{p2}"]
        on_day_two = audit_rows(session, since=(T0 + day).date(), until=(T0 + day).date())
        assert [e.action for e in on_day_two] == ["export", "open_person"]
        assert [e.id for e in on_day_two] == sorted((e.id for e in on_day_two), reverse=True)
        window = audit_rows(session, person_id=p2, since=T0 + day, until=T0 + 3 * day)
        assert [e.action for e in window] == ["import", "open_person"]
        cli = window[0]
        assert (cli.account_name, cli.os_user, cli.detail) == (
            None,
            getpass.getuser(),
            {"photos": 4},
        )
        everything = json.dumps([[e.os_user, e.person_ref, e.detail] for e in audit_rows(session)])
    assert "Example" not in everything  # people appear only as P<id>


def test_an_audit_row_holds_a_known_action_and_a_few_plain_values_only(db):
    with db.transaction() as session:
        with pytest.raises(ValueError, match="unknown audit action"):
            record(session, "peek")
        with pytest.raises(ValueError, match="not a plain value"):
            record(session, "save", detail={"photo": b"\xff\xd8\xff"})
        with pytest.raises(ValueError, match="longer than 200"):
            record(session, "save", detail={"note": "x" * 201})
        with pytest.raises(ValueError, match="at most 20"):
            record(session, "save", detail={f"k{i}": i for i in range(21)})
        assert set(ACTIONS) >= {"login", "open_person", "export", "audit_export"}
    assert audit_table(db) == []


def test_audit_csv_lists_every_row_with_formula_cells_defused(db):
    with db.transaction() as session:
        # The account is added the day before: the export covers only the two rows since T0.
        add_account(session, "=HYPERLINK(1)", "clinician", PASSWORD, now=T0 - dt.timedelta(days=1))
        record(
            session,
            "report",
            account="=HYPERLINK(1)",
            person_id=7,
            detail={"expression": "rest"},
            now=T0,
        )
        record(session, "audit_export", detail={"rows": 1}, now=T0 + dt.timedelta(hours=1))
        text_ = audit_csv(audit_rows(session, since=T0, until=T0 + dt.timedelta(hours=2)))
    rows = list(csv.reader(io.StringIO(text_)))
    assert len(rows) == 3
    assert rows[0] == ["at_utc", "account_name", "os_user", "action", "person_ref", "detail"]
    assert rows[1] == [
        "2026-11-27 10:00:00",
        "",
        getpass.getuser(),
        "audit_export",
        "",
        '{"rows": 1}',
    ]
    assert rows[2] == [
        "2026-11-27 09:00:00",
        "'=HYPERLINK(1)",
        "",
        "report",
        "P7",
        '{"expression": "rest"}',
    ]


def test_the_database_refuses_to_change_or_delete_an_audit_row(db, db_url):
    with db.transaction() as session:
        record(session, "open_person", account="Ana", person_id=1, now=T0)
        record(session, "export", account="Ana", person_id=1, detail={"files": 2}, now=T0)
        person = get_or_create_person(session, "Eva")
    before = audit_table(db)
    statements = [
        "UPDATE audit_event SET account_name = 'Ben'",
        "UPDATE audit_event SET detail = '{}' WHERE action = 'export'",
        "DELETE FROM audit_event WHERE action = 'export'",
        "DELETE FROM audit_event",
    ]
    if db_url.startswith("postgresql"):
        statements.append("TRUNCATE audit_event")
    for statement in statements:
        with pytest.raises(DBAPIError, match=REFUSAL), db.engine.begin() as connection:
            connection.exec_driver_sql(statement)
    with pytest.raises(DBAPIError, match=REFUSAL), db.transaction() as session:
        session.delete(session.scalars(select(AuditEvent)).first())
    with pytest.raises(DBAPIError, match=REFUSAL), db.transaction() as session:
        session.scalars(select(AuditEvent)).first().action = "login"
    assert audit_table(db) == before
    # Deleting a person leaves the rows that name them pseudonymously.
    with db.transaction() as session:
        session.delete(session.get(Person, person.id))
    assert audit_table(db) == before


# --- migration -----------------------------------------------------------------------------


def test_a_database_made_at_0003_upgrades_to_0004_keeping_its_data(tmp_path):
    old = tmp_path / "old.db"
    shutil.copy(OLD_DATABASE, old)  # made at 0002
    url = f"sqlite:///{old}"
    before = open_database(url, migrate=False)
    migrate(before.engine, "0003")
    captures = "SELECT id, person_id, measures FROM capture ORDER BY id"  # the 0003 columns
    with before.transaction() as session:
        rows = session.execute(text(captures)).all()
    assert "account" not in table_names(before)
    before.close()
    db = open_database(url)
    with db.transaction() as session:
        assert session.execute(text("SELECT version_num FROM alembic_version")).scalar() >= "0004"
        assert session.execute(text(captures)).all() == rows
        assert load_history(session, get_person(session, "Before the move"))
        assert not has_accounts(session)
        add_account(session, "Ana", "admin", PASSWORD)
        record(session, "open_person", account="Ana", person_id=1)
    assert login(db, "Ana", PASSWORD).name == "Ana"
    with pytest.raises(DBAPIError, match=REFUSAL), db.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit_event")
    assert len(rows) == 1 and len(audit_table(db)) == 3
    db.close()


def test_0004_downgrades_to_0003_and_upgrades_again(db_url):
    db = open_database(db_url, migrate=False)
    migrate(db.engine, "0003")
    with db.engine.begin() as connection:  # the person table as it was at 0003
        connection.execute(
            text(
                "INSERT INTO person (name, affected_side, notes, created_at) "
                "VALUES ('Eva', 'none', '', '2026-01-01')"
            )
        )
    migrate(db.engine, "0004")
    assert {"account", "audit_event"} <= table_names(db)
    migrate(db.engine, "0003", down=True)
    assert not {"account", "audit_event"} & table_names(db)
    migrate(db.engine, "0004")  # the triggers and the function were dropped with the tables
    with db.transaction() as session:
        assert session.execute(text("SELECT count(*) FROM person WHERE name = 'Eva'")).scalar()
        record(session, "login", account="Ana")
    with pytest.raises(DBAPIError, match=REFUSAL), db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_event SET action = 'logout'")
    db.close()
