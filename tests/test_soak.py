"""Soak test with faults: many rounds of files dropped into a landing folder and taken by the real
`cchc ingest LANDING --take` (a subprocess), some runs SIGKILLed at a random moment, one round with
the archive on a full disk. After every round the three promises of issue 11 are checked against
the test's own record of what it dropped:

1. every file dropped is either archived (bytes intact) with exactly one receipt per delivery, or
   still in the landing folder;
2. no submission has part of its rows: each one's figures and task statuses are exactly what a
   fresh read of its archived file holds (none for a refused one), and every file received has a
   verdict once a run completes;
3. the consolidated H1-2024 figures equal a recomputation: the latest accepted file of each unit,
   taken from the archive and ingested alone into a fresh warehouse, consolidated there.

Seeded, so a failure replays. `pytest -s` prints the counts.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from helpers import edit, full_disk, set_figure
from sqlalchemy import text

SEED = 11
ROUNDS = {"sqlite": 22, "postgresql": 10}  # PostgreSQL: fewer, to keep CI under 3 minutes for both
FULL_DISK_ROUND = 5
KILL_SHARE = 0.4  # of the rounds, chosen by the seed: a killed run, then the next run
UNITS = ["SCT", "STP", "SKHDT", "STC", "SXD", "SYT"]  # departments: each reports comms.media_items
SPARE = "SGTVT"  # a unit first sent in the full-disk round: its bytes are new to the archive
PERIOD = "2024-H1"
FIGURE = "comms.media_items"


@pytest.fixture(scope="module")
def pool(samples, tmp_path_factory) -> dict[str, list[Path]]:
    """Per unit: its good sample, a refused edit (a negative count), two corrections of a figure."""
    from helpers import column_of, row_of, sheet
    from openpyxl import load_workbook

    out = tmp_path_factory.mktemp("soak_pool")
    variants: dict[str, list[Path]] = {}
    for unit in UNITS + [SPARE]:
        src = samples / "h1" / f"{unit}_{PERIOD}.xlsx"
        ws = sheet(load_workbook(src, read_only=False), "Số liệu")
        base = int(ws.cell(row=row_of(ws, FIGURE), column=column_of(ws, "Số liệu")).value or 0)
        variants[unit] = [
            src,
            edit(src, out / unit / "bad.xlsx", lambda wb: set_figure(wb, FIGURE, -1)),
            edit(src, out / unit / "fix1.xlsx", lambda wb, v=base + 1: set_figure(wb, FIGURE, v)),
            edit(src, out / unit / "fix2.xlsx", lambda wb, v=base + 3: set_figure(wb, FIGURE, v)),
        ]
    return variants


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Soak:
    def __init__(self, url: str, tmp: Path, ref, pool: dict[str, list[Path]]):
        from cchc.warehouse.engine import get_engine

        self.url, self.tmp, self.ref, self.pool = url, tmp, ref, pool
        self.rng = random.Random(SEED)
        self.landing = tmp / "landing"
        self.landing.mkdir()
        self.deliveries: list[tuple[str, str]] = []  # (name in landing, checksum), every drop
        self.dropped: set[str] = set()  # checksums dropped so far
        self.counts = Counter()
        self.expected_rows: dict[str, tuple[int, int]] = {}  # checksum -> (figures, tasks) a fresh read gives
        self.run_seconds = 4.0
        self.engine = get_engine(url)

    # --- the rounds ------------------------------------------------------------------------

    def drop(self, rnd: int) -> None:
        """A random mix: new good files, refused ones, corrections, and the same bytes again."""
        n = self.rng.randint(3, 6)
        for k in range(n):
            unit = self.rng.choice(UNITS)
            kind = self.rng.choices(["good", "bad", "fix", "again"], weights=[3, 2, 3, 2])[0]
            if kind == "again" and self.dropped:
                src = self.rng.choice([p for ps in self.pool.values() for p in ps if sha(p) in self.dropped])
            else:
                kind = "good" if kind == "again" else kind
                src = {
                    "good": self.pool[unit][0],
                    "bad": self.pool[unit][1],
                    "fix": self.rng.choice(self.pool[unit][2:]),
                }[kind]
            self.put(src, f"r{rnd:02d}_{k}_{kind}_{unit}.xlsx")
            self.counts[f"dropped {kind}"] += 1

    def put(self, src: Path, name: str) -> None:
        tmp = self.landing / f"{name}.part"  # how a sender drops a file: written aside, then renamed
        shutil.copyfile(src, tmp)
        os.replace(tmp, self.landing / name)
        checksum = sha(src)
        self.deliveries.append((name, checksum))
        self.dropped.add(checksum)
        self.counts["files dropped"] += 1

    def command(self) -> list[str]:
        return [sys.executable, "-m", "cchc.cli", "--warehouse", self.url, "ingest", str(self.landing), "--take"]

    def run(self, env: dict | None = None) -> subprocess.CompletedProcess:
        start = time.monotonic()
        done = subprocess.run(
            self.command(), env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=300
        )
        self.run_seconds = time.monotonic() - start
        self.counts["runs completed"] += 1
        return done

    def killed_run(self, how: str) -> None:
        """SIGKILL the loader at a random moment, or right after it emptied the landing folder
        (files received, none loaded yet: the window where a verdict could be lost), or SIGKILL one
        of its reader processes (the run reads on a pool of two here, however few its files)."""
        from test_landing import readers

        delay = self.rng.uniform(0.2, self.run_seconds)
        env = {**os.environ, "CCHC_POOL_MIN_FILES": "1", "CCHC_WORKERS": "2"} if how == "a reader" else None
        proc = subprocess.Popen(self.command(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        start = time.monotonic()
        victim = None
        while proc.poll() is None:
            if how == "random moment" and time.monotonic() - start >= delay:
                break
            if how == "after taking" and not any(self.landing.iterdir()):
                break
            if how == "a reader" and (pool := readers(proc.pid)):
                time.sleep(self.rng.uniform(0, 1.0))  # starting, reading or idle: any moment
                victim = self.rng.choice(pool)
                break
            time.sleep(0.01)
        if proc.poll() is not None:
            self.counts["kills too late (run had finished)"] += 1
            proc.communicate()
            return
        if victim is None:
            proc.send_signal(signal.SIGKILL)
        else:
            try:
                victim.kill()
            except Exception:  # noqa: BLE001 - psutil.NoSuchProcess: the pool had finished
                pass
        try:
            _, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("the run hangs after one of its readers was killed") from None
        if victim is not None:  # the run ends by itself: done (the reader was idle by then) or failed cleanly
            assert proc.returncode in (0, 3), err
            self.counts[f"reader kill: run {'completed' if proc.returncode == 0 else 'failed cleanly'}"] += 1
        self.counts[f"kills ({how})"] += 1
        self.counts["kills"] += 1

    # --- the promises ---------------------------------------------------------------------

    def check_receipts(self) -> None:
        """1. Archived with exactly one receipt per delivery, or still in landing."""
        waiting = {p.name for p in self.landing.iterdir() if not p.name.endswith(".part")}
        assert waiting <= {name for name, _ in self.deliveries}
        expected = Counter(c for name, c in self.deliveries if name not in waiting)
        with self.engine.connect() as conn:
            receipts = Counter(
                dict(conn.execute(text("SELECT checksum, COUNT(*) FROM file_receipts GROUP BY checksum")).all())
            )
            archived = dict(conn.execute(text("SELECT checksum, archive_path FROM received_files")).all())
        assert receipts == expected, "a delivery with no receipt or with two"
        assert set(archived) == set(expected)
        for checksum, path in archived.items():
            assert sha(Path(path)) == checksum, f"archive copy of {checksum[:12]} is not the file received"
        self.counts["invariant: receipts (deliveries checked)"] += len(self.deliveries)
        self.counts["invariant checks"] += 1

    def check_whole(self, *, all_done: bool) -> None:
        """2. No submission has part of its rows; with a completed run, every file has a verdict."""
        from cchc.intake.read import read_workbook

        with self.engine.connect() as conn:
            subs = conn.execute(
                text(
                    "SELECT s.submission_id, s.status, f.archive_path, "
                    "(SELECT COUNT(*) FROM indicator_values v WHERE v.submission_id = s.submission_id), "
                    "(SELECT COUNT(*) FROM task_statuses t WHERE t.submission_id = s.submission_id) "
                    "FROM submissions s JOIN received_files f ON f.checksum = s.submission_id"
                )
            ).all()
            unchecked = conn.execute(
                text(
                    "SELECT COUNT(*) FROM received_files f WHERE NOT EXISTS "
                    "(SELECT 1 FROM submissions s WHERE s.submission_id = f.checksum)"
                )
            ).scalar()
        for key, status, path, n_values, n_tasks in subs:
            if key not in self.expected_rows:
                sub = read_workbook(Path(path))
                self.expected_rows[key] = (len(sub.values), len(sub.tasks))
            want = (0, 0) if status == "rejected" else self.expected_rows[key]
            assert (n_values, n_tasks) == want, f"submission {key[:12]} ({status}) is partly loaded"
            self.counts[f"submissions seen {status}"] = max(
                self.counts[f"submissions seen {status}"], sum(s[1] == status for s in subs)
            )
        if all_done:
            assert unchecked == 0, "a file received and never given a verdict"
        self.counts["invariant: whole submissions (submissions checked)"] += len(subs)
        self.counts["invariant checks"] += 1

    def check_consolidation(self, rnd: int) -> None:
        """3. Consolidated figures = the latest accepted files alone, ingested into a fresh warehouse."""
        from cchc.figures.consolidate import consolidate_period
        from cchc.loading.ingest import ingest_files
        from cchc.warehouse.engine import prepare

        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT s.unit_code, s.version, f.archive_path FROM submissions s "
                    "JOIN received_files f ON f.checksum = s.submission_id "
                    "WHERE s.period_code = :p AND s.status IN ('accepted', 'accepted_with_warnings')"
                ),
                {"p": PERIOD},
            ).all()
        latest: dict[str, tuple[int, str]] = {}
        for unit, version, path in rows:
            if unit not in latest or version > latest[unit][0]:
                latest[unit] = (version, path)
        here = consolidate_period(self.engine, self.ref, PERIOD)
        folder = self.tmp / f"recompute_{rnd:02d}"
        os.environ["CCHC_ARCHIVE_DIR"] = str(folder / "archive")  # its own archive: nothing shared
        fresh = prepare(f"sqlite:///{folder / 'warehouse.db'}", self.ref)
        try:
            files = [Path(path) for _, path in sorted(latest.values())]
            outcomes = ingest_files(fresh, self.ref, files, run_id="recompute")
            assert all(o.outcome.startswith("accepted") for o in outcomes), [o.line() for o in outcomes]
            again = consolidate_period(fresh, self.ref, PERIOD)
        finally:
            del os.environ["CCHC_ARCHIVE_DIR"]
            fresh.dispose()
        assert here.units_reported == again.units_reported == sorted(latest)
        figures = lambda c: {k: (f.value, f.n_units) for k, f in c.figures.items()}  # noqa: E731
        assert figures(here) == figures(again)
        self.counts["invariant: consolidation (figures compared)"] += len(here.figures)
        self.counts["invariant checks"] += 1


def test_soak_with_kills_and_a_full_disk_loses_nothing(pool, ref, warehouse_url, tmp_path):
    dialect = "postgresql" if warehouse_url.startswith("postgresql") else "sqlite"
    soak = Soak(warehouse_url, tmp_path, ref, pool)
    started = time.monotonic()
    plain = [r for r in range(1, ROUNDS[dialect]) if r != FULL_DISK_ROUND]
    kills = sorted(soak.rng.sample(plain, round(KILL_SHARE * ROUNDS[dialect])))
    for rnd in range(ROUNDS[dialect]):
        soak.drop(rnd)
        if rnd == FULL_DISK_ROUND:
            spare = f"r{rnd:02d}_new_{SPARE}.xlsx"
            soak.put(pool[SPARE][0], spare)
            with full_disk(tmp_path / "full") as archive:
                if archive is None:
                    print(f"round {rnd}: full-disk round run as a plain round: cannot mount a tmpfs here (needs root)")
                else:
                    done = soak.run({"CCHC_ARCHIVE_DIR": str(archive)})
                    assert done.returncode == 3, done.stderr
                    assert "No space left on device" in done.stderr
                    assert "vẫn nằm trong thư mục nhận" in done.stderr
                    assert (soak.landing / spare).exists()  # not archived: still waiting, nothing recorded
                    soak.counts["full-disk rounds"] += 1
                    soak.check_receipts()
                    soak.check_whole(all_done=True)
                    soak.check_consolidation(rnd)
                    continue
        elif rnd in kills:
            soak.killed_run(["after taking", "a reader", "random moment"][kills.index(rnd) % 3])
            soak.check_whole(all_done=False)  # right after the kill: nothing half loaded
        done = soak.run()
        assert done.returncode == 0, done.stderr
        assert not any(soak.landing.iterdir()), "a completed run left files in landing"
        soak.check_receipts()
        soak.check_whole(all_done=True)
        soak.check_consolidation(rnd)
        soak.counts["rounds"] += 1 if rnd != FULL_DISK_ROUND else 0
    soak.counts["rounds"] += soak.counts["full-disk rounds"]
    c = soak.counts
    assert c["rounds"] == ROUNDS[dialect] and c["kills"] >= 2 and c["dropped again"] and c["dropped bad"]
    assert c["submissions seen rejected"] and c["submissions seen accepted"]
    print(f"\nsoak on {dialect} (seed {SEED}, {time.monotonic() - started:.0f} s):")
    for key in sorted(c):
        print(f"  {key}: {c[key]}")
