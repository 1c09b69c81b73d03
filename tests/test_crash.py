"""A loader killed in the middle of its transaction leaves the warehouse as it was; the rerun completes.

No fault is injected into the pipeline: the test installs a trigger in the warehouse that stalls the
insert of task statuses (after the submission row and its figures are written, before commit), runs
the real `cchc ingest` in a subprocess, waits until that transaction is open, and SIGKILLs it.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from cchc.intake.read import read_workbook
from cchc.warehouse.engine import prepare

STALL_PG = [
    "CREATE FUNCTION test_stall() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(120); "
    "RETURN NULL; END $$",
    "CREATE TRIGGER test_stall BEFORE INSERT ON task_statuses FOR EACH STATEMENT EXECUTE FUNCTION test_stall()",
]
# SQLite has no sleep: the trigger counts a billion-row cross join instead (tens of seconds).
STALL_SQLITE = [
    "CREATE TABLE test_spin (n INTEGER)",
    "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000) "
    "INSERT INTO test_spin SELECT n FROM c",
    "CREATE TRIGGER test_stall BEFORE INSERT ON task_statuses BEGIN "
    "SELECT COUNT(*) FROM test_spin a, test_spin b, test_spin c; END",
]


def _counts(engine, checksum: str) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.execute(text(f"SELECT COUNT(*) FROM {t} WHERE {k} = :c"), {"c": checksum}).scalar_one()
            for t, k in (
                ("received_files", "checksum"),
                ("submissions", "submission_id"),
                ("indicator_values", "submission_id"),
                ("task_statuses", "submission_id"),
                ("findings", "submission_id"),
            )
        }


def _in_load_transaction(url: str, engine) -> bool:
    if url.startswith("sqlite"):
        # The loader holds SQLite's write lock from its first insert to its commit; receipts are
        # milliseconds long, so a lock held across two probes half a second apart is the load.
        return all(_sqlite_locked(url) for _ in range(2) if time.sleep(0.5) is None)
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
                    "AND datname = current_database()"
                )
            ).scalar_one()
        )


def _sqlite_locked(url: str) -> bool:
    con = sqlite3.connect(url.split(":///", 1)[1], timeout=0)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.rollback()
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        con.close()


def test_killed_loader_leaves_no_trace_and_the_rerun_loads_it_whole(samples, ref, warehouse_url, tmp_path):
    engine = prepare(warehouse_url, ref)
    if warehouse_url.startswith("postgresql"):
        with engine.begin() as conn:
            for stmt in STALL_PG:
                conn.execute(text(stmt))
            # Let PostgreSQL notice the dead client during the sleep, as it would in production.
            conn.execute(text("ALTER DATABASE " + engine.url.database + " SET client_connection_check_interval = 200"))
    else:
        with engine.begin() as conn:
            for stmt in STALL_SQLITE:
                conn.execute(text(stmt))
    engine.dispose()

    landing = tmp_path / "landing"
    landing.mkdir()
    src = Path(shutil.copy(samples / "h1" / "SNV_2024-H1.xlsx", landing))
    sub = read_workbook(src)
    assert sub.tasks and sub.values
    import hashlib

    checksum = hashlib.sha256(src.read_bytes()).hexdigest()
    cmd = [sys.executable, "-m", "cchc.cli", "--warehouse", warehouse_url, "ingest", str(landing)]
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    loader = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    probe = create_engine(warehouse_url)
    try:
        deadline = time.monotonic() + 120
        while not _in_load_transaction(warehouse_url, probe):
            assert loader.poll() is None, loader.communicate()
            assert time.monotonic() < deadline, "the load transaction never started"
            time.sleep(0.2)
        loader.send_signal(signal.SIGKILL)
        assert loader.wait(30) == -signal.SIGKILL

        if warehouse_url.startswith("postgresql"):  # the server aborts the orphaned transaction
            deadline = time.monotonic() + 30
            while _in_load_transaction(warehouse_url, probe):
                assert time.monotonic() < deadline, "PostgreSQL kept the dead loader's transaction"
                time.sleep(0.2)
        after_kill = _counts(probe, checksum)
        # The file was received and kept before loading began; nothing of the half-done load remains.
        assert after_kill == {
            "received_files": 1,
            "submissions": 0,
            "indicator_values": 0,
            "task_statuses": 0,
            "findings": 0,
        }
        with probe.begin() as conn:
            conn.execute(
                text("DROP TRIGGER test_stall" + (" ON task_statuses" if "postgresql" in warehouse_url else ""))
            )
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stderr
        assert rerun.stdout.startswith("SNV_2024-H1.xlsx\taccepted\tSNV\t2024-H1")
        assert _counts(probe, checksum) == {
            "received_files": 1,
            "submissions": 1,
            "indicator_values": len(sub.values),
            "task_statuses": len(sub.tasks),
            "findings": 0,
        }
    finally:
        if loader.poll() is None:
            loader.kill()
        probe.dispose()
