"""The report the city signs, drafted: the Word template filled with the period's figures.

The template (`include/templates/bao_cao_ky.docx`; weeks: `bao_cao_nhanh_tuan.docx`) is a Word
document the office edits; figures go where it says `{{ pakn.received_new }}` (docxtpl: Jinja2
inside Word). Before anything is written every placeholder is checked: one that is unknown, or has
no value for the period, fails the draft naming it and quoting its paragraph — the output never
shows a blank, "None", "nan" or braces. Each figure filled in carries a Word comment saying how it
was made (method, units, largest contributors and their files, the `cchc explain` command), and
the charts go in as pictures with numbered captions.

What a template may use (generated list: include/templates/PLACEHOLDERS.md, `cchc placeholders`):
- `{{ <indicator code> }}` — the figure as the report prints it (`08/57`, `1.317`, `25,6%`,
  `4.048,546 tỷ đồng`); filters `|pad2` (two digits: `04`), `|bare` (the number without its unit);
  `.value` for a condition: `{% if gov.tasks_overdue.value == 0 %}…{% endif %}`; `.as_of` the date
  its data stands at, as the report writes dates (`Tính đến hết ngày {{ fin.invest_disbursed_bn.as_of }}`
  → `31/5/2024`): the figure's own when its data has one, else the period's cut-off date;
- `{{ period.name }}`, `next_name`, `as_of`, `start`, `end`, `year`, `code` (filters `|upper`, `|cap`);
- `{{ report.units_reported }}`, `{{ report.units_expected }}`;
- `{{ chart.<key> }}` alone in its paragraph: a chart, captioned "Biểu đồ N. …" below it.
Placeholders go in the body, its tables, headers and footers, not in footnotes (a template with one
there fails).

The draft says who made it: its author (and last editor) is the template's author, the issuing
body (`Ủy ban nhân dân thành phố Hải Phòng`; the weekly flash report: the Committee's office),
created and modified at drafting time, in Vietnamese (vi-VN) throughout; the comments are signed
by the consolidation system.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from cchc.common import clock
from cchc.common.config import project_dir
from cchc.common.periods import Period, parse_period
from cchc.common.vn import admin_date, format_number
from cchc.figures.approval import report_state
from cchc.figures.consolidate import consolidate_week, display, store
from cchc.figures.provenance import period_sources
from cchc.outputs.charts import render_charts
from cchc.outputs.docstyle import (
    caption_after,
    comments_after_notes,
    draft_mark,
    footnote_texts,
    identity,
    issuer_name,
)

# Private-use characters around each figure while Jinja renders: afterwards they mark exactly the
# run to split out and comment. They cannot come from a template or a unit's file unnoticed:
# leftovers fail the draft.
_OPEN, _MID, _CLOSE = "\ue000", "\ue001", "\ue002"
_FIG = re.compile(f"{_OPEN}([^{_MID}]+){_MID}([^{_CLOSE}]*){_CLOSE}")
_TAG = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}", re.S)
NAMESPACES_EXTRA = ("period", "report", "chart")
PERIOD_FIELDS = ("name", "next_name", "as_of", "start", "end", "year", "code")
REPORT_FIELDS = ("units_reported", "units_expected")
COMMENT_AUTHOR = "Hệ thống tổng hợp CCHC"  # the comments are the pipeline's, not the city's
FIG_ATTRS = ("value", "as_of")  # what a template may read of a figure: `{{ code.as_of }}`
# Words a filled document must never show: what a missing value prints as.
FORBIDDEN = re.compile(r"\{\{|\}\}|\{%|%\}|\bNone\b|\bnan\b|\bNaN\b|chưa có số liệu")


class TemplateError(ValueError):
    """The template cannot be filled for this period; the message names each placeholder."""


@dataclass(frozen=True)
class Draft:
    path: Path
    charts: list[Path]
    key_figures: dict[str, str]  # code → text as printed, for the approval request
    n_figures: int  # figures filled in (each with its comment)
    seconds: float
    locked: bool = False
    version: int | None = None


@dataclass(frozen=True)
class Placeholder:
    expression: str  # as written, e.g. `pakn.total|pad2`
    name: str  # what it refers to: `pakn.total`, `period.name`, `chart.pakn_funnel`
    paragraph: int  # 1-based, in document order (body, then tables)
    text: str  # the paragraph's text, for the error message


def templates_dir() -> Path:
    """The templates the office edits; CCHC_TEMPLATES_DIR points at another folder (one it shares)."""
    env = os.environ.get("CCHC_TEMPLATES_DIR")
    return Path(env) if env else project_dir() / "include" / "templates"


def template_for(period: Period, empty: bool = False) -> Path:
    """The period's template; a week no unit has reported yet has its own one-paragraph flash report."""
    if period.kind != "week":
        return templates_dir() / "bao_cao_ky.docx"
    return templates_dir() / ("bao_cao_nhanh_tuan_chua_co_so_lieu.docx" if empty else "bao_cao_nhanh_tuan.docx")


def output_name(period: Period, final: bool) -> str:
    return f"{period.code}_bao_cao{'' if final else '_du_thao'}.docx"


# The charts cchc.outputs.charts draws for a period, as the placeholder list describes them.
CHART_KEYS = {
    "plan_tasks": "nhiệm vụ Kế hoạch CCHC đã hoàn thành / đang thực hiện / chưa triển khai, theo lĩnh vực",
    "feedback_funnel": "phản ánh, kiến nghị: phải xử lý → đã hoàn thành → đang xử lý trong hạn / quá hạn",
    "online_services": "dịch vụ công trực tuyến toàn trình và một phần",
    "disbursement": "giải ngân vốn đầu tư công so với kế hoạch",
    "completeness": "tình hình gửi báo cáo của cấp xã theo quận, huyện",
}
KEY_FIGURES = (
    "plan.tasks_done",
    "pakn.total",
    "pakn.resolved",
    "pakn.in_progress_on_time",
    "pakn.in_progress_overdue",
    "egov.online_services_full",
    "egov.online_services_partial",
    "fin.invest_disbursed_bn",
    "fin.invest_disbursed_pct_pm",
    "dossier.resolved_on_time_pct",
)


# --- what the template may say --------------------------------------------------------------------


def _next_name(period: Period) -> str:
    """The period the report's second half plans for: H1 → the last 6 months, a year → the next year."""
    y, tail = period.year, period.code.split("-", 1)[1]
    if period.kind == "half_year":
        return f"6 tháng cuối năm {y}"
    if period.kind == "nine_months":
        return f"3 tháng cuối năm {y}"
    if period.kind == "year":
        return f"năm {y + 1}"
    if period.kind == "quarter":
        q = int(tail[1])
        return f"quý {('I', 'II', 'III', 'IV')[q % 4]} năm {y + (q == 4)}"
    if period.kind == "month":
        m = int(tail[1:])
        return f"tháng {m % 12 + 1} năm {y + (m == 12)}"
    return f"tuần {int(tail[1:]) + 1} năm {y}"


def period_words(period: Period, as_of: dt.date) -> dict[str, str]:
    name = period.name_vi[0].lower() + period.name_vi[1:]
    return {
        "name": name,
        "next_name": _next_name(period),
        "as_of": admin_date(as_of),
        "start": admin_date(period.start),
        "end": admin_date(period.end),
        "year": str(period.year),
        "code": period.code,
    }


class Fig:
    """A figure as the template sees it: prints as the report writes it, between provenance marks;
    `as_of` is the date its data stands at, written the report's way (`31/5/2024`)."""

    def __init__(self, code: str, text: str, value: Decimal | None, decimals: int, as_of: str = ""):
        self.code, self.text, self.value, self.decimals, self.as_of = code, text, value, decimals, as_of

    def __str__(self) -> str:
        return f"{_OPEN}{self.code}{_MID}{self.text}{_CLOSE}"

    def _with(self, text: str) -> Fig:
        return Fig(self.code, text, self.value, self.decimals, self.as_of)


def pad2(fig):
    """`4` → `04`, as the report writes counts under ten (`04 đoàn`); anything else unchanged."""
    if isinstance(fig, Fig):
        return fig._with(fig.text.zfill(2) if fig.text.isdigit() else fig.text)
    return str(fig).zfill(2) if str(fig).isdigit() else fig


def bare(fig):
    """The number without its unit: `4.048,546 tỷ đồng` → `4.048,546`; `25,6%` → `25,6`."""
    if isinstance(fig, Fig) and fig.value is not None:
        return fig._with(format_number(fig.value, fig.decimals))
    return fig


def cap(text):
    """First letter upper-case only (`quý II năm 2024` → `Quý II năm 2024`; Jinja's `capitalize`
    would lower the rest)."""
    s = str(text)
    return s[:1].upper() + s[1:]


def jinja_env():
    from jinja2 import Environment, StrictUndefined

    env = Environment(undefined=StrictUndefined, autoescape=False)
    env.filters.update(pad2=pad2, bare=bare, cap=cap)
    return env


# --- checking a template ----------------------------------------------------------------------------


def paragraphs(doc):
    """Every paragraph a placeholder can sit in: body, tables (nested too), headers and footers."""

    def walk(container):
        yield from container.paragraphs
        for table in getattr(container, "tables", []):
            for row in table.rows:
                for cell in row.cells:
                    yield from walk(cell)

    yield from walk(doc)
    for section in doc.sections:
        for part in (section.header, section.first_page_header, section.footer, section.first_page_footer):
            yield from walk(part)


def _names(expression: str, statement: bool) -> list[str]:
    """Dotted names an expression reads (`pakn.total`, `period.name`); `.value` is the figure's."""
    from jinja2 import nodes

    env = jinja_env()
    if statement:
        m = re.match(r"\s*(if|elif)\s+(.*)$", expression, re.S)
        if not m:
            return []  # else / endif
        tree = env.parse("{% if " + m.group(2) + " %}{% endif %}")
    else:
        tree = env.parse("{{ " + expression + " }}")
    out = []
    for node in tree.find_all((nodes.Getattr, nodes.Name)):
        if isinstance(node, nodes.Name):
            out.append(node.name)
        elif isinstance(node.node, nodes.Name):
            out.append(f"{node.node.name}.{node.attr}")
        elif isinstance(node.node, nodes.Getattr) and isinstance(node.node.node, nodes.Name):
            out.append(f"{node.node.node.name}.{node.node.attr}.{node.attr}")  # a figure's `.as_of`
    # a Getattr's own Name (or shorter Getattr) is found too: keep only the longest name of each
    longer = {n.rsplit(".", 1)[0] for n in out if "." in n}
    return [n for n in dict.fromkeys(out) if n not in longer]


def placeholders(template: Path) -> list[Placeholder]:
    """Every placeholder of a template, with its paragraph; Jinja syntax errors name the paragraph."""
    import docx
    from jinja2 import TemplateSyntaxError

    found: list[Placeholder] = []
    doc = docx.Document(str(template))
    # docxtpl would fill them, but nothing checks them nor comments their figures
    in_notes = [t for t in footnote_texts(doc) if re.search(r"\{\{|\{%|%\}|\}\}", t)]
    if in_notes:
        raise TemplateError(
            f"Chỗ điền đặt trong chú thích cuối trang: «{_quote(in_notes[0])}»; hãy đưa vào thân văn bản "
            f"/ placeholders in a footnote are not filled: move them to the body"
        )
    for i, p in enumerate(paragraphs(doc), start=1):
        text = p.text
        for m in _TAG.finditer(text):
            expr, statement = (m.group(1), False) if m.group(1) is not None else (m.group(2), True)
            try:
                names = _names(expr, statement)
            except TemplateSyntaxError as exc:
                raise TemplateError(
                    f"Chỗ điền viết sai «{m.group(0)}» ở đoạn {i}: «{_quote(text)}» ({exc.message}) "
                    f"/ malformed placeholder in paragraph {i}"
                ) from exc
            found += [Placeholder(expr.strip(), n, i, text) for n in names]
        stray = _TAG.sub("", text)
        if "{{" in stray or "}}" in stray or "{%" in stray or "%}" in stray:
            raise TemplateError(
                f"Dấu ngoặc chỗ điền không khớp ở đoạn {i}: «{_quote(text)}» "
                f"/ unbalanced placeholder braces in paragraph {i}"
            )
    return found


def _around(ph: Placeholder, before: int = 70, after: int = 50) -> str:
    """The placeholder's place in its paragraph: the words around it, as the office will search for them."""
    pos = ph.text.find(ph.expression)
    if pos < 0:
        return _quote(ph.text)
    start, end = max(0, pos - before), min(len(ph.text), pos + len(ph.expression) + after)
    return ("…" if start else "") + ph.text[start:end] + ("…" if end < len(ph.text) else "")


def _quote(text: str, n: int = 160) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def check(
    template: Path, used: list[Placeholder], values: dict[str, Fig], extra: dict[str, dict], catalogue: set[str]
) -> None:
    """Fail, naming each, on placeholders (of `template`) that are unknown or have no value for the period."""
    problems = []
    for ph in used:
        base, _, attr = ph.name.partition(".")
        code, _, field = ph.name.rpartition(".") if ph.name.count(".") == 2 else (ph.name, "", "")
        if base == "chart" and attr in CHART_KEYS:
            ok, why = attr in extra[base], "kỳ này không có số liệu cho biểu đồ / no data for this chart this period"
        elif base in extra:
            ok, why = attr in extra[base], "không có / unknown placeholder"
        elif code in catalogue and field not in ("", *FIG_ATTRS):
            ok, why = False, f"chỉ tiêu không có thuộc tính «{field}» / a figure has no `.{field}`"
        elif code in catalogue:
            ok = code in values and values[code].value is not None
            why = "không có số liệu cho kỳ này / no value for this period"
        else:
            ok, why = False, "không có trong danh mục chỉ tiêu / unknown placeholder"
        if not ok:
            problems.append(f"  {{{{ {ph.expression} }}}} — {why}; đoạn {ph.paragraph}: «{_around(ph)}»")
    if problems:
        raise TemplateError(
            f"Mẫu báo cáo {template.name} có {len(problems)} chỗ điền không dùng được / "
            f"the template has placeholders that cannot be filled:\n"
            + "\n".join(problems)
            + "\nXem danh sách chỗ điền hợp lệ / see include/templates/PLACEHOLDERS.md"
        )
    return used


# --- provenance comments ----------------------------------------------------------------------------

METHOD_VI = {
    "sum": "tổng số liệu của các đơn vị báo cáo (ô trống là chưa báo cáo, không tính là 0)",
    "single": "số liệu của đơn vị có thẩm quyền",
    "ratio": "tính lại từ các số liệu thành phần đã tổng hợp (không lấy trung bình của các đơn vị)",
    "registry_count": "đếm đơn vị trong danh mục có hiệu lực",
    "plan_total": "đếm nhiệm vụ của Kế hoạch CCHC",
    "plan_done": "đếm nhiệm vụ có cơ quan chủ trì báo cáo đã hoàn thành đến ngày chốt số liệu",
}


def comment_lines(code: str, fig, ind, sources: list, period_code: str, as_of: dt.date, top: int = 3) -> list[str]:
    """How a figure was made, for the Word comment beside it."""
    lines = [f"{ind.label_vi}: {fig.text}", f"Cách tính / method ({ind.method}): {METHOD_VI.get(ind.method, '')}."]
    if ind.method == "ratio":
        lines.append(f"Công thức / formula: {ind.expression} (làm tròn {ind.decimals} chữ số thập phân).")
    counted = [s for s in sources if s.counted and s.input_kind == "cell" and s.value is not None]
    if ind.method == "sum":
        lines.append(f"Số đơn vị có số liệu / units: {len(counted)}.")
    if ind.method == "plan_done":
        done = [s for s in sources if s.input_kind == "task" and s.counted]
        leads: dict[str, int] = {}
        for s in done:
            leads[s.unit_code] = leads.get(s.unit_code, 0) + 1
        unreported = sum(1 for s in sources if s.input_kind == "task" and s.task_status == "unreported")
        lines.append(
            f"{len(done)} nhiệm vụ hoàn thành đến {admin_date(as_of)}; {unreported} nhiệm vụ cơ quan chủ trì "
            f"chưa báo cáo."
        )
        lines += [f"  {u}: {n} nhiệm vụ" for u, n in sorted(leads.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
    if counted:
        label = "Đóng góp lớn nhất / largest contributors:" if len(counted) > 1 else "Nguồn / source:"
        lines.append(label)
        for s in sorted(counted, key=lambda s: (-abs(s.value), s.unit_code or ""))[:top]:
            lines.append(
                f"  {s.unit_code}: {format_number(s.value, ind.decimals)} — tệp {s.file_name} "
                f"(phiên bản {s.version}, {s.sheet}!{s.cell})"
            )
    parts = [s.input_code for s in sources if s.input_kind == "figure"]
    if parts:
        lines.append("Thành phần / parts: " + ", ".join(parts) + ".")
    if ind.method in ("registry_count", "plan_total"):
        lines.append(f"Từ danh mục tham chiếu ngày {admin_date(as_of)}, không từ báo cáo của đơn vị.")
    lines.append(f"Xem đầy đủ / full detail: cchc explain {code} --period {period_code}")
    return lines


# --- rendering --------------------------------------------------------------------------------------


def _split_figures(doc) -> list[tuple[str, object]]:
    """Cut each marked figure into a run of its own (same formatting), drop the marks: (code, run)."""
    import copy

    from docx.text.run import Run

    out = []
    for p in paragraphs(doc):
        for run in list(p.runs):
            text = run.text
            if _OPEN not in text:
                continue
            pieces = []  # (text, code or None)
            pos = 0
            for m in _FIG.finditer(text):
                pieces += [(text[pos : m.start()], None), (m.group(2), m.group(1))]
                pos = m.end()
            pieces.append((text[pos:], None))
            anchor = run._r
            first = True
            for piece, code in pieces:
                if not piece and code is None:
                    continue
                if first:
                    target = run
                    first = False
                else:
                    el = copy.deepcopy(run._r)
                    anchor.addnext(el)
                    anchor = el
                    target = Run(el, p)
                target.text = piece
                if code:
                    out.append((code, target))
    return out


def _pictures(doc) -> list[tuple[object, str]]:
    """(paragraph, picture name) for each picture of the body, in order; docxtpl names a chart's
    picture after its file."""
    return [(p, name) for p in doc.paragraphs for name in p._p.xpath(".//pic:cNvPr/@name")]


def render(
    template: Path,
    used: list[Placeholder],
    out: Path,
    *,
    period: Period,
    result,
    ref,
    engine,
    charts: list,
    mark: str = "",
) -> int:
    """Fill the template (whose placeholders are `used`) into `out`: figures with comments, charts with
    captions, and `mark` (the draft's status) at the top of page 1 unless empty; returns the number of
    figures filled in. Nothing is left at `out` when it fails."""
    import docx
    from docx.shared import Mm
    from docxtpl import DocxTemplate, InlineImage

    indicators = {i.code: i for i in ref.indicators_on(result.as_of)}
    values = {
        c: Fig(c, f.text, f.value, indicators[c].decimals, admin_date(f.as_of or result.as_of))
        for c, f in result.figures.items()
        if c in indicators
    }
    extra = {
        "period": period_words(period, result.as_of),
        "report": {
            "units_reported": str(len(result.units_reported)),
            "units_expected": str(len(result.units_reported) + len(result.units_missing)),
        },
        "chart": {c.key: c for c in charts},
    }
    check(template, used, values, extra, {i.code for i in ref.indicators})

    tpl = DocxTemplate(str(template))
    context: dict = {}
    for code, fig in values.items():
        base, _, attr = code.partition(".")
        context.setdefault(base, {})[attr] = fig
    context["period"], context["report"] = extra["period"], extra["report"]
    context["chart"] = {c.key: InlineImage(tpl, str(c.path), width=Mm(150)) for c in charts}
    tpl.render(context, jinja_env())
    buf = io.BytesIO()
    tpl.save(buf)
    buf.seek(0)

    doc = docx.Document(buf)
    if mark:
        draft_mark(doc, mark)
    filled = _split_figures(doc)
    by_name = {Path(c.path).name: c for c in charts}
    n = 0
    for p, name in _pictures(doc):  # numbered in the order they stand, wherever the office moved them
        if name in by_name:
            n += 1
            caption_after(p, f"Biểu đồ {n}. {by_name[name].caption_vi}")
    inputs = period_sources(engine, period.code)
    for code, run in filled:
        lines = comment_lines(
            code, result.figures[code], indicators[code], inputs.get(code, []), period.code, result.as_of
        )
        comment = doc.add_comment(run, text=lines[0], author=COMMENT_AUTHOR, initials="CCHC")
        for line in lines[1:]:
            comment.add_paragraph(line)
    comments_after_notes(doc)
    leftovers = [p.text for p in paragraphs(doc) if FORBIDDEN.search(p.text) or _OPEN in p.text or _CLOSE in p.text]
    if leftovers:
        raise TemplateError(
            "Bản thảo còn chỗ chưa điền / the draft still shows unfilled text: "
            + " | ".join(_quote(t, 100) for t in leftovers[:5])
        )
    author = doc.core_properties.author  # the template's: the issuer (python-docx's default names none)
    identity(doc, author if author and author != "python-docx" else issuer_name(), clock.now())
    doc.core_properties.title = f"Báo cáo CCHC {period.name_vi}"
    doc.save(str(out))
    return len(filled)


def write_draft(
    engine, ref, period_code: str, out_dir: Path, final: bool = False, template: Path | None = None
) -> Draft:
    """The period's report as .docx in out_dir (`<period>_bao_cao_du_thao.docx`; final:
    `<period>_bao_cao.docx`, from the approved figures), with its charts beside it."""

    start = time.perf_counter()
    period = parse_period(period_code)
    if period.kind == "week":
        result = consolidate_week(engine, ref, period)
        store(engine, result, "weekly_figures")
        locked, version = False, None
        status = f"Số liệu lũy kế đến hết {admin_date(period.end)}, tổng hợp tự động"
    else:
        state = report_state(engine, ref, period.code)
        result, locked, version = state.result, state.locked, state.version
        status = state.status_vi
        if final and not locked:
            raise ValueError(
                f"kỳ {period.code} chưa được phê duyệt: chạy `cchc approve` trước "
                f"/ {period.code} is not approved: approve it before writing the final report"
            )
    empty = not result.units_reported
    if empty and period.kind != "week":  # a report to the Ministry needs figures; a week's news may be none
        raise ValueError(
            f"chưa có báo cáo nào được tiếp nhận cho kỳ {period.code} / no accepted submission for {period.code}"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    template = Path(template) if template else template_for(period, empty)
    used = placeholders(template)
    wanted = {ph.name.split(".", 1)[1] for ph in used if ph.name.startswith("chart.")}
    charts = [
        c
        for c in (render_charts(engine, ref, result, out_dir / f"{period.code}_bieu_do") if wanted else [])
        if c.key in wanted
    ]
    path = out_dir / output_name(period, final)
    n = render(
        template,
        used,
        path,
        period=period,
        result=result,
        ref=ref,
        engine=engine,
        charts=charts,
        mark="" if final else status,
    )
    key = {c: result.figures[c].text for c in KEY_FIGURES if c in result.figures}
    return Draft(path, [c.path for c in charts], key, n, time.perf_counter() - start, locked, version)


# --- the office's list of placeholders ----------------------------------------------------------------


def _example(ind) -> str:

    if ind.method == "plan_done":
        return "08/57"
    sample = {"percent": Decimal("23.79")}.get(ind.rule)
    if sample is None:
        sample = (
            Decimal("4048.546")
            if ind.unit_vi == "tỷ đồng"
            else Decimal("91.87")
            if ind.unit_vi == "điểm"
            else Decimal("1317")
        )
    return display(ind, sample, {})


def placeholder_catalogue(ref) -> str:
    """include/templates/PLACEHOLDERS.md: every placeholder a template may use, with an example."""
    lines = [
        "# Chỗ điền trong mẫu báo cáo / placeholders the report templates may use",
        "",
        "Sinh tự động từ danh mục chỉ tiêu (`include/reference/indicators.csv`) bằng `cchc placeholders`;",
        "đừng sửa tay. / Generated from the indicator catalogue by `cchc placeholders`; do not edit.",
        "",
        "Gõ trong Word đúng như cột «Chỗ điền», kể cả dấu ngoặc nhọn. Bộ lọc: `|pad2` viết số dưới 10 thành",
        "hai chữ số (`04`), `|bare` bỏ đơn vị tính (`4.048,546`), `|upper` viết hoa, `|cap` viết hoa chữ đầu.",
        "Điều kiện: `{% if gov.tasks_overdue.value == 0 %}Không có nhiệm vụ quá hạn{% else %}…{% endif %}`.",
        "Ngày số liệu của một chỉ tiêu: `.as_of` (`Tính đến hết ngày {{ fin.invest_disbursed_bn.as_of }}` → `31/5/2024`),",
        "ngày chốt số liệu riêng của chỉ tiêu nếu dữ liệu có, nếu không là ngày chốt số liệu của kỳ.",
        "Biểu đồ: `{{ chart.feedback_funnel }}` đứng riêng một đoạn; chú thích «Biểu đồ N.» được thêm khi lập",
        "bản thảo. Chỗ điền không có trong danh sách, hoặc không có số liệu trong kỳ, làm việc lập bản thảo",
        "dừng lại và báo tên chỗ điền cùng đoạn văn chứa nó. Không đặt chỗ điền trong chú thích cuối trang.",
        "",
        "## Kỳ báo cáo và đơn vị / period and units",
        "",
        "| Chỗ điền | Nội dung | Ví dụ (2024-H1) |",
        "|---|---|---|",
    ]
    h1 = parse_period("2024-H1")
    words = period_words(h1, h1.as_of_default)
    desc = {
        "name": "tên kỳ",
        "next_name": "kỳ tiếp theo (phương hướng)",
        "as_of": "ngày chốt số liệu",
        "start": "ngày đầu kỳ",
        "end": "ngày cuối kỳ",
        "year": "năm",
        "code": "mã kỳ",
    }
    lines += [f"| `{{{{ period.{k} }}}}` | {desc[k]} | {words[k]} |" for k in PERIOD_FIELDS]
    lines += [
        "| `{{ report.units_reported }}` | số cơ quan, đơn vị đã báo cáo | 253 |",
        "| `{{ report.units_expected }}` | số cơ quan, đơn vị phải báo cáo | 253 |",
        "",
        "## Biểu đồ / charts",
        "",
        "| Chỗ điền | Nội dung |",
        "|---|---|",
    ]
    lines += [f"| `{{{{ chart.{key} }}}}` | {caption} |" for key, caption in CHART_KEYS.items()]
    group = None
    for ind in ref.indicators:
        if ind.group != group:
            group = ind.group
            lines += ["", f"## {group}", "", "| Chỗ điền | Nội dung | Đơn vị tính | Ví dụ |", "|---|---|---|---|"]
        lines.append(f"| `{{{{ {ind.code} }}}}` | {ind.label_vi} | {ind.unit_vi} | {_example(ind)} |")
    return "\n".join(lines) + "\n"


def catalogue_path() -> Path:
    return project_dir() / "include" / "templates" / "PLACEHOLDERS.md"
