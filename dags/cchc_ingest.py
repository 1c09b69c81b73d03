"""
### cchc_ingest — tiếp nhận, kiểm tra và nạp báo cáo CCHC của các đơn vị

Seconds after units' workbooks settle in the landing folder (`CCHC_LANDING_URL`, any
ObjectStoragePath; default `data/landing`: its watcher, `cchc_landing` in plugins/cchc_assets.py,
runs in the triggerer; a burst of files makes one run), and every hour as a safety net: take them, keep each as received under its SHA-256 in the archive,
read it, validate it in batches against the Great Expectations suites in `expectations/` and the
unit's own history, and load it in bulk (never half a submission). Refused and flagged files get a feedback workbook for the unit
(`data/outputs/feedback/`). Updates the `cchc_warehouse` asset, which triggers the weekly roll-up.

**The right figure** (issue 16): files are taken in delivery order (modification time as they
landed) and versions follow it, whatever order chunks load in: a correction saved as `X (2).xlsx`
after `X.xlsx` wins. Each file's outcome is stored with its load (`run_outcomes`): a retried
`load_chunk` returns it, and `summarise`, `alert_refused` and `tell_units` read it — they run even
when a chunk failed, `all_loaded` then fails the run. A file whose read never finished is read
alone and refused after 3 attempts. Param `received_on` (YYYY-MM-DD): only when importing a past
period's files, the day the office received them, recorded as declared.

**Nothing lost** (`cchc.landing`): a file leaves the landing folder only once archived and its receipt
recorded; files an interrupted run received but never loaded are checked by the next run; a file
the archive cannot take (disk full) stays in landing, ops are alerted, and the next run takes it.

**Ops:** the load is mapped over at most 64 chunks (chunk size ceil(files / 64)), not one task per
file: a national run of 16,000 files is 64 task instances, not 16,000. Per-unit status stays in the
UI: each `load_chunk` map index is labelled with its units and outcome counts
(`ADU01…VPUB (253 đơn vị): 252 accepted, 1 rejected`), its log has one line per file (name,
outcome, unit, period, finding codes, feedback workbook), and the `summarise` log lists every file
of the run the same way. Reading uses every core of the worker; validation runs in batches of
2,000; each chunk loads in bulk, one transaction per 500 submissions. A refused file is an
outcome, not a task failure: a red task means the pipeline itself failed and needs a look.
`alert_refused` sends ops the refused files (unit, period, findings, feedback workbook) by e-mail
if the `cchc_smtp` connection exists, else to the log; a task that fails for good alerts the same way.
`tell_units` e-mails each unit of the run (addresses: `include/reference/unit_contacts.csv`): a refused
or flagged file → what to fix, with its feedback workbook attached; an accepted one → its receipt
(checksum prefix) and version.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import (AssetOrTimeSchedule, CronTriggerTimetable, ObjectStoragePath, Param, dag, get_current_context,
                         task)
from cchc_assets import LANDING, WAREHOUSE


def _alert_failure(context):
    """A task failed for good (after its retries): tell ops (cchc_smtp e-mail, else the log)."""
    from cchc.notify import on_failure

    on_failure(context)


@dag(
    dag_id="cchc_ingest",
    dag_display_name="Tiếp nhận và kiểm tra báo cáo CCHC",
    # Seconds after files settle in the landing folder (its watcher), and every hour as a safety net.
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 * * * *", timezone="Asia/Ho_Chi_Minh"), assets=[LANDING]
    ),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["cchc", "ingest"],
    params={
        "received_on": Param(
            None, type=["null", "string"], format="date",
            title="Ngày nhận khai báo / declared day of receipt",
            description="Chỉ khi nhập lại tệp của kỳ đã qua: ngày văn phòng đã nhận các tệp (YYYY-MM-DD), ghi nhận là "
                        "khai báo. Để trống: tính theo thời điểm tệp đến. / Only when importing a past period's files: "
                        "the day the office received them, recorded as declared. Empty: their arrival time.",
        ),
    },
    default_args={"owner": "cchc-ops", "on_failure_callback": _alert_failure, "retries": 3,
                  # First retry soon (a lost worker, a dropped connection), then backing off.
                  "retry_delay": dt.timedelta(seconds=30), "retry_exponential_backoff": 2.0,
                  "max_retry_delay": dt.timedelta(minutes=10)},
)
def cchc_ingest():
    @task(task_display_name="Nhận tệp")
    def receive() -> list[dict]:
        """Archive every landing file under its checksum in arrival order, record the receipts, clear
        the inbox; pass on every received file without a verdict (this run's, and any an interrupted
        run left)."""
        import dataclasses
        import os

        from cchc.config import landing_url
        from cchc.landing import take, unprocessed
        from cchc.notify import Message, alert
        from cchc.runtime import declared_receipt, prepared_engine

        engine, ref = prepared_engine()
        context = get_current_context()
        declared_on, declared_by = declared_receipt(context)
        # A file still being copied (modified in the last seconds) waits for the next run.
        taken = take(engine, ObjectStoragePath(landing_url()), context["run_id"],
                     settle_seconds=float(os.environ.get("CCHC_LANDING_SETTLE_SECONDS", "2")),
                     declared_on=declared_on, declared_by=declared_by)
        fresh = [dataclasses.asdict(r) for r in unprocessed(engine)]
        now_taken = {r.checksum for r in taken.received}
        left = sum(r["checksum"] not in now_taken for r in fresh)
        print(f"{len(fresh)} new file(s) received" + (f" ({left} left unchecked by an earlier run)" if left else ""))
        if taken.failed:  # e.g. the archive's disk is full: the files wait in landing; the run goes on
            lines = taken.failure_lines()
            print("\n".join(lines))
            alert(Message(f"[CCHC] {len(lines)} tệp chưa nhận được / file(s) could not be archived",
                          "\n".join(lines)))
        return fresh

    @task(task_display_name="Đọc và kiểm tra")
    def read_and_validate(received: list[dict]) -> list[dict]:
        """Read every new workbook (on every core), validate in batches, stage at most 64 chunks."""
        from cchc.ingest import staging_dir
        from cchc.load import Received
        from cchc.mapped import stage_chunks
        from cchc.runtime import warehouse_engine

        engine, ref = warehouse_engine()  # the warehouse holds the units' history for cross-period checks
        folder = staging_dir(get_current_context()["run_id"])
        chunks = stage_chunks(engine, folder, [Received(**r) for r in received], ref)
        for c in chunks:
            print(f"{c['path']}\t{c['files']} file(s)\t{c['units']}")
        return chunks

    @task(map_index_template="{{ chunk_label }}", task_display_name="Nạp vào kho")
    def load_chunk(chunk: dict) -> dict:
        """Load one chunk of validated submissions in bulk, each file's outcome stored with it (a retry
        returns what the first try stored); write feedback; one log line per file."""
        from cchc.mapped import load_chunk as load, outcome_label, print_outcomes
        from cchc.runtime import warehouse_engine

        context = get_current_context()
        context["chunk_label"] = chunk["units"]  # shown even if the load fails
        outcomes = load(*warehouse_engine(), chunk, run_id=context["run_id"])
        context["chunk_label"] = outcome_label(chunk, outcomes)
        print_outcomes(outcomes)
        return {"files": len(outcomes)}

    # all_done: the files of the chunks that loaded are summed up, alerted and answered even when
    # another chunk failed (its files get their verdict in the next run).
    @task(outlets=[WAREHOUSE], task_display_name="Tổng hợp kết quả", trigger_rule="all_done")
    def summarise() -> dict:
        """The run's summary for ops, from the outcomes it stored: counts, one line per file (name,
        outcome, findings), files still without a verdict, and where the run's Great Expectations
        Data Docs are (data/outputs/datadocs/<run>/index.html)."""
        from cchc.datadocs import build_run_docs
        from cchc.ingest import OUTCOME_VI, complete_run_outcomes, run_outcomes, summary
        from cchc.landing import unprocessed
        from cchc.mapped import print_outcomes
        from cchc.runtime import warehouse_engine

        engine, ref = warehouse_engine()
        run_id = get_current_context()["run_id"]
        complete_run_outcomes(engine, ref, run_id)  # repeats of earlier files: the earlier verdict
        outcomes = run_outcomes(engine, run_id)
        counts = summary(outcomes)
        print("Tổng cộng / total: " + ", ".join(f"{n} {OUTCOME_VI[k]} ({k})" for k, n in counts.items()))
        print_outcomes(outcomes)
        waiting = unprocessed(engine)
        if waiting:
            print(f"{len(waiting)} tệp chưa có kết quả, lần chạy sau sẽ kiểm tra lại / file(s) without a verdict yet, "
                  "checked again by the next run: " + ", ".join(r.file_name for r in waiting[:50]))
        docs = build_run_docs(run_id)
        print(f"Data Docs (kết quả kiểm tra / validation results): {docs or 'không có / none this run'}")
        return {**counts, "without_verdict": len(waiting)}

    @task(trigger_rule="all_done", task_display_name="Dọn thư mục tạm")
    def clean_staging() -> None:
        """Staged copies are scratch: the archive and the warehouse hold what matters."""
        import shutil

        from cchc.ingest import staging_dir

        shutil.rmtree(staging_dir(get_current_context()["run_id"]), ignore_errors=True)

    @task(task_display_name="Báo tệp bị từ chối", trigger_rule="all_done")
    def alert_refused() -> str:
        """Tell ops which files were refused, for which unit and period, and what to do."""
        from cchc.ingest import run_outcomes
        from cchc.notify import alert, refused_files_message
        from cchc.runtime import warehouse_engine

        engine, _ = warehouse_engine()
        return alert(refused_files_message([o.to_dict() for o in run_outcomes(engine, get_current_context()["run_id"])]))

    @task(task_display_name="Báo kết quả cho đơn vị", trigger_rule="all_done")
    def tell_units() -> dict:
        """E-mail each unit about its files of this run, repeats included (cchc.unit_mail): refused or
        flagged → what to fix, feedback workbook attached; accepted → receipt and version. From the
        stored outcomes; a unit told once is not told again by a retry."""
        from cchc.runtime import warehouse_engine
        from cchc.unit_mail import tell_run

        engine, ref = warehouse_engine()
        return tell_run(engine, ref, get_current_context()["run_id"])

    @task(task_display_name="Kiểm tra mọi phần đã nạp")
    def all_loaded(results: list[dict]) -> int:
        """Fails the run (red in the UI) when a chunk could not be loaded, after the others were answered."""
        return sum(r["files"] for r in results)

    loaded = load_chunk.expand(chunk=read_and_validate(receive()))
    summary = summarise()
    loaded >> summary >> [alert_refused(), tell_units()]
    summary >> clean_staging()
    all_loaded(loaded)


cchc_ingest()
