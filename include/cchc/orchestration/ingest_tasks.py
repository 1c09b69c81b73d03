"""The work of cchc_ingest's tasks (dags/cchc_ingest.py wires them): each function takes the task's
Airflow context and returns what the task returns (its XCom). What each logs is what ops read."""

from __future__ import annotations

import imaplib
import os
import shutil
import time
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from airflow.sdk import BaseHook, ObjectStoragePath
from airflow.sdk.exceptions import AirflowNotFoundException

from cchc.checks.datadocs import build_chunk_docs, chunk_results
from cchc.common.clock import StageTimes
from cchc.common.config import landing_url, staging_dir
from cchc.common.messages import text, vi
from cchc.loading.ingest import complete_run_outcomes, run_outcomes, summary
from cchc.loading.landing import take, unprocessed
from cchc.loading.mailbox import pull, run_messages
from cchc.ops.notify import Message, alert, refused_files_message, subject
from cchc.ops.replies import answer_messages
from cchc.ops.run_docs import build_docs
from cchc.ops.unit_mail import tell_run
from cchc.orchestration.mapped import (
    check_and_load,
    chunk_files,
    outcome_label,
    plan_chunks,
    print_outcomes,
)
from cchc.orchestration.runtime import declared_receipt, prepared_engine, warehouse_engine


def receive(context) -> list[dict]:
    """Archive every landing file under its checksum in arrival order, record the receipts, clear the
    inbox; split every received file without a verdict (this run's, and any an interrupted run left)
    into chunks for the mapped `load_chunk` tasks (cchc.orchestration.mapped)."""
    engine, _ = prepared_engine()
    declared_on, declared_by = declared_receipt(context)
    # A file still being copied (modified in the last seconds) waits for the next run.
    taken = take(
        engine,
        landing_folder(landing_url()),
        context["run_id"],
        settle_seconds=float(os.environ.get("CCHC_LANDING_SETTLE_SECONDS", "2")),
        declared_on=declared_on,
        declared_by=declared_by,
    )
    take_mailbox(engine, context["run_id"])
    fresh = unprocessed(engine)
    now_taken = {r.checksum for r in taken.received}
    left = sum(r.checksum not in now_taken for r in fresh)
    print(text("dags.received_left", n=len(fresh), left=left) if left else text("dags.received", n=len(fresh)))
    if taken.failed:  # e.g. the archive's disk is full: the files wait in landing; the run goes on
        lines = taken.failure_lines()
        print("\n".join(lines))
        alert(Message(subject("dags.not_archived_subject", n=len(lines)), "\n".join(lines)))
    chunks = plan_chunks(staging_dir(context["run_id"]) / "chunks", fresh)
    for c in chunks:
        print(f"chunk {c['index']}\t{c['files']} {text('dags.files')}\t{c['label']}")
    return chunks


def landing_folder(url: str):
    """The landing folder: a local one (file://, the default) as a pathlib.Path, which reads and
    stats a file ≈ 3× faster than ObjectStoragePath's fsspec calls (16,000 files: seconds); any
    other URL (s3://, gcs://, …) as an ObjectStoragePath."""
    parsed = urlparse(url)
    if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
        return Path(url2pathname(parsed.path))
    return ObjectStoragePath(url)


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


def load_chunk(context, chunk: dict) -> dict:
    """Read, validate and load one chunk (cchc.orchestration.mapped); its map index shows its files,
    then its units and outcome counts; its Data Docs pages (failed validations only) are built here,
    where GX is already loaded, so summarise needs no GX."""
    context["chunk_label"] = chunk["label"]  # shown even if the chunk fails
    start, clock = time.perf_counter(), StageTimes()
    engine, ref = warehouse_engine()
    run_id, index = context["run_id"], chunk["index"]
    outcomes = check_and_load(engine, ref, chunk_files(chunk), run_id, chunk_results(run_id, index), clock)
    context["chunk_label"] = outcome_label(outcomes) if outcomes else chunk["label"]
    print_outcomes(outcomes)
    with clock("datadocs"):
        build_chunk_docs(run_id, index)
    work = round(time.perf_counter() - start, 2)
    print(f"{text('dags.chunk_done', n=len(outcomes), seconds=work)}: {clock.rounded()}")
    return {
        "index": index,
        "files": len(outcomes),
        "counts": summary(outcomes),
        "work_s": work,
        "stages": clock.rounded(),
    }


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
