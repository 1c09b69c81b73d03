"""The Airflow ingest run in chunks: at most MAX_CHUNKS mapped load tasks, whatever the file count.

A national run (16,000 files) mapped one task per file would be 16,000 task instances of a few
milliseconds each, past Airflow's max_map_length (1024) and a burden on the scheduler. Instead
`read_and_validate` stages the verdicts as ceil(n / 64)-sized chunks (one JSON file each) and the
load is mapped over chunks. Per-unit status stays visible: each chunk's map index is labelled with
its units and outcome counts, and each chunk's log has one line per file (name, outcome, unit,
period, finding codes), as does the run's summary.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from sqlalchemy import Engine

from cchc.checks.datadocs import results_dir
from cchc.checks.validate import Verdict
from cchc.common.findings import Finding
from cchc.common.messages import en, vi
from cchc.intake.receipts import Received
from cchc.loading.ingest import (
    Outcome,
    load_verdicts,
    submission_from_json,
    submission_to_json,
    summary,
    validated_batches,
)
from cchc.reference.registry import Reference

MAX_CHUNKS = 64


def chunk_size(n: int) -> int:
    return max(1, math.ceil(n / MAX_CHUNKS))


def units_label(units: list[str]) -> str:
    """`SNV` / `ADU01…VPUB (253 đơn vị)`: what a chunk's map index shows before its outcome."""
    units = [u or "?" for u in units]
    return units[0] if len(units) == 1 else f"{units[0]}…{units[-1]} ({len(units)} {vi('dags.units')})"


def stage_chunks(engine: Engine, folder: Path, received: list[Received], ref: Reference) -> list[dict]:
    """Read and validate every file, write the verdicts as chunks; one small descriptor per chunk."""
    folder.mkdir(parents=True, exist_ok=True)
    size = chunk_size(len(received))
    pending: list[tuple[Received, Verdict]] = []
    out: list[dict] = []

    def flush(items: list[tuple[Received, Verdict]]) -> None:
        path = folder / f"chunk_{len(out):03d}.json"
        path.write_text(
            json.dumps(
                [
                    {
                        "received": r.__dict__,
                        "submission": submission_to_json(v.submission),
                        "findings": [f.to_dict() for f in v.findings],
                    }
                    for r, v in items
                ],
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )
        out.append(
            {
                "path": str(path),
                "files": len(items),
                "units": units_label(sorted(v.submission.unit_code for _, v in items)),
            }
        )

    # GX's results stay beside the chunks for the run's Data Docs, built by summarise (cchc.checks.datadocs).
    for batch in validated_batches(engine, received, ref, results_dir=results_dir(folder)):
        pending += batch
        while len(pending) >= size:
            flush(pending[:size])
            pending = pending[size:]
    if pending:
        flush(pending)
    return out


def load_chunk(engine: Engine, ref: Reference, descriptor: dict, run_id: str | None = None) -> list[Outcome]:
    """Load a staged chunk (one transaction per LOAD_CHUNK submissions); one Outcome per file, stored
    for `run_id` with the load (a retried task gets the stored outcomes back)."""
    items = json.loads(Path(descriptor["path"]).read_text(encoding="utf-8"))
    received = [Received(**i["received"]) for i in items]
    verdicts = [
        Verdict(r.checksum, submission_from_json(i["submission"]), [Finding(**f) for f in i["findings"]])
        for r, i in zip(received, items, strict=True)
    ]
    loaded = load_verdicts(engine, verdicts, ref, received, run_id=run_id)
    return [loaded[r.checksum] for r in received]


def outcome_label(descriptor: dict, outcomes: list[Outcome]) -> str:
    """The map index label, in Vietnamese as the UI's other names: units, then counts by outcome
    (`SNV…VPUB (250 đơn vị): 249 tiếp nhận; 1 từ chối`; "; " since an outcome's words may hold a comma)."""
    return f"{descriptor['units']}: " + "; ".join(
        f"{n} {vi(f'loading.outcome_{k}')}" for k, n in summary(outcomes).items() if n
    )


def print_outcomes(outcomes: list[Outcome]) -> None:
    """One log line per file: what ops read to see each unit's status."""
    for o in outcomes:
        print(o.line() + (f"\t{vi('dags.feedback')}/{en('dags.feedback')}: {o.feedback}" if o.feedback else ""))
