"""The weekly roll-up's run logic: which week, whether anything changed, whom to alert.

- **Which week**: the latest week whose deadline has passed at the run's time. Weekly figures are
  due `due_days` after the week's Sunday (include/reference/deadlines.csv: 2, "chậm nhất thứ Ba
  tuần sau"), so a run from Wednesday 00:00 Asia/Ho_Chi_Minh covers the week just ended and a run
  on Monday or Tuesday still the week before: an on-time Tuesday file is in its week's roll-up.
- **Whether anything changed**: the week's inputs have a fingerprint (SHA-256 over the latest
  accepted year-to-date submission of each unit as of the week's end, the reporting statuses of the
  week and of the periods due in it, and the reference data). It is stored in `weekly_rollups` once
  a roll-up has finished; a later run that computes the same fingerprint skips the roll-up.
- **Whom to alert**: units still without an accepted report (missing, or every file refused) for
  the week or a period due in it, once past the deadline; units that reported, even late, are not
  chased. The ledger `weekly_alerts` holds one row per week, unit and kind alerted: a unit is
  alerted at most once per roll-up week, and a re-run sends nothing new.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from cchc.common import messages
from cchc.common.clock import now
from cchc.common.periods import VN_TZ, Period, due_before, latest_week_due, parse_period
from cchc.figures.completeness import due_in, for_week, statuses, to_alert
from cchc.figures.consolidate import consolidate_week, store
from cchc.ops.notify import alert, late_units_message
from cchc.outputs.publish import publish_week
from cchc.reference.registry import Reference
from cchc.warehouse.engine import STATE_TABLE, as_datetime, query, writing

# pg_advisory_xact_lock key of the alert ledger ("CCHW"): two runs never alert the same unit twice,
# and the warehouse's writer lock (loads) is not held while a message is sent.
ALERT_LOCK = 0x43434857


def _vn(utc_naive: object) -> str:
    """A stored UTC timestamp as Asia/Ho_Chi_Minh time, for log lines."""
    return as_datetime(utc_naive).replace(tzinfo=dt.UTC).astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


def week_due_days(ref: Reference) -> int:
    rule = ref.report_rule("week")
    if rule is None:
        raise ValueError("include/reference/deadlines.csv has no rule for weeks (period_kind 'week')")
    return rule.due_days


def week_deadline(ref: Reference, week: Period) -> dt.datetime:
    """When the week's figures stop being on time (aware, Asia/Ho_Chi_Minh)."""
    return due_before(week, week_due_days(ref))


def choose_week(ref: Reference, at: dt.datetime) -> Period:
    """The week a run at `at` rolls up: the latest one whose deadline has passed."""
    return latest_week_due(at, week_due_days(ref))


# -- fingerprint ---------------------------------------------------------------------------------


def input_lines(engine: Engine, week: Period) -> tuple[list[str], int]:
    """What the week's roll-up is made from, one sorted line each, and how many submissions."""

    with engine.connect() as conn:
        subs = conn.execute(
            text(query("latest_cumulative_as_of")), {"as_of": week.end, "window_start": week.window_start}
        ).all()
        reference = conn.execute(text(f"SELECT checksum FROM {STATE_TABLE} WHERE item = 'reference'")).scalar()
    lines = sorted(f"submission\t{r.unit_code}\t{r.submission_id}" for r in subs)
    lines += sorted(
        f"status\t{s.period_code}\t{s.unit_code}\t{s.status}" for s in statuses(engine, due_in(engine, week))
    )
    lines.append(f"reference\t{reference or ''}")
    return lines, len(subs)


def fingerprint(engine: Engine, week: Period) -> tuple[str, int]:
    """SHA-256 of the week's inputs, and the number of submissions its figures come from."""
    lines, n = input_lines(engine, week)
    return hashlib.sha256("\n".join([week.code, *lines]).encode()).hexdigest(), n


@dataclass(frozen=True)
class LastRollup:
    fingerprint: str
    run_at: dt.datetime  # the run's time, UTC, naive
    rolled_at: dt.datetime  # UTC, naive
    run_id: str


def last_rollup(engine: Engine, week_code: str) -> LastRollup | None:
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT fingerprint, run_at, rolled_at, run_id FROM weekly_rollups WHERE week_code = :w"),
            {"w": week_code},
        ).first()
    return None if row is None else LastRollup(row[0].strip(), as_datetime(row[1]), as_datetime(row[2]), row[3])


def _utc(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(tzinfo=None) if at.tzinfo else at


def record_rollup(
    engine: Engine, week_code: str, fingerprint_: str, n_submissions: int, run_id: str, run_at: dt.datetime
) -> None:
    """Remember what the week was rolled up from, and at which run time (called once the whole
    roll-up, its alert and its report have succeeded)."""
    with writing(engine) as conn:
        conn.execute(text("DELETE FROM weekly_rollups WHERE week_code = :w"), {"w": week_code})
        conn.execute(
            text(
                "INSERT INTO weekly_rollups (week_code, fingerprint, n_submissions, run_at, rolled_at, "
                "run_id) VALUES (:w, :f, :n, :a, :t, :r)"
            ),
            {"w": week_code, "f": fingerprint_, "n": n_submissions, "a": _utc(run_at), "t": now(), "r": run_id[:250]},
        )


# -- the run's plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    week: str
    fingerprint: str
    n_submissions: int
    at: str  # the run's time (ISO, aware) the week was chosen at
    run: bool  # False: the inputs are those of the last roll-up, nothing to do
    message: str  # the decision, Vietnamese / English, for the log

    def as_xcom(self) -> dict:
        return asdict(self)


def plan_run(engine: Engine, ref: Reference, at: dt.datetime, week: str | None = None, force: bool = False) -> Plan:
    """Which week a run at `at` rolls up (`week` if given), and whether it must: not when the week's
    fingerprint equals that of its last roll-up (unless `force`)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    period = parse_period(week) if week else choose_week(ref, at)
    if period.kind != "week":
        raise ValueError(f"{period.code} is not a week")
    deadline = week_deadline(ref, period)
    chosen = (
        messages.text("alerts.week_given")
        if week
        else messages.text("alerts.week_latest", at=f"{at.astimezone(VN_TZ):%d/%m/%Y %H:%M}")
    )
    head = (
        f"{period.code} ({period.start:%d/%m} – {period.end:%d/%m/%Y}, {messages.text('mail.due')} "
        f"{deadline - dt.timedelta(seconds=1):%d/%m/%Y %H:%M}): {chosen}"
    )
    fp, n = fingerprint(engine, period)
    last = last_rollup(engine, period.code)
    # A roll-up run before the deadline (a `week` asked for early) alerted nobody for the week: it
    # does not stand for the one after the deadline.
    early = last is not None and last.run_at < _utc(deadline)
    rolled = {"rolled_vi": _vn(last.rolled_at), "rolled_en": f"{last.rolled_at:%Y-%m-%d %H:%M}"} if last else {}
    if last is not None and last.fingerprint == fp and not early and not force:
        message = f"{head}. {messages.text('alerts.week_skipped', **rolled, run_id=last.run_id, fingerprint=fp[:12])}"
        return Plan(period.code, fp, n, at.isoformat(), False, message)
    if last is None:
        why = messages.text("alerts.why_never")
    elif last.fingerprint == fp and early:
        why = messages.text("alerts.why_early", at=_vn(last.run_at))
    elif last.fingerprint == fp:
        why = messages.text("alerts.why_forced")
    else:
        why = messages.text("alerts.why_changed", **rolled)
    message = (
        f"{head}. {messages.text('alerts.rolling_up')}: {why}; {messages.text('alerts.submissions', n=n)}, "
        f"{messages.text('alerts.fingerprint')} {fp[:12]}."
    )
    return Plan(period.code, fp, n, at.isoformat(), True, message)


# -- late-unit alerts ----------------------------------------------------------------------------


@contextmanager
def _ledger(engine: Engine) -> Iterator[Connection]:
    """A transaction that alone reads and writes the ledger: SQLite's single write lock taken up
    front; on PostgreSQL an advisory lock of its own (loads go on meanwhile)."""
    if engine.dialect.name == "sqlite":
        with writing(engine) as conn:
            yield conn
        return
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ALERT_LOCK})
        yield conn


@dataclass(frozen=True)
class AlertResult:
    rows: list  # the UnitStatus rows the message named ([] if none)
    channel: str  # smtp | log | '' (nothing sent)
    already: int  # units due an alert that the ledger says were alerted this week already


def alert_units(
    engine: Engine, week: Period, today: dt.date, run_id: str = "", send: Callable | None = None
) -> AlertResult:
    """Alert ops, once per week and unit, about the units still without an accepted report for the
    week or a period due in it, past the deadline on `today`.

    The ledger rows are written and the message sent in one transaction: if sending fails nothing
    is recorded and the task's retry sends again; a unit in the ledger is never alerted again that
    week."""

    send = send or alert
    due = to_alert(statuses(engine, due_in(engine, week)), today)
    if not due:
        return AlertResult([], "", 0)
    with _ledger(engine) as conn:
        done = set(
            conn.execute(text("SELECT unit_code FROM weekly_alerts WHERE week_code = :w"), {"w": week.code}).scalars()
        )
        new = [r for r in due if r.unit_code not in done]
        already = len({r.unit_code for r in due} & done)
        if not new:
            return AlertResult([], "", already)
        groups: dict[tuple[str, str], list] = {}
        for r in new:
            groups.setdefault((r.unit_code, r.status), []).append(r)
        at = now()
        conn.execute(
            text(
                "INSERT INTO weekly_alerts (week_code, unit_code, kind, period_codes, due_on, alerted_at, "
                "channel, run_id) VALUES (:w, :u, :k, :p, :d, :t, '', :r)"
            ),
            [
                {
                    "w": week.code,
                    "u": u,
                    "k": k,
                    "p": ", ".join(sorted({r.period_code for r in rs}))[:200],
                    "d": min(r.due_on for r in rs),
                    "t": at,
                    "r": run_id[:250],
                }
                for (u, k), rs in groups.items()
            ],
        )
        channel = send(late_units_message(new, week.code))
        conn.execute(
            text("UPDATE weekly_alerts SET channel = :c WHERE week_code = :w AND channel = ''"),
            {"c": channel, "w": week.code},
        )
    return AlertResult(new, channel, already)


def alerted(engine: Engine, week_code: str) -> list[tuple[str, str, str]]:
    """The ledger of a week: (unit, kind, periods), by unit."""
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT unit_code, kind, period_codes FROM weekly_alerts WHERE week_code = :w ORDER BY unit_code, kind"
                ),
                {"w": week_code},
            )
        ]


# -- the roll-up itself --------------------------------------------------------------------------


def roll_up(engine: Engine, ref: Reference, week: Period, out_dir: Path) -> dict:
    """Consolidate the week, store its figures, write its workbook; a summary for the log and XCom."""

    result = consolidate_week(engine, ref, week)
    store(engine, result, "weekly_figures")
    path = publish_week(out_dir, result, ref, for_week(engine, week), engine=engine)
    lines = [
        f"{week.code} ({week.start} – {week.end}): {len(result.units_reported)} units with figures, "
        f"{len(result.units_missing)} without; workbook {path}"
    ]
    lines += [
        f"  {code}: {result.figures[code].text}"
        for code in ("plan.tasks_done", "pakn.received_new", "pakn.resolved", "dossier.received")
        if code in result.figures
    ]
    return {
        "week": week.code,
        "workbook": str(path),
        "units_reported": len(result.units_reported),
        "log": "\n".join(lines),
    }
