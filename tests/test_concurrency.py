"""Several processes on one warehouse at once: nothing lost, nothing received twice (issue 11, item 4).

Real processes on real databases (SQLite and PostgreSQL), started together on a fresh warehouse:
(a) two `cchc ingest` over overlapping folders; (b) `cchc ingest` while another process applies the
schema and reloads the reference data over and over (what every DAG run's first task does);
(c) two processes loading the staged chunks of one run at once (the DAG's mapped `load_chunk`
tasks on two Celery workers, each chunk loaded by both as a retried task would). After each: every
file has one `received_files` row, one receipt per delivery and exactly one submission, versions
count 1, 2, … per unit and period, and the consolidated figures equal a serial run's (or the golden
figures). `-s` prints the seconds each case took.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from conftest import GOLDEN, copy_files
from helpers import edit

PERIOD = "2024-H1"

# Stand-in for a DAG run's prepare step, forced so it really drops and recreates every view and
# replaces the reference tables each time, until told to stop; prints when each round ended.
PREPARE_LOOP = """
import sys, time
from pathlib import Path
from cchc.reference.registry import load_reference
from cchc.warehouse.engine import get_engine, load_reference_tables, upgrade
engine, ref, stop = get_engine(sys.argv[1]), load_reference(), Path(sys.argv[2])
while not stop.exists():
    upgrade(engine, refresh_views=True)
    load_reference_tables(engine, ref, force=True)
    print(time.time(), flush=True)
"""

# One Celery worker's share of the mapped load: the public load_chunk over the staged descriptors.
LOAD_CHUNKS = """
import json, sys, time
from pathlib import Path
from cchc.orchestration.mapped import check_and_load, chunk_files
from cchc.reference.registry import load_reference
from cchc.warehouse.engine import get_engine
descriptors = json.loads(open(sys.argv[2], encoding="utf-8").read())
if sys.argv[3] == "reverse":
    descriptors.reverse()
engine, ref = get_engine(sys.argv[1]), load_reference()
barrier = Path(sys.argv[4])  # both workers imported and ready: start together
(barrier / sys.argv[3]).touch()
deadline = time.monotonic() + 120
while len(list(barrier.iterdir())) < 2 and time.monotonic() < deadline:
    time.sleep(0.01)
start = time.time()
outcomes = [o.to_dict() for d in descriptors for o in check_and_load(engine, ref, chunk_files(d), "concurrency")]
print(json.dumps({"start": start, "end": time.time(), "outcomes": outcomes}, ensure_ascii=False))
"""


def _start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    return subprocess.Popen(
        [sys.executable, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )


def _ingest(url: str, folder: Path) -> subprocess.Popen:
    return _start("-m", "cchc.cli", "--warehouse", url, "ingest", str(folder), "--json")


def _finish(proc: subprocess.Popen, timeout: float = 400) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return out


def _outcomes(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _corrected(src: Path, dst: Path) -> Path:
    """The same unit's report again with only the preparer's name changed: new bytes, same figures."""
    from cchc.intake.read import read_workbook

    preparer = read_workbook(src).preparer
    assert preparer

    def change(wb) -> None:
        cell = next(c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == preparer)
        cell.value = f"{preparer} (bản sửa)"

    return edit(src, dst, change)


def _deliveries(*folders: Path) -> Counter:
    return Counter(_sha(p) for folder in folders for p in folder.iterdir())


def check_warehouse(engine, deliveries: Counter) -> None:
    """One received_files row and one submission per distinct file, one receipt per delivery,
    versions 1..n per unit and period."""
    from sqlalchemy import text

    with engine.connect() as conn:
        receipts = Counter(
            {c: n for c, n in conn.execute(text("SELECT checksum, COUNT(*) FROM file_receipts GROUP BY checksum"))}
        )
        received = conn.execute(text("SELECT checksum FROM received_files")).scalars().all()
        subs = conn.execute(text("SELECT submission_id, unit_code, period_code, version FROM submissions")).all()
        values = {
            k: n
            for k, n in conn.execute(
                text("SELECT submission_id, COUNT(*) FROM indicator_values GROUP BY submission_id")
            )
        }
    assert receipts == deliveries
    assert sorted(received) == sorted(deliveries)
    assert sorted(s.submission_id for s in subs) == sorted(deliveries)
    versions: dict[tuple[str, str], list[int]] = {}
    for s in subs:
        versions.setdefault((s.unit_code, s.period_code), []).append(int(s.version))
    assert all(sorted(v) == list(range(1, len(v) + 1)) for v in versions.values()), versions
    assert all(values.get(s.submission_id, 0) > 0 for s in subs)  # every accepted one has its figures


def _one_load_per_file(outcomes: list[dict], deliveries: Counter) -> None:
    """Across all processes, each distinct file was loaded once; every other arrival is a duplicate."""
    loaded = Counter(o["checksum"] for o in outcomes if o["outcome"] != "duplicate")
    assert loaded == Counter(dict.fromkeys(deliveries, 1))
    assert all(o["outcome"] in ("accepted", "duplicate") for o in outcomes), [
        o for o in outcomes if o["outcome"] not in ("accepted", "duplicate")
    ]


def consolidated(engine, ref) -> dict:
    """code → (value, unit count, printed text) of the period's figures, as consolidation makes them."""
    from cchc.figures.consolidate import consolidate_period

    result = consolidate_period(engine, ref, PERIOD)
    return {code: (f.value, f.n_units, f.text) for code, f in result.figures.items()}


def golden_figures() -> dict:
    """The city's 73 H1-2024 figures (../shared/domain/golden_h1_2024.csv)."""
    import csv
    from decimal import Decimal

    with open(GOLDEN, encoding="utf-8") as fh:
        return {r["code"]: Decimal(r["value"]) for r in csv.DictReader(fh)}


def _landing(samples: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Two overlapping folders covering all 253 H1 files: A = files 1-150, B = files 111-253, plus in B
    an A-only file again under another name (same bytes) and corrected versions of an A-only file and
    of a file both folders hold (their versions are numbered by whichever process loads first)."""
    files = sorted((samples / "h1").glob("*.xlsx"))
    a, b = tmp_path / "landing_a", tmp_path / "landing_b"
    copy_files(files[:150], a)
    copy_files(files[110:], b)
    (b / f"gui_lai_{files[5].name}").write_bytes(files[5].read_bytes())
    _corrected(files[7], b / f"{files[7].stem}_sua.xlsx")
    _corrected(files[120], b / f"{files[120].stem}_sua.xlsx")
    return a, b


def test_two_ingests_at_once_on_a_fresh_warehouse(samples, ref, warehouse_url, tmp_path):
    from cchc.loading.ingest import ingest_files
    from cchc.warehouse.engine import get_engine, prepare

    a, b = _landing(samples, tmp_path)
    started = time.monotonic()
    procs = [_ingest(warehouse_url, a), _ingest(warehouse_url, b)]  # fresh warehouse: both create the schema
    outcomes = [o for p in procs for o in _outcomes(_finish(p))]
    took = time.monotonic() - started
    deliveries = _deliveries(a, b)
    assert len(deliveries) == 253 + 2 and sum(deliveries.values()) == 150 + 143 + 3
    _one_load_per_file(outcomes, deliveries)
    engine = get_engine(warehouse_url)
    check_warehouse(engine, deliveries)

    serial = prepare(f"sqlite:///{tmp_path / 'serial.db'}", ref)
    for folder in (a, b):
        ingest_files(serial, ref, sorted(folder.iterdir()))
    expected = consolidated(serial, ref)
    assert consolidated(engine, ref) == expected
    assert {c: v for c, (v, _, _) in expected.items() if c in golden_figures()} == golden_figures()
    print(
        f"\n[{warehouse_url.split(':')[0]}] two cchc ingest at once, {sum(deliveries.values())} deliveries: "
        f"{took:.1f} s"
    )


def test_ingest_while_another_process_prepares_the_warehouse(samples, ref, warehouse_url, tmp_path):
    from cchc.warehouse.engine import get_engine

    landing = tmp_path / "landing"
    copy_files(sorted((samples / "h1").glob("*.xlsx")), landing)
    stop = tmp_path / "stop"
    started = time.time()
    preparer = _start("-c", PREPARE_LOOP, warehouse_url, str(stop))
    ingest = _ingest(warehouse_url, landing)
    try:
        out = _finish(ingest)
        ended = time.time()
    finally:
        stop.touch()
    rounds = [float(t) for t in _finish(preparer, 120).split()]
    during = [t for t in rounds if t < ended]
    assert len(during) >= 2, f"the prepare loop finished {len(during)} round(s) during the ingest"
    deliveries = _deliveries(landing)
    _one_load_per_file(_outcomes(out), deliveries)
    engine = get_engine(warehouse_url)
    check_warehouse(engine, deliveries)
    got = consolidated(engine, ref)
    assert {c: got[c][0] for c in golden_figures()} == golden_figures()
    print(
        f"\n[{warehouse_url.split(':')[0]}] cchc ingest of 253 files during {len(during)} forced schema "
        f"applies + reference reloads: {ended - started:.1f} s"
    )


def test_two_workers_load_the_same_chunks_at_once(samples, ref, warehouse_url, tmp_path):
    from cchc.common.config import staging_dir
    from cchc.loading.ingest import run_outcomes
    from cchc.loading.receive import receive_many
    from cchc.orchestration.mapped import MAX_CHUNKS, plan_chunks
    from cchc.warehouse.engine import prepare

    a, b = _landing(samples, tmp_path)
    engine = prepare(warehouse_url, ref)
    paths = sorted(a.iterdir()) + sorted(b.iterdir())
    received = receive_many(engine, ((p.name, p.read_bytes()) for p in paths), "concurrency")
    fresh = list({r.checksum: r for r in reversed(received) if not r.duplicate}.values())[::-1]  # first arrivals
    chunks = plan_chunks(staging_dir("concurrency"), fresh, per_chunk=1)
    assert len(chunks) == MAX_CHUNKS
    descriptors = tmp_path / "chunks.json"
    descriptors.write_text(json.dumps(chunks), encoding="utf-8")

    started = time.monotonic()
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    procs = [
        _start("-c", LOAD_CHUNKS, warehouse_url, str(descriptors), order, str(barrier))
        for order in ("forward", "reverse")
    ]
    runs = [json.loads(_finish(p)) for p in procs]
    per_worker = [r["outcomes"] for r in runs]
    took = time.monotonic() - started
    deliveries = _deliveries(a, b)
    for outcomes in per_worker:  # each worker answered for every staged file
        assert sorted(o["checksum"] for o in outcomes) == sorted(r.checksum for r in fresh)
    both = [o for outcomes in per_worker for o in outcomes]
    # The two are one task and its retry (same run): each tells every file's verdict, the one stored
    # by whichever loaded it, and the run stores one outcome per file.
    assert all(o["outcome"] == "accepted" for o in both), [o for o in both if o["outcome"] != "accepted"]
    # The same verdict from both. A version is told as it stands when its file loads, and moves up
    # when a file that arrived earlier loads later (the two go in opposite orders): the run's final
    # versions are the ones to agree, and they follow arrival (check_warehouse).
    assert all(len({o["outcome"] for o in both if o["checksum"] == c}) == 1 for c in deliveries)
    stored = run_outcomes(engine, "concurrency")
    assert sorted(o.checksum for o in stored) == sorted(deliveries)
    # They loaded side by side (on SQLite one may hold the write lock for most chunks in a row:
    # the other waits on it, and finds those chunks loaded when its turn comes).
    assert max(r["start"] for r in runs) < min(r["end"] for r in runs)
    check_warehouse(engine, deliveries)
    got = consolidated(engine, ref)
    assert {c: got[c][0] for c in golden_figures()} == golden_figures()
    print(
        f"\n[{warehouse_url.split(':')[0]}] two workers loading the same 64 chunks at once: {took:.1f} s (process start included)"
    )
