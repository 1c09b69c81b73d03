"""The work of cchc_ingest's tasks (dags/cchc_ingest.py wires them): each function takes the task's
Airflow context and returns what the task returns (its XCom). What each logs is what ops read."""

from __future__ import annotations

import dataclasses
import imaplib
import os
import shutil

from airflow.sdk import BaseHook, ObjectStoragePath
from airflow.sdk.exceptions import AirflowNotFoundException

from cchc.common.config import landing_url, staging_dir
from cchc.common.messages import text, vi
from cchc.intake.receipts import Received
from cchc.loading.ingest import complete_run_outcomes, run_outcomes, summary
from cchc.loading.landing import take, unprocessed
from cchc.loading.mailbox import pull, run_messages
from cchc.ops.notify import Message, alert, refused_files_message, subject
from cchc.ops.replies import answer_messages
from cchc.ops.run_docs import build_docs
from cchc.ops.unit_mail import tell_run
from cchc.orchestration.mapped import load_chunk as load
from cchc.orchestration.mapped import outcome_label, print_outcomes, stage_chunks
from cchc.orchestration.runtime import declared_receipt, prepared_engine, warehouse_engine


def receive(context) -> list[dict]:
    """Archive every landing file under its checksum in arrival order, record the receipts, clear the
    inbox; every received file without a verdict (this run's, and any an interrupted run left)."""
    engine, _ = prepared_engine()
    declared_on, declared_by = declared_receipt(context)
    # A file still being copied (modified in the last seconds) waits for the next run.
    taken = take(
        engine,
        ObjectStoragePath(landing_url()),
        context["run_id"],
        settle_seconds=float(os.environ.get("CCHC_LANDING_SETTLE_SECONDS", "2")),
        declared_on=declared_on,
        declared_by=declared_by,
    )
    take_mailbox(engine, context["run_id"])
    fresh = [dataclasses.asdict(r) for r in unprocessed(engine)]
    now_taken = {r.checksum for r in taken.received}
    left = sum(r["checksum"] not in now_taken for r in fresh)
    print(text("dags.received_left", n=len(fresh), left=left) if left else text("dags.received", n=len(fresh)))
    if taken.failed:  # e.g. the archive's disk is full: the files wait in landing; the run goes on
        lines = taken.failure_lines()
        print("\n".join(lines))
        alert(Message(subject("dags.not_archived_subject", n=len(lines)), "\n".join(lines)))
    return fresh


MAILBOX_CONN_ID = "cchc_imap"


def take_mailbox(engine, run_id: str) -> None:
    """Take the office mailbox's messages (cchc.loading.mailbox) through Airflow's IMAP hook. A mailbox
    that cannot be read is alerted and left for the next run: the landing folder is still taken."""
    from airflow.providers.imap.hooks.imap import ImapHook  # deferred: only this task needs the provider

    try:
        BaseHook.get_connection(MAILBOX_CONN_ID)
    except AirflowNotFoundException:
        print(text("dags.mailbox_none", conn_id=MAILBOX_CONN_ID))
        return
    try:
        with ImapHook(imap_conn_id=MAILBOX_CONN_ID) as hook:
            pulled = pull(engine, hook.mail_client, run_id)
    except (OSError, imaplib.IMAP4.error) as exc:
        said = text("dags.mailbox_unreachable", conn_id=MAILBOX_CONN_ID, error=f"{type(exc).__name__}: {exc}")
        print(said)
        alert(Message(subject("dags.mailbox_unreachable_subject"), str(said)))
        return
    print("\n".join(pulled.lines()))
    if pulled.failed:
        alert(Message(subject("dags.mailbox_unreachable_subject"), "\n".join(pulled.lines())))


def read_and_validate(context, received: list[dict]) -> list[dict]:
    """Read every new workbook (on every core), validate in batches, stage at most 64 chunks."""
    engine, ref = warehouse_engine()  # the warehouse holds the units' history for cross-period checks
    chunks = stage_chunks(engine, staging_dir(context["run_id"]), [Received(**r) for r in received], ref)
    for c in chunks:
        print(f"{c['path']}\t{c['files']} file(s)\t{c['units']}")
    return chunks


def load_chunk(context, chunk: dict) -> dict:
    """Load one staged chunk; its map index shows its units, then its outcome counts."""
    context["chunk_label"] = chunk["units"]  # shown even if the load fails
    outcomes = load(*warehouse_engine(), chunk, run_id=context["run_id"])
    context["chunk_label"] = outcome_label(chunk, outcomes)
    print_outcomes(outcomes)
    return {"files": len(outcomes)}


def summarise(context) -> dict:
    """The run's summary for ops, from the outcomes it stored: counts, one line per file, files still
    without a verdict, and where the run's Data Docs are."""
    engine, ref = warehouse_engine()
    run_id = context["run_id"]
    complete_run_outcomes(engine, ref, run_id)  # repeats of earlier files: the earlier verdict
    outcomes = run_outcomes(engine, run_id)
    counts = summary(outcomes)
    print(f"{text('dags.total')}: " + ", ".join(f"{n} {vi(f'loading.outcome_{k}')} ({k})" for k, n in counts.items()))
    print_outcomes(outcomes)
    waiting = unprocessed(engine)
    if waiting:
        print(f"{text('dags.without_verdict', n=len(waiting))}: " + ", ".join(r.file_name for r in waiting[:50]))
    messages = run_messages(engine, run_id)
    for m in messages:  # the e-mails this run's files came in
        files = ", ".join(m["files"]) or "-"
        print(
            f"{text('dags.message_taken')}: {m['message_id']}\t{m['sender']}\t{m['subject']}\t{m['received']}\t{files}"
        )
    docs = build_docs(engine, run_id, messages, outcomes)  # its refused files listed too
    print(f"Data Docs ({text('dags.datadocs')}): {docs or text('dags.datadocs_none')}")
    return {**counts, "without_verdict": len(waiting)}


def clean_staging(context) -> None:
    """Staged copies are scratch: the archive and the warehouse hold what matters."""
    shutil.rmtree(staging_dir(context["run_id"]), ignore_errors=True)


def alert_refused(context) -> str:
    """Tell ops which files were refused, for which unit and period, and what to do."""
    engine, _ = warehouse_engine()
    return alert(refused_files_message([o.to_dict() for o in run_outcomes(engine, context["run_id"])]))


def tell_units(context) -> dict:
    """E-mail each unit about its files of this run (cchc.ops.unit_mail)."""
    engine, ref = warehouse_engine()
    return tell_run(engine, ref, context["run_id"])


def answer_mail(context) -> dict:
    """Answer each message taken from the mailbox, in its thread (cchc.ops.replies)."""
    engine, ref = warehouse_engine()
    return answer_messages(engine, ref)
