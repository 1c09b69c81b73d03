"""The workbooks print as a person expects: rendered to PDF by LibreOffice headless, as the office prints.

The annex (`2024-H1_tong_hop.xlsx`), the weekly roll-up (`2024-W25_bao_cao_tuan.xlsx`, with the trend
over the year's weeks) and a refused unit's feedback workbook, written from the sample files: every
page A4, no column pushed to a page of its own (every page of a table holds its first and its last
column), the header repeated on each page, titles with their diacritics, page numbers, native charts.
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
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(["soffice", f"-env:UserInstallation=file://{out / 'profile'}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(out), str(xlsx)], check=True, capture_output=True, timeout=300)
    pdf = out / f"{xlsx.stem}.pdf"
    assert pdf.exists(), f"LibreOffice wrote no PDF for {xlsx.name}"
    return pdf


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]


def pages(pdf: Path) -> list[str]:
    """Each page's text, whitespace removed: LibreOffice's font fallback splits words (`Đ ẦU`)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return ["".join(p.split()) for p in text.split("\f")[:-1]]


def squash(s: str) -> str:
    return "".join(s.split())


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
    from cchc.completeness import for_week
    from cchc.consolidate import consolidate_period, consolidate_week
    from cchc.ingest import ingest_files
    from cchc.periods import parse_period
    from cchc.publish import publish_period, publish_week
    from cchc.warehouse import prepare
    from helpers import edit, set_figure

    tmp = tmp_path_factory.mktemp("print")
    times = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CCHC_DATA_DIR", str(tmp / "data"))
        engine = prepare(f"sqlite:///{tmp / 'w.db'}", ref)
        files = sorted((samples / "h1").glob("*.xlsx")) + sorted((samples / "weekly").rglob("*.xlsx"))
        ingest_files(engine, ref, copy_files(files, tmp / "in"))
        bad = edit(samples / "h1" / "SYT_2024-H1.xlsx", tmp / "bad" / "SYT_2024-H1.xlsx",
                   lambda wb: (set_figure(wb, "pakn.resolved", -1), set_figure(wb, "pakn.received_new", -3)))
        (refused,) = ingest_files(engine, ref, [bad])
        assert refused.outcome == "rejected" and refused.feedback

        result = consolidate_period(engine, ref, "2024-H1")
        started = time.perf_counter()
        annex = publish_period(tmp / "out", result, ref, engine=engine)["xlsx"]
        times["annex"] = time.perf_counter() - started
        week = parse_period("2024-W25")
        started = time.perf_counter()
        weekly = publish_week(tmp / "out", consolidate_week(engine, ref, week), ref, for_week(engine, week),
                              engine=engine)
        times["weekly"] = time.perf_counter() - started
    books = {"annex": annex, "weekly": weekly, "feedback": Path(refused.feedback)}
    pdfs = {}
    for name, xlsx in books.items():
        started = time.perf_counter()
        pdfs[name] = to_pdf(xlsx, tmp / "pdf")
        times[f"{name} → PDF"] = time.perf_counter() - started
    print("\n" + "; ".join(f"{k} {v:.2f} s" for k, v in times.items()) + "; pages: "
          + ", ".join(f"{k} {len(page_sizes(p))}" for k, p in pdfs.items()))
    return books, pdfs, result


def test_annex_prints_on_a4_with_every_column(printed, ref):
    books, pdfs, result = printed
    sizes = page_sizes(pdfs["annex"])
    assert sizes and all(is_a4(s) and s[0] < s[1] for s in sizes)  # A4 portrait
    text = pages(pdfs["annex"])
    assert len(text) == len(sizes)
    first = text[0]
    assert squash("ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG") in first
    assert squash("TỔNG HỢP KẾT QUẢ CẢI CÁCH HÀNH CHÍNH 6 THÁNG ĐẦU NĂM 2024") in first
    header = ["STT", "Nội dung", "Đơn vị tính", "Kết quả", "Giá trị (số)", "Số đơn vị báo cáo"]
    assert all(squash(h) in first for h in header[:-1]) and "Sốđơnvị" in first  # the last one wraps
    assert "Mãchỉtiêu" not in "".join(text)  # the codes' column is hidden from print
    # The figures' pages: the header repeated on each, first and last column on each (none cut off).
    table = [p for p in text if "Đơnvịtính" in p]
    assert len(table) >= 2 and all(p.startswith(squash("STT Nội dung")) or "STTNộidung" in p for p in table)
    assert all("Sốđơnvị" in p and "Giátrị(số)" in p for p in table)
    for code in ("plan.tasks_done", "pakn.total", "fin.invest_disbursed_bn", "egov.online_services_full"):
        assert squash(result.figures[code].text) in "".join(table)
    assert all(squash(ind.label_vi)[:20] in "".join(table) for ind in ref.indicators_on(result.as_of))
    assert all(f"Trang{i}/{len(text)}" in p for i, p in enumerate(text, start=1))
    # The native charts: in the package with their Vietnamese titles, and printed after the figures.
    titles = chart_titles(books["annex"])
    assert titles == ["Nhiệm vụ Kế hoạch CCHC năm 2024 theo lĩnh vực", "Xử lý phản ánh, kiến nghị (PAKN)",
                      "Giải ngân vốn đầu tư công so với kế hoạch", "Dịch vụ công trực tuyến",
                      "Tình hình báo cáo của cấp xã theo quận, huyện"]
    assert all(squash(f"Biểu đồ {i}. {t}") in "".join(text) for i, t in enumerate(titles, start=1))


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
    text = pages(pdfs["weekly"])
    assert squash("BÁO CÁO NHANH CẢI CÁCH HÀNH CHÍNH TUẦN 25 NĂM 2024") in text[0]
    # The units to chase run to many pages: each has the list's header, first to last column.
    chase = [p for p in text if "Việccầnlàm" in p]
    assert len(chase) >= 2 and all("Kỳ" in p and "Mãđơnvị" in p and "Tìnhtrạng" in p for p in chase)
    assert all(f"Trang{i}/{len(text)}" in p for i, p in enumerate(text, start=1))
    trend = [p for p in text if "KẾTQUẢLŨYKẾTỪĐẦUNĂM2024THEOTUẦN" in p]
    assert trend and all(h in trend[0] for h in ("Tuần", "Đếnngày", "HồsơTTHCđãgiải"))
    ws = load_workbook(books["weekly"])["Xu hướng theo tuần"]
    weeks = [r for r in ws.iter_rows(min_row=6, values_only=True) if r[0]]
    assert [r[0] for r in weeks] == [f"T{n:02d}" for n in range(1, 26)]  # every week with snapshots, to W25
    dossiers = [r[5] for r in weeks]
    assert dossiers == sorted(dossiers) and dossiers[0] > 0  # year-to-date: never falls
    assert chart_titles(books["weekly"]) == [f"{t} (lũy kế từ đầu năm)" for t in (
        "Nhiệm vụ Kế hoạch CCHC đã hoàn thành", "Phản ánh, kiến nghị đã giải quyết", "Hồ sơ TTHC tiếp nhận",
        "Hồ sơ TTHC đã giải quyết")]


def test_feedback_workbook_prints_on_one_landscape_a4(printed):
    _, pdfs, _ = printed
    sizes = page_sizes(pdfs["feedback"])
    assert sizes == [(841.89, 595.304)] or (len(sizes) == 1 and is_a4(sizes[0]) and sizes[0][0] > sizes[0][1])
    (text,) = pages(pdfs["feedback"])
    assert squash("KẾT QUẢ KIỂM TRA BÁO CÁO CẢI CÁCH HÀNH CHÍNH") in text
    assert all(squash(h) in text for h in ("STT", "Mức độ", "Trang tính", "Nội dung", "Mã lỗi"))
    assert "VALUE_NEGATIVE" in text and "BỊTỪCHỐI" in text and "Trang1/1" in text
