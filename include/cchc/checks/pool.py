"""Read and check files in reader processes: reading is CPU-bound Python (the GIL would keep threads
on one core), so a national run reads over a process pool. Small batches are read in-process: a pool
is not worth starting for them. `read_checked` also runs the reference checks in the reader, so
what comes back is ready for the batch validation (cchc.loading.ingest.validated_batches pipelines
the two).

A reader process imports only this module, the reader and the checks (not SQLAlchemy): it starts in
a fraction of the time, while the main process is still receiving.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from cchc.checks.validate import check_reference, frame_rows
from cchc.common.batching import chunks
from cchc.intake.read import read_workbook

READ_CHUNK = 32  # files per task sent to a reader process


# Below this many files, reading in-process beats starting reader processes (~0.5 s);
# CCHC_POOL_MIN_FILES lowers it (the soak test kills readers of small runs).
POOL_MIN_FILES = int(os.environ.get("CCHC_POOL_MIN_FILES") or 1000)


def workers() -> int:
    """Reader processes: CCHC_WORKERS, else the cores this process may use; 1 (read here) where this
    process may not start any: an Airflow task run by a Celery prefork worker is forked from a
    daemonic billiard process and inherits its state, in which multiprocessing refuses to start
    children ("daemonic processes are not allowed to have children") or to pickle billiard's
    authentication key. There the parallelism is Celery's: 64 load tasks over the workers."""
    import multiprocessing

    me = multiprocessing.current_process()
    if me.daemon or not type(me).__module__.startswith("multiprocessing"):
        return 1
    env = os.environ.get("CCHC_WORKERS")
    return max(1, int(env)) if env else max(1, len(os.sched_getaffinity(0)))


def _read_chunk(pairs: list[tuple[str, str]]):

    return [read_workbook(Path(path), name) for path, name in pairs]


def read_checked(pairs: list[tuple[str, str]], ref=None) -> list[tuple]:
    """Read (archive path, file name) pairs and check each readable one against the reference
    data: (Submission, reference findings, GX frame rows; both None for a file with nothing inside
    to check), in order. In a reader process of `reader_pool(ref=…)` (its reference given once, at start) or
    in-process with `ref`: the main process then only gathers and validates as a batch."""

    return read_and_check(pairs, ref)


def read_many(pairs: Sequence[tuple[str, str]], processes: int | None = None, pool=None):
    """Read (archive path, file name) pairs; Submissions in order. Uses `pool` if given."""
    processes = processes or workers()
    if pool is None and (processes == 1 or len(pairs) < POOL_MIN_FILES):
        return _read_chunk(list(pairs))
    if pool is None:
        with reader_pool(processes) as own:
            return read_many(pairs, processes, own)
    return [sub for part in pool.map(_read_chunk, list(chunks(pairs, READ_CHUNK))) for sub in part]


class ReaderPool:
    """Reader processes for `read_many` (`map`, `terminate`, a context manager).

    Spawned, not forked: the caller may hold database connections and threads (Airflow's task
    runner does), which a fork would copy mid-state. On concurrent.futures, not multiprocessing.Pool:
    a reader that dies (SIGKILL, the OOM killer) breaks the pool and the run fails with
    BrokenProcessPool, where Pool.map would wait forever for the dead reader's chunk. Nothing is
    lost: the files are archived and received, and the next run reads them (cchc.loading.landing.unprocessed).
    """

    def __init__(self, processes: int | None = None, ref=None):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # `ref`: the reference data each reader checks against (read_checked), loaded once per process
        # from a pickle file. Not in initargs itself: spawn writes initargs down a pipe to the new
        # process while holding the pipe's read end, so a reader killed as it starts (the OOM
        # killer) would block that write, and the run, for ever once the payload is over the
        # pipe's 64 KB; a path is a few bytes.
        self.ref_file = None
        if ref is not None:
            import pickle
            import tempfile

            fd, self.ref_file = tempfile.mkstemp(prefix="cchc-ref-", suffix=".pickle")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(ref, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.executor = ProcessPoolExecutor(
            processes or workers(),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_reader,
            initargs=(self.ref_file,),
        )

    def map(self, fn, items) -> list:
        futures = [self.submit(fn, item) for item in items]
        return [future.result() for future in futures]

    def submit(self, fn, *args):
        """A Future of fn(*args) in a reader process (the pipeline keeps several in flight).

        A spawn context starts readers on demand, inside submit. When a reader has just died, the
        executor's manager thread closes the queues' pipes while submit may be passing them to a
        new reader, and the spawn fails with ValueError "bad value(s) in fds_to_keep" or OSError
        EBADF (the race of CPython gh-109047's area). That is the same broken pool, not bad input:
        it is raised as BrokenProcessPool, as the reader's death itself would be."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self.executor.submit(fn, *args)
        except (ValueError, OSError) as exc:
            raise BrokenProcessPool(f"a reader process could not be started: {exc}") from exc

    def terminate(self) -> None:
        try:
            self.executor.shutdown(wait=True, cancel_futures=True)
        finally:
            if self.ref_file:
                os.unlink(self.ref_file)
                self.ref_file = None

    def __enter__(self) -> ReaderPool:
        return self

    def __exit__(self, *_exc) -> None:
        self.terminate()


def reader_pool(processes: int | None = None, ref=None) -> ReaderPool:
    """Worker processes for `read_many` and `read_checked` (see ReaderPool)."""
    return ReaderPool(processes, ref)


_READER_REF = None  # the reference data a reader process checks against (init_reader)


def init_reader(ref) -> None:
    """A reader process's initializer (cchc.checks.pool.ReaderPool): its reference data, sent once — as a
    pickle file's path (what ReaderPool sends) or the object itself."""
    global _READER_REF
    if isinstance(ref, str):
        import pickle

        with open(ref, "rb") as fh:
            ref = pickle.load(fh)
    _READER_REF = ref
    import python_calamine  # noqa: F401 - paid now, not by the first file


def read_and_check(pairs: list[tuple[str, str]], ref=None) -> list[tuple]:
    """Read (path, file name) pairs; per file (Submission, reference findings, GX frame rows), the
    last two None for a file with nothing inside to check: what comes back is ready for the batch
    validation (cchc.checks.validate.validate_batch's `checked` and `rows`), as plain tuples and lists."""

    ref = ref if ref is not None else _READER_REF
    out = []
    for path, name in pairs:
        sub = read_workbook(Path(path), name)
        if any(f.code.startswith("FILE_") for f in sub.findings):
            out.append((sub, None, None))
        else:
            out.append((sub, check_reference(sub, ref), frame_rows(sub, ref)))
    return out
