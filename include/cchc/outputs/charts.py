"""Charts of a period's figures: PNG images for the Word draft, plain data for the annex's native charts.

`chart_data` reads what each chart shows from the consolidation (and, for reporting completeness,
from the warehouse's views) into plain Python structures; `render_charts` draws them with
matplotlib and `cchc.outputs.publish` draws the same data as native Excel charts, so the draft's images and
the annex's charts cannot disagree. Numbers are written the Vietnamese way (`1.317`, `23,79%`), dates the
report's way (15/6/2024): each caption gives the date its own figures stand at.
Labels are in the document's typeface family: Liberation Serif, the metric twin of Times New Roman, from
Debian's fonts-liberation2 (2.x has every Vietnamese letter; 1.x, fonts-liberation, lacks `ơ`, `ư` and the
stacked diacritics `ặ`, `ễ`), with DejaVu Serif (bundled with matplotlib) letter by letter for whatever
the Liberation Serif found lacks.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, text

from cchc.common.periods import Period, parse_period
from cchc.common.vn import admin_date, fold
from cchc.common.vn import (
    format_number as vn,  # `1.317`, `23,79`: short, as labels use it everywhere
)
from cchc.figures.consolidate import Consolidation, consolidate_week
from cchc.reference.registry import Reference

# Matplotlib draws each letter with the first of these that has it (per glyph, matplotlib >= 3.6).
FONTS = ("Liberation Serif", "DejaVu Serif")
LIBERATION2 = Path("/usr/share/fonts/truetype/liberation2")  # Debian's fonts-liberation2
WIDTH_CM = 16.0  # an A4 text column (210 mm less 30 + 20 mm margins)
DPI = 180

# The plan's task groups (plan_tasks_2024.csv), short enough for a bar label.
TASK_GROUPS_VI = {
    "direction": "Chỉ đạo, điều hành",
    "institutions": "Cải cách thể chế",
    "procedures": "Cải cách thủ tục hành chính",
    "organisation": "Cải cách tổ chức bộ máy",
    "civil_service": "Cải cách chế độ công vụ",
    "finance": "Cải cách tài chính công",
    "egov": "Chính quyền điện tử, số",
}
TASK_STATES_VI = ("Đã hoàn thành", "Đang thực hiện", "Chưa triển khai", "Chưa báo cáo")
REPORT_STATES_VI = ("Đúng hạn", "Trễ hạn", "Bị từ chối", "Chưa gửi")
# Same meaning, same colour in every chart: done / on time green, under way amber, red, grey.
COLOURS = ("#2E7D32", "#F9A825", "#C62828", "#9E9E9E")
PLAN_COLOUR, DONE_COLOUR = "#B0BEC5", "#1565C0"
LINE_COLOURS = ("#2E7D32", "#1565C0", "#F9A825", "#C62828")  # one per TREND_SERIES
TREND_SERIES = (  # (indicator, label) for the weekly trend
    ("plan.tasks_done", "Nhiệm vụ Kế hoạch CCHC đã hoàn thành"),
    ("pakn.resolved", "Phản ánh, kiến nghị đã giải quyết"),
    ("dossier.received", "Hồ sơ TTHC tiếp nhận"),
    ("dossier.resolved", "Hồ sơ TTHC đã giải quyết"),
)


@dataclass(frozen=True)
class ChartImage:
    key: str
    path: Path  # PNG
    caption_vi: str  # without its number: the draft numbers the charts


@dataclass(frozen=True)
class ChartData:
    """What one chart shows: categories, and per series one value per category."""

    key: str
    kind: str  # stacked_bar (horizontal, stacked) | funnel | pie | bullet (plan vs done) | line
    title_vi: str  # drawn on the chart
    caption_vi: str  # under it in the draft
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]
    unit_vi: str
    decimals: int = 0
    notes_vi: tuple[str, ...] = field(default_factory=tuple)  # printed under the chart (percentages…)
    as_of: dt.date | None = None  # the date its figures stand at (the caption says it)

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "kind": self.kind,
            "title_vi": self.title_vi,
            "caption_vi": self.caption_vi,
            "categories": list(self.categories),
            "unit_vi": self.unit_vi,
            "decimals": self.decimals,
            "series": [{"name": n, "values": list(v)} for n, v in self.series],
            "notes_vi": list(self.notes_vi),
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }


def vn_sort_key(name: str) -> str:
    """Vietnamese alphabetical order, near enough for names: diacritics ignored but Đ after D."""
    return fold(name.replace("Đ", "D{").replace("đ", "d{"))


def _values(result: Consolidation, *codes: str) -> list[Decimal] | None:
    """The figures' values, or None when any is missing (the chart is left out, not drawn empty)."""
    figures = [result.figures.get(c) for c in codes]
    if any(f is None or f.value is None for f in figures):
        return None
    return [f.value for f in figures]


def _as_of(result: Consolidation, *codes: str) -> dt.date:
    """The date the figures' data stand at: their own where they carry one (the investment figures stand
    at the end of the month before the cut-off), else the consolidation's; the earliest if they differ."""
    dates = [f.as_of for c in codes if (f := result.figures.get(c)) is not None and f.as_of is not None]
    return min(dates, default=result.as_of)


def _when(result: Consolidation, as_of: dt.date) -> str:
    try:
        name = parse_period(result.label).name_vi.lower()
    except ValueError:
        name = result.label
    return f"{name}, số liệu tính đến ngày {admin_date(as_of)}"


def plan_tasks(ref: Reference, result: Consolidation) -> ChartData | None:
    """Plan tasks by group: done by the as-of date, in progress, not started, not reported.

    From the inputs of `plan.tasks_done`, so the bars add up to the figure the annex prints."""
    figure = result.figures.get("plan.tasks_done")
    tasks = ref.tasks_on(result.as_of)
    if figure is None or not tasks:
        return None
    state = {}
    for i in figure.inputs:
        if i.kind != "task":
            continue
        if i.counted:
            state[i.code] = 0
        elif i.task_status in ("in_progress", "done"):  # done after the as-of date: still under way then
            state[i.code] = 1
        elif i.task_status == "not_started":
            state[i.code] = 2
        else:
            state[i.code] = 3
    present = {t.group for t in tasks}
    groups = [g for g in TASK_GROUPS_VI if g in present] + sorted(present - TASK_GROUPS_VI.keys())
    counts = {g: [0, 0, 0, 0] for g in groups}
    for t in tasks:
        counts[t.group][state.get(t.code, 3)] += 1
    series = tuple(
        (name, tuple(float(counts[g][k]) for g in groups))
        for k, name in enumerate(TASK_STATES_VI)
        if any(counts[g][k] for g in groups) or k < 3
    )
    done = sum(c[0] for c in counts.values())
    year = tasks[0].valid_from.year
    as_of = _as_of(result, "plan.tasks_done")
    return ChartData(
        "plan_tasks",
        "stacked_bar",
        f"Nhiệm vụ Kế hoạch CCHC năm {year} theo lĩnh vực",
        f"Tiến độ thực hiện {len(tasks)} nhiệm vụ Kế hoạch cải cách hành chính năm {year} theo lĩnh vực "
        f"({_when(result, as_of)}): đã hoàn thành {done:02d}/{len(tasks):02d} nhiệm vụ",
        tuple(TASK_GROUPS_VI.get(g, g) for g in groups),
        series,
        "nhiệm vụ",
        as_of=as_of,
    )


def feedback_funnel(result: Consolidation) -> ChartData | None:
    """PAKN: to handle (new + carried over) → resolved → in progress on time / overdue."""
    codes = (
        "pakn.received_new",
        "pakn.carried_over",
        "pakn.total",
        "pakn.resolved",
        "pakn.in_progress_on_time",
        "pakn.in_progress_overdue",
    )
    v = _values(result, *codes)
    if v is None:
        return None
    as_of = _as_of(result, *codes)
    new, carried, total, resolved, on_time, overdue = v
    share = f"đã giải quyết {vn(resolved)}/{vn(total)} ({vn(100 * resolved / total, 2)}%)" if total else ""
    return ChartData(
        "feedback_funnel",
        "funnel",
        "Xử lý phản ánh, kiến nghị (PAKN)",
        f"Kết quả xử lý phản ánh, kiến nghị về quy định hành chính ({_when(result, as_of)})"
        + (f": {share}" if share else ""),
        (
            "Tiếp nhận mới",
            "Kỳ trước chuyển sang",
            "Tổng số phải xử lý",
            "Đã giải quyết",
            "Đang xử lý, trong hạn",
            "Đang xử lý, quá hạn",
        ),
        (("Số PAKN", tuple(float(x) for x in (new, carried, total, resolved, on_time, overdue))),),
        "PAKN",
        as_of=as_of,
    )


def online_services(result: Consolidation) -> ChartData | None:
    codes = ("egov.online_services_full", "egov.online_services_partial")
    v = _values(result, *codes)
    if v is None or not sum(v):
        return None
    full, partial = v
    as_of = _as_of(result, *codes)
    pct = vn(100 * full / (full + partial), 2)
    return ChartData(
        "online_services",
        "pie",
        "Dịch vụ công trực tuyến",
        f"Dịch vụ công trực tuyến toàn trình và một phần ({_when(result, as_of)}): {vn(full)} dịch vụ toàn trình "
        f"({pct}%), {vn(partial)} dịch vụ một phần",
        ("Toàn trình", "Một phần"),
        (("Số dịch vụ", (float(full), float(partial))),),
        "dịch vụ",
        as_of=as_of,
    )


def disbursement(result: Consolidation) -> ChartData | None:
    codes = (
        "fin.invest_disbursed_bn",
        "fin.invest_plan_pm_bn",
        "fin.invest_plan_city_bn",
        "fin.invest_disbursed_pct_pm",
        "fin.invest_disbursed_pct_city",
    )
    v = _values(result, *codes)
    if v is None:
        return None
    done, plan_pm, plan_city, pct_pm, pct_city = v
    as_of = _as_of(result, *codes)  # the text says "Tính đến hết ngày 31/5/2024": so must the caption
    return ChartData(
        "disbursement",
        "bullet",
        "Giải ngân vốn đầu tư công so với kế hoạch",
        f"Giải ngân vốn đầu tư công so với kế hoạch ({_when(result, as_of)}): {vn(done, 3)} tỷ đồng, đạt "
        f"{vn(pct_pm, 2)}% kế hoạch Thủ tướng Chính phủ giao và {vn(pct_city, 2)}% kế hoạch thành phố giao",
        ("Kế hoạch Thủ tướng giao", "Kế hoạch thành phố giao"),
        (("Kế hoạch", (float(plan_pm), float(plan_city))), ("Đã giải ngân", (float(done), float(done)))),
        "tỷ đồng",
        3,
        (f"{vn(pct_pm, 2)}%", f"{vn(pct_city, 2)}%"),
        as_of=as_of,
    )


def _district_name(name: str | None, code: str) -> str:
    """`Ủy ban nhân dân huyện An Dương` → `Huyện An Dương`."""
    if not name:
        return code
    short = name.removeprefix("Ủy ban nhân dân ").strip()
    return short[:1].upper() + short[1:]


def completeness(engine: Engine | None, result: Consolidation) -> ChartData | None:
    """Communes of each district: reported on time, late, refused, missing (v_commune_completeness)."""
    if engine is None:
        return None
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT district_code, district_name_vi, on_time, late, refused, missing FROM v_commune_completeness "
                "WHERE period_code = :p ORDER BY district_code"
            ),
            {"p": result.label},
        ).all()
    if not rows:
        return None
    # Urban districts (quận) first, then rural (huyện), each alphabetically as Vietnamese sorts (Đ after D).
    named = sorted(
        ((_district_name(r[1], r[0]), r[2:]) for r in rows),
        key=lambda nr: (not nr[0].startswith("Quận"), vn_sort_key(nr[0].split(" ", 1)[-1])),
    )
    cats = tuple(name for name, _ in named)
    series = tuple(
        (state, tuple(float(counts[k] or 0) for _, counts in named)) for k, state in enumerate(REPORT_STATES_VI)
    )
    expected = int(sum(sum(values) for _, values in series))
    on_time = int(sum(series[0][1]))
    return ChartData(
        "completeness",
        "stacked_bar",
        "Tình hình báo cáo của cấp xã theo quận, huyện",
        f"Tình hình gửi báo cáo của {vn(expected)} xã, phường, thị trấn theo quận, huyện ({_when(result, result.as_of)}): "
        f"{vn(on_time)} đơn vị gửi đúng hạn",
        cats,
        series,
        "đơn vị",
        as_of=result.as_of,
    )


def chart_data(engine: Engine | None, ref: Reference, result: Consolidation) -> list[ChartData]:
    """Every chart the period's figures support, in the report's order (I.2, II.2, II.5, II.6, then reporting)."""
    charts = [
        plan_tasks(ref, result),
        feedback_funnel(result),
        disbursement(result),
        online_services(result),
        completeness(engine, result),
    ]
    return [c for c in charts if c is not None]


def weekly_trend(
    engine: Engine, ref: Reference, week: Period, current: Consolidation | None = None
) -> ChartData | None:
    """Year-to-date figures of each week of the year up to `week` that has any accepted snapshot.

    Each week is consolidated again (not read from weekly_figures, which holds only the weeks someone
    rolled up, possibly before a late file arrived): about 0.1 s a week on the samples. `current`, the
    caller's fresh consolidation of `week`, spares doing that one twice."""

    rows = []
    for n in range(1, int(week.code.rsplit("W", 1)[1]) + 1):
        w = parse_period(f"{week.year}-W{n:02d}")
        result = current if current is not None and w.code == current.label else consolidate_week(engine, ref, w)
        if result.units_reported:
            rows.append((w, result))
    if not rows:
        return None
    cats = tuple(f"T{w.code[-2:]}" for w, _ in rows)
    series = tuple(
        (label, tuple(float(r.figures[code].value or 0) if code in r.figures else 0.0 for _, r in rows))
        for code, label in TREND_SERIES
    )
    return ChartData(
        "weekly_trend",
        "line",
        f"Kết quả lũy kế từ đầu năm {week.year} theo tuần",
        f"Kết quả lũy kế từ đầu năm {week.year} đến {week.name_vi.lower()}, theo từng tuần",
        cats,
        series,
        "",
        notes_vi=tuple(admin_date(w.end) for w, _ in rows),
    )  # notes: each week's last day


# -- drawing -----------------------------------------------------------------------------------


def _figure(height_cm: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_CM / 2.54, height_cm / 2.54), dpi=DPI, layout="constrained")
    return fig, fig.add_subplot()


def _style(ax, title: str, legend_columns: int = 0) -> None:
    """Title on top, legend (if any) at the bottom, outside the plot; no box around the plot."""
    fig = ax.figure
    fig.suptitle(title, fontsize=10, fontweight="bold")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8)
    if legend_columns:
        fig.legend(loc="outside lower center", ncol=legend_columns, fontsize=7.5, frameon=False)


def _count_axis(ax, axis: str = "x", decimals: int = 0) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    a = ax.xaxis if axis == "x" else ax.yaxis
    a.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10], integer=decimals == 0))
    a.set_major_formatter(FuncFormatter(lambda x, _pos: vn(x, 0)))


def _draw_stacked(c: ChartData):
    """Each number once: a bar's total after it, a segment's count inside it only when the bar has two or
    more segments (and it fits); series with nothing to draw get no bar and no legend entry."""
    n = len(c.categories)
    fig, ax = _figure(max(6.5, 2.6 + 0.62 * n))
    ys = list(range(n))[::-1]  # first category on top
    left = [0.0] * n
    total = [sum(v[i] for _, v in c.series) for i in range(n)]
    # Colours go by the series' place (same state, same colour) before the empty ones are left out.
    drawn = [(name, values, colour) for (name, values), colour in zip(c.series, COLOURS, strict=False) if any(values)]
    segments = [sum(1 for _, values, _ in drawn if values[i]) for i in range(n)]
    for name, values, colour in drawn:
        bars = ax.barh(ys, values, left=left, color=colour, label=name, height=0.62, edgecolor="white", linewidth=0.5)
        for bar, v, k in zip(bars, values, segments, strict=True):
            if v and k > 1 and v / max(max(total), 1) >= 0.035:  # a label only where it fits
                ax.text(
                    bar.get_x() + bar.get_width() / 2,
                    bar.get_y() + bar.get_height() / 2,
                    vn(v),
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color="white" if colour != COLOURS[1] else "black",
                )
        left = [a + b for a, b in zip(left, values, strict=True)]
    for y, t in zip(ys, total, strict=True):
        ax.text(t + max(total) * 0.01, y, vn(t), va="center", fontsize=8, color="#333333")
    ax.set_yticks(ys, c.categories)
    ax.set_xlim(0, max(total) * 1.08 if max(total) else 1)
    _count_axis(ax)
    ax.set_xlabel(f"Số {c.unit_vi}", fontsize=8)
    _style(ax, c.title_vi, len(drawn))
    return fig


def _draw_funnel(c: ChartData):
    new, carried, total, resolved, on_time, overdue = c.series[0][1]
    fig, ax = _figure(7.0)
    stages = [
        ("Tổng số phải xử lý", [(new, COLOURS[1], "tiếp nhận mới"), (carried, "#8D6E63", "kỳ trước chuyển sang")]),
        ("Đã giải quyết", [(resolved, COLOURS[0], "")]),
        ("Đang xử lý, trong hạn", [(on_time, "#1565C0", "")]),
        ("Đang xử lý, quá hạn", [(overdue, COLOURS[2], "")]),
    ]
    width = max(total, 1)
    both = bool(new and carried)  # otherwise the one part is the total, which is written after the bar
    for y, (_label, parts) in zip(range(len(stages) - 1, -1, -1), stages, strict=True):
        size = sum(p[0] for p in parts)
        x = (width - size) / 2  # centred: a funnel
        for v, colour, part_label in parts:
            ax.barh(y, v, left=x, color=colour, height=0.7, edgecolor="white", linewidth=0.8)
            if part_label and both and v / width > 0.12:
                ax.text(x + v / 2, y, f"{vn(v)} {part_label}", ha="center", va="center", fontsize=7.5, color="black")
            x += v
        share = f" ({vn(100 * size / total, 2)}%)" if total and y < len(stages) - 1 else ""
        ax.text(width * 1.02, y, f"{vn(size)}{share}", va="center", fontsize=8.5, fontweight="bold")
    ax.set_yticks(range(len(stages) - 1, -1, -1), [s[0] for s in stages])
    ax.set_xlim(0, width * 1.3)
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    _style(ax, c.title_vi)
    fig.supxlabel(
        (
            f"Tổng số phải xử lý {vn(total)} = {vn(new)} tiếp nhận mới (màu vàng) + {vn(carried)} kỳ trước "
            "chuyển sang (màu nâu).\n"
            if both
            else ""
        )
        + "Tỷ lệ (%) so với tổng số phải xử lý.",
        fontsize=7,
        color="#444444",
    )
    return fig


def _draw_pie(c: ChartData):
    values = c.series[0][1]
    fig, ax = _figure(7.0)
    total = sum(values)
    wedges, _ = ax.pie(
        values,
        colors=(DONE_COLOUR, PLAN_COLOUR),
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.42, "edgecolor": "white"},
    )
    ax.text(0, 0, f"{vn(total)}\n{c.unit_vi}", ha="center", va="center", fontsize=10, fontweight="bold")
    shown = [(w, name, v) for w, name, v in zip(wedges, c.categories, values, strict=True) if v]  # no empty wedge
    ax.legend(
        [w for w, _, _ in shown],
        [f"{name}: {vn(v)} ({vn(100 * v / total, 2)}%)" for _, name, v in shown],
        loc="center left",
        bbox_to_anchor=(1.0, 0.5),
        fontsize=9,
        frameon=False,
    )
    ax.figure.suptitle(c.title_vi, fontsize=10, fontweight="bold")
    ax.set_aspect("equal")
    return fig


def _draw_bullet(c: ChartData):
    (plan_name, plans), (done_name, dones) = c.series
    fig, ax = _figure(6.0)
    ys = list(range(len(c.categories)))[::-1]
    top = max(*plans, *dones, 1)
    # A series with nothing to draw has no legend entry ("_" hides it); its numbers are still written.
    ax.barh(ys, plans, color=PLAN_COLOUR, height=0.6, label=f"{plan_name} ({c.unit_vi})" if any(plans) else "_")
    ax.barh(ys, dones, color=DONE_COLOUR, height=0.3, label=f"{done_name} ({c.unit_vi})" if any(dones) else "_")
    for y, p, d, pct in zip(ys, plans, dones, c.notes_vi, strict=True):
        ax.text(p + top * 0.01, y, vn(p, c.decimals), va="center", fontsize=8)
        ax.text(
            d + top * 0.01,
            y - 0.27,
            f"{vn(d, c.decimals)} (đạt {pct})",
            va="center",
            fontsize=8,
            fontweight="bold",
            color=DONE_COLOUR,
        )
    ax.set_yticks(ys, c.categories)
    ax.set_xlim(0, top * 1.22)
    _count_axis(ax)
    ax.set_xlabel(c.unit_vi, fontsize=8)
    _style(ax, c.title_vi, bool(any(plans)) + bool(any(dones)))
    return fig


def _draw_line(c: ChartData):
    """One small panel per series: their scales differ by thousands."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_CM / 2.54, 10.0 / 2.54), dpi=DPI, layout="constrained")
    axes = fig.subplots(2, 2, sharex=True).flat
    xs = list(range(len(c.categories)))
    step = max(1, len(xs) // 8)
    for ax, (name, values), colour in zip(axes, c.series, LINE_COLOURS, strict=False):
        ax.plot(xs, values, marker="o", markersize=2.5, color=colour)
        ax.set_title(name, fontsize=8)
        ax.set_xticks(xs[::step], c.categories[::step])
        _count_axis(ax, "y")
        ax.set_ylim(bottom=0)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.tick_params(labelsize=7)
    fig.suptitle(c.title_vi, fontsize=10, fontweight="bold")
    return fig


DRAW = {
    "stacked_bar": _draw_stacked,
    "funnel": _draw_funnel,
    "pie": _draw_pie,
    "bullet": _draw_bullet,
    "line": _draw_line,
}


def render_charts(engine, ref, result, out_dir: Path) -> list[ChartImage]:
    """`<period>_<chart>.png` in out_dir for each chart the period's figures support, with captions."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        ChartImage(c.key, render_chart(c, out_dir / f"{result.label}_{c.key}.png"), c.caption_vi)
        for c in chart_data(engine, ref, result)
    ]


@functools.cache
def load_fonts() -> None:
    """Liberation Serif 2.x, by path, when the machine has it: 1.x and 2.x both call themselves "Liberation
    Serif" and score alike, and matplotlib takes whichever its font list (cached on disk, perhaps from
    before 2.x was installed) names first. So every "Liberation Serif" it knows is replaced by 2.x's.
    Without 2.x, "Liberation Serif" is 1.x (or absent) and DejaVu Serif draws the letters it lacks."""
    from matplotlib import font_manager

    files = sorted(LIBERATION2.glob("LiberationSerif-*.ttf"))
    if not files:
        return
    fm = font_manager.fontManager
    fm.ttflist[:] = [f for f in fm.ttflist if f.name != FONTS[0]]
    for f in files:
        fm.addfont(f)  # also empties matplotlib's cache of font look-ups


def render_chart(c: ChartData, path: Path) -> Path:
    """One chart's picture (e.g. the weekly trend): PNG, or PDF if path says so."""
    import matplotlib

    matplotlib.use("Agg")  # no display on workers; the OO API above never touches pyplot's state
    load_fonts()
    with matplotlib.rc_context({"font.family": list(FONTS), "axes.unicode_minus": False}):
        DRAW[c.kind](c).savefig(path, dpi=DPI, facecolor="white", metadata={"Title": c.title_vi})
    return path
