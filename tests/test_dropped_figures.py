"""A newer version that leaves out a figure the unit's accepted version had: a VALUE_DROPPED warning
naming the figure and its earlier value, and the city's figure counts one unit fewer (blank is
"not reported", never zero)."""

from __future__ import annotations

from helpers import edit, row_of, set_figure, set_info, sheet

from cchc.common.vn import format_number, plain
from cchc.figures.consolidate import consolidate_period
from cchc.intake.read import read_workbook
from cchc.loading.ingest import ingest_files
from cchc.warehouse.engine import prepare

UNITS = ("SCT", "SYT", "SGTVT")
CODE = "comms.media_items"  # summed over departments and districts


def first_versions(engine, ref, samples):
    files = [samples / "h1" / f"{u}_2024-H1.xlsx" for u in UNITS]
    assert {o.outcome for o in ingest_files(engine, ref, files)} == {"accepted"}
    return files


def test_a_blanked_figure_is_flagged_with_its_earlier_value_and_leaves_the_total(samples, ref, warehouse_url, tmp_path):
    from sqlalchemy import text

    engine = prepare(warehouse_url, ref)
    files = first_versions(engine, ref, samples)
    before = consolidate_period(engine, ref, "2024-H1").figures[CODE]
    earlier = next(v.value for v in read_workbook(files[0]).values if v.code == CODE)
    assert earlier > 0

    cell = {}
    blanked = edit(
        files[0], tmp_path / "v2" / "SCT_2024-H1.xlsx", lambda wb: cell.setdefault("ref", set_figure(wb, CODE, None))
    )
    (out,) = ingest_files(engine, ref, [blanked])
    assert (out.outcome, out.version, out.findings) == ("accepted_with_warnings", 2, ["VALUE_DROPPED"])
    with engine.connect() as conn:
        sheet_, cell_, vi, en = conn.execute(
            text(
                "SELECT f.sheet, f.cell, f.message_vi, f.message_en FROM findings f JOIN submissions s "
                "USING (submission_id) WHERE s.version = 2 AND f.code = 'VALUE_DROPPED'"
            )
        ).one()
        stored = conn.execute(
            text(
                "SELECT v.value, v.raw_text FROM indicator_values v JOIN submissions s USING (submission_id) "
                "WHERE s.unit_code = 'SCT' AND s.version = 2 AND v.indicator_code = :c"
            ),
            {"c": CODE},
        ).one()
    assert (sheet_, cell_) == ("Số liệu", cell["ref"])
    assert CODE in vi and f"ghi {format_number(earlier)}" in vi and "không phải bằng 0" in vi and "2024-H1" in vi
    assert CODE in en and f"had {plain(earlier)}" in en and "not as zero" in en
    assert stored[0] is None  # blank stays NULL: not reported, not zero

    after = consolidate_period(engine, ref, "2024-H1").figures[CODE]
    assert after.n_units == before.n_units - 1  # the count shows the unit no longer reports it
    assert after.value == before.value - earlier
    assert "SCT" not in {i.unit_code for i in after.inputs if i.counted and i.value is not None}


def test_a_figure_row_removed_is_flagged_too(samples, ref, warehouse_url, tmp_path):
    engine = prepare(warehouse_url, ref)
    files = first_versions(engine, ref, samples)

    def remove_row(wb):
        ws = sheet(wb, "Số liệu")
        ws.delete_rows(row_of(ws, CODE))

    (out,) = ingest_files(engine, ref, [edit(files[1], tmp_path / "v2" / "SYT_2024-H1.xlsx", remove_row)])
    assert (out.outcome, out.findings) == ("accepted_with_warnings", ["VALUE_DROPPED"])
    after = consolidate_period(engine, ref, "2024-H1").figures[CODE]
    values = {u: next(v.value for v in read_workbook(f).values if v.code == CODE) for u, f in zip(UNITS, files)}
    assert (after.value, after.n_units) == (values["SCT"] + values["SGTVT"], 2)


def test_a_figure_blank_in_both_versions_is_only_not_reported(samples, ref, warehouse_url, tmp_path):
    """Nothing was dropped if the accepted version had no figure either: VALUE_MISSING, as before."""
    engine = prepare(warehouse_url, ref)
    v1 = edit(
        samples / "h1" / "SCT_2024-H1.xlsx", tmp_path / "v1" / "SCT_2024-H1.xlsx", lambda wb: set_figure(wb, CODE, None)
    )
    (o1,) = ingest_files(engine, ref, [v1])
    v2 = edit(v1, tmp_path / "v2" / "SCT_2024-H1.xlsx", lambda wb: set_info(wb, "Người lập", "Nguyễn Thị Cúc"))
    (o2,) = ingest_files(engine, ref, [v2])
    assert (o1.findings, o2.findings, o2.version) == (["VALUE_MISSING"], ["VALUE_MISSING"], 2)
    assert consolidate_period(engine, ref, "2024-H1").figures[CODE].n_units == 0


def test_a_runs_chunks_do_not_see_each_other_in_the_history_checks(samples, ref, warehouse_url, tmp_path):
    """The DAG checks a run's chunks in parallel: a file is compared with the warehouse as it was before
    the run, whichever chunk loads first, so a warning cannot come and go by timing. The next run sees
    what this one loaded."""
    from cchc.loading.landing import take, unprocessed
    from cchc.orchestration.mapped import check_and_load, chunk_files, plan_chunks

    engine = prepare(warehouse_url, ref)
    original = samples / "h1" / "SCT_2024-H1.xlsx"
    landing = tmp_path / "landing"
    edit(original, landing / "SCT_2024-H1.xlsx", lambda wb: None)
    blanked = edit(original, tmp_path / "SCT_2024-H1 (2).xlsx", lambda wb: set_figure(wb, CODE, None))
    (landing / blanked.name).write_bytes(blanked.read_bytes())
    take(engine, landing, "run-1")
    first, second = plan_chunks(tmp_path / "staging", unprocessed(engine), per_chunk=1)
    # The first arrival's chunk loads first: the second chunk's file must not be compared with it.
    (one,) = check_and_load(engine, ref, chunk_files(first), "run-1")
    (two,) = check_and_load(engine, ref, chunk_files(second), "run-1")
    assert (one.outcome, one.version) == ("accepted", 1)
    # A blank figure with no earlier version to compare with: only "missing", not "dropped".
    assert (two.file_name, two.version, two.findings) == (blanked.name, 2, ["VALUE_MISSING"])

    # The next run compares with what run-1 loaded: its latest version (2) lacks CODE, so blanking
    # another figure of version 2 is flagged, CODE (blank in both) is not.
    other = next(v.code for v in read_workbook(original).values if v.code != CODE and v.value)
    third = edit(blanked, landing / "SCT_2024-H1 (3).xlsx", lambda wb: set_figure(wb, other, None))
    take(engine, landing, "run-2")
    (chunk,) = plan_chunks(tmp_path / "staging2", unprocessed(engine))
    (three,) = check_and_load(engine, ref, chunk_files(chunk), "run-2")
    assert (three.file_name, three.outcome, three.version) == (third.name, "accepted_with_warnings", 3)
    assert sorted(three.findings) == ["VALUE_DROPPED", "VALUE_MISSING"]  # `other` dropped, CODE still blank
