"""The command line: ``python -m analyzer COMMAND ...`` (``--help`` lists the commands).

One module per group of commands, each adding its own to the parser (``register``):
``photos`` (``analyze``: photos, folders and videos, printed or as a table), ``history``
(import, export, delete, correct, recompute, demo, info, migrate-photos), ``progress``
(progress, report) and ``clinic`` (users, audit, serve); ``common`` holds what they share.

Exit status: 0 when everything asked was done, 1 when any part failed, 2 for a usage error.
An error is one sentence for a person, never a traceback.

May import: every part of ``analyzer`` (it is the top); nothing of ours imports it.
"""

from __future__ import annotations

import argparse
import sys

from analyzer import __version__
from analyzer.cli import clinic, history, photos, progress
from analyzer.cli.common import EXIT_FAILED, shown
from analyzer.cli.common import EXIT_OK as EXIT_OK  # exit statuses, for callers
from analyzer.cli.common import EXIT_USAGE as EXIT_USAGE
from analyzer.errors import AnalyzerError


def build_parser() -> argparse.ArgumentParser:
    from analyzer.present.intended_use import INTENDED_USE

    parser = argparse.ArgumentParser(
        prog="python -m analyzer",
        description="Measure facial symmetry and contour in millimetres from face photos.",
        epilog=INTENDED_USE,
    )
    parser.add_argument("--version", action="version", version=f"analyzer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    photos.register(commands)
    history.register(commands)
    progress.register(commands)
    clinic.register(commands)
    return parser


COMMANDS = {
    "analyze": photos.run_analyze,
    "import": history.run_import,
    "export": history.run_export,
    "delete": history.run_delete,
    "progress": progress.run_progress,
    "report": progress.run_report,
    "correct": history.run_correct,
    "recompute": history.run_recompute,
    "demo": history.run_demo,
    "info": history.run_info,
    "serve": clinic.run_serve,
    "users": clinic.run_users,
    "audit": clinic.run_audit,
    "migrate-photos": history.run_migrate_photos,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse exits 2 on usage errors, 0 for --help
        return int(stop.code or 0)
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    try:
        return COMMANDS[args.command](args)
    except AnalyzerError as error:
        print(str(error), file=sys.stderr)
        return EXIT_FAILED
    except OSError as error:  # a full disk, a read-only or missing folder, a folder for a file
        where = f" ({shown(error.filename)})" if error.filename else ""
        print(
            f"A file could not be read or written{where}: {error.strerror or error}. Check "
            "that the folder exists and is writable, and that the disk has room; nothing "
            "already stored was changed.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except OperationalError as error:
        reason = shown(str(error.orig))[:200]
        print(
            f"The database is busy or cannot be reached ({reason}): another program may be "
            "writing to it. Try again in a minute; nothing already stored was changed.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except SQLAlchemyError as error:
        print(
            f"The database refused the change ({type(error).__name__}): nothing was "
            "changed. Check the names and values given.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(
            "Interrupted. Sessions already written are complete; run the same command "
            "again to continue.",
            file=sys.stderr,
        )
        return EXIT_FAILED
