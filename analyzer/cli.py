"""The command line: ``python -m analyzer analyze PHOTO [PHOTO ...] [--json] [--landmarks]``.

Exit status: 0 when every photo was analysed, 1 when any was not, 2 for a usage error. An
error is one sentence for a person, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from analyzer import __version__
from analyzer.errors import AnalyzerError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


#: A face photo's scale lies well within this range (a 20-megapixel close-up is about
#: 0.02 mm per pixel; a 64-px face about 2): outside it the number is a typo.
MM_PER_PX_RANGE = (0.001, 10.0)


def positive_float(text: str) -> float:
    """An argparse type: a scale in millimetres per pixel, finite and plausible."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be a number above zero")
    low, high = MM_PER_PX_RANGE
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(
            f"{text} mm per pixel is not a face photo's scale: give a number from {low} to {high}"
        )
    return value


def person_name(text: str) -> str:
    """An argparse type: a person's name or pseudonym as it is stored (``clean_name``)."""
    from analyzer.history.storage import clean_name

    try:
        return clean_name(text)
    except AnalyzerError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def expression_name(text: str) -> str:
    """An argparse type: an expression's (or a tag's) name, at most 40 plain characters."""
    from analyzer.history.storage import MAX_EXPRESSION_LENGTH, clean_name

    try:
        return clean_name(text, what="expression", limit=MAX_EXPRESSION_LENGTH)
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


def build_parser() -> argparse.ArgumentParser:
    from analyzer.present.intended_use import INTENDED_USE

    parser = argparse.ArgumentParser(
        prog="python -m analyzer",
        description="Measure facial symmetry and contour in millimetres from face photos.",
        epilog=INTENDED_USE,
    )
    parser.add_argument("--version", action="version", version=f"analyzer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    analyze = commands.add_parser(
        "analyze", help="analyse photos and print their measures",
        description="Analyse face photos: pose, quality checks and measures in mm.",
    )  # fmt: skip
    analyze.add_argument(
        "photos", nargs="+", type=Path, metavar="PHOTO_OR_FOLDER",
        help="photo files, or folders whose photos (.jpg, .png, .webp, .heic) are analysed",
    )  # fmt: skip
    analyze.add_argument("--json", action="store_true", help="print a JSON list instead")
    analyze.add_argument(
        "--landmarks", action="store_true", help="include the 478 landmarks (x, y, z in px)"
    )
    analyze.add_argument(
        "--expression",
        default="rest",
        type=protocol_expression,
        help="the expression the photo shows (default: rest)",
    )
    analyze.add_argument(
        "--mm-per-px", type=positive_float, default=None, metavar="MM",
        help="use this scale instead of the iris (11.7 mm) ruler",
    )  # fmt: skip
    add_table_options(analyze)

    importer = commands.add_parser(
        "import", help="import a folder of photos into a person's history",
        description="Import every photo of a folder: one session per day (from EXIF, a "
        "YYYY-MM-DD in the name, or the file time); identical photos are skipped.",
    )  # fmt: skip
    importer.add_argument("folder", type=Path, metavar="FOLDER_OR_VIDEO")
    importer.add_argument(
        "--person", required=True, type=person_name, help="name or pseudonym (created if new)"
    )
    importer.add_argument("--expression", default="rest", type=protocol_expression)
    importer.add_argument(
        "--tag", action="append", default=[], type=expression_name,
        help="treatment tag, repeatable",
    )  # fmt: skip
    importer.add_argument(
        "--landmarks-only", action="store_true", help="store landmarks and measures, not photos"
    )
    add_video_options(analyze, importer)
    add_jobs_option(importer)

    export = commands.add_parser("export", help="export a person's history (CSV or ZIP)")
    export.add_argument("--person", required=True, type=person_name)
    export.add_argument("--csv", type=Path, help="one row per capture with every measure")
    export.add_argument("--zip", type=Path, help="photos, landmarks and measures")
    export.add_argument(
        "--protocol-csv", type=Path,
        help="one row per session of the palsy protocol: movements, eFACE-style items, method",
    )  # fmt: skip
    export.add_argument(
        "--verdicts-csv", type=Path,
        help="one row per session and followed measure: verdict, change, MDC95, reasons",
    )  # fmt: skip

    delete = commands.add_parser("delete", help="delete a person and all their data")
    delete.add_argument("--person", required=True, type=person_name)
    delete.add_argument("--yes", action="store_true", help="do not ask first")

    progress = commands.add_parser(
        "progress", help="has each measure changed since baseline? (verdicts and trends)"
    )
    progress.add_argument("--person", required=True, type=person_name)
    progress.add_argument("--expression", default="rest", type=protocol_expression)
    progress.add_argument(
        "--baseline",
        help="baseline session day YYYY-MM-DD (default: the sessions before the first "
        "treatment session, else the first)",
    )
    progress.add_argument(
        "--measure", action="append", default=[], help="a measure to show (default: the usual set)"
    )
    progress.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    progress.add_argument(
        "--treated-side", choices=("left", "right"),
        help="split face: only this side is treated; compare it with the untreated side",
    )  # fmt: skip

    report = commands.add_parser("report", help="a PDF report of a person for the clinician")
    report.add_argument("--person", required=True, type=person_name)
    report.add_argument("--pdf", required=True, type=Path)
    report.add_argument("--baseline", help="baseline session day YYYY-MM-DD (default: first)")
    report.add_argument("--compare", help="session day YYYY-MM-DD to compare (default: latest)")

    correct = commands.add_parser(
        "correct", help="move a measured point of a stored capture by hand, or reset it",
        description="Move a point of a stored capture to where it belongs (X, Y in the photo's "
        "pixels; for a photo saved as a mirror image, the photo turned back); the points of "
        "its contour follow, and the capture is measured again. The model's own landmarks "
        "are kept. Without --point or --reset: the capture's corrections and its points.",
    )  # fmt: skip
    correct.add_argument(
        "--capture", required=True, type=int, metavar="ID",
        help="the capture's id (the capture_id column of export --csv)",
    )  # fmt: skip
    correct.add_argument(
        "--point", action="append", nargs="+", default=[], metavar="POINT",
        help="POINT X Y: a point's name (e.g. left_mouth_corner) or a MediaPipe index 0-477 "
        "(e.g. 291), and where it belongs; repeatable. With --reset: POINT alone.",
    )  # fmt: skip
    correct.add_argument("--reset", action="store_true",
                         help="remove the corrections (of --point only, if given)")  # fmt: skip

    recompute = commands.add_parser(
        "recompute", help="recompute every stored measure from stored landmarks"
    )
    add_jobs_option(recompute)
    commands.add_parser(
        "demo", help="create the demo people from the sample photos (once per data folder)"
    )
    commands.add_parser("info", help="where the data is kept, and what it holds")

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

    commands.add_parser(
        "migrate-photos",
        help="move the data folder's photos into the PostgreSQL database (idempotent)",
    )

    serve = commands.add_parser(
        "serve", help="run the dashboard (this computer only, unless --clinic)",
        description="Run the dashboard. Without --clinic it answers this computer only "
        "(loopback): it has no login. --clinic serves a network, with accounts, an audit "
        "trail, a shared PostgreSQL database and TLS.",
    )  # fmt: skip
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument("--clinic", action="store_true", help="accounts, audit, TLS, PostgreSQL")
    serve.add_argument("--cert", type=Path, help="TLS certificate (PEM), with --clinic")
    serve.add_argument("--key", type=Path, help="TLS private key (PEM), with --clinic")
    serve.add_argument(
        "--idle-minutes", type=int, default=30, help="log out after this many idle minutes"
    )
    return parser


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
        "--jobs", type=worker_jobs, default=None, metavar="N",
        help=f"photos analysed at once, one process each (default: every core, here "
        f"{os.cpu_count() or 1})",
    )  # fmt: skip


def add_table_options(analyze: argparse.ArgumentParser) -> None:
    """``analyze``'s options for many photos: a table file, workers, a Dask cluster."""
    analyze.add_argument(
        "--table", type=Path, metavar="FILE",
        help="write one row per photo (every measure, check and region) to FILE (.csv or "
        ".parquet) instead of printing reports",
    )  # fmt: skip
    add_jobs_option(analyze)
    analyze.add_argument(
        "--dask", metavar="ADDRESS",
        help="with --table: run on a Dask distributed cluster (its scheduler's address, "
        "e.g. tcp://10.0.0.5:8786); the photos are sent to it",
    )  # fmt: skip
    analyze.add_argument(
        "--shared-paths", action="store_true",
        help="with --dask: the workers read the photos from the same paths (a shared "
        "folder) instead of being sent them",
    )  # fmt: skip
    analyze.add_argument(
        "--identity", action="store_true",
        help="also compute the face descriptor (same-person check; about 70 ms a photo): "
        "128 columns identity_000 … in --table, 'identity' in --json",
    )  # fmt: skip


def analysis_record(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One photo's JSON object; ``ok`` is false and ``error`` says why when it failed."""
    from analyzer.measure.analysis import analyze_photo  # imported here: keeps --help fast

    record: dict[str, Any] = {"file": shown(path), "ok": False, "error": None}
    try:
        result = analyze_photo(path, mm_per_px=args.mm_per_px, expression=args.expression,
                               identity=args.identity)  # fmt: skip
    except AnalyzerError as error:
        record["error"] = str(error)
        return record
    except Exception as error:  # one odd file must not stop the others
        record["error"] = unexpected(error)
        return record
    pose = result.pose
    record.update(
        ok=True,
        scale_mm_per_px=result.mm_per_px,
        pose={"yaw": pose.yaw_deg, "pitch": pose.pitch_deg, "roll": pose.roll_deg},
        quality=[
            {"check": q.check, "status": q.status, "message": q.message} for q in result.quality
        ],
        measures=result.measures,
        regions=result.regions,
        region_notes=result.refinement.notes if result.refinement else {},
        weaker_side=photo_side(result.measures).as_dict(),
    )
    if result.identity is not None:
        record["identity"] = result.identity.round(6).tolist()
    if args.landmarks:
        record["landmarks"] = result.landmarks_px.round(3).tolist()
        record["refined_landmarks"] = result.measured_px.round(3).tolist()
    return record


def photo_side(measures: dict[str, float]):
    """The side that looks weaker in one photo, against the default noise of each measure."""
    from analyzer.history.catalog import default_between_day_sd
    from analyzer.measure.weaker_side import REST_EVIDENCE, photo_weaker_side

    return photo_weaker_side(measures, {n: default_between_day_sd(n) for n in REST_EVIDENCE})


def unexpected(error: BaseException) -> str:
    """A sentence for an error nobody foresaw, so that one file's failure stays its own
    (the same as a table row's, ``analyzer.measure.table.unexpected``)."""
    from analyzer.measure.table import unexpected as sentence

    return sentence(error)


def format_report(record: dict[str, Any]) -> str:
    """A readable report of one photo's record."""
    lines = [f"== {record['file']}"]
    if not record["ok"]:
        lines.append(f"   Not analysed: {record['error']}")
        return "\n".join(lines)
    pose = record["pose"]
    lines.append(
        f"   Scale {record['scale_mm_per_px']:.3f} mm/px   Pose: yaw {pose['yaw']:+.1f}°, "
        f"pitch {pose['pitch']:+.1f}°, roll {pose['roll']:+.1f}°"
    )
    lines.append("   Quality:")
    marks = {"pass": "ok  ", "warn": "WARN", "fail": "FAIL"}
    for check in record["quality"]:
        lines.append(f"     [{marks[check['status']]}] {check['check']}: {check['message']}")
    if record.get("regions"):
        notes = record.get("region_notes", {})
        found = [f"{name} {how}" + (f" ({notes[name].split(' (')[0]})" if name in notes
                                    else "") for name, how in record["regions"].items()
                 if name.startswith(("eye", "brow"))]  # fmt: skip
        lines.append("   Lids and brows: " + ", ".join(found))
    if side := record.get("weaker_side"):
        lines.append(f"   Weaker side suggested: {side['side']} ({side['confidence']} "
                     f"confidence): {side['summary']}")  # fmt: skip
    lines.append("   Measures (subject's left and right):")
    for name, value in record["measures"].items():
        lines.append(f"     {name:<36} {value:9.2f}")
    return "\n".join(lines)


def run_analyze(args: argparse.Namespace) -> int:
    from analyzer.measure.table import photo_paths, table_format
    from analyzer.video.decode import is_video

    videos = [p for p in args.photos if is_video(p)]
    if videos and len(videos) < len(args.photos):
        print("Give videos and photos in separate commands: a video's rows are its frames.",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    if videos:
        if args.table is not None:  # a wrong table name is said before any frame is read
            try:
                table_format(args.table)
            except AnalyzerError as error:
                print(str(error), file=sys.stderr)
                return EXIT_USAGE
        return run_analyze_video(args)
    if args.table is not None or args.dask is not None or args.shared_paths:
        return run_analyze_table(args)
    paths = photo_paths(args.photos)
    if not paths:
        return no_photos()
    records = []
    for path in paths:
        record = analysis_record(path, args)
        records.append(record)
        if not args.json:
            print(format_report(record), flush=True)
    if args.json:
        print(json.dumps(records, indent=1))
    failed = [r for r in records if not r["ok"]]
    if failed and not args.json:
        print(f"\n{len(failed)} of {len(records)} photo(s) could not be analysed.", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def no_photos() -> int:
    print("No photos found: a folder's photos are its .jpg, .jpeg, .png, .webp, .heic and "
          ".heif files.", file=sys.stderr)  # fmt: skip
    return EXIT_FAILED


def progress_bar(description: str):
    """A tqdm bar on standard error, drawn only on a terminal; call ``bar.close()``.
    Its ``progress(done, total)`` method suits ``map_in_workers``."""
    from tqdm import tqdm

    bar = tqdm(unit="photo", desc=description, file=sys.stderr, leave=False,
               disable=not sys.stderr.isatty())  # fmt: skip

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    bar.progress = progress
    return bar


def run_analyze_table(args: argparse.Namespace) -> int:
    """``analyze --table FILE``: every photo's row, on this computer's cores or a Dask
    cluster, written as CSV or Parquet."""
    from analyzer.measure.table import measure_table, photo_paths, table_format, write_table

    if args.table is None:
        print("--dask and --shared-paths write a table: add --table FILE.csv (or .parquet).",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    try:
        table_format(args.table)
    except AnalyzerError as error:
        print(str(error), file=sys.stderr)
        return EXIT_USAGE
    if args.landmarks or args.json:
        print("--landmarks and --json print reports; a table has no room for them: leave "
              "them out with --table.", file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    if not photo_paths(args.photos):
        return no_photos()
    options = {"expression": args.expression, "identity": args.identity,
               "mm_per_px": args.mm_per_px}  # fmt: skip
    bar = progress_bar("Analysing")
    try:
        if args.dask is None:
            table = measure_table(args.photos, jobs=args.jobs, progress=bar.progress, **options)
        else:
            table = dask_table(args, bar.progress, options)
            if table is None:
                return EXIT_FAILED
    finally:
        bar.close()
    write_table(table, args.table)
    failed = int((~table["ok"]).sum())
    print(
        f"Wrote {len(table)} photo(s) to {shown(args.table)}"
        + (f"; {failed} could not be analysed (see its error column)." if failed else ".")
    )
    return EXIT_FAILED if failed or table.empty else EXIT_OK


def dask_table(args: argparse.Namespace, progress, options: dict[str, Any]):
    """The table from a Dask cluster, or None (with a sentence) when it cannot be used."""
    from analyzer.measure.table import measure_on_dask

    try:
        return measure_on_dask(args.dask, args.photos, shared=args.shared_paths,
                               progress=progress, **options)  # fmt: skip
    except ImportError:
        print("--dask needs the packages dask and distributed: pip install -r "
              "requirements.txt.", file=sys.stderr)  # fmt: skip
    except (OSError, TimeoutError, ValueError) as error:
        print(f"The Dask scheduler at {shown(args.dask)} could not be reached "
              f"({type(error).__name__}): check the address (tcp://HOST:8786) and that the "
              "scheduler is running.",
              file=sys.stderr)  # fmt: skip
    return None


def _open():
    """The database and photo store the user configured, and a line saying where they are."""
    from analyzer.history.datadir import data_dir, database_url, redacted
    from analyzer.history.photos import photo_store_for
    from analyzer.history.storage import open_database

    url = database_url()
    where = f"Data folder: {data_dir()}   Database: {redacted(url)}"
    db = open_database(url)
    return db, photo_store_for(db), where


def _audit(db, action: str, person: str | None = None, detail: dict | None = None) -> None:
    """A row in the audit trail for what the command line did (by the computer's user)."""
    from analyzer.history.accounts import record
    from analyzer.history.storage import get_person

    with db.transaction() as session:
        found = get_person(session, person) if person else None
        record(session, action, person_id=found.id if found else None, detail=detail)


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

    db, _, _ = _open()
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
                print(f"  {shown(a.name)}: {a.role}, {state}")  # fmt: skip
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
    db, _, _ = _open()
    with db.transaction() as session:
        person = None
        if args.person:
            person = _person_or_message(session, args.person)
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
        _audit(db, "audit_export", args.person, {"rows": len(rows)})
    else:
        print("\n".join(lines) if lines else "No audit rows match.")
    return EXIT_OK


def run_migrate_photos(_args: argparse.Namespace) -> int:
    from analyzer.history.datadir import PhotoStore
    from analyzer.history.photos import migrate_photos

    db, _, where = _open()
    print(where, file=sys.stderr)
    if db.engine.dialect.name != "postgresql":
        print("Photos move into the database only when it is PostgreSQL (ANALYZER_DB_URL); "
              "with the local SQLite file they stay in the data folder.",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    report = migrate_photos(db, PhotoStore.default())
    print(f"Moved {report.moved} photo(s) into the database ({report.already_there} were "
          f"already there); {report.captures} capture(s) now point to them.")  # fmt: skip
    for name in report.missing:
        print(f"  missing: {shown(name)}", file=sys.stderr)
    for name in report.corrupt:
        print(f"  corrupt (left in the folder): {shown(name)}", file=sys.stderr)
    return EXIT_FAILED if report.missing or report.corrupt else EXIT_OK


def _tidy(db, store) -> None:
    """Remove photo files that no capture refers to (left by an interrupted import or
    delete), and say so."""
    from analyzer.history.maintenance import reconcile_store

    removed = reconcile_store(db, store)
    legacy = getattr(store, "legacy", None)  # on PostgreSQL, the folder of older photos too
    if legacy is not None:
        removed += reconcile_store(db, legacy)
    if removed:
        print(f"Removed {removed} photo file(s) that no capture refers to (left by an "
              "interrupted import or delete).", file=sys.stderr)  # fmt: skip


def run_import(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from analyzer.history.importer import import_folder
    from analyzer.video.decode import is_video

    if is_video(args.folder) and not args.folder.is_dir():
        return run_import_video(args)
    if not args.folder.is_dir():
        print(f"'{args.folder}' is not a folder. Give the folder that holds the photos.",
              file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    db, store, where = _open()
    print(where, file=sys.stderr)
    _tidy(db, store)
    with tqdm(unit="photo", desc="Analysing", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        report = import_folder(
            db, store, args.folder, args.person, expression=args.expression,
            keep_photos=not args.landmarks_only, tags=args.tag, progress=progress,
            jobs=args.jobs,
        )  # fmt: skip
    if report.imported:
        _audit(db, "import", args.person, {"photos": report.imported})
    print(
        f"Imported {report.imported} photo(s) into {report.sessions} session(s) for "
        f"{args.person}; {report.duplicates} already stored (skipped)."
    )
    if report.not_accepted:
        print(f"{report.not_accepted} photo(s) failed a quality check: stored, but left out "
              "of the statistics.")  # fmt: skip
    if report.other_person:
        print(f"{len(report.other_person)} photo(s) do not look like {args.person}'s other "
              "photos (left out of the statistics; check whose they are):")  # fmt: skip
        for name in report.other_person:
            print(f"  {shown(name)}")
    if report.failed:
        print(f"{len(report.failed)} file(s) could not be imported:")
        for name, message in report.failed:
            print(f"  {shown(name)}: {shown(message)}")
        return EXIT_FAILED
    return EXIT_OK


# --- Video: ``analyze VIDEO`` and ``import VIDEO`` (analyzer.video) ---------------------


def add_video_options(analyze: argparse.ArgumentParser, importer: argparse.ArgumentParser) -> None:
    """The options that only a video uses (``--table`` is shared with photos)."""
    if "--table" not in analyze._option_string_actions:
        analyze.add_argument(
            "--table", type=Path, metavar="FILE",
            help="write one row per photo (per frame of a video) to a CSV file",
        )  # fmt: skip
    for parser in (analyze, importer):
        parser.add_argument(
            "--fps", type=float, default=None, metavar="N",
            help="video: frames analysed per second of clip (default 10; 0: every frame)",
        )  # fmt: skip
    importer.add_argument(
        "--protocol", action="store_true",
        help="video: the clip follows the palsy protocol (rest, brow raise, gentle and full eye "
        "closure, smile, snarl, pucker), which names its segments",
    )  # fmt: skip


def _progress_bar(desc: str):
    """A progress bar on a terminal, nothing in a pipe or a test."""
    from tqdm import tqdm

    return tqdm(unit="frame", desc=desc, file=sys.stderr, disable=not sys.stderr.isatty())


def _video_fps(args: argparse.Namespace) -> float:
    from analyzer.video.track import SAMPLE_FPS

    fps = SAMPLE_FPS if args.fps is None else args.fps
    if not (math.isfinite(fps) and 0 <= fps <= 240):
        raise AnalyzerError(f"--fps {args.fps} is not a frame rate: give 0 (every frame) to 240.")
    return fps


def segment_record(segment) -> dict[str, Any]:
    """A segment as JSON: kind, expression, times, peak and confidence."""
    return {"kind": segment.kind, "expression": segment.expression,
            "start_s": round(segment.start_s, 3), "end_s": round(segment.end_s, 3),
            "peak_s": None if segment.peak_s is None else round(segment.peak_s, 3),
            "confidence": round(segment.confidence, 3)}  # fmt: skip


def video_record(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One video's JSON object: per analysed frame a row, and its segments."""
    from analyzer.video.exam import read_exam
    from analyzer.video.track import frame_row

    record: dict[str, Any] = {"file": shown(path), "ok": False, "error": None}
    with _progress_bar(f"Analysing {path.name}") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            exam = read_exam(path, fps=_video_fps(args), progress=progress)
        except AnalyzerError as error:
            record["error"] = str(error)
            return record
    record.update(
        ok=True, fps_analysed=_video_fps(args), clip_fps=exam.info.fps,
        rotation_deg=exam.info.rotation_deg, width=exam.info.width, height=exam.info.height,
        truncated=exam.decoded.truncated,
        frames=[frame_row(r) for r in exam.results],
        segments=[segment_record(s) for s in exam.segments],
        dynamics=exam.dynamics.as_dict(),
    )  # fmt: skip
    return record


def write_frame_table(path: Path, records: list[dict[str, Any]]) -> None:
    """The frames of every video as one table (CSV or Parquet by the suffix, written as
    photos' tables are: ``table.write_table``): file, time_s, ok, error, pose, quality, then
    every measure (the columns of all rows, in order of first appearance)."""
    import pandas as pd

    from analyzer.measure.table import write_table

    rows = [{"file": r["file"], **row} for r in records if r["ok"] for row in r["frames"]]
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    write_table(pd.DataFrame(rows, columns=list(columns) or ["file", "time_s"]), path)


def format_video(record: dict[str, Any]) -> str:
    """A readable summary of one video: its frames in brief, and its segments."""
    lines = [f"== {record['file']}"]
    if not record["ok"]:
        lines.append(f"   Not analysed: {record['error']}")
        return "\n".join(lines)
    frames = record["frames"]
    measured = sum(1 for f in frames if f["ok"])
    lines.append(f"   {record['width']}x{record['height']} at {record['clip_fps']:.1f} fps; "
                 f"{len(frames)} frames analysed ({record['fps_analysed']:g} per second), "
                 f"{measured} with a measurable face.")  # fmt: skip
    if record["truncated"]:
        lines.append("   The file breaks off early: only the frames before the break were read.")
    if record["rotation_deg"]:
        lines.append(f"   Turned {record['rotation_deg']}° as the file says.")
    keys = ("palpebral_fissure_height_left_mm", "palpebral_fissure_height_right_mm",
            "commissure_excursion_left_mm", "commissure_excursion_right_mm",
            "brow_height_left_mm", "brow_height_right_mm")  # fmt: skip
    lines.append("   time_s  fissure L/R   excursion L/R   brow L/R   (mm; --table for all)")
    for f in frames:
        if not f["ok"]:
            lines.append(f"   {f['time_s']:6.2f}  {f['error']}")
            continue
        v = [f.get(k, math.nan) for k in keys]
        lines.append(f"   {f['time_s']:6.2f}  {v[0]:5.1f} {v[1]:5.1f}   {v[2]:6.1f} {v[3]:6.1f}"
                     f"   {v[4]:5.1f} {v[5]:5.1f}")  # fmt: skip
    lines.append("   Segments:")
    for s in record["segments"]:
        if s["kind"] == "rest":
            lines.append(f"     {s['start_s']:6.2f}-{s['end_s']:6.2f} s  rest")
        else:
            lines.append(
                f"     {s['start_s']:6.2f}-{s['end_s']:6.2f} s  {s['expression']} "
                f"(peak {s['peak_s']:.2f} s, confidence {s['confidence']:.0%})"
            )
    lines += format_dynamics(record["dynamics"])
    return "\n".join(lines)


def format_dynamics(found: dict[str, Any]) -> list[str]:
    """What only the clip shows, in lines: eye closure over time, blinks, synkinesis."""

    def pair(row: dict[str, Any], name: str, unit: str) -> str:
        values = [row[f"{name}_{side}"] for side in ("left", "right")]
        return " / ".join("-" if v is None else f"{v:g} {unit}" for v in values)

    lines = ["   Over time (subject's left / right):"]
    for c in found["closures"]:
        lines.append(f"     {c['expression']} from {c['start_s']:.2f} s: closed in "
                     f"{pair(c, 'time_to_close_s', 's')}, smallest lid gap "
                     f"{pair(c, 'min_gap_mm', 'mm')}")  # fmt: skip
    for b in found["blinks"]:
        lines.append(f"     blink at {b['time_s']:.2f} s: {pair(b, 'completeness_pct', '%')} "
                     "closed")  # fmt: skip
    lines.append(f"     synkinesis (eye closure with mouth corner, r): "
                 f"{pair(found, 'synkinesis_r', '')}")  # fmt: skip
    return lines


def run_analyze_video(args: argparse.Namespace) -> int:
    """``analyze VIDEO ...``: one row per analysed frame (``--json``, ``--table FILE``)."""
    records = []
    for path in args.photos:
        record = video_record(path, args)
        records.append(record)
        if not args.json:
            print(format_video(record), flush=True)
    if args.json:
        print(json.dumps(records, indent=1, allow_nan=True))
    if getattr(args, "table", None):
        write_frame_table(args.table, records)
    failed = [r for r in records if not r["ok"]]
    if failed and not args.json:
        print(f"\n{len(failed)} of {len(records)} video(s) could not be analysed.",
              file=sys.stderr)  # fmt: skip
    return EXIT_FAILED if failed else EXIT_OK


def run_import_video(args: argparse.Namespace) -> int:
    """``import VIDEO --person NAME [--protocol]``: each segment's peak a capture."""
    from analyzer.history.video_import import import_video

    if not args.folder.is_file():
        print(f"There is no file '{shown(args.folder)}'.", file=sys.stderr)
        return EXIT_FAILED
    db, store, where = _open()
    print(where, file=sys.stderr)
    with _progress_bar(f"Analysing {args.folder.name}") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        report = import_video(
            db, None if args.landmarks_only else store, args.folder, args.person,
            protocol=args.protocol, fps=_video_fps(args), progress=progress,
        )  # fmt: skip
    if report.imported:
        _audit(db, "import", args.person, {"video": shown(args.folder.name),
                                           "captures": report.imported})  # fmt: skip
    print(f"Imported {report.imported} capture(s) from {shown(args.folder.name)} for "
          f"{args.person}:")  # fmt: skip
    for s in report.stored:
        state = "" if s["new"] else " (already stored)"
        state += "" if s["accepted"] else " NOT ACCEPTED: " + " ".join(s["failed"])
        print(f"  {s['time_s']:6.2f} s  {s['expression']:<20} confidence {s['confidence']:.0%}, "
              f"{s['burst_frames']} frames averaged{state}")  # fmt: skip
    return EXIT_OK


def _person_or_message(session, name: str):
    from analyzer.history.storage import get_person

    person = get_person(session, name)
    if person is None:
        print(f"There is no person called '{name}'. `python -m analyzer info` lists them.",
              file=sys.stderr)  # fmt: skip
    return person


def run_export(args: argparse.Namespace) -> int:
    from analyzer.history.export import (
        write_csv,
        write_protocol_csv,
        write_verdicts_csv,
        write_zip,
    )

    if not (args.csv or args.zip or args.verdicts_csv or args.protocol_csv):
        print("Say what to write: --csv, --verdicts-csv, --protocol-csv and/or --zip FILE.",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    db, store, _ = _open()
    with db.transaction() as session:
        person = _person_or_message(session, args.person)
        if person is None:
            return EXIT_FAILED
        if args.csv:
            count = write_csv(session, person, args.csv)
            print(f"Wrote {count} capture(s) to {args.csv}.")
        if args.protocol_csv:
            count = write_protocol_csv(session, person, args.protocol_csv)
            print(f"Wrote {count} protocol session(s) to {args.protocol_csv}.")
        if args.verdicts_csv:
            count = write_verdicts_csv(session, person, args.verdicts_csv)
            print(f"Wrote {count} verdict(s) to {args.verdicts_csv}.")
        if args.zip:
            exported = write_zip(session, person, store, args.zip)
            print(f"Wrote {exported.captures} capture(s) with photos and landmarks to {args.zip}.")
            if exported.missing:
                print(f"{exported.missing} photo file(s) were missing from the data folder: "
                      "missing_photos.txt in the archive lists them.", file=sys.stderr)  # fmt: skip
    written = [k for k in ("csv", "verdicts_csv", "protocol_csv", "zip") if getattr(args, k)]
    _audit(db, "export", args.person, {"what": ", ".join(written)})
    return EXIT_OK


def run_delete(args: argparse.Namespace) -> int:
    from analyzer.history.maintenance import delete_person

    db, store, where = _open()
    _tidy(db, store)  # finishes a delete that was interrupted after its commit
    with db.transaction() as session:
        if _person_or_message(session, args.person) is None:
            return EXIT_FAILED
    if not args.yes:
        try:
            answer = input(f"Delete {args.person} and every photo and measure of theirs? "
                           "This cannot be undone. Type yes: ")  # fmt: skip
        except EOFError:
            answer = ""
        if answer.strip().lower() != "yes":
            print("Nothing was deleted.")
            return EXIT_FAILED
    _audit(db, "delete", args.person)  # before: afterwards the person has no reference left
    deleted = delete_person(db, store, args.person)
    print(f"Deleted {args.person}: {deleted.sessions} session(s), {deleted.captures} "
          f"capture(s), {deleted.photos} photo file(s). {where}")  # fmt: skip
    return EXIT_OK


def run_progress(args: argparse.Namespace) -> int:
    from analyzer.history.catalog import FOLLOWED
    from analyzer.history.progress import measure_progress, plan_status, session_conditions
    from analyzer.history.storage import load_history
    from analyzer.history.verdicts import judge_phases, judge_progress, person_kind

    db, _, _ = _open()
    with db.transaction() as session:
        person = _person_or_message(session, args.person)
        if person is None:
            return EXIT_FAILED
        rows = load_history(session, person)
        side = person.affected_side
    if not rows:
        if args.json:
            print(json.dumps({"person": args.person, "expression": args.expression,
                              "baseline": [], "measures": []}))  # fmt: skip
        else:
            print(f"{args.person} has no captures yet. Import photos first.")
        return EXIT_OK
    ok, baseline_id = _session_by_day(rows, args.baseline)
    if not ok:
        return EXIT_FAILED
    known = {name for r in rows for name in r.measures} | set(FOLLOWED)
    unknown = [m for m in args.measure if m not in known]
    if unknown:
        print(f"Unknown measure: {', '.join(shown(m) for m in unknown)}. Measures are named as "
              "in `analyze --json`, e.g. brow_height_left_mm, commissure_height_diff_mm.",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    conditions = session_conditions(rows, args.expression)
    results = [
        measure_progress(
            rows,
            measure,
            expression=args.expression,
            baseline_id=baseline_id,
            conditions=conditions,
        )
        for measure in args.measure or FOLLOWED
    ]
    day_of = {r.session_id: r.session_day.isoformat() for r in rows}
    answers = [judge_progress(r, side) for r in results]  # the words every page shows
    if args.json:
        baseline_days = sorted({day_of[i] for r in results for i in r.baseline_ids})
        print(json.dumps({
            "person": args.person,
            "expression": args.expression,
            "baseline": baseline_days,
            "current": next((day_of[r.current_id] for r in results if r.current_id), None),
            "measures": [{
                "measure": r.verdict.measure,
                "verdict": r.verdict.verdict,
                "change": r.verdict.difference_mm,
                "mdc95": r.verdict.mdc95_mm,
                "comparison": a.comparison,
                "word": a.word,
                "effect": a.effect,
                "sentence": a.sentence,
                "reasons": list(r.verdict.reasons),
                "noise": r.noise.reason,
                "phase": _phase_json(r, side),
                "trend": _trend_json(r.trend),
            } for r, a in zip(results, answers, strict=True)],
        }, indent=1))  # fmt: skip
        return EXIT_OK
    print(plan_status(rows, args.expression, person_kind(side)).sentence)
    for result, answer in zip(results, answers, strict=True):
        print(f"[{answer.word}] {answer.sentence}")
        phases = judge_phases(result, side)
        if phases is not None:
            print(f"    {phases.comparison[:1].upper()}{phases.comparison[1:]}: [{phases.word}] "
                  f"{phases.sentence}")  # fmt: skip
        if result.noise.is_default or not result.noise.available:
            print(f"    {result.noise.reason}")
    if args.treated_side:
        from analyzer.history.progress import SPLIT_FACE_STEMS, split_face_progress

        print(f"Split face: the {args.treated_side} side against the untreated side as control "
              "(the strongest design: what moves both sides cancels)")  # fmt: skip
        for stem in SPLIT_FACE_STEMS:
            _, verdict = split_face_progress(rows, stem, args.treated_side,
                                             expression=args.expression)  # fmt: skip
            print(f"[{verdict.verdict}] {verdict.sentence}")
    else:
        print("Tip: treating one side only (--treated-side) makes the other side a control: "
              "the strongest way to test a treatment on yourself.")  # fmt: skip
    return EXIT_OK


def _phase_json(result, side: str) -> dict[str, Any] | None:
    """The treatment phase against the baseline phase (None: no session tagged as treatment),
    in the words the pages show (``verdicts.judge_phases``)."""
    from analyzer.history.verdicts import judge_phases

    answer = judge_phases(result, side)
    if answer is None:
        return None
    verdict = result.before_after
    return {"comparison": answer.comparison, "verdict": verdict.verdict, "word": answer.word,
            "effect": answer.effect, "change": verdict.difference_mm, "mdc95": verdict.mdc95_mm,
            "sentence": answer.sentence, "reasons": list(verdict.reasons)}  # fmt: skip


def _trend_json(trend) -> dict[str, Any]:
    """The Theil-Sen trend of the session means, per 30 days with its 95 % interval (None
    values with too few sessions)."""
    ci = trend.slope_ci95_mm_per_30_days
    return {"status": trend.status, "sessions": trend.n_sessions, "span_days": trend.span_days,
            "slope_per_30_days": trend.slope_mm_per_30_days,
            "slope_ci95_per_30_days": list(ci) if ci else None,
            "sentence": trend.sentence}  # fmt: skip


def run_demo(_args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from analyzer.present.demo import DEMO_PALSY_PERSON, DEMO_PERSON, ensure_demo

    db, store, where = _open()
    with tqdm(unit="photo", desc="Demo people", file=sys.stderr, leave=False) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        created = ensure_demo(db, store, progress)
    print(f"Created the demo people '{DEMO_PERSON}' and '{DEMO_PALSY_PERSON}'. {where}"
          if created else "The demo people were already created for this data folder.")  # fmt: skip
    return EXIT_OK


def _session_by_day(rows, day: str | None) -> tuple[bool, int | None]:
    """(ok, session id) for a YYYY-MM-DD; says which days exist when there is no such one."""
    if not day:
        return True, None
    days = {r.session_day.isoformat(): r.session_id for r in rows}
    if day not in days:
        print(f"No session on {day}. Sessions: {', '.join(sorted(days))}.", file=sys.stderr)
        return False, None
    return True, days[day]


def run_report(args: argparse.Namespace) -> int:
    from analyzer.history.storage import load_history
    from analyzer.present.report import write_report

    db, store, _ = _open()
    with db.transaction() as session:
        person = _person_or_message(session, args.person)
        if person is None:
            return EXIT_FAILED
        rows = load_history(session, person)
        if not rows:
            print(f"{args.person} has no captures yet: nothing to report.", file=sys.stderr)
            return EXIT_FAILED
        ok_a, baseline = _session_by_day(rows, args.baseline)
        ok_b, current = _session_by_day(rows, args.compare)
        if not (ok_a and ok_b):
            return EXIT_FAILED
        content = write_report(session, person, store, args.pdf, baseline, current)
    _audit(db, "report", args.person)
    print(f"Wrote {args.pdf}: {len(content.session_days)} session(s), {len(content.rows)} "
          f"measure(s), baseline {content.baseline_day}, compared "
          f"{content.current_day}.")  # fmt: skip
    return EXIT_OK


def _coordinates(point: list[str]) -> tuple[str, float, float] | None:
    """POINT X Y from the command line, or None (with a sentence) when they are not that."""
    if len(point) != 3:
        print(f"--point takes a point and where it belongs, e.g. --point left_mouth_corner "
              f"612 705; got {' '.join(shown(p) for p in point)!r}.", file=sys.stderr)  # fmt: skip
        return None
    try:
        return point[0], float(point[1]), float(point[2])
    except ValueError:
        print(f"X and Y are numbers of photo pixels: {shown(point[1])} {shown(point[2])} is "
              "not.", file=sys.stderr)  # fmt: skip
        return None


def run_correct(args: argparse.Namespace) -> int:
    from analyzer.history import corrections
    from analyzer.measure.topology import CORRECTABLE_POINTS

    if args.reset and any(len(p) != 1 for p in args.point):
        print("With --reset, --point takes the point alone, e.g. --reset --point 291.",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    moves = [] if args.reset else [_coordinates(p) for p in args.point]
    if None in moves:
        return EXIT_USAGE
    try:  # names first: a typo must not leave half of the moves made
        points = [corrections.point_index(p[0]) for p in args.point]
    except AnalyzerError as error:
        print(str(error), file=sys.stderr)
        return EXIT_USAGE
    db, _, _ = _open()
    with db.transaction() as session:
        capture = corrections.get_capture(session, args.capture)
        before = dict(capture.measures)
        for _, x, y in moves:  # every place first: all the moves are made, or none
            corrections.check_inside(capture, x, y)
        if args.reset:
            count = corrections.reset_corrections(session, capture, points or None)
            print(f"Reset {count} point(s) of capture {capture.id} to the automatic landmarks.")
        for index, (_, x, y) in zip(points if moves else [], moves, strict=True):
            row = corrections.add_correction(session, capture, index, x, y)
            print(f"Moved the {corrections.point_label(index)} of capture {capture.id} from "
                  f"({row.old_x:.1f}, {row.old_y:.1f}) to ({x:.1f}, {y:.1f}) px.")  # fmt: skip
        changed = {n: (before[n], v) for n, v in capture.measures.items()
                   if n in before and abs(v - before[n]) >= 0.005}  # fmt: skip
        rows = corrections.correction_rows(session, capture.id)
        summary = corrections.summaries(session, capture_ids=[capture.id]).get(capture.id)
    if changed:
        print("Measures that changed:")
        for name, (old, new) in changed.items():
            print(f"  {name:<36} {old:9.2f} → {new:9.2f}")
    if not (args.point or args.reset):
        print(f"Capture {args.capture}: {summary.sentence if summary else 'no corrections'}.")
        for row in rows:
            print(f"  {corrections.point_label(row.landmark)}: ({row.old_x:.1f}, "
                  f"{row.old_y:.1f}) → ({row.new_x:.1f}, {row.new_y:.1f}) px by "
                  f"{shown(row.corrected_by)} at {row.corrected_at:%Y-%m-%d %H:%M}")  # fmt: skip
        print("Points by name: " + ", ".join(
            f"{name} ({index})" for name, index in CORRECTABLE_POINTS.items()) + ".")  # fmt: skip
    return EXIT_OK


def run_recompute(args: argparse.Namespace) -> int:
    from analyzer.history.maintenance import recompute_all

    db, store, where = _open()
    print(where, file=sys.stderr)
    count = recompute_all(db, store, jobs=args.jobs)
    print(f"Recomputed the measures of {count} capture(s) from their landmarks, and followed "
          "the protocol's expressions from their rest photos again.")  # fmt: skip
    return EXIT_OK


def run_info(_args: argparse.Namespace) -> int:
    from analyzer.history.storage import person_summaries

    db, store, where = _open()
    print(where)
    _tidy(db, store)
    with db.transaction() as session:
        summaries = person_summaries(session)
    if not summaries:
        print("No people yet. Import photos with: python -m analyzer import FOLDER --person NAME")
    for person in summaries:
        print(f"  {shown(person.name)}: {person.sessions} session(s), {person.captures} capture(s)")
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
    from analyzer.history.datadir import database_url

    env = {**os.environ, "ANALYZER_CLINIC": "1" if args.clinic else "0",
           "ANALYZER_IDLE_MINUTES": str(max(1, args.idle_minutes))}  # fmt: skip
    options = ["--server.address", args.host, "--server.port", str(args.port)]
    if not args.clinic:
        if not _is_loopback(args.host):
            print(f"Not serving on {shown(args.host)}: without --clinic the dashboard has no "
                  "login, and face photos are health data, so it answers this computer only "
                  "(127.0.0.1). For a clinic's network use --clinic, with accounts, a "
                  "PostgreSQL database and TLS (see the README).", file=sys.stderr)  # fmt: skip
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

            db, _, _ = _open()
            with db.transaction() as session:
                if not has_accounts(session):
                    problems.append("there is no account yet: python -m analyzer users add "
                                    "NAME --role admin")  # fmt: skip
                audit_problem = audit_protection_problem(session)
            db.close()
            if audit_problem and not problems:
                print(f"Clinic mode refuses to start: {audit_problem}", file=sys.stderr)
                return EXIT_USAGE
        if problems:
            print("Clinic mode needs: " + "; ".join(problems) + ".", file=sys.stderr)
            return EXIT_USAGE
        options += ["--server.sslCertFile", str(args.cert), "--server.sslKeyFile", str(args.key)]
    root = Path(__file__).resolve().parents[1]  # its .streamlit/config.toml applies there
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


COMMANDS = {
    "analyze": run_analyze,
    "import": run_import,
    "export": run_export,
    "delete": run_delete,
    "progress": run_progress,
    "report": run_report,
    "correct": run_correct,
    "recompute": run_recompute,
    "demo": run_demo,
    "info": run_info,
    "serve": run_serve,
    "users": run_users,
    "audit": run_audit,
    "migrate-photos": run_migrate_photos,
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
        print(f"A file could not be read or written{where}: {error.strerror or error}. Check "
              "that the folder exists and is writable, and that the disk has room; nothing "
              "already stored was changed.", file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    except OperationalError as error:
        reason = shown(str(error.orig))[:200]
        print(f"The database is busy or cannot be reached ({reason}): another program may be "
              "writing to it. Try again in a minute; nothing already stored was changed.",
              file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    except SQLAlchemyError as error:
        print(f"The database refused the change ({type(error).__name__}): nothing was "
              "changed. Check the names and values given.", file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("Interrupted. Sessions already written are complete; run the same command "
              "again to continue.", file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
