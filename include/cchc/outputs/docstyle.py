"""The layout of a state administrative document (Nghị định 30/2020/NĐ-CP), in python-docx.

A4 portrait; margins top and bottom 20 mm, left 30 mm, right 15 mm; Times New Roman 14 pt body,
justified, first line indented, 6 pt between paragraphs; the page number centred in the header from
page 2 on; the heading block (issuing body and number left, national motto and place-date right),
the document's kind and subject, "Kính gửi", and at the end "Nơi nhận" beside the signature.
Used to make the report templates and, when a draft is rendered, to add chart captions.
"""

from __future__ import annotations

import re

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt

FONT = "Times New Roman"
BODY_PT = 14
PAGE = {"width": Mm(210), "height": Mm(297), "top": Mm(20), "bottom": Mm(20), "left": Mm(30), "right": Mm(15)}
TEXT_WIDTH = PAGE["width"] - PAGE["left"] - PAGE["right"]  # 165 mm
INDENT = Cm(1.27)


def _fonts(rpr_owner, size: float | None = None) -> None:
    """Times New Roman for every script slot: Word picks the east-Asian/complex slot for some
    Vietnamese letters when only `ascii` is set, and LibreOffice then prints them in another font."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), FONT)
    if size is not None:
        for tag in ("w:sz", "w:szCs"):
            el = rpr.find(qn(tag))
            if el is None:
                el = OxmlElement(tag)
                rpr.append(el)
            el.set(qn("w:val"), str(int(size * 2)))


def new_document():
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE["width"], PAGE["height"]
    section.top_margin, section.bottom_margin = PAGE["top"], PAGE["bottom"]
    section.left_margin, section.right_margin = PAGE["left"], PAGE["right"]
    section.header_distance = section.footer_distance = Mm(10)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(BODY_PT)
    _fonts(normal.element, BODY_PT)
    fmt = normal.paragraph_format
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(6), 1.15
    for name in ("Header", "Footer"):
        doc.styles[name].font.name = FONT
        _fonts(doc.styles[name].element, 13)
    # Page numbers from page 2: the first page has its own (empty) header.
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(p, "PAGE")
    return doc


def _field(paragraph, instruction: str) -> None:
    for kind, text in (("begin", None), (None, instruction), ("separate", None), (None, "2"), ("end", None)):
        run = paragraph.add_run()
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        elif text == instruction:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {instruction} "
        else:
            el = OxmlElement("w:t")
            el.text = text
        run._r.append(el)


def _runs(paragraph, text: str, bold: bool = False, italic: bool = False, size: float | None = None) -> None:
    """Text with the seed's `*italic*` and `**bold**` marks as runs; placeholders stay whole in one run."""
    for part in re.split(r"(\*\*[^*]+\*\*|\*[^*]+\*)", text):
        if not part:
            continue
        b, i = bold, italic
        if part.startswith("**"):
            part, b = part[2:-2], True
        elif part.startswith("*"):
            part, i = part[1:-1], True
        run = paragraph.add_run(part)
        run.bold, run.italic = b or None, i or None
        if size:
            run.font.size = Pt(size)


def _para(
    container,
    text: str = "",
    align=WD_ALIGN_PARAGRAPH.CENTER,
    bold=False,
    italic=False,
    size=None,
    after: float = 0,
    indent=None,
):
    p = container.add_paragraph()
    p.alignment = align
    p.paragraph_format.space_after = Pt(after)
    p.paragraph_format.first_line_indent = indent if indent is not None else Cm(0)
    if text:
        _runs(p, text, bold, italic, size)
    return p


def _rule(container, width) -> None:
    """The short horizontal line under the issuing body's name and under the motto."""
    p = _para(container, size=2)
    p.paragraph_format.line_spacing = Pt(2)
    margin = ((getattr(container, "width", None) or TEXT_WIDTH) - width) // 2
    p.paragraph_format.left_indent = p.paragraph_format.right_indent = margin
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    p._p.get_or_add_pPr().append(bdr)


def _table(doc, widths):
    table = doc.add_table(rows=1, cols=len(widths))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for col, w in zip(table.columns, widths, strict=True):  # the grid: LibreOffice sizes by it
        col.width = w
    for cell, w in zip(table.rows[0].cells, widths, strict=True):
        cell.width = w
        cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
    return table.rows[0].cells


def heading_block(doc, issuer: tuple[str, str], number: str, place_date: str) -> None:
    left, right = _table(doc, (Mm(65), Mm(105)))
    _para(left, issuer[0], size=13)
    _para(left, issuer[1], bold=True, size=13)
    _rule(left, Mm(22))
    _para(left, number, size=13, after=0).paragraph_format.space_before = Pt(6)
    _para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, size=13)
    _para(right, "Độc lập - Tự do - Hạnh phúc", bold=True, size=14)
    _rule(right, Mm(60))
    _para(right, place_date, italic=True, size=14).paragraph_format.space_before = Pt(6)


def title(doc, kind: str, subject: str) -> None:
    _para(doc, kind, bold=True, size=14).paragraph_format.space_before = Pt(18)
    _para(doc, subject, bold=True, size=14, after=0)
    _rule(doc, Mm(40))


def addressee(doc, text: str) -> None:
    p = _para(doc, text, size=14, after=12)
    p.paragraph_format.space_before = Pt(12)


def paragraph(doc, text: str, level: int = 0) -> None:
    """A body paragraph (level 0) or a heading `I.` (1), `1.` (2), `a)` (3); all indented as body."""
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    p.paragraph_format.first_line_indent = INDENT
    if level:
        p.paragraph_format.keep_with_next = True
        p.paragraph_format.space_before = Pt(6)
    _runs(p, text, bold=level in (1, 2, 3), italic=level == 3)


def footnote(doc, text: str) -> None:
    """A note of the seed (¹, ²…), printed small under the paragraph that cites it."""
    p = _para(doc, text, align=WD_ALIGN_PARAGRAPH.JUSTIFY, size=11, after=6, indent=INDENT)
    p.paragraph_format.left_indent = Cm(0.5)


def chart_placeholder(doc, key: str) -> None:
    p = _para(doc, f"{{{{ chart.{key} }}}}", after=0)
    p.paragraph_format.keep_with_next = True


def caption_after(paragraph, text: str):
    """Insert "Biểu đồ N. …" after a chart's paragraph (numbered when the draft is rendered)."""
    from docx.text.paragraph import Paragraph

    new = OxmlElement("w:p")
    paragraph._p.addnext(new)
    p = Paragraph(new, paragraph._parent)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = Cm(0)
    p.paragraph_format.space_after = Pt(12)
    _runs(p, text, italic=True, size=13)
    return p


def draft_mark(doc, status: str) -> None:
    """ "DỰ THẢO" at the top right of page 1, with the figures' status, so a printed draft is never
    taken for the signed report (the final report has no mark)."""
    from docx.text.paragraph import Paragraph

    body = doc.element.body
    for text, bold, size in ((status, False, 11), ("DỰ THẢO", True, 13)):
        el = OxmlElement("w:p")
        body.insert(0, el)
        p = Paragraph(el, doc._body)
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        p.paragraph_format.first_line_indent = Cm(0)
        p.paragraph_format.space_after = Pt(0 if bold else 6)
        _runs(p, text, bold=bold, italic=not bold, size=size)


def signature_block(doc, recipients: list[str], signer: list[str], name: str) -> None:
    left, right = _table(doc, (Mm(80), Mm(85)))
    p = _para(left, "Nơi nhận:", align=WD_ALIGN_PARAGRAPH.LEFT, bold=True, italic=True, size=12)
    p.paragraph_format.space_before = Pt(12)
    for r in recipients:
        _para(left, f"- {r}", align=WD_ALIGN_PARAGRAPH.LEFT, size=11)
    for i, line in enumerate(signer):
        p = _para(right, line, bold=True, size=14)
        if i == 0:
            p.paragraph_format.space_before = Pt(12)
    for _ in range(4):
        _para(right, "")
    if name:
        _para(right, name, bold=True, size=14)


def annex(doc, label: str, heading: str, text: str, chart_key: str) -> None:
    p = doc.add_paragraph()
    p.add_run().add_break(WD_BREAK.PAGE)
    _para(doc, label, bold=True, size=14)
    _para(doc, heading, bold=True, size=14, after=12)
    paragraph(doc, text)
    chart_placeholder(doc, chart_key)
