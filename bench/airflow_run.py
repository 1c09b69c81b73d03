"""Through Airflow: the national set dropped into the landing folder of `make up`, timed to the last summary.

    python bench/airflow_run.py --files DIR --provinces N --out result.json [--kill-worker SECONDS]

DIR is bench/generate.py's output folder: DIR/P01 … DIR/PNN are dropped, and DIR/reference_N is
the registry (or --reference; without --provinces, every .xlsx under DIR).

Starts the production shape (stack/stack.py: PostgreSQL, Redis, api-server, scheduler,
dag-processor, triggerer, two Celery workers) in a private data folder on free ports, with the
benchmark's registry (CCHC_REFERENCE_DIR), copies every .xlsx under DIR into the landing folder at
once, and waits until every file has its verdict in the warehouse and no cchc_ingest run is busy.
Nothing is triggered by hand: the landing folder's watcher starts the runs. Then `make down`.

Where the time goes, from the task instances of the runs (REST API):
- scheduling: from the end of the copy to the first task's queueing: the watcher's settle time and
  the asset event (`watcher_to_run`: until the run is created), then the scheduler starting it
  (`run_to_first_task`);
- start-up: each task's wait from queued to running, along the critical path (receive → the
  load_chunk wave → summarise);
- work: the tasks' own running time along the same path (the load_chunk wave counted by wall time);
  per chunk, its files, its own clock (read, validate, load, Data Docs: the task's XCom) and the rest
  of its running time (the task's start-up inside the worker: Task SDK, DAG parse, reference);
- memory: the peak resident size of every process of the stack (sampled every 0.2 s), largest first;
- with --kill-worker S: the worker running a load_chunk is SIGKILLed S seconds into it (its pool and
  task processes with it); the run still has to give every file its verdict (`verdicts` = `files`).
Writes the figures as JSON for bench/run.py (`--airflow-result`) and prints them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "stack"))
from stack import Stack, free_ports  # noqa: E402 - the same code `make up` runs

CRITICAL = ("receive", "load_chunk", "summarise")


class PeakMemory(threading.Thread):
    """The peak resident size of every process of the stack: each component `make up` starts leads a
    session of its own (its pid file in the stack's run/ folder), and its children — the Celery
    workers' pool processes and the task processes they fork — stay in it."""

    def __init__(self, run_dir: Path, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.run_dir, self.every, self.halt = run_dir, every, threading.Event()
        self.peak: dict[int, tuple[float, str]] = {}  # pid -> (MB, what it is)

    def run(self) -> None:
        import psutil

        while not self.halt.is_set():
            leaders = {int(p.read_text()) for p in self.run_dir.glob("*.pid") if p.read_text().strip().isdigit()}
            for proc in psutil.process_iter():
                try:
                    if os.getsid(proc.pid) not in leaders:
                        continue
                    mb = proc.memory_info().rss / 2**20
                    if mb > self.peak.get(proc.pid, (0.0, ""))[0]:
                        self.peak[proc.pid] = (mb, " ".join(proc.cmdline())[:90] or proc.name())
                except (psutil.Error, OSError):
                    pass
            self.halt.wait(self.every)

    def largest(self, n: int = 8) -> list[dict]:
        top = sorted(self.peak.items(), key=lambda kv: -kv[1][0])[:n]
        return [{"pid": pid, "mb": round(mb), "process": what} for pid, (mb, what) in top]


def kill_a_worker(stack, token: str, after: float, deadline: float) -> dict:
    """SIGKILL the Celery worker (its whole session: pool and task processes) running a load_chunk,
    `after` seconds into that chunk; what was killed, or {} if no chunk was seen running."""
    import signal

    while time.monotonic() < deadline:
        runs = stack.http("GET", "/api/v2/dags/cchc_ingest/dagRuns?limit=5&order_by=-run_after", token=token)
        for run in runs["dag_runs"]:
            if run["state"] != "running":
                continue
            base = f"/api/v2/dags/cchc_ingest/dagRuns/{run['dag_run_id']}/taskInstances"
            tis = stack.http("GET", f"{base}?task_id=load_chunk&limit=100", token=token)["task_instances"]
            ti = next((t for t in tis if t["state"] == "running" and t.get("pid")), None)
            if ti is None:
                continue
            time.sleep(after)
            try:
                sid = os.getsid(ti["pid"])
            except OSError:
                continue  # finished meanwhile: look again
            workers = {p.stem: int(p.read_text()) for p in stack.run_dir.glob("worker*.pid")}
            name = next((n for n, pid in workers.items() if pid == sid), None)
            if name is None:
                continue
            os.killpg(sid, signal.SIGKILL)
            return {"worker": name, "map_index": ti["map_index"], "run": run["dag_run_id"], "at": time.time()}
        time.sleep(0.5)
    return {}


def when(s: str | None) -> float | None:
    return dt.datetime.fromisoformat(s).timestamp() if s else None


def measure(files: list[Path], timeout: float, kill_after: float | None = None) -> dict:
    stack = Stack()
    t = time.monotonic()
    stack.up()
    up_seconds = time.monotonic() - t
    token = stack.token("admin")
    landing = stack.data / "landing"
    memory = PeakMemory(stack.run_dir)
    memory.start()
    try:
        # Unpausing creates a run for the last hourly interval: let it come and go first, or it would
        # take the files before the watcher's run and its start-up would count as scheduling.
        _wait_idle(stack, token, landing, timeout=180, since=0.0, at_least=1)
        drop_start = time.time()
        for f in files:
            shutil.copy(f, landing / f.name)
        drop_end = time.time()
        killed = kill_a_worker(stack, token, kill_after, time.monotonic() + 600) if kill_after is not None else None
        runs = _wait_idle(stack, token, landing, timeout=timeout, since=drop_start)
        done = time.time()
        verdicts = _verdicts(stack)
        memory.halt.set()
        result = _split(stack, token, runs, len(files), drop_start, drop_end, done, verdicts, up_seconds)
        result["chunks"] = _chunks(stack, token, runs)
        result["peak_rss_mb"] = memory.largest()
        if killed is not None:
            result["killed"] = {**killed, "at_s": round(killed["at"] - drop_end, 1)} if killed else {}
        return result
    finally:
        memory.halt.set()
        left = stack.down()
        if left:
            print("force-stopped: " + "; ".join(left), file=sys.stderr)


def _wait_idle(stack, token: str, landing: Path, timeout: float, since: float, at_least: int = 0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = stack.http("GET", "/api/v2/dags/cchc_ingest/dagRuns?limit=100&order_by=-run_after", token=token)[
            "dag_runs"
        ]
        busy = [r for r in runs if r["state"] in ("queued", "running")]
        if not busy and not any(landing.iterdir()) and len(runs) >= at_least:
            return [r for r in runs if (when(r.get("end_date")) or 0) >= since] if since else runs
        time.sleep(1)
    raise TimeoutError(f"cchc_ingest still busy after {timeout:.0f} s")


def _verdicts(stack) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.warehouse_url())
    with engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM submissions")).scalar_one()
    engine.dispose()
    return n


def _chunks(stack, token, runs) -> list[dict]:
    """Each load_chunk: its files, its running time, its own clock (XCom) and the rest (start-up)."""
    out = []
    for r in runs:
        base = f"/api/v2/dags/cchc_ingest/dagRuns/{r['dag_run_id']}/taskInstances"
        for t in stack.http("GET", f"{base}?task_id=load_chunk&limit=1000", token=token)["task_instances"]:
            if t["task_id"] != "load_chunk" or t["state"] != "success":
                continue
            got = stack.http(
                "GET",
                f"{base}/load_chunk/xcomEntries/return_value?map_index={t['map_index']}&deserialize=true",
                token=token,
            )
            value = got.get("value")
            value = json.loads(value) if isinstance(value, str) else value or {}
            duration = float(t.get("duration") or 0)
            out.append(
                {
                    "map_index": t["map_index"],
                    "try": t.get("try_number"),
                    "files": value.get("files"),
                    "duration_s": round(duration, 2),
                    "work_s": value.get("work_s"),
                    "startup_s": round(duration - float(value.get("work_s") or 0), 2),
                    "queued_wait_s": round(when(t["start_date"]) - when(t["queued_when"]), 2)
                    if t.get("queued_when")
                    else None,
                    "stages": value.get("stages", {}),
                }
            )
    return sorted(out, key=lambda c: c["map_index"])


def _split(stack, token, runs, n_files, drop_start, drop_end, done, verdicts, up_seconds) -> dict:
    tis = []
    for r in runs:
        tis += stack.http(
            "GET", f"/api/v2/dags/cchc_ingest/dagRuns/{r['dag_run_id']}/taskInstances?limit=1000", token=token
        )["task_instances"]
    queued = [when(t.get("queued_when")) for t in tis if t.get("queued_when")]
    first_queued = min(queued) if queued else drop_end
    run_created = min((when(r.get("queued_at")) for r in runs if r.get("queued_at")), default=first_queued)
    startup = work = 0.0
    per_task = {}
    for task in CRITICAL:
        group = [t for t in tis if t["task_id"] == task and t.get("start_date") and t.get("end_date")]
        if not group:
            continue
        starts = [when(t["start_date"]) for t in group]
        ends = [when(t["end_date"]) for t in group]
        waits = [when(t["start_date"]) - when(t["queued_when"]) for t in group if t.get("queued_when")]
        wall = max(ends) - min(starts)
        per_task[task] = {
            "instances": len(group),
            "wall_s": round(wall, 2),
            "startup_mean_s": round(sum(waits) / len(waits), 2) if waits else None,
        }
        # Along the critical path: one start-up wait per stage, the stage's wall time as work.
        startup += min(waits) if waits else 0.0
        work += wall
    summaries = [when(t["end_date"]) for t in tis if t["task_id"] == "summarise" and t.get("end_date")]
    last_summary = max(summaries) if summaries else done
    wall = last_summary - drop_start
    return {
        "files": n_files,
        "verdicts": verdicts,
        "runs": len(runs),
        "task_instances": len(tis),
        "run_states": sorted(r["state"] for r in runs),
        "up_s": round(up_seconds, 1),
        "copy_s": round(drop_end - drop_start, 1),
        "drop_to_last_summary_s": round(wall, 1),
        # The plain run starts with its files in place: the copy into landing is not the pipeline's.
        "after_copy_s": round(last_summary - drop_end, 1),
        "split": {
            "copy": round(drop_end - drop_start, 1),
            "scheduling": round(first_queued - drop_end, 1),
            "watcher_to_run": round(run_created - drop_end, 1),
            "run_to_first_task": round(first_queued - run_created, 1),
            "startup": round(startup, 1),
            "work": round(work, 1),
            "other": round(wall - (drop_end - drop_start) - (first_queued - drop_end) - startup - work, 1),
        },
        "tasks": per_task,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--files", type=Path, required=True, help="bench/generate.py's output folder")
    ap.add_argument("--provinces", type=int, help="drop DIR/P01 … DIR/PNN (default: every .xlsx under DIR)")
    ap.add_argument("--reference", type=Path, help="CCHC_REFERENCE_DIR (default with --provinces: DIR/reference_N)")
    ap.add_argument("--out", type=Path, help="write the figures here as JSON")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument(
        "--kill-worker",
        type=float,
        metavar="SECONDS",
        help="SIGKILL the worker running a load_chunk this many seconds into it; the run must still give every file its verdict",
    )
    args = ap.parse_args()
    if args.provinces:
        files = sorted(f for p in range(1, args.provinces + 1) for f in (args.files / f"P{p:02d}").glob("*.xlsx"))
        args.reference = args.reference or args.files / f"reference_{args.provinces}"
    else:
        files = sorted(args.files.rglob("*.xlsx"))
    # PostgreSQL may run as `postgres` (when this runs as root): a folder it can traverse.
    (ROOT / "data" / "bench").mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="airflow-", dir=ROOT / "data" / "bench"))
    workdir.chmod(0o755)
    api, pg, redis, smtp, logs, imap = free_ports(6)
    os.environ.update(
        {
            "CCHC_DATA_DIR": str(workdir / "data"),
            "CCHC_STACK_API_PORT": str(api),
            "CCHC_STACK_PG_PORT": str(pg),
            "CCHC_STACK_REDIS_PORT": str(redis),
            "CCHC_STACK_SMTP_PORT": str(smtp),
            "CCHC_STACK_LOG_PORT": str(logs),
            "CCHC_STACK_IMAP_PORT": str(imap),
        }
    )
    # Never the office's real mailbox or relay: the bench stack runs its own.
    for key in (
        "CCHC_WAREHOUSE_URL",
        "CCHC_LANDING_URL",
        "CCHC_ARCHIVE_DIR",
        "CCHC_OUTPUT_DIR",
        "CCHC_SMTP_URL",
        "CCHC_IMAP_URL",
    ):
        os.environ.pop(key, None)
    if args.reference:
        os.environ["CCHC_REFERENCE_DIR"] = str(args.reference.resolve())
    result = measure(files, args.timeout, args.kill_worker)
    if result["verdicts"] == result["files"]:
        shutil.rmtree(workdir, ignore_errors=True)
    else:  # keep the stack's logs for a look
        print(
            f"{result['files'] - result['verdicts']} file(s) without a verdict; logs kept in "
            f"{workdir / 'data' / 'stack'}",
            file=sys.stderr,
        )
    text = json.dumps(result, indent=1, ensure_ascii=False)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
