"""The ingest run, step by step: receive → read → validate (batch) → load (one transaction each).

The Airflow DAG calls these steps as separate tasks (reading and loading mapped per file,
validation once for the batch); `cchc ingest DIR` calls `ingest_files` which chains the same steps
in one process. Between tasks, read submissions are staged as JSON under data/staging/<run>/.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from cchc.config import data_dir, output_dir
from cchc.findings import Finding
from cchc.load import DUPLICATE, Received, load_submission, receive
from cchc.periods import parse_period
from cchc.publish import write_feedback
from cchc.read import Submission, TaskRow, ValueRow, read_workbook
from cchc.reference import Reference
from cchc.validate import ACCEPTED, Verdict, validate_batch
from cchc.warehouse import unit_history

OUTCOME_VI = {
    "accepted": "tiếp nhận",
    "accepted_with_warnings": "tiếp nhận, có lưu ý",
    "rejected": "từ chối",
    "duplicate": "trùng (đã nhận)",
}


@dataclass
class Outcome:
    file_name: str
    checksum: str
    unit_code: str
    period_code: str
    outcome: str  # accepted | accepted_with_warnings | rejected | duplicate
    version: int | None = None
    findings: list[str] = field(default_factory=list)
    feedback: str = ""

    def line(self) -> str:
        codes = ",".join(sorted(set(self.findings))) or "-"
        return f"{self.file_name}\t{self.outcome}\t{self.unit_code or '?'}\t{self.period_code or '?'}\t{codes}"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# --- staging: a read Submission as JSON, so mapped tasks can hand it to the batch validation ---

def _default(o: object) -> object:
    if isinstance(o, (dt.date, dt.datetime)):
        return o.isoformat()
    if isinstance(o, Decimal):
        return str(o)
    raise TypeError(type(o))


def submission_to_json(sub: Submission) -> str:
    d = dataclasses.asdict(sub)
    d["period"] = sub.period.code if sub.period else None
    return json.dumps(d, default=_default, ensure_ascii=False)


def submission_from_json(text: str) -> Submission:
    d = json.loads(text)
    day = lambda s: dt.date.fromisoformat(s) if s else None  # noqa: E731
    return Submission(
        **{k: d[k] for k in ("file_name", "unit_code", "unit_name", "period_raw", "preparer", "phone", "email",
                             "form_version", "info_cells")},
        period=parse_period(d["period"]) if d["period"] else None,
        as_of=day(d["as_of"]), sent_on=day(d["sent_on"]),
        values=[ValueRow(**{**v, "value": Decimal(v["value"]) if v["value"] is not None else None})
                for v in d["values"]],
        tasks=[TaskRow(**{**t, "completed_on": day(t["completed_on"])}) for t in d["tasks"]],
        findings=[Finding(**f) for f in d["findings"]],
    )


def staging_dir(run_id: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in run_id)
    return data_dir() / "staging" / safe


def read_received(received: Received) -> Submission:
    return read_workbook(Path(received.archive_path), received.file_name)


def read_and_validate(engine: Engine, ref: Reference, received: list[Received]) -> list[Verdict]:
    """Read each file, then validate them all in one batch against the reference and, for the
    cross-period checks, the units' history in the warehouse. One Verdict per file, in order."""
    subs = [(r.checksum, read_received(r)) for r in received]
    return validate_batch(subs, ref, unit_history(engine, {s.unit_code for _, s in subs}))


def feedback_path(verdict: Verdict, version: int) -> Path:
    sub = verdict.submission
    stem = f"{sub.unit_code or 'KHONG_RO'}_{sub.period_code or 'KHONG_RO'}_v{version}"
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)
    return output_dir() / "feedback" / f"{stem}_ket_qua_kiem_tra.xlsx"


def load_verdict(engine: Engine, verdict: Verdict, ref: Reference, received: Received, *,
                 replace_rejected: bool = False) -> Outcome:
    """Load one validated submission and, if it was refused or flagged, write its feedback."""
    status, version = load_submission(engine, verdict, replace_rejected=replace_rejected)
    sub = verdict.submission
    out = Outcome(received.file_name, received.checksum, sub.unit_code, sub.period_code, status, version,
                  [f.code for f in verdict.findings])
    if status not in (ACCEPTED, DUPLICATE):
        out.feedback = str(write_feedback(feedback_path(verdict, version), verdict, ref))
    return out


def ingest_files(engine: Engine, ref: Reference, files: list[Path], run_id: str = "cli") -> list[Outcome]:
    """Receive, read, validate and load a list of files; one Outcome per file, in order."""
    received = [receive(engine, p.name, p.read_bytes(), run_id) for p in files]
    first: dict[str, Received] = {}  # checksum -> the arrival that gets loaded
    for r in received:
        if not r.duplicate:
            first.setdefault(r.checksum, r)
    verdicts = read_and_validate(engine, ref, list(first.values()))
    loaded = {v.key: load_verdict(engine, v, ref, first[v.key]) for v in verdicts}
    return [loaded[r.checksum] if first.get(r.checksum) is r
            else Outcome(r.file_name, r.checksum, r.unit_code, r.period_code, DUPLICATE) for r in received]


def quarantined(engine: Engine, checksums: list[str] | None = None) -> list[Received]:
    """Files whose submission stands refused (the v_quarantine view), oldest first."""
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(text("SELECT checksum, file_name, archive_path FROM v_quarantine "
                                 "ORDER BY first_seen_at, checksum")).all()
    wanted = set(checksums or [])
    return [Received(c, name, path, Path(path).stat().st_size, duplicate=False)
            for c, name, path in rows if not wanted or c in wanted or any(c.startswith(w) for w in wanted)]


def reprocess(engine: Engine, ref: Reference, files: list[Received]) -> list[Outcome]:
    """Re-check quarantined files from the archive against today's reference data; a file now
    accepted replaces its refusal (kept in `reprocessings`), one still refused gets fresh feedback."""
    verdicts = read_and_validate(engine, ref, files)
    return [load_verdict(engine, v, ref, r, replace_rejected=True) for r, v in zip(files, verdicts, strict=True)]


def summary(outcomes: list[Outcome]) -> dict[str, int]:
    counts = {k: 0 for k in OUTCOME_VI}
    for o in outcomes:
        counts[o.outcome] = counts.get(o.outcome, 0) + 1
    return counts
