"""Bulk receive/load and the chunked Airflow load: same guarantees as one file at a time."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from cchc.checks.pool import read_many
from cchc.checks.validate import ACCEPTED, REJECTED, Verdict, validate_batch
from cchc.common.findings import finding
from cchc.intake.receipts import DUPLICATE
from cchc.loading.ingest import ingest_files, summary
from cchc.loading.load import load_many
from cchc.loading.receive import receive_many
from cchc.orchestration.mapped import MAX_CHUNKS, check_and_load, chunk_files, chunk_size, plan_chunks
from cchc.warehouse.engine import prepare

UNITS = ("SNV", "STP", "HBA", "ADU01")


def _files(samples: Path) -> list[Path]:
    return [samples / "h1" / f"{u}_2024-H1.xlsx" for u in UNITS]


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


@pytest.mark.parametrize(
    ("n", "per_chunk"),
    [(1, 4000), (253, 4000), (4000, 4000), (4001, 4000), (15_939, 4000), (1_000_000, 4000), (253, 1)],
)
def test_chunks_are_even_and_never_more_than_64(n, per_chunk):
    size = chunk_size(n, per_chunk)
    k = -(-n // size)  # chunks
    assert k <= MAX_CHUNKS
    assert size <= per_chunk or k == MAX_CHUNKS  # larger only when 64 chunks would not do
    assert k == min(MAX_CHUNKS, -(-n // per_chunk))  # no more chunks than the size asks for
    assert n - (k - 1) * size > 0 and size - (n - (k - 1) * size) < k  # the last chunk is not a remnant


def test_bulk_load_is_per_submission_correct(samples, warehouse_url, ref):
    engine = prepare(warehouse_url, ref)
    files = _files(samples)
    received = receive_many(
        engine, [(f.name, f.read_bytes()) for f in files] + [(files[0].name, files[0].read_bytes())]
    )
    assert len(received) == 5 and received[4].checksum == received[0].checksum
    subs = read_many([(r.archive_path, r.file_name) for r in received[:4]])
    verdicts = validate_batch([(r.checksum, s) for r, s in zip(received, subs)], ref)
    verdicts[1] = Verdict(verdicts[1].key, verdicts[1].submission, [finding("UNIT_UNKNOWN", value="x", day="y")])
    result = load_many(engine, verdicts + [verdicts[0]])  # the same key twice: the second is a duplicate
    assert [s for s, _ in result] == [ACCEPTED, REJECTED, ACCEPTED, ACCEPTED, DUPLICATE]
    with engine.connect() as conn:
        rejected = conn.execute(
            text("SELECT COUNT(*) FROM indicator_values WHERE submission_id = :k"), {"k": verdicts[1].key}
        ).scalar_one()
    assert rejected == 0  # a refused submission never loads figures
    assert _count(engine, "submissions") == 4 and _count(engine, "file_receipts") == 5
    assert load_many(engine, verdicts[:1]) == [(DUPLICATE, 1)]


def test_a_failed_chunk_leaves_no_partial_submission(samples, sqlite_url, ref):
    engine = prepare(sqlite_url, ref)
    files = _files(samples)
    received = receive_many(engine, [(f.name, f.read_bytes()) for f in files])
    subs = read_many([(r.archive_path, r.file_name) for r in received])
    verdicts = validate_batch([(r.checksum, s) for r, s in zip(received, subs)], ref)
    verdicts[3].submission.values.append(verdicts[3].submission.values[0])  # primary key clash at the end
    with pytest.raises(Exception):
        load_many(engine, verdicts)
    assert _count(engine, "submissions") == 0 and _count(engine, "indicator_values") == 0


def test_chunks_check_and_load_like_ingest_files(samples, sqlite_url, ref, tmp_path):
    engine = prepare(sqlite_url, ref)
    files = _files(samples)
    received = receive_many(engine, [(f.name, f.read_bytes()) for f in files])
    chunks = plan_chunks(tmp_path / "staging", received, per_chunk=1)
    assert [c["files"] for c in chunks] == [1, 1, 1, 1] and [c["label"] for c in chunks] == [f.name for f in files]
    assert [r.checksum for c in chunks for r in chunk_files(c)] == [r.checksum for r in received]
    outcomes = [o for c in chunks for o in check_and_load(engine, ref, chunk_files(c), "run-b")]
    assert summary(outcomes)["accepted"] == 4 and {o.unit_code for o in outcomes} == set(UNITS)
    again = ingest_files(engine, ref, files)
    assert summary(again)["duplicate"] == 4
