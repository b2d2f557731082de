"""Many photos on every core: one worker process per core, each loading the model once.

``map_in_workers`` runs a top-level (picklable) function over a list of items in a
``concurrent.futures.ProcessPoolExecutor`` of *spawned* processes (a fork of a process
holding MediaPipe's threads can deadlock; spawn works the same on Linux, macOS and
Windows). Each worker builds the face-mesh model once, in its initializer, and stops by
itself if the process that started it dies (a killed import leaves no worker behind).
Results come back in the items' order, whatever order the workers finish in, so a table
is the same with one worker or many.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing.sharedctypes import Synchronized
from typing import TypeVar

from analyzer.errors import AnalyzerError

Item = TypeVar("Item")
Result = TypeVar("Result")

#: Items handed out ahead per worker: enough to keep every worker busy, few enough that a
#: generator of photo bytes holds only a handful in memory.
IN_FLIGHT_PER_WORKER = 4
_END = object()

#: How often a worker looks whether the process that started it is still there (s).
PARENT_CHECK_S = 1.0


class WorkerError(AnalyzerError):
    """A worker process died (killed, out of memory, or it could not start)."""


def worker_count(jobs: int | None, items: int | None) -> int:
    """Workers for ``items`` photos (None: not known): ``jobs`` (default: every core this
    process may use), at most one per photo."""
    wanted = jobs if jobs is not None else _usable_cores()
    if wanted < 1:
        raise ValueError(f"jobs must be 1 or more, got {jobs}")
    return max(1, wanted if items is None else min(wanted, items))


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent_pid:
            os._exit(1)


#: Environment variables by which numerical libraries read how many threads to start (NumPy's
#: OpenBLAS starts one per core at import). A worker is one core's worth: one thread each.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "OPENCV_FOR_THREADS_NUM",
)


def hold_to_core(index: int) -> None:
    """Keep this process, every thread it has and every thread it starts, on one of the
    cores it may use (the ``index``-th, round the list), where the operating system allows
    it (Linux).

    MediaPipe's graph, OpenCV and OpenBLAS keep threads of their own busy beside the one
    that asked for landmarks: one process on an idle 2-core machine uses about 1.9 cores of
    CPU for about the same time per photo as on one core. Two workers left free on two cores
    slow each other down; held, each has its own (README, "Speed").
    """
    if not hasattr(os, "sched_setaffinity"):
        return
    cores = sorted(os.sched_getaffinity(0))
    core = {cores[index % len(cores)]}
    try:
        threads = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        threads = [0]
    for thread in threads:  # the call holds one thread; those started later inherit it
        with contextlib.suppress(OSError):
            os.sched_setaffinity(thread, core)


@contextmanager
def one_thread_libraries() -> Iterator[None]:
    """Processes started inside this block start their numerical libraries with one thread
    each (``THREAD_VARIABLES``; a spawned process reads this one's environment)."""
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update({name: "1" for name in THREAD_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def start_worker(parent_pid: int, counter: Synchronized | None = None, workers: int = 0) -> None:
    """A worker's initializer: leave when the parent dies, build the model now, and keep
    MediaPipe's native log lines off the user's terminal (a worker's errors travel back to
    the parent as exceptions, not through its standard error).

    Each worker is one core's worth: OpenCV runs on one thread in it, and when there are no
    more workers than cores (``counter`` numbers them as they start), each is held to a core
    of its own (``hold_to_core``).
    """
    import cv2

    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), 2)
    cv2.setNumThreads(1)
    if counter is not None and workers <= _usable_cores():
        with counter.get_lock():
            index = counter.value
            counter.value += 1
        hold_to_core(index)
    from analyzer.measure.landmarks import warm_up

    warm_up()


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _ready() -> None:
    """A first task for each worker: it makes the pool start them all at once."""


@contextmanager
def _script_hidden() -> Iterator[None]:
    """A spawned worker runs the parent's ``__main__`` script again before its task, unless
    that was started with ``-m``. Under Streamlit (and after a test ran a page) ``__main__``
    is the page: ``app.py``, which opens the database the parent may be writing. The workers
    need nothing of it, so its path is hidden while they start."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None or getattr(main, "__spec__", None) is not None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


def map_in_workers(
    function: Callable[[Item], Result],
    items: Sequence[Item],
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Result]:
    """``[function(item) for item in items]``, on ``jobs`` worker processes (default: one
    per core); see ``iter_in_workers``."""
    return list(iter_in_workers(function, items, jobs=jobs, progress=progress))


def iter_in_workers(
    function: Callable[[Item], Result],
    items: Iterable[Item],
    *,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    total: int | None = None,
) -> Iterator[Result]:
    """``function(item)`` for each item, in the items' order, each as soon as it and those
    before it are done, on ``jobs`` worker processes (default: one per core). With one job
    (or one item) it runs in this process, without a pool.

    ``items`` may be a generator (``total`` then gives its length): it is read only as
    workers become free, at most ``IN_FLIGHT_PER_WORKER`` items per worker ahead, so a
    million photos' bytes are never all in memory. ``function`` must be a top-level
    function (or a ``functools.partial`` of one) and should not raise for one bad item:
    an exception stops the whole map. ``progress(done, total)`` is called as results
    arrive.
    """
    # Over 60 lines on purpose: the in-order window over a process pool (submit, wait, yield, shut
    # down) is one loop with shared state.
    if total is None:
        total = len(items) if isinstance(items, Sized) else 0
    if progress:
        progress(0, total)
    workers = worker_count(jobs, total if total or isinstance(items, Sized) else None)
    if workers == 1:
        for done, item in enumerate(items, start=1):
            result = function(item)
            if progress:
                progress(done, total)
            yield result
        return
    context = multiprocessing.get_context("spawn")
    with _script_hidden(), one_thread_libraries():
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=start_worker,
            initargs=(os.getpid(), context.Value("i", 0), workers),
        )
        for _ in range(workers):  # every worker starts now, while the script is hidden
            pool.submit(_ready)
    window = workers * IN_FLIGHT_PER_WORKER
    remaining = iter(items)
    pending: dict[Future, int] = {}
    finished: dict[int, Result] = {}
    submitted = following = done = 0
    try:
        while True:
            while len(pending) + len(finished) < window:
                item = next(remaining, _END)
                if item is _END:
                    break
                pending[pool.submit(function, item)] = submitted
                submitted += 1
            if not pending:
                return
            complete, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in complete:
                try:
                    finished[pending.pop(future)] = future.result()
                except BrokenProcessPool as error:  # killed (memory?) or could not start
                    raise WorkerError(
                        "A worker process stopped before it finished (out of memory, or it "
                        "could not start): nothing of this run was stored from it. Run again "
                        "with --jobs 1 to see which photo or what is wrong."
                    ) from error
                done += 1
                if progress:
                    progress(done, max(total, done))
            while following in finished:
                yield finished.pop(following)
                following += 1
    finally:  # a consumer that stops early (Ctrl-C) leaves no photo queued
        pool.shutdown(wait=True, cancel_futures=True)
