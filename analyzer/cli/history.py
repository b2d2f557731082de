"""The history commands: import, export, delete, correct, recompute, demo, info."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analyzer.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    add_fps_option,
    add_jobs_option,
    frame_progress_bar,
    open_history,
    person_name,
    person_or_message,
    protocol_expression,
    record_audit,
    shown,
    video_fps,
)
from analyzer.errors import AnalyzerError


def expression_name(text: str) -> str:
    """An argparse type: an expression's (or a tag's) name, at most 40 plain characters."""
    from analyzer.history.storage import MAX_EXPRESSION_LENGTH, clean_name

    try:
        return clean_name(text, what="expression", limit=MAX_EXPRESSION_LENGTH)
    except AnalyzerError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run_migrate_photos(_args: argparse.Namespace) -> int:
    from analyzer.history.datadir import PhotoStore
    from analyzer.history.photos import migrate_photos

    db, _, where = open_history()
    print(where, file=sys.stderr)
    if db.engine.dialect.name != "postgresql":
        print(
            "Photos move into the database only when it is PostgreSQL (ANALYZER_DB_URL); "
            "with the local SQLite file they stay in the data folder.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    report = migrate_photos(db, PhotoStore.default())
    print(
        f"Moved {report.moved} photo(s) into the database ({report.already_there} were "
        f"already there); {report.captures} capture(s) now point to them."
    )
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
        print(
            f"Removed {removed} photo file(s) that no capture refers to (left by an "
            "interrupted import or delete).",
            file=sys.stderr,
        )


def run_import(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from analyzer.history.importer import import_folder
    from analyzer.video.decode import is_video

    if is_video(args.folder) and not args.folder.is_dir():
        return run_import_video(args)
    if not args.folder.is_dir():
        print(
            f"'{args.folder}' is not a folder. Give the folder that holds the photos.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    db, store, where = open_history()
    print(where, file=sys.stderr)
    _tidy(db, store)
    with tqdm(unit="photo", desc="Analysing", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        report = import_folder(
            db,
            store,
            args.folder,
            args.person,
            expression=args.expression,
            keep_photos=not args.landmarks_only,
            tags=args.tag,
            progress=progress,
            jobs=args.jobs,
        )
    if report.imported:
        record_audit(db, "import", args.person, {"photos": report.imported})
    print(
        f"Imported {report.imported} photo(s) into {report.sessions} session(s) for "
        f"{args.person}; {report.duplicates} already stored (skipped)."
    )
    if report.not_accepted:
        print(
            f"{report.not_accepted} photo(s) failed a quality check: stored, but left out "
            "of the statistics."
        )
    if report.other_person:
        print(
            f"{len(report.other_person)} photo(s) do not look like {args.person}'s other "
            "photos (left out of the statistics; check whose they are):"
        )
        for name in report.other_person:
            print(f"  {shown(name)}")
    if report.failed:
        print(f"{len(report.failed)} file(s) could not be imported:")
        for name, message in report.failed:
            print(f"  {shown(name)}: {shown(message)}")
        return EXIT_FAILED
    return EXIT_OK


def add_video_import_options(importer: argparse.ArgumentParser) -> None:
    """The options of ``import`` that only a video uses."""
    add_fps_option(importer)
    importer.add_argument(
        "--protocol",
        action="store_true",
        help="video: the clip follows the palsy protocol (rest, brow raise, gentle and full eye "
        "closure, smile, snarl, pucker), which names its segments",
    )


def run_import_video(args: argparse.Namespace) -> int:
    """``import VIDEO --person NAME [--protocol]``: each segment's peak a capture."""
    from analyzer.history.video_import import import_video

    if not args.folder.is_file():
        print(f"There is no file '{shown(args.folder)}'.", file=sys.stderr)
        return EXIT_FAILED
    db, store, where = open_history()
    print(where, file=sys.stderr)
    with frame_progress_bar(f"Analysing {args.folder.name}") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        report = import_video(
            db,
            None if args.landmarks_only else store,
            args.folder,
            args.person,
            protocol=args.protocol,
            fps=video_fps(args),
            progress=progress,
        )
    if report.imported:
        record_audit(
            db,
            "import",
            args.person,
            {"video": shown(args.folder.name), "captures": report.imported},
        )
    print(
        f"Imported {report.imported} capture(s) from {shown(args.folder.name)} for {args.person}:"
    )
    for s in report.stored:
        state = "" if s["new"] else " (already stored)"
        state += "" if s["accepted"] else " NOT ACCEPTED: " + " ".join(s["failed"])
        print(
            f"  {s['time_s']:6.2f} s  {s['expression']:<20} confidence {s['confidence']:.0%}, "
            f"{s['burst_frames']} frames averaged{state}"
        )
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    from analyzer.history.export import (
        write_csv,
        write_protocol_csv,
        write_verdicts_csv,
        write_zip,
    )

    if not (args.csv or args.zip or args.verdicts_csv or args.protocol_csv):
        print(
            "Say what to write: --csv, --verdicts-csv, --protocol-csv and/or --zip FILE.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    db, store, _ = open_history()
    with db.transaction() as session:
        person = person_or_message(session, args.person)
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
                print(
                    f"{exported.missing} photo file(s) were missing from the data folder: "
                    "missing_photos.txt in the archive lists them.",
                    file=sys.stderr,
                )
    written = [k for k in ("csv", "verdicts_csv", "protocol_csv", "zip") if getattr(args, k)]
    record_audit(db, "export", args.person, {"what": ", ".join(written)})
    return EXIT_OK


def run_delete(args: argparse.Namespace) -> int:
    from analyzer.history.maintenance import delete_person

    db, store, where = open_history()
    _tidy(db, store)  # finishes a delete that was interrupted after its commit
    with db.transaction() as session:
        if person_or_message(session, args.person) is None:
            return EXIT_FAILED
    if not args.yes:
        try:
            answer = input(
                f"Delete {args.person} and every photo and measure of theirs? "
                "This cannot be undone. Type yes: "
            )
        except EOFError:
            answer = ""
        if answer.strip().lower() != "yes":
            print("Nothing was deleted.")
            return EXIT_FAILED
    record_audit(db, "delete", args.person)  # before: afterwards the person has no reference left
    deleted = delete_person(db, store, args.person)
    print(
        f"Deleted {args.person}: {deleted.sessions} session(s), {deleted.captures} "
        f"capture(s), {deleted.photos} photo file(s). {where}"
    )
    return EXIT_OK


def run_demo(_args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from analyzer.present.demo import DEMO_PALSY_PERSON, DEMO_PERSON, ensure_demo

    db, store, where = open_history()
    with tqdm(unit="photo", desc="Demo people", file=sys.stderr, leave=False) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        created = ensure_demo(db, store, progress)
    print(
        f"Created the demo people '{DEMO_PERSON}' and '{DEMO_PALSY_PERSON}'. {where}"
        if created
        else "The demo people were already created for this data folder."
    )
    return EXIT_OK


def _coordinates(point: list[str]) -> tuple[str, float, float] | None:
    """POINT X Y from the command line, or None (with a sentence) when they are not that."""
    if len(point) != 3:
        print(
            f"--point takes a point and where it belongs, e.g. --point left_mouth_corner "
            f"612 705; got {' '.join(shown(p) for p in point)!r}.",
            file=sys.stderr,
        )
        return None
    try:
        return point[0], float(point[1]), float(point[2])
    except ValueError:
        print(
            f"X and Y are numbers of photo pixels: {shown(point[1])} {shown(point[2])} is not.",
            file=sys.stderr,
        )
        return None


def run_correct(args: argparse.Namespace) -> int:
    from analyzer.history import corrections
    from analyzer.measure.topology import CORRECTABLE_POINTS

    if args.reset and any(len(p) != 1 for p in args.point):
        print(
            "With --reset, --point takes the point alone, e.g. --reset --point 291.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    moves = [] if args.reset else [_coordinates(p) for p in args.point]
    if None in moves:
        return EXIT_USAGE
    try:  # names first: a typo must not leave half of the moves made
        points = [corrections.point_index(p[0]) for p in args.point]
    except AnalyzerError as error:
        print(str(error), file=sys.stderr)
        return EXIT_USAGE
    db, _, _ = open_history()
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
            print(
                f"Moved the {corrections.point_label(index)} of capture {capture.id} from "
                f"({row.old_x:.1f}, {row.old_y:.1f}) to ({x:.1f}, {y:.1f}) px."
            )
        changed = {
            n: (before[n], v)
            for n, v in capture.measures.items()
            if n in before and abs(v - before[n]) >= 0.005
        }
        rows = corrections.correction_rows(session, capture.id)
        summary = corrections.summaries(session, capture_ids=[capture.id]).get(capture.id)
    if changed:
        print("Measures that changed:")
        for name, (old, new) in changed.items():
            print(f"  {name:<36} {old:9.2f} → {new:9.2f}")
    if not (args.point or args.reset):
        print(f"Capture {args.capture}: {summary.sentence if summary else 'no corrections'}.")
        for row in rows:
            print(
                f"  {corrections.point_label(row.landmark)}: ({row.old_x:.1f}, "
                f"{row.old_y:.1f}) → ({row.new_x:.1f}, {row.new_y:.1f}) px by "
                f"{shown(row.corrected_by)} at {row.corrected_at:%Y-%m-%d %H:%M}"
            )
        print(
            "Points by name: "
            + ", ".join(f"{name} ({index})" for name, index in CORRECTABLE_POINTS.items())
            + "."
        )
    return EXIT_OK


def run_recompute(args: argparse.Namespace) -> int:
    from analyzer.history.maintenance import recompute_all

    db, store, where = open_history()
    print(where, file=sys.stderr)
    count = recompute_all(db, store, jobs=args.jobs)
    print(
        f"Recomputed the measures of {count} capture(s) from their landmarks, and followed "
        "the protocol's expressions from their rest photos again."
    )
    return EXIT_OK


def run_info(_args: argparse.Namespace) -> int:
    from analyzer.history.storage import person_summaries

    db, store, where = open_history()
    print(where)
    _tidy(db, store)
    with db.transaction() as session:
        summaries = person_summaries(session)
    if not summaries:
        print("No people yet. Import photos with: python -m analyzer import FOLDER --person NAME")
    for person in summaries:
        print(f"  {shown(person.name)}: {person.sessions} session(s), {person.captures} capture(s)")
    return EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add this group's commands to the parser."""
    # Over 60 lines on purpose: argparse declarations of eight commands, one statement per option.
    importer = commands.add_parser(
        "import",
        help="import a folder of photos into a person's history",
        description="Import every photo of a folder: one session per day (from EXIF, a "
        "YYYY-MM-DD in the name, or the file time); identical photos are skipped.",
    )
    importer.add_argument("folder", type=Path, metavar="FOLDER_OR_VIDEO")
    importer.add_argument(
        "--person", required=True, type=person_name, help="name or pseudonym (created if new)"
    )
    importer.add_argument("--expression", default="rest", type=protocol_expression)
    importer.add_argument(
        "--tag",
        action="append",
        default=[],
        type=expression_name,
        help="treatment tag, repeatable",
    )
    importer.add_argument(
        "--landmarks-only", action="store_true", help="store landmarks and measures, not photos"
    )
    add_video_import_options(importer)
    add_jobs_option(importer)
    export = commands.add_parser("export", help="export a person's history (CSV or ZIP)")
    export.add_argument("--person", required=True, type=person_name)
    export.add_argument("--csv", type=Path, help="one row per capture with every measure")
    export.add_argument("--zip", type=Path, help="photos, landmarks and measures")
    export.add_argument(
        "--protocol-csv",
        type=Path,
        help="one row per session of the palsy protocol: movements, eFACE-style items, method",
    )
    export.add_argument(
        "--verdicts-csv",
        type=Path,
        help="one row per session and followed measure: verdict, change, MDC95, reasons",
    )
    delete = commands.add_parser("delete", help="delete a person and all their data")
    delete.add_argument("--person", required=True, type=person_name)
    delete.add_argument("--yes", action="store_true", help="do not ask first")
    correct = commands.add_parser(
        "correct",
        help="move a measured point of a stored capture by hand, or reset it",
        description="Move a point of a stored capture to where it belongs (X, Y in the photo's "
        "pixels; for a photo saved as a mirror image, the photo turned back); the points of "
        "its contour follow, and the capture is measured again. The model's own landmarks "
        "are kept. Without --point or --reset: the capture's corrections and its points.",
    )
    correct.add_argument(
        "--capture",
        required=True,
        type=int,
        metavar="ID",
        help="the capture's id (the capture_id column of export --csv)",
    )
    correct.add_argument(
        "--point",
        action="append",
        nargs="+",
        default=[],
        metavar="POINT",
        help="POINT X Y: a point's name (e.g. left_mouth_corner) or a MediaPipe index 0-477 "
        "(e.g. 291), and where it belongs; repeatable. With --reset: POINT alone.",
    )
    correct.add_argument(
        "--reset", action="store_true", help="remove the corrections (of --point only, if given)"
    )
    recompute = commands.add_parser(
        "recompute", help="recompute every stored measure from stored landmarks"
    )
    add_jobs_option(recompute)
    commands.add_parser(
        "demo", help="create the demo people from the sample photos (once per data folder)"
    )
    commands.add_parser("info", help="where the data is kept, and what it holds")
    commands.add_parser(
        "migrate-photos",
        help="move the data folder's photos into the PostgreSQL database (idempotent)",
    )
