"""`cchc ingest` during a real `airflow dags test cchc_ingest` on a fresh warehouse (issue 11, item 4).

The DAG takes its landing folder (H1 files 1-130), the command line another folder (files 100-253):
31 files both take. Both create the schema at once, receive, validate and load side by side. Then
every file has one submission, one receipt per delivery, version 1, and the consolidated figures
are the golden ones. SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import migrated_airflow
from test_concurrency import check_warehouse, consolidated, golden_figures

pytestmark = pytest.mark.e2e
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


@pytest.fixture(params=["sqlite", "postgresql"])
def airflow_env(tmp_path, request):
    data = tmp_path / "data"
    env, url = migrated_airflow(tmp_path / "airflow", data, request, f"cchc_e2e_conc_{os.getpid()}")
    return env, data, url


def test_cli_ingest_during_a_dag_run(airflow_env, samples, ref, tmp_path):
    from cchc.warehouse.engine import get_engine

    env, data, url = airflow_env
    files = sorted((samples / "h1").glob("*.xlsx"))
    landing, cli_in = data / "landing", tmp_path / "cli_in"
    for folder, part in ((landing, files[:130]), (cli_in, files[99:])):
        folder.mkdir(parents=True)
        for f in part:
            shutil.copy(f, folder / f.name)
    deliveries = Counter(hashlib.sha256(p.read_bytes()).hexdigest() for p in [*landing.iterdir(), *cli_in.iterdir()])

    started = time.monotonic()
    dag = subprocess.Popen(
        [AIRFLOW, "dags", "test", "cchc_ingest"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    cli = subprocess.Popen(
        [sys.executable, "-m", "cchc.cli", "--warehouse", url, "ingest", str(cli_in), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    cli_out, cli_err = cli.communicate(timeout=600)
    dag_log, _ = dag.communicate(timeout=600)
    took = time.monotonic() - started
    assert cli.returncode == 0, cli_err[-3000:]
    assert dag.returncode == 0, dag_log[-4000:]
    finished = [line for line in dag_log.splitlines() if "DagRun Finished" in line]
    assert finished and "state=success" in finished[-1], dag_log[-4000:]
    assert list(landing.iterdir()) == []  # the DAG archived and recorded its whole inbox

    outcomes = [json.loads(line) for line in cli_out.splitlines()]
    assert {o["outcome"] for o in outcomes} <= {"accepted", "duplicate"}
    # What the CLI did not load itself, the DAG did (its own summary counts the rest).
    dag_accepted = int(
        next(line for line in dag_log.splitlines() if "Tổng cộng / total:" in line)
        .split("Tổng cộng / total: ", 1)[1]
        .split(" ", 1)[0]
    )
    assert dag_accepted + sum(o["outcome"] == "accepted" for o in outcomes) == 253
    engine = get_engine(url)
    check_warehouse(engine, deliveries)
    got = consolidated(engine, ref)
    assert {c: got[c][0] for c in golden_figures()} == golden_figures()
    print(
        f"\n[{url.split(':')[0]}] cchc ingest of {len(outcomes)} files during airflow dags test cchc_ingest "
        f"(130 files, 31 shared): {took:.1f} s"
    )
