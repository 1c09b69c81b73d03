"""The right figure under real deliveries (issue 16), on SQLite and PostgreSQL.

- A correction saved by Windows as `X (2).xlsx` beside `X.xlsx` (" (2)" sorts before ".xlsx"):
  the one delivered later wins, through `cchc ingest DIR`, `--take`, in one run or two, in either
  order of loading, and when the DAG's mapped chunks load in reverse order.
- One submission per unit and as-of day: a nine-month report and the week-37 snapshot (both as of
  15/9), the year and week 50 (15/12), loaded in one transaction in both orders: the period's own
  report counts, whole, never figures from two.
- A retried load returns the outcome its first try stored: a refused file stays refused.
- The same bytes as `.csv` and `_csv.xlsx` in one drop: each gets its verdict, nothing crashes.
- A file that kills its reader: the run it kills fails, the next refuses it (FILE_UNREADABLE) after
  3 attempts and gives every other file its verdict.
- Timeliness by receipt: the arrival (file time as landed) against the deadline, not the typed date;
  `--received-on` declares the day for a past period's files, and the view says it was declared.

Expected figures come from the test's own arithmetic on the values it wrote.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from conftest import copy_files
from helpers import column_of, edit, row_of, set_figure, set_info, sheet

from cchc.common.periods import parse_period
from cchc.warehouse.engine import prepare

CLI = [sys.executable, "-m", "cchc.cli"]
UNIT = "CHA"
DELTA = 24  # the correction: 24 more feedback items received, and as many resolved


def _figures(path: Path, codes=("pakn.received_new", "pakn.resolved")) -> dict[str, Decimal]:
    from openpyxl import load_workbook

    ws = sheet(load_workbook(path, data_only=True), "Số liệu")
    return {c: Decimal(str(ws.cell(row_of(ws, c), column_of(ws, "Số liệu")).value)) for c in codes}


def _correction(original: Path, dst: Path) -> Path:
    """The unit's file with DELTA more feedback received and resolved (its identities still hold)."""
    before = _figures(original)
    return edit(original, dst, lambda wb: [set_figure(wb, c, int(v + DELTA)) for c, v in before.items()])


def _stamp(path: Path, when: dt.datetime) -> Path:
    """Give a file the modification time it would have if it had landed at `when` (UTC)."""
    ts = when.replace(tzinfo=dt.UTC).timestamp()
    os.utime(path, (ts, ts))
    return path


def _city(engine, ref, period: str, code: str) -> Decimal:
    from cchc.figures.consolidate import consolidate_period

    return consolidate_period(engine, ref, period).figures[code].value


def _cli(url: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        CLI + ["--warehouse", url, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


def _pair(samples: Path, folder: Path, t0: dt.datetime) -> tuple[Path, Path, Decimal, Decimal]:
    """`CHA_2024-H1.xlsx` landed at t0 and its correction `CHA_2024-H1 (2).xlsx` a second later;
    (original, correction, original's pakn.received_new, correction's)."""
    folder.mkdir(parents=True, exist_ok=True)
    src = samples / "h1" / f"{UNIT}_2024-H1.xlsx"
    original = copy_files([src], folder)[0]
    corrected = _correction(src, folder / f"{UNIT}_2024-H1 (2).xlsx")
    _stamp(original, t0)
    _stamp(corrected, t0 + dt.timedelta(seconds=1))
    return original, corrected, _figures(original)["pakn.received_new"], _figures(corrected)["pakn.received_new"]


def test_a_windows_copy_correction_wins_in_one_folder_through_the_cli(samples, ref, warehouse_url, tmp_path):
    """Both files in one folder; `cchc ingest DIR` and `cchc ingest DIR --take` each on a fresh warehouse."""
    assert sorted([f"{UNIT}_2024-H1.xlsx", f"{UNIT}_2024-H1 (2).xlsx"])[0].endswith(" (2).xlsx")  # the trap
    others = sorted(p for p in (samples / "h1").glob("S*.xlsx"))[:5]  # departments: they report feedback
    t0 = dt.datetime(2024, 6, 16, 8, 0)
    for mode in ("dir", "take"):
        engine = prepare(warehouse_url, ref)
        with engine.begin() as conn:  # a fresh warehouse for each mode (the same database for both)
            from sqlalchemy import text

            for table in (
                "run_outcomes",
                "read_attempts",
                "file_arrivals",
                "findings",
                "indicator_values",
                "task_statuses",
                "submissions",
                "file_receipts",
                "landing_deliveries",
                "received_files",
            ):
                conn.execute(text(f"DELETE FROM {table}"))
        folder = tmp_path / mode
        original, corrected, old, new = _pair(samples, folder, t0)
        for f in copy_files(others, folder):
            _stamp(f, t0 - dt.timedelta(hours=1))
        base = sum(_figures(f)["pakn.received_new"] for f in others)
        args = ["ingest", str(folder)] + (["--take"] if mode == "take" else [])
        out = _cli(warehouse_url, *args)
        assert out.returncode == 0, out.stderr
        lines = {line.split("\t")[0]: line.split("\t") for line in out.stdout.splitlines()}
        assert lines[corrected.name][1] == "accepted" and lines[original.name][1] == "accepted"
        assert _city(engine, ref, "2024-H1", "pakn.received_new") == base + new == base + old + DELTA
        versions = dict(
            engine.connect()
            .execute(text("SELECT file_name, version FROM submissions WHERE unit_code = :u"), {"u": UNIT})
            .all()
        )
        assert versions == {original.name: 1, corrected.name: 2}, mode


def test_the_later_delivery_wins_whatever_run_or_order_loads_it(samples, ref, warehouse_url, tmp_path):
    """Separate runs: the correction first (say the original lay in a folder nobody swept), then the
    original, which arrived earlier: the correction still counts; and the other way round."""
    from cchc.loading.ingest import ingest_files

    t0 = dt.datetime(2024, 6, 16, 8, 0)
    original, corrected, old, new = _pair(samples, tmp_path / "in", t0)
    engine = prepare(warehouse_url, ref)
    (first,) = ingest_files(engine, ref, [corrected])
    assert (first.outcome, first.version) == ("accepted", 1)
    (second,) = ingest_files(engine, ref, [original])
    assert (second.outcome, second.version) == ("accepted", 1)  # it arrived first: version 1, the correction moves up
    assert _city(engine, ref, "2024-H1", "pakn.received_new") == new
    from sqlalchemy import text

    with engine.connect() as conn:
        versions = dict(conn.execute(text("SELECT file_name, version FROM submissions")).all())
    assert versions == {original.name: 1, corrected.name: 2}

    engine2 = prepare(warehouse_url.replace(".db", "_b.db"), ref) if warehouse_url.startswith("sqlite") else None
    if engine2 is not None:  # the usual order on a second SQLite warehouse: original, then correction
        ingest_files(engine2, ref, [original])
        ingest_files(engine2, ref, [corrected])
        assert _city(engine2, ref, "2024-H1", "pakn.received_new") == new


def test_mapped_chunks_loaded_in_reverse_order_keep_delivery_order(samples, ref, warehouse_url, tmp_path):
    """Two Celery workers may load the run's chunks in any order: the later chunk first."""
    from cchc.loading.landing import take, unprocessed
    from cchc.orchestration.mapped import check_and_load, chunk_files, plan_chunks

    landing = tmp_path / "landing"
    original, corrected, old, new = _pair(samples, landing, dt.datetime(2024, 6, 16, 8, 0))
    engine = prepare(warehouse_url, ref)
    taken = take(engine, landing, "run-1")
    assert [r.file_name for r in taken.received] == [original.name, corrected.name]  # arrival, not name order
    chunks = plan_chunks(tmp_path / "staging", unprocessed(engine), per_chunk=1)
    assert len(chunks) == 2
    (late,) = check_and_load(engine, ref, chunk_files(chunks[1]), "run-1")
    (early,) = check_and_load(engine, ref, chunk_files(chunks[0]), "run-1")
    assert (late.file_name, early.file_name) == (corrected.name, original.name)
    from cchc.loading.ingest import run_outcomes

    stored = {o.file_name: o.version for o in run_outcomes(engine, "run-1")}
    assert stored == {original.name: 1, corrected.name: 2}  # as the unit is told: the version it has now
    assert _city(engine, ref, "2024-H1", "pakn.received_new") == new


def test_a_retried_load_returns_the_stored_outcome(samples, ref, warehouse_url, tmp_path):
    """A refused file's chunk loaded twice (the task's retry after its first try committed): refused
    both times, with the same findings, never "duplicate"; one outcome row per file."""
    from sqlalchemy import text

    from cchc.loading.landing import take, unprocessed
    from cchc.orchestration.mapped import check_and_load, chunk_files, plan_chunks

    landing = tmp_path / "landing"
    bad = edit(
        samples / "h1" / "SNV_2024-H1.xlsx",
        landing / "SNV_2024-H1.xlsx",
        lambda wb: set_figure(wb, "pakn.resolved", -5),
    )
    good = copy_files([samples / "h1" / "VPUB_2024-H1.xlsx"], landing)[0]
    engine = prepare(warehouse_url, ref)
    take(engine, landing, "run-r")
    chunks = plan_chunks(tmp_path / "staging2", unprocessed(engine), per_chunk=1)
    first = [o for c in chunks for o in check_and_load(engine, ref, chunk_files(c), "run-r")]
    again = [o for c in chunks for o in check_and_load(engine, ref, chunk_files(c), "run-r")]
    assert [(o.file_name, o.outcome, o.version, o.findings) for o in again] == [
        (o.file_name, o.outcome, o.version, o.findings) for o in first
    ]
    by_name = {o.file_name: o for o in again}
    assert by_name[bad.name].outcome == "rejected" and by_name[good.name].outcome == "accepted"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM run_outcomes WHERE run_id = 'run-r'")).scalar() == 2
        assert conn.execute(text("SELECT COUNT(*) FROM submissions")).scalar() == 2
    from cchc.loading.ingest import run_outcomes
    from cchc.ops.notify import refused_files_message

    message = refused_files_message([o.to_dict() for o in run_outcomes(engine, "run-r")])
    assert message is not None and "SNV" in message.body  # the refusal stays in the ops alert


def test_the_same_bytes_under_two_extensions_in_one_drop(samples, ref, warehouse_url, tmp_path):
    """`SKHCN_2024-H1.csv` and `SKHCN_2024-H1_csv.xlsx` with the same bytes, beside good files: one
    archive copy, every file its verdict in this run, exit 0."""
    landing = tmp_path / "landing"
    src = samples / "h1" / "SKHCN_2024-H1.xlsx"
    good = copy_files(sorted((samples / "h1").glob("SN*.xlsx"))[:3], landing)
    data = src.read_bytes()
    (landing / "SKHCN_2024-H1.csv").write_bytes(data)
    (landing / "SKHCN_2024-H1_csv.xlsx").write_bytes(data)
    out = _cli(warehouse_url, "ingest", str(landing), "--take", env={"CCHC_DATA_DIR": str(tmp_path / "data")})
    assert out.returncode == 0, out.stderr
    verdicts = {line.split("\t")[0]: line.split("\t")[1] for line in out.stdout.splitlines()}
    assert set(verdicts) == {p.name for p in good} | {"SKHCN_2024-H1.csv", "SKHCN_2024-H1_csv.xlsx"}
    assert sorted(verdicts[n] for n in ("SKHCN_2024-H1.csv", "SKHCN_2024-H1_csv.xlsx")) == ["accepted", "duplicate"]
    assert list(landing.iterdir()) == []
    assert len([p for p in (tmp_path / "data" / "archive").rglob("*") if p.is_file()]) == len(good) + 1


CRASHER = """
import os, signal
import cchc.intake.read as read
_read = read.read_workbook
def read_workbook(path, file_name=None):
    with open(path, "rb") as fh:
        if b"CRASH-THE-READER" in fh.read():
            os.kill(os.getpid(), signal.SIGKILL)  # as a crash in a native library would
    return _read(path, file_name)
read.read_workbook = read_workbook
"""


def test_a_file_that_kills_its_reader_is_refused_after_three_attempts(samples, ref, warehouse_url, tmp_path):
    from sqlalchemy import text

    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(CRASHER)
    env = {"CCHC_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(hooks)}
    landing = tmp_path / "landing"
    good = copy_files(sorted((samples / "h1").glob("S*.xlsx"))[:4], landing)
    (landing / "SXD_2024-H1.xlsx").write_bytes(b"PK\x03\x04 CRASH-THE-READER " + os.urandom(64))
    killed = _cli(warehouse_url, "ingest", str(landing), "--take", env=env)
    assert killed.returncode == -9  # the file took the whole run down with it
    assert list(landing.iterdir()) == []  # ... but every file was received first

    out = _cli(warehouse_url, "ingest", str(landing), "--take", env=env)
    assert out.returncode == 0, out.stderr
    verdicts = {line.split("\t")[0]: line.split("\t") for line in out.stdout.splitlines()}
    assert {n: v[1] for n, v in verdicts.items()} == {
        **{p.name: "accepted" for p in good},
        "SXD_2024-H1.xlsx": "rejected",
    }
    assert verdicts["SXD_2024-H1.xlsx"][4] == "FILE_UNREADABLE"
    engine = prepare(warehouse_url, ref)
    with engine.connect() as conn:
        message = conn.execute(
            text(
                "SELECT f.message_vi || ' / ' || f.message_en FROM findings f JOIN submissions s "
                "ON s.submission_id = f.submission_id WHERE s.file_name = 'SXD_2024-H1.xlsx'"
            )
        ).scalar()
        assert "3 lần" in message and "3 times" in message
        assert conn.execute(text("SELECT COUNT(*) FROM read_attempts")).scalar() == 0  # every file has its verdict
    third = _cli(warehouse_url, "ingest", str(landing), "--take", env=env)  # intake goes on
    assert third.returncode == 0 and third.stdout == ""


def test_timeliness_is_judged_by_receipt_not_the_typed_date(samples, ref, warehouse_url, tmp_path):
    """H1-2024 is due on 18/6/2024 (end of day, Hanoi). A file typed "10/06/2024" that reached the office
    on 20/6 is late; one that reached it on 18/6 at 23:00 Hanoi time is on time; files imported
    today with `--received-on 17/06/2024` are on time, as declared."""
    from sqlalchemy import text

    from cchc.loading.ingest import ingest_files

    due = parse_period("2024-H1")
    assert due.end == dt.date(2024, 6, 14)
    folder = tmp_path / "in"
    typed = lambda wb: set_info(wb, "Ngày gửi", "10/06/2024")  # noqa: E731
    late = _stamp(
        edit(samples / "h1" / "SNV_2024-H1.xlsx", folder / "SNV_2024-H1.xlsx", typed), dt.datetime(2024, 6, 20, 2, 0)
    )
    just = _stamp(
        edit(samples / "h1" / "STP_2024-H1.xlsx", folder / "STP_2024-H1.xlsx", typed), dt.datetime(2024, 6, 18, 16, 0)
    )  # 23:00 on 18/6 in Hanoi
    engine = prepare(warehouse_url, ref)
    assert {o.outcome for o in ingest_files(engine, ref, [late, just])} == {"accepted"}
    copy_files([samples / "h1" / "VPUB_2024-H1.xlsx"], tmp_path / "old")  # mtime: today
    out = _cli(warehouse_url, "ingest", str(tmp_path / "old"), "--received-on", "17/06/2024")
    assert out.returncode == 0, out.stderr
    undeclared = copy_files([samples / "h1" / "SCT_2024-H1.xlsx"], tmp_path / "today")
    ingest_files(engine, ref, undeclared)
    with engine.connect() as conn:
        rows = {
            u: (s, str(d)[:10], b, str(sent)[:10])
            for u, s, d, b, sent in conn.execute(
                text(
                    "SELECT unit_code, status, accepted_received_on, received_basis, accepted_sent_on FROM v_report_status "
                    "WHERE period_code = '2024-H1' AND unit_code IN ('SNV', 'STP', 'VPUB', 'SCT')"
                )
            )
        }
    assert rows["SNV"] == ("late", "2024-06-20", "arrival", "2024-06-10")
    assert rows["STP"] == ("on_time", "2024-06-18", "arrival", "2024-06-10")
    assert rows["VPUB"][:3] == ("on_time", "2024-06-17", "declared")
    assert rows["SCT"][0] == "late" and rows["SCT"][1] == str((dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)).date())
    with engine.connect() as conn:
        by = conn.execute(
            text(
                "SELECT a.declared_by FROM file_arrivals a JOIN submissions s ON "
                "s.submission_id = a.checksum WHERE s.unit_code = 'VPUB'"
            )
        ).scalar()
    assert by and "cli-" in by
    from cchc.ops.status import render, status_page, unit_rows

    gaps = {r.unit_code: r.typed_date_gap for r in unit_rows(engine, "2024-H1")}
    assert (gaps["SNV"], gaps["STP"]) == (10, 8)  # typed 10/6, received 20/6 and 18/6: flagged for ops
    html = render(status_page(engine, "2024-H1"))
    assert "Ngày gửi ghi trong tệp cách ngày nhận 10 ngày" in html and "nhận ngày (khai báo)" in html
    bad = _cli(warehouse_url, "ingest", str(tmp_path / "old"), "--received-on", "31/02/2024")
    assert bad.returncode == 2 and "--received-on" in bad.stderr


import pytest  # noqa: E402


@pytest.mark.parametrize("period, week", [("2024-9M", "2024-W37"), ("2024-Y", "2024-W50")])
@pytest.mark.parametrize("week_first", [False, True], ids=["period-then-week", "week-then-period"])
def test_one_submission_per_unit_and_as_of_day(samples, ref, warehouse_url, tmp_path, period, week, week_first):
    """The period's report and the week's snapshot share an as-of day (15/9, 15/12) and are loaded
    in one transaction: the week's year-to-date figures take the period's report, whole, whichever
    was delivered or loaded first; none of the snapshot's figures is mixed in."""
    from test_cross_period import snv_file

    from cchc.figures.consolidate import consolidate_week
    from cchc.loading.ingest import LOAD_CHUNK, ingest_files

    assert parse_period(period).as_of_default == parse_period(week).end  # the same as-of day
    report = snv_file(samples, ref, tmp_path / "p", period, (40, 6, 30, 14, 2))
    snapshot = snv_file(samples, ref, tmp_path / "w", week, (55, 6, 41, 18, 2))  # other figures
    t0 = dt.datetime(2024, 12, 16, 2, 0)
    _stamp(report, t0 + dt.timedelta(minutes=5) if week_first else t0)
    _stamp(snapshot, t0 if week_first else t0 + dt.timedelta(minutes=5))
    engine = prepare(warehouse_url, ref)
    assert LOAD_CHUNK >= 2  # both files in one load transaction
    assert {o.outcome for o in ingest_files(engine, ref, [snapshot, report] if week_first else [report, snapshot])} == {
        "accepted"
    }
    result = consolidate_week(engine, ref, parse_period(week))
    assert result.figures["pakn.received_new"].value == 40  # the period's report: 40, not the snapshot's 55
    assert result.figures["pakn.resolved"].value == 30 and result.figures["dossier.received"].value == 40 + 6
    from sqlalchemy import text

    with engine.connect() as conn:
        report_id = conn.execute(
            text("SELECT submission_id FROM submissions WHERE period_code = :p"), {"p": period}
        ).scalar()
    used = {
        i.submission_id for f in result.figures.values() for i in f.inputs if i.unit_code == "SNV" and i.submission_id
    }
    assert used == {report_id}  # one submission, never figures from two


def test_each_refused_file_keeps_its_own_feedback_workbook(samples, ref, warehouse_url, tmp_path, monkeypatch):
    """Two refused versions of one unit — the later-arriving loaded first, so versions move when the
    earlier one loads — and two files no unit can be read from: four feedback workbooks, each about
    its own file (a name by version let the second overwrite the first's, or left one with none)."""
    from openpyxl import load_workbook

    from cchc.loading.ingest import ingest_files

    monkeypatch.setenv("CCHC_OUTPUT_DIR", str(tmp_path / "outputs"))
    folder = tmp_path / "in"
    folder.mkdir()
    src = samples / "h1" / f"{UNIT}_2024-H1.xlsx"
    t0 = dt.datetime(2024, 6, 16, 8, 0)
    early = edit(src, folder / f"{UNIT}_2024-H1.xlsx", lambda wb: set_figure(wb, "pakn.received_new", -1))
    late = edit(src, folder / f"{UNIT}_2024-H1 (2).xlsx", lambda wb: set_figure(wb, "pakn.received_new", -2))
    junk = [folder / "bao cao.xlsx", folder / "SNV_2024-H1 (2).xlsx"]
    junk[0].write_bytes(b"%PDF-1.4 not a workbook")
    junk[1].write_text("<html>not a workbook either</html>", encoding="utf-8")
    for i, f in enumerate([early, late, *junk]):
        _stamp(f, t0 + dt.timedelta(seconds=i))
    engine = prepare(warehouse_url, ref)
    outcomes = ingest_files(engine, ref, [late]) + ingest_files(engine, ref, [early]) + ingest_files(engine, ref, junk)
    assert [o.outcome for o in outcomes] == ["rejected"] * 4
    paths = {o.file_name: Path(o.feedback) for o in outcomes}
    assert len(set(paths.values())) == 4 and all(p.is_file() for p in paths.values())
    for name, path in paths.items():  # each workbook names the file it is about
        cells = [c.value for row in load_workbook(path).worksheets[0].iter_rows() for c in row]
        assert any(isinstance(v, str) and name in v for v in cells), (name, path.name)
