"""
### cchc_ingest — tiếp nhận, kiểm tra và nạp báo cáo CCHC của các đơn vị

Every hour: take the workbooks units dropped in the landing folder (`CCHC_LANDING_URL`, any
ObjectStoragePath; default `data/landing`), keep each as received under its SHA-256 in the archive,
read it, validate the whole batch against the Great Expectations suites in `expectations/`, and load
each submission in one transaction. Refused and flagged files get a feedback workbook for the unit
(`data/outputs/feedback/`). Updates the `cchc_warehouse` asset, which triggers the weekly roll-up.

**Ops:** `load_file` is mapped per file and labelled with the unit, period and outcome; the
`summarise` log lists every file with its outcome and finding codes; `alert_refused` sends ops
the refused files (unit, period, findings, feedback workbook) by e-mail if the `cchc_smtp`
connection exists, else to the log. A task that fails for good alerts the same way. A refused file is an outcome,
not a task failure: a red task means the pipeline itself failed and needs a look.
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
    default_args={"owner": "cchc-ops", "on_failure_callback": _alert_failure, "retries": 2, "retry_delay": dt.timedelta(minutes=2)},
)
def cchc_ingest():
    @task
    def receive() -> list[dict]:
        """Archive every new landing file under its checksum, record the receipt, clear the inbox."""
        import dataclasses

        from cchc.config import landing_url
        from cchc.load import receive as keep
        from cchc.runtime import prepared_engine

        engine, _ = prepared_engine()
        run_id = get_current_context()["run_id"]
        landing = ObjectStoragePath(landing_url())
        landing.mkdir(parents=True, exist_ok=True)
        fresh = []
        for path in sorted(landing.iterdir(), key=lambda p: p.name):
            if not path.is_file() or path.name.startswith(".") or path.name.endswith(".part"):
                continue
            received = keep(engine, path.name, path.read_bytes(), run_id)
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
        """Read every new workbook, then validate the batch in one GX context; stage the verdicts."""
        import json

        from cchc.ingest import read_received, staging_dir, submission_to_json
        from cchc.load import Received
        from cchc.reference import load_reference
        from cchc.validate import validate_batch

        folder = staging_dir(get_current_context()["run_id"])
        folder.mkdir(parents=True, exist_ok=True)
        items = [Received(**r) for r in received]
        verdicts = validate_batch([(r.checksum, read_received(r)) for r in items], load_reference())
        staged = []
        for r, v in zip(items, verdicts, strict=True):
            path = folder / f"{r.checksum}.json"
            path.write_text(submission_to_json(v.submission), encoding="utf-8")
            path.with_suffix(".findings.json").write_text(
                json.dumps([f.to_dict() for f in v.findings], ensure_ascii=False), encoding="utf-8")
            staged.append({**r.__dict__, "unit_code": v.submission.unit_code,
                           "period_code": v.submission.period_code, "status": v.status, "staged": str(path)})
        return staged

    @task(map_index_template="{{ unit_label }}")
    def load_file(item: dict) -> dict:
        """Load one submission in one transaction (figures only if accepted); write its feedback."""
        import json
        from pathlib import Path

        from cchc.findings import Finding
        from cchc.ingest import load_verdict, submission_from_json
        from cchc.load import Received
        from cchc.reference import load_reference
        from cchc.runtime import airflow_warehouse_url
        from cchc.validate import Verdict
        from cchc.warehouse import get_engine

        get_current_context()["unit_label"] = f"{item['unit_code'] or '?'} {item['period_code']}: {item['status']}"
        engine, ref = get_engine(airflow_warehouse_url()), load_reference()
        staged = Path(item["staged"])
        sub = submission_from_json(staged.read_text(encoding="utf-8"))
        findings = [Finding(**f) for f in json.loads(staged.with_suffix(".findings.json").read_text("utf-8"))]
        received = Received(**{k: item[k] for k in Received.__dataclass_fields__})
        return load_verdict(engine, Verdict(item["checksum"], sub, findings), ref, received).to_dict()

    @task(outlets=[WAREHOUSE])
    def summarise(outcomes: list[dict]) -> dict:
        """The run's summary for ops: counts, then one line per file (name, outcome, findings)."""
        from cchc.ingest import OUTCOME_VI, Outcome, summary

        outcomes = [Outcome(**o) for o in outcomes]
        counts = summary(outcomes)
        print("Tổng cộng / total: " + ", ".join(f"{n} {OUTCOME_VI[k]} ({k})" for k, n in counts.items()))
        for o in outcomes:
            print(o.line() + (f"\tphản hồi/feedback: {o.feedback}" if o.feedback else ""))
        return counts

    @task(trigger_rule="all_done")
    def clean_staging() -> None:
        """Staged copies are scratch: the archive and the warehouse hold what matters."""
        import shutil

        from cchc.ingest import staging_dir

        shutil.rmtree(staging_dir(get_current_context()["run_id"]), ignore_errors=True)

    @task
    def alert_refused(outcomes: list[dict]) -> str:
        """Tell ops which files were refused, for which unit and period, and what to do."""
        from cchc.notify import alert, refused_files_message

        return alert(refused_files_message(outcomes))

    loaded = load_file.expand(item=read_and_validate(receive()))
    summarise(loaded) >> clean_staging()
    alert_refused(loaded)


cchc_ingest()
