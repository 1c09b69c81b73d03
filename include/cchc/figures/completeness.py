"""Completeness and timeliness, read from the warehouse views (sql/marts/035_report_status.sql).

The views hold the rules (who is expected, which date meets the deadline); this module lists
their rows for the command line, the weekly roll-up's sheet and the late-unit alerts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, text

from cchc.common.messages import Labels, vi
from cchc.common.messages import text as message
from cchc.common.periods import Period
from cchc.warehouse.engine import as_date

STATUSES = ("on_time", "late", "refused", "held", "missing")
# held: the latest file was mailed from an address not registered for the unit (cchc.loading.holds);
# ops confirm or reject it on the status page.
CHASE = ("late", "refused", "held", "missing")
# Each status in Vietnamese, and what ops should do about it for sheets and alerts ("Vietnamese /
# English"): messages/completeness.yml (status_<status>, action_<status>).
STATUS_VI: Mapping[str, str] = Labels({s: f"completeness.status_{s}" for s in STATUSES}, vi)
ACTION: Mapping[str, str] = Labels({s: f"completeness.action_{s}" for s in CHASE}, lambda key: str(message(key)))
# What the weekly alert chases: units with no accepted report. A late but accepted report is shown
# on the roll-up's sheet (with its reminder) but nobody is chased for it.
ALERT = ("missing", "refused", "held")


@dataclass(frozen=True)
class UnitStatus:
    period_code: str
    unit_code: str
    unit_name_vi: str
    unit_type: str
    parent_code: str
    due_on: dt.date
    status: str  # on_time | late | refused | held | missing
    n_versions: int
    accepted_sent_on: dt.date | None


@dataclass(frozen=True)
class Rate:
    period_code: str
    group: str  # unit type, or a district's code for its communes
    expected: int
    reported: int
    accepted: int
    on_time: int
    late: int
    refused: int
    missing: int
    reporting_rate: float
    on_time_rate: float


_STATUS_COLS = (
    "period_code, unit_code, unit_name_vi, unit_type, parent_code, due_on, status, n_versions, accepted_sent_on"
)
_RATE_COLS = "expected, reported, accepted, on_time, late, refused, missing, reporting_rate, on_time_rate"


def statuses(engine: Engine, period_codes: list[str]) -> list[UnitStatus]:
    """Every expected unit's status for the periods, by period, unit type and unit."""
    if not period_codes:
        return []
    stmt = text(
        f"SELECT {_STATUS_COLS} FROM v_report_status WHERE period_code IN :periods "
        "ORDER BY period_code, unit_type, unit_code"
    ).bindparams(bindparam("periods", expanding=True))
    with engine.connect() as conn:
        rows = conn.execute(stmt, {"periods": period_codes}).all()
    return [UnitStatus(r[0], r[1], r[2], r[3], r[4] or "", as_date(r[5]), r[6], int(r[7]), as_date(r[8])) for r in rows]


def rates(engine: Engine, period_code: str) -> list[Rate]:
    """Rates by unit type, then communes' rates by district."""
    with engine.connect() as conn:
        by_type = conn.execute(
            text(
                f"SELECT period_code, unit_type, {_RATE_COLS} FROM v_completeness "
                "WHERE period_code = :p ORDER BY unit_type"
            ),
            {"p": period_code},
        ).all()
        by_district = conn.execute(
            text(
                f"SELECT period_code, district_code, {_RATE_COLS} FROM v_commune_completeness "
                "WHERE period_code = :p ORDER BY district_code"
            ),
            {"p": period_code},
        ).all()
    return [Rate(r[0], r[1], *(int(x) for x in r[2:9]), float(r[9]), float(r[10])) for r in by_type + by_district]


def due_in(engine: Engine, week: Period) -> list[str]:
    """The week itself and every period (month, quarter, half year…) whose deadline falls in it: what
    its roll-up chases. Not the week before, though its deadline (Tuesday) falls in this one: the
    roll-up of a week runs once that week is past its deadline, so the week before had its own."""
    with engine.connect() as conn:
        due = (
            conn.execute(
                text(
                    "SELECT DISTINCT d.period_code FROM ref_report_due d "
                    "JOIN ref_periods p ON p.period_code = d.period_code "
                    "WHERE d.due_on >= :a AND d.due_on <= :b AND p.kind <> 'week' "
                    "ORDER BY d.period_code"
                ),
                {"a": week.start, "b": week.end},
            )
            .scalars()
            .all()
        )
    return [week.code, *due]


def to_chase(rows: list[UnitStatus], today: dt.date | None = None) -> list[UnitStatus]:
    """Late, refused and missing units, once the deadline has passed (a missing report is not late before)."""
    return [r for r in rows if r.status in CHASE and (today is None or r.due_on < today)]


def to_alert(rows: list[UnitStatus], today: dt.date) -> list[UnitStatus]:
    """Units still without an accepted report (missing, or every file refused) once the deadline has
    passed: what the weekly alert names. Units that reported, even late, are not chased."""
    return [r for r in rows if r.status in ALERT and r.due_on < today]


def for_week(engine: Engine, week: Period) -> tuple[list[UnitStatus], list[Rate]]:
    """What the week's roll-up shows: statuses of the week and of periods due in it, and their rates."""
    codes = due_in(engine, week)
    return statuses(engine, codes), [r for c in codes for r in rates(engine, c)]
