"""The corpus of bad and hostile files (tests/corpus.py), ingested in one run with a good file.

Each file must be refused (or, for warnings, flagged) with its code; none may crash the run or
disturb the good file; every one is kept as received and answered with a feedback workbook.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import CASES, build_all, measure
from sqlalchemy import text

from cchc.common.findings import SEVERITY, WARNING
from cchc.loading.ingest import ingest_files
from cchc.loading.receive import receive
from cchc.warehouse.engine import prepare


@pytest.fixture(scope="module")
def corpus(samples, tmp_path_factory):
    return build_all(samples, tmp_path_factory.mktemp("corpus"))


def test_the_corpus_is_big_enough_and_names_real_codes():
    assert len(CASES) >= 40
    assert all(c.code in SEVERITY for c in CASES)
    assert len({c.name for c in CASES}) == len(CASES)


def test_every_bad_file_gets_its_code_in_one_run_without_disturbing_the_good_one(corpus, samples, ref, tmp_path):
    engine = prepare(f"sqlite:///{tmp_path / 'w.db'}", ref)
    good = samples / "h1" / "SGTVT_2024-H1.xlsx"
    outcomes = ingest_files(engine, ref, [p for _, p in corpus] + [good])
    assert outcomes[-1].outcome == "accepted"
    wrong = []
    for (case, path), out in zip(corpus, outcomes, strict=False):
        expected = "accepted_with_warnings" if SEVERITY[case.code] == WARNING else "rejected"
        if case.code not in out.findings or out.outcome != expected:
            wrong.append((case.name, case.code, out.outcome, out.findings))
        elif expected == "rejected":
            assert out.feedback and Path(out.feedback).exists(), case.name
    assert wrong == [], "\n".join(map(str, wrong))
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT COUNT(*) FROM received_files")).scalar_one()
        rows = conn.execute(text("SELECT COUNT(*) FROM submissions")).scalar_one()
    assert kept == rows == len(corpus) + 1  # every file kept and answered, none twice


@pytest.mark.parametrize(
    "name",
    [
        "../../../etc/cron.d/SCT_2024-H1.xlsx",
        "C:\\Windows\\System32\\SCT_2024-H1.xlsx",
        "SCT_2024-H1\u202excod.xlsx",
        "SCT\x00_2024-H1.xlsx",
        "." * 5 + "SCT_2024-H1.xlsx",
        "x" * 1000 + ".xlsx",
    ],
)
def test_path_tricks_in_names_stay_harmless(name, samples, ref, tmp_path):
    from cchc.common.config import archive_dir

    engine = prepare(f"sqlite:///{tmp_path / 'w.db'}", ref)
    got = receive(engine, name, (samples / "h1" / "SCT_2024-H1.xlsx").read_bytes())
    archived = Path(got.archive_path).resolve()
    assert archived.is_relative_to(archive_dir().resolve()) and archived.name.startswith(got.checksum)
    assert "/" not in got.file_name and "\\" not in got.file_name and "\x00" not in got.file_name
    assert "\u202e" not in got.file_name and not got.file_name.startswith(".") and len(got.file_name) <= 200


HOSTILE_RSS_MB = 100  # peak RSS of the whole reading process; the interpreter with the reader is ~16 MB


@pytest.mark.parametrize(
    "index", [i for i, c in enumerate(CASES) if c.hostile], ids=[c.name for c in CASES if c.hostile]
)
def test_hostile_files_are_refused_in_bounded_memory(index, corpus):
    case, path = corpus[index]
    _, peak_mb, _, codes = measure(path)
    assert case.code in codes
    assert peak_mb < HOSTILE_RSS_MB


def test_every_kind_of_bad_file_dropped_together_gets_its_verdict_in_one_run(corpus, samples, warehouse_url, tmp_path):
    """All the corpus in one landing folder, beside good files and the same bytes under two names and
    extensions (`.csv`, `_csv.xlsx`): `cchc ingest --take` exits 0 and every file has its verdict."""
    import os
    import shutil
    import subprocess
    import sys

    landing = tmp_path / "landing"
    landing.mkdir()
    for i, (_, path) in enumerate(corpus):
        shutil.copy(path, landing / f"{i:02d}_{path.name}")
    for name in ("SGTVT_2024-H1.xlsx", "SCT_2024-H1.xlsx"):
        shutil.copy(samples / "h1" / name, landing / name)
    same = (samples / "h1" / "SKHCN_2024-H1.xlsx").read_bytes()
    (landing / "SKHCN_2024-H1.csv").write_bytes(same)
    (landing / "SKHCN_2024-H1_csv.xlsx").write_bytes(same)
    dropped = sorted(p.name for p in landing.iterdir())
    run = subprocess.run(
        [sys.executable, "-m", "cchc.cli", "--warehouse", warehouse_url, "ingest", str(landing), "--take"],
        capture_output=True,
        text=True,
        env=os.environ,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    verdicts = {line.split("\t")[0]: line.split("\t")[1] for line in lines}
    assert list(landing.iterdir()) == [] and len(lines) == len(dropped)  # one verdict per file (names made safe)
    assert all(v in ("accepted", "accepted_with_warnings", "rejected", "duplicate") for v in verdicts.values())
    assert verdicts["SGTVT_2024-H1.xlsx"] == verdicts["SCT_2024-H1.xlsx"] == "accepted"
    assert sorted(verdicts[n] for n in ("SKHCN_2024-H1.csv", "SKHCN_2024-H1_csv.xlsx")) == ["accepted", "duplicate"]
