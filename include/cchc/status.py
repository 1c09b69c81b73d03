"""Each unit's reporting status for a period, as the ops page "Tình hình báo cáo" shows it.

The rules (who is expected, which date meets the deadline, on time / late / refused / missing)
stay in the view v_report_status (sql/marts/030_report_status.sql); this module adds what a person
needs to act on a row: the latest version received and when, why it was refused (finding codes with
their Vietnamese and English messages), the feedback workbook sent back, and the unit's group —
its district for a commune, the district itself, or the departments. The Airflow plugin
(plugins/cchc_status.py) only renders what `status_page` returns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, text

from cchc.config import output_dir
from cchc.ingest import feedback_file
from cchc.warehouse import VN_TIME, as_date, as_datetime

DEPARTMENTS = "department"  # the filter value of the departments' group
STATUS_LABELS = {  # (Vietnamese, English), in the order the page counts them
    "on_time": ("Đúng hạn", "on time"),
    "late": ("Trễ hạn", "late"),
    "refused": ("Bị từ chối", "refused"),
    "missing": ("Chưa gửi", "not received"),
}


@dataclass(frozen=True)
class Problem:
    code: str
    severity: str  # error | warning
    sheet: str
    cell: str
    message_vi: str
    message_en: str


@dataclass(frozen=True)
class UnitRow:
    unit_code: str
    unit_name_vi: str
    unit_type: str  # department | district | commune
    group_code: str  # the district (for a district and its communes), or DEPARTMENTS
    due_on: dt.date
    status: str  # on_time | late | refused | missing
    n_versions: int
    accepted_version: int | None
    accepted_sent_on: dt.date | None
    latest_version: int | None
    latest_status: str | None  # accepted | accepted_with_warnings | rejected
    latest_received_at: dt.datetime | None  # Asia/Ho_Chi_Minh
    findings: tuple[Problem, ...] = ()  # of the latest version, when it was refused or flagged
    feedback: str = ""  # the latest version's feedback workbook, relative to the feedback folder
    accepted_received_on: dt.date | None = None  # the day it counts as received (on time if <= due_on)
    received_basis: str = ""  # arrival | declared (a past period imported with its day of receipt declared)

    @property
    def typed_date_gap(self) -> int:
        """Days between the dispatch date the unit typed and the day the office received the file,
        when more than one (a warning for ops: a wrong date, or a file that lay somewhere); else 0."""
        if self.accepted_sent_on is None or self.accepted_received_on is None:
            return 0
        gap = abs((self.accepted_received_on - self.accepted_sent_on).days)
        return gap if gap > 1 else 0


@dataclass
class StatusPage:
    period_code: str
    period_name_vi: str
    due_on: dt.date | None
    periods: list[tuple[str, str]]  # (code, Vietnamese name) a person may pick, newest first
    groups: list[tuple[str, str]]  # (filter value, Vietnamese name): departments, then each district
    group: str  # the filter applied, "" for all
    rows: list[UnitRow]
    counts: dict[str, int] = field(default_factory=dict)  # by status, over the rows shown, and "total"


def feedback_dir() -> Path:
    return output_dir() / "feedback"


def feedback_download(name: str) -> Path | None:
    """The feedback workbook called `name`, only if it is a file directly in the feedback folder:
    no path separators, no `..`, nothing outside it (a link is never a way to read another file)."""
    if not name or name != Path(name).name or name.startswith(".") or not name.endswith(".xlsx"):
        return None
    folder = feedback_dir().resolve()
    path = (folder / name).resolve()
    return path if path.parent == folder and path.is_file() else None


_PERIODS = text("""
SELECT p.period_code, p.name_vi, MAX(d.due_on) AS due_on,
       (SELECT MAX(f.first_seen_at) FROM submissions s JOIN received_files f ON f.checksum = s.submission_id
        WHERE s.period_code = p.period_code) AS last_received
FROM ref_periods p JOIN ref_report_due d ON d.period_code = p.period_code
GROUP BY p.period_code, p.name_vi
""")

_STATUS = text("""
SELECT r.unit_code, r.unit_name_vi, r.unit_type, r.parent_code, r.due_on, r.status, r.n_versions,
       r.accepted_version, r.accepted_sent_on, l.version, l.status, l.arrived_at, r.accepted_received_on,
       r.received_basis
FROM v_report_status r
LEFT JOIN (
    SELECT s.unit_code, s.version, s.status, COALESCE(a.arrived_at, f.first_seen_at) AS arrived_at
    FROM submissions s JOIN received_files f ON f.checksum = s.submission_id
    LEFT JOIN file_arrivals a ON a.checksum = s.submission_id
    WHERE s.period_code = :p
      AND NOT EXISTS (SELECT 1 FROM submissions o WHERE o.unit_code = s.unit_code
                      AND o.period_code = s.period_code AND o.version > s.version)
) l ON l.unit_code = r.unit_code
WHERE r.period_code = :p
""")

# Findings of each unit's latest version when it was not accepted clean: why it was refused or flagged.
_FINDINGS = text("""
SELECT s.unit_code, fi.code, fi.severity, fi.sheet, fi.cell, fi.message_vi, fi.message_en
FROM submissions s JOIN findings fi ON fi.submission_id = s.submission_id
WHERE s.period_code = :p AND s.status <> 'accepted'
  AND NOT EXISTS (SELECT 1 FROM submissions o WHERE o.unit_code = s.unit_code
                  AND o.period_code = s.period_code AND o.version > s.version)
ORDER BY s.unit_code, fi.seq
""")


def periods(engine: Engine) -> list[tuple[str, str, dt.date, dt.datetime | None]]:
    """Every period units report for: (code, Vietnamese name, deadline, last file received or None)."""
    with engine.connect() as conn:
        rows = conn.execute(_PERIODS).all()
    return [(r[0], r[1], as_date(r[2]), as_datetime(r[3]) if r[3] is not None else None) for r in rows]


def current_period(all_periods: list[tuple[str, str, dt.date, dt.datetime | None]],
                   today: dt.date | None = None) -> str | None:
    """The period ops are collecting now: the one whose files arrived last; before any file, the
    period (not a week) whose deadline is the nearest one from today on, else the last one past."""
    received = [p for p in all_periods if p[3] is not None]
    if received:
        return max(received, key=lambda p: (p[3], p[2]))[0]
    today = today or (dt.datetime.now(dt.timezone.utc) + VN_TIME).date()
    halves = [p for p in all_periods if "-W" not in p[0]] or all_periods
    upcoming = [p for p in halves if p[2] >= today]
    if upcoming:
        return min(upcoming, key=lambda p: p[2])[0]
    return max(halves, key=lambda p: p[2])[0] if halves else None


def unit_rows(engine: Engine, period_code: str) -> list[UnitRow]:
    """Every unit expected to report for the period with its status and what to do about it."""
    with engine.connect() as conn:
        rows = conn.execute(_STATUS, {"p": period_code}).all()
        found = conn.execute(_FINDINGS, {"p": period_code}).all()
    problems: dict[str, list[Problem]] = {}
    for unit, *rest in found:
        problems.setdefault(unit, []).append(Problem(*(x or "" for x in rest)))
    out = []
    for (unit, name, kind, parent, due_on, status, n_versions, acc_version, acc_sent, last_version, last_status,
         last_seen, received_on, basis) in rows:
        feedback = ""
        if last_version is not None and last_status != "accepted":
            path = feedback_file(unit, period_code, int(last_version))
            feedback = path.name if path.is_file() else ""
        group = DEPARTMENTS if kind == "department" else (unit if kind == "district" else (parent or ""))
        out.append(UnitRow(unit, name, kind, group, as_date(due_on), status, int(n_versions or 0),
                           int(acc_version) if acc_version is not None else None, as_date(acc_sent),
                           int(last_version) if last_version is not None else None, last_status,
                           as_datetime(last_seen) + VN_TIME if last_seen is not None else None,
                           tuple(problems.get(unit, ())), feedback, as_date(received_on), basis or ""))
    order = {"department": 0, "district": 1, "commune": 2}
    return sorted(out, key=lambda r: (r.group_code != DEPARTMENTS, r.group_code, order.get(r.unit_type, 3),
                                      r.unit_code))


def counts(rows: list[UnitRow]) -> dict[str, int]:
    out = {k: 0 for k in STATUS_LABELS}
    for r in rows:
        out[r.status] = out.get(r.status, 0) + 1
    out["total"] = len(rows)
    return out


def status_page(engine: Engine, period_code: str | None = None, group: str = "",
                today: dt.date | None = None) -> StatusPage:
    """What the page shows: the period (the current one unless asked), its units filtered by group
    (a district's code: the district and its communes; DEPARTMENTS; "" for all) and their counts.
    An unknown period or group is a ValueError naming it (Vietnamese / English)."""
    known = periods(engine)
    names = {p[0]: p for p in known}
    period_code = period_code or current_period(known, today)
    if period_code is None:
        raise ValueError("Chưa có kỳ báo cáo nào trong kho dữ liệu / the warehouse has no reporting period")
    if period_code not in names:
        raise ValueError(f"Không có kỳ báo cáo {period_code} / no such reporting period: {period_code}")
    every = unit_rows(engine, period_code)
    districts = sorted({(r.unit_code, r.unit_name_vi) for r in every if r.unit_type == "district"})
    groups = ([(DEPARTMENTS, "Sở, ban, ngành")] if any(r.group_code == DEPARTMENTS for r in every) else []) + districts
    if group and group not in {g for g, _ in groups}:
        raise ValueError(f"Không có nhóm đơn vị {group} / no such group of units: {group}")
    rows = [r for r in every if not group or r.group_code == group]
    # Offered periods: those that received files, and the one shown; newest deadline first.
    offered = sorted((p for p in known if p[3] is not None or p[0] == period_code), key=lambda p: p[2], reverse=True)
    return StatusPage(period_code, names[period_code][1], names[period_code][2], [(p[0], p[1]) for p in offered],
                      groups, group, rows, counts(rows))


# --- the page: plain HTML with its stylesheet inline (no CDN, no script but the filters' auto-submit) ---

_CSS = """
body{font-family:"DejaVu Sans","Segoe UI",Arial,sans-serif;margin:0;padding:1.25rem 1.5rem;color:#1f2933;
background:#f7f8fa;font-size:14px}
h1{font-size:1.5rem;margin:0 0 .25rem}h1 small,.en{color:#52606d;font-weight:normal}
.sub{margin:0 0 1rem;color:#3e4c59}
form{display:flex;gap:1rem;align-items:flex-end;flex-wrap:wrap;margin:0 0 1rem}
label{display:flex;flex-direction:column;font-weight:bold;gap:.2rem}
select,button{font:inherit;padding:.3rem .5rem;border:1px solid #9aa5b1;border-radius:4px;background:#fff}
button{background:#1e3a5f;color:#fff;border-color:#1e3a5f;cursor:pointer}
.counts{display:flex;gap:.75rem;flex-wrap:wrap;margin:0 0 1rem;padding:0;list-style:none}
.counts li{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.5rem .9rem;min-width:8rem}
.counts b{display:block;font-size:1.6rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f5;position:sticky;top:0}
.badge{display:inline-block;border-radius:4px;padding:.05rem .45rem;font-weight:bold;white-space:nowrap}
.on_time{background:#dcfae6;color:#067647}.late{background:#fef0c7;color:#93370d}
.refused{background:#fee4e2;color:#b42318}.missing{background:#eaecf0;color:#344054}
.why{margin:0;padding-left:1.1rem}.why li{margin:.1rem 0}.code{font-family:monospace;font-weight:bold}
.muted{color:#7b8794}
.warn{color:#9a5b00}
"""


def _fmt_time(t: dt.datetime | None) -> str:
    return t.strftime("%d/%m/%Y %H:%M") if t else ""


def render(page: StatusPage, user_name: str = "", feedback_href: str = "feedback/") -> str:
    """The page for a period: counts, the filters, one row per unit (Vietnamese first, English alongside)."""
    from html import escape as e
    from urllib.parse import quote

    from cchc.vn import format_date

    group_names = dict(page.groups)
    period_opts = "".join(f'<option value="{e(c)}"{" selected" if c == page.period_code else ""}>{e(c)} — {e(n)}</option>'
                          for c, n in page.periods)
    group_opts = '<option value="">Tất cả đơn vị / all units</option>' + "".join(
        f'<option value="{e(c)}"{" selected" if c == page.group else ""}>{e(n)}</option>' for c, n in page.groups)
    cards = [f'<li id="count-total"><b>{page.counts["total"]}</b>Phải báo cáo <span class="en">/ due</span></li>']
    cards += [f'<li id="count-{k}"><b>{page.counts.get(k, 0)}</b>{vi} <span class="en">/ {en}</span></li>'
              for k, (vi, en) in STATUS_LABELS.items()]
    rows = []
    for r in page.rows:
        vi, en = STATUS_LABELS[r.status]
        received = ""
        if r.latest_version is not None:
            received = (f'<b title="phiên bản / version">v{r.latest_version}</b> · '
                        f"{e(_fmt_time(r.latest_received_at))}")
            if r.received_basis == "declared":
                received += (f'<br><span class="muted">nhận ngày (khai báo) / received on (declared) '
                             f'{e(format_date(r.accepted_received_on))}</span>')
            if r.accepted_sent_on:
                received += f'<br><span class="muted">gửi ngày / sent {e(format_date(r.accepted_sent_on))}</span>'
            if r.typed_date_gap:
                received += (f'<br><span class="warn">Ngày gửi ghi trong tệp cách ngày nhận {r.typed_date_gap} ngày'
                             f' <span class="en">/ the typed date is {r.typed_date_gap} days from receipt</span></span>')
        why = ""
        if r.findings:
            why = '<ul class="why">' + "".join(
                f'<li><span class="code">{e(f.code)}</span> {e(f.message_vi)}<br><span class="en">{e(f.message_en)}</span></li>'
                for f in r.findings) + "</ul>"
        link = (f'<a class="feedback" href="{e(feedback_href + quote(r.feedback))}" download>{e(r.feedback)}</a>'
                if r.feedback else "")
        group = "Sở, ban, ngành" if r.group_code == DEPARTMENTS else group_names.get(r.group_code, r.group_code)
        rows.append(f'<tr class="unit" data-unit="{e(r.unit_code)}" data-status="{r.status}">'
                    f'<td><span class="code">{e(r.unit_code)}</span><br>{e(r.unit_name_vi)}</td><td>{e(group)}</td>'
                    f'<td><span class="badge {r.status}">{vi}</span><br><span class="en">{en}</span></td>'
                    f"<td>{received}</td><td>{why}</td><td>{link}</td></tr>")
    due = f" — hạn gửi / due {format_date(page.due_on)}" if page.due_on else ""
    who = f' · <span class="muted">{e(user_name)}</span>' if user_name else ""
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tình hình báo cáo {e(page.period_code)} / Reporting status</title><style>{_CSS}</style></head>
<body>
<h1>Tình hình báo cáo <small>/ reporting status</small></h1>
<p class="sub">Kỳ / period <b>{e(page.period_code)}</b> — {e(page.period_name_vi)}{e(due)}{who}</p>
<form method="get">
<label>Kỳ báo cáo <span class="en">/ period</span><select name="period" onchange="this.form.submit()">{period_opts}</select></label>
<label>Huyện / nhóm đơn vị <span class="en">/ district or group</span><select name="group" onchange="this.form.submit()">{group_opts}</select></label>
<button type="submit">Xem / show</button>
</form>
<ul class="counts">{''.join(cards)}</ul>
<table id="units"><thead><tr><th>Đơn vị <span class="en">/ unit</span></th><th>Huyện / nhóm <span class="en">/ group</span></th>
<th>Tình trạng <span class="en">/ status</span></th><th>Đã nhận <span class="en">/ received</span></th>
<th>Lý do từ chối, lưu ý <span class="en">/ why refused or flagged</span></th>
<th>Tệp phản hồi <span class="en">/ feedback</span></th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
</body></html>
"""


def error_page(message: str) -> str:
    from html import escape as e

    return (f'<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Tình hình báo cáo</title>'
            f"<style>{_CSS}</style></head><body><h1>Tình hình báo cáo <small>/ reporting status</small></h1>"
            f'<p class="badge refused">{e(message)}</p><p><a href="status">Kỳ hiện tại / current period</a></p></body></html>')
