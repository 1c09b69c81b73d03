"""Real deliveries through `airflow dags test cchc_ingest` (issue 16), SQLite and PostgreSQL.

One drop holds what units really send: an original and its correction saved by Windows as
`CHA_2024-H1 (2).xlsx` a second later, the same bytes as `.csv` and `_csv.xlsx`, a refused file, and
good files; the run declares the day of receipt (`received_on`, as `make demo` does for 2024-H1).
Every file gets its verdict in that run, stored once (`run_outcomes`); the correction is version 2
and its figure counts; units are told once, and a second run tells nobody again.
"""

from __future__ import annotations

import datetime as dt
import os
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
    same = (h1 / "SKHCN_2024-H1.xlsx").read_bytes()
    (landing / "SKHCN_2024-H1.csv").write_bytes(same)
    (landing / "SKHCN_2024-H1_csv.xlsx").write_bytes(same)
    names = sorted(p.name for p in landing.iterdir())
    expected_city = sum(_figure(p) for p in good) + before + 12 + _figure(h1 / "SKHCN_2024-H1.xlsx")

    log = dags_test(env, "cchc_ingest", "-c", '{"received_on": "2024-06-17"}')
    lines = {line.split("\t")[0]: line.split("\t") for line in log.splitlines() if line.split("\t")[0] in names}
    assert set(lines) == set(names), log[-3000:]  # every file its verdict, in this run
    assert lines[refused.name][1] == "rejected" and lines[original.name][1] == "accepted"
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
    assert all(told is not None for _, _, told in stored)  # every unit told (logged: no mail server here)
    assert status == {"SNV": "on_time/declared", "CHA": "on_time/declared"}
    assert consolidate_period(engine, ref, "2024-H1").figures["pakn.received_new"].value == expected_city

    again = dags_test(env, "cchc_ingest")  # nothing new: nobody is told again
    assert "0 new file(s) received" in again
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM run_outcomes")).scalar() == len(names)
