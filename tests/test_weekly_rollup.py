"""The weekly roll-up's run logic (cchc.ops.weekly), on SQLite and PostgreSQL, from real sample workbooks.

Week 24 of 2024 (10–16/6) is due by the end of Tuesday 18/6 (deadlines.csv: 2 days after Sunday).
All 36 departments and districts sent week 23 on time; for week 24, 32 of them sent on Monday,
TUESDAY on Tuesday (on time), LATE on Wednesday 05:00 (late but accepted), REFUSED's file is
refused, MISSING sends nothing. A Monday run rolls up week 23, the Wednesday run week 24 with the
Tuesday file in it; the alert names MISSING and REFUSED, once; a run with nothing new is skipped, a
changed week rolled up again. Expected figures are sums of the cells the warehouse holds for the
submissions the test itself says count.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from sqlalchemy import bindparam, text

VN = dt.timezone(dt.timedelta(hours=7))
TUESDAY, LATE, REFUSED, MISSING = "STC", "SNV", "HAN", "SYT"
W23, W24 = "2024-W23", "2024-W24"
DUE_DAYS = 2  # deadlines.csv, week: "chậm nhất thứ Ba tuần sau"


def vn(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=VN)


def deadline(week_end: dt.date) -> dt.datetime:
    """The test's own arithmetic: on time until the end of Sunday + 2 days, Hanoi time."""
    return dt.datetime.combine(week_end + dt.timedelta(days=DUE_DAYS + 1), dt.time(), VN)


# -- week selection, no database ------------------------------------------------------------------


def test_the_week_is_the_latest_past_its_deadline(ref):
    from cchc.common.periods import parse_period
    from cchc.ops.weekly import choose_week, week_deadline

    assert ref.report_rule("week").due_days == DUE_DAYS
    # Around week 24's deadline (end of Tuesday 18/6/2024): before it, week 23; from it, week 24.
    assert choose_week(ref, vn(2024, 6, 17, 7, 0)).code == W23  # the old Monday 07:00 run
    assert choose_week(ref, vn(2024, 6, 18, 23, 59, 59)).code == W23
    assert choose_week(ref, vn(2024, 6, 19, 0, 0)).code == W24
    assert choose_week(ref, vn(2024, 6, 19, 6, 0)).code == W24
    assert choose_week(ref, vn(2024, 6, 25, 23, 0)).code == W24  # next Tuesday: still week 24
    assert choose_week(ref, dt.datetime(2024, 6, 18, 17, 0, tzinfo=dt.UTC)).code == W24  # 00:00 in Hanoi
    assert choose_week(ref, dt.datetime(2024, 6, 18, 16, 59, tzinfo=dt.UTC)).code == W23
    # Every week of 2023-2025, across the year ends (2024-W01 starts 1/1/2024; 2025-W01 on 30/12/2024).
    weeks = [
        parse_period(f"{y}-W{w:02d}")
        for y in (2023, 2024, 2025)
        for w in range(1, dt.date(y, 12, 28).isocalendar()[1] + 1)
    ]
    for before, week in zip(weeks, weeks[1:]):
        due = deadline(week.end)
        assert week_deadline(ref, week) == due
        assert choose_week(ref, due).code == week.code
        assert choose_week(ref, due - dt.timedelta(microseconds=1)).code == before.code
    with pytest.raises(ValueError):
        choose_week(ref, dt.datetime(2024, 6, 19, 6, 0))  # naive: which time zone?


def _fire_times(tmp_path: Path, after: list[dt.datetime]) -> list[dt.datetime]:
    """The DAG's own timetable (parsed by Airflow, in a fresh interpreter): its first scheduled
    run at or after each instant."""
    code = f"""
import datetime as dt, json
from airflow.dag_processing.dagbag import DagBag
from airflow.serialization.encoders import coerce_to_core_timetable
from airflow.timetables.base import TimeRestriction
dag = DagBag(dag_folder={str(ROOT / "dags" / "cchc_weekly_rollup.py")!r}).dags["cchc_weekly_rollup"]
tt = coerce_to_core_timetable(dag.timetable)
out = []
for s in {[a.isoformat() for a in after]!r}:
    info = tt.next_dagrun_info(last_automated_data_interval=None,
                               restriction=TimeRestriction(earliest=dt.datetime.fromisoformat(s), latest=None, catchup=True))
    out.append(info.run_after.isoformat())
print(json.dumps(out))
"""
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "GX_ANALYTICS_ENABLED": "false",
    }
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return [dt.datetime.fromisoformat(s) for s in json.loads(out.stdout.strip().splitlines()[-1])]


def test_the_schedule_runs_each_week_once_past_its_deadline(ref, tmp_path):
    """The DAG's time schedule agrees with the deadline rule: the first scheduled run after each
    week's Sunday comes after the week's deadline, within the next morning, and rolls that week up."""
    from cchc.common.periods import parse_period
    from cchc.ops.weekly import choose_week

    weeks = [parse_period(f"2024-W{w:02d}") for w in range(1, 53)]
    fires = _fire_times(tmp_path, [dt.datetime.combine(w.end, dt.time(), VN) for w in weeks])
    for week, fire in zip(weeks, fires):
        due = deadline(week.end)
        assert due <= fire < due + dt.timedelta(hours=12), (week.code, fire)
        assert choose_week(ref, fire).code == week.code


# -- the warehouse ------------------------------------------------------------------------------


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _arrived(path: Path, at: dt.datetime) -> Path:
    """The file's modification time: when it reached the office (the arrival timeliness is judged on)."""
    os.utime(path, (at.timestamp(), at.timestamp()))
    return path


class Week24:
    """The scenario's files, made from the sample snapshots, and which submission of each unit counts."""

    def __init__(self, samples: Path, folder: Path, ref):
        from helpers import edit, set_figure, set_info

        from cchc.common.periods import parse_period

        self.units = sorted(
            u.code for u in ref.units_on(parse_period(W24).end) if u.unit_type in ("department", "district")
        )
        assert len(self.units) == 21 + 15

        def copy(week: str, unit: str, sent: dt.datetime, change=None) -> Path:
            def dated(wb):
                set_info(wb, "Ngày gửi", sent.strftime("%d/%m/%Y"))
                if change:
                    change(wb)

            path = edit(samples / "weekly" / week / f"{unit}_{week}.xlsx", folder / week / f"{unit}_{week}.xlsx", dated)
            return _arrived(path, sent)

        self.w23 = [copy(W23, u, vn(2024, 6, 10, 9, 0)) for u in self.units]
        self.monday = [
            copy(W24, u, vn(2024, 6, 17, 9, 0)) for u in self.units if u not in (TUESDAY, LATE, REFUSED, MISSING)
        ]
        self.tuesday = copy(W24, TUESDAY, vn(2024, 6, 18, 16, 30))
        self.refused = copy(W24, REFUSED, vn(2024, 6, 18, 10, 0), lambda wb: set_figure(wb, "pakn.resolved", -1))
        self.late = copy(W24, LATE, vn(2024, 6, 19, 5, 0))
        self.missing_late = copy(W24, MISSING, vn(2024, 6, 20, 9, 0))  # sent after the alert
        self.w22 = copy("2024-W22", TUESDAY, vn(2024, 6, 20, 9, 0))  # an older week's file, sent late

    def counted(self, week: str, missing_sent: bool = False) -> dict[str, Path]:
        """Each unit's file whose figures the week's roll-up must take (the test's own bookkeeping)."""
        files = {p.name.split("_")[0]: p for p in self.w23}
        if week == W24:
            files.update({p.name.split("_")[0]: p for p in self.monday + [self.tuesday, self.late]})
            if missing_sent:
                files[MISSING] = self.missing_late
        return files


def expected_sum(engine, files: dict[str, Path], code: str) -> float:
    """Σ over units of the cell the warehouse read for `code` from each unit's counted file."""
    stmt = text(
        "SELECT SUM(value) FROM indicator_values WHERE indicator_code = :c AND submission_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    with engine.connect() as conn:
        return float(conn.execute(stmt, {"c": code, "ids": [_sha(p) for p in files.values()]}).scalar())


def stored(engine, week: str, code: str) -> float | None:
    with engine.connect() as conn:
        v = conn.execute(
            text("SELECT value FROM weekly_figures WHERE week_code = :w AND indicator_code = :c"),
            {"w": week, "c": code},
        ).scalar()
    return None if v is None else float(v)


def counted_submissions(engine, week: str) -> dict[str, str]:
    """unit -> submission the stored week's figures were computed from (their provenance)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT DISTINCT unit_code, submission_id FROM v_figure_provenance WHERE period_code = :w "
                "AND input_kind = 'cell' AND submission_id IS NOT NULL"
            ),
            {"w": week},
        ).all()
    out: dict[str, str] = {}
    for unit, sub in rows:
        assert out.setdefault(unit, sub) == sub, f"{unit}: figures from two submissions"
    return out


@pytest.fixture
def scenario(samples, ref, warehouse_url, tmp_path):
    from cchc.loading.ingest import ingest_files
    from cchc.warehouse.engine import prepare

    engine = prepare(warehouse_url, ref)
    files = Week24(samples, tmp_path / "files", ref)
    outcomes = ingest_files(engine, ref, files.w23 + files.monday, run_id="monday")
    assert {o.outcome for o in outcomes} <= {"accepted", "accepted_with_warnings"}
    return engine, files


MESSAGES: list = []  # every alert message sent (through the real notifier: the log, no cchc_smtp here)


def _send(message):
    from cchc.ops.notify import alert

    MESSAGES.append(message)
    return alert(message)


def _run(engine, ref, at: dt.datetime, out: Path, run_id: str, week: str | None = None):
    """What the DAG does for a run at `at`: plan; if it must, roll up, alert, record."""
    from cchc.common.periods import parse_period
    from cchc.ops.weekly import alert_units, plan_run, record_rollup, roll_up

    plan = plan_run(engine, ref, at, week=week)
    if not plan.run:
        return plan, None, None
    summary = roll_up(engine, ref, parse_period(plan.week), out)
    sent = alert_units(engine, parse_period(plan.week), at.astimezone(VN).date(), run_id, send=_send)
    record_rollup(engine, plan.week, plan.fingerprint, plan.n_submissions, run_id, at)
    return plan, summary, sent


def test_week_by_deadline_skip_when_unchanged_and_alert_once(scenario, ref, tmp_path):
    from cchc.common.periods import parse_period
    from cchc.figures.completeness import statuses
    from cchc.loading.ingest import ingest_files
    from cchc.ops.weekly import alert_units, alerted, fingerprint, last_rollup
    from cchc.warehouse.engine import as_datetime

    engine, files = scenario
    out = tmp_path / "out"
    MESSAGES.clear()

    # The deadline the warehouse's views use (ref_report_due) is the one the week is chosen by.
    with engine.connect() as conn:
        due = dict(
            conn.execute(
                text(
                    "SELECT d.period_code, d.due_before FROM ref_report_due d JOIN ref_periods p "
                    "ON p.period_code = d.period_code WHERE p.kind = 'week'"
                )
            ).all()
        )
    for code, before in due.items():
        expect = deadline(parse_period(code).end).astimezone(dt.UTC).replace(tzinfo=None)
        assert as_datetime(before) == expect, code

    # Monday 17/6 07:00 (the old schedule): week 24 is not due yet, so week 23 is rolled up.
    plan, summary, sent = _run(engine, ref, vn(2024, 6, 17, 7, 0), out, "monday")
    assert plan.week == W23 and summary["week"] == W23
    assert stored(engine, W24, "pakn.received_new") is None  # week 24 not rolled up before its deadline
    assert stored(engine, W23, "pakn.received_new") == pytest.approx(
        expected_sum(engine, files.counted(W23), "pakn.received_new")
    )
    assert sent.rows == []  # everyone sent week 23 on time

    # Tuesday: TUESDAY's file, on time; REFUSED's file, refused. Wednesday 05:00: LATE's file.
    assert [o.outcome for o in ingest_files(engine, ref, [files.tuesday], run_id="tuesday")] == ["accepted"]
    assert [o.outcome for o in ingest_files(engine, ref, [files.refused], run_id="tuesday2")] == ["rejected"]
    assert [o.outcome for o in ingest_files(engine, ref, [files.late], run_id="wednesday")] == ["accepted"]
    status = {s.unit_code: s.status for s in statuses(engine, [W24])}
    assert (status[TUESDAY], status[LATE], status[REFUSED], status[MISSING]) == (
        "on_time",
        "late",
        "refused",
        "missing",
    )

    # Wednesday 19/6 06:00, the scheduled run: week 24, with the Tuesday file in it.
    plan, summary, sent = _run(engine, ref, vn(2024, 6, 19, 6, 0), out, "wednesday")
    assert plan.week == W24 and plan.run and "chưa tổng hợp lần nào" in plan.message
    counted = counted_submissions(engine, W24)
    expected_files = files.counted(W24)
    assert counted == {u: _sha(p) for u, p in expected_files.items()}  # one file per unit, the right one
    assert counted[TUESDAY] == _sha(files.tuesday) and counted[LATE] == _sha(files.late)
    for code in ("pakn.received_new", "pakn.resolved", "dossier.received"):
        assert stored(engine, W24, code) == pytest.approx(expected_sum(engine, expected_files, code)), code
    assert Path(summary["workbook"]).is_file()
    # The alert: the units still without an accepted report; LATE reported (late): not chased.
    assert {(r.unit_code, r.status) for r in sent.rows} == {(REFUSED, "refused"), (MISSING, "missing")}
    ((message),) = MESSAGES
    assert sent.channel == "log" and f"- {MISSING} " in message.body and f"- {REFUSED} " in message.body
    assert f"- {LATE} " not in message.body and f"- {TUESDAY} " not in message.body
    assert message.subject.startswith("[CCHC] 2 đơn vị chưa gửi hoặc bị từ chối báo cáo kỳ 2024-W24")
    assert alerted(engine, W24) == [(REFUSED, "refused", W24), (MISSING, "missing", W24)]  # HAN < SYT
    first = last_rollup(engine, W24)
    assert first.fingerprint == plan.fingerprint == fingerprint(engine, parse_period(W24))[0]

    # Thursday, an asset-triggered run after an ingest of an older week's file only: nothing of week
    # 24 changed, the run is skipped; so is a second run with nothing new at all.
    assert [o.outcome for o in ingest_files(engine, ref, [files.w22], run_id="thursday")] == ["accepted"]
    for at in (vn(2024, 6, 20, 10, 0), vn(2024, 6, 20, 11, 0)):
        plan, summary, sent = _run(engine, ref, at, out, "thursday")
        assert plan.week == W24 and not plan.run and summary is None
        assert "không đổi" in plan.message and "skipped" in plan.message
    assert last_rollup(engine, W24) == first
    assert len(MESSAGES) == 1  # nothing more sent

    # The same week's alert again (a retried task, a forced run): nobody new, nothing sent.
    again = alert_units(engine, parse_period(W24), dt.date(2024, 6, 20), "retry", send=_send)
    assert again.rows == [] and again.channel == "" and again.already == 2 and len(MESSAGES) == 1

    # Friday: MISSING sends week 24 (late). The week changed: rolled up again, MISSING's figures in;
    # nobody is alerted (MISSING reported, REFUSED was alerted this week already).
    assert [o.outcome for o in ingest_files(engine, ref, [files.missing_late], run_id="friday")] == ["accepted"]
    plan, summary, sent = _run(engine, ref, vn(2024, 6, 21, 10, 0), out, "friday")
    assert plan.week == W24 and plan.run and "đã thay đổi" in plan.message
    assert plan.fingerprint != first.fingerprint
    expected_files = files.counted(W24, missing_sent=True)
    assert counted_submissions(engine, W24) == {u: _sha(p) for u, p in expected_files.items()}
    assert stored(engine, W24, "pakn.received_new") == pytest.approx(
        expected_sum(engine, expected_files, "pakn.received_new")
    )
    assert sent.rows == [] and sent.already == 1 and len(MESSAGES) == 1
    assert len(alerted(engine, W24)) == 2

    # The next week is another week: nobody sent week 25 (nor the half year due in it), so REFUSED
    # and LATE are alerted again, once, for week 25.
    plan, summary, sent = _run(engine, ref, vn(2024, 6, 26, 6, 0), out, "next wednesday")
    assert plan.week == "2024-W25"
    w25 = {u: (k, periods.split(", ")) for u, k, periods in alerted(engine, "2024-W25")}
    assert w25[REFUSED][0] == w25[LATE][0] == "missing" and "2024-W25" in w25[REFUSED][1]
    assert len(alerted(engine, W24)) == 2


def test_a_roll_up_asked_for_before_the_deadline_does_not_stand_for_the_one_after(scenario, ref, tmp_path):
    """A week asked for by hand on Tuesday (before its deadline) is rolled up but nobody is alerted
    yet; Wednesday's run, with the same inputs, rolls it up again and alerts; Thursday's is skipped."""
    from cchc.loading.ingest import ingest_files

    engine, files = scenario
    out = tmp_path / "out"
    MESSAGES.clear()
    ingest_files(engine, ref, [files.tuesday, files.refused, files.late], run_id="tuesday")
    plan, summary, sent = _run(engine, ref, vn(2024, 6, 18, 12, 0), out, "by hand", week=W24)
    assert plan.week == W24 and plan.run and sent.rows == [] and MESSAGES == []  # not due yet
    plan, summary, sent = _run(engine, ref, vn(2024, 6, 19, 6, 0), out, "wednesday")
    assert plan.week == W24 and plan.run and "chạy trước hạn nộp" in plan.message
    assert {(r.unit_code, r.status) for r in sent.rows} == {(REFUSED, "refused"), (MISSING, "missing")}
    plan, summary, sent = _run(engine, ref, vn(2024, 6, 20, 10, 0), out, "thursday")
    assert plan.week == W24 and not plan.run and len(MESSAGES) == 1


def test_a_week_without_files_rolls_up_empty_says_so_and_runs_once(ref, warehouse_url, tmp_path):
    """No unit has sent anything this year (a new warehouse, 2026-W49): the roll-up, its workbook and
    the leaders' flash report are made and say so — nothing fails, nothing retries — and the next run
    with nothing new is skipped."""
    import docx

    from cchc.ops.weekly import plan_run
    from cchc.outputs.draft import write_draft
    from cchc.warehouse.engine import prepare

    engine = prepare(warehouse_url, ref)
    at = vn(2026, 12, 9, 6, 0)  # Wednesday: week 49 (30/11–6/12) was due by the end of Tuesday 8/12
    plan, summary, _ = _run(engine, ref, at, tmp_path / "out", "w49")
    assert plan.week == "2026-W49" and summary["units_reported"] == 0
    assert Path(summary["workbook"]).is_file()
    draft = write_draft(engine, ref, plan.week, tmp_path / "out")
    body = "\n".join(p.text for p in docx.Document(str(draft.path)).paragraphs)
    assert "Tính đến hết 06/12/2026, chưa có cơ quan, đơn vị nào gửi báo cáo" in body, body
    assert "{{" not in body and "None" not in body
    again = plan_run(engine, ref, at + dt.timedelta(hours=1))
    assert again.week == "2026-W49" and not again.run


def test_the_late_alert_without_recipients_is_logged_recorded_and_not_sent_again(
    scenario, ref, tmp_path, monkeypatch, caplog
):
    """`cchc_smtp` without `to` (issue 21: each warehouse update re-sent the late-units alert): the alert
    goes to the log, the ledger records it, and the next run — an asset-triggered one after an ingest
    that changed the week — sends nothing again; the reason is said once, nothing fails."""
    import logging

    from cchc.common.periods import parse_period
    from cchc.loading.ingest import ingest_files
    from cchc.ops.weekly import alert_units, alerted

    engine, files = scenario
    monkeypatch.setenv(
        "AIRFLOW_CONN_CCHC_SMTP",
        json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": 9, "extra": {"from_email": "cchc@x.vn"}}),
    )
    monkeypatch.setattr("cchc.ops.notify._SAID_NO_RECIPIENT", set())
    week = parse_period(W24)
    with caplog.at_level(logging.WARNING, logger="cchc.alerts"):
        first = alert_units(engine, week, dt.date(2024, 6, 19), "wednesday")  # the real sender
        assert [o.outcome for o in ingest_files(engine, ref, [files.tuesday], run_id="thursday")] == ["accepted"]
        again = alert_units(engine, week, dt.date(2024, 6, 20), "asset_triggered__thursday")
    late = {TUESDAY, LATE, REFUSED, MISSING}  # none of them sent week 24 in this scenario's first ingest
    assert first.channel == "log" and {r.unit_code for r in first.rows} == late
    assert {u for u, _, _ in alerted(engine, W24)} == late
    assert again.rows == [] and again.channel == "" and again.already == 3  # TUESDAY has reported since
    assert caplog.text.count("chưa có địa chỉ nhận") == 1
    assert caplog.text.count("4 đơn vị chưa gửi hoặc bị từ chối báo cáo kỳ 2024-W24") == 1
