"""The workbooks print as a person expects: rendered to PDF by LibreOffice headless, as the office prints.

The annex (`2024-H1_tong_hop.xlsx`), the weekly roll-up (`2024-W25_bao_cao_tuan.xlsx`, with the trend
over the year's weeks) and a refused unit's feedback workbook, written from the sample files: every
page A4, no column pushed to a page of its own (every page of a table holds its first and its last
column), the header repeated on each page, titles with their diacritics, page numbers, native charts.
LibreOffice renders with the fonts tests/fonts.conf names (conftest.py), and what is printed in a cell
is found however the cell's text wraps (`in_cell`), so that neither the machine's fonts nor line
breaks decide the outcome.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from conftest import copy_files

A4 = (595.3, 841.9)  # points


def to_pdf(xlsx: Path, out: Path) -> Path:
    """LibreOffice headless, with a profile of its own so parallel runs do not share one."""
    if not shutil.which("soffice"):
        if os.environ.get("CCHC_REQUIRE_PG") == "1":  # CI installs LibreOffice (.ci/run)
            pytest.fail("soffice (LibreOffice) is not installed")
        pytest.skip("LibreOffice (soffice) is not installed")
    # conftest.py pins the fonts (FONTCONFIG_FILE=tests/fonts.conf): these must be there
    fonts = ("liberation/LiberationSerif-Regular.ttf", "dejavu/DejaVuSerif.ttf")
    missing = [f for f in fonts if not Path("/usr/share/fonts/truetype", f).exists()]
    assert not missing, f"fonts-liberation, fonts-dejavu-core are needed (.ci/setup-test-env installs them): {missing}"
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{out / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(xlsx),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    pdf = out / f"{xlsx.stem}.pdf"
    assert pdf.exists(), f"LibreOffice wrote no PDF for {xlsx.name}"
    return pdf


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]


def layout(pdf: Path) -> list[str]:
    """Each page's text as `pdftotext -layout` places it: a line of text per printed line, at its column."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


def pages(pdf: Path) -> list[str]:
    """Each page's text, whitespace removed: LibreOffice's font fallback splits words (`Đ ẦU`)."""
    return [squash(p) for p in layout(pdf)]


def squash(s: str) -> str:
    return "".join(s.split())


def in_cell(label: str, page: str) -> bool:
    """`label` printed on `page` (its `layout` text) as one cell prints it, however the cell wraps.

    Where a line breaks depends on the fonts' widths (tests/fonts.conf pins the fonts, but another
    LibreOffice may measure them otherwise): a header printed "Hồ sơ TTHC đã giải / quyết" here may be
    "Hồ sơ TTHC đã / giải quyết" there, each of its lines among the other cells' lines. So the label,
    whitespace aside, may be printed in pieces split where it has a space: the first on one line, each
    next one on one of the 4 lines below the one before, a whole word there, starting no further right
    than the first piece ends (the same cell, centred or wrapped back to its left edge).
    """
    target = squash(label)
    splits = {len(squash(label[: m.start()])) for m in re.finditer(r"\s+", label.strip())}
    rows = [[(c, x) for x, c in enumerate(line) if not c.isspace()] for line in page.splitlines()]
    seen: dict[tuple[int, int, int | None], bool] = {}

    def found(k: int, i: int, right: int | None) -> bool:  # target[k:] begins on row i
        if (k, i, right) not in seen:
            seen[k, i, right] = False
            seen[k, i, right] = pieces(k, i, right)
        return seen[k, i, right]

    def pieces(k: int, i: int, right: int | None) -> bool:
        row = rows[i]
        for s, (c, x) in enumerate(row):
            if c != target[k]:
                continue
            if right is not None and (x > right + 2 or (s and row[s - 1][1] == x - 1)):
                continue  # a next piece begins a word, under the first
            e = s
            while e < len(row) and k + e - s < len(target) and row[e][0] == target[k + e - s]:
                e += 1
            if k + e - s == len(target):
                return True
            for end in range(e, s, -1):  # a piece ends a word where the label has a space
                if k + end - s in splits and (end == len(row) or row[end][1] > row[end - 1][1] + 1):
                    edge = row[end - 1][1] if right is None else right
                    if any(found(k + end - s, j, edge) for j in range(i + 1, min(i + 5, len(rows)))):
                        return True
        return False

    return bool(target) and any(found(0, i, None) for i in range(len(rows)))


def is_a4(size: tuple[float, float]) -> bool:
    return all(abs(a - b) < 1 for a, b in zip(sorted(size), A4, strict=True))


def chart_titles(xlsx: Path) -> list[str]:
    """The titles of the workbook's native charts, read from the package (xl/charts/chartN.xml)."""
    with zipfile.ZipFile(xlsx) as z:
        parts = sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        xml = [z.read(n).decode("utf-8") for n in parts]
    assert all('typeface="Times New Roman"' in x for x in xml)
    return [m for x in xml for m in re.findall(r"<a:t>([^<]*)</a:t>", x)[:1]]


@pytest.fixture(scope="module")
def printed(samples, ref, tmp_path_factory):
    """The sample's H1 files and every weekly snapshot on SQLite; the three workbooks, then their PDFs."""
    from helpers import edit, set_figure

    from cchc.common.periods import parse_period
    from cchc.figures.completeness import for_week
    from cchc.figures.consolidate import consolidate_period, consolidate_week
    from cchc.loading.ingest import ingest_files
    from cchc.outputs.publish import publish_period, publish_week
    from cchc.warehouse.engine import prepare

    tmp = tmp_path_factory.mktemp("print")
    times = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CCHC_DATA_DIR", str(tmp / "data"))
        engine = prepare(f"sqlite:///{tmp / 'w.db'}", ref)
        files = sorted((samples / "h1").glob("*.xlsx")) + sorted((samples / "weekly").rglob("*.xlsx"))
        ingest_files(engine, ref, copy_files(files, tmp / "in"))
        bad = edit(
            samples / "h1" / "SYT_2024-H1.xlsx",
            tmp / "bad" / "SYT_2024-H1.xlsx",
            lambda wb: (set_figure(wb, "pakn.resolved", -1), set_figure(wb, "pakn.received_new", -3)),
        )
        (refused,) = ingest_files(engine, ref, [bad])
        assert refused.outcome == "rejected" and refused.feedback

        result = consolidate_period(engine, ref, "2024-H1")
        started = time.perf_counter()
        annex = publish_period(tmp / "out", result, ref, engine=engine)["xlsx"]
        times["annex"] = time.perf_counter() - started
        week = parse_period("2024-W25")
        started = time.perf_counter()
        weekly = publish_week(
            tmp / "out", consolidate_week(engine, ref, week), ref, for_week(engine, week), engine=engine
        )
        times["weekly"] = time.perf_counter() - started
    books = {"annex": annex, "weekly": weekly, "feedback": Path(refused.feedback)}
    pdfs = {}
    for name, xlsx in books.items():
        started = time.perf_counter()
        pdfs[name] = to_pdf(xlsx, tmp / "pdf")
        times[f"{name} → PDF"] = time.perf_counter() - started
    print(
        "\n"
        + "; ".join(f"{k} {v:.2f} s" for k, v in times.items())
        + "; pages: "
        + ", ".join(f"{k} {len(page_sizes(p))}" for k, p in pdfs.items())
    )
    return books, pdfs, result


def test_annex_prints_on_a4_with_every_column(printed, ref):
    books, pdfs, result = printed
    sizes = page_sizes(pdfs["annex"])
    assert sizes and all(is_a4(s) and s[0] < s[1] for s in sizes)  # A4 portrait
    text, printed_pages = pages(pdfs["annex"]), layout(pdfs["annex"])
    assert len(text) == len(sizes)
    first = printed_pages[0]
    assert in_cell("ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG", first)
    assert in_cell("TỔNG HỢP KẾT QUẢ CẢI CÁCH HÀNH CHÍNH 6 THÁNG ĐẦU NĂM 2024", first)
    header = ["STT", "Nội dung", "Đơn vị tính", "Kết quả", "Giá trị (số)", "Số đơn vị báo cáo"]
    assert all(in_cell(h, first) for h in header)
    assert "Mãchỉtiêu" not in "".join(text)  # the codes' column is hidden from print
    # The figures' pages: the header repeated on each, first and last column on each (none cut off).
    table = [p for p in printed_pages if in_cell("Đơn vị tính", p)]
    assert len(table) >= 2 and all(in_cell(h, p) for p in table for h in header)
    for code in ("plan.tasks_done", "pakn.total", "fin.invest_disbursed_bn", "egov.online_services_full"):
        assert any(in_cell(result.figures[code].text, p) for p in table), code
    for ind in ref.indicators_on(result.as_of):  # a label's first words, however its cell wraps
        assert any(in_cell(" ".join(ind.label_vi.split()[:4]), p) for p in table), ind.label_vi
    assert all(f"Trang{i}/{len(text)}" in p for i, p in enumerate(text, start=1))
    # The native charts: in the package with their Vietnamese titles, and printed after the figures.
    titles = chart_titles(books["annex"])
    assert titles == [
        "Nhiệm vụ Kế hoạch CCHC năm 2024 theo lĩnh vực",
        "Xử lý phản ánh, kiến nghị (PAKN)",
        "Giải ngân vốn đầu tư công so với kế hoạch",
        "Dịch vụ công trực tuyến",
        "Tình hình báo cáo của cấp xã theo quận, huyện",
    ]
    assert all(any(in_cell(f"Biểu đồ {i}. {t}", p) for p in printed_pages) for i, t in enumerate(titles, start=1))


def test_annex_cells_are_times_new_roman_and_set_to_fit_a4(printed):
    from openpyxl import load_workbook

    books, _, _ = printed
    for name in ("annex", "weekly", "feedback"):
        wb = load_workbook(books[name])
        for ws in wb.worksheets:
            ps = ws.page_setup
            assert (ps.paperSize, ps.fitToWidth, ps.fitToHeight) == (9, 1, 0), (name, ws.title)  # 9: A4
            assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.oddFooter.center.text == "Trang &P/&N"
            fonts = {c.font.name for row in ws.iter_rows() for c in row if c.value is not None}
            assert fonts == {"Times New Roman"}, (name, ws.title, fonts)
        first = wb.worksheets[0]
        assert first.print_title_rows, name
    annex = load_workbook(books["annex"])
    assert annex.sheetnames[:2] == ["Số liệu tổng hợp", "Biểu đồ"]
    assert annex["Số liệu tổng hợp"].print_title_rows == "$5:$5"
    assert annex["Số liệu tổng hợp"].column_dimensions["B"].hidden


def test_weekly_rollup_prints_with_its_trend(printed):
    from openpyxl import load_workbook

    books, pdfs, _ = printed
    sizes = page_sizes(pdfs["weekly"])
    assert sizes and all(is_a4(s) for s in sizes)
    assert any(s[0] > s[1] for s in sizes)  # the reporting sheet is landscape
    text, printed_pages = pages(pdfs["weekly"]), layout(pdfs["weekly"])
    assert in_cell("BÁO CÁO NHANH CẢI CÁCH HÀNH CHÍNH TUẦN 25 NĂM 2024", printed_pages[0])
    # The units to chase run to many pages: each has the list's header, first to last column.
    chase = [p for p in printed_pages if in_cell("Việc cần làm", p)]
    assert len(chase) >= 2
    assert all(in_cell(h, p) for p in chase for h in ("Kỳ", "Mã đơn vị", "Tên đơn vị", "Hạn gửi", "Tình trạng"))
    assert all(f"Trang{i}/{len(text)}" in p for i, p in enumerate(text, start=1))
    # The trend: its title and every header cell of the sheet, however the header wraps.
    trend = [p for p in printed_pages if in_cell("KẾT QUẢ LŨY KẾ TỪ ĐẦU NĂM 2024 THEO TUẦN", p)]
    ws = load_workbook(books["weekly"])["Xu hướng theo tuần"]
    header = [c for c in next(ws.iter_rows(min_row=5, max_row=5, values_only=True)) if c]
    assert header[:2] == ["Tuần", "Đến ngày"] and "Hồ sơ TTHC đã giải quyết" in header
    assert len(trend) == 1 and all(in_cell(h, trend[0]) for h in header), header
    weeks = [r for r in ws.iter_rows(min_row=6, values_only=True) if r[0]]
    assert [r[0] for r in weeks] == [f"T{n:02d}" for n in range(1, 26)]  # every week with snapshots, to W25
    dossiers = [r[5] for r in weeks]
    assert dossiers == sorted(dossiers) and dossiers[0] > 0  # year-to-date: never falls
    assert chart_titles(books["weekly"]) == [
        f"{t} (lũy kế từ đầu năm)"
        for t in (
            "Nhiệm vụ Kế hoạch CCHC đã hoàn thành",
            "Phản ánh, kiến nghị đã giải quyết",
            "Hồ sơ TTHC tiếp nhận",
            "Hồ sơ TTHC đã giải quyết",
        )
    ]


def test_feedback_workbook_prints_on_one_landscape_a4(printed):
    _, pdfs, _ = printed
    sizes = page_sizes(pdfs["feedback"])
    assert sizes == [(841.89, 595.304)] or (len(sizes) == 1 and is_a4(sizes[0]) and sizes[0][0] > sizes[0][1])
    (text,), (page,) = pages(pdfs["feedback"]), layout(pdfs["feedback"])
    assert in_cell("KẾT QUẢ KIỂM TRA BÁO CÁO CẢI CÁCH HÀNH CHÍNH", page)
    assert all(in_cell(h, page) for h in ("STT", "Mức độ", "Trang tính", "Nội dung", "Mã lỗi"))
    assert "VALUE_NEGATIVE" in text and in_cell("BỊ TỪ CHỐI", page) and "Trang1/1" in text
