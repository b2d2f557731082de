"""Clinic mode: accounts, the audit trail and ``serve``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from analyzer.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    open_history,
    person_name,
    person_or_message,
    record_audit,
    shown,
)
from analyzer.errors import AnalyzerError


def _password(from_stdin: bool) -> str:
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password (at least 10 characters): ")
    if getpass.getpass("Again: ") != first:
        raise AnalyzerError("The two passwords differ: nothing was changed.")
    return first


def run_users(args: argparse.Namespace) -> int:
    from analyzer.history import accounts

    db, _, _ = open_history()
    with db.transaction() as session:
        if args.users_command == "list":
            for a in accounts.list_accounts(session):
                state = (
                    "disabled"
                    if a.disabled
                    else (
                        f"locked until {a.locked_until:%H:%M} UTC" if a.locked_until else "active"
                    )
                )
                print(f"  {shown(a.name)}: {a.role}, {state}")
            return EXIT_OK
        if args.users_command == "add":
            password = _password(args.password_stdin)
            accounts.add_account(session, args.name, args.role, password)
            print(f"Added {shown(args.name)} ({args.role}).")
        elif args.users_command == "disable":
            accounts.disable_account(session, args.name)
            print(f"Disabled {shown(args.name)}: their logins are refused from now on.")
        else:
            accounts.set_password(session, args.name, _password(args.password_stdin))
            print(f"New password set for {shown(args.name)}.")
    return EXIT_OK


def run_audit(args: argparse.Namespace) -> int:
    import datetime as dt

    from analyzer.history.accounts import audit_csv, audit_rows

    since = None
    if args.since:
        try:
            since = dt.date.fromisoformat(args.since)
        except ValueError:
            print(f"{shown(args.since)} is not a day: use YYYY-MM-DD.", file=sys.stderr)
            return EXIT_USAGE
    db, _, _ = open_history()
    with db.transaction() as session:
        person = None
        if args.person:
            person = person_or_message(session, args.person)
            if person is None:
                return EXIT_FAILED
        rows = audit_rows(session, person_id=person.id if person else None, since=since)
        text = audit_csv(rows)
        lines = [
            f"{r.at:%Y-%m-%d %H:%M:%S} UTC  {shown(r.account_name or f'({r.os_user})')}  "
            f"{r.action}  {r.person_ref or ''}"
            for r in rows
        ]
    if args.csv:
        args.csv.write_text(text, encoding="utf-8")
        print(f"Wrote {len(rows)} audit row(s) to {args.csv}.")
        record_audit(db, "audit_export", args.person, {"rows": len(rows)})
    else:
        print("\n".join(lines) if lines else "No audit rows match.")
    return EXIT_OK


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_serve(args: argparse.Namespace) -> int:
    # Over 60 lines on purpose: the checks before serving (loopback, TLS files, PostgreSQL, the
    # audit owner) and the Streamlit command line read best in the order they run.
    from analyzer.history.datadir import database_url

    env = {
        **os.environ,
        "ANALYZER_CLINIC": "1" if args.clinic else "0",
        "ANALYZER_IDLE_MINUTES": str(max(1, args.idle_minutes)),
    }
    options = ["--server.address", args.host, "--server.port", str(args.port)]
    if not args.clinic:
        if not _is_loopback(args.host):
            print(
                f"Not serving on {shown(args.host)}: without --clinic the dashboard has no "
                "login, and face photos are health data, so it answers this computer only "
                "(127.0.0.1). For a clinic's network use --clinic, with accounts, a "
                "PostgreSQL database and TLS (see the README).",
                file=sys.stderr,
            )
            return EXIT_USAGE
    else:
        problems = []
        if not database_url().startswith("postgresql"):
            problems.append("ANALYZER_DB_URL must name the clinic's PostgreSQL database")
        for flag, path in (("--cert", args.cert), ("--key", args.key)):
            if path is None or not path.is_file():
                problems.append(f"{flag} must name a readable PEM file (TLS is required)")
        if args.cert and args.key and args.cert.is_file() and args.key.is_file():
            import ssl

            try:  # as the server will load them, so that a wrong file gets a sentence here
                ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
                    args.cert, args.key
                )
            except (ssl.SSLError, OSError, ValueError) as error:
                problems.append(
                    "--cert and --key must be a PEM certificate and its own private key "
                    f"({shown(str(getattr(error, 'reason', None) or error))[:120]})"
                )
        if not problems:
            from analyzer.history.accounts import audit_protection_problem, has_accounts

            db, _, _ = open_history()
            with db.transaction() as session:
                if not has_accounts(session):
                    problems.append(
                        "there is no account yet: python -m analyzer users add NAME --role admin"
                    )
                audit_problem = audit_protection_problem(session)
            db.close()
            if audit_problem and not problems:
                print(f"Clinic mode refuses to start: {audit_problem}", file=sys.stderr)
                return EXIT_USAGE
        if problems:
            print("Clinic mode needs: " + "; ".join(problems) + ".", file=sys.stderr)
            return EXIT_USAGE
        options += ["--server.sslCertFile", str(args.cert), "--server.sslKeyFile", str(args.key)]
    # The project root: its .streamlit/config.toml applies there.
    root = Path(__file__).resolve().parents[2]
    options += ["--browser.gatherUsageStats", "false"]
    # Clinic mode: the same app behind the clinic's HTTP rules (headers, no metrics, no
    # download for a browser without the page's cookie, no upload before sign-in).
    script = root / ("clinic_app.py" if args.clinic else "app.py")
    command = [sys.executable, "-m", "streamlit", "run", str(script), *options]
    # The server replaces this process: a signal to it (Ctrl-C, a service manager's stop)
    # reaches Streamlit itself, and nothing is left running behind it.
    os.chdir(root)
    sys.stdout.flush()
    os.execve(sys.executable, command, env)
    return EXIT_OK  # not reached


def register(commands: argparse._SubParsersAction) -> None:
    """Add this group's commands to the parser."""
    users = commands.add_parser("users", help="accounts for clinic mode (serve --clinic)")
    user_commands = users.add_subparsers(dest="users_command", required=True)
    add = user_commands.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("clinician", "viewer", "admin"))
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user_commands.add_parser("list", help="every account with its role and state")
    disable = user_commands.add_parser("disable", help="refuse an account's logins from now on")
    disable.add_argument("name")
    passwd = user_commands.add_parser("passwd", help="set a new password (lifts a lock)")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true")
    audit = commands.add_parser("audit", help="the audit trail: who did what, to whom, when")
    audit.add_argument("--person", type=person_name, help="only this person's rows")
    audit.add_argument("--since", help="from this day on, YYYY-MM-DD")
    audit.add_argument("--csv", type=Path, help="write the rows to this CSV file")
    serve = commands.add_parser(
        "serve",
        help="run the dashboard (this computer only, unless --clinic)",
        description="Run the dashboard. Without --clinic it answers this computer only "
        "(loopback): it has no login. --clinic serves a network, with accounts, an audit "
        "trail, a shared PostgreSQL database and TLS.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument("--clinic", action="store_true", help="accounts, audit, TLS, PostgreSQL")
    serve.add_argument("--cert", type=Path, help="TLS certificate (PEM), with --clinic")
    serve.add_argument("--key", type=Path, help="TLS private key (PEM), with --clinic")
    serve.add_argument(
        "--idle-minutes", type=int, default=30, help="log out after this many idle minutes"
    )
