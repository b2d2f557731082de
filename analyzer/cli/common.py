"""What every command shares: exit codes, argument types, opening the database, printing
safely."""

from __future__ import annotations

import argparse
import math
import os
import sys

from analyzer.errors import AnalyzerError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


#: A face photo's scale lies well within this range (a 20-megapixel close-up is about
#: 0.02 mm per pixel; a 64-px face about 2): outside it the number is a typo.
MM_PER_PX_RANGE = (0.001, 10.0)


def person_name(text: str) -> str:
    """An argparse type: a person's name or pseudonym as it is stored (``clean_name``)."""
    from analyzer.history.storage import clean_name

    try:
        return clean_name(text)
    except AnalyzerError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def protocol_expression(text: str) -> str:
    """An argparse type: one of the protocol's expressions ("broad smile"; capitals and "_"
    for a space are fine). Anything else is a usage error that lists them."""
    from analyzer.protocol.movement import EXPRESSIONS

    name = " ".join(str(text).replace("_", " ").split()).casefold()
    if name not in EXPRESSIONS:
        raise argparse.ArgumentTypeError(
            f"unknown expression {shown(text)!r}: use one of " + ", ".join(map(repr, EXPRESSIONS))
        )
    return name


def shown(text: str) -> str:
    """Text from outside (a file name, a name) safe to print: control characters escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def worker_jobs(text: str) -> int:
    """An argparse type: a number of worker processes, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: give 1 or more worker processes")
    return value


def add_jobs_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs",
        type=worker_jobs,
        default=None,
        metavar="N",
        help=f"photos analysed at once, one process each (default: every core, here "
        f"{os.cpu_count() or 1})",
    )


def open_history():
    """The database and photo store the user configured, and a line saying where they are."""
    from analyzer.history.datadir import data_dir, database_url, redacted
    from analyzer.history.photos import photo_store_for
    from analyzer.history.storage import open_database

    url = database_url()
    where = f"Data folder: {data_dir()}   Database: {redacted(url)}"
    db = open_database(url)
    return db, photo_store_for(db), where


def record_audit(db, action: str, person: str | None = None, detail: dict | None = None) -> None:
    """A row in the audit trail for what the command line did (by the computer's user)."""
    from analyzer.history.accounts import record
    from analyzer.history.storage import get_person

    with db.transaction() as session:
        found = get_person(session, person) if person else None
        record(session, action, person_id=found.id if found else None, detail=detail)


def add_fps_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fps",
        type=float,
        default=None,
        metavar="N",
        help="video: frames analysed per second of clip (default 8; 0: every frame)",
    )


def frame_progress_bar(desc: str):
    """A progress bar on a terminal, nothing in a pipe or a test."""
    from tqdm import tqdm

    return tqdm(unit="frame", desc=desc, file=sys.stderr, disable=not sys.stderr.isatty())


def video_fps(args: argparse.Namespace) -> float:
    from analyzer.video.track import SAMPLE_FPS

    fps = SAMPLE_FPS if args.fps is None else args.fps
    if not (math.isfinite(fps) and 0 <= fps <= 240):
        raise AnalyzerError(f"--fps {args.fps} is not a frame rate: give 0 (every frame) to 240.")
    return fps


def person_or_message(session, name: str):
    from analyzer.history.storage import get_person

    person = get_person(session, name)
    if person is None:
        print(
            f"There is no person called '{name}'. `python -m analyzer info` lists them.",
            file=sys.stderr,
        )
    return person
