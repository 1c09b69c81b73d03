"""Cross-period checks: a unit against its own earlier submissions in the warehouse."""

from __future__ import annotations

from decimal import Decimal

from helpers import edit, set_figure

from cchc.checks.validate import modified_z
from cchc.common.periods import parse_period
from cchc.intake.read import read_workbook
from cchc.loading.ingest import ingest_files
from cchc.reference.form import file_name, write_workbook
from cchc.warehouse.engine import prepare


def flows(new: int, carried: int, resolved: int, on_time: int, overdue: int) -> dict[str, int]:
    """The feedback (PAKN) and dossier blocks of a form, with their in-period identities true."""
    assert new + carried == resolved + on_time + overdue
    pakn = {
        "received_new": new,
        "carried_over": carried,
        "resolved": resolved,
        "in_progress": on_time + overdue,
        "in_progress_on_time": on_time,
        "in_progress_overdue": overdue,
    }
    dossier = {
        "received": new + carried,
        "received_online": new,
        "received_direct": 0,
        "carried_over": carried,
        "resolved": resolved,
        "resolved_early": 0,
        "resolved_on_time": resolved,
        "resolved_late": 0,
        "in_progress": on_time + overdue,
        "in_progress_on_time": on_time,
        "in_progress_overdue": overdue,
    }
    return {f"pakn.{k}": v for k, v in pakn.items()} | {f"dossier.{k}": v for k, v in dossier.items()}


def snv_file(samples, ref, folder, period_code: str, figures: tuple[int, int, int, int, int]):
    """SNV's H1 sample figures re-dated to another period, with its PAKN and dossier flows replaced."""
    values = {v.code: v.value for v in read_workbook(samples / "h1" / "SNV_2024-H1.xlsx").values}
    values.update(flows(*figures))
    period = parse_period(period_code)
    unit = ref.unit("SNV", period.end)
    tasks = ref.form_tasks(unit, period.end)
    return write_workbook(
        folder / file_name("SNV", period_code),
        unit,
        period,
        tasks,
        ref.form_indicators(unit, period.end),
        as_of=period.as_of_default,
        values=values,
        statuses={t.code: ("Đang thực hiện", None) for t in tasks},
    )


def test_carried_over_must_match_what_was_in_progress_when_the_last_period_closed(
    samples, ref, warehouse_url, tmp_path
):
    engine = prepare(warehouse_url, ref)
    year = snv_file(samples, ref, tmp_path / "a", "2024-Y", (20, 3, 16, 5, 2))  # 7 in progress on 14/12/2024
    assert [o.outcome for o in ingest_files(engine, ref, [year])] == ["accepted"]

    wrong = snv_file(samples, ref, tmp_path / "b", "2025-H1", (10, 9, 15, 3, 1))  # carries 9, not 7
    (out,) = ingest_files(engine, ref, [wrong])
    assert (out.outcome, out.findings) == ("accepted_with_warnings", ["CARRYOVER_MISMATCH"] * 2)  # PAKN, dossiers

    right = snv_file(samples, ref, tmp_path / "c", "2025-H1", (10, 7, 13, 3, 1))
    (out,) = ingest_files(engine, ref, [right])
    assert (out.outcome, out.findings, out.version) == ("accepted", [], 2)


def test_the_message_names_the_cell_both_figures_and_the_previous_period(samples, ref, warehouse_url, tmp_path):
    from sqlalchemy import text

    engine = prepare(warehouse_url, ref)
    ingest_files(engine, ref, [snv_file(samples, ref, tmp_path / "a", "2024-Y", (20, 3, 16, 5, 2))])
    wrong = snv_file(samples, ref, tmp_path / "b", "2025-H1", (10, 9, 15, 3, 1))
    cell = next(v.cell for v in read_workbook(wrong).values if v.code == "pakn.carried_over")
    ingest_files(engine, ref, [wrong])
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT severity, sheet, cell, message_vi, message_en FROM findings "
                "WHERE code = 'CARRYOVER_MISMATCH' AND message_vi LIKE 'Ô ' || cell || ': Phản%'"
            )
        ).one()
    assert row[:3] == ("warning", "Số liệu", cell)
    assert "kỳ trước chuyển sang ghi 9" in row[3] and "(2024-Y)" in row[3] and "báo 7 đang xử lý" in row[3]
    assert "reported 7 in progress" in row[4]


def test_no_previous_period_in_the_warehouse_means_nothing_to_compare(samples, ref, warehouse_url, tmp_path):
    engine = prepare(warehouse_url, ref)
    (out,) = ingest_files(engine, ref, [snv_file(samples, ref, tmp_path, "2025-H1", (10, 9, 15, 3, 1))])
    assert out.outcome == "accepted"


def test_a_value_far_outside_the_units_own_weeks_is_flagged(samples, ref, warehouse_url, tmp_path):
    engine = prepare(warehouse_url, ref)
    weeks = [samples / "weekly" / f"2024-W{w:02d}" / f"SNV_2024-W{w:02d}.xlsx" for w in range(1, 7)]
    assert {o.outcome for o in ingest_files(engine, ref, weeks)} == {"accepted"}

    w07 = samples / "weekly" / "2024-W07" / "SNV_2024-W07.xlsx"  # job schemes grow ~31 a week: 102 … 258, then 289
    typo = edit(w07, tmp_path / "typo" / w07.name, lambda wb: set_figure(wb, "org.job_schemes_public_units", 28900))
    (out,) = ingest_files(engine, ref, [typo])
    assert (out.outcome, out.findings) == ("accepted_with_warnings", ["VALUE_OUTLIER"])
    (out,) = ingest_files(engine, ref, [w07])  # the true figure is in line with the history
    assert (out.outcome, out.findings) == ("accepted", [])


def test_modified_z_score():
    d = [Decimal(x) for x in (10, 11, 12, 13, 14)]
    score, median = modified_z(Decimal(100), d)
    assert median == 12 and score == Decimal("0.6745") * 88 / 1
    assert abs(modified_z(Decimal(13), d)[0]) < Decimal("3.5")
    assert modified_z(Decimal(5), [Decimal(7)] * 6) is None  # no spread at all: nothing to judge
    # most values tie (MAD = 0): the mean absolute deviation stands in
    score, _ = modified_z(Decimal(50), [Decimal(x) for x in (7, 7, 7, 7, 8)])
    assert score > Decimal("3.5")
