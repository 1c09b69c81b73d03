"""`make bench` and `make corpus`, as the README documents them, in a private data folder.

`make bench` (one province: the city's 253 files; PostgreSQL too when the test server is there)
must run end to end — the stages, the whole-process runs, the naive pattern, the raw read and the
run through Airflow/Celery on `make up`'s stack — and print its table with every target line.
`make corpus` must write the 69 bad and hostile files and print what reading each costs.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from conftest import ROOT

pytestmark = pytest.mark.e2e


def _make(target: str, tmp_path, *args: str, timeout: float = 1800) -> str:
    env = {**os.environ, "CCHC_DATA_DIR": str(tmp_path / "data")}
    env.pop("CCHC_WAREHOUSE_URL", None)
    out = subprocess.run(
        ["make", "-s", target, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    return out.stdout


def test_make_bench(tmp_path):
    pg = os.environ.get("CCHC_TEST_PG_URL")
    out = _make("bench", tmp_path, *([f"PG={pg}"] if pg else []))
    print(out[-3000:])
    engines = ["SQLite", "PostgreSQL"] if pg else ["SQLite"]
    header = next(line for line in out.splitlines() if line.startswith("measure "))
    assert header.split()[1 : 1 + len(engines)] == engines
    accepted = next(line for line in out.splitlines() if line.strip().startswith("accepted "))
    assert accepted.split()[1 : 1 + len(engines)] == ["253"] * len(engines)
    # The run through Airflow beside the plain one: its ratio to it, every file's verdict, where the time went.
    row = re.search(r"^through Airflow \(drop end→summary\) s +([\d.]+) ", out, re.M)
    assert row and float(row.group(1)) > 0, out[-3000:]
    assert re.search(r"^  ÷ plain whole run \(SQLite\) +[\d.]+×   ≤ 2\.5×: (met|NOT met)$", out, re.M), out[-3000:]
    assert re.search(r"^  files with a verdict +253/253 +every file: met$", out, re.M), out[-3000:]
    assert re.search(r"^  peak memory, largest process MB +\d+ ", out, re.M), out[-3000:]
    assert re.search(r"^  split s: watcher→run [\d.]+ · receive [\d.]+ · 1 chunk of 253 files", out, re.M)
    for line in (
        "targets (SQLite): read+validate+load",
        "naive read+validate+load",
        "city cycle, 253 files",
        "DAG cchc_ingest.py",
        "DAG cchc_weekly_rollup.py",
        "DAG cchc_period_report.py",
    ):
        assert line in out, line
    assert "nan" not in out


def test_make_corpus(tmp_path):
    out = _make("corpus", tmp_path, timeout=600)
    assert re.search(r"^69 files; \d+ refused by the reader itself", out, re.M), out[-2000:]
    written = list((tmp_path / "data" / "corpus").rglob("*"))
    assert len([p for p in written if p.is_file()]) >= 69
