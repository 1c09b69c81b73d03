"""cchc_weekly_rollup through Airflow (`airflow dags test DAG DATE`), on SQLite and PostgreSQL.

The warehouse holds the week-23 and week-24 files of tests/test_weekly_rollup.py's scenario (week 24
due by the end of Tuesday 18/6/2024). Runs dated like the scheduled and asset-triggered runs they
stand for: Monday 17/6 07:00 rolls up week 23, not week 24; Wednesday 19/6 06:00 rolls up week 24
and alerts MISSING and REFUSED, not LATE; Thursday, with nothing new, the run stops at its first
task (successfully) and sends nothing; Friday, after MISSING's late file, week 24 is rolled up
again and nobody is alerted twice.
"""

from __future__ import annotations

import os

import pytest
from conftest import dags_test, migrated_airflow
from sqlalchemy import text
from test_weekly_rollup import LATE, MISSING, REFUSED, TUESDAY, W23, W24, Week24

pytestmark = pytest.mark.e2e
DAG = "cchc_weekly_rollup"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def airflow_env(tmp_path_factory, request):
    data = tmp_path_factory.mktemp("data")
    env, url = migrated_airflow(tmp_path_factory.mktemp("airflow"), data, request, f"cchc_weekly_dag_{os.getpid()}")
    return env, data, url


def _rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_weekly_rollup_runs_after_the_deadline_once_per_change(airflow_env, samples, ref, tmp_path):
    from cchc.loading.ingest import ingest_files
    from cchc.warehouse.engine import prepare

    env, data, url = airflow_env
    engine = prepare(url, ref)
    files = Week24(samples, tmp_path / "files", ref)
    outcomes = ingest_files(engine, ref, files.w23 + files.monday + [files.tuesday, files.refused, files.late])
    assert sorted(o.outcome for o in outcomes).count("rejected") == 1
    weekly = data / "outputs" / "weekly"

    # Monday 07:00 (the old schedule): week 24 is not due yet; week 23 is rolled up.
    log = dags_test(env, DAG, "2024-06-17T07:00:00+07:00")
    assert f"{W23} (03/06 – 09/06/2024, hạn / due 11/06/2024 23:59)" in log
    assert (weekly / f"{W23}_bao_cao_tuan.xlsx").is_file() and not (weekly / f"{W24}_bao_cao_tuan.xlsx").exists()
    assert _rows(engine, "SELECT DISTINCT week_code FROM weekly_figures") == [(W23,)]

    # Wednesday 06:00 (the schedule): week 24, once past its deadline; the alert names the units with
    # no accepted report, not the one that reported late, nor the Tuesday one.
    log = dags_test(env, DAG, "2024-06-19T06:00:00+07:00")
    assert f"{W24} (10/06 – 16/06/2024, hạn / due 18/06/2024 23:59)" in log and "chưa tổng hợp lần nào" in log
    assert f"Flash report: {weekly / f'{W24}_bao_cao_du_thao.docx'}" in log
    assert "2 đơn vị chưa gửi hoặc bị từ chối báo cáo kỳ 2024-W24" in log
    assert f"- {MISSING} " in log and f"- {REFUSED} " in log
    assert f"- {LATE} " not in log and f"- {TUESDAY} " not in log
    assert _rows(engine, "SELECT unit_code, kind FROM weekly_alerts ORDER BY unit_code") == [
        (REFUSED, "refused"),
        (MISSING, "missing"),
    ]
    ((fingerprint, run_id),) = _rows(
        engine, f"SELECT fingerprint, run_id FROM weekly_rollups WHERE week_code = '{W24}'"
    )
    workbook = weekly / f"{W24}_bao_cao_tuan.xlsx"
    made = workbook.stat().st_mtime_ns

    # Thursday (an asset-triggered run after an ingest that changed nothing of week 24): skipped.
    log = dags_test(env, DAG, "2024-06-20T10:00:00+07:00")
    assert "Số liệu không đổi" in log and "Inputs unchanged" in log and "Skipping downstream tasks" in log
    assert "Flash report:" not in log and "chưa gửi hoặc bị từ chối" not in log
    assert workbook.stat().st_mtime_ns == made
    assert _rows(engine, f"SELECT fingerprint, run_id FROM weekly_rollups WHERE week_code = '{W24}'") == [
        (fingerprint, run_id)
    ]

    # Friday: MISSING's late file changes week 24: rolled up again, nobody alerted twice.
    assert [o.outcome for o in ingest_files(engine, ref, [files.missing_late])] == ["accepted"]
    log = dags_test(env, DAG, "2024-06-21T10:00:00+07:00")
    assert "số liệu đã thay đổi" in log and "Flash report:" in log
    assert "Cảnh báo / alert: 0 đơn vị mới" in log and "chưa gửi hoặc bị từ chối" not in log
    assert workbook.stat().st_mtime_ns > made
    assert len(_rows(engine, "SELECT * FROM weekly_alerts")) == 2
    ((new_fingerprint,),) = _rows(engine, f"SELECT fingerprint FROM weekly_rollups WHERE week_code = '{W24}'")
    assert new_fingerprint != fingerprint
