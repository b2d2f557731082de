"""The command line: ``python -m analyzer analyze PHOTO [PHOTO ...] [--json] [--landmarks]``.

Exit status: 0 when every photo was analysed, 1 when any was not, 2 for a usage error. An
error is one sentence for a person, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from analyzer import __version__
from analyzer.errors import AnalyzerError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def positive_float(text: str) -> float:
    """An argparse type: a finite number above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be a number above zero")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analyzer",
        description="Measure facial symmetry and contour in millimetres from face photos.",
    )
    parser.add_argument("--version", action="version", version=f"analyzer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    analyze = commands.add_parser(
        "analyze", help="analyse photos and print their measures",
        description="Analyse face photos: pose, quality checks and measures in mm.",
    )  # fmt: skip
    analyze.add_argument("photos", nargs="+", type=Path, metavar="PHOTO")
    analyze.add_argument("--json", action="store_true", help="print a JSON list instead")
    analyze.add_argument(
        "--landmarks", action="store_true", help="include the 478 landmarks (x, y, z in px)"
    )
    analyze.add_argument(
        "--expression", default="rest", help="the expression the photo shows (default: rest)"
    )
    analyze.add_argument(
        "--mm-per-px", type=positive_float, default=None, metavar="MM",
        help="use this scale instead of the iris (11.7 mm) ruler",
    )  # fmt: skip
    return parser


def analysis_record(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One photo's JSON object; ``ok`` is false and ``error`` says why when it failed."""
    from analyzer.analysis import analyze_photo  # imported here: keeps --help fast

    record: dict[str, Any] = {"file": str(path), "ok": False, "error": None}
    try:
        result = analyze_photo(path, mm_per_px=args.mm_per_px, expression=args.expression)
    except AnalyzerError as error:
        record["error"] = str(error)
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
    )
    if args.landmarks:
        record["landmarks"] = result.landmarks_px.round(3).tolist()
    return record


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
    lines.append("   Measures (subject's left and right):")
    for name, value in record["measures"].items():
        lines.append(f"     {name:<36} {value:9.2f}")
    return "\n".join(lines)


def run_analyze(args: argparse.Namespace) -> int:
    records = []
    for path in args.photos:
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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse exits 2 on usage errors, 0 for --help
        return int(stop.code or 0)
    try:
        if args.command == "analyze":
            return run_analyze(args)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_FAILED
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE
