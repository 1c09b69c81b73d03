"""The work of cchc_period_report's tasks (dags/cchc_period_report.py wires them): each function takes
the task's Airflow context (or what its upstream tasks returned) and returns the task's XCom.

The lines naming a written file (`Draft: …`, `Final report: …`, `Workbook: …`, `CSV: …`) keep
their English label first: scripts and tests find the path after it.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from cchc.common.config import output_dir
from cchc.common.messages import text
from cchc.figures.approval import (
    annotate_workbook,
    approval_request,
    approve,
    as_reviewed,
    no_preview,
    report_state,
    review_summary,
    since_last_approval,
)
from cchc.ops.notify import Message, alert, hanoi, subject
from cchc.ops.status import output_href
from cchc.orchestration.run_note import set_run_note
from cchc.orchestration.runtime import prepared_engine, warehouse_engine
from cchc.orchestration.wiring import APPROVE, REJECT
from cchc.outputs.draft import write_draft
from cchc.outputs.preview import page_preview, preview_stem
from cchc.outputs.publish import publish_period

KEY_FIGURES = ("plan.tasks_done", "pakn.total", "egov.online_services_full", "fin.invest_disbursed_bn")


def consolidate(context) -> dict:
    """Consolidate and store the period's figures, unless it is locked (then its approved figures)."""
    period = context["params"]["period"]
    engine, ref = prepared_engine()
    state = report_state(engine, ref, period)  # stores a fresh consolidation unless locked
    result = state.result
    if state.locked:
        print(
            text(
                "dags.period_locked",
                period=period,
                version=state.version,
                by=state.approved_by,
                at=state.approved_at,
                pending=len(state.pending),
            )
        )
    print(
        text(
            "dags.consolidated",
            label=result.label,
            n=len(result.figures),
            units=len(result.units_reported),
            missing=len(result.units_missing),
            which=", ".join(result.units_missing) or "-",
        )
    )
    for code in KEY_FIGURES:
        print(f"  {code}: {result.figures[code].text}")
    return review_summary(state)


def _href(out: Path):
    """A file of the outputs folder → its URL on the ops page, as the Airflow UI links it: a path on the
    api-server's own site (under [api] base_url's path, if it has one); the e-mail makes it absolute."""
    from airflow.configuration import conf

    prefix = urlsplit(conf.get("api", "base_url", fallback="") or "").path
    return lambda path: output_href(Path(path).relative_to(out).as_posix(), prefix)


def _draft_annex(engine, ref, period: str, out: Path) -> Path:
    """`<period>_tong_hop_du_thao.xlsx`: the annex as it will be published (publish_period), from the
    figures being drafted and marked as not approved, so the approver can read it before deciding.
    Written in a hidden folder and moved in place whole: a link never serves half a workbook."""
    state = report_state(engine, ref, period)
    target = out / f"{period}_tong_hop_du_thao.xlsx"
    with tempfile.TemporaryDirectory(prefix=".annex-", dir=out) as work:
        xlsx = publish_period(Path(work), state.result, ref, engine=engine)["xlsx"]
        annotate_workbook(xlsx, state)
        os.replace(xlsx, target)
    return target


def draft(summary: dict) -> dict:
    """Write the Word draft and its charts, a draft of the annex and page images of the draft's first
    pages; the approval request's text is made here, with links to them and the figures changed since
    the last approval. A period already approved is not asked again: no annex draft, no page images."""
    period = summary["period"]
    engine, ref = warehouse_engine()
    out = output_dir()
    d = write_draft(engine, ref, period, out)
    print(f"Draft: {d.path}  ({d.seconds:.1f} s)")
    for chart in d.charts:
        print(f"Chart: {chart}")
    for code, value in d.key_figures.items():
        print(f"  {code}: {value}")
    annex = preview = None
    if not summary["locked"]:
        annex = _draft_annex(engine, ref, period, out)
        print(f"Draft annex: {annex}")
        preview = page_preview(d.path, out, preview_stem(period))  # best effort: never fails the draft
        for page in preview.pages:
            print(f"Preview: {page}  ({preview.seconds:.1f} s)")
        if not preview.pages:
            print(f"Preview: {no_preview(preview.problem, preview.seconds)} ({preview.seconds:.1f} s)")
    since = since_last_approval(engine, ref, as_reviewed(summary))
    request = approval_request(
        summary, d, ref, (APPROVE, REJECT), href=_href(out), annex=annex, preview=preview, since=since
    )
    return {
        "path": str(d.path),
        "charts": [str(c) for c in d.charts],
        "annex": str(annex) if annex else None,
        "preview": [str(p) for p in preview.pages] if preview else [],
        "key_figures": dict(d.key_figures),
        "request": request,
    }


def route(context, summary: dict) -> str:
    """The next task: ask a person, or (no approval wanted, or already approved) publish straight away."""
    if summary["locked"]:
        print(text("dags.not_asked_again", period=summary["period"], version=summary["version"]))
        return "publish"
    if not context["params"]["approval"]:
        print(text("dags.no_approval_wanted"))
        return "publish"
    print(text("dags.waiting_for_approval"))
    return "request_approval"


def _answered_at(response: dict) -> str:
    """When the person answered, Hanoi time (the response holds it in UTC)."""
    at = response.get("responded_at")
    when = hanoi(dt.datetime.fromisoformat(at) if isinstance(at, str) else at)
    return f"{when} ({text('mail.time_zone').vi})" if when else str(at or "")


def decide(response: dict) -> str:
    """Follow the person's answer."""
    choice = response["chosen_options"][0]
    print(f"{choice} — {response['responded_by_user']['name']}, {_answered_at(response)}")
    return "finalize" if choice == APPROVE else "record_rejection"


def _note(response: dict) -> str:
    return ((response.get("params_input") or {}).get("note") or "").strip()


def _note_run(context, key: str, detail: str) -> None:
    """The run's note in the UI says what was decided (cchc.orchestration.run_note): `<vi> / <en>: <detail>`."""
    set_run_note(context["dag_run"].dag_id, context["run_id"], f"{text(key)}: {detail}")


def finalize(context, summary: dict, response: dict) -> dict:
    """Lock the period as approved by the responding user; write the final report and the annex; the
    run's note says who approved which version."""
    period = summary["period"]
    by = response["responded_by_user"]["name"]
    engine, ref = warehouse_engine()
    state = report_state(engine, ref, period)
    if state.locked and state.approved_by == by:  # a retry after the lock was written
        print(text("dags.already_locked_by", period=period, by=by, version=state.version))
    else:
        # Figures changed since the draft (a file accepted meanwhile): approve() refuses, nothing is
        # locked, the task fails and ops are told; run the DAG again for a new draft.
        a = approve(engine, ref, period, by=by, note=_note(response), expected=as_reviewed(summary))
        print(text("dags.locked", period=a.period_code, version=a.version, by=a.by, at=a.at, n=a.n_figures))
        state = report_state(engine, ref, period)
    final = write_draft(engine, ref, period, output_dir(), final=True)
    paths = publish_period(output_dir(), state.result, ref, engine=engine)
    print(f"Final report: {final.path}\nWorkbook: {paths['xlsx']}\nCSV: {paths['csv']}")
    _note_run(context, "dags.approved_note", f"{text('dags.note_version')} {state.version} ({by})")
    return {"final": str(final.path), **{k: str(v) for k, v in paths.items()}}


def record_rejection(context, summary: dict, response: dict) -> None:
    """Nothing is locked; who rejected and why goes to the log, to ops, and to the run's note (the run
    ends `success`, as a decision taken does: the note and this task, not `finalize`, tell it apart)."""
    who = response["responded_by_user"]["name"]
    reason = _note(response) or str(text("dags.no_reason"))
    body = (
        f"{text('dags.rejected_by')}: {who}, {_answered_at(response)}\n{text('dags.reason')}: {reason}\n\n"
        f"{text('dags.rejected_next')}"
    )
    print(f"{text('dags.rejected')} {who}: {reason}")
    _note_run(context, "dags.rejected_note", f"{reason} ({who})")  # first: a mail server down fails only the alert
    alert(Message(subject("dags.rejected_subject", period=summary["period"]), body))  # cchc_smtp, else the log


def publish(summary: dict) -> dict:
    """Annex workbook + CSV from the consolidated (or, if locked, approved) figures."""
    engine, ref = warehouse_engine()
    state = report_state(engine, ref, summary["period"])
    out = {}
    if state.locked:  # the approved report, written again from the approved figures
        out["final"] = str(write_draft(engine, ref, summary["period"], output_dir(), final=True).path)
        print(f"Final report: {out['final']}")
    paths = publish_period(output_dir(), state.result, ref, engine=engine)
    print(f"Workbook: {paths['xlsx']}\nCSV: {paths['csv']}")
    return {**out, **{k: str(v) for k, v in paths.items()}}
