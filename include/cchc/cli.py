"""`cchc`: the pipeline from the command line (the DAGs call the same functions).

    cchc form    --out DIR [--unit SNV ...] [--period 2024-H1]   blank forms for units
    cchc sample  --out DIR [--no-weeks]                          sample submissions (H1-2024 + weeks)
    cchc ingest  DIR [--json] [--take] [--received-on DATE]      receive, validate and load a folder
                                                                 (--take: empty it as the DAG does;
                                                                 --received-on: a past period's files,
                                                                 their day of receipt declared)
    cchc mailbox [--url URL] [--json] [--no-reply]               take the office mailbox (IMAP), load, answer
                                                                 each message in its thread
    cchc held    [--period P] [--all] [--json]                   workbooks held: sender not registered
    cchc confirm RECEIPT [--by NAME] | cchc reject RECEIPT [--by NAME]   decide a held workbook
    cchc quarantine                                              refused files kept as received
    cchc reprocess CHECKSUM... | --all [--json]                  re-check them after a reference fix
    cchc report  --period 2024-H1 [--format csv|table] [--out DIR] [--compare golden.csv]
    cchc approve --period 2024-H1 --by NAME [--note TEXT]       approve the figures and lock the period
    cchc reopen  --period 2024-H1 --by NAME --reason TEXT       end the lock (audited)
    cchc approvals --period 2024-H1 [--diff 1 2]                approved versions; what changed between two
    cchc draft   --period 2024-H1 --out DIR [--final] [--template FILE]   the report to sign, as .docx
    cchc placeholders [--check]                                  write (or check) the templates' placeholder list
    cchc rollup  --week 2024-W24 [--out DIR]                     the weekly roll-up
    cchc completeness --period 2024-H1 [--all] [--json]          who reported, on time, late, missing
    cchc status  --period 2024-H1 [--status S] [--all] [--json]  the ops page's facts: units, files not
                                                                 tied to a unit, runs (Data Docs, Airflow)
    cchc explain plan.tasks_done --period 2024-H1 [--all]        where a consolidated figure came from
    cchc dictionary [--check]                                    write (or check) sql/DATA_DICTIONARY.md
    cchc init                                                    create the schema, load reference data

The warehouse is `--warehouse URL`, else CCHC_WAREHOUSE_URL, else the SQLite file data/warehouse.db.
Exit status: 0 when the command did its work (refused files are outcomes, not failures), 1 when a
golden comparison differs, 2 on a usage error, 3 when the pipeline itself failed.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import sys
import uuid
from decimal import Decimal
from pathlib import Path

from cchc.common import config  # noqa: F401 - sets GX_ANALYTICS_ENABLED before anything imports GX
from cchc.common.messages import text as message
from cchc.common.messages import vi

# Each command imports the pipeline modules it needs inside its own function (the one exception to
# "no imports inside functions"): `cchc --help` and a usage error then load none of them (SQLAlchemy,
# pandas, GX, openpyxl) and answer at once.


def _engine(args):
    from cchc.reference.registry import load_reference
    from cchc.warehouse.engine import prepare

    ref = load_reference()
    return prepare(args.warehouse, ref), ref


def cmd_init(args) -> int:
    from cchc.common.messages import text
    from cchc.reference.registry import load_reference
    from cchc.warehouse.engine import get_engine, load_reference_tables, revision, upgrade

    engine = get_engine(args.warehouse)
    before = revision(engine)
    # Asked for: views re-created (on PostgreSQL re-granted, e.g. to a role a DBA created since).
    after = upgrade(engine, refresh_views=True)
    counts = load_reference_tables(engine, load_reference(), force=True)
    print(f"Kho dữ liệu / warehouse: {engine.url.render_as_string(hide_password=True)}")
    print(text("warehouse.revision", before=before or "-", after=after))
    for table, n in counts.items():
        print(f"  {table}: {n}")
    return 0


def cmd_form(args) -> int:
    from cchc.common.periods import parse_period
    from cchc.reference.form import file_name, write_workbook
    from cchc.reference.registry import load_reference

    ref = load_reference()
    period = parse_period(args.period)
    units = [u for u in ref.units_on(period.end) if not args.unit or u.code in args.unit]
    unknown = set(args.unit or []) - {u.code for u in units}
    if unknown:
        print(f"{message('cli.unknown_units')}: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    for u in units:
        write_workbook(
            Path(args.out) / file_name(u.code, period.code),
            u,
            period,
            ref.form_tasks(u, period.end),
            ref.form_indicators(u, period.end),
        )
    print(message("cli.forms_written", n=len(units), out=args.out))
    return 0


def cmd_sample(args) -> int:
    from cchc.reference.sample import generate

    paths = generate(Path(args.out), weeks=not args.no_weeks)
    h1 = sum(1 for p in paths if p.parent.name == "h1")
    print(
        message(
            "cli.samples_written",
            h1=h1,
            h1_dir=Path(args.out) / "h1",
            weeks=len(paths) - h1,
            weekly_dir=Path(args.out) / "weekly",
        )
    )
    return 0


def cmd_ingest(args) -> int:
    from cchc.loading.ingest import ingest_files

    folder = Path(args.dir)
    if not folder.is_dir():
        print(f"{message('cli.no_such_folder')}: {folder}", file=sys.stderr)
        return 2
    declared = _received_on(args.received_on)
    if declared is False:
        return 2
    engine, ref = _engine(args)
    # Each run its own id: the outcomes it stores (run_outcomes) are this run's, not an earlier one's.
    run_id = f"cli-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    by = f"{os.environ.get('USER') or 'cli'} ({run_id})" if declared else ""
    if args.take:  # as the DAG does: the folder is emptied into the archive, files left over are checked too
        from cchc.loading.landing import ingest_landing

        outcomes, taken = ingest_landing(engine, ref, folder, run_id, declared_on=declared, declared_by=by)
        _print_outcomes(outcomes, args.json)
        for line in taken.failure_lines():
            print(line, file=sys.stderr)
        return 3 if taken.failed else 0
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    _print_outcomes(ingest_files(engine, ref, files, run_id, declared_on=declared, declared_by=by), args.json)
    return 0


def cmd_mailbox(args) -> int:
    from cchc.loading.mailbox import connect, ingest_mailbox
    from cchc.ops.replies import answer_messages

    url = args.url or os.environ.get("CCHC_IMAP_URL", "")
    if not url:
        print(f"{message('cli.error')}: {message('cli.no_mailbox')}", file=sys.stderr)
        return 2
    engine, ref = _engine(args)
    run_id = f"cli-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    try:
        client = connect(url)
    except (OSError, ValueError) as exc:
        print(f"{message('cli.error')}: {message('cli.mailbox_unreachable', error=exc)}", file=sys.stderr)
        return 3
    try:
        outcomes, pulled = ingest_mailbox(engine, ref, client, run_id)
    finally:
        with contextlib.suppress(Exception):
            client.logout()
    _print_outcomes(outcomes, args.json)
    for line in pulled.lines():
        print(line, file=sys.stderr)
    if not args.no_reply:
        answer_messages(engine, ref)
    return 3 if pulled.failed else 0


def cmd_held(args) -> int:
    from cchc.loading.holds import holds

    engine, _ = _engine(args)
    found = holds(engine, args.period, undecided=not args.all)
    for h in found:
        if args.json:
            print(json.dumps(h.to_dict(), ensure_ascii=False))
        else:
            decided = f"{h.decision} ({h.decided_by}, {h.decided_at:%Y-%m-%d %H:%M})" if h.decision else "-"
            print(
                f"{h.checksum[:12]}\t{h.unit_code}\t{h.period_code}\tv{h.version}\t{h.sender}\t{h.reason}\t{h.file_name}\t{decided}"
            )
    if not args.json:
        print(message("cli.held_count", n=len(found)), file=sys.stderr)
    return 0


def cmd_decide(args) -> int:
    from cchc.loading.holds import CONFIRMED, REFUSED, HoldError, decide

    engine, _ = _engine(args)
    by = args.by or os.environ.get("USER") or ""
    try:
        hold = decide(engine, args.receipt, CONFIRMED if args.command == "confirm" else REFUSED, by)
    except HoldError as exc:
        print(f"{message('cli.error')}: {exc}", file=sys.stderr)
        return 2
    print(
        message(
            f"cli.hold_{hold.decision}",
            receipt=hold.checksum[:12],
            unit=hold.unit_code,
            period=hold.period_code,
            by=hold.decided_by,
        )
    )
    return 0


def _received_on(text: str | None):
    """`--received-on 14/6/2024` or `2024-06-14`: the declared day of receipt (None if not given,
    False after printing why it is not a date)."""
    if not text:
        return None
    from cchc.common.vn import parse_date

    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        try:
            day = parse_date(text)
        except ValueError:
            day = None
    if day is None or day > dt.date.today():
        print(f"{message('cli.error')}: {message('cli.bad_received_on', value=repr(text))}", file=sys.stderr)
        return False
    return day


def _print_outcomes(outcomes, as_json: bool) -> None:
    """One line per file (or one JSON object), then the run's counts on stderr."""
    from cchc.loading.ingest import OUTCOME_VI, summary

    for o in outcomes:
        print(json.dumps(o.to_dict(), ensure_ascii=False) if as_json else o.line())
    if not as_json:
        counts = summary(outcomes)
        print(
            f"{message('cli.total')}: " + ", ".join(f"{n} {OUTCOME_VI[k]} ({k})" for k, n in counts.items()),
            file=sys.stderr,
        )


def cmd_quarantine(args) -> int:
    from cchc.loading.ingest import quarantined

    engine, _ = _engine(args)
    files = quarantined(engine)
    for r in files:
        print(f"{r.checksum[:12]}\t{r.file_name}\t{r.archive_path}")
    print(message("cli.quarantined", n=len(files)), file=sys.stderr)
    return 0


def cmd_reprocess(args) -> int:
    from cchc.loading.ingest import quarantined, reprocess

    if not args.all and not args.checksum:
        print(message("cli.give_checksums"), file=sys.stderr)
        return 2
    engine, ref = _engine(args)
    files = quarantined(engine, None if args.all else args.checksum)
    if args.checksum and not files:
        print(message("cli.no_match"), file=sys.stderr)
        return 2
    _print_outcomes(reprocess(engine, ref, files), args.json)
    return 0


def cmd_report(args) -> int:
    from cchc.figures.approval import annotate_workbook, report_state
    from cchc.outputs.publish import figures_csv, publish_period

    engine, ref = _engine(args)
    state = report_state(engine, ref, args.period)  # a locked period: its approved figures, stored ones untouched
    result = state.result
    if args.out:
        paths = publish_period(Path(args.out), result, ref, engine=engine)  # engine: completeness chart
        if state.locked or state.reopened:
            annotate_workbook(paths["xlsx"], state)
        print(f"{message('cli.workbook')}: {paths['xlsx']}\nCSV: {paths['csv']}", file=sys.stderr)
    if args.compare:
        print(state.status_line, file=sys.stderr)
        return _compare(result, ref, Path(args.compare))
    if args.format == "csv":
        sys.stdout.write(figures_csv(result, ref))
    else:
        for ind in ref.indicators_on(result.as_of):
            f = result.figures[ind.code]
            print(f"{ind.code:40} {f.text:>24}  {ind.label_vi}")
    print(
        message("cli.units_reported", reported=len(result.units_reported), missing=len(result.units_missing)),
        file=sys.stderr,
    )
    print(state.status_line, file=sys.stderr)
    return 0


def cmd_approve(args) -> int:
    from cchc.figures.approval import approve, iso_time, report_state, vn_time

    engine, ref = _engine(args)
    a = approve(engine, ref, args.period, args.by, args.note)
    print(
        message(
            "cli.approved",
            period=a.period_code,
            version=a.version,
            n=a.n_figures,
            by=a.by,
            at_vi=vn_time(a.at),
            at_en=iso_time(a.at),
        )
    )
    print(report_state(engine, ref, a.period_code).status_line, file=sys.stderr)
    return 0


def cmd_reopen(args) -> int:
    from cchc.figures.approval import reopen, report_state

    engine, ref = _engine(args)
    reopen(engine, args.period, args.by, args.reason)
    state = report_state(engine, ref, args.period)
    print(message("cli.reopened", period=args.period, next=state.reopened.version + 1))
    print(state.status_line, file=sys.stderr)
    return 0


def cmd_approvals(args) -> int:
    from cchc.figures.approval import changes, history, pending, vn_time

    engine, _ = _engine(args)
    if args.diff:
        v1, v2 = args.diff
        rows = changes(engine, args.period, v1, v2)
        print(f"{'code':36} {'v' + str(v1):>22} → {'v' + str(v2):<22} {message('cli.label')}")
        for c in rows:
            print(f"{c.indicator_code:36} {c.old_text:>22} → {c.new_text:<22} {c.label_vi}")
        print(message("cli.changed", n=len(rows), v1=v1, v2=v2), file=sys.stderr)
        return 0
    events = history(engine, args.period)
    for e in events:
        what = (
            f"{message('cli.event_approved')}, {vi('cli.n_figures', n=e.n_figures)}"
            if e.action == "approved"
            else str(message("cli.event_reopened"))
        )
        print(f"v{e.version}  {vn_time(e.at):22} {what:34} {e.by}" + (f"  — {e.note}" if e.note else ""))
    if not events:
        print(message("cli.never_approved", period=args.period), file=sys.stderr)
    waiting = pending(engine, args.period)
    if waiting:
        print(f"{message('cli.pending_one' if len(waiting) == 1 else 'cli.pending', n=len(waiting))}:")
    for w in waiting:
        print(
            f"    {w.unit_code:8} {w.unit_name_vi:45} {w.file_name}  v{w.version}  "
            f"{message('cli.received_at')} {vn_time(w.received_at)}"
        )
    return 0


def _compare(result, ref, golden: Path) -> int:
    """Print each golden figure beside the consolidated one; 1 if any differs."""
    with open(golden, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    bad = 0
    print(f"{'code':40} {str(message('cli.result')):>22} {str(message('cli.golden')):>18}")
    for r in rows:
        f = result.figures.get(r["code"])
        ok = f is not None and f.value is not None and f.value == Decimal(r["value"])
        bad += not ok
        print(
            f"{r['code']:40} {(f.text if f else 'n/a'):>22} {r['value']:>18}  "
            f"{'✓' if ok else '✗ ' + str(message('cli.differs'))}"
        )
    print(message("cli.figures_match", ok=len(rows) - bad, total=len(rows)))
    return 1 if bad else 0


def cmd_rollup(args) -> int:
    from cchc.common.periods import parse_period
    from cchc.figures.completeness import for_week
    from cchc.figures.consolidate import consolidate_week, store
    from cchc.outputs.publish import publish_week

    engine, ref = _engine(args)
    week = parse_period(args.week)
    result = consolidate_week(engine, ref, week)
    store(engine, result, "weekly_figures")
    path = publish_week(Path(args.out), result, ref, for_week(engine, week), engine=engine) if args.out else None
    for code in ("plan.tasks_done", "pakn.received_new", "pakn.resolved", "dossier.received", "dossier.resolved"):
        print(f"{code:30} {result.figures[code].text}")
    print(f"{message('cli.units_with_figures', n=len(result.units_reported))}" + (f"; {path}" if path else ""))
    return 0


def cmd_completeness(args) -> int:
    from cchc.common.periods import parse_period
    from cchc.figures.completeness import ACTION, STATUS_VI, rates, statuses
    from cchc.reference.registry import UNIT_TYPES

    engine, _ = _engine(args)
    period = parse_period(args.period)
    rows = statuses(engine, [period.code])
    shown = rows if args.all else [r for r in rows if r.status != "on_time"]
    if args.json:
        for r in shown:
            print(
                json.dumps(
                    {**r.__dict__, "due_on": str(r.due_on), "accepted_sent_on": str(r.accepted_sent_on or "")},
                    ensure_ascii=False,
                )
            )
        return 0
    col = {
        k: vi(f"cli.column_{k}")
        for k in ("expected", "sent", "on_time", "late", "refused", "missing", "sent_pct", "on_time_pct")
    }
    print(
        f"{str(message('cli.column_group')):14} {col['expected']:>5} {col['sent']:>7} {col['on_time']:>9} "
        f"{col['late']:>5} {col['refused']:>8} {col['missing']:>9} {col['sent_pct']:>7} {col['on_time_pct']:>11}"
    )
    for r in rates(engine, period.code):
        group = r.group if r.group in UNIT_TYPES else vi("cli.communes_of", district=r.group)
        print(
            f"{group:14} {r.expected:>5} {r.reported:>7} {r.on_time:>9} {r.late:>5} {r.refused:>8} {r.missing:>9}"
            f" {r.reporting_rate:>7.1f} {r.on_time_rate:>11.1f}"
        )
    due = message("cli.due")
    for r in shown:
        print(
            f"{r.unit_code:8} {r.unit_type:10} {due.vi}/{due.en} {r.due_on:%d/%m/%Y}  {STATUS_VI[r.status]} "
            f"({r.status})  {r.unit_name_vi}" + (f"  → {ACTION[r.status]}" if r.status in ACTION else "")
        )
    return 0


def cmd_status(args) -> int:
    from cchc.common.periods import parse_period
    from cchc.ops.status import as_dict, status_page, table_lines

    engine, _ = _engine(args)
    period = parse_period(args.period).code if args.period else None  # else the page's current period
    page = status_page(engine, period, args.group or "", status=args.status or "")
    if args.json:
        print(json.dumps(as_dict(page), ensure_ascii=False, indent=1))
    else:
        print("\n".join(table_lines(page, all_units=args.all)))
    return 0


def cmd_explain(args) -> int:
    from cchc.common.periods import parse_period
    from cchc.figures.provenance import explain

    engine, ref = _engine(args)
    if ref.indicator(args.code) is None:
        raise ValueError(str(message("cli.unknown_indicator", code=args.code)))
    print("\n".join(explain(engine, ref, parse_period(args.period).code, args.code, args.all)))
    return 0


def cmd_draft(args) -> int:
    from cchc.outputs.draft import write_draft

    engine, ref = _engine(args)
    d = write_draft(
        engine,
        ref,
        args.period,
        Path(args.out),
        final=args.final,
        template=Path(args.template) if args.template else None,
    )
    print(f"{message('cli.final_report' if args.final else 'cli.draft_report')}: {d.path}")
    for chart in d.charts:
        print(f"{message('cli.chart')}: {chart}")
    state = message("cli.draft_approved", version=d.version) if d.locked else message("cli.draft_not_approved")
    print(
        message("cli.draft_done", n=d.n_figures, state_vi=state.vi, state_en=state.en, seconds=f"{d.seconds:.1f}"),
        file=sys.stderr,
    )
    return 0


def _generated_page(page: Path, text: str, command: str, check: bool) -> int:
    """Write a generated page, or (check) say whether it is up to date: exit 1 when stale."""
    if check:
        ok = page.exists() and page.read_text(encoding="utf-8") == text
        print(f"{page}: {message('cli.up_to_date') if ok else message('cli.stale', command=command)}")
        return 0 if ok else 1
    page.write_text(text, encoding="utf-8")
    print(f"{message('cli.wrote')} {page}")
    return 0


def cmd_placeholders(args) -> int:
    from cchc.outputs.draft import catalogue_path, placeholder_catalogue
    from cchc.reference.registry import load_reference

    return _generated_page(catalogue_path(), placeholder_catalogue(load_reference()), "cchc placeholders", args.check)


def cmd_dictionary(args) -> int:
    from cchc.common.config import sql_dir
    from cchc.warehouse.dictionary import load_dictionary, markdown

    return _generated_page(sql_dir() / "DATA_DICTIONARY.md", markdown(load_dictionary()), "cchc dictionary", args.check)


# --- the parser: one function per group of commands ---------------------------------------------


def _data_commands(sub) -> None:
    """Forms, samples, and files in: init, form, sample, ingest, quarantine, reprocess."""
    sub.add_parser("init", help="create the schema and load reference data").set_defaults(fn=cmd_init)
    f = sub.add_parser("form", help="write blank forms")
    f.add_argument("--out", required=True)
    f.add_argument("--period", default="2024-H1")
    f.add_argument("--unit", action="append", help="unit code (repeatable); default: every unit")
    f.set_defaults(fn=cmd_form)
    s = sub.add_parser("sample", help="write the sample submissions")
    s.add_argument("--out", required=True)
    s.add_argument("--no-weeks", action="store_true", help="only the H1-2024 files")
    s.set_defaults(fn=cmd_sample)
    i = sub.add_parser("ingest", help="receive, validate and load every file of a folder")
    i.add_argument("dir")
    i.add_argument("--json", action="store_true", help="one JSON object per file")
    i.add_argument(
        "--take",
        action="store_true",
        help="take the files as the DAG does: archive, record, remove from DIR; also check files "
        "an interrupted run received but never loaded",
    )
    i.add_argument(
        "--received-on",
        metavar="DATE",
        help="importing a past period: the day the office received these files (recorded as "
        "declared; timeliness is judged on it instead of the files' arrival)",
    )
    i.set_defaults(fn=cmd_ingest)
    mb = sub.add_parser("mailbox", help="take the office mailbox (IMAP) as the DAG does, load, answer each message")
    mb.add_argument("--url", help="imap://USER:PASSWORD@HOST:PORT or imaps://… (default: $CCHC_IMAP_URL)")
    mb.add_argument("--json", action="store_true", help="one JSON object per file")
    mb.add_argument("--no-reply", action="store_true", help="take and load only; the DAG's next run answers")
    mb.set_defaults(fn=cmd_mailbox)
    hd = sub.add_parser("held", help="workbooks held until ops confirm their sender")
    hd.add_argument("--period", help="only this period")
    hd.add_argument("--all", action="store_true", help="decided ones too")
    hd.add_argument("--json", action="store_true", help="one JSON object per workbook")
    hd.set_defaults(fn=cmd_held)
    for name, what in (
        ("confirm", "count a held workbook (its sender confirmed)"),
        ("reject", "refuse a held workbook"),
    ):
        dc = sub.add_parser(name, help=what)
        dc.add_argument("receipt", help="the receipt (first characters of the file's SHA-256)")
        dc.add_argument("--by", help="who decides (default: $USER); recorded")
        dc.set_defaults(fn=cmd_decide)
    q = sub.add_parser("quarantine", help="list refused files kept in quarantine")
    q.set_defaults(fn=cmd_quarantine)
    rp = sub.add_parser("reprocess", help="re-check quarantined files against today's reference data")
    rp.add_argument("checksum", nargs="*", help="checksums (or their first characters) of quarantined files")
    rp.add_argument("--all", action="store_true", help="every quarantined file")
    rp.add_argument("--json", action="store_true", help="one JSON object per file")
    rp.set_defaults(fn=cmd_reprocess)


def _report_commands(sub) -> None:
    """The period's report and its approval: report, approve, reopen, approvals, draft, placeholders."""
    required = message("cli.required")
    r = sub.add_parser("report", help="consolidate a period and print its figures")
    r.add_argument("--period", required=True)
    r.add_argument("--format", choices=["csv", "table"], default="table")
    r.add_argument("--out", help="also write the workbook and CSV here")
    r.add_argument("--compare", help="golden CSV (code,value,...) to compare with")
    r.set_defaults(fn=cmd_report)
    ap = sub.add_parser("approve", help="approve a period's figures (next approved version) and lock it")
    ap.add_argument("--period", required=True)
    ap.add_argument("--by", help=f"who approves ({required})")
    ap.add_argument("--note", default="", help="a note kept with the approval")
    ap.set_defaults(fn=cmd_approve)
    ro = sub.add_parser("reopen", help="end a period's lock so the newest accepted versions count again (audited)")
    ro.add_argument("--period", required=True)
    ro.add_argument("--by", help=f"who reopens ({required})")
    ro.add_argument("--reason", help=f"why ({required})")
    ro.set_defaults(fn=cmd_reopen)
    al = sub.add_parser("approvals", help="a period's approvals and reopenings; --diff: what changed between two")
    al.add_argument("--period", required=True)
    al.add_argument("--diff", nargs=2, type=int, metavar=("V1", "V2"), help="approved versions to compare")
    al.set_defaults(fn=cmd_approvals)
    dr = sub.add_parser("draft", help="the period's report to sign, as a Word draft with charts and provenance")
    dr.add_argument("--period", required=True, help="period or week, e.g. 2024-H1, 2024-Y, 2024-W24")
    dr.add_argument("--out", required=True)
    dr.add_argument("--final", action="store_true", help="the final report, from the approved figures")
    dr.add_argument("--template", help="another .docx template (default: include/templates/)")
    dr.set_defaults(fn=cmd_draft)
    ph = sub.add_parser("placeholders", help="write include/templates/PLACEHOLDERS.md from the indicator catalogue")
    ph.add_argument("--check", action="store_true", help="only check it is up to date (exit 1 if not)")
    ph.set_defaults(fn=cmd_placeholders)


def _inspect_commands(sub) -> None:
    """Looking at what is there: rollup, completeness, status, explain, dictionary."""
    w = sub.add_parser("rollup", help="the weekly roll-up")
    w.add_argument("--week", required=True, help="e.g. 2024-W24")
    w.add_argument("--out")
    w.set_defaults(fn=cmd_rollup)
    c = sub.add_parser("completeness", help="who reported a period, on time, late, refused or missing")
    c.add_argument("--period", required=True)
    c.add_argument("--all", action="store_true", help="list units on time too")
    c.add_argument("--json", action="store_true", help="one JSON object per unit")
    c.set_defaults(fn=cmd_completeness)
    st = sub.add_parser("status", help="the ops status page's facts: units, files not tied to a unit, runs")
    st.add_argument("--period", help="e.g. 2024-H1 (default: the period files arrived for last, as the page)")
    st.add_argument("--group", help="a district's code (it and its communes), or 'department'")
    st.add_argument(
        "--status",
        help="only these, as the page's counters filter: on_time, late, refused, held, missing, flagged, unattributed",
    )
    st.add_argument("--all", action="store_true", help="list units on time too (the table)")
    st.add_argument("--json", action="store_true", help="one JSON document, English keys, times with +07:00")
    st.set_defaults(fn=cmd_status)
    e = sub.add_parser("explain", help="where a consolidated figure came from (run `report` first)")
    e.add_argument("code", help="indicator code, e.g. plan.tasks_done")
    e.add_argument("--period", required=True, help="period or week, e.g. 2024-H1 or 2024-W24")
    e.add_argument("--all", action="store_true", help="also inputs not counted (tasks not done)")
    e.set_defaults(fn=cmd_explain)
    d = sub.add_parser("dictionary", help="write sql/DATA_DICTIONARY.md from sql/dictionary.yml")
    d.add_argument("--check", action="store_true", help="only check it is up to date (exit 1 if not)")
    d.set_defaults(fn=cmd_dictionary)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cchc", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--warehouse", help="SQLAlchemy URL of the warehouse (default: CCHC_WAREHOUSE_URL or SQLite)")
    sub = p.add_subparsers(dest="command", required=True)
    _data_commands(sub)
    _report_commands(sub)
    _inspect_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except ValueError as exc:  # bad period code and the like: the user's to fix
        print(f"{message('cli.error')}: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the pipeline itself failed
        print(f"{message('cli.failure')}: {type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(3) from exc


if __name__ == "__main__":
    raise SystemExit(main())
