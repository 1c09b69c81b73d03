"""The report the city signs: the H1-2024 draft from the 253 sample files, checked as a person sees it.

Its text must hold the seed report's figures in Vietnamese notation, each figure with a Word
comment saying how it was made; the layout must be Nghị định 30/2020's (A4, margins, Times New
Roman 14 pt, page numbers from page 2); no placeholder, None or nan may show; LibreOffice must
print it on A4 with the diacritics intact. A template with an unknown placeholder, a malformed
one, or one with no value for the period fails naming it and quoting its paragraph.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import GOLDEN, ROOT, copy_files

from cchc.common.vn import format_number

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Sentences of ../shared/seeds/report_H1_2024_haiphong.txt whose figures the warehouse holds,
# exactly as the seed writes them (the draft fills the figures; the words are the template's).
SEED_SENTENCES = [
    "Tính đến 15/6/2024, thành phố đã thực hiện hoàn thành 08/57 nhiệm vụ",
    "xếp hạng vị trí thứ 2/63 tỉnh, thành phố với kết quả đạt 91,87 điểm",
    "xếp hạng vị trí thứ 5/63 tỉnh, thành phố với kết quả đạt 88,90%",
    "kiểm tra tại 06 sở, ngành và 06 quận, huyện",
    "thành lập 04 đoàn công tác",
    "kiểm tra đột xuất về thực hiện kỷ luật, kỷ cương công vụ tại 05 sở, ban, ngành",
    "; 04 quận, huyện (Lê Chân, Hải An, An Lão, An Dương) và 10 xã, phường, thị trấn",
    "đã đăng tải khoảng 1.150 tin, bài, phóng sự",
    "được Chính phủ, Thủ tướng Chính phủ giao 78 nhiệm vụ",
    "Hoàn thành 37 nhiệm vụ đúng hạn",
    "Đang thực hiện 41 nhiệm vụ trong hạn",
    "Không có nhiệm vụ quá hạn.",
    "gồm 05 văn bản.",
    "đã phê duyệt 12 đề nghị",
    "đã ban hành 17 văn bản quy phạm pháp luật (trong đó có 06 văn bản",
    "và 11 văn bản thuộc nhiệm vụ xây dựng và trình ban hành năm 2023",
    "gồm 87 văn bản (66 văn bản hết hiệu lực toàn bộ, 01 văn bản ngưng hiệu lực toàn bộ, 20 văn bản hết hiệu lực",
    "tự kiểm tra 17 văn bản",
    "đã ban hành 55 Quyết định công bố danh mục TTHC",
    "rà soát đối với 63 TTHC",
    "ủy quyền 04 TTHC",
    "đối với 11/43 thủ tục hành chính đã được công bố, đạt tỷ lệ 25,6%",
    "tiếp nhận mới: 192",
    "kỳ trước chuyển sang: 12",
    "đã hoàn thành: 138",
    "đang xử lý: 66 (trong hạn: 62, quá hạn 4)",
    "sắp xếp giảm 04¹ đơn vị",
    "đối với 44 trường hợp",
    "(38 đối tượng nghỉ hưu trước tuổi, 06 đối tượng thôi việc)",
    "36 cơ quan hành chính sở, ngành, địa phương (trong đó: 15 quận, huyện và 21 sở, ban, ngành và tương đương); "
    "810 đơn vị sự nghiệp công lập",
    "Điều động, bổ nhiệm 14 trường hợp²; bổ nhiệm lại, kéo dài 16 trường hợp³; giao quyền, giao phụ trách 02 "
    "trường hợp⁴; nghỉ hưu 06 trường hợp⁵",
    "tổ chức hành chính là 2.846 người",
    "trong đơn vị sự nghiệp công lập là 32.584 người",
    "đạt 4.048,546 tỷ đồng, bằng 23,79% kế hoạch Thủ tướng Chính phủ giao (17.019,198 tỷ đồng), bằng 20,27% kế "
    "hoạch thành phố giao (19.972,741 tỷ đồng)",
    "trung ương đã giải ngân là 133,370 tỷ đồng, đạt tỷ lệ 17,65%",
    "địa phương đã giải ngân là 3.915,176 tỷ đồng, đạt tỷ lệ 20,37%",
    "với 14 nhiệm vụ triển khai thường xuyên, 39 nhiệm vụ chuyển tiếp",
    "cho 35/35 sở, ban, ngành, quận, huyện, 217/217 xã, phường, thị trấn; cung cấp 1.317 dịch vụ công trực tuyến "
    "toàn trình và 386 dịch vụ công trực tuyến một phần",
    "kiểm tra tại 78 đơn vị",
    "Kết quả thực hiện công tác cải cách hành chính 6 tháng đầu năm 2024 và phương hướng, nhiệm vụ 6 tháng cuối "
    "năm 2024 của thành phố Hải Phòng",
    "II. KẾT QUẢ THỰC HIỆN CÔNG TÁC CẢI CÁCH HÀNH CHÍNH 6 THÁNG ĐẦU NĂM 2024",
    "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ CẢI CÁCH HÀNH CHÍNH 6 THÁNG CUỐI NĂM 2024",
]


@pytest.fixture(scope="module")
def h1_draft(samples, ref, tmp_path_factory):
    """All 253 H1-2024 sample files ingested into a SQLite warehouse, then `cchc draft`."""
    from cchc.cli import main
    from cchc.loading.ingest import ingest_files
    from cchc.warehouse.engine import get_engine, prepare

    tmp = tmp_path_factory.mktemp("draft")
    url = f"sqlite:///{tmp / 'warehouse.db'}"
    mp = pytest.MonkeyPatch()
    mp.setenv("CCHC_DATA_DIR", str(tmp / "data"))
    engine = prepare(url, ref)
    files = copy_files(sorted((samples / "h1").glob("*.xlsx")), tmp / "in")
    outcomes = ingest_files(engine, ref, files)
    assert {o.outcome for o in outcomes} == {"accepted"}
    assert main(["--warehouse", url, "draft", "--period", "2024-H1", "--out", str(tmp / "out")]) == 0
    yield tmp / "out" / "2024-H1_bao_cao_du_thao.docx", get_engine(url), url, tmp
    mp.undo()


def _golden() -> dict[str, Decimal]:
    with open(GOLDEN, encoding="utf-8") as fh:
        return {r["code"]: Decimal(r["value"]) for r in csv.DictReader(fh)}


def _text(doc) -> str:
    from cchc.outputs.draft import paragraphs

    return "\n".join(p.text for p in paragraphs(doc))


def _commented(path: Path) -> dict[str, str]:
    """indicator code → the document text its comment is anchored on (code read from the comment)."""
    import docx

    doc = docx.Document(str(path))
    code_of = {}
    for c in doc.comments:
        last = [p.text for p in c.paragraphs][-1]
        m = re.search(r"cchc explain (\S+) --period", last)
        assert m, last
        code_of[str(c.comment_id)] = m.group(1)
    anchored: dict[str, list[str]] = {}
    open_ids: list[str] = []
    for el in doc.element.body.iter():
        if el.tag == W + "commentRangeStart":
            open_ids.append(el.get(W + "id"))
        elif el.tag == W + "commentRangeEnd":
            open_ids.remove(el.get(W + "id"))
        elif el.tag == W + "t" and open_ids:
            for i in open_ids:
                anchored.setdefault(i, []).append(el.text or "")
    out: dict[str, str] = {}
    for cid, code in code_of.items():
        out.setdefault(code, "".join(anchored[cid]))
    return out


def test_draft_holds_the_seed_reports_figures_in_vietnamese_notation(h1_draft):
    import docx

    path, *_ = h1_draft
    text = _text(docx.Document(str(path)))
    flat = re.sub(r"\s+", " ", text)
    missing = [s for s in SEED_SENTENCES if s not in flat]
    assert not missing, missing


def test_every_golden_figure_is_filled_and_carries_its_provenance_comment(h1_draft, ref):
    import docx

    from cchc.figures.consolidate import display

    path, *_ = h1_draft
    commented = _commented(path)
    golden = _golden()
    # gov.tasks_overdue = 0 is written as words ("Không có nhiệm vụ quá hạn"), plan.tasks_total is
    # the 57 of "08/57": every other golden figure is in the text, its comment on exactly its digits
    # (counts under ten written with two digits, as the report does: 04).
    expected = {c for c in golden if c not in ("gov.tasks_overdue", "plan.tasks_total")}
    assert expected - set(commented) == set()
    for code in expected:
        want = "08/57" if code == "plan.tasks_done" else display(ref.indicator(code), golden[code], {})
        assert commented[code].lstrip("0") == want.lstrip("0"), (code, commented[code], want)
    comments = list(docx.Document(str(path)).comments)
    assert len(comments) >= len(expected)
    sample = next(c for c in comments if "cchc explain pakn.received_new" in [p.text for p in c.paragraphs][-1])
    body = "\n".join(p.text for p in sample.paragraphs)
    assert "Cách tính / method (sum)" in body and "Số đơn vị có số liệu / units:" in body
    assert re.search(r"Đóng góp lớn nhất.*\n  [A-Z0-9]+: [\d.]+ — tệp \S+_2024-H1\.xlsx \(phiên bản 1, ", body), body


def test_layout_is_decree_30s_and_nothing_unfilled_shows(h1_draft):
    import docx
    from docx.shared import Mm, Pt

    path, *_ = h1_draft
    doc = docx.Document(str(path))
    s = doc.sections[0]
    assert (round(s.page_width / Mm(1)), round(s.page_height / Mm(1))) == (210, 297)
    assert 20 <= round(s.top_margin / Mm(1)) <= 25 and 20 <= round(s.bottom_margin / Mm(1)) <= 25
    assert 30 <= round(s.left_margin / Mm(1)) <= 35 and 15 <= round(s.right_margin / Mm(1)) <= 20
    normal = doc.styles["Normal"].font
    assert normal.name == "Times New Roman" and Pt(13) <= normal.size <= Pt(14)
    # page numbers from page 2: a PAGE field in the header, none on the first page's own header
    assert s.different_first_page_header_footer
    assert "PAGE" in "".join(s.header._element.itertext())
    assert "PAGE" not in "".join(s.first_page_header._element.itertext())
    text = _text(doc)
    for bad in ("{{", "}}", "{%", "%}", "None", "nan", "chưa có số liệu", "\ue000"):
        assert bad not in text, bad
    for part in (
        "ỦY BAN NHÂN DÂN",
        "THÀNH PHỐ HẢI PHÒNG",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "/BC-UBND",
        "Hải Phòng, ngày",
        "năm 2024",
        "BÁO CÁO",
        "Kính gửi: Bộ Nội vụ",
        "I. CÔNG TÁC CHỈ ĐẠO",
        "III. ĐÁNH GIÁ CHUNG",
        "Nơi nhận:",
        "TM. ỦY BAN NHÂN DÂN",
        "Trên đây là báo cáo kết quả",
    ):
        assert part in text, part
    captions = re.findall(r"Biểu đồ (\d)\. ", text)
    assert captions == ["1", "2", "3", "4", "5"]
    pictures = doc.element.body.xpath(".//pic:pic")
    assert len(pictures) == 5


def test_libreoffice_prints_the_draft_on_a4_with_diacritics(h1_draft):
    path, _, _, tmp = h1_draft
    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice (soffice) is needed: .ci/run installs libreoffice-writer-nogui"
    out = tmp / "pdf"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp / 'lo'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    pdf = out / (path.stem + ".pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "(A4)" in info
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert 15 <= pages <= 30, pages  # the seed report is about 20 pages
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    second = subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in first and "Kính gửi: Bộ Nội vụ" in first
    assert "6 tháng đầu năm 2024" in first
    assert second.split()[0] == "2"  # the header's page number, from page 2 on
    assert not re.match(r"\s*1\s", first)


def test_unknown_malformed_or_valueless_placeholders_fail_naming_them(h1_draft, ref, tmp_path, capsys):
    import docx

    from cchc.cli import main
    from cchc.common.periods import parse_period
    from cchc.outputs.draft import TemplateError, template_for, write_draft

    _, engine, url, _ = h1_draft
    template = template_for(parse_period("2024-H1"))

    def spoil(text: str, name: str) -> Path:
        doc = docx.Document(str(template))
        para = next(p for p in doc.paragraphs if p.text.startswith("Tổng số phản ánh, kiến nghị phải xử lý"))
        para.add_run(text)
        doc.save(tmp_path / name)
        return tmp_path / name

    bad = spoil(" Số PAKN của kỳ: {{ pakn.khong_co_chi_tieu_nay }}.", "unknown.docx")
    with pytest.raises(TemplateError) as err:
        write_draft(engine, ref, "2024-H1", tmp_path / "out", template=bad)
    msg = str(err.value)
    assert "pakn.khong_co_chi_tieu_nay" in msg and "unknown placeholder" in msg
    assert "quá hạn {{ pakn.in_progress_overdue }}). Số PAKN của kỳ: {{ pakn.khong_co_chi_tieu_nay }}." in msg
    assert not (tmp_path / "out" / "2024-H1_bao_cao_du_thao.docx").exists()

    # the same through the command line: exit 2, the name on stderr
    assert (
        main(
            ["--warehouse", url, "draft", "--period", "2024-H1", "--out", str(tmp_path / "o2"), "--template", str(bad)]
        )
        == 2
    )
    assert "pakn.khong_co_chi_tieu_nay" in capsys.readouterr().err

    with pytest.raises(TemplateError, match=r"pakn\.total \}"):
        write_draft(engine, ref, "2024-H1", tmp_path / "out", template=spoil(" {{ pakn.total }", "malformed.docx"))

    # known figures with no value for the period: only the districts have reported, so the figures
    # that come from one department (the PAR index from SNV) have none
    from cchc.loading.ingest import ingest_files
    from cchc.warehouse.engine import prepare

    partial = prepare(f"sqlite:///{tmp_path / 'partial.db'}", ref)
    districts = {u.code for u in ref.units if u.unit_type == "district"}
    ingest_files(
        partial, ref, [f for f in sorted((h1_draft[3] / "in").glob("*.xlsx")) if f.name.split("_")[0] in districts]
    )
    with pytest.raises(TemplateError) as err:
        write_draft(partial, ref, "2024-H1", tmp_path / "out", template=template)
    msg = str(err.value)
    assert "{{ index.par_score }} — không có số liệu cho kỳ này / no value for this period" in msg
    assert "với kết quả đạt {{ index.par_score }} (tăng 1,78 điểm" in msg  # where it stands in its paragraph


def test_weekly_flash_report_and_placeholder_list(h1_draft, ref, tmp_path):
    import docx

    from cchc.cli import main
    from cchc.outputs.draft import write_draft

    _, engine, _, _ = h1_draft
    d = write_draft(engine, ref, "2024-W24", tmp_path)
    text = _text(docx.Document(str(d.path)))
    assert "BÁO CÁO NHANH" in text and "tuần 24 năm 2024 (từ 10/6/2024 đến 16/6/2024)" in text
    assert d.n_figures >= 5 and "{{" not in text
    # the list the office edits from is generated from the catalogue and up to date
    assert main(["placeholders", "--check"]) == 0
    listed = (ROOT / "include" / "templates" / "PLACEHOLDERS.md").read_text(encoding="utf-8")
    for ind in ref.indicators:
        assert f"`{{{{ {ind.code} }}}}`" in listed
    assert "| `{{ fin.invest_disbursed_bn }}` |" in listed and "4.048,546 tỷ đồng" in listed
    assert format_number(Decimal("1317")) in listed


def test_a_year_report_from_the_same_template(samples, ref, tmp_path):
    """The departments', districts' and Đồ Sơn communes' files sent again for the year 2024: the same
    template speaks of the year, its cut-off date and the next year."""
    import datetime as dt

    import docx
    from helpers import edit, set_info

    from cchc.loading.ingest import ingest_files
    from cchc.outputs.draft import write_draft
    from cchc.warehouse.engine import prepare

    units = {u.code: u for u in ref.units_on(dt.date(2024, 6, 15))}
    files = [
        edit(f, tmp_path / "y" / f"{u.code}_2024-Y.xlsx", lambda wb: set_info(wb, "Kỳ báo cáo", "2024-Y"))
        for f in sorted((samples / "h1").glob("*.xlsx"))
        if (u := units[f.name.split("_")[0]]).unit_type != "commune" or u.parent_code == "DSO"
    ]
    engine = prepare(f"sqlite:///{tmp_path / 'y.db'}", ref)
    assert {o.outcome for o in ingest_files(engine, ref, files)} == {"accepted"}
    d = write_draft(engine, ref, "2024-Y", tmp_path / "out")
    assert d.path.name == "2024-Y_bao_cao_du_thao.docx"
    text = re.sub(r"\s+", " ", _text(docx.Document(str(d.path))))
    assert "cải cách hành chính năm 2024 và phương hướng, nhiệm vụ năm 2025 của thành phố Hải Phòng" in text
    assert "Tính đến 15/12/2024, thành phố đã thực hiện hoàn thành 08/57 nhiệm vụ" in text
    assert "II. KẾT QUẢ THỰC HIỆN CÔNG TÁC CẢI CÁCH HÀNH CHÍNH NĂM 2024" in text
    assert f"báo cáo của {len(files)}/253 cơ quan, đơn vị" in text
    assert "{{" not in text and "6 tháng đầu năm" not in text


def test_final_report_only_after_approval_and_without_the_draft_mark(h1_draft, ref, tmp_path):
    """Last in this module: it locks the shared warehouse."""
    import docx

    from cchc.figures.approval import approve
    from cchc.outputs.draft import write_draft

    _, engine, _, _ = h1_draft
    with pytest.raises(ValueError, match="chưa được phê duyệt"):
        write_draft(engine, ref, "2024-H1", tmp_path, final=True)
    draft_text = _text(docx.Document(str(h1_draft[0])))
    assert draft_text.startswith("DỰ THẢO\nChưa phê duyệt")
    approve(engine, ref, "2024-H1", "Trần Văn Bình")
    final = write_draft(engine, ref, "2024-H1", tmp_path, final=True)
    assert final.path.name == "2024-H1_bao_cao.docx" and final.locked and final.version == 1
    text = _text(docx.Document(str(final.path)))
    assert "DỰ THẢO" not in text and "08/57" in text
    again = write_draft(engine, ref, "2024-H1", tmp_path)  # a draft of a locked period says so
    assert "Đã phê duyệt phiên bản 1 bởi Trần Văn Bình" in _text(docx.Document(str(again.path)))
