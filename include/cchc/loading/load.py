"""The ingest steps for many files at once: what makes a national run (16,000 files) fast.

- `receive_many`: hash every file, ask the warehouse once per chunk which checksums it knows,
  archive the new ones and record all receipts in one transaction per chunk. A rerun over
  unchanged files is hashing plus a few queries.
- `read_many` / `read_checked`: the reader over a process pool (reading is CPU-bound Python; the
  GIL would keep threads on one core). Small batches are read in-process: a pool is not worth
  starting for them. `read_checked` also runs the reference checks in the reader, so what comes
  back is ready for the batch validation (cchc.loading.ingest.validated_batches pipelines the two).
- `load_many`: one transaction per chunk of submissions, each table written with one bulk insert
  (executemany on SQLite, `execute_values` on PostgreSQL/psycopg2). Atomicity holds per chunk:
  a crash rolls the whole chunk back, so no submission is ever half loaded; a rejected submission
  gets its row and findings but never figures.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine, bindparam, text

from cchc.checks.validate import REJECTED
from cchc.common.batching import chunks
from cchc.common.clock import VN_TIME, now
from cchc.common.findings import ERROR
from cchc.intake.receipts import DUPLICATE, HELD
from cchc.warehouse.bulk import insert_rows, select_in
from cchc.warehouse.engine import as_datetime, writing

# --- receive ---------------------------------------------------------------------------------


# --- read ------------------------------------------------------------------------------------


# --- load ------------------------------------------------------------------------------------

SUBMISSION_COLS = (
    "submission_id",
    "unit_code",
    "period_code",
    "version",
    "status",
    "as_of",
    "sent_on",
    "file_name",
    "preparer",
    "phone",
    "email",
    "form_version",
    "n_errors",
    "n_warnings",
    "loaded_at",
)
VALUE_COLS = ("submission_id", "indicator_code", "value", "raw_text", "sheet", "cell")
TASK_COLS = ("submission_id", "task_code", "status", "completed_on", "status_raw", "sheet", "cell")
FINDING_COLS = ("submission_id", "seq", "code", "severity", "sheet", "cell", "message_vi", "message_en")


def _set_aside(conn: Connection, key: str, old, new_status: str) -> None:
    """Keep a refused submission's verdict in `reprocessings`, then clear it for the new one."""

    codes = conn.execute(
        text("SELECT code, sheet, cell FROM findings WHERE submission_id = :k ORDER BY seq"), {"k": key}
    ).all()
    conn.execute(
        text(
            "INSERT INTO reprocessings (submission_id, reprocessed_at, old_unit_code, old_period_code, "
            "old_version, old_status, old_findings, new_status) VALUES (:k, :at, :u, :p, :v, :s, :f, :n)"
        ),
        {
            "k": key,
            "at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            "u": old.unit_code,
            "p": old.period_code,
            "v": old.version,
            "s": old.status,
            "n": new_status,
            "f": "; ".join(f"{c}@{s}!{cell}" if cell else c for c, s, cell in codes)[:4000],
        },
    )
    conn.execute(text("DELETE FROM findings WHERE submission_id = :k"), {"k": key})
    conn.execute(text("DELETE FROM submissions WHERE submission_id = :k"), {"k": key})


_ARRIVAL_SQL = (
    "SELECT f.checksum, COALESCE(a.arrived_at, f.first_seen_at), f.first_seen_at, f.first_name "
    "FROM received_files f LEFT JOIN file_arrivals a ON a.checksum = f.checksum WHERE f.checksum IN :keys"
)


def _arrival_key(row) -> tuple:
    """Delivery order: arrival, then receipt time, then the file's name, then its bytes' checksum."""

    checksum, arrived, first_seen, name = row
    return (as_datetime(arrived), as_datetime(first_seen), name, checksum)


def _number_versions(conn: Connection, verdicts: list, skip: set[str]) -> dict[str, int]:
    """Versions for the new submissions of `verdicts` (keys not in `skip`): each unit's period numbered
    1, 2, … in delivery order, whatever order the files are loaded in. A file that arrived before
    ones already loaded (chunks of one run loaded by two workers in either order, a retried chunk)
    takes its place and the later ones move up one, so the highest version is always the latest
    delivered."""
    new = [v for v in verdicts if v.key not in skip]
    if not new:
        return {}
    groups = {(v.submission.unit_code[:16], v.submission.period_code) for v in new}
    stmt = text(
        "SELECT s.submission_id, s.unit_code, s.period_code, s.version, COALESCE(a.arrived_at, f.first_seen_at), "
        "f.first_seen_at, f.first_name FROM submissions s JOIN received_files f ON f.checksum = s.submission_id "
        "LEFT JOIN file_arrivals a ON a.checksum = s.submission_id "
        "WHERE s.unit_code IN :units AND s.period_code IN :periods"
    ).bindparams(bindparam("units", expanding=True), bindparam("periods", expanding=True))
    members: dict[tuple[str, str], list[tuple]] = {}
    stored: dict[str, int] = {}
    for key, unit, period, version, arrived, first_seen, name in conn.execute(
        stmt, {"units": sorted({u for u, _ in groups}), "periods": sorted({p for _, p in groups})}
    ):
        if (unit, period) in groups:
            members.setdefault((unit, period), []).append(_arrival_key((key, arrived, first_seen, name)))
            stored[key] = version
    arrivals = {}
    for part in chunks(sorted({v.key for v in new}), 500):
        arrivals.update({row[0]: _arrival_key(row) for row in select_in(conn, _ARRIVAL_SQL, part)})
    seen = set()
    for v in new:
        if v.key not in seen:
            seen.add(v.key)
            members.setdefault((v.submission.unit_code[:16], v.submission.period_code), []).append(arrivals[v.key])
    numbered: dict[str, int] = {}
    for group in members.values():
        for version, key in enumerate(sorted(group), start=1):
            numbered[key[3]] = version
    moved = [(k, numbered[k]) for k, old in stored.items() if numbered[k] != old]
    if moved:  # through negative numbers: (unit, period, version) stays unique at every statement
        for k, version in moved:
            conn.execute(text("UPDATE submissions SET version = :v WHERE submission_id = :k"), {"v": -version, "k": k})
        conn.execute(text("UPDATE submissions SET version = -version WHERE version < 0"))
    return {k: n for k, n in numbered.items() if k not in stored}


def _stored_outcomes(conn: Connection, run_id: str, keys: list[str]) -> dict[str, tuple[str, int]]:
    """key -> (outcome, version) of a file this run loaded before (a retried task)."""
    return {
        k: (o, v)
        for k, o, v in select_in(
            conn,
            "SELECT checksum, outcome, version FROM run_outcomes WHERE run_id = :run AND checksum IN :keys",
            keys,
            run=run_id,
        )
    }


def _submission_row(v, version: int, at: dt.datetime, status: str) -> tuple:
    """The `submissions` row of a verdict (SUBMISSION_COLS), text cut to its column's width."""
    sub = v.submission
    n_err = sum(f.severity == ERROR for f in v.findings)
    return (
        v.key,
        sub.unit_code[:16],
        sub.period_code,
        version,
        status,
        sub.as_of,
        sub.sent_on,
        sub.file_name,
        sub.preparer[:200],
        sub.phone[:50],
        sub.email[:200],
        sub.form_version[:32],
        n_err,
        len(v.findings) - n_err,
        at,
    )


def _clear_suspects(conn: Connection, done: set[str]) -> None:
    """Read to the end and given a verdict: no longer a suspect (cchc.checks.isolate)."""
    for part in chunks(sorted(done), 500):
        conn.execute(
            text("DELETE FROM read_attempts WHERE checksum IN :keys").bindparams(bindparam("keys", expanding=True)),
            {"keys": part},
        )


_MAIL_ORIGIN_SQL = (
    "SELECT a.checksum, m.message_key, m.sender, m.auth_failed, m.received_at FROM mail_attachments a "
    "JOIN mail_messages m ON m.message_key = a.message_key WHERE a.checksum IN :keys"
)
_CONTACTS_SQL = (
    "SELECT unit_code, LOWER(email), valid_from, valid_to FROM ref_unit_contacts WHERE LOWER(email) IN :keys"
)


def _holds(conn: Connection, verdicts: list, at: dt.datetime) -> set[str]:
    """Keys of the new, countable submissions that arrived only by e-mail from senders not registered
    for their unit on the day received (or whose mail failed the server's SPF/DKIM/DMARC check): held,
    each with its `sender_holds` row, in the load's transaction. A file also sent from a registered
    address, or dropped in the landing folder by the office, is not held."""
    countable = {v.key: v for v in verdicts if v.status != REJECTED}
    if not countable:
        return set()
    origins: dict[str, list[tuple]] = {}
    for key, message, sender, auth_failed, received in select_in(conn, _MAIL_ORIGIN_SQL, sorted(countable)):
        origins.setdefault(key, []).append((message, sender, int(auth_failed or 0), as_datetime(received)))
    if not origins:
        return set()
    senders = sorted({o[1] for os_ in origins.values() for o in os_ if o[1]})
    contacts: dict[str, list[tuple]] = {}
    for unit, email, start, end in select_in(conn, _CONTACTS_SQL, senders) if senders else []:
        contacts.setdefault(email.lower(), []).append((unit, start, end))
    landed = {
        k
        for (k,) in select_in(
            conn, "SELECT DISTINCT checksum FROM landing_deliveries WHERE checksum IN :keys", sorted(origins)
        )
    }
    holds, rows = set(), []
    for key, deliveries in origins.items():
        v = countable[key]
        unit = v.submission.unit_code[:16]
        if key in landed or any(
            not failed and _registered(contacts.get(s, ()), unit, r) for _, s, failed, r in deliveries
        ):
            continue
        message, sender, failed, _ = deliveries[0]
        holds.add(key)
        rows.append(
            (
                key,
                message,
                sender[:254],
                unit,
                v.submission.period_code,
                v.status,
                "auth_failed" if failed else "unregistered",
                at,
            )
        )
    insert_rows(
        conn,
        "sender_holds",
        ("checksum", "message_key", "sender", "unit_code", "period_code", "verdict_status", "reason", "held_at"),
        rows,
    )
    return holds


def _registered(rows, unit: str, received: dt.datetime) -> bool:
    """Whether one of a sender's contact rows (unit, valid from, valid to) is `unit`'s on the day received."""
    day = (received + VN_TIME).date()
    return any(u == unit and _day(start) <= day and (end is None or day <= _day(end)) for u, start, end in rows)


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def load_many(
    engine: Engine, verdicts: list, *, replace_rejected: bool = False, run_id: str | None = None, on_loaded=None
) -> list[tuple[str, int]]:
    """Load validated submissions in one transaction; (status, version) per verdict, in order.

    A key already in the warehouse (or twice in the list) is not loaded again: with `run_id`, a
    file this run loaded before (a retried task) gets the outcome the run stored for it
    (`run_outcomes`); otherwise it is a duplicate, or refused again if it stands refused. Unless it
    stands refused and `replace_rejected` is set (reprocessing after a fix to reference data): its
    earlier verdict then goes to `reprocessings` and the new one takes its place. Versions follow
    delivery order (`_number_versions`). `on_loaded(conn, results)` runs inside the transaction,
    so what it records commits with the load.
    """

    if not verdicts:
        return []
    keys = sorted({v.key for v in verdicts})
    at = now()
    subs, values, tasks, found, out = [], [], [], [], []
    with writing(engine) as conn:  # one loader at a time: no key loaded twice, no version numbered twice
        rows = {
            r.submission_id: r
            for r in select_in(
                conn,
                "SELECT submission_id, version, status, unit_code, "
                "period_code FROM submissions WHERE submission_id IN :keys",
                keys,
            )
        }
        before = _stored_outcomes(conn, run_id, keys) if run_id else {}
        if replace_rejected:
            for v in verdicts:
                old = rows.get(v.key)
                if old is not None and old.status == REJECTED:
                    _set_aside(conn, v.key, old, v.status)
                    del rows[v.key]
        versions = _number_versions(conn, verdicts, set(rows))
        holds = _holds(conn, [v for v in verdicts if v.key not in rows and v.key not in before], at)
        done: set[str] = set()
        for v in verdicts:
            key = v.key
            if key in before:
                out.append(before[key])
                continue
            if key in rows or key in done:
                old = rows.get(key)
                out.append(
                    (
                        REJECTED if old is not None and old.status == REJECTED else DUPLICATE,
                        old.version if old is not None else versions[key],
                    )
                )
                continue
            done.add(key)
            status = HELD if key in holds else v.status
            subs.append(_submission_row(v, versions[key], at, status))
            if v.status != REJECTED:
                values += [(key, r.code, r.value, r.raw[:100], r.sheet, r.cell) for r in v.submission.values]
                tasks += [
                    (key, t.task_code, t.status, t.completed_on, t.status_raw[:100], t.sheet, t.cell)
                    for t in v.submission.tasks
                ]
            found += [
                (key, i, f.code, f.severity, f.sheet[:100], f.cell[:16], f.message_vi[:2000], f.message_en[:2000])
                for i, f in enumerate(v.findings, start=1)
            ]
            out.append((status, versions[key]))
        for table, cols, rows_ in (
            ("submissions", SUBMISSION_COLS, subs),
            ("indicator_values", VALUE_COLS, values),
            ("task_statuses", TASK_COLS, tasks),
            ("findings", FINDING_COLS, found),
        ):
            insert_rows(conn, table, cols, rows_)
        _clear_suspects(conn, done)
        if on_loaded is not None:
            on_loaded(conn, out)
    return out
