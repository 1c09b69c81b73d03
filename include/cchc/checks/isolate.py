"""Files that crash their reader, read away from the others and refused after MAX_READ_ATTEMPTS.

A workbook that kills the process reading it (a crash in a native library, the OOM killer) must
not fail every later run and block all intake. Each read is counted before it starts and the count
committed (`cchc.loading.receive.screen_reads`), so even a crash of the whole process is known at the next
run. A file counted before and still without a verdict is a suspect: it is not read with the others
but in a separate process, its group halved until the file that crashes is alone; that file is
refused as FILE_UNREADABLE once it has crashed MAX_READ_ATTEMPTS times, and intake goes on.

The separate process is `python -m cchc.checks.reader_process` (subprocess, not multiprocessing): it
starts from anywhere, an Airflow task in a Celery worker's daemonic process included. This module
uses nothing of the pipeline's own: the caller gives it how to count an attempt and how to refuse.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Callable

MAX_READ_ATTEMPTS = 3
# A reader that has not finished a group in this long counts as crashed (a file that hangs it).
ALONE_TIMEOUT = float(os.environ.get("CCHC_READ_TIMEOUT_SECONDS") or 600)


def read_suspects(suspects: list, ref, count: Callable[[str], int], refuse: Callable[[str, int], tuple]) -> list[tuple]:
    """Read suspect files, (Received, attempts so far), away from the others: (Received, reader
    result) per file, in order. A group that crashes its reader is halved until the file at fault
    is alone; that file is tried again — `count(checksum)` counts the attempt and returns the count
    before it — until it reads or has crashed MAX_READ_ATTEMPTS times, then `refuse(file name,
    attempts)` gives its result."""
    if not suspects:
        return []
    fd, ref_file = tempfile.mkstemp(prefix="cchc-ref-", suffix=".pickle")
    with os.fdopen(fd, "wb") as fh:
        pickle.dump(ref, fh, protocol=pickle.HIGHEST_PROTOCOL)
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
                    results[i] = refuse(r.file_name, attempts[i])
                else:
                    attempts[i] = count(r.checksum) + 1
                    groups.append(group)
        return [(suspects[i][0], results[i]) for i in range(len(suspects))]
    finally:
        os.unlink(ref_file)


def read_alone(pairs: list[tuple[str, str]], ref_file: str) -> list[tuple] | None:
    """Read (path, name) pairs in a separate process; None if it died or timed out."""
    with tempfile.TemporaryDirectory(prefix="cchc-alone-") as tmp:
        src, dst = os.path.join(tmp, "in.pickle"), os.path.join(tmp, "out.pickle")
        with open(src, "wb") as fh:
            pickle.dump((pairs, ref_file), fh, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            done = subprocess.run(
                [sys.executable, "-m", "cchc.checks.reader_process", src, dst],
                timeout=ALONE_TIMEOUT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        except subprocess.TimeoutExpired:
            return None
        if done.returncode != 0 or not os.path.exists(dst):
            return None
        with open(dst, "rb") as fh:
            return pickle.load(fh)
