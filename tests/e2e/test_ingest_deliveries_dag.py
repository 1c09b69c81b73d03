"""Real deliveries through `airflow dags test cchc_ingest` (issue 16), SQLite and PostgreSQL.

One drop holds what units really send: an original and its correction saved by Windows as
`CHA_2024-H1 (2).xlsx` a second later, the same bytes as `.csv` and `_csv.xlsx`, a refused file, and
good files; the run declares the day of receipt (`received_on`, as `make demo` does for 2024-H1).
Every file gets its verdict in that run, stored once (`run_outcomes`); the correction is version 2
and its figure counts; units are told once, and a second run tells nobody again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import dags_test, migrated_airflow
from helpers import column_of, edit, landed, row_of, set_figure, sheet

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", "postgresql"])
def airflow_env(tmp_path, request):
    data = tmp_path / "data"
    env, url = migrated_airflow(tmp_path / "airflow", data, request, f"cchc_e2e_deliv_{os.getpid()}")
    return env, data, url


def _figure(path: Path, code: str = "pakn.received_new") -> int:
    from openpyxl import load_workbook

    ws = sheet(load_workbook(path, data_only=True), "Số liệu")
    return int(ws.cell(row_of(ws, code), column_of(ws, "Số liệu")).value)


def _task_instances(env) -> list[tuple]:
    """(task_id, map_index, state, try_number, rendered_map_index) of cchc_ingest's last run, from the
    metadata database `airflow dags test` used (AIRFLOW_HOME/airflow.db)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db")) as db:
        (run_id,) = db.execute(
            "SELECT run_id FROM dag_run WHERE dag_id = 'cchc_ingest' ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return db.execute(
            "SELECT task_id, map_index, state, try_number, rendered_map_index FROM task_instance "
            "WHERE dag_id = 'cchc_ingest' AND run_id = ? ORDER BY task_id, map_index",
            (run_id,),
        ).fetchall()


def test_a_real_drop_through_the_dag(airflow_env, samples, ref):
    from sqlalchemy import text

    from cchc.figures.consolidate import consolidate_period
    from cchc.warehouse.engine import get_engine

    env, data, url = airflow_env
    landing = data / "landing"
    landing.mkdir(parents=True)
    h1 = samples / "h1"
    t0 = dt.datetime(2024, 6, 16, 3, 0)
    good = [landed(Path(shutil.copy(h1 / f"{u}_2024-H1.xlsx", landing)), t0) for u in ("SNV", "STP", "SYT")]
    original = landed(Path(shutil.copy(h1 / "CHA_2024-H1.xlsx", landing)), t0)
    before = _figure(original)
    resolved = _figure(original, "pakn.resolved")

    def correct(wb):  # 12 more received and resolved: the form's identities still hold
        set_figure(wb, "pakn.received_new", before + 12)
        set_figure(wb, "pakn.resolved", resolved + 12)

    corrected = landed(
        edit(h1 / "CHA_2024-H1.xlsx", landing / "CHA_2024-H1 (2).xlsx", correct), t0 + dt.timedelta(seconds=1)
    )
    refused = landed(
        edit(h1 / "SXD_2024-H1.xlsx", landing / "SXD_2024-H1.xlsx", lambda wb: set_figure(wb, "pakn.resolved", -3)), t0
    )
    # Not a workbook at all, under a name a unit would use (issue 21): refused, an outcome, not a fault.
    broken = landing / "SNV_2024-H1 (2).xlsx"
    broken.write_bytes(b"Day khong phai bang tinh / not a workbook\n" * 20)
    landed(broken, t0 + dt.timedelta(seconds=2))
    same = (h1 / "SKHCN_2024-H1.xlsx").read_bytes()
    (landing / "SKHCN_2024-H1.csv").write_bytes(same)
    (landing / "SKHCN_2024-H1_csv.xlsx").write_bytes(same)
    names = sorted(p.name for p in landing.iterdir())
    expected_city = sum(_figure(p) for p in good) + before + 12 + _figure(h1 / "SKHCN_2024-H1.xlsx")

    log = dags_test(env, "cchc_ingest", "-c", '{"received_on": "2024-06-17"}')
    lines = {line.split("\t")[0]: line.split("\t") for line in log.splitlines() if line.split("\t")[0] in names}
    assert set(lines) == set(names), log[-3000:]  # every file its verdict, in this run
    assert lines[refused.name][1] == "rejected" and lines[original.name][1] == "accepted"
    assert lines[broken.name][1] == "rejected" and "FILE_NOT_XLSX" in lines[broken.name], lines[broken.name]
    # Refused files are outcomes: every task of the run succeeded at its first try; each load chunk's
    # label (the UI's map index) counts its outcomes in Vietnamese.
    tis = _task_instances(env)
    assert {t for t, _, state, tries, _ in tis if (state, tries) != ("success", 1)} == set(), tis
    labels = [label for t, i, _, _, label in tis if t == "load_chunk"]
    assert labels and all(":" in label for label in labels), labels
    counts = "; ".join(labels)
    said = {w: sum(int(n) for n in re.findall(rf"(\d+) {w}", counts)) for w in ("tiếp nhận", "từ chối")}
    outcomes = [line[1] for line in lines.values()]
    assert said == {"tiếp nhận": outcomes.count("accepted"), "từ chối": outcomes.count("rejected")}, labels
    assert "1 tệp không rõ đơn vị" in counts, labels  # the PDF named like a workbook
    assert not re.search(r"\d (accepted|rejected|duplicate)\b", counts), labels
    assert lines[corrected.name][1] == "accepted"
    assert sorted(lines[n][1] for n in ("SKHCN_2024-H1.csv", "SKHCN_2024-H1_csv.xlsx")) == ["accepted", "duplicate"]
    assert list(landing.iterdir()) == []

    engine = get_engine(url)
    with engine.connect() as conn:
        versions = dict(conn.execute(text("SELECT file_name, version FROM submissions WHERE unit_code = 'CHA'")).all())
        stored = conn.execute(text("SELECT file_name, outcome, told_at FROM run_outcomes")).all()
        status = dict(
            conn.execute(
                text(
                    "SELECT unit_code, status || '/' || received_basis FROM v_report_status "
                    "WHERE period_code = '2024-H1' AND unit_code IN ('SNV', 'CHA')"
                )
            ).all()
        )
    assert versions == {original.name: 1, corrected.name: 2}
    assert sorted(n for n, _, _ in stored) == names  # one stored outcome per file
    # Every unit told (logged: no mail server here); the file no unit can be found for has nobody to tell.
    assert [n for n, _, told in stored if told is None] == [broken.name]
    assert status == {"SNV": "on_time/declared", "CHA": "on_time/declared"}
    assert consolidate_period(engine, ref, "2024-H1").figures["pakn.received_new"].value == expected_city

    again = dags_test(env, "cchc_ingest")  # nothing new: nobody is told again
    assert "0 new file(s) received" in again
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM run_outcomes")).scalar() == len(names)
