"""
### cchc_ingest — tiếp nhận, kiểm tra và nạp báo cáo CCHC của các đơn vị

Seconds after units' workbooks settle in the landing folder (`CCHC_LANDING_URL`, any
ObjectStoragePath; default `data/landing`: its watcher, `cchc_landing` in plugins/cchc_assets.py,
runs in the triggerer; a burst of files makes one run), and every hour as a safety net: take them, keep each as received under its SHA-256 in the archive,
read it, validate it in batches against the Great Expectations suites in `expectations/` and the
unit's own history, and load it in bulk (never half a submission). Refused and flagged files get a feedback workbook for the unit
(`data/outputs/feedback/`). Updates the `cchc_warehouse` asset, which triggers the weekly roll-up.

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

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, ObjectStoragePath, dag, get_current_context, task
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
    default_args={"owner": "cchc-ops", "on_failure_callback": _alert_failure, "retries": 3,
                  # First retry soon (a lost worker, a dropped connection), then backing off.
                  "retry_delay": dt.timedelta(seconds=30), "retry_exponential_backoff": 2.0,
                  "max_retry_delay": dt.timedelta(minutes=10)},
)
def cchc_ingest():
    @task(task_display_name="Nhận tệp")
    def receive() -> list[dict]:
        """Archive every landing file under its checksum, record the receipts, clear the inbox; pass on
        every received file without a verdict (this run's, and any an interrupted run left)."""
        import dataclasses
        import os

        from cchc.config import landing_url
        from cchc.ingest import repeat_outcomes
        from cchc.landing import take, unprocessed
        from cchc.mapped import print_outcomes
        from cchc.notify import Message, alert, refused_files_message
        from cchc.runtime import prepared_engine

        engine, ref = prepared_engine()
        # A file still being copied (modified in the last seconds) waits for the next run.
        taken = take(engine, ObjectStoragePath(landing_url()), get_current_context()["run_id"],
                     settle_seconds=float(os.environ.get("CCHC_LANDING_SETTLE_SECONDS", "2")))
        # The same bytes again get the earlier verdict again: refused → the findings and feedback anew.
        repeats = repeat_outcomes(engine, ref, [r for r in taken.received if r.duplicate])
        print_outcomes(repeats)
        alert(refused_files_message([o.to_dict() for o in repeats]))
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
    def load_chunk(chunk: dict) -> list[dict]:
        """Load one chunk of validated submissions in bulk; write feedback; one log line per file."""
        from cchc.mapped import load_chunk as load, outcome_label, print_outcomes
        from cchc.runtime import warehouse_engine

        context = get_current_context()
        context["chunk_label"] = chunk["units"]  # shown even if the load fails
        outcomes = load(*warehouse_engine(), chunk)
        context["chunk_label"] = outcome_label(chunk, outcomes)
        print_outcomes(outcomes)
        return [o.to_dict() for o in outcomes]

    @task(outlets=[WAREHOUSE], task_display_name="Tổng hợp kết quả")
    def summarise(chunks: list[list[dict]]) -> dict:
        """The run's summary for ops: counts, one line per file (name, outcome, findings), and where the
        run's Great Expectations Data Docs are (data/outputs/datadocs/<run>/index.html)."""
        from cchc.datadocs import build_run_docs
        from cchc.ingest import OUTCOME_VI, Outcome, summary
        from cchc.mapped import print_outcomes

        outcomes = [Outcome(**o) for chunk in chunks for o in chunk]
        counts = summary(outcomes)
        print("Tổng cộng / total: " + ", ".join(f"{n} {OUTCOME_VI[k]} ({k})" for k, n in counts.items()))
        print_outcomes(outcomes)
        docs = build_run_docs(get_current_context()["run_id"])
        print(f"Data Docs (kết quả kiểm tra / validation results): {docs or 'không có / none this run'}")
        return counts

    @task(trigger_rule="all_done", task_display_name="Dọn thư mục tạm")
    def clean_staging() -> None:
        """Staged copies are scratch: the archive and the warehouse hold what matters."""
        import shutil

        from cchc.ingest import staging_dir

        shutil.rmtree(staging_dir(get_current_context()["run_id"]), ignore_errors=True)

    @task(task_display_name="Báo tệp bị từ chối")
    def alert_refused(chunks: list[list[dict]]) -> str:
        """Tell ops which files were refused, for which unit and period, and what to do."""
        from cchc.notify import alert, refused_files_message

        return alert(refused_files_message([o for chunk in chunks for o in chunk]))

    # none_failed: a run that only received repeats has no load task to map, and the units still hear back.
    @task(task_display_name="Báo kết quả cho đơn vị", trigger_rule="none_failed")
    def tell_units(chunks: list[list[dict]]) -> dict:
        """E-mail each unit about its files of this run, repeats included (cchc.unit_mail): refused or
        flagged → what to fix, feedback workbook attached; accepted → receipt and version."""
        from cchc.runtime import warehouse_engine
        from cchc.unit_mail import run_repeats, tell_units as tell

        engine, ref = warehouse_engine()
        outcomes = [o for chunk in (chunks or []) for o in chunk]
        outcomes += run_repeats(engine, ref, get_current_context()["run_id"], outcomes)
        return tell(outcomes, ref, engine=engine)

    loaded = load_chunk.expand(chunk=read_and_validate(receive()))
    summarise(loaded) >> clean_staging()
    alert_refused(loaded)
    tell_units(loaded)


cchc_ingest()
