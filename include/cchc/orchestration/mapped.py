"""The Airflow ingest run in chunks: `receive` splits the run's files into chunks, and each mapped
`load_chunk` task reads, validates and loads its own chunk on a Celery worker.

Why so: a task run by a Celery prefork worker may not start reader processes (see
cchc.checks.pool.workers), so one task that read every file would read a national run (16,000
files) on one core. Chunks spread the reading over every worker slot instead; nothing is read
twice (no staged copy of what was read passes between tasks); a killed worker costs only its chunk,
whose retry skips the files its first try loaded.

The size: each task pays a fixed start-up (the Task SDK's calls, the reference, a connection, a GX
context: ≈ 1 s once the worker has preloaded pandas and GX, cchc.orchestration.preload) against
≈ 1.5 ms of work per file. Chunks of CCHC_CHUNK_FILES (default 4,000, one GX batch) keep the
start-up under a tenth of a chunk's time: a national run is 4 chunks, the city's 253 files one. At
most MAX_CHUNKS, so a run can never exceed Airflow's max_map_length. Per-unit status stays
visible: each chunk's map index is labelled with its units and outcome counts, and its log has one
line per file (name, outcome, unit, period, finding codes), as does the run's summary.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from sqlalchemy import Engine

from cchc.common.batching import chunks
from cchc.common.clock import StageClock, StageTimes
from cchc.common.messages import en, vi
from cchc.intake.receipts import Received
from cchc.loading.ingest import Outcome, load_verdicts, run_outcomes, summary, validated_batches
from cchc.reference.registry import Reference

CHUNK_FILES = int(os.environ.get("CCHC_CHUNK_FILES") or 4000)
MAX_CHUNKS = 64


def chunk_size(n: int, per_chunk: int = CHUNK_FILES) -> int:
    """Files per chunk: about `per_chunk`, evened out over the chunks (15,939 files → 4 × 3,985),
    larger when more than MAX_CHUNKS chunks would be needed."""
    k = max(1, min(MAX_CHUNKS, math.ceil(n / max(1, per_chunk))))
    return max(1, math.ceil(n / k))


def names_label(names: list[str]) -> str:
    """What a chunk's map index shows before its files are read (their units are not known yet):
    `SNV_2024-H1.xlsx` / `ADU01_2024-H1.xlsx…VPUB_2024-H1.xlsx (253 tệp)`."""
    return names[0] if len(names) == 1 else f"{names[0]}…{names[-1]} ({len(names)} {vi('dags.files')})"


def units_label(units: list[str]) -> str:
    """`SNV` / `ADU01…VPUB (253 đơn vị)`: a chunk's units once read, and how many of its files no
    unit could be read from (`; 1 tệp không rõ đơn vị`)."""
    known = sorted({u for u in units if u})
    label = (
        known[0] if len(known) == 1 else f"{known[0]}…{known[-1]} ({len(known)} {vi('dags.units')})" if known else ""
    )
    unknown = sum(not u for u in units)
    return "; ".join(p for p in (label, f"{unknown} {vi('dags.files_no_unit')}" if unknown else "") if p)


def plan_chunks(folder: Path, received: list[Received], per_chunk: int = CHUNK_FILES) -> list[dict]:
    """Split the files to check into chunks of about `per_chunk`, in arrival order; each chunk's
    files written to `folder` (the shared data folder: any worker may take any chunk). One small
    descriptor per chunk for the mapped tasks (what passes through Airflow's database stays small)."""
    folder.mkdir(parents=True, exist_ok=True)
    size = chunk_size(len(received), per_chunk)
    out = []
    for index, part in enumerate(chunks(received, size)):
        path = folder / f"chunk_{index:03d}.json"
        path.write_text(json.dumps([r.__dict__ for r in part], ensure_ascii=False), encoding="utf-8")
        names = sorted(r.file_name for r in part)
        out.append({"index": index, "path": str(path), "files": len(part), "label": names_label(names)})
    return out


def chunk_files(descriptor: dict) -> list[Received]:
    return [Received(**r) for r in json.loads(Path(descriptor["path"]).read_text(encoding="utf-8"))]


def check_and_load(
    engine: Engine,
    ref: Reference,
    received: list[Received],
    run_id: str,
    results_dir: Path | None = None,
    clock: StageClock | None = None,
) -> list[Outcome]:
    """Read, validate and load one chunk's files; one Outcome per file, in the chunk's order, each
    stored for `run_id` with its load. A retry (the worker was killed) does not read again the files
    its first try loaded: their stored outcome is returned. The cross-period checks see the
    warehouse as it was before the run (`before_run`), whichever chunks loaded first."""
    clock = clock or StageTimes()
    keys = {r.checksum for r in received}
    done = {o.checksum: o for o in run_outcomes(engine, run_id) if o.checksum in keys}
    rest = [r for r in received if r.checksum not in done]
    loaded: dict[str, Outcome] = {}
    for batch in validated_batches(engine, rest, ref, clock, results_dir=results_dir, before_run=run_id):
        with clock("load"):
            loaded.update(load_verdicts(engine, [v for _, v in batch], ref, [r for r, _ in batch], run_id=run_id))
    return [loaded.get(r.checksum) or done[r.checksum] for r in received]


def outcome_label(outcomes: list[Outcome]) -> str:
    """The map index label, in Vietnamese as the UI's other names: units, then counts by outcome
    (`SNV…VPUB (250 đơn vị): 249 tiếp nhận; 1 từ chối`; "; " since an outcome's words may hold a comma)."""
    return f"{units_label([o.unit_code for o in outcomes])}: " + "; ".join(
        f"{n} {vi(f'loading.outcome_{k}')}" for k, n in summary(outcomes).items() if n
    )


def print_outcomes(outcomes: list[Outcome]) -> None:
    """One log line per file: what ops read to see each unit's status."""
    for o in outcomes:
        print(o.line() + (f"\t{vi('dags.feedback')}/{en('dags.feedback')}: {o.feedback}" if o.feedback else ""))
