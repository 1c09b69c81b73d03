"""One definition of a done plan task: done = reported done and completed by the period's cut-off
(Period.as_of_default: 15/6 for H1, the week's Sunday for a week), never by the later as-of date a
unit may write. The analysts' view v_plan_task_status and consolidation's plan.tasks_done must give
the same count for every period; a blank status counts as not reported in both.

On SQLite and PostgreSQL: the 21 departments' H1 files and W20 snapshots (the lead units of all 57
tasks), with SNV's H1 file edited: as-of 28/06/2024, one task done on 20/06/2024 (after the cut-off,
before its own as-of, so accepted), and one done task's status left blank.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import copy_files
from helpers import column_of, edit, row_of, set_info, set_task, sheet
from sqlalchemy import text

DAY = dt.date(2024, 6, 15)
WEEK = "2024-W20"  # 13-19 May 2024: another period, another cut-off
LATE_DONE = dt.date(2024, 6, 20)


@pytest.fixture
def warehouse(samples, ref, warehouse_url, tmp_path):
    from cchc.intake.read import read_workbook
    from cchc.loading.ingest import ingest_files
    from cchc.warehouse.engine import prepare

    depts = {u.code for u in ref.units_on(DAY) if u.unit_type == "department"}
    snv = read_workbook(samples / "h1" / "SNV_2024-H1.xlsx")
    done = [t.task_code for t in snv.tasks if t.status == "done"]
    open_ = [t.task_code for t in snv.tasks if t.status != "done"]
    assert done and open_, "the sample's SNV leads done and open tasks"
    picked = {"late": open_[0], "blank": done[0]}

    def change(wb):
        set_info(wb, "Ngày chốt số liệu", "28/06/2024")
        set_task(wb, picked["late"], "Hoàn thành", dt.datetime.combine(LATE_DONE, dt.time()))
        ws = sheet(wb, "Nhiệm vụ")
        cell = ws.cell(row=row_of(ws, picked["blank"]), column=column_of(ws, "Tình trạng"))
        cell.value, picked["blank_cell"] = None, cell.coordinate

    files = [f for f in sorted((samples / "h1").glob("*.xlsx")) if f.name.split("_")[0] in depts - {"SNV"}]
    files += [f for f in sorted((samples / "weekly" / WEEK).glob("*.xlsx")) if f.name.split("_")[0] in depts]
    files = copy_files(files, tmp_path / "in")
    files.append(edit(samples / "h1" / "SNV_2024-H1.xlsx", tmp_path / "e" / "SNV_2024-H1.xlsx", change))
    engine = prepare(warehouse_url, ref)
    outcomes = ingest_files(engine, ref, files)
    assert len(outcomes) == 2 * len(depts) and all(o.outcome.startswith("accepted") for o in outcomes), [
        (o.file_name, o.outcome, o.findings) for o in outcomes if o.outcome != "accepted"
    ]
    (edited,) = [o for o in outcomes if o.file_name == "SNV_2024-H1.xlsx"]
    assert (edited.outcome, edited.findings) == ("accepted_with_warnings", ["TASK_STATUS_BLANK"])
    return engine, picked, edited, len(done)


def _view(engine, period: str) -> dict[str, tuple]:
    with engine.connect() as conn:
        return {
            r.task_code: r
            for r in conn.execute(
                text(
                    "SELECT task_code, status, completed_on, cut_off, counted_done, sheet, cell FROM v_plan_task_status "
                    "WHERE period_code = :p"
                ),
                {"p": period},
            )
        }


def _day(value) -> dt.date:
    from cchc.warehouse.engine import as_date

    return as_date(value)


def test_view_and_consolidation_count_the_same_done_tasks_per_period(warehouse, ref):
    from cchc.common.periods import parse_period
    from cchc.figures.consolidate import consolidate_period, consolidate_week

    engine, picked, _, snv_done = warehouse
    results = {
        "2024-H1": consolidate_period(engine, ref, "2024-H1"),
        WEEK: consolidate_week(engine, ref, parse_period(WEEK)),
    }
    for period, result in results.items():
        view = _view(engine, period)
        assert len(view) == 57
        with engine.connect() as conn:
            progress = int(
                conn.execute(
                    text("SELECT SUM(done) FROM v_plan_progress WHERE period_code = :p"), {"p": period}
                ).scalar_one()
            )
        figure = int(result.figures["plan.tasks_done"].value)
        assert sum(int(r.counted_done) for r in view.values()) == progress == figure, period
        assert {_day(r.cut_off) for r in view.values()} == {result.as_of}, period  # the same cut-off
        counted = {i.code for i in result.figures["plan.tasks_done"].inputs if i.counted}
        assert {c for c, r in view.items() if r.counted_done} == counted, period  # the same tasks
    assert results[WEEK].as_of == dt.date(2024, 5, 19) and results["2024-H1"].as_of == DAY

    # The sample's 8 done tasks, less SNV's blanked one; SNV's task done on 20/6 is after the cut-off.
    assert int(results["2024-H1"].figures["plan.tasks_done"].value) == 8 - 1
    h1 = _view(engine, "2024-H1")
    late = h1[picked["late"]]
    assert (late.status, _day(late.completed_on), int(late.counted_done)) == ("done", LATE_DONE, 0)
    (late_input,) = [i for i in results["2024-H1"].figures["plan.tasks_done"].inputs if i.code == picked["late"]]
    assert (late_input.task_status, late_input.completed_on, late_input.counted) == ("done", LATE_DONE, False)


def test_a_blank_status_is_not_reported_in_the_view_consolidation_and_feedback(warehouse, ref):
    from openpyxl import load_workbook

    from cchc.figures.consolidate import consolidate_period

    engine, picked, edited, _ = warehouse
    blank = _view(engine, "2024-H1")[picked["blank"]]
    assert (blank.status, int(blank.counted_done), blank.sheet, blank.cell) == (
        "unreported",
        0,
        "Nhiệm vụ",
        picked["blank_cell"],
    )
    with engine.connect() as conn:
        unreported = conn.execute(
            text("SELECT SUM(unreported) FROM v_plan_progress WHERE period_code = '2024-H1' AND lead_unit = 'SNV'")
        ).scalar_one()
    assert int(unreported) == 1
    result = consolidate_period(engine, ref, "2024-H1")
    assert result.tasks_unreported == [picked["blank"]]  # every other lead unit reported every task
    ws = load_workbook(edited.feedback).active
    rows = [r for r in ws.iter_rows(min_row=8, values_only=True) if r[5] == "TASK_STATUS_BLANK"]
    assert [(r[1], r[2], r[3]) for r in rows] == [("Lưu ý", "Nhiệm vụ", picked["blank_cell"])]
    assert picked["blank"] in rows[0][4]
