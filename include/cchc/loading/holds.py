"""Workbooks held until ops confirm who sent them.

A workbook e-mailed for unit X from an address not registered for X (ref_unit_contacts, on the day
it was received), or in a message the receiving server's SPF/DKIM/DMARC check failed, is loaded
as `held` (cchc.loading.load): kept with its figures, its version numbered, but not counted — a
spoofed or look-alike address never changes a figure on its own. Ops see it on the status page and
confirm it (it then counts as the verdict it was given, with who confirmed and when) or reject it
(it stays refused, with who and when). Either decision is final and recorded in `sender_holds`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, text

from cchc.checks.validate import REJECTED
from cchc.common.clock import now
from cchc.common.messages import text as message
from cchc.intake.receipts import HELD
from cchc.warehouse.engine import as_datetime, writing

CONFIRMED, REFUSED = "confirmed", "rejected"


@dataclass(frozen=True)
class Hold:
    checksum: str
    unit_code: str
    period_code: str
    sender: str
    reason: str  # unregistered | auth_failed
    verdict_status: str  # what it counts as once confirmed
    file_name: str
    version: int
    held_at: dt.datetime
    message_id: str
    subject: str
    decision: str | None = None
    decided_by: str | None = None
    decided_at: dt.datetime | None = None

    def to_dict(self) -> dict:
        return {k: (v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v) for k, v in self.__dict__.items()}


_HOLDS_SQL = (
    "SELECT h.checksum, h.unit_code, h.period_code, h.sender, h.reason, h.verdict_status, s.file_name, s.version, "
    "h.held_at, m.message_id, m.subject, h.decision, h.decided_by, h.decided_at FROM sender_holds h "
    "JOIN submissions s ON s.submission_id = h.checksum JOIN mail_messages m ON m.message_key = h.message_key"
)


def holds(engine: Engine, period_code: str | None = None, *, undecided: bool = False) -> list[Hold]:
    """The holds (of a period), oldest first; with `undecided`, only those still waiting."""
    where, params = [], {}
    if period_code:
        where.append("h.period_code = :p")
        params["p"] = period_code
    if undecided:
        where.append("h.decision IS NULL")
    sql = _HOLDS_SQL + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY h.held_at, h.checksum"
    with engine.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    return [
        Hold(*r[:8], as_datetime(r[8]), r[9], r[10], r[11], r[12], as_datetime(r[13]) if r[13] else None) for r in rows
    ]


class HoldError(ValueError):
    """A decision that cannot be taken; its text is Vietnamese / English for the person deciding."""


def find(engine: Engine, prefix: str) -> Hold:
    """The hold whose checksum starts with `prefix` (the receipt's 12 characters are enough)."""
    prefix = prefix.strip().lower()
    found = [h for h in holds(engine) if prefix and h.checksum.startswith(prefix)]
    if len(found) != 1:
        raise HoldError(
            str(message("loading.holds_not_found" if not found else "loading.holds_ambiguous", receipt=prefix))
        )
    return found[0]


def decide(engine: Engine, checksum_prefix: str, decision: str, by: str) -> Hold:
    """Confirm or reject a held workbook, once: `confirmed` counts it as its verdict, `rejected`
    refuses it. `by` (who decided) is required and recorded."""
    if decision not in (CONFIRMED, REFUSED):
        raise HoldError(str(message("loading.holds_bad_decision", decision=decision)))
    if not by.strip():
        raise HoldError(str(message("loading.holds_who")))
    hold = find(engine, checksum_prefix)
    at = now()
    with writing(engine) as conn:  # under the writer lock: two people deciding at once, one wins
        done = conn.execute(
            text(
                "UPDATE sender_holds SET decision = :d, decided_by = :by, decided_at = :t "
                "WHERE checksum = :k AND decision IS NULL"
            ),
            {"d": decision, "by": by.strip()[:200], "t": at, "k": hold.checksum},
        ).rowcount
        if not done:
            raise HoldError(str(message("loading.holds_decided_before", receipt=hold.checksum[:12])))
        status = hold.verdict_status if decision == CONFIRMED else REJECTED
        conn.execute(
            text("UPDATE submissions SET status = :s WHERE submission_id = :k AND status = :held"),
            {"s": status, "k": hold.checksum, "held": HELD},
        )
    return find(engine, hold.checksum)
