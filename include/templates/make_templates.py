"""Made the first version of the report templates from the city's H1-2024 report; kept for the record.

The .docx files beside this script are now the source: the office edits them in Word. Run this
only to start over from the seed report (it overwrites the templates):

    .venv/bin/python include/templates/make_templates.py --seed ../shared/seeds/report_H1_2024_haiphong.txt

It keeps the seed's prose and puts a placeholder wherever the report states a figure the warehouse
holds (`{{ pakn.received_new }}`), the period's words where the report names its period
(`{{ period.name }}`), and a chart where one helps (`{{ chart.feedback_funnel }}`). Every substitution
must match the seed exactly once, so a changed seed fails here rather than yielding a template with
a stale number in it. The seed's structure stays paragraph by paragraph: each heading (`I.`, `1.`),
lettered sub-heading (`a)`) and bullet (`- `) is its own paragraph, and the seed's notes (¹…⁵) are
Word footnotes at the foot of the page (they hold no figure: a draft checks only the body's
placeholders). Layout follows Nghị định 30/2020/NĐ-CP (see `cchc.outputs.docstyle`).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0]))  # include/: run as a script without installing

from cchc.common.sheets import SIGNER, SIGNER_NAME  # noqa: E402  (shared with the annex workbook)
from cchc.outputs import docstyle  # noqa: E402

# (text of the seed, text of the template): each must occur exactly once in the seed's body.
FIGURES = [
    (
        "báo cáo kết quả thực hiện cải cách hành chính nhà nước 6 tháng đầu năm và phương hướng nhiệm vụ thực hiện "
        "6 tháng cuối năm 2024",
        "báo cáo kết quả thực hiện cải cách hành chính nhà nước {{ period.name }} và phương "
        "hướng nhiệm vụ thực hiện {{ period.next_name }}",
    ),
    ("kết quả đạt 91,87 điểm", "kết quả đạt {{ index.par_score }}"),
    ("duy trì xếp hạng vị trí thứ 2/63", "duy trì xếp hạng vị trí thứ {{ index.par_rank }}/63"),
    ("xếp hạng vị trí thứ 5/63", "xếp hạng vị trí thứ {{ index.sipas_rank }}/63"),
    ("kết quả đạt 88,90%", "kết quả đạt {{ index.sipas_pct }}"),
    (
        "Tính đến 15/6/2024, thành phố đã thực hiện hoàn thành 08/57 nhiệm vụ",
        "Tính đến {{ period.as_of }}, thành phố đã thực hiện hoàn thành {{ plan.tasks_done }} nhiệm vụ",
    ),
    (
        "kiểm tra tại 06 sở, ngành và 06 quận, huyện",
        "kiểm tra tại {{ inspect.par_planned_depts|pad2 }} sở, ngành và {{ inspect.par_planned_districts|pad2 }} "
        "quận, huyện",
    ),
    ("thành lập 04 đoàn công tác", "thành lập {{ inspect.discipline_teams|pad2 }} đoàn công tác"),
    ("tại 05 sở, ban, ngành (", "tại {{ inspect.discipline_depts|pad2 }} sở, ban, ngành ("),
    ("Giáo dục và Đào tao", "Giáo dục và Đào tạo"),  # a typo of the seed's scan
    ("; 04 quận, huyện (Lê Chân", "; {{ inspect.discipline_districts|pad2 }} quận, huyện (Lê Chân"),
    (
        "và 10 xã, phường, thị trấn. Qua kiểm tra",
        "và {{ inspect.discipline_communes|pad2 }} xã, phường, thị trấn. Qua kiểm tra",
    ),
    (
        "6 tháng đầu năm 2024, các cơ quan báo chí thành phố đã đăng tải khoảng 1.150 tin",
        "{{ period.name|cap }}, các cơ quan báo chí thành phố đã đăng tải khoảng {{ comms.media_items }} tin",
    ),
    (
        "được Chính phủ, Thủ tướng Chính phủ giao 78 nhiệm vụ",
        "được Chính phủ, Thủ tướng Chính phủ giao {{ gov.tasks_assigned }} nhiệm vụ",
    ),
    ("- Hoàn thành 37 nhiệm vụ đúng hạn;", "- Hoàn thành {{ gov.tasks_done_on_time }} nhiệm vụ đúng hạn;"),
    (
        "- Đang thực hiện 41 nhiệm vụ trong hạn;",
        "- Đang thực hiện {{ gov.tasks_in_progress_on_time }} nhiệm vụ trong hạn;",
    ),
    (
        "- Không có nhiệm vụ quá hạn.",
        "- {% if gov.tasks_overdue.value == 0 %}Không có nhiệm vụ quá hạn"
        "{% else %}Quá hạn {{ gov.tasks_overdue|pad2 }} nhiệm vụ{% endif %}.",
    ),
    ("gồm 05 văn bản.", "gồm {{ inst.vbqppl_detail_list|pad2 }} văn bản."),
    ("đã phê duyệt 12 đề nghị", "đã phê duyệt {{ inst.vbqppl_proposals_approved|pad2 }} đề nghị"),
    (
        "đã ban hành 17 văn bản quy phạm pháp luật (trong đó có 06 văn bản thuộc nhiệm vụ xây dựng và trình ban hành "
        "năm 2024 và 11 văn bản",
        "đã ban hành {{ inst.vbqppl_issued|pad2 }} văn bản quy phạm pháp luật (trong đó có "
        "{{ inst.vbqppl_issued_2024_plan|pad2 }} văn bản thuộc nhiệm vụ xây dựng và trình ban hành năm 2024 và "
        "{{ inst.vbqppl_issued_2023_plan|pad2 }} văn bản",
    ),
    (
        "gồm 87 văn bản (66 văn bản hết hiệu lực toàn bộ, 01 văn bản ngưng hiệu lực toàn bộ, 20 văn bản hết hiệu "
        "lực một phần)",
        "gồm {{ inst.vbqppl_expired|pad2 }} văn bản ({{ inst.vbqppl_expired_full|pad2 }} văn bản hết "
        "hiệu lực toàn bộ, {{ inst.vbqppl_expired_suspended|pad2 }} văn bản ngưng hiệu lực toàn bộ, "
        "{{ inst.vbqppl_expired_partial|pad2 }} văn bản hết hiệu lực một phần)",
    ),
    ("tự kiểm tra 17 văn bản", "tự kiểm tra {{ inst.vbqppl_self_checked|pad2 }} văn bản"),
    ("đã ban hành **55** Quyết định", "đã ban hành {{ tthc.publication_decisions|pad2 }} Quyết định"),
    ("rà soát đối với 63 TTHC", "rà soát đối với {{ tthc.review_planned|pad2 }} TTHC"),
    ("đồng ý ủy quyền 04 TTHC", "đồng ý ủy quyền {{ tthc.delegated|pad2 }} TTHC"),
    (
        "đối với 11/43 thủ tục hành chính đã được công bố, đạt tỷ lệ 25,6%",
        "đối với {{ tthc.internal_simplified|pad2 }}/{{ tthc.internal_total|pad2 }} thủ tục hành chính đã được công "
        "bố, đạt tỷ lệ {{ tthc.internal_simplified_pct }}",
    ),
    (
        "Tổng số phản ánh, kiến nghị tiếp nhận mới: 192, số phản ánh, kiến nghị kỳ trước chuyển sang: 12, số phản ánh, "
        "kiến nghị đã hoàn thành: 138, số phản ánh, kiến nghị đang xử lý: 66 (trong hạn: 62, quá hạn 4).",
        "Tổng số phản ánh, kiến nghị phải xử lý: {{ pakn.total }}, trong đó tiếp nhận mới: {{ pakn.received_new }}, "
        "kỳ trước chuyển sang: {{ pakn.carried_over }}; số phản ánh, kiến nghị đã hoàn thành: {{ pakn.resolved }}, "
        "số phản ánh, kiến nghị đang xử lý: {{ pakn.in_progress }} (trong hạn: {{ pakn.in_progress_on_time }}, "
        "quá hạn {{ pakn.in_progress_overdue }}).",
    ),
    ("sắp xếp giảm 04¹ đơn vị", "sắp xếp giảm {{ org.units_reduced|pad2 }}¹ đơn vị"),
    (
        "đối với 44 trường hợp là cán bộ, công chức, viên chức theo quy định (38 đối tượng nghỉ hưu trước tuổi, "
        "06 đối tượng thôi việc)",
        "đối với {{ org.staff_streamlined|pad2 }} trường hợp là cán bộ, công chức, viên "
        "chức theo quy định ({{ org.staff_early_retirement|pad2 }} đối tượng nghỉ hưu trước tuổi, "
        "{{ org.staff_resigned|pad2 }} đối tượng thôi việc)",
    ),
    (
        "bao gồm: 36 cơ quan hành chính sở, ngành, địa phương (trong đó: 15 quận, huyện và 21 sở, ban, ngành và "
        "tương đương); 810 đơn vị sự nghiệp công lập",
        "bao gồm: {{ org.job_schemes_admin|pad2 }} cơ quan hành chính "
        "sở, ngành, địa phương (trong đó: {{ org.job_schemes_districts|pad2 }} quận, huyện và "
        "{{ org.job_schemes_depts|pad2 }} sở, ban, ngành và tương đương); {{ org.job_schemes_public_units|pad2 }} "
        "đơn vị sự nghiệp công lập",
    ),
    (
        "Điều động, bổ nhiệm 14 trường hợp²; bổ nhiệm lại, kéo dài 16 trường hợp³; giao quyền, giao phụ trách "
        "02 trường hợp⁴; nghỉ hưu 06 trường hợp⁵",
        "Điều động, bổ nhiệm {{ org.leaders_appointed|pad2 }} trường hợp²; "
        "bổ nhiệm lại, kéo dài {{ org.leaders_reappointed|pad2 }} trường hợp³; giao quyền, giao phụ trách "
        "{{ org.leaders_acting|pad2 }} trường hợp⁴; nghỉ hưu {{ org.leaders_retired|pad2 }} trường hợp⁵",
    ),
    (
        "trong cơ quan, tổ chức hành chính là 2.846 người",
        "trong cơ quan, tổ chức hành chính là {{ cs.civil_servant_quota }} người",
    ),
    (
        "trong đơn vị sự nghiệp công lập là 32.584 người",
        "trong đơn vị sự nghiệp công lập là {{ cs.public_employee_quota }} người",
    ),
    # the disbursement's own as-of date (the end of the month before the period's), not the report's
    ("Tính đến hết ngày 31/5/2024,", "Tính đến hết ngày {{ fin.invest_disbursed_bn.as_of }},"),
    (
        "của thành phố Hải Phòng đạt 4.048,546 tỷ đồng, bằng 23,79% kế hoạch Thủ tướng Chính phủ giao "
        "(17.019,198 tỷ đồng), bằng 20,27% kế hoạch thành phố giao (19.972,741 tỷ đồng). Trong đó: vốn cân đối "
        "ngân sách trung ương đã giải ngân là 133,370 tỷ đồng, đạt tỷ lệ 17,65%; vốn cân đối ngân sách địa phương "
        "đã giải ngân là 3.915,176 tỷ đồng, đạt tỷ lệ 20,37%",
        "của thành phố Hải Phòng đạt {{ fin.invest_disbursed_bn }}, bằng {{ fin.invest_disbursed_pct_pm }} kế hoạch "
        "Thủ tướng Chính phủ giao ({{ fin.invest_plan_pm_bn }}), bằng {{ fin.invest_disbursed_pct_city }} kế hoạch "
        "thành phố giao ({{ fin.invest_plan_city_bn }}). Trong đó: vốn cân đối ngân sách trung ương đã giải ngân là "
        "{{ fin.invest_central_disbursed_bn }}, đạt tỷ lệ {{ fin.invest_central_disbursed_pct }}; vốn cân đối ngân "
        "sách địa phương đã giải ngân là {{ fin.invest_local_disbursed_bn }}, đạt tỷ lệ "
        "{{ fin.invest_local_disbursed_pct }}",
    ),
    (
        "với 14 nhiệm vụ triển khai thường xuyên, 39 nhiệm vụ chuyển tiếp",
        "với {{ egov.plan325_regular_tasks|pad2 }} nhiệm vụ triển khai thường xuyên, "
        "{{ egov.plan325_carried_tasks|pad2 }} nhiệm vụ chuyển tiếp",
    ),
    (
        "cho 35/35 sở, ban, ngành, quận, huyện, 217/217 xã, phường, thị trấn; cung cấp 1.317 dịch vụ công trực tuyến "
        "toàn trình và 386 dịch vụ công trực tuyến một phần",
        "cho {{ egov.tthc_system_agencies }}/{{ egov.tthc_system_agencies_expected }} sở, ban, ngành, quận, huyện, "
        "{{ egov.tthc_system_communes }}/{{ egov.tthc_system_communes_expected }} xã, phường, thị trấn; cung cấp "
        "{{ egov.online_services_full }} dịch vụ công trực tuyến toàn trình và {{ egov.online_services_partial }} "
        "dịch vụ công trực tuyến một phần",
    ),
    (
        "sẽ thực hiện kiểm tra tại 78 đơn vị",
        "sẽ thực hiện kiểm tra tại {{ egov.iso9001_inspection_units|pad2 }} đơn vị",
    ),
    ("trong 6 tháng đầu năm 2024 đã thực hiện sắp xếp", "trong {{ period.name }} đã thực hiện sắp xếp"),
    (
        "cải cách hành chính nhà nước 6 tháng đầu năm, phương hướng thực hiện nhiệm vụ 6 tháng cuối năm 2024",
        "cải cách hành chính nhà nước {{ period.name }}, phương hướng thực hiện nhiệm vụ {{ period.next_name }}",
    ),
]
# The period's own words, wherever else the seed names its period.
PERIOD_WORDS = [
    ("6 THÁNG ĐẦU NĂM 2024", "{{ period.name|upper }}"),
    ("6 THÁNG CUỐI NĂM 2024", "{{ period.next_name|upper }}"),
    ("Nhiệm vụ 6 tháng cuối năm 2024", "Nhiệm vụ {{ period.next_name }}"),
    ("6 tháng đầu năm 2024", "{{ period.name }}"),
]
# Added after the PAKN sentence: the seed states no dossier figures, the warehouse holds them. Biểu 06's
# "received" counts the files carried over from the period before: the sentence says so, and its parts
# add up (received = carried over + received in the period; in the period = online + direct).
DOSSIERS = (
    "- Về giải quyết hồ sơ thủ tục hành chính (Biểu 06/VPCP/KSTT): các cơ quan, đơn vị đã tiếp nhận "
    "{{ dossier.received }} hồ sơ (kỳ trước chuyển sang {{ dossier.carried_over }}; tiếp nhận trong kỳ "
    "{{ dossier.received_in_period }}, trong đó trực tuyến {{ dossier.received_online }}, trực tiếp và qua "
    "dịch vụ bưu chính {{ dossier.received_direct }}); đã giải quyết {{ dossier.resolved }} hồ sơ (trước "
    "hạn {{ dossier.resolved_early }}, đúng hạn {{ dossier.resolved_on_time }}, quá hạn "
    "{{ dossier.resolved_late }}), đạt tỷ lệ giải quyết trước và đúng hạn {{ dossier.resolved_on_time_pct }}; "
    "đang giải quyết {{ dossier.in_progress }} hồ sơ (trong hạn {{ dossier.in_progress_on_time }}, quá hạn "
    "{{ dossier.in_progress_overdue }})."
)
# A chart after the paragraph that starts with this text.
CHARTS_AFTER = [
    ("Thành phố chỉ đạo và phân công các Sở", "plan_tasks"),
    ("Tổng số phản ánh, kiến nghị phải xử lý", "feedback_funnel"),
    ("- Về giải ngân vốn đầu tư công", "disbursement"),
    ("- Hệ thống Thông tin giải quyết thủ tục hành chính thành phố", "online_services"),
]
# Blocks of the scanned seed that continue the paragraph before them though they start upper-case.
CONTINUES = ("Phòng năm 2024-2025.",)
# The tail of footnote 2, printed on the next page after the first bullet of II.5.
NOTE_TAIL = "Thương binh và Xã hội; (7)"
LETTERED = re.compile(r"^[a-dđ]\) ")
FOOTNOTE_MARKS = docstyle.FOOTNOTE_MARKS


def _blocks(body: str) -> list[str]:
    """The body's blocks (between blank lines), one line each; a block of bullets lines ("- …" with
    no blank line between them, as I.5's three) gives one block per bullet."""
    blocks = []
    for block in re.split(r"\n\s*\n", body):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if len(lines) > 1 and all(line.startswith("- ") for line in lines):
            blocks += lines
        elif lines:
            blocks.append(" ".join(lines))
    return blocks


def seed_paragraphs(seed: str) -> list[tuple[str, list[str]]]:
    """The seed's body (after 'Kính gửi', up to the closing sentence) as (paragraph, its footnotes).

    The seed is text taken from a printed PDF: paragraphs broken at page ends continue in the next
    block (lower-case start, but not a lettered sub-heading "a) …"; or a page-break list above), and
    footnotes sit where the page ended, a long one broken over two pages like the text.
    """
    body = seed.split("Kính gửi: Bộ Nội vụ", 1)[1].split("Nơi nhận:", 1)[0]
    paras: list[list] = []  # [text, footnotes]
    for b in _blocks(body):
        if b[0] in FOOTNOTE_MARKS:
            owner = next(p for p in reversed(paras) if b[0] in p[0])
            owner[1].append(b)
            continue
        if b.startswith(NOTE_TAIL):  # the last note seen so far is the one broken at the page end
            note_owner = next(p for p in reversed(paras) if p[1])
            note_owner[1][-1] += " " + b
            continue
        continues = (b[0].islower() and not LETTERED.match(b)) or re.match(r"\d+/\d{4}", b) or b.startswith(CONTINUES)
        if continues and paras:
            paras[-1][0] += " " + b
        else:
            paras.append([b, []])
    return [(t, n) for t, n in paras]


def substitute(paras: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    text = "\n".join(t for t, _ in paras)
    for old, new in FIGURES:
        n = text.count(old)
        if n != 1:
            raise SystemExit(f"seed text found {n} times (expected once): {old[:80]}")
        text = text.replace(old, new)
    for old, new in PERIOD_WORDS:
        text = text.replace(old, new)
    lines = text.split("\n")
    assert len(lines) == len(paras)
    return [(line, notes) for line, (_, notes) in zip(lines, paras, strict=True)]


def heading_level(text: str) -> int:
    """0 body; 1 `I. …`; 2 `1. …`; 3 `a) …`."""
    if re.match(r"^(I|II|III|IV|V|VI)\. ", text):
        return 1
    if re.match(r"^\d+\. [A-ZĐÂ]", text) and len(text) < 200:
        return 2
    if re.match(r"^[a-dđ]\) ", text) and len(text) < 120:
        return 3
    return 0


def city_document(
    kind: str,
    subject: str,
    addressee: str,
    issuer=("ỦY BAN NHÂN DÂN", "THÀNH PHỐ HẢI PHÒNG"),
    number: str = "Số:        /BC-UBND",
    author: str = "",
):
    """A new document of the city (its People's Committee, or the Committee's office): heading block,
    kind, subject, addressee; `author` (the issuer, as the document's properties name it) is kept by
    every draft rendered from it."""
    doc = docstyle.new_document(author or docstyle.issuer_name())
    docstyle.heading_block(
        doc, issuer=issuer, number=number, place_date="Hải Phòng, ngày      tháng      năm {{ period.year }}"
    )
    docstyle.title(doc, kind, subject)
    docstyle.addressee(doc, addressee)
    return doc


def period_template(seed: str, out: Path) -> None:
    doc = city_document(
        "BÁO CÁO",
        "Kết quả thực hiện công tác cải cách hành chính {{ period.name }} và phương "
        "hướng, nhiệm vụ {{ period.next_name }} của thành phố Hải Phòng",
        "Kính gửi: Bộ Nội vụ",
    )
    charts = dict(CHARTS_AFTER)
    for text, notes in substitute(seed_paragraphs(seed)):
        docstyle.paragraph(doc, text, heading_level(text), notes)
        if text.startswith("Tổng số phản ánh, kiến nghị phải xử lý"):
            docstyle.paragraph(doc, DOSSIERS)
        for start, key in charts.items():
            if text.startswith(start):
                docstyle.chart_placeholder(doc, key)
    docstyle.signature_block(
        doc,
        recipients=[
            "Văn phòng Chính phủ;",
            "TTTU, TTHĐND TP;",
            "CT, các PCT UBND TP;",
            "Các sở, ban, ngành thuộc UBNDTP;",
            "UBND các quận, huyện;",
            "CVP, các PCVP UBNDTP;",
            "Các Phòng: KSTTHC, HCTC;",
            "Lưu: VT, KSTTHC1.",
        ],
        signer=list(SIGNER),
        name=SIGNER_NAME,
    )
    docstyle.annex(
        doc,
        "Phụ lục II",
        "TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC CƠ QUAN, ĐƠN VỊ {{ period.name|upper }}",
        "Số liệu trong báo cáo được tổng hợp từ báo cáo của {{ report.units_reported }}/"
        "{{ report.units_expected }} cơ quan, đơn vị phải báo cáo (số liệu tính đến {{ period.as_of }}).",
        "completeness",
    )
    doc.save(out)


def _week_document():
    return city_document(
        "BÁO CÁO NHANH",
        "Tình hình thực hiện cải cách hành chính {{ period.name }} (từ {{ period.start }} đến {{ period.end }})",
        "Kính gửi: Chủ tịch Ủy ban nhân dân thành phố",
        issuer=("UBND THÀNH PHỐ HẢI PHÒNG", "VĂN PHÒNG"),
        number="Số:        /BC-VP",
        author=f"Văn phòng {docstyle.issuer_name()}",
    )


def _week_signature(doc) -> None:
    docstyle.signature_block(
        doc,
        recipients=["Như trên;", "Lưu: VT, KSTTHC."],
        signer=["KT. CHÁNH VĂN PHÒNG", "PHÓ CHÁNH VĂN PHÒNG"],
        name="",
    )


def empty_week_template(out: Path) -> None:
    """The flash report of a week for which no unit has sent anything yet this year: it says so (a
    week without files is news for the leaders, not a fault of the pipeline)."""
    doc = _week_document()
    for text in [
        "Tính đến hết {{ period.end }}, chưa có cơ quan, đơn vị nào gửi báo cáo cải cách hành chính năm "
        "{{ period.year }}, nên {{ period.name }} không có số liệu lũy kế để tổng hợp.",
        "Văn phòng Ủy ban nhân dân thành phố tiếp tục đôn đốc các cơ quan, đơn vị gửi báo cáo và sẽ báo cáo "
        "nhanh khi có số liệu.",
    ]:
        docstyle.paragraph(doc, text, heading_level(text))
    _week_signature(doc)
    doc.save(out)


def week_template(out: Path) -> None:
    """The leaders' weekly flash report: one page, the year-to-date figures of the roll-up."""
    doc = _week_document()
    for text in [
        "Văn phòng Ủy ban nhân dân thành phố báo cáo nhanh tình hình thực hiện cải cách hành chính lũy kế từ đầu "
        "năm đến hết {{ period.name }} (số liệu của {{ report.units_reported }} cơ quan, đơn vị) như sau:",
        "1. Kế hoạch cải cách hành chính năm",
        "Tính đến {{ period.as_of }}, thành phố đã hoàn thành {{ plan.tasks_done }} nhiệm vụ của Kế hoạch cải "
        "cách hành chính năm {{ period.year }}.",
        "2. Tiếp nhận, xử lý phản ánh, kiến nghị",
        "Tiếp nhận mới {{ pakn.received_new }} phản ánh, kiến nghị; đã hoàn thành {{ pakn.resolved }}.",
        "3. Giải quyết hồ sơ thủ tục hành chính",
        "Tiếp nhận {{ dossier.received }} hồ sơ (kể cả {{ dossier.carried_over }} hồ sơ kỳ trước chuyển sang); "
        "đã giải quyết {{ dossier.resolved }} hồ sơ.",
        "4. Đề xuất",
        "(Văn phòng Ủy ban nhân dân thành phố ghi đề xuất, kiến nghị của tuần.)",
    ]:
        docstyle.paragraph(doc, text, heading_level(text))
    _week_signature(doc)
    doc.save(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", required=True, type=Path)
    args = p.parse_args()
    seed = args.seed.read_text(encoding="utf-8")
    period_template(seed, HERE / "bao_cao_ky.docx")
    week_template(HERE / "bao_cao_nhanh_tuan.docx")
    empty_week_template(HERE / "bao_cao_nhanh_tuan_chua_co_so_lieu.docx")
    print(f"Đã ghi / wrote {HERE / 'bao_cao_ky.docx'}, {HERE / 'bao_cao_nhanh_tuan.docx'}, …_chua_co_so_lieu.docx")


if __name__ == "__main__":
    main()
