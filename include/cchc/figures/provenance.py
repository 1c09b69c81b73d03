"""Where a consolidated figure came from: `cchc explain plan.tasks_done --period 2024-H1`.

Reads v_figure_provenance (figure_inputs, written by the consolidation that made the figure): the
cells summed and their units, files and versions; for plan_done the tasks and their lead units;
for ratios the parts, each explained in turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter

from sqlalchemy import Engine, text

from cchc.common.vn import plain
from cchc.warehouse.engine import as_date, as_decimal

_COLS = (
    "input_kind",
    "input_code",
    "unit_code",
    "value",
    "task_status",
    "completed_on",
    "counted",
    "file_name",
    "version",
    "sheet",
    "cell",
)


_SEQ = itemgetter(0)


@dataclass(frozen=True)
class Source:
    input_kind: str
    input_code: str
    unit_code: str | None
    value: Decimal | None
    task_status: str | None
    completed_on: object
    counted: bool
    file_name: str | None
    version: int | None
    sheet: str | None
    cell: str | None


def sources(engine: Engine, period_code: str, code: str) -> list[Source]:
    return period_sources(engine, period_code, code).get(code, [])


def period_sources(engine: Engine, period_code: str, code: str | None = None) -> dict[str, list[Source]]:
    """indicator → its inputs in order, for one figure or (code None) every figure of the period in
    one query (the draft comments on all of them)."""
    where = "WHERE period_code = :p" + (" AND indicator_code = :c" if code else "")
    rows: dict[str, list[tuple[int, Source]]] = {}
    with engine.connect() as conn:
        # Put in order here, not by ORDER BY: the view's two parts (figure_inputs, figure_cells) come
        # each in its key's order, which a sort here merges in one pass and SQLite's sorter does not.
        for r in conn.execute(
            text(f"SELECT indicator_code, seq, {', '.join(_COLS)} FROM v_figure_provenance {where}"),
            {"p": period_code, "c": code},
        ):
            rows.setdefault(r[0], []).append(
                (r[1], Source(r[2], r[3], r[4], as_decimal(r[5]), r[6], as_date(r[7]), bool(r[8]), *r[9:13]))
            )
    return {c: [s for _, s in sorted(found, key=_SEQ)] for c, found in sorted(rows.items())}


def figure(engine: Engine, period_code: str, code: str) -> tuple[str, str] | None:
    """(value_text, method) of a stored figure of a period or week."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT value_text, method FROM v_period_figures WHERE period_code = :p AND indicator_code = :c "
                "UNION ALL SELECT value_text, method FROM v_week_figures WHERE week_code = :p AND indicator_code = :c"
            ),
            {"p": period_code, "c": code},
        ).first()


def _plain(v: Decimal | None) -> str:
    return "(trống)" if v is None else plain(v)


def explain(engine: Engine, ref, period_code: str, code: str, show_all: bool = False, depth: int = 0) -> list[str]:
    """Lines telling where the figure came from (ratios: each part explained below it)."""
    stored = figure(engine, period_code, code)
    if stored is None:
        raise ValueError(
            f"chưa có số liệu {code} kỳ {period_code}: chạy `cchc report --period {period_code}` trước "
            f"/ no stored figure {code} for {period_code}: consolidate it first"
        )
    ind = ref.indicator(code)
    pad = "    " * depth
    lines = [f"{pad}{code} {period_code} = {stored[0]}  ({stored[1]}; {ind.label_vi if ind else ''})"]
    rows = sources(engine, period_code, code)
    shown = [r for r in rows if r.counted or show_all]
    tasks = {t.code: t for t in ref.tasks}
    for r in shown:
        where = (
            f"{r.file_name} v{r.version} {r.sheet}!{r.cell}" if r.file_name else "(đơn vị chưa báo cáo / not reported)"
        )
        if r.input_kind == "task":
            t = tasks.get(r.input_code)
            lines.append(
                f"{pad}  {r.input_code}  chủ trì/lead {r.unit_code}  {r.task_status}"
                f"{' ' + r.completed_on.isoformat() if r.completed_on else ''}  {where}"
                f"  {t.name_vi[:70] if t else ''}"
            )
        elif r.input_kind == "cell":
            lines.append(f"{pad}  {r.unit_code:8} {_plain(r.value):>14}  {where}")
        else:
            lines += explain(engine, ref, period_code, r.input_code, show_all, depth + 1)
    if len(shown) < len(rows):
        lines.append(f"{pad}  (+{len(rows) - len(shown)} nhiệm vụ không được tính, xem --all / not counted, see --all)")
    if not rows:
        lines.append(
            f"{pad}  (đếm từ danh mục tham chiếu, không từ báo cáo của đơn vị / counted from the reference "
            f"data, not from units' files)"
        )
    if stored[1] == "sum":
        total = sum((r.value for r in shown), Decimal(0))
        lines.append(f"{pad}  {len(shown)} đơn vị, tổng / units, total = {_plain(total)}")
    return lines
