"""Clinic mode: accounts, roles and an append-only audit trail in the history database.

Several clinicians share one database; each has an account with a role, and every look at or
change of a person's data is an ``AuditEvent`` row ("who saw this patient's photos?"). The
rows are only ever added: migration 0004 installs triggers that make the database itself
refuse an UPDATE or DELETE on ``audit_event``, on PostgreSQL and SQLite alike.

The audit names a person only pseudonymously (``person_ref`` "P<person id>") and its
``detail`` is a small dict of plain values: never a photo, never a person's name. Times are
UTC, stored without a zone (SQLite has none); the page shows them in local time.

A database without accounts is the single-user local app (``has_accounts``); once there is
one, the dashboard asks for a login. Rows made from the command line carry no account but
the operating-system user who ran it (``os_user``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analyzer.errors import AnalyzerError

# Moved to ``audit`` and ``models``; the names imported "as" themselves stay importable here.
from analyzer.history.audit import ACTIONS as ACTIONS
from analyzer.history.audit import AUDIT_COLUMNS as AUDIT_COLUMNS
from analyzer.history.audit import AUDIT_OWNER as AUDIT_OWNER
from analyzer.history.audit import audit_csv as audit_csv
from analyzer.history.audit import audit_protection_problem as audit_protection_problem
from analyzer.history.audit import audit_rows as audit_rows
from analyzer.history.audit import record, utc_now
from analyzer.history.models import MAX_ACCOUNT_NAME_LENGTH, Account, LoginThrottle, SignIn
from analyzer.history.models import AuditEvent as AuditEvent

ROLES = ("clinician", "viewer", "admin")
#: Sign-in back-off: this many failures in a row, for one account from one client address,
#: are free; each further one doubles the wait before that client may try that account again
#: (2 s, 4 s, 8 s ...), up to ``MAX_WAIT_MINUTES``. Another address is not delayed, so nobody
#: can lock an admin out from elsewhere; ``users passwd`` on the server lifts every wait.
MAX_FAILED_LOGINS = 5
MAX_WAIT_MINUTES = 15
MIN_PASSWORD_LENGTH = 12
MIN_DISTINCT_CHARACTERS = 5
#: The 10,000 most common passwords (from zxcvbn's list, MIT): none of them is accepted, nor
#: one of them repeated or followed by digits and symbols ("password1234", "qwertyqwerty").
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common_passwords.txt"

#: What each role may do. A viewer looks at people, trends and reports on screen and changes
#: nothing; nothing leaves the machine through a viewer either (no export, no PDF report: both
#: carry photos). A clinician works with the data; an admin also manages accounts and reads
#: the audit trail.
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"view"}),
    "clinician": frozenset({"view", "save", "import", "export", "report", "delete", "correct"}),
    "admin": frozenset(
        {"view", "save", "import", "export", "report", "delete", "correct", "accounts", "audit"}
    ),
}
#: Each permission in words, for the sentence that refuses it.
PERMISSION_WORDS = {
    "view": "look at people, trends and reports",
    "save": "save captures",
    "import": "import photos",
    "export": "export data",
    "report": "make PDF reports",
    "delete": "delete people",
    "correct": "correct captures",
    "accounts": "manage accounts",
    "audit": "read the audit trail",
}

# Argon2id with argon2-cffi's defaults: RFC 9106's second recommended option (t=3 passes,
# 64 MiB, 4 lanes), the memory-hard choice for machines that cannot spare 2 GiB per login.
# The parameters live in each hash, so changing them later rehashes on the next login.
_HASHER = PasswordHasher()


class AccountError(AnalyzerError):
    """An account cannot be created, changed or used as asked."""


class LoginError(AccountError):
    """A login was refused (wrong name or password, a disabled or a locked account)."""


class NotAllowedError(AccountError):
    """The account's role does not allow the action."""


class SessionEndedError(AccountError):
    """A signed-in session is over (log-out, idle time, or its account changed)."""


#: The one sentence for an unknown name and a wrong password, so names cannot be probed.
WRONG_LOGIN = (
    "The name or the password is wrong, or this name had too many failed tries from here "
    "lately: check both and try again in a minute."
)


# --- accounts ------------------------------------------------------------------------------


def clean_account_name(name: str) -> str:
    """An account name as stored: runs of white space as one space, trimmed. Raises
    ``AccountError`` for an empty name, control characters or more than 80 characters."""
    cleaned = " ".join(str(name).split())
    if not cleaned:
        raise AccountError("The account name is empty: give a name.")
    if not cleaned.isprintable():
        raise AccountError("The account name holds control characters: type it plainly.")
    if len(cleaned) > MAX_ACCOUNT_NAME_LENGTH:
        raise AccountError(
            f"The account name is longer than {MAX_ACCOUNT_NAME_LENGTH} characters: shorten it."
        )
    return cleaned


def _check_password(password: str) -> None:
    advice = "(a few unrelated words are easy to remember)"
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"The password is shorter than {MIN_PASSWORD_LENGTH} characters: choose a longer "
            f"one {advice}."
        )
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise AccountError(
            f"The password has fewer than {MIN_DISTINCT_CHARACTERS} different characters: "
            f"choose another {advice}."
        )
    if is_common_password(password):
        raise AccountError(
            "The password is one of the most common ones (or one of them repeated or with "
            f"digits added), which are tried first: choose another {advice}."
        )


@functools.cache
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and line[0] != "#")


def is_common_password(password: str) -> bool:
    """Whether ``password``, ignoring case and spaces, is one of ``COMMON_PASSWORDS``, one
    of them followed by digits and symbols, or one of them repeated."""
    text = "".join(str(password).lower().split())
    forms = {text, text.rstrip("0123456789!@#$%^&*()-_=+.,;:?")}
    for form in list(forms):
        for size in range(1, len(form) // 2 + 1):
            if len(form) % size == 0 and form[:size] * (len(form) // size) == form:
                forms.add(form[:size])
                break
    common = _common_passwords()
    return any(form in common for form in forms)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"There is no role {role!r}: choose one of {', '.join(ROLES)}.")


def _as_stored(name: str) -> str:
    return " ".join(str(name).split())


def get_account(session: Session, name: str) -> Account | None:
    """The account of that name (trimmed as stored), or None."""
    return session.scalar(select(Account).where(Account.name == _as_stored(name)))


def _existing(session: Session, name: str) -> Account:
    account = get_account(session, name)
    if account is None:
        raise AccountError(f"There is no account named {clean_account_name(name)!r}.")
    return account


def add_account(
    session: Session,
    name: str,
    role: str,
    password: str,
    *,
    by: Account | str | None = None,
    now: dt.datetime | None = None,
) -> Account:
    """Create an account; ``by`` is the admin doing it (None: the command line), ``now`` the
    time it is recorded at (UTC; None: the clock's). Raises ``AccountError`` for a bad name,
    role or password, or a name already taken."""
    name = clean_account_name(name)
    _check_role(role)
    _check_password(password)
    taken = AccountError(f"There is already an account named {name!r}: choose another name.")
    if get_account(session, name) is not None:
        raise taken
    now = now or utc_now()
    account = Account(
        name=name,
        role=role,
        password_hash=_HASHER.hash(password),
        disabled=False,
        failed_logins=0,
        locked_until=None,
        created_at=now,
        password_changed_at=now,
    )
    try:  # another admin may add the same name at the same moment
        with session.begin_nested():
            session.add(account)
    except IntegrityError as error:
        raise taken from error
    record(session, "account_add", account=by, detail={"account": name, "role": role}, now=now)
    return account


def list_accounts(session: Session) -> list[Account]:
    """Every account, disabled ones too, by name."""
    return list(session.scalars(select(Account).order_by(Account.name)))


def has_accounts(session: Session) -> bool:
    """Whether the database has any account (else it is the single-user local app)."""
    return session.scalar(select(func.count()).select_from(Account)) > 0


def disable_account(session: Session, name: str, *, by: Account | str | None = None) -> Account:
    """Refuse the account's logins from now on (accounts are never deleted: the audit names
    them). Raises ``AccountError`` for an unknown name or the last enabled admin."""
    account = _existing(session, name)
    if account.role == "admin" and not account.disabled:
        admins = session.scalar(
            select(func.count())
            .select_from(Account)
            .where(Account.role == "admin", Account.disabled.is_(False))
        )
        if admins <= 1:
            raise AccountError(
                f"{account.name!r} is the last admin: add another admin before disabling it, "
                "or nobody could manage the accounts."
            )
    account.disabled = True
    end_sessions(session, account, "disabled")
    record(session, "account_disable", account=by, detail={"account": account.name})
    return account


def set_password(
    session: Session, name: str, password: str, *, by: Account | str | None = None
) -> Account:
    """Give the account a new password; this also lifts every back-off of the account and
    ends its open sessions."""
    _check_password(password)
    account = _existing(session, name)
    account.password_hash = _HASHER.hash(password)
    account.password_changed_at = utc_now()
    account.failed_logins, account.locked_until = 0, None
    for throttle in session.scalars(
        select(LoginThrottle).where(LoginThrottle.account_id == account.id)
    ):
        session.delete(throttle)
    end_sessions(session, account, "new password")
    record(session, "account_password", account=by, detail={"account": account.name})
    return account


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash("not a password of anybody")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _refuse(session: Session, sentence: str) -> LoginError:
    # Commit before raising: the caller's transaction rolls back on the error, and the count
    # of failures and the audit row must survive it.
    session.commit()
    return LoginError(sentence)


def _throttle_key(account: Account | None, client: str) -> str:
    who = f"account {account.id}" if account is not None else "unknown names"
    return f"{who} from {str(client)[:120]}"


def _failed(
    session: Session,
    throttle: LoginThrottle | None,
    key: str,
    account: Account | None,
    now: dt.datetime,
) -> LoginThrottle:
    """Count one more failure in a row; from the ``MAX_FAILED_LOGINS``-th on, each doubles
    the wait (2 s, 4 s, 8 s ... up to ``MAX_WAIT_MINUTES``)."""
    if throttle is None:
        throttle = LoginThrottle(
            key=key, account_id=account.id if account else None, failures=0, last_failure_at=now
        )
        session.add(throttle)
    throttle.failures += 1
    throttle.last_failure_at = now
    beyond = throttle.failures - MAX_FAILED_LOGINS
    if beyond >= 0:
        seconds = min(2.0 ** (beyond + 1), MAX_WAIT_MINUTES * 60.0)
        throttle.wait_until = now + dt.timedelta(seconds=seconds)
    return throttle


def authenticate(
    session: Session,
    name: str,
    password: str,
    now: dt.datetime | None = None,
    *,
    client: str = "",
) -> Account:
    """The account if the name and password match an enabled account not waiting out a
    back-off for this ``client`` (its network address; "" when unknown).

    An unknown name, a wrong password and a try during the back-off are refused alike: the
    same sentence (``WRONG_LOGIN``) after the same work (a password hash is always checked),
    so neither the answer nor its time tells a real name. ``MAX_FAILED_LOGINS`` failures in a
    row of one account from one client start an exponential back-off for that pair only:
    the account is delayed, not locked, and its owner signs in from elsewhere. A disabled
    account is said so only to whoever gives its password. A success resets the pair's
    count and rehashes a hash made with older parameters. Records "login", or
    "login_failed" for a known account; failures with unknown names are counted per client
    and recorded at the 1st, 10th, 100th ... only (without the name typed: it may be a
    password typed into the wrong field). Call it in a transaction of its own: on a refusal
    it commits the session before raising, so that the count and the audit row survive the
    caller's rollback. ``now`` is UTC without a zone (tests pass it; default the clock).
    """
    now = now or utc_now()
    account = session.scalar(
        select(Account).where(Account.name == _as_stored(name)).with_for_update()
    )
    key = _throttle_key(account, client)
    throttle = session.get(LoginThrottle, key, with_for_update=True)
    waiting = throttle is not None and throttle.wait_until is not None
    waiting = waiting and now < throttle.wait_until
    matches = _verify(account.password_hash if account else _dummy_hash(), password)
    where = str(client)[:120]
    if account is None:
        count = _failed(session, throttle, key, None, now).failures
        if math.log10(count).is_integer():
            detail = {"reason": "unknown name", "client": where, "count": count}
            record(session, "login_failed", detail=detail, now=now)
        raise _refuse(session, WRONG_LOGIN)
    if waiting or not matches:
        count = _failed(session, throttle, key, account, now).failures
        account.failed_logins += 1
        reason = "waiting" if waiting else "wrong password"
        detail = {"reason": reason, "client": where, "count": count}
        record(session, "login_failed", account=account, detail=detail, now=now)
        raise _refuse(session, WRONG_LOGIN)
    if account.disabled:  # said only to whoever knows the password
        record(session, "login_failed", account=account, detail={"reason": "disabled"}, now=now)
        raise _refuse(session, "This account is disabled: ask an admin.")
    if throttle is not None:
        session.delete(throttle)
    account.failed_logins, account.locked_until = 0, None
    if _HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = _HASHER.hash(password)
    record(session, "login", account=account, now=now)
    return account


# --- sessions ------------------------------------------------------------------------------

#: Why a session ended, in words for the sign-in form.
END_WORDS = {
    "logout": "Signed out.",
    "everywhere": "Signed out everywhere.",
    "disabled": "This account was disabled: ask an admin.",
    "new password": "The password was changed: sign in with the new one.",
}


def _token_hash(token: str) -> str:
    return hashlib.sha256(str(token).encode()).hexdigest()


def start_session(session: Session, account: Account, now: dt.datetime | None = None) -> str:
    """Record a new sign-in of ``account`` and return its token (random, 256 bits), which only
    the browser's session keeps; the database keeps its hash."""
    now = now or utc_now()
    token = secrets.token_urlsafe(32)
    session.add(
        SignIn(
            account_id=account.id, token_hash=_token_hash(token), created_at=now, last_seen_at=now
        )
    )
    session.flush()
    return token


def _sign_in(session: Session, token: str | None) -> SignIn | None:
    if not token:
        return None
    return session.scalar(select(SignIn).where(SignIn.token_hash == _token_hash(token)))


def check_session(
    session: Session,
    token: str | None,
    *,
    idle: dt.timedelta,
    now: dt.datetime | None = None,
    touch: bool = True,
) -> Account:
    """The account of the open session holding ``token``, read again from the database.

    Raises ``SessionEndedError`` with a sentence for the sign-in form when the session is
    unknown, has ended, its account is disabled, or it saw no activity for ``idle`` (which
    ends it and records a "logout" row). ``touch`` (each page view) marks the session active
    now; a timer's check does not. Commits before raising, like ``authenticate``.
    ``now`` is UTC without a zone (tests pass it; default the clock).
    """
    now = now or utc_now()
    sign_in = _sign_in(session, token)
    if sign_in is None:
        raise SessionEndedError("Sign in to go on.")
    account = session.get(Account, sign_in.account_id)
    if sign_in.ended_at is None:
        if account.disabled:
            _end(session, sign_in, account, "disabled", now)
        elif now - sign_in.last_seen_at > idle:
            _end(session, sign_in, account, "idle", now)
    if sign_in.ended_at is not None:
        session.commit()
        if sign_in.end_reason == "idle":
            minutes = idle.total_seconds() / 60
            raise SessionEndedError(f"Signed out after {minutes:.0f} idle minutes.")
        raise SessionEndedError(END_WORDS.get(sign_in.end_reason or "", "Signed out."))
    if touch:
        sign_in.last_seen_at = now
    return account


def _end(
    session: Session, sign_in: SignIn, account: Account, reason: str, now: dt.datetime
) -> None:
    sign_in.ended_at, sign_in.end_reason = now, reason
    record(session, "logout", account=account, detail={"reason": reason}, now=now)


def end_session(session: Session, token: str | None, now: dt.datetime | None = None) -> None:
    """Log out the session holding ``token`` (nothing if it has ended already)."""
    sign_in = _sign_in(session, token)
    if sign_in is not None and sign_in.ended_at is None:
        account = session.get(Account, sign_in.account_id)
        _end(session, sign_in, account, "logout", now or utc_now())


def end_sessions(
    session: Session, account: Account, reason: str, now: dt.datetime | None = None
) -> int:
    """End every open session of ``account`` (``reason``: "everywhere", "disabled", "new
    password"); each ends at its next message. Returns how many were open."""
    now = now or utc_now()
    open_ = session.scalars(
        select(SignIn).where(SignIn.account_id == account.id, SignIn.ended_at.is_(None))
    ).all()
    for sign_in in open_:
        sign_in.ended_at, sign_in.end_reason = now, reason
    if open_:
        record(
            session,
            "logout",
            account=account,
            now=now,
            detail={"reason": reason, "sessions": len(open_)},
        )
    return len(open_)


# --- permissions ---------------------------------------------------------------------------


def can(role: str, action: str) -> bool:
    """Whether ``role`` may do ``action`` (``PERMISSIONS``). An unknown role or action is a
    mistake in the calling code: ``ValueError``."""
    if role not in PERMISSIONS:
        raise ValueError(f"unknown role {role!r}; roles are {ROLES}")
    if action not in PERMISSION_WORDS:
        raise ValueError(f"unknown action {action!r}; actions are {tuple(PERMISSION_WORDS)}")
    return action in PERMISSIONS[role]


def require(account: Account, action: str) -> None:
    """Raise ``NotAllowedError`` with a sentence unless the account's role allows ``action``."""
    if not can(account.role, action):
        raise NotAllowedError(_not_allowed(account.role, action))


def _not_allowed(role: str, action: str) -> str:
    allowed = " or ".join(_a(r) for r in ROLES if action in PERMISSIONS[r])
    return f"{_a(role).capitalize()} may not {PERMISSION_WORDS[action]}: ask {allowed}."


def guard(
    session: Session,
    name: str | None,
    action: str,
    *,
    person_id: int | None = None,
    now: dt.datetime | None = None,
) -> Account:
    """The account named ``name``, read again from the database, if it may do ``action`` now.

    The one check before every action of the dashboard: the role a session cached at sign-in
    is not trusted, so an account disabled or given another role since is refused at once.
    A refusal adds a "refused" audit row (what was wanted, why, and for whom) and raises
    ``NotAllowedError`` with a sentence for the person. Like ``authenticate``, it commits the
    session before raising, so that the row survives the caller's rollback: call it in a
    transaction of its own, before the action's.
    """
    account = get_account(session, name) if name else None
    if account is None:
        reason, sentence = "no account", "Sign in first: this needs an account."
    elif account.disabled:
        reason, sentence = "disabled", "This account is disabled: ask an admin."
    elif not can(account.role, action):
        reason, sentence = "role", _not_allowed(account.role, action)
    else:
        return account
    detail = {"wanted": action, "reason": reason}
    if reason == "role":
        detail["role"] = account.role
    record(session, "refused", account=name, person_id=person_id, detail=detail, now=now)
    session.commit()
    raise NotAllowedError(sentence)


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"
