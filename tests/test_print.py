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

import datetime as dt
import os
import re
import shutil
import subprocess
import time
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import ROOT, copy_files

A4 = (595.3, 841.9)  # points
SEED = ROOT.parent / "shared" / "seeds" / "report_H1_2024_haiphong.txt"  # the city's H1-2024 report


def to_pdf(xlsx: Path, out: Path, lang: str = "en_US.UTF-8") -> Path:
    """LibreOffice headless, with a profile of its own so parallel runs do not share one, in the language
    `lang` (an English computer is the one that printed 1,150 and 91.87 from number cells)."""
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
        env={**os.environ, "LANG": lang, "LC_ALL": lang},
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


@dataclass
class Printed:
    books: dict[str, Path]
    pdfs: dict[str, Path]
    result: object  # the period's Consolidation
    week: object  # W25's
    rates: list  # the reporting rates of the weekly roll-up, from the warehouse's view
    charts: list  # the annex's ChartData
    out: Path


@pytest.fixture(scope="module")
def printed(samples, ref, tmp_path_factory):
    """The sample's H1 files but three communes' and every weekly snapshot on SQLite; the three
    workbooks, then their PDFs as an English computer prints them."""
    from helpers import edit, set_figure

    from cchc.common.periods import parse_period
    from cchc.figures.completeness import for_week
    from cchc.figures.consolidate import consolidate_period, consolidate_week
    from cchc.loading.ingest import ingest_files
    from cchc.outputs.charts import chart_data
    from cchc.outputs.publish import publish_period, publish_week
    from cchc.warehouse.engine import prepare

    tmp = tmp_path_factory.mktemp("print")
    times = {}
    communes = sorted(u.code for u in ref.units_on(dt.date(2024, 6, 15)) if u.unit_type == "commune")
    left_out = {f"{code}_2024-H1.xlsx" for code in communes if code.endswith("01")}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CCHC_DATA_DIR", str(tmp / "data"))
        engine = prepare(f"sqlite:///{tmp / 'w.db'}", ref)
        h1 = [f for f in sorted((samples / "h1").glob("*.xlsx")) if f.name not in left_out]
        files = h1 + sorted((samples / "weekly").rglob("*.xlsx"))
        ingest_files(engine, ref, copy_files(files, tmp / "in"))
        bad = edit(
            samples / "h1" / "SYT_2024-H1.xlsx",
            tmp / "bad" / "SYT_2024-H1.xlsx",
            lambda wb: (set_figure(wb, "pakn.resolved", -1), set_figure(wb, "pakn.received_new", -3)),
        )
        (refused,) = ingest_files(engine, ref, [bad])
        assert refused.outcome == "rejected" and refused.feedback

        result = consolidate_period(engine, ref, "2024-H1")
        assert len(result.units_missing) == len(left_out) >= 3
        started = time.perf_counter()
        annex = publish_period(tmp / "out", result, ref, engine=engine)["xlsx"]
        times["annex"] = time.perf_counter() - started
        charts = chart_data(engine, ref, result)
        week = parse_period("2024-W25")
        reporting = for_week(engine, week)
        week_result = consolidate_week(engine, ref, week)
        started = time.perf_counter()
        weekly = publish_week(tmp / "out", week_result, ref, reporting, engine=engine)
        times["weekly"] = time.perf_counter() - started
    books = {"annex": annex, "weekly": weekly, "feedback": Path(refused.feedback)}
    pdfs = {}
    for name, xlsx in books.items():
        started = time.perf_counter()
        pdfs[name] = to_pdf(xlsx, tmp / "pdf", lang="en_US.UTF-8")
        times[f"{name} → PDF"] = time.perf_counter() - started
    print(
        "\n"
        + "; ".join(f"{k} {v:.2f} s" for k, v in times.items())
        + "; pages: "
        + ", ".join(f"{k} {len(page_sizes(p))}" for k, p in pdfs.items())
    )
    return Printed(books, pdfs, result, week_result, reporting[1], charts, tmp)


# -- what the tests expect, computed here ------------------------------------------------------


def vi(value, decimals: int = 0) -> str:
    """A number as the report prints it (`1.150`, `91,87`, `4.048,546`): Python's grouping, marks swapped."""
    return f"{Decimal(value):,.{decimals}f}".translate(str.maketrans(",.", ".,"))


def en(value, decimals: int = 0) -> str:
    """The same number as a computer set to English prints a number cell (`1,150`, `91.87`)."""
    return f"{Decimal(value):,.{decimals}f}"


def rate_vi(value) -> str:
    text = vi(value, 2)
    return (text[:-3] if text.endswith(",00") else text) + "%"


def numbers(page: str) -> set[str]:
    """The numbers printed on a page but the first of each line (the table's STT, `2.10`)."""
    out = set()
    for line in page.splitlines():
        out.update(re.findall(r"\d[\d.,]*\d|\d", " ".join(line.split()[1:])))
    return out


def seed_headings() -> dict[str, str]:
    """The seed report's headings by section, in its order: `I`, `I.1` … `II.1`, `II.1.a` …"""
    headings, part, number = {}, "", ""
    for line in SEED.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if m := re.fullmatch(r"(I|II|III|IV)\. (.+)", line):
            part, number = m[1], ""
            headings[part] = m[2]
        elif part and (m := re.fullmatch(r"(\d)\. (.+)", line)):
            number = m[1]
            headings[f"{part}.{number}"] = m[2]
        elif number and (m := re.fullmatch(r"([a-d])\) (.+)", line)):
            headings[f"{part}.{number}.{m[1]}"] = m[2]
    return headings


def seed_signature() -> list[str]:
    """The seed report's signature block: its lines after the last recipient, the name last."""
    tail = SEED.read_text(encoding="utf-8").split("Nơi nhận:", 1)[1]
    return [line.strip() for line in tail.splitlines() if line.strip() and not line.startswith("-")]


def table_pages(pdf: Path) -> list[str]:
    """The pages of the annex's Phụ lục I (each has the table's header: STT … Ghi chú)."""
    return [p for p in layout(pdf) if in_cell("Đơn vị tính", p) and in_cell("Ghi chú", p)]


def chart_titles(xlsx: Path) -> list[str]:
    """The titles of the workbook's native charts, read from the package (xl/charts/chartN.xml)."""
    return [re.findall(r"<a:t>([^<]*)</a:t>", x)[0] for x in chart_xml(xlsx)]


def chart_xml(xlsx: Path) -> list[str]:
    with zipfile.ZipFile(xlsx) as z:
        parts = sorted(n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n))
        xml = [z.read(n).decode("utf-8") for n in parts]
    assert all('typeface="Times New Roman"' in x for x in xml)
    return xml


# -- the annex: Phụ lục I of the report --------------------------------------------------------


def test_annex_prints_on_a4_with_every_column(printed, ref):
    pdf = printed.pdfs["annex"]
    sizes = page_sizes(pdf)
    assert sizes and all(is_a4(s) and s[0] < s[1] for s in sizes)  # A4 portrait
    text, printed_pages = pages(pdf), layout(pdf)
    assert len(text) == len(sizes)
    first = printed_pages[0]
    assert in_cell("TỔNG HỢP KẾT QUẢ CẢI CÁCH HÀNH CHÍNH 6 THÁNG ĐẦU NĂM 2024", first)
    header = ["STT", "Nội dung", "Đơn vị tính", "Kết quả", "Ghi chú"]
    # The figures' pages: the header repeated on each, first and last column on each (none cut off).
    table = table_pages(pdf)
    assert len(table) >= 2 and all(in_cell(h, p) for p in table for h in header)
    for ind in ref.indicators_on(printed.result.as_of):  # a label's first words, however its cell wraps
        assert any(in_cell(" ".join(ind.label_vi.split()[:4]), p) for p in table), ind.label_vi
    # The pipeline's columns are for machines: on a sheet of their own, not printed.
    for machine in ("Mã chỉ tiêu", "Giá trị (số)", "Số đơn vị báo cáo", "plan.tasks_done"):
        assert squash(machine) not in "".join(text), machine
    assert all(f"Trang{i}/{len(text)}" in p for i, p in enumerate(text, start=1))
    # The units not reported, listed after the charts.
    missing = [p for p in printed_pages if in_cell("CÁC ĐƠN VỊ CHƯA BÁO CÁO", p)]
    assert len(missing) == 1
    assert all(in_cell(ref.unit_any(code).name_vi, missing[0]) for code in printed.result.units_missing)
    # The native charts: in the package with their Vietnamese titles, and printed after the figures.
    titles = chart_titles(printed.books["annex"])
    assert titles == [c.title_vi for c in printed.charts] and len(titles) == 5
    assert all(any(in_cell(f"Biểu đồ {i}. {t}", p) for p in printed_pages) for i, t in enumerate(titles, start=1))


def test_annex_is_a_phu_luc_signed_as_the_report(printed):
    """Page 1 says what the annex is and which report it goes with; its last page ends with the
    report's signature block, on the right, on the page of the table's last rows."""
    result = printed.result
    first = layout(printed.pdfs["annex"])[0]
    assert in_cell("Phụ lục I", first)
    assert squash("(Kèm theo Báo cáo số") in squash(first)
    assert squash("/BC-UBND ngày") in squash(first)
    assert squash("năm 2024 của Ủy ban nhân dân thành phố)") in squash(first)
    # Nghị định 30/2020's order: the annex's number, its title, then the report it goes with.
    flat = squash(first)
    assert flat.index(squash("Phụ lục I")) < flat.index(squash("TỔNG HỢP KẾT QUẢ")) < flat.index(squash("(Kèm theo"))
    expected = len(result.units_reported) + len(result.units_missing)
    assert squash(f"Số liệu tính đến ngày 15/6/2024; {len(result.units_reported)}/{expected}") in squash(first)

    table = table_pages(printed.pdfs["annex"])
    signature = seed_signature()
    assert signature[:3] == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
    signed = [p for p in table if squash(signature[-1]) in squash(p)]
    assert signed == [table[-1]]  # once, on the table's last page
    lines = signed[0].splitlines()
    width = max(len(line) for line in lines)
    at = []
    for text in signature:
        (row,) = [i for i, line in enumerate(lines) if squash(line) == squash(text)]
        assert len(lines[row]) - len(lines[row].lstrip()) > width / 3, text  # in the right-hand half
        at.append(row)
    assert at == sorted(at) and at[-1] - at[2] >= 4  # in order, room to sign above the name
    # With the table's last two figures above it.
    rows = [r for r in ws_rows(printed.books["annex"]) if re.fullmatch(r"\d+\.\d+", str(r[0]))]
    assert all(squash(" ".join(str(r[1]).split()[:4])) in squash(signed[0]) for r in rows[-2:])


def ws_rows(xlsx: Path, sheet: str = "Phụ lục I") -> list[tuple]:
    from openpyxl import load_workbook

    return list(load_workbook(xlsx)[sheet].iter_rows(values_only=True))


def test_annex_follows_the_reports_order_under_its_headings(printed, ref):
    """The report's numbered headings, each once, in the report's order, with its number (I, 1, a); each
    figure under the heading of its section (the dossiers in II.2, before II.3)."""
    text = "".join(squash(p) for p in table_pages(printed.pdfs["annex"]))
    headings = seed_headings()
    indicators = ref.indicators_on(printed.result.as_of)
    used = {i.section for i in indicators}
    wanted = [c for c in headings if any(s == c or s.startswith(c + ".") for s in used)]
    assert {"I", "I.1", "I.6", "II", "II.1", "II.1.a", "II.1.c", "II.2", "II.6"} <= set(wanted)
    where = {}
    for code in wanted:
        heading = squash(code.rsplit(".", 1)[-1] + headings[code])  # its number in the STT column
        assert text.count(squash(headings[code])) == 1, headings[code]
        assert heading in text, heading
        where[code] = text.index(heading)
    assert [where[c] for c in wanted] == sorted(where.values())  # the report's order
    checked = 0
    for ind in indicators:
        label = squash(" ".join(ind.label_vi.split()[:4]))
        if text.count(label) != 1:
            continue  # `…quá hạn`: several sections have one
        deeper = [c for c in wanted if where[c] > where[ind.section]]
        end = min((where[c] for c in deeper if not c.startswith(ind.section + ".")), default=len(text))
        assert where[ind.section] < text.index(label) < end, (ind.code, ind.section)
        checked += 1
    assert checked >= 60


def test_annex_numbers_print_the_vietnamese_way_on_any_computer(printed, ref):
    """Every figure as the report writes it (`1.150`, `91,87`, `4.048,546`, `08/57`), its unit in the
    unit's column only; no `1,150` or `91.87` anywhere; and the same pages on a German computer
    (`.` and `,` the other way round) as on the English one."""
    pdf = printed.pdfs["annex"]
    table = table_pages(pdf)
    shown = set().union(*(numbers(p) for p in table))
    everywhere = set().union(*(numbers(p) for p in layout(pdf)))
    squashed = "".join(squash(p) for p in table)
    rests = [squash(" ".join(line.split()[1:])) for p in table for line in p.splitlines()]  # but the STT
    figures = printed.result.figures
    for ind in ref.indicators_on(printed.result.as_of):
        value = figures[ind.code].value
        if value is None:
            continue
        if ind.method == "plan_done":
            done, total = int(value), int(figures["plan.tasks_total"].value)
            assert squash(f"{done:02d}/{total:02d}") in squashed
            continue
        assert vi(value, ind.decimals) in shown, ind.code
        if en(value, ind.decimals) != vi(value, ind.decimals):
            assert en(value, ind.decimals) not in everywhere, ind.code
        unit_after = squash(f"{vi(value, ind.decimals)} {ind.unit_vi}")  # "4.048,546 tỷ đồng"
        assert not any(unit_after in rest for rest in rests), ind.code
    assert {"1.150", "91,87", "4.048,546"} <= shown  # the sample's, as a check of the check
    german = to_pdf(printed.books["annex"], printed.out / "pdf_de", lang="de_DE.UTF-8")
    assert layout(german) == layout(pdf)


def test_native_charts_print_no_zero_labels(printed):
    """An empty segment has no label: the charts' source ranges hold no zeros (an empty cell), the labels
    carry their own format (`sourceLinked="0"`, a literal dot: 1.317 in any language); printed, a
    category's bar has no "0" beside it (its table row, above the chart, may), and no "0" stands alone."""
    from openpyxl import load_workbook

    wb = load_workbook(printed.books["annex"])
    data = wb["Dữ liệu biểu đồ"]
    assert data.sheet_state == "hidden" and wb["Số liệu tổng hợp"].sheet_state == "hidden"
    values = [c.value for row in data.iter_rows(min_col=2) for c in row if not isinstance(c.value, str)]
    assert 0 not in values and any(values)
    for xml in chart_xml(printed.books["annex"]):
        labels = re.findall(r"<(?:c:)?dLbls>.*?</(?:c:)?dLbls>", xml, re.S)
        assert labels and all('sourceLinked="0"' in dl and "&quot;.&quot;" in dl for dl in labels)
    zeros = {c.key for c in printed.charts for _, v in c.series if 0 in v}
    assert {"plan_tasks", "completeness"} <= zeros  # the sample has empty segments to leave unlabelled
    pages_ = [p for p in layout(printed.pdfs["annex"]) if re.search(r"Biểu đồ \d\. ", p)]
    for c in (c for c in printed.charts if c.kind != "pie"):
        for cat in c.categories:
            rows = [rest for p in pages_ for line in p.splitlines() if (rest := after(squash(cat), line)) is not None]
            assert len(rows) >= 2, (c.key, cat)  # the table's row, then the chart's bar
            assert all("0" not in rest for rest in rows[1:]), (c.key, cat, rows)
    assert not [line for p in pages_ for line in p.splitlines() if line.split() == ["0"]]
    # The weekly trend's line charts have no labels at all.
    assert not any(re.search("<(c:)?dLbls>", x) for x in chart_xml(printed.books["weekly"]))


def after(label: str, line: str) -> list[str] | None:
    """The tokens of `line` after `label`, which begins it (its letters may be split: `Huy ện`)."""
    tokens, seen = line.split(), ""
    for i, token in enumerate(tokens):
        seen += token
        if seen == label:
            return tokens[i + 1 :]
        if not label.startswith(seen):
            return None
    return None


def test_annex_cells_are_times_new_roman_and_set_to_fit_a4(printed):
    from openpyxl import load_workbook

    for name in ("annex", "weekly", "feedback"):
        wb = load_workbook(printed.books[name])
        for ws in wb.worksheets:
            ps = ws.page_setup
            assert (ps.paperSize, ps.fitToWidth, ps.fitToHeight) == (9, 1, 0), (name, ws.title)  # 9: A4
            assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.oddFooter.center.text == "Trang &P/&N"
            fonts = {c.font.name for row in ws.iter_rows() for c in row if c.value is not None}
            assert fonts == {"Times New Roman"}, (name, ws.title, fonts)
        first = wb.worksheets[0]
        assert first.print_title_rows and first.sheet_state == "visible", name
    annex = load_workbook(printed.books["annex"])
    assert annex.sheetnames[:2] == ["Phụ lục I", "Biểu đồ"]
    assert annex.sheetnames[-2:] == ["Số liệu tổng hợp", "Dữ liệu biểu đồ"]  # for machines, hidden
    assert annex["Phụ lục I"].print_title_rows == "$6:$6"
    # Printed sheets hold text where a person reads a number; machines read the plain value.
    data = {r[1]: r for r in annex["Số liệu tổng hợp"].iter_rows(min_row=6, values_only=True)}
    assert data["pakn.total"][5] == float(printed.result.figures["pakn.total"].value)
    assert data["fin.invest_disbursed_bn"][4] == printed.result.figures["fin.invest_disbursed_bn"].text
    shown = [c.value for row in annex["Phụ lục I"].iter_rows(min_row=7) for c in row[3:4] if c.value is not None]
    assert shown and all(isinstance(v, str) for v in shown)


# -- the weekly roll-up and a unit's feedback --------------------------------------------------


def test_weekly_rollup_prints_with_its_trend(printed):
    from openpyxl import load_workbook

    pdf = printed.pdfs["weekly"]
    sizes = page_sizes(pdf)
    assert sizes and all(is_a4(s) for s in sizes)
    assert any(s[0] > s[1] for s in sizes)  # the reporting sheet is landscape
    text, printed_pages = pages(pdf), layout(pdf)
    assert in_cell("BÁO CÁO NHANH CẢI CÁCH HÀNH CHÍNH TUẦN 25 NĂM 2024 (17/6/2024 – 23/6/2024)", printed_pages[0])
    assert all(in_cell(h, printed_pages[0]) for h in ("STT", "Nội dung", "Đơn vị tính", "Kết quả", "Ghi chú"))
    # The units to chase run to many pages: each has the list's header, first to last column.
    chase = [p for p in printed_pages if in_cell("Việc cần làm", p)]
    assert len(chase) >= 2
    assert all(in_cell(h, p) for p in chase for h in ("Kỳ", "Mã đơn vị", "Tên đơn vị", "Hạn gửi", "Tình trạng"))
    assert all(f"Trang{i}/{len(text)}" in p for i, p in enumerate(text, start=1))
    # Rates as the report writes them, from the warehouse's; never the computer's 98.62.
    shown = set().union(*(numbers(p) for p in printed_pages))
    reporting = "".join(text)
    for r in printed.rates:
        for rate in (r.reporting_rate, r.on_time_rate):
            assert squash(rate_vi(rate)) in reporting, rate
            assert f"{rate:.2f}" not in shown and (rate == int(rate) or str(rate) not in shown), rate
    assert any(0 < r.reporting_rate < 100 for r in printed.rates)  # three communes did not report
    # The trend: its title and every header cell of the sheet, however the header wraps.
    trend = [p for p in printed_pages if in_cell("KẾT QUẢ LŨY KẾ TỪ ĐẦU NĂM 2024 THEO TUẦN", p)]
    ws = load_workbook(printed.books["weekly"])["Xu hướng theo tuần"]
    header = [c for c in next(ws.iter_rows(min_row=5, max_row=5, values_only=True)) if c]
    assert header[:2] == ["Tuần", "Đến ngày"] and "Hồ sơ TTHC đã giải quyết" in header
    assert len(trend) == 1 and all(in_cell(h, trend[0]) for h in header), header
    weeks = [r for r in ws.iter_rows(min_row=6, values_only=True) if r[0]]
    assert [r[0] for r in weeks] == [f"T{n:02d}" for n in range(1, 26)]  # every week with snapshots, to W25
    assert weeks[-1][1] == "23/6/2024" and weeks[0][1] == "07/01/2024"  # the report's way (Nghị định 30)
    dossiers = [r[5] for r in weeks]
    assert dossiers == sorted(dossiers) and dossiers[0] > 0  # year-to-date: never falls
    assert vi(dossiers[-1]) in numbers(trend[0]) and en(dossiers[-1]) not in numbers(trend[0])
    assert chart_titles(printed.books["weekly"]) == [
        f"{t} (lũy kế từ đầu năm)"
        for t in (
            "Nhiệm vụ Kế hoạch CCHC đã hoàn thành",
            "Phản ánh, kiến nghị đã giải quyết",
            "Hồ sơ TTHC tiếp nhận",
            "Hồ sơ TTHC đã giải quyết",
        )
    ]


def test_feedback_workbook_prints_on_one_landscape_a4(printed):
    sizes = page_sizes(printed.pdfs["feedback"])
    assert sizes == [(841.89, 595.304)] or (len(sizes) == 1 and is_a4(sizes[0]) and sizes[0][0] > sizes[0][1])
    (text,), (page,) = pages(printed.pdfs["feedback"]), layout(printed.pdfs["feedback"])
    assert in_cell("KẾT QUẢ KIỂM TRA BÁO CÁO CẢI CÁCH HÀNH CHÍNH", page)
    assert all(in_cell(h, page) for h in ("STT", "Mức độ", "Trang tính", "Nội dung", "Mã lỗi"))
    assert "VALUE_NEGATIVE" in text and in_cell("BỊ TỪ CHỐI", page) and "Trang1/1" in text
