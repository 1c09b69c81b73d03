"""Reporting periods: codes, Vietnamese names and data windows.

Windows follow Nghị định 09/2019/NĐ-CP as the city applies it: data are cut on the 14th
(month: 15th of the previous month → 14th; quarter: 15th of the month before → 14th of its last
month; 6 and 9 months and the year: 15/12 of the previous year → 14/6, 14/9, 14/12). Weeks are the
city's own roll-ups: ISO weeks, Monday to Sunday.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from cchc.common.vn import fold

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class Period:
    code: str  # 2024-H1, 2024-Q3, 2024-M05, 2024-9M, 2024-Y, 2024-W23
    kind: str  # half_year, quarter, month, nine_months, year, week
    year: int
    start: dt.date
    end: dt.date
    name_vi: str

    @property
    def as_of_default(self) -> dt.date:
        """The cut-off date figures are 'as of': the day after the window closes (15/6 for H1)."""
        return self.end + dt.timedelta(days=1) if self.kind != "week" else self.end

    @property
    def window_start(self) -> dt.date:
        """First day its figures count from. Weekly snapshots are year-to-date: the reporting year
        opens on 15/12 of the previous year; every other period counts from its own start."""
        if self.kind != "week":
            return self.start
        end = self.end
        return dt.date(end.year - 1, 12, 15) if (end.month, end.day) < (12, 15) else dt.date(end.year, 12, 15)

    @property
    def series(self) -> str:
        """Periods comparable with each other across years: 'H1', 'Q3', 'Y'…; all weeks are one series."""
        return "W" if self.kind == "week" else self.code.split("-", 1)[1]


_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def _cut(year: int, month: int, day: int) -> dt.date:
    if month <= 0:
        year, month = year - 1, month + 12
    return dt.date(year, month, day)


def parse_period(value: str) -> Period:
    """A period from its code (`2024-H1`) or its Vietnamese words (`6 tháng đầu năm 2024`)."""
    raw = str(value or "").strip()
    s = fold(raw).replace("–", "-")
    m = re.fullmatch(r"(\d{4})-(h1|q[1-4]|m(?:0[1-9]|1[0-2])|9m|y|w(?:0[1-9]|[1-4]\d|5[0-3]))", s)
    if m:
        return _make(int(m.group(1)), m.group(2))
    year = re.search(r"(?:nam\s*)?(\d{4})\s*$", s)
    if year:
        y = int(year.group(1))
        words = s[: year.start()].strip()
        table = [
            (r"^(bao cao )?6 thang( dau)?( nam)?$", "h1"),
            (r"^(bao cao )?9 thang( dau)?( nam)?$", "9m"),
            (r"^(bao cao )?(ca )?nam$|^$", "y"),
        ]
        for pattern, suffix in table:
            if re.match(pattern, words):
                return _make(y, suffix)
        q = re.match(r"^quy (i{1,3}|iv|[1-4])( nam)?$", words)
        if q:
            n = {"i": 1, "ii": 2, "iii": 3, "iv": 4}.get(q.group(1)) or int(q.group(1))
            return _make(y, f"q{n}")
        mo = re.match(r"^thang (\d{1,2})( nam)?$", words)
        if mo and 1 <= int(mo.group(1)) <= 12:
            return _make(y, f"m{int(mo.group(1)):02d}")
        w = re.match(r"^tuan (\d{1,2})( nam)?$", words)
        if w and 1 <= int(w.group(1)) <= 53:
            return _make(y, f"w{int(w.group(1)):02d}")
    raise ValueError(f"unknown period: {raw!r}")


def _make(year: int, suffix: str) -> Period:
    s = suffix.lower()
    if s == "h1":
        return Period(
            f"{year}-H1", "half_year", year, _cut(year, 0, 15), dt.date(year, 6, 14), f"6 tháng đầu năm {year}"
        )
    if s == "9m":
        return Period(f"{year}-9M", "nine_months", year, _cut(year, 0, 15), dt.date(year, 9, 14), f"9 tháng năm {year}")
    if s == "y":
        return Period(f"{year}-Y", "year", year, _cut(year, 0, 15), dt.date(year, 12, 14), f"Năm {year}")
    if s.startswith("q"):
        q = int(s[1])
        return Period(
            f"{year}-Q{q}",
            "quarter",
            year,
            _cut(year, 3 * q - 3, 15),
            dt.date(year, 3 * q, 14),
            f"Quý {_ROMAN[q]} năm {year}",
        )
    if s.startswith("m"):
        mo = int(s[1:])
        return Period(
            f"{year}-M{mo:02d}", "month", year, _cut(year, mo - 1, 15), dt.date(year, mo, 14), f"Tháng {mo} năm {year}"
        )
    if s.startswith("w"):
        w = int(s[1:])
        start = dt.date.fromisocalendar(year, w, 1)
        return Period(f"{year}-W{w:02d}", "week", year, start, start + dt.timedelta(days=6), f"Tuần {w} năm {year}")
    raise ValueError(f"unknown period suffix: {suffix!r}")  # pragma: no cover


def week_of(day: dt.date) -> Period:
    y, w, _ = day.isocalendar()
    return _make(y, f"w{w:02d}")


def due_before(period: Period, due_days: int) -> dt.datetime:
    """The instant a period's report stops being on time: the end of its last day to send
    (the window's last day + `due_days`, deadlines.csv) in Asia/Ho_Chi_Minh. The same instant as
    ref_report_due.due_before, which stores it in UTC."""
    return dt.datetime.combine(period.end + dt.timedelta(days=due_days + 1), dt.time(), VN_TZ)


def latest_week_due(at: dt.datetime, due_days: int) -> Period:
    """The latest week whose deadline has passed at `at` (an aware datetime): the week a roll-up
    run at `at` covers. Weeks: due `due_days` after their Sunday (2: "chậm nhất thứ Ba tuần sau"),
    so from Wednesday 00:00 the week just ended, until then the one before it."""
    if at.tzinfo is None:
        raise ValueError("latest_week_due needs an aware datetime")
    # due_before(W) <= at  <=>  W.end + due_days + 1 <= at's local day (due_before is a midnight)
    last_end = at.astimezone(VN_TZ).date() - dt.timedelta(days=due_days + 1)
    sunday = last_end - dt.timedelta(days=last_end.isoweekday() % 7)  # the last Sunday on or before it
    return week_of(sunday)


def periods_for_year(year: int) -> list[Period]:
    """Every period of a year, for the warehouse's period table."""
    codes = ["h1", "9m", "y"] + [f"q{q}" for q in range(1, 5)] + [f"m{m:02d}" for m in range(1, 13)]
    weeks = dt.date(year, 12, 28).isocalendar()[1]
    codes += [f"w{w:02d}" for w in range(1, weeks + 1)]
    return [_make(year, c) for c in codes]
