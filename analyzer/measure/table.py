"""A table of measures for many photos: one row per photo, for research and re-measuring.

``measure_photo`` analyses one photo (a path, or its bytes) into a plain dictionary; it is
the one function that every way of running many photos maps: this process, the worker
pool on every core (``analyzer.measure.pool``), or a Dask cluster (``measure_on_dask``).
``measure_table`` gathers the rows into a ``pandas.DataFrame`` whose columns
(``table_columns``) are named as in the history's CSV export, and ``write_table`` writes
it as CSV or Parquet.

A photo that cannot be measured is a row too: ``ok`` is false and ``error`` says why, in
a sentence.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analyzer.errors import AnalyzerError, TableFormatError
from analyzer.measure import registry
from analyzer.measure.imaging import ACCEPTED_SUFFIXES

if TYPE_CHECKING:
    import pandas as pd

    from analyzer.measure.analysis import FaceAnalysis

#: The columns every table starts with, in this order; the quality checks
#: (``quality_<check>``, each "pass", "warn" or "fail"), the measures and the regions'
#: sources (``region_<region>``: "refined" from the photo, or "model") follow.
BASE_COLUMNS = (
    "file",
    "ok",
    "error",
    "image_width",
    "image_height",
    "scale_mm_per_px",
    "yaw_deg",
    "pitch_deg",
    "roll_deg",
    "quality_status",
)
QUALITY_PREFIX, REGION_PREFIX, IDENTITY_PREFIX = "quality_", "region_", "identity_"
#: How long ``measure_on_dask`` waits for the scheduler to answer.
DASK_CONNECT_TIMEOUT = "10s"
#: Table files by suffix, and what writes them.
TABLE_SUFFIXES = (".csv", ".parquet")


def unexpected(error: BaseException) -> str:
    """A sentence for an error nobody foresaw, so that one file's failure stays its own."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(error))[:200]
    return (
        f"This file could not be analysed ({type(error).__name__}: {text}). It may be "
        "damaged; open it in a photo viewer, or export a fresh copy."
    )


def analysed(source: str | Path | bytes, **options: Any) -> FaceAnalysis | str:
    """``analyze_photo(source, **options)``, or the sentence saying why there is none
    (whatever went wrong: one odd file must not stop the others). A table's row and the
    command line's record both start here."""
    from analyzer.measure.analysis import analyze_photo

    try:
        return analyze_photo(source, **options)
    except AnalyzerError as error:
        return str(error)
    except Exception as error:
        return unexpected(error)


def measure_photo(
    source: str | Path | bytes,
    name: str | None = None,
    *,
    expression: str = "rest",
    identity: bool = False,
    mm_per_px: float | None = None,
) -> dict[str, Any]:
    """One photo's row: what ``analyze_photo`` finds, flattened into plain values.

    ``source`` is a path or the file's bytes; ``name`` is the ``file`` cell (default: the
    path as given). ``identity`` adds the 128 numbers of the face descriptor
    (``identity_000`` …), about 70 ms more; ``mm_per_px`` replaces the iris scale. Never
    raises for a bad photo: its row has ``ok`` false and the reason in ``error``.
    """
    file = name if name is not None else ("" if isinstance(source, bytes) else str(source))
    row: dict[str, Any] = {"file": file, "ok": False, "error": None}
    result = analysed(source, expression=expression, identity=identity, mm_per_px=mm_per_px)
    if isinstance(result, str):
        row["error"] = result
        return row
    pose = result.pose
    row.update(
        ok=True,
        image_width=result.image_size[0],
        image_height=result.image_size[1],
        scale_mm_per_px=float(result.mm_per_px),
        yaw_deg=float(pose.yaw_deg),
        pitch_deg=float(pose.pitch_deg),
        roll_deg=float(pose.roll_deg),
        quality_status=result.quality_status,
    )
    row.update({f"{QUALITY_PREFIX}{q.check}": q.status for q in result.quality})
    row.update({name: float(value) for name, value in result.measures.items()})
    row.update({f"{REGION_PREFIX}{region}": how for region, how in result.regions.items()})
    if result.identity is not None:
        row.update({f"{IDENTITY_PREFIX}{i:03d}": float(v) for i, v in enumerate(result.identity)})
    return row


def table_columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    """The table's columns, in order: ``BASE_COLUMNS``, then the quality checks, the
    measures (in the registry's order, as in the history's CSV export), the regions and the
    face descriptor (these in first-seen order over the rows).

    This is the one place the order is decided.
    """
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    rest = [c for c in seen if c not in BASE_COLUMNS]
    quality = [c for c in rest if c.startswith(QUALITY_PREFIX)]
    regions = [c for c in rest if c.startswith(REGION_PREFIX)]
    identity = [c for c in rest if c.startswith(IDENTITY_PREFIX)]
    grouped = {*quality, *regions, *identity}
    measures = registry.in_order(c for c in rest if c not in grouped)
    return [*BASE_COLUMNS, *quality, *measures, *regions, *identity]


def rows_to_table(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a ``DataFrame`` with ``table_columns``; a value a row lacks is missing
    (NaN or None)."""
    import pandas as pd

    frame = pd.DataFrame.from_records(list(rows), columns=table_columns(rows))
    frame["ok"] = frame["ok"].astype(bool)
    return frame


def photo_paths(paths: Iterable[str | Path]) -> list[Path]:
    """The photos to measure: each file as given, and each folder's photo files (by suffix,
    ``ACCEPTED_SUFFIXES``; hidden ones left out), sorted by name; a folder with none is
    given as itself (its row is an error that says so)."""
    found: list[Path] = []
    for path in map(Path, paths):
        inside = (
            sorted(
                p
                for p in path.iterdir()
                if p.suffix.lower() in ACCEPTED_SUFFIXES and not p.name.startswith(".")
            )
            if path.is_dir()
            else []
        )
        # A folder without photos stays itself: its row says so, it is not dropped unseen.
        found += inside or [path]
    return found


def measure_table(
    paths: Iterable[str | Path],
    *,
    jobs: int | None = None,
    expression: str = "rest",
    identity: bool = False,
    mm_per_px: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Measure many photos: one row per photo (``measure_photo``), columns by
    ``table_columns``, rows in the order of ``photo_paths(paths)``.

    ``jobs`` worker processes share the photos (default: one per core; 1 runs here).
    The table is the same whatever ``jobs`` is. The workers are spawned, so a script that
    calls this must do so under ``if __name__ == "__main__":``.

    >>> table = measure_table(["photos/"], jobs=2)  # doctest: +SKIP
    >>> table.loc[table.ok, ["file", "brow_height_diff_mm"]]  # doctest: +SKIP
    """
    from analyzer.measure.pool import map_in_workers

    files = [str(p) for p in photo_paths(paths)]
    task = functools.partial(
        measure_photo, expression=expression, identity=identity, mm_per_px=mm_per_px
    )
    return rows_to_table(map_in_workers(task, files, jobs=jobs, progress=progress))


def measure_on_dask(
    address: str,
    paths: Iterable[str | Path],
    *,
    expression: str = "rest",
    identity: bool = False,
    shared: bool = False,
    mm_per_px: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """``measure_table`` on a running Dask distributed cluster (its scheduler's address,
    e.g. ``tcp://10.0.0.5:8786``): the same rows, mapped by the cluster's workers.

    Each photo is read here and sent as bytes; with ``shared`` the workers read it from
    the same path themselves (a folder every worker mounts at the same place).
    """
    from distributed import Client, as_completed

    from analyzer.measure.imaging import read_photo_file

    files = [str(p) for p in photo_paths(paths)]
    total = len(files)
    if progress:
        progress(0, total)
    with Client(address, timeout=DASK_CONNECT_TIMEOUT) as client:
        rows: list[dict[str, Any] | None] = [None] * total
        futures = {}
        for index, file in enumerate(files):
            source: str | bytes = file
            if not shared:
                try:
                    source = read_photo_file(file)
                except AnalyzerError as error:
                    rows[index] = {"file": file, "ok": False, "error": str(error)}
                    continue
                except OSError as error:
                    rows[index] = {"file": file, "ok": False, "error": unexpected(error)}
                    continue
            future = client.submit(
                measure_photo,
                source,
                file,
                expression=expression,
                identity=identity,
                mm_per_px=mm_per_px,
                pure=False,
            )
            futures[future] = index
        done = total - len(futures)
        for future in as_completed(futures):
            rows[futures[future]] = future.result()
            done += 1
            if progress:
                progress(done, total)
    return rows_to_table([row for row in rows if row is not None])


def table_format(path: str | Path) -> str:
    """``"csv"`` or ``"parquet"`` from the table file's suffix; ``TableFormatError`` (with
    a sentence) for any other, before any photo is measured."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise TableFormatError(
            f"A table is written as CSV or Parquet: name the file with .csv or .parquet "
            f"(not '{suffix or Path(path).name}')."
        )
    return suffix[1:]


def spreadsheet_safe(text: object) -> object:
    """A text cell that a spreadsheet would take for a formula (=, +, -, @, tab, carriage
    return first) gets a leading apostrophe, as in the history's CSV export."""
    if isinstance(text, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return f"'{text}"
    return text


def write_table(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a table as CSV (text cells made spreadsheet-safe) or Parquet, by the suffix."""
    if table_format(path) == "parquet":
        frame.to_parquet(path, index=False)
        return
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype.kind not in "biuf":
            safe[column] = safe[column].map(spreadsheet_safe)
    safe.to_csv(path, index=False)
