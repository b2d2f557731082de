"""``analyze``: photos (and videos) measured, printed or written as a table."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from analyzer.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    MM_PER_PX_RANGE,
    add_fps_option,
    add_jobs_option,
    frame_progress_bar,
    protocol_expression,
    shown,
    video_fps,
)
from analyzer.errors import AnalyzerError


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


def add_table_options(analyze: argparse.ArgumentParser) -> None:
    """``analyze``'s options for many photos: a table file, workers, a Dask cluster."""
    analyze.add_argument(
        "--table",
        type=Path,
        metavar="FILE",
        help="write one row per photo (every measure, check and region) to FILE (.csv or "
        ".parquet) instead of printing reports",
    )
    add_jobs_option(analyze)
    analyze.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="with --table: run on a Dask distributed cluster (its scheduler's address, "
        "e.g. tcp://10.0.0.5:8786); the photos are sent to it",
    )
    analyze.add_argument(
        "--shared-paths",
        action="store_true",
        help="with --dask: the workers read the photos from the same paths (a shared "
        "folder) instead of being sent them",
    )
    analyze.add_argument(
        "--identity",
        action="store_true",
        help="also compute the face descriptor (same-person check; about 70 ms a photo): "
        "128 columns identity_000 … in --table, 'identity' in --json",
    )


def analysis_record(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One photo's JSON object; ``ok`` is false and ``error`` says why when it failed."""
    from analyzer.measure.table import analysed  # imported here: keeps --help fast

    record: dict[str, Any] = {"file": shown(path), "ok": False, "error": None}
    result = analysed(
        path, mm_per_px=args.mm_per_px, expression=args.expression, identity=args.identity
    )
    if isinstance(result, str):
        record["error"] = result
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
        found = [
            f"{name} {how}" + (f" ({notes[name].split(' (')[0]})" if name in notes else "")
            for name, how in record["regions"].items()
            if name.startswith(("eye", "brow"))
        ]
        lines.append("   Lids and brows: " + ", ".join(found))
    if side := record.get("weaker_side"):
        lines.append(
            f"   Weaker side suggested: {side['side']} ({side['confidence']} "
            f"confidence): {side['summary']}"
        )
    lines.append("   Measures (subject's left and right):")
    for name, value in record["measures"].items():
        lines.append(f"     {name:<36} {value:9.2f}")
    return "\n".join(lines)


def run_analyze(args: argparse.Namespace) -> int:
    from analyzer.measure.table import photo_paths, table_format
    from analyzer.video.decode import is_video

    videos = [p for p in args.photos if is_video(p)]
    if videos and len(videos) < len(args.photos):
        print(
            "Give videos and photos in separate commands: a video's rows are its frames.",
            file=sys.stderr,
        )
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
    if all(path.is_dir() for path in paths):  # only folders, none with a photo in it
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
    print(
        "No photos found: a folder's photos are its .jpg, .jpeg, .png, .webp, .heic and "
        ".heif files.",
        file=sys.stderr,
    )
    return EXIT_FAILED


def progress_bar(description: str):
    """A tqdm bar on standard error, drawn only on a terminal; call ``bar.close()``.
    Its ``progress(done, total)`` method suits ``map_in_workers``."""
    from tqdm import tqdm

    bar = tqdm(
        unit="photo",
        desc=description,
        file=sys.stderr,
        leave=False,
        disable=not sys.stderr.isatty(),
    )

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
        print(
            "--dask and --shared-paths write a table: add --table FILE.csv (or .parquet).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        table_format(args.table)
    except AnalyzerError as error:
        print(str(error), file=sys.stderr)
        return EXIT_USAGE
    if args.landmarks or args.json:
        print(
            "--landmarks and --json print reports; a table has no room for them: leave "
            "them out with --table.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if all(path.is_dir() for path in photo_paths(args.photos)):
        return no_photos()
    options = {
        "expression": args.expression,
        "identity": args.identity,
        "mm_per_px": args.mm_per_px,
    }
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
        return measure_on_dask(
            args.dask, args.photos, shared=args.shared_paths, progress=progress, **options
        )
    except ImportError:
        print(
            "--dask needs the packages dask and distributed: pip install -r requirements.txt.",
            file=sys.stderr,
        )
    except (OSError, TimeoutError, ValueError) as error:
        print(
            f"The Dask scheduler at {shown(args.dask)} could not be reached "
            f"({type(error).__name__}): check the address (tcp://HOST:8786) and that the "
            "scheduler is running.",
            file=sys.stderr,
        )
    return None


def add_video_analyze_options(analyze: argparse.ArgumentParser) -> None:
    """The options of ``analyze`` that only a video uses (``--table`` is shared with
    photos)."""
    if "--table" not in analyze._option_string_actions:
        analyze.add_argument(
            "--table",
            type=Path,
            metavar="FILE",
            help="write one row per photo (per frame of a video) to a CSV file",
        )
    add_fps_option(analyze)


def segment_record(segment) -> dict[str, Any]:
    """A segment as JSON: kind, expression, times, peak and confidence."""
    return {
        "kind": segment.kind,
        "expression": segment.expression,
        "start_s": round(segment.start_s, 3),
        "end_s": round(segment.end_s, 3),
        "peak_s": None if segment.peak_s is None else round(segment.peak_s, 3),
        "confidence": round(segment.confidence, 3),
    }


def video_record(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One video's JSON object: per analysed frame a row, and its segments."""
    from analyzer.video.exam import read_exam
    from analyzer.video.track import frame_row

    record: dict[str, Any] = {"file": shown(path), "ok": False, "error": None}
    with frame_progress_bar(f"Analysing {path.name}") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            exam = read_exam(path, fps=video_fps(args), progress=progress)
        except AnalyzerError as error:
            record["error"] = str(error)
            return record
    record.update(
        ok=True,
        fps_analysed=video_fps(args),
        clip_fps=exam.info.fps,
        rotation_deg=exam.info.rotation_deg,
        width=exam.info.width,
        height=exam.info.height,
        truncated=exam.decoded.truncated,
        frames=[frame_row(r) for r in exam.results],
        segments=[segment_record(s) for s in exam.segments],
        dynamics=exam.dynamics.as_dict(),
    )
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
    lines.append(
        f"   {record['width']}x{record['height']} at {record['clip_fps']:.1f} fps; "
        f"{len(frames)} frames analysed ({record['fps_analysed']:g} per second), "
        f"{measured} with a measurable face."
    )
    if record["truncated"]:
        lines.append("   The file breaks off early: only the frames before the break were read.")
    if record["rotation_deg"]:
        lines.append(f"   Turned {record['rotation_deg']}° as the file says.")
    keys = (
        "palpebral_fissure_height_left_mm",
        "palpebral_fissure_height_right_mm",
        "commissure_excursion_left_mm",
        "commissure_excursion_right_mm",
        "brow_height_left_mm",
        "brow_height_right_mm",
    )
    lines.append("   time_s  fissure L/R   excursion L/R   brow L/R   (mm; --table for all)")
    for f in frames:
        if not f["ok"]:
            lines.append(f"   {f['time_s']:6.2f}  {f['error']}")
            continue
        v = [f.get(k, math.nan) for k in keys]
        lines.append(
            f"   {f['time_s']:6.2f}  {v[0]:5.1f} {v[1]:5.1f}   {v[2]:6.1f} {v[3]:6.1f}"
            f"   {v[4]:5.1f} {v[5]:5.1f}"
        )
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
        lines.append(
            f"     {c['expression']} from {c['start_s']:.2f} s: closed in "
            f"{pair(c, 'time_to_close_s', 's')}, smallest lid gap "
            f"{pair(c, 'min_gap_mm', 'mm')}"
        )
    for b in found["blinks"]:
        lines.append(
            f"     blink at {b['time_s']:.2f} s: {pair(b, 'completeness_pct', '%')} closed"
        )
    lines.append(
        f"     synkinesis (eye closure with mouth corner, r): {pair(found, 'synkinesis_r', '')}"
    )
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
        print(f"\n{len(failed)} of {len(records)} video(s) could not be analysed.", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add this group's commands to the parser."""
    analyze = commands.add_parser(
        "analyze",
        help="analyse photos and print their measures",
        description="Analyse face photos: pose, quality checks and measures in mm.",
    )
    analyze.add_argument(
        "photos",
        nargs="+",
        type=Path,
        metavar="PHOTO_OR_FOLDER",
        help="photo files, or folders whose photos (.jpg, .png, .webp, .heic) are analysed",
    )
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
        "--mm-per-px",
        type=positive_float,
        default=None,
        metavar="MM",
        help="use this scale instead of the iris (11.7 mm) ruler",
    )
    add_table_options(analyze)
    add_video_analyze_options(analyze)
