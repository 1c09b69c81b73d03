"""What DAG files use while the DAG processor parses them: names, parameters' help, timeouts, the
failure callback. Cheap on purpose — the standard library, airflow.sdk and cchc.common only — since
every DAG file is parsed again every 30 s; tests/dags/test_dag_integrity.py holds that. The tasks'
work is in cchc.orchestration.{ingest,report,weekly}_tasks, imported inside each task.

Texts come from the message catalogue's `dags.yml`, read alone with libyaml: ≈ 1 ms (measured;
pure-Python YAML ≈ 10 ms). Loading the whole catalogue (cchc.common.messages.catalogue: 11 areas)
took 60–170 ms, too much for each parse of each file; this reader takes the same entries
(tests/dags/test_wiring.py), so the office still rewords them in one place.
"""

from __future__ import annotations

import datetime as dt
import functools

import yaml

from cchc.common.messages import CATALOGUE_DIR, Text

OWNER = "cchc-ops"

# execution_timeout of every task, by DAG and task id. Sized from measured runs with headroom for a
# busy two-core machine: national scale through Airflow on Celery (bench/README.md, 15,939 files:
# receive 21 s, 4 load_chunk of ≈ 4,000 files ≈ 20–40 s each, summarise a few s) and the city's
# 253 files (tests/e2e/test_airflow_e2e.py, `airflow dags test`, task_instance.duration: longest
# receive 4.3 s, consolidate 3.8 s, load_chunk 3.5 s, check_week 3.5 s, draft 2.0 s, every
# other task < 1 s). Roughly 10× the national figure, at least 10 min for any task that touches the
# warehouse or sends mail (a slow SMTP server: 30 s timeout × 5 retries per message), never above
# 2 h. A task that overruns fails, is retried (its retries) and, failing for good, alerts ops.
MINUTES = {
    "cchc_ingest": {
        "receive": 30,  # national 21 s (hashing, archive writes); a slow object store; the mailbox's messages
        "load_chunk": 30,  # ≈ 4,000 files read, validated and loaded on one core: 20–40 s
        "summarise": 30,  # national: the index of 15,939 verdicts, no GX
        "clean_staging": 10,
        "alert_refused": 10,  # one e-mail
        "tell_units": 60,  # one e-mail per unit of the run; a retry does not resend
        "answer_mail": 60,  # one reply per message taken; 253 messages at once ≈ 253 e-mails
        "all_loaded": 5,
    },
    "cchc_period_report": {
        "consolidate": 15,  # national 4 s (bench: consolidation of 15,939 units)
        "draft": 15,  # Word + charts ≈ 5 s, draft annex 0.8 s, LibreOffice preview 2.5–8 s (its own 120 s cap)
        "route": 5,
        "request_approval": 10,  # writing the request and mailing it; the wait for a person is not timed
        "decide": 5,
        "finalize": 20,  # final report + annex + CSV
        "record_rejection": 10,
        "publish": 20,
    },
    "cchc_weekly_rollup": {
        "check_week": 15,  # the week's fingerprint: a few queries
        "roll_up": 20,  # consolidation + workbook with charts
        "alert_late": 10,
        "flash_report": 15,
        "record": 5,
    },
}
TIMEOUTS = {dag: {task: dt.timedelta(minutes=m) for task, m in tasks.items()} for dag, tasks in MINUTES.items()}


@functools.cache
def dag_texts() -> dict[str, dict[str, str]]:
    """The entries of the catalogue's dags.yml, read once per process."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10× faster
    return yaml.load((CATALOGUE_DIR / "dags.yml").read_text(encoding="utf-8"), Loader=loader)


def label(key: str, **fields: object) -> Text:
    """The catalogue entry `dags.<key>`, in both languages (as cchc.common.messages.text)."""
    entry = dag_texts()[key]
    return Text(entry["vi"].format(**fields), entry.get("en", entry["vi"]).format(**fields))


def dag_args(dag_id: str) -> dict:
    """A DAG's id and its Vietnamese name in the UI."""
    return {"dag_id": dag_id, "dag_display_name": label(f"dag_{dag_id}").vi}


def task_args(dag_id: str, task_id: str) -> dict:
    """A task's Vietnamese name in the UI and its execution_timeout."""
    return {"task_display_name": label(f"task_{task_id}").vi, "execution_timeout": TIMEOUTS[dag_id][task_id]}


def option(key: str) -> str:
    """An answer button of the approval request: `Phê duyệt (Approve)`."""
    t = label(key)
    return f"{t.vi} ({t.en})"


APPROVE, REJECT = option("approve"), option("reject")


def alert_failure(context) -> None:
    """on_failure_callback: a task failed for good (after its retries): tell ops (cchc_smtp e-mail,
    else the log)."""
    # Deferred: cchc.ops.notify loads the SMTP provider and the warehouse's layers, which a parse
    # must not; it runs only when a task has failed.
    from cchc.ops.notify import on_failure

    on_failure(context)


def default_args(**more) -> dict:
    """Every task's owner and failure alert, with the DAG's retry settings."""
    return {"owner": OWNER, "on_failure_callback": alert_failure, **more}
