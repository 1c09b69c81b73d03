"""The report the city signs: the H1-2024 draft from the 253 sample files, checked as a person sees it.

Its text must hold the seed report's figures in Vietnamese notation, each figure with a Word
comment saying how it was made; the layout must be Nghị định 30/2020's (A4, margins, Times New
Roman 14 pt, page numbers from page 2); no placeholder, None or nan may show; LibreOffice must
print it on A4 with the diacritics intact. The seed's structure is kept paragraph by paragraph
(headings, lettered sub-headings, bullets) and its notes are Word footnotes printed at the foot of
the page, whole; the document names the city as its author, in Vietnamese, with nothing of
python-docx left; sentences around figures add up. A template with an unknown placeholder, a
malformed one, or one with no value for the period fails naming it and quoting its paragraph.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from conftest import GOLDEN, ROOT, copy_files

from cchc.common.vn import format_number

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
SEED = ROOT.parent / "shared" / "seeds" / "report_H1_2024_haiphong.txt"
NOTE_MARKS = "¹²³⁴⁵⁶⁷⁸⁹"
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
    "sắp xếp giảm 04 đơn vị",
    "đối với 44 trường hợp",
    "(38 đối tượng nghỉ hưu trước tuổi, 06 đối tượng thôi việc)",
    "36 cơ quan hành chính sở, ngành, địa phương (trong đó: 15 quận, huyện và 21 sở, ban, ngành và tương đương); "
    "810 đơn vị sự nghiệp công lập",
    "Điều động, bổ nhiệm 14 trường hợp; bổ nhiệm lại, kéo dài 16 trường hợp; giao quyền, giao phụ trách 02 "
    "trường hợp; nghỉ hưu 06 trường hợp",
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
    "Tính đến hết ngày 31/5/2024, kế hoạch đầu tư công năm 2024",  # the disbursement's own as-of date
    "trong đó có nhiều sáng kiến về cải cách hành chính như: (1)",
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


@pytest.fixture(scope="module")
def h1_pdf(h1_draft) -> Path:
    """The draft printed by LibreOffice headless (the fonts of tests/fonts.conf)."""
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
    return out / (path.stem + ".pdf")


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
    # the 57 of "08/57", and the report says "nhiều sáng kiến" where the decision recognised 16 (its
    # list after "như:" is not all of them): every other golden figure is in the text, its comment
    # on exactly its digits (counts under ten written with two digits, as the report does: 04).
    skipped = ("gov.tasks_overdue", "plan.tasks_total", "innovation.initiatives_recognised")
    expected = {c for c in golden if c not in skipped}
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


def test_libreoffice_prints_the_draft_on_a4_with_diacritics(h1_pdf):
    pdf = h1_pdf
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


# --- the seed's structure and notes, the document's identity, sentences that add up ------------------

HEADING = re.compile(r"(I|II|III|IV)\. |\d+\. [A-ZĐÂ]")
LETTERED = re.compile(r"[a-dđ]\) ")


def _seed_body() -> str:
    """The seed's body, after "Kính gửi" and before "Nơi nhận", without its `*italic*`/`**bold**` marks."""
    text = SEED.read_text(encoding="utf-8").split("Kính gửi: Bộ Nội vụ", 1)[1].split("Nơi nhận:", 1)[0]
    return text.replace("*", "")


def _seed_notes() -> list[str]:
    """The seed's notes without their marks, each whole: note ² breaks at its page's foot after "(6) Giám
    đốc Sở Lao động -" and goes on at the next page's foot ("Thương binh và Xã hội; (7) …")."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", _seed_body()) if b.strip()]
    notes = [b for b in blocks if b[0] in NOTE_MARKS]
    notes[1] += " " + next(b for b in blocks if b.startswith("Thương binh và Xã hội; (7)"))
    return [n[1:].strip() for n in notes]


def _cited_after() -> list[str]:
    """The words before each note mark of the seed's text, in order (`sắp xếp giảm 04`)."""
    text = re.sub(r"\s+", " ", "\n".join(b for b in _seed_body().split("\n") if b.strip()[:1] not in NOTE_MARKS))
    return [text[: m.start()][-15:] for m in re.finditer(f"[{NOTE_MARKS}]", text)]


def test_each_heading_sub_heading_and_bullet_is_its_own_paragraph_in_the_seeds_style(h1_draft):
    import docx
    from docx.shared import Cm

    path, *_ = h1_draft
    paragraphs = docx.Document(str(path)).paragraphs
    texts = [p.text for p in paragraphs]
    lines = [re.sub(f"[{NOTE_MARKS}]", "", line.strip()) for line in _seed_body().split("\n") if line.strip()]
    found = {"heading": 0, "lettered": 0, "bullet": 0}
    pos = 0
    for line in lines:
        kind = "heading" if HEADING.match(line) else "lettered" if LETTERED.match(line) else None
        kind = kind or ("bullet" if line.startswith("- ") else None)
        if kind is None:
            continue
        # a heading is the whole paragraph; a bullet begins one (the draft corrects a typo further on)
        want = line if kind != "bullet" else line[:60]
        i = next((j for j in range(pos, len(texts)) if texts[j].startswith(want)), None)
        assert i is not None, f"not a paragraph of its own: {line[:80]}"
        assert not any(want[:40] in t and not t.startswith(want[:40]) for t in texts), f"run into another: {want}"
        if kind != "bullet":
            assert texts[i] == want, texts[i][:120]
        p, pos = paragraphs[i], i + 1
        runs = [r for r in p.runs if r.text.strip()]
        bold, italic = {bool(r.bold) for r in runs}, {bool(r.italic) for r in runs}
        style = {"heading": ({True}, {False}), "lettered": ({True}, {True})}.get(kind)
        if style:
            assert (bold, italic) == style and p.paragraph_format.keep_with_next, (kind, line)
        else:
            assert not runs[0].bold, line
        assert Cm(1) <= p.paragraph_format.first_line_indent <= Cm(1.27)  # Nghị định 30: 1 cm or 1,27 cm
        found[kind] += 1
    assert found == {"heading": 20, "lettered": 4, "bullet": sum(1 for x in lines if x.startswith("- "))}
    # I.5's three bullets, one paragraph each; "a)" its own paragraph under "1. Cải cách thể chế"
    i = texts.index("- Hoàn thành 37 nhiệm vụ đúng hạn;")
    assert texts[i + 1 : i + 3] == ["- Đang thực hiện 41 nhiệm vụ trong hạn;", "- Không có nhiệm vụ quá hạn."]
    i = texts.index("1. Cải cách thể chế")
    assert texts[i + 1] == "a) Công tác xây dựng, ban hành văn bản quy phạm pháp luật"


def test_the_seeds_notes_are_word_footnotes_whole_and_cited_where_the_seed_cites_them(h1_draft):
    import docx

    path, *_ = h1_draft
    with zipfile.ZipFile(path) as z:
        notes_xml, body = ET.fromstring(z.read("word/footnotes.xml")), ET.fromstring(z.read("word/document.xml"))
        styles = z.read("word/styles.xml").decode()
        assert "wordprocessingml.footnotes+xml" in z.read("[Content_Types].xml").decode()
        assert "relationships/footnotes" in z.read("word/_rels/document.xml.rels").decode()
    notes = {
        f.get(W + "id"): "".join(t.text or "" for t in f.iter(W + "t")).strip()
        for f in notes_xml.findall(W + "footnote")
        if f.get(W + "type") is None  # not the separators
    }
    refs = [r.get(W + "id") for r in body.iter(W + "footnoteReference")]
    assert len(notes) == 5 and sorted(refs) == sorted(notes)
    assert [notes[i] for i in refs] == _seed_notes()  # Word numbers them in the order of reference: ¹…⁵
    assert notes[refs[1]].endswith("(12) Phó Giám đốc Đài Phát thanh và Truyền hình Hải Phòng.")
    # each reference right after the words the seed puts its mark after, in the Footnote Reference style
    before = []
    for p in body.iter(W + "p"):
        text = ""
        for el in p.iter():
            if el.tag == W + "t":
                text += el.text or ""
            elif el.tag == W + "footnoteReference":
                before.append(text)
    assert [b[-15:] for b in before] == _cited_after(), before
    assert styles.count('w:styleId="FootnoteText"') == 1 and '<w:name w:val="footnote text"/>' in styles
    assert styles.count('w:styleId="FootnoteReference"') == 1 and '<w:name w:val="footnote reference"/>' in styles
    # nothing of the notes in the body: no marks, no tail of note ² in II.5's first bullet
    text = _text(docx.Document(str(path)))
    assert not re.search(f"[{NOTE_MARKS}]", text)
    assert "(7) Phó Giám đốc Sở Văn hóa" not in text and "Thương binh và Xã hội; (7)" not in text
    seed = _seed_body()
    first = (
        re.search(r"- Ngày 12/12/2023[^\n]*", seed).group(0)
        + " "
        + re.search(r"các ngành, các đơn vị;[^\n]*", seed).group(0)
    )
    assert first in text.split("\n")


def _pdf_lines(pdf: Path, page: int) -> list[tuple[float, float, float, str]]:
    """The lines of a printed page below the header (top margin 20 mm): (top, bottom, height of the
    tallest word, text without spaces: pdftotext cuts words at some diacritics)."""
    xml = subprocess.run(
        ["pdftotext", "-bbox-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    out = []
    for m in re.finditer(r'<line xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">(.*?)</line>', xml, re.S):
        words = re.findall(r'<word [^>]*yMin="([\d.]+)"[^>]*yMax="([\d.]+)">([^<]*)</word>', m.group(3))
        top, bottom = float(m.group(1)), float(m.group(2))
        if bottom > 20 / 25.4 * 72:
            out.append((top, bottom, max(float(b) - float(a) for a, b, _ in words), "".join(w for *_, w in words)))
    return out


def test_libreoffice_prints_each_note_whole_at_the_foot_of_the_page_that_cites_it(h1_pdf):
    import html

    info = subprocess.run(["pdfinfo", str(h1_pdf)], capture_output=True, text=True, check=True).stdout
    pages = {n: _pdf_lines(h1_pdf, n) for n in range(1, int(re.search(r"Pages:\s+(\d+)", info).group(1)) + 1)}

    def joined(lines) -> str:
        return html.unescape("".join(t for *_, t in lines))

    everything = "".join(joined(lines) for lines in pages.values())
    for note, cited in zip(_seed_notes(), _cited_after(), strict=True):
        flat = re.sub(r"\s+", "", note)
        page = next((n for n, lines in pages.items() if flat[:30] in joined(lines)), None)
        assert page, f"note not printed: {note[:60]}"
        lines = pages[page]
        body_size = max(h for *_, h, _ in lines)
        body = [line for line in lines if line[2] > body_size - 1]
        small = [line for line in lines if line[2] <= body_size - 1]  # notes are printed smaller
        first = next(line for line in small if flat[:12] in line[3])
        assert first[0] > max(bottom for _, bottom, *_ in body), (note[:40], page)  # under all the text
        rest = [line for line in pages.get(page + 1, []) if line[2] <= body_size - 1]
        assert flat in joined(small) + joined(rest), note[:40]  # whole (a long note may go on overleaf)
        assert everything.count(flat[:30]) == 1
        assert re.sub(r"\s+", "", cited) in joined(body), (cited, page)  # on the page that cites it
    assert everything.count("(7)PhóGiámđốcSởVănhóa") == 1


def test_the_draft_says_who_made_it_and_when_in_vietnamese(h1_draft):
    import docx

    from cchc.outputs.draft import COMMENT_AUTHOR

    path, *_ = h1_draft
    doc = docx.Document(str(path))
    cp = doc.core_properties
    issuer = " ".join(p.text for p in doc.tables[0].rows[0].cells[0].paragraphs[:2])  # the heading block
    assert issuer == "ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG"
    assert cp.author.upper() == issuer and cp.last_modified_by == cp.author
    saved = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    assert cp.created == cp.modified and dt.timedelta(0) <= saved - cp.created < dt.timedelta(minutes=10)
    assert cp.language == "vi-VN" and cp.comments == "" and cp.title == "Báo cáo CCHC 6 tháng đầu năm 2024"
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    styles = ET.fromstring(parts["word/styles.xml"])
    lang = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang")
    assert (lang.get(W + "val"), lang.get(W + "eastAsia")) == ("vi-VN", "vi-VN")  # every run inherits it
    assert ET.fromstring(parts["word/settings.xml"]).find(W + "themeFontLang").get(W + "val") == "vi-VN"
    for name, data in parts.items():
        for trace in (b"python-docx", b"2013-12-23", b"en-US", b"Macintosh"):
            assert trace not in data, (trace, name)
    assert not [n for n in parts if "thumbnail" in n] and b"thumbnail" not in parts["_rels/.rels"]
    # the comments are the consolidation system's, named in Vietnamese
    assert {c.author for c in doc.comments} == {COMMENT_AUTHOR} and COMMENT_AUTHOR.startswith("Hệ thống")


def _count(text: str) -> int:
    return int(text.replace(".", ""))


def test_the_dossier_sentence_adds_up(h1_draft):
    import docx

    path, *_ = h1_draft
    text = re.sub(r"\s+", " ", _text(docx.Document(str(path))))
    n = r"([\d.]+)"
    m = re.search(
        rf"đã tiếp nhận {n} hồ sơ \(kỳ trước chuyển sang {n}; tiếp nhận trong kỳ {n}, trong đó trực tuyến {n}, "
        rf"trực tiếp và qua dịch vụ bưu chính {n}\); đã giải quyết {n} hồ sơ \(trước hạn {n}, đúng hạn {n}, "
        rf"quá hạn {n}\), đạt tỷ lệ giải quyết trước và đúng hạn ([\d,]+)%; đang giải quyết {n} hồ sơ "
        rf"\(trong hạn {n}, quá hạn {n}\)",
        text,
    )
    assert m, text[text.find("Biểu 06") - 50 :][:600]
    pct = Decimal(m.group(10).replace(",", "."))
    received, carried, in_period, online, direct, resolved, early, on_time, late, _, open_, ok, over = (
        _count(g) if i != 9 else 0 for i, g in enumerate(m.groups())
    )
    assert received == carried + in_period and in_period == online + direct
    assert resolved == early + on_time + late and open_ == ok + over and received == resolved + open_
    assert pct == (Decimal(100 * (early + on_time)) / resolved).quantize(Decimal("0.01"))


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

    # a figure has a value and an as-of date, nothing else
    attr = spoil(" {{ fin.invest_disbursed_bn.ngay }}", "attr.docx")
    with pytest.raises(TemplateError, match=r"\{\{ fin\.invest_disbursed_bn\.ngay \}\} — .* a figure has no `\.ngay`"):
        write_draft(engine, ref, "2024-H1", tmp_path / "out", template=attr)

    # a placeholder in a footnote would be filled unchecked: refused, quoting the note
    in_note = tmp_path / "in_note.docx"
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(in_note, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/footnotes.xml":
                data = data.replace(
                    "Phòng công chứng số 5".encode(), "Phòng công chứng số {{ org.units_reduced }}".encode()
                )
            dst.writestr(item, data)
    with pytest.raises(TemplateError, match=r"chú thích cuối trang: «Phòng công chứng số \{\{ org\.units_reduced \}\}"):
        write_draft(engine, ref, "2024-H1", tmp_path / "out", template=in_note)

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
    # the office's report: it says so, in Vietnamese, drafted now; its dossier total says what it includes
    doc = docx.Document(str(d.path))
    office = [p.text for p in doc.tables[0].rows[0].cells[0].paragraphs[:2]]
    assert office == ["UBND THÀNH PHỐ HẢI PHÒNG", "VĂN PHÒNG"]
    cp = doc.core_properties
    assert cp.author.upper() == "VĂN PHÒNG ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG" and cp.last_modified_by == cp.author
    assert cp.language == "vi-VN" and cp.created == cp.modified
    m = re.search(r"Tiếp nhận ([\d.]+) hồ sơ \(kể cả ([\d.]+) hồ sơ kỳ trước chuyển sang\)", text)
    assert m and _count(m.group(1)) > _count(m.group(2)), text
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
