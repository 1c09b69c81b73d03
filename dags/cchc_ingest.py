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

**Nothing lost** (`cchc.loading.landing`): a file leaves the landing folder only once archived and its receipt
recorded; files an interrupted run received but never loaded are checked by the next run; a file
the archive cannot take (disk full) stays in landing, ops are alerted, and the next run takes it.

**How reading is spread:** `receive` splits the files into chunks of about 4,000
(`CCHC_CHUNK_FILES`; at most 64 chunks), and each mapped `load_chunk` reads, validates and loads its
own chunk on whichever Celery worker slot takes it: a national run of 16,000 files is 4 tasks
running at once on both workers' cores, the city's 253 files one. A task run by a Celery worker
cannot start reader processes of its own, so the worker slots are the parallelism; the workers
preload pandas, Great Expectations and the pipeline (`cchc.orchestration.preload`) so a task
starts in about a second. Each chunk validates in one GX batch, compares each unit with the
warehouse as it was before the run (chunks do not see each other's loads), loads in bulk (one
transaction per 500 submissions) and builds the Data Docs pages of its failed validations. A killed
worker costs its chunk only: the retry skips the files the first try loaded.

**Ops:** per-unit status stays in the UI: each `load_chunk` map index is labelled with its files,
then its units and outcome counts (`ADU01…VPUB (253 đơn vị): 252 tiếp nhận; 1 từ chối`), its log has
one line per file (name, outcome, unit, period, finding codes, feedback workbook) and its time per
stage, and the `summarise` log lists every file of the run the same way. A refused file is an
outcome, not a task failure: a red task means the pipeline itself failed and needs a look.
`alert_refused` sends ops the refused files (unit, period, findings, feedback workbook) by e-mail
if the `cchc_smtp` connection exists, else to the log; a task that fails for good alerts the same way.
`tell_units` e-mails each unit of the run (addresses: `include/reference/unit_contacts.csv`): a refused
or flagged file → what to fix, with its feedback workbook attached; an accepted one → its receipt
(checksum prefix) and version.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, get_current_context, task
from cchc_assets import LANDING, MAILBOX, WAREHOUSE

from cchc.orchestration.wiring import dag_args, default_args, label, task_args

DAG_ID = "cchc_ingest"


@dag(
    **dag_args(DAG_ID),
    # Seconds after files settle in the landing folder or messages reach the office mailbox (their
    # watchers), and every hour as a safety net.
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 * * * *", timezone="Asia/Ho_Chi_Minh"), assets=(LANDING | MAILBOX)
    ),
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["cchc", "ingest"],
    params={
        "received_on": Param(
            None,
            type=["null", "string"],
            format="date",
            title=str(label("param_received_on_title")),
            description=str(label("param_received_on")),
        )
    },
    # First retry soon (a lost worker, a dropped connection), then backing off.
    default_args=default_args(
        retries=3,
        retry_delay=dt.timedelta(seconds=30),
        retry_exponential_backoff=2.0,
        max_retry_delay=dt.timedelta(minutes=10),
    ),
)
def cchc_ingest():
    # Each task imports its work (cchc.orchestration.ingest_tasks) when it runs: parsing stays cheap.
    @task(**task_args(DAG_ID, "receive"))
    def receive() -> list[dict]:
        """Archive every landing file under its checksum in arrival order, record the receipts, clear
        the inbox; split every received file without a verdict (this run's, and any an interrupted
        run left) into chunks of about 4,000 files."""
        from cchc.orchestration import ingest_tasks

        return ingest_tasks.receive(get_current_context())

    @task(**task_args(DAG_ID, "load_chunk"), map_index_template="{{ chunk_label }}")
    def load_chunk(chunk: dict) -> dict:
        """Read, validate (one GX batch) and load one chunk of files in bulk, each file's outcome stored
        with it (a retry skips the files its first try loaded); write feedback; one log line per file."""
        from cchc.orchestration import ingest_tasks

        return ingest_tasks.load_chunk(get_current_context(), chunk)

    # all_done: the files of the chunks that loaded are summed up, alerted and answered even when
    # another chunk failed (its files get their verdict in the next run).
    @task(**task_args(DAG_ID, "summarise"), outlets=[WAREHOUSE], trigger_rule="all_done")
    def summarise() -> dict:
        """The run's summary for ops, from the outcomes it stored: counts, one line per file (name,
        outcome, findings), files still without a verdict, and where the run's Great Expectations
        Data Docs are (data/outputs/datadocs/<run>/index.html)."""
        from cchc.orchestration import ingest_tasks

        return ingest_tasks.summarise(get_current_context())

    @task(**task_args(DAG_ID, "clean_staging"), trigger_rule="all_done")
    def clean_staging() -> None:
        """Staged copies are scratch: the archive and the warehouse hold what matters."""
        from cchc.orchestration import ingest_tasks

        ingest_tasks.clean_staging(get_current_context())

    @task(**task_args(DAG_ID, "alert_refused"), trigger_rule="all_done")
    def alert_refused() -> str:
        """Tell ops which files were refused, for which unit and period, and what to do."""
        from cchc.orchestration import ingest_tasks

        return ingest_tasks.alert_refused(get_current_context())

    @task(**task_args(DAG_ID, "tell_units"), trigger_rule="all_done")
    def tell_units() -> dict:
        """E-mail each unit about its files of this run, repeats included (cchc.ops.unit_mail): refused or
        flagged → what to fix, feedback workbook attached; accepted → receipt and version. From the
        stored outcomes; a unit told once is not told again by a retry."""
        from cchc.orchestration import ingest_tasks

        return ingest_tasks.tell_units(get_current_context())

    @task(**task_args(DAG_ID, "answer_mail"), trigger_rule="all_done")
    def answer_mail() -> dict:
        """Answer each message taken from the office mailbox in its own thread (cchc.ops.replies): per
        workbook, accepted with receipt and version, refused with findings and feedback workbook, or
        held until ops confirm the sender; a message without a workbook gets the blank form."""
        from cchc.orchestration import ingest_tasks

        return ingest_tasks.answer_mail(get_current_context())

    @task(**task_args(DAG_ID, "all_loaded"))
    def all_loaded(results: list[dict]) -> int:
        """Fails the run (red in the UI) when a chunk could not be loaded, after the others were answered."""
        return sum(r["files"] for r in results)

    loaded = load_chunk.expand(chunk=receive())
    summary = summarise()
    loaded >> summary >> [alert_refused(), tell_units()]
    loaded >> answer_mail()  # not after summarise: the answer waits for no Data Docs
    summary >> clean_staging()
    all_loaded(loaded)


cchc_ingest()
