"""A run's Data Docs index with every file's verdict: what summarise builds (cchc.checks.datadocs),
with no GX: the chunk tasks wrote GX's pages (cchc.checks.datadocs.build_chunk_docs).

GX sees only the workbooks it could read; a file that is not a workbook (FILE_NOT_XLSX…) is refused
before any suite runs. So that nothing refused is missing from the run's documentation, the index
also lists every refused file of the run, from its stored outcome and the warehouse's findings:
when it was received, its unit (or that none could be identified), its reasons, what the unit is
told to do (cchc.checks.advice) and its feedback workbook. Every other file with findings is listed
with its codes, and every file's verdict is in files.csv beside the index.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cchc.checks.advice import FILE_CODES, refused_advice, unit_shown
from cchc.checks.datadocs import RefusedFile, build_run_docs
from cchc.common.findings import Finding
from cchc.loading.ingest import Outcome
from cchc.ops.unit_mail import warehouse_facts


def refused_files(engine, outcomes: Sequence[Outcome]) -> list[RefusedFile]:
    """The run's refused files, in the run's order, as the Data Docs index lists them."""
    refused = [o for o in outcomes if o.outcome == "rejected"]
    received, findings = warehouse_facts(engine, [o.checksum for o in refused])
    out = []
    for o in refused:
        rows = findings.get(o.checksum, [])
        reasons = tuple(
            Finding(code, severity, sheet or "", cell or "", vi, en) for severity, sheet, cell, vi, en, code in rows
        )
        codes = [f.code for f in reasons] or list(o.findings)
        out.append(
            RefusedFile(
                file_name=o.file_name,
                received_at=received.get(o.checksum),
                unit=unit_shown(o.unit_code),
                period_code=o.period_code or "",
                reasons=reasons,
                advice=refused_advice(codes, o.unit_code, o.period_code, where="feedback"),
                feedback=o.feedback,
                validated=not FILE_CODES & set(codes),
                codes=tuple(codes),
            )
        )
    return out


def build_docs(engine, run_id: str, messages: Sequence[dict], outcomes: Sequence[Outcome]) -> Path | None:
    """The run's Data Docs index and files.csv (cchc.checks.datadocs.build_run_docs): its refused files
    with their reasons, its other files with findings, and the chunks' validations."""
    return build_run_docs(run_id, messages, refused_files(engine, outcomes), outcomes)
