"""A clinician's PDF report of one person (fpdf2; charts drawn with Matplotlib).

Who and when; the answer to "did it change?" in one paragraph; the protocol photos of the
chosen sessions in a grid; the table of measures with change against baseline, the noise
(MDC95) and the verdict (``analyzer.history.verdicts``, the words every page uses); the
eFACE-style estimate as a table, labelled as a landmark-based estimate; and trend charts.
Measures are named in words (``catalog.plain_name``), never by their stored names; photos
are embedded as small JPEGs.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np
from fpdf import FPDF
from fpdf.fonts import FontFace
from matplotlib.figure import Figure
from PIL import Image
from sqlalchemy.orm import Session

from analyzer import __version__
from analyzer.history.catalog import FOLLOWED, plain_name
from analyzer.history.datadir import PhotoStore
from analyzer.history.importer import stored_photo
from analyzer.history.progress import (
    MeasureProgress,
    in_words,
    lid_gaps,
    measure_progress,
    plan_status,
    protocol_rows,
    session_conditions,
    session_movement,
)
from analyzer.history.service import representative
from analyzer.history.storage import Capture, Person, load_history, load_protocol_captures
from analyzer.history.verdicts import headline, judge_progress, person_kind
from analyzer.measure.conditions import CaptureConditions
from analyzer.measure.registry import ratio_name
from analyzer.present.intended_use import INTENDED_USE
from analyzer.present.visuals import aligned, face_crop
from analyzer.protocol import movement

FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
PROTOCOL_MEASURES = (
    *(ratio_name(e) for e in movement.PRIMARY),
    "broad_smile_commissure_movement_left_mm",
    "broad_smile_commissure_movement_right_mm",
    *(
        f"{e}_lagophthalmos_{side}_mm"
        for e in ("gentle_eye_closure", "full_eye_closure")
        for side in ("left", "right")
    ),
)


@dataclass(frozen=True)
class ReportContent:
    person: str
    affected_side: str
    session_days: list[dt.date]
    baseline_day: dt.date | None
    current_day: dt.date | None
    rows: list[MeasureProgress]
    estimates: dict[dt.date, movement.EfaceEstimate]
    protocol_messages: dict[dt.date, str]
    plan: str = ""  # where the person is in the self-test plan
    conditions: dict[dt.date, list[CaptureConditions]] = field(default_factory=dict)  # rest
    baseline_days: tuple[dt.date, ...] = ()  # the sessions the baseline is the mean of
    #: Captures with points corrected by hand: "05 Jan 2026, rest (capture 3): corrected by …"
    corrections: tuple[str, ...] = ()
    #: Per protocol session, how each expression's movement was measured, region by region
    #: ("brow raise: from the photo"; ``SessionMovement.measured_by``).
    protocol_hows: dict[dt.date, str] = field(default_factory=dict)


#: Colours of a verdict's word in the tables (green better, red worse, blue no direction).
COLOURS = {
    "green": (30, 132, 73),
    "red": (192, 57, 43),
    "blue": (31, 58, 147),
    "gray": (90, 90, 90),
    "orange": (202, 111, 30),
}
#: A stored measure name inside a sentence: "brow_height_diff_mm".
STORED_NAME = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)*_(?:mm|pct|deg|ratio)\b")


def in_plain_words(text: str) -> str:
    """Every stored measure name in ``text`` written in words (``catalog.plain_name``)."""
    return STORED_NAME.sub(lambda m: plain_name(m.group(0), unit=True), text)


def _with_unit(x: float | None, unit: str, *, change: bool = False, spread: bool = False) -> str:
    """ "18.6 mm", "+0.4 mm", "±1.6 mm", "78 %", "+64 points", "0.82"."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    shown = "points" if unit == "%" and change else unit
    # Two decimals below 1 (a ratio always): 0.11 against a noise of 0.10 must not read 0.1/0.1.
    digits = 0 if unit == "%" else 2 if not unit or abs(x) < 1 else 1
    x = round(x, digits) + 0.0  # no "-0.0"
    sign = "±" if spread else "+" if change and x > 0 else ""
    number = f"{sign}{x:.{digits}f}"
    return f"{number}{shown}" if shown == "°" else f"{number} {shown}".rstrip()


def measure_cells(result: MeasureProgress, affected_side: str) -> list[str]:
    """One measure's row: its name in words (the technical name below when it differs), the
    baseline, compared and change with units, the noise (±MDC95) and the verdict's word."""
    v, info = result.verdict, result.info
    name = plain_name(info.name)
    if info.label.lower() != name.lower():
        name += f"\n({info.label})"
    answer = judge_progress(result, affected_side)
    return [
        name,
        _with_unit(v.baseline_mm, info.unit),
        _with_unit(v.current_mm, info.unit),
        _with_unit(v.difference_mm, info.unit, change=True),
        _with_unit(v.mdc95_mm, info.unit, change=True, spread=True),
        answer.word,
    ]


def build_content(
    session: Session, person: Person, baseline_id: int | None = None, current_id: int | None = None
) -> ReportContent:
    # Over 60 lines on purpose: everything the PDF shows is gathered in one read transaction.
    history = load_history(session, person)
    captures = load_protocol_captures(session, person)
    protocol = protocol_rows(captures, person.affected_side)
    sessions = sorted({(r.session_day, r.session_id) for r in history})
    ids = [sid for _, sid in sessions]
    chosen = baseline_id if baseline_id in ids else None  # None: the baseline phase
    current_id = current_id if current_id in ids else (ids[-1] if ids else None)
    rest_conditions = session_conditions(history)
    results = [
        measure_progress(
            history, n, baseline_id=chosen, current_id=current_id, conditions=rest_conditions
        )
        for n in FOLLOWED
        if any(n in r.measures for r in history)
    ]
    baseline_ids = results[0].baseline_ids if results else tuple(ids[:1])
    baseline_id = baseline_ids[0] if baseline_ids else None
    results += [
        measure_progress(
            protocol, n, expression="protocol", baseline_id=chosen, current_id=current_id
        )
        for n in (*PROTOCOL_MEASURES, *movement.synkinesis_measures(person.affected_side))
        if any(n in r.measures for r in protocol)
    ]
    day_of = {sid: day for day, sid in sessions}
    estimates, messages, hows = {}, {}, {}
    # The estimate of every protocol session up to the compared one (the table's columns:
    # the first and the latest five), the photos and their words of the two compared.
    moving = {c.session_id for c in captures if c.expression in movement.PRIMARY}
    shown = [
        sid
        for day, sid in sessions
        if sid in moving and (current_id is None or day <= day_of[current_id])
    ]
    shown = shown[:1] + shown[1:][-5:]
    for sid in sorted(
        {*shown, *(i for i in (baseline_id, current_id) if i is not None)}, key=lambda i: day_of[i]
    ):
        estimates[day_of[sid]] = session_movement(
            captures, history, sid, person.affected_side
        ).result.estimate
    for sid in dict.fromkeys(i for i in (baseline_id, current_id) if i is not None):
        found = session_movement(captures, history, sid, person.affected_side)
        result = found.result
        messages[day_of[sid]] = result.message
        ways = [
            f"{e}: {in_words(found.measured_by(e))}"
            for e in movement.EXPRESSIONS
            if found.measured_by(e)
        ]
        hows[day_of[sid]] = " ".join(
            part
            for part in (
                "Points: " + "; ".join(ways) + "." if ways else "",
                lid_gap_sentence(lid_gaps(history, sid)),
            )
            if part
        )
    return ReportContent(
        person=person.name,
        affected_side=person.affected_side,
        session_days=[d for d, _ in sessions],
        baseline_day=day_of.get(baseline_id),
        current_day=day_of.get(current_id),
        rows=results,
        estimates=estimates,
        protocol_messages=messages,
        protocol_hows=hows,
        plan=plan_status(history, kind=person_kind(person.affected_side)).sentence,
        conditions={day_of[sid]: found for sid, found in rest_conditions.by_session.items()},
        baseline_days=tuple(day_of[sid] for sid in baseline_ids),
        corrections=tuple(
            f"{r.session_day:%d %b %Y}, {r.expression} (capture {r.capture_id}): {r.corrected}"
            for r in history
            if r.corrected
        ),
    )


#: What showed between the lids, in words for the report.
LID_GAP_WORDS = {
    "shut": "shut",
    "white": "open, only white showing (the iris rolled up: Bell's phenomenon)",
    "iris": "open, the iris showing",
    "unseen": "open",
    "uncertain": "not clear (left to the model)",
}


def lid_gap_sentence(gaps: dict[str, dict[str, str]]) -> str:
    """The words "Between the lids in gentle eye closure: left …; right shut." per closure."""
    sentences = []
    for expression, sides in gaps.items():
        words = [
            f"{side} " + " / ".join(LID_GAP_WORDS.get(g, g) for g in sides[side].split("/"))
            for side in ("left", "right")
            if side in sides
        ]
        sentences.append(f"Between the lids in {expression}: {'; '.join(words)}.")
    return " ".join(sentences)


def _chart_png(result: MeasureProgress) -> bytes:
    figure = Figure(figsize=(3.6, 2.0), dpi=150)  # no pyplot: no global state, no screen
    axis = figure.subplots()
    times = [s.time for s in result.sessions]
    means = [s.mean_mm for s in result.sessions]
    axis.plot(times, means, "o-", color="#1F3A93", markersize=3, linewidth=1.2)
    level, band = result.verdict.baseline_mm, result.band_mm
    if level is not None and band is not None:
        axis.axhspan(level - band, level + band, color="#F4D03F", alpha=0.3)
    refused = [s for s in result.sessions if result.not_comparable.get(s.session_id)]
    if refused:
        axis.plot(
            [s.time for s in refused],
            [s.mean_mm for s in refused],
            "x",
            color="#C0392B",
            markersize=5,
            label="not comparable",
        )
        axis.legend(fontsize=5)
    axis.set_title(plain_name(result.info.name, unit=True), fontsize=7)
    axis.tick_params(labelsize=6)
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


#: A protocol photo's longest side in the PDF (25 mm wide: about 300 dpi) and its quality.
PHOTO_PX, PHOTO_QUALITY = 300, 80


def _photo_jpeg(store: PhotoStore, capture: Capture) -> bytes | None:
    """The capture's face, aligned and cropped, as a small JPEG (a PNG of a full-resolution
    crop made a 3-page report weigh 5.8 MB)."""
    rgb = stored_photo(store, capture)
    if rgb is None:
        return None
    image, points = aligned(rgb, capture.landmarks_px())
    face = Image.fromarray(face_crop(image, np.column_stack([points, np.zeros(len(points))]), 0.15))
    face.thumbnail((PHOTO_PX, PHOTO_PX), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    face.convert("RGB").save(buffer, format="JPEG", quality=PHOTO_QUALITY, optimize=True)
    return buffer.getvalue()


def write_report(
    session: Session,
    person: Person,
    store: PhotoStore,
    path: Path,
    baseline_id: int | None = None,
    current_id: int | None = None,
) -> ReportContent:
    """Write the PDF; returns what it holds (for the caller's message and for tests)."""
    content = build_content(session, person, baseline_id, current_id)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("Sans", "", str(FONT / "DejaVuSans.ttf"))
    pdf.add_font("Sans", "B", str(FONT / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    pdf.set_font("Sans", "B", 16)
    pdf.cell(0, 10, "Facial measurement report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Sans", "", 10)
    days = content.session_days
    span = f"{days[0]:%d %b %Y} to {days[-1]:%d %b %Y}" if days else "no sessions"
    kind = person_kind(content.affected_side)
    for line in (
        f"Person: {content.person}    Affected side: {content.affected_side}    ({kind})",
        f"{len(days)} session(s), {span}. Baseline: {_days(content.baseline_days)}; "
        f"compared: {content.current_day}.",
        f"{'Follow-up' if kind == 'patient follow-up' else 'Self-test'} plan: {content.plan}",
        f"Generated {dt.date.today():%d %b %Y} by facial-symmetry-analyzer {__version__}. Sides "
        "are the subject's own. Measures from face-mesh landmarks in a pose-normalised frame; "
        "scale from the iris (11.7 mm).",
    ):
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 5, INTENDED_USE, new_x="LMARGIN", new_y="NEXT")
    if content.corrections:
        pdf.multi_cell(
            0,
            5,
            "Points corrected by hand (these captures are measured from the "
            "corrected points; the model's own are kept): " + "; ".join(content.corrections) + ".",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    # Issue 26: the intended-use paragraph belongs here, on the first page under the header.
    answers = [judge_progress(r, content.affected_side) for r in content.rows]
    if answers and content.baseline_day:
        pdf.set_font("Sans", "B", 10)
        since = f"Since baseline ({content.baseline_day:%d %b %Y})"
        if content.current_day:
            since += f", latest session {content.current_day:%d %b %Y}"
        pdf.multi_cell(
            0, 5, headline(answers, since, content.affected_side), new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_font("Sans", "", 10)
    pdf.ln(2)
    _photo_grid(pdf, session, person, store, content)
    _measure_table(pdf, content)
    _conditions_table(pdf, content)
    _estimates(pdf, content)
    _charts(pdf, content)
    pdf.output(str(path))
    return content


def _photo_grid(
    pdf: FPDF, session: Session, person: Person, store: PhotoStore, content: ReportContent
) -> None:
    pdf.set_font("Sans", "B", 12)
    pdf.cell(0, 8, "Protocol photos", new_x="LMARGIN", new_y="NEXT")
    for day in dict.fromkeys(d for d in (content.baseline_day, content.current_day) if d):
        sitting = next(s for s in person.sessions if s.day == day)
        size = 25.0
        if pdf.will_page_break(6 + size * 1.15 + 6 + 16):  # a day's photos stay together
            pdf.add_page()
        pdf.set_font("Sans", "", 9)
        pdf.cell(0, 6, f"{day:%d %b %Y}", new_x="LMARGIN", new_y="NEXT")
        x0, y0 = pdf.get_x(), pdf.get_y()
        shown = 0
        for expression in movement.EXPRESSIONS:
            capture = representative(sitting.captures, expression)  # the baseline, at baseline
            jpeg = _photo_jpeg(store, capture) if capture else None
            if jpeg is None:
                continue
            x = x0 + shown * (size + 2)
            pdf.image(io.BytesIO(jpeg), x=x, y=y0, w=size)
            pdf.set_xy(x, y0 + size * 1.15 + 1)
            pdf.set_font("Sans", "", 6)
            pdf.cell(size, 3, expression)
            shown += 1
        pdf.set_xy(x0, y0 + (size * 1.15 + 6 if shown else 0))
        if not shown:
            pdf.cell(0, 5, "(no photos kept for this session)", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Sans", "", 8)
        pdf.multi_cell(0, 4, content.protocol_messages.get(day, ""), new_x="LMARGIN", new_y="NEXT")
        if content.protocol_hows.get(day):
            pdf.multi_cell(0, 4, content.protocol_hows[day], new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)


def _measure_table(pdf: FPDF, content: ReportContent) -> None:
    pdf.set_font("Sans", "B", 12)
    pdf.cell(0, 8, "Measures: latest session against baseline", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Sans", "", 7)
    titles = ("measure", "baseline", "compared", "change", "noise (MDC95)", "verdict")
    with pdf.table(
        col_widths=(70, 20, 20, 20, 22, 28),
        line_height=3.6,
        text_align="LEFT",
        headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
        first_row_as_headings=True,
        repeat_headings=1,
    ) as table:
        table.row(titles)
        for result in content.rows:
            cells = measure_cells(result, content.affected_side)
            colour = judge_progress(result, content.affected_side).colour
            row = table.row()
            for text in cells[:-1]:
                row.cell(text)
            row.cell(cells[-1], style=FontFace(color=COLOURS[colour], emphasis="BOLD"))
    refused = [r for r in content.rows if r.verdict.reasons]
    for result in refused:
        pdf.multi_cell(
            0,
            4,
            f"{plain_name(result.info.name)} not compared: " + "; ".join(result.verdict.reasons),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.set_font("Sans", "", 7)
    pdf.multi_cell(
        0,
        4,
        "A change is called real only when it exceeds MDC95 (the minimal "
        "detectable change at 95 %, from the day-to-day variation of this person's "
        "baseline sessions or, until there are three, a typical figure) and its 95 % "
        "interval excludes zero. Better (green) and worse (red) are said where a "
        "measure has a direction: less asymmetry, an affected side moving more, less "
        "synkinesis and a smaller gap left by the closing eye are better; a height "
        "or a width is only larger or smaller (blue). A session taken differently "
        "from the baseline (camera, distance, pose, light, expression) is not "
        "compared. "
        "Movements are measured from each session's rest photo. Lids and brows are "
        'found in both photos themselves where that is clear ("from the photo"); '
        "other regions are followed from the rest photo by optical flow where both "
        "photos are kept and the region's skin can be followed; otherwise the "
        "face-mesh model's own points are used, which read a one-sided movement as "
        "more symmetric than it is. Each session says which, region by region.",
        new_x="LMARGIN",
        new_y="NEXT",
    )


def _days(days: tuple[dt.date, ...]) -> str:
    if not days:
        return "none"
    if len(days) == 1:
        return f"{days[0]}"
    return f"the mean of {len(days)} sessions ({days[0]} to {days[-1]})"


def _conditions_table(pdf: FPDF, content: ReportContent) -> None:
    """How each session's resting photos were taken: what comparability is judged on."""
    if not content.conditions:
        return
    pdf.ln(2)
    pdf.set_font("Sans", "B", 12)
    pdf.cell(
        0,
        8,
        "Capture conditions (resting photos, median per session)",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    titles = (
        "session",
        "camera",
        "face share",
        "yaw / pitch",
        "light L−R",
        "eyes open",
        "corner excursion",
    )
    pdf.set_font("Sans", "", 7)
    with pdf.table(
        col_widths=(20, 62, 18, 22, 18, 18, 22),
        line_height=3.6,
        text_align="LEFT",
        headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
        repeat_headings=1,
    ) as table:
        table.row(titles)
        for day in sorted(content.conditions)[-24:]:
            table.row(condition_cells(day, content.conditions[day]))


def condition_cells(day: dt.date, found: list[CaptureConditions]) -> list[str]:
    """One session's conditions in words and numbers (the medians of its captures)."""

    def median(values: list[float | None], pattern: str) -> str:
        known = [v for v in values if v is not None]
        return pattern.format(float(np.median(known))) if known else "?"

    cameras = sorted({c.camera or f"no EXIF, {c.image_width}×{c.image_height}" for c in found})
    return [
        f"{day}",
        "; ".join(cameras)[:48],
        median([c.face_share for c in found], "{:.0%}"),
        median([c.yaw_deg for c in found], "{:+.0f}°")
        + " / "
        + median([c.pitch_deg for c in found], "{:+.0f}°"),
        median([c.light_balance for c in found], "{:+.0%}"),
        median([c.eye_opening_mm for c in found], "{:.1f} mm"),
        median([c.excursion_mm for c in found], "{:.1f} mm"),
    ]


def estimate_rows(
    estimates: dict[dt.date, movement.EfaceEstimate],
) -> tuple[list[str], list[list[str]]]:
    """The eFACE-style estimate as a table: items down, sessions across; each cell the
    item's score (0-100) and, after the first session, its change from the first. The last
    rows are the parts' scores and the total."""
    days = sorted(estimates)
    titles = ["item", "from", *(f"{d:%d %b %Y}" for d in days)]
    first = estimates[days[0]] if days else None
    rows: list[list[str]] = []
    keys = list(dict.fromkeys((i.part, i.name) for d in days for i in estimates[d].items))

    def cell(value: float | None, start: float | None, index: int) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "n/a"
        if index == 0 or start is None or math.isnan(start):
            return f"{value:.0f}"
        return f"{value:.0f} ({round(value - start):+d})"

    for part, name in keys:
        found = [
            next((i for i in estimates[d].items if (i.part, i.name) == (part, name)), None)
            for d in days
        ]
        source = next(i.source for i in found if i is not None)
        start = found[0].score if found and found[0] is not None else None
        rows.append(
            [
                f"{part}: {name}",
                in_plain_words(source),
                *(cell(i.score if i else None, start, k) for k, i in enumerate(found)),
            ]
        )
    for part in ("static", "dynamic", "synkinesis", "total"):
        start = getattr(first, part) if first else None
        rows.append(
            [
                part if part == "total" else f"{part} part",
                "",
                *(cell(getattr(estimates[d], part), start, k) for k, d in enumerate(days)),
            ]
        )
    return titles, rows


def _estimates(pdf: FPDF, content: ReportContent) -> None:
    pdf.ln(2)
    rows = len(estimate_rows(content.estimates)[1]) if content.estimates else 0
    if pdf.will_page_break(20 + 6 * (rows + 1)):  # the title and its table on one page
        pdf.add_page()
    pdf.set_font("Sans", "B", 12)
    pdf.multi_cell(0, 6, movement.EfaceEstimate.LABEL, new_x="LMARGIN", new_y="NEXT")
    if not content.estimates:
        return
    titles, rows = estimate_rows(content.estimates)
    sessions = len(titles) - 2
    pdf.set_font("Sans", "", 7)
    pdf.multi_cell(
        0,
        4,
        "Scores 0-100 (100: symmetric and normal); in brackets the change "
        "from the first session shown.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    with pdf.table(
        col_widths=(52, 58, *([80 / sessions] * sessions)),
        line_height=3.6,
        text_align="LEFT",
        repeat_headings=1,
        headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
    ) as table:
        table.row(titles)
        for k, row in enumerate(rows):
            bold = FontFace(emphasis="BOLD") if k >= len(rows) - 4 else None
            line = table.row()
            for text in row:
                line.cell(text, style=bold)
    missing = sorted({m for e in content.estimates.values() for m in e.missing})
    if missing:
        pdf.multi_cell(
            0, 4, f"Not estimated (missing: {', '.join(missing)}).", new_x="LMARGIN", new_y="NEXT"
        )


def _charts(pdf: FPDF, content: ReportContent) -> None:
    with_history = [r for r in content.rows if len(r.sessions) >= 2]
    charts = sorted(with_history, key=lambda r: r.verdict.verdict != "changed")[:8]
    if not charts:
        return
    pdf.add_page()
    pdf.set_font("Sans", "B", 12)
    pdf.cell(0, 8, "Trends (session means; band: baseline ± MDC95)", new_x="LMARGIN", new_y="NEXT")
    x0, y0 = pdf.get_x(), pdf.get_y()
    for index, result in enumerate(charts):
        x = x0 + (index % 2) * 92
        y = y0 + (index // 2) * 55
        pdf.image(io.BytesIO(_chart_png(result)), x=x, y=y, w=90)
