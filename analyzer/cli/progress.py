"""``progress`` (verdicts and trends) and ``report`` (the PDF)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from analyzer.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    open_history,
    person_name,
    person_or_message,
    protocol_expression,
    record_audit,
    shown,
)


def run_progress(args: argparse.Namespace) -> int:
    # Over 60 lines on purpose: reading the history, the usage checks and the two outputs (text,
    # JSON) of one command; the JSON's parts are functions of their own.
    from analyzer.history.catalog import FOLLOWED
    from analyzer.history.progress import measure_progress, plan_status, session_conditions
    from analyzer.history.storage import load_history
    from analyzer.history.verdicts import judge_phases, judge_progress, person_kind

    db, _, _ = open_history()
    with db.transaction() as session:
        person = person_or_message(session, args.person)
        if person is None:
            return EXIT_FAILED
        rows = load_history(session, person)
        side = person.affected_side
    if not rows:
        if args.json:
            print(
                json.dumps(
                    {
                        "person": args.person,
                        "expression": args.expression,
                        "baseline": [],
                        "measures": [],
                    }
                )
            )
        else:
            print(f"{args.person} has no captures yet. Import photos first.")
        return EXIT_OK
    ok, baseline_id = _session_by_day(rows, args.baseline)
    if not ok:
        return EXIT_FAILED
    known = {name for r in rows for name in r.measures} | set(FOLLOWED)
    unknown = [m for m in args.measure if m not in known]
    if unknown:
        print(
            f"Unknown measure: {', '.join(shown(m) for m in unknown)}. Measures are named as "
            "in `analyze --json`, e.g. brow_height_left_mm, commissure_height_diff_mm.",
            file=sys.stderr,
        )
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
        print(
            json.dumps(
                {
                    "person": args.person,
                    "expression": args.expression,
                    "baseline": baseline_days,
                    "current": next((day_of[r.current_id] for r in results if r.current_id), None),
                    "measures": [
                        {
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
                        }
                        for r, a in zip(results, answers, strict=True)
                    ],
                },
                indent=1,
            )
        )
        return EXIT_OK
    print(plan_status(rows, args.expression, person_kind(side)).sentence)
    for result, answer in zip(results, answers, strict=True):
        print(f"[{answer.word}] {answer.sentence}")
        phases = judge_phases(result, side)
        if phases is not None:
            print(
                f"    {phases.comparison[:1].upper()}{phases.comparison[1:]}: [{phases.word}] "
                f"{phases.sentence}"
            )
        if result.noise.is_default or not result.noise.available:
            print(f"    {result.noise.reason}")
    if args.treated_side:
        from analyzer.history.progress import SPLIT_FACE_STEMS, split_face_progress

        print(
            f"Split face: the {args.treated_side} side against the untreated side as control "
            "(the strongest design: what moves both sides cancels)"
        )
        for stem in SPLIT_FACE_STEMS:
            _, verdict = split_face_progress(
                rows, stem, args.treated_side, expression=args.expression
            )
            print(f"[{verdict.verdict}] {verdict.sentence}")
    else:
        print(
            "Tip: treating one side only (--treated-side) makes the other side a control: "
            "the strongest way to test a treatment on yourself."
        )
    return EXIT_OK


def _phase_json(result, side: str) -> dict[str, Any] | None:
    """The treatment phase against the baseline phase (None: no session tagged as treatment),
    in the words the pages show (``verdicts.judge_phases``)."""
    from analyzer.history.verdicts import judge_phases

    answer = judge_phases(result, side)
    if answer is None:
        return None
    verdict = result.before_after
    return {
        "comparison": answer.comparison,
        "verdict": verdict.verdict,
        "word": answer.word,
        "effect": answer.effect,
        "change": verdict.difference_mm,
        "mdc95": verdict.mdc95_mm,
        "sentence": answer.sentence,
        "reasons": list(verdict.reasons),
    }


def _trend_json(trend) -> dict[str, Any]:
    """The Theil-Sen trend of the session means, per 30 days with its 95 % interval (None
    values with too few sessions)."""
    ci = trend.slope_ci95_mm_per_30_days
    return {
        "status": trend.status,
        "sessions": trend.n_sessions,
        "span_days": trend.span_days,
        "slope_per_30_days": trend.slope_mm_per_30_days,
        "slope_ci95_per_30_days": list(ci) if ci else None,
        "sentence": trend.sentence,
    }


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

    db, store, _ = open_history()
    with db.transaction() as session:
        person = person_or_message(session, args.person)
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
    record_audit(db, "report", args.person)
    print(
        f"Wrote {args.pdf}: {len(content.session_days)} session(s), {len(content.rows)} "
        f"measure(s), baseline {content.baseline_day}, compared "
        f"{content.current_day}."
    )
    return EXIT_OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add this group's commands to the parser."""
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
        "--treated-side",
        choices=("left", "right"),
        help="split face: only this side is treated; compare it with the untreated side",
    )
    report = commands.add_parser("report", help="a PDF report of a person for the clinician")
    report.add_argument("--person", required=True, type=person_name)
    report.add_argument("--pdf", required=True, type=Path)
    report.add_argument("--baseline", help="baseline session day YYYY-MM-DD (default: first)")
    report.add_argument("--compare", help="session day YYYY-MM-DD to compare (default: latest)")
