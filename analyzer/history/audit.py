"""The append-only audit trail of clinic mode: adding a row, reading rows, their CSV.

Every look at or change of a person's data is an ``AuditEvent`` row
(``analyzer.history.models``); rows are only ever added (migration 0004's triggers refuse an
UPDATE or DELETE). A row names a person only pseudonymously ("P<person id>") and its
``detail`` is a few plain values: never a photo, never a person's name.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import io
import json
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from analyzer.history.models import Account, AuditEvent
from analyzer.history.spreadsheet import cell_text

#: What an audit row may record.
ACTIONS = (
    "login",
    "logout",
    "login_failed",
    "open_person",
    "list_people",
    "save",
    "import",
    "export",
    "delete",
    "report",
    "correct",
    "account_add",
    "account_disable",
    "account_password",
    "audit_export",
    "audit_view",
    "refused",
)
#: The audit's ``detail``: a few plain values, so that nobody stores a photo or a record in it.
MAX_DETAIL_ITEMS, MAX_DETAIL_TEXT = 20, 200

AUDIT_COLUMNS = ("at_utc", "account_name", "os_user", "action", "person_ref", "detail")


def utc_now() -> dt.datetime:
    """Now in UTC, without a zone (how accounts and the audit store time)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _check_detail(detail: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(detail, dict) or len(detail) > MAX_DETAIL_ITEMS:
        raise ValueError(f"an audit detail is a dict of at most {MAX_DETAIL_ITEMS} items")
    for key, value in detail.items():
        if not isinstance(key, str) or len(key) > 40:
            raise ValueError(f"audit detail key {key!r} is not a short string")
        if not (value is None or isinstance(value, bool | int | float | str)):
            raise ValueError(f"audit detail {key!r} is not a plain value")
        if isinstance(value, str) and len(value) > MAX_DETAIL_TEXT:
            raise ValueError(f"audit detail {key!r} is longer than {MAX_DETAIL_TEXT} characters")
    return dict(detail)


def _os_user() -> str:
    try:
        return getpass.getuser()[:80]
    except (OSError, KeyError):  # no user name in the environment nor the password database
        return "unknown"


def record(
    session: Session,
    action: str,
    *,
    account: Account | str | None = None,
    person_id: int | None = None,
    detail: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> AuditEvent:
    """Add an audit row: ``account`` (an ``Account`` or its name) did ``action``, to the person
    ``person_id`` if any. Without an account the row names the machine's user (the command
    line). ``detail`` holds a few plain values (at most 20, texts up to 200 characters): never
    a photo, never a person's name. The row is part of the session's transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; actions are {ACTIONS}")
    name = account.name if isinstance(account, Account) else account
    event = AuditEvent(
        at=now or utc_now(),
        account_name=name,
        os_user=None if name is not None else _os_user(),
        action=action,
        person_ref=None if person_id is None else f"P{int(person_id)}",
        detail=_check_detail(detail or {}),
    )
    session.add(event)
    session.flush()
    return event


#: The role that owns the audit in the README's recipe; the app connects as another one.
AUDIT_OWNER = "analyzer_audit"


def audit_protection_problem(session: Session) -> str | None:
    """Why the app's own database role could erase the audit, or None (PostgreSQL).

    The triggers that refuse an UPDATE, DELETE or TRUNCATE of ``audit_event`` bind everyone
    but whoever may drop or disable them: the table's owner (``ALTER TABLE ... DISABLE
    TRIGGER``), the trigger function's owner (``CREATE OR REPLACE FUNCTION``), a member of
    either, and a superuser. Clinic mode refuses to start as any of them; the sentence holds
    the two SQL lines that hand the audit to a role of its own. SQLite has no roles: None.
    """
    if session.get_bind().dialect.name != "postgresql":
        return None
    row = session.execute(
        text(
            "SELECT current_user, r.rolsuper, "
            "pg_has_role(current_user, c.relowner, 'MEMBER'), "
            "pg_has_role(current_user, p.proowner, 'MEMBER') "
            "FROM pg_class c, pg_proc p, pg_roles r "
            "WHERE c.oid = 'audit_event'::regclass "
            "AND p.oid = 'audit_event_refuse_change()'::regprocedure "
            "AND r.rolname = current_user"
        )
    ).one()
    user, superuser, owns_table, owns_function = row
    if superuser:
        return (
            f"the app connects to PostgreSQL as {user!r}, a superuser, who could switch off "
            "the audit's triggers and erase it: connect as an ordinary role (see the README)"
        )
    if not (owns_table or owns_function):
        return None
    app = '"' + str(user).replace('"', '""') + '"'
    return (
        f"the app's database role {user!r} owns the audit trail (audit_event), so it could "
        "switch off its triggers and erase it. As the database's administrator, run these "
        "two lines:\n"
        f"  CREATE ROLE {AUDIT_OWNER} NOLOGIN; ALTER TABLE audit_event OWNER TO {AUDIT_OWNER}; "
        f"ALTER FUNCTION audit_event_refuse_change() OWNER TO {AUDIT_OWNER};\n"
        f"  GRANT SELECT, INSERT ON audit_event TO {app}; "
        f"GRANT USAGE ON SEQUENCE audit_event_id_seq TO {app};"
    )


def _bound(when: dt.datetime | dt.date, *, end: bool) -> dt.datetime:
    if isinstance(when, dt.datetime):
        return when
    return dt.datetime.combine(when, dt.time.max if end else dt.time.min)


def audit_rows(
    session: Session,
    *,
    person_id: int | None = None,
    account_name: str | None = None,
    since: dt.datetime | dt.date | None = None,
    until: dt.datetime | dt.date | None = None,
) -> list[AuditEvent]:
    """Audit rows, newest first, filtered by person, account and time (UTC, both ends
    included; a date means its whole day)."""
    query = select(AuditEvent)
    if person_id is not None:
        query = query.where(AuditEvent.person_ref == f"P{int(person_id)}")
    if account_name is not None:
        query = query.where(AuditEvent.account_name == account_name)
    if since is not None:
        query = query.where(AuditEvent.at >= _bound(since, end=False))
    if until is not None:
        query = query.where(AuditEvent.at <= _bound(until, end=True))
    return list(session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())))


def audit_csv(rows: list[AuditEvent]) -> str:
    """The rows as CSV (``AUDIT_COLUMNS``; ``detail`` as JSON), every cell safe to open in a
    spreadsheet (``spreadsheet.cell_text``)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AUDIT_COLUMNS)
    for row in rows:
        cells = (
            row.at.isoformat(sep=" "),
            row.account_name or "",
            row.os_user or "",
            row.action,
            row.person_ref or "",
            json.dumps(row.detail or {}, sort_keys=True, ensure_ascii=False),
        )
        writer.writerow([cell_text(cell) for cell in cells])
    return out.getvalue()
