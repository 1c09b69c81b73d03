"""Files that crash their reader: counted, read alone, refused after MAX_READ_ATTEMPTS.

A workbook that kills the process reading it (a crash in a native library, the OOM killer) must
not fail every later run and block all intake. Before a file is read, its attempt is counted in
`read_attempts` and committed, so even a crash of the whole process is known at the next run.
A file counted before and still without a verdict is a suspect: it is not read with the others
but in a separate process, its group halved until the file that crashes is alone; that file is
refused as FILE_UNREADABLE once it has crashed MAX_READ_ATTEMPTS times, and intake goes on.

The separate process is `python -m cchc.isolate` (subprocess, not multiprocessing): it starts
from anywhere, an Airflow task in a Celery worker's daemonic process included.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Iterator

from sqlalchemy import Engine, text

MAX_READ_ATTEMPTS = 3
SCREEN_CHUNK = 500  # files whose attempts are counted per transaction
# A reader that has not finished a group in this long counts as crashed (a file that hangs it).
ALONE_TIMEOUT = float(os.environ.get("CCHC_READ_TIMEOUT_SECONDS") or 600)


def screen_reads(engine: Engine, received: Iterable, suspects: list) -> Iterator:
    """Yield the files of `received` to read as usual, after counting the attempt; files counted
    before (a read that never finished) go to `suspects` instead, as (Received, attempts so far)."""
    from cchc.batch import chunks

    for part in chunks(received, SCREEN_CHUNK):
        before = count_attempts(engine, [r.checksum for r in part])
        for r in part:
            if before.get(r.checksum, 0) == 0:
                yield r
            else:
                suspects.append((r, before[r.checksum] + 1))


def count_attempts(engine: Engine, checksums: list[str]) -> dict[str, int]:
    """Count one more read attempt of each file (committed now); the counts before this one."""
    from cchc.batch import insert_rows, select_in
    from cchc.load import now
    from cchc.warehouse import writing

    keys = sorted(set(checksums))
    if not keys:
        return {}
    at = now()
    with writing(engine) as conn:
        before = {k: int(n) for k, n in select_in(conn, "SELECT checksum, attempts FROM read_attempts WHERE checksum IN :keys",
                                            keys)}
        if before:
            _in_update(conn, sorted(before), at)
        insert_rows(conn, "read_attempts", ("checksum", "attempts", "last_attempt_at"),
                    [(k, 1, at) for k in keys if k not in before])
    return before


def _in_update(conn, keys: list[str], at) -> None:
    from sqlalchemy import bindparam

    conn.execute(text("UPDATE read_attempts SET attempts = attempts + 1, last_attempt_at = :t WHERE checksum IN :keys")
                 .bindparams(bindparam("keys", expanding=True)), {"t": at, "keys": keys})


def read_suspects(engine: Engine, suspects: list, ref) -> list[tuple]:
    """Read suspect files away from the others: (Received, reader result) per file, in order. A group
    that crashes its reader is halved until the file at fault is alone; that file is tried again
    until it reads or has crashed MAX_READ_ATTEMPTS times, then refused (FILE_UNREADABLE)."""
    if not suspects:
        return []
    ref_file = _pickled(ref)
    try:
        results: dict[int, tuple] = {}
        groups = [list(range(len(suspects)))]
        attempts = {i: n for i, (_, n) in enumerate(suspects)}
        while groups:
            group = groups.pop()
            got = read_alone([(suspects[i][0].archive_path, suspects[i][0].file_name) for i in group], ref_file)
            if got is not None:
                results.update(zip(group, got, strict=True))
            elif len(group) > 1:
                half = len(group) // 2
                groups += [group[half:], group[:half]]
            else:
                (i,) = group
                r = suspects[i][0]
                if attempts[i] >= MAX_READ_ATTEMPTS:
                    results[i] = unreadable(r.file_name, attempts[i])
                else:
                    attempts[i] = count_attempts(engine, [r.checksum]).get(r.checksum, attempts[i]) + 1
                    groups.append(group)
        return [(suspects[i][0], results[i]) for i in range(len(suspects))]
    finally:
        os.unlink(ref_file)


def unreadable(file_name: str, attempts: int) -> tuple:
    """The reader result of a file refused for crashing its reader: FILE_UNREADABLE, nothing to check."""
    from cchc.findings import finding
    from cchc.read import Submission

    sub = Submission(file_name=file_name)
    sub.findings.append(finding("FILE_UNREADABLE", detail=(
        f"chương trình đọc tệp bị dừng đột ngột {attempts} lần khi mở tệp này / the reader crashed "
        f"{attempts} times opening it")))
    return sub, None, None


def read_alone(pairs: list[tuple[str, str]], ref_file: str) -> list[tuple] | None:
    """Read (path, name) pairs in a separate process; None if it died or timed out."""
    with tempfile.TemporaryDirectory(prefix="cchc-alone-") as tmp:
        src, dst = os.path.join(tmp, "in.pickle"), os.path.join(tmp, "out.pickle")
        with open(src, "wb") as fh:
            pickle.dump((pairs, ref_file), fh, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            done = subprocess.run([sys.executable, "-m", "cchc.isolate", src, dst], timeout=ALONE_TIMEOUT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except subprocess.TimeoutExpired:
            return None
        if done.returncode != 0 or not os.path.exists(dst):
            return None
        with open(dst, "rb") as fh:
            return pickle.load(fh)


def _pickled(ref) -> str:
    fd, path = tempfile.mkstemp(prefix="cchc-ref-", suffix=".pickle")
    with os.fdopen(fd, "wb") as fh:
        pickle.dump(ref, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _main(src: str, dst: str) -> None:
    from cchc.read import init_reader, read_and_check

    with open(src, "rb") as fh:
        pairs, ref_file = pickle.load(fh)
    init_reader(ref_file)
    results = read_and_check(pairs)
    tmp = dst + ".part"
    with open(tmp, "wb") as fh:
        pickle.dump(results, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, dst)


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2])
