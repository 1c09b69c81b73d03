"""
### cchc_ingest — tiếp nhận, kiểm tra và nạp báo cáo CCHC của các đơn vị

Every hour: take the workbooks units dropped in the landing folder (`CCHC_LANDING_URL`, any
ObjectStoragePath; default `data/landing`), keep each as received under its SHA-256 in the archive,
read it, validate it in batches against the Great Expectations suites in `expectations/` and the
unit's own history, and load it in bulk (never half a submission). Refused and flagged files get a feedback workbook for the unit
(`data/outputs/feedback/`). Updates the `cchc_warehouse` asset, which triggers the weekly roll-up.

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
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Asset, ObjectStoragePath, dag, get_current_context, task

WAREHOUSE = Asset(name="cchc_warehouse", uri="cchc://warehouse/submissions")


def _alert_failure(context):
    """A task failed for good (after its retries): tell ops (cchc_smtp e-mail, else the log)."""
    from cchc.notify import on_failure

    on_failure(context)


@dag(
    dag_id="cchc_ingest",
    schedule="0 * * * *",
    start_date=dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["cchc", "ingest"],
    default_args={"owner": "cchc-ops", "on_failure_callback": _alert_failure, "retries": 2,
                  "retry_delay": dt.timedelta(minutes=2)},
)
def cchc_ingest():
    @task
    def receive() -> list[dict]:
        """Archive every new landing file under its checksum, record the receipts, clear the inbox."""
        import dataclasses

        from cchc.batch import RECEIVE_CHUNK, chunks, receive_many
        from cchc.config import landing_url
        from cchc.runtime import prepared_engine

        engine, _ = prepared_engine()
        run_id = get_current_context()["run_id"]
        landing = ObjectStoragePath(landing_url())
        landing.mkdir(parents=True, exist_ok=True)
        paths = sorted((p for p in landing.iterdir() if p.is_file() and not p.name.startswith(".")
                        and not p.name.endswith(".part")), key=lambda p: p.name)
        fresh = []
        for batch in chunks(paths, RECEIVE_CHUNK):
            for path, received in zip(batch, receive_many(engine, ((p.name, p.read_bytes()) for p in batch), run_id)):
                path.unlink()  # only once it is archived and recorded: nothing is lost
                if received.duplicate:
                    print(f"{received.file_name}\tduplicate\t{received.unit_code}\t{received.period_code}\t"
                          "(same file as an earlier submission; receipt recorded)")
                else:
                    fresh.append(dataclasses.asdict(received))
        print(f"{len(fresh)} new file(s) received")
        return fresh

    @task
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

    @task(map_index_template="{{ chunk_label }}")
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

    @task(outlets=[WAREHOUSE])
    def summarise(chunks: list[list[dict]]) -> dict:
        """The run's summary for ops: counts, then one line per file (name, outcome, findings)."""
        from cchc.ingest import OUTCOME_VI, Outcome, summary
        from cchc.mapped import print_outcomes

        outcomes = [Outcome(**o) for chunk in chunks for o in chunk]
        counts = summary(outcomes)
        print("Tổng cộng / total: " + ", ".join(f"{n} {OUTCOME_VI[k]} ({k})" for k, n in counts.items()))
        print_outcomes(outcomes)
        return counts

    @task(trigger_rule="all_done")
    def clean_staging() -> None:
        """Staged copies are scratch: the archive and the warehouse hold what matters."""
        import shutil

        from cchc.ingest import staging_dir

        shutil.rmtree(staging_dir(get_current_context()["run_id"]), ignore_errors=True)

    @task
    def alert_refused(chunks: list[list[dict]]) -> str:
        """Tell ops which files were refused, for which unit and period, and what to do."""
        from cchc.notify import alert, refused_files_message

        return alert(refused_files_message([o for chunk in chunks for o in chunk]))

    loaded = load_chunk.expand(chunk=read_and_validate(receive()))
    summarise(loaded) >> clean_staging()
    alert_refused(loaded)


cchc_ingest()
