"""The naive pattern many tutorials show, as the benchmark's reference: per file, read every sheet
with pandas + openpyxl, validate in a fresh Great Expectations context, insert row by row.

It parses the cells with the pipeline's own rules (same submissions, same findings), so the
difference measured is the I/O pattern, not the logic. Run as a process of its own:

    python bench/naive.py WAREHOUSE_URL FILE... → one JSON line: imports, work and files
"""

from __future__ import annotations

import time

T0 = time.perf_counter()
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import great_expectations  # noqa: E402,F401
import pandas as pd  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from cchc.checks.validate import check_reference, frames, run_suites  # noqa: E402
from cchc.common.clock import now  # noqa: E402
from cchc.intake.read import Submission, find_sheet, read_figures, read_info, read_tasks  # noqa: E402
from cchc.reference.form import SHEET_FIGURES, SHEET_INFO, SHEET_TASKS  # noqa: E402
from cchc.reference.registry import load_reference  # noqa: E402
from cchc.warehouse.engine import upgrade  # noqa: E402

IMPORTS = time.perf_counter() - T0
READERS = {SHEET_INFO: read_info, SHEET_TASKS: read_tasks, SHEET_FIGURES: read_figures}


def naive_file(engine, ref, path: Path) -> int:
    sheets = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
    sub = Submission(file_name=path.name)
    for wanted, reader in READERS.items():
        name = find_sheet(list(sheets), wanted)
        df = sheets[name].astype(object)
        reader(sub, df.where(df.notna(), None).values.tolist(), name)
    findings = sub.findings + check_reference(sub, ref)
    for found in run_suites(frames([(path.name, sub)], ref), ref).values():  # a fresh GX context
        findings += found
    key = f"{path.parent.name}/{path.name}"[:64]
    with engine.begin() as conn:  # one INSERT statement per row
        conn.execute(
            text("INSERT INTO received_files VALUES (:c, 0, :p, :n, :t)"),
            {"c": key, "p": str(path), "n": path.name, "t": now()},
        )
        conn.execute(
            text(
                "INSERT INTO submissions (submission_id, unit_code, period_code, version, status, "
                "file_name, n_errors, n_warnings, loaded_at) VALUES (:c, :u, :p, 1, :s, :n, :e, 0, :t)"
            ),
            {
                "c": key,
                "u": sub.unit_code,
                "p": sub.period_code,
                "s": "rejected" if findings else "accepted",
                "n": path.name,
                "e": len(findings),
                "t": now(),
            },
        )
        for v in sub.values:
            conn.execute(
                text("INSERT INTO indicator_values VALUES (:c, :code, :v, :raw, :sheet, :cell)"),
                {"c": key, "code": v.code, "v": v.value, "raw": v.raw, "sheet": v.sheet, "cell": v.cell},
            )
        for t in sub.tasks:
            conn.execute(
                text("INSERT INTO task_statuses VALUES (:c, :code, :s, :d, :raw, :sheet, :cell)"),
                {
                    "c": key,
                    "code": t.task_code,
                    "s": t.status or "",
                    "d": t.completed_on,
                    "raw": t.status_raw,
                    "sheet": t.sheet,
                    "cell": t.cell,
                },
            )
    return len(findings)


def main(argv: list[str]) -> None:
    url, files = argv[0], [Path(a) for a in argv[1:]]
    engine = create_engine(url)
    upgrade(engine)
    ref = load_reference()
    t = time.perf_counter()
    refused = sum(bool(naive_file(engine, ref, f)) for f in files)
    print(json.dumps({"imports": IMPORTS, "work": time.perf_counter() - t, "files": len(files), "refused": refused}))


if __name__ == "__main__":
    main(sys.argv[1:])
