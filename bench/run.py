"""`make bench [N=63]`: the pipeline at national scale against the naive pattern and the raw read.

    python bench/run.py [--provinces N] [--naive-files 500] [--workers 2]

Prints one table: per pipeline stage wall time, files/s and peak memory (RSS of this process and
its reader processes), then the references and the targets. Imports are measured on their own
line (a fresh interpreter) and excluded from stage times. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
IMPORTS = "import pandas, great_expectations, sqlalchemy, python_calamine, openpyxl"


class Stages:
    """Wall time and peak RSS (self + child processes, sampled every 20 ms) per named stage."""

    def __init__(self):
        import psutil

        self.me = psutil.Process()
        self.rows: dict[str, list[float]] = {}  # name -> [seconds, peak MB]
        self.current: str | None = None
        threading.Thread(target=self._watch, daemon=True).start()

    def rss(self) -> float:
        total = self.me.memory_info().rss
        for child in self.me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except Exception:  # a reader process that just ended
                pass
        return total / 2**20

    def _watch(self) -> None:
        while True:
            name = self.current
            if name:
                row = self.rows[name]
                row[1] = max(row[1], self.rss())
            time.sleep(0.02)

    @contextmanager
    def __call__(self, name: str):
        self.rows.setdefault(name, [0.0, 0.0])
        self.current = name
        self.rows[name][1] = max(self.rows[name][1], self.rss())
        t = time.perf_counter()
        try:
            yield
        finally:
            self.rows[name][0] += time.perf_counter() - t
            self.current = None


def fresh_interpreter_imports() -> tuple[float, float]:
    """(interpreter start, the heavy imports) in a new process, as a cold CLI run pays them."""
    t = time.perf_counter()
    subprocess.run([PY, "-c", "pass"], check=True)
    start = time.perf_counter() - t
    out = subprocess.run([PY, "-c", f"import time; t = time.perf_counter(); {IMPORTS}; "
                                    "print(time.perf_counter() - t)"], check=True, capture_output=True, text=True)
    return start, float(out.stdout.strip().splitlines()[-1])


def raw_read(files: list[Path]) -> float:
    """The floor: open every file and read every sheet's cells with python-calamine, one process."""
    from python_calamine import CalamineWorkbook

    t = time.perf_counter()
    for f in files:
        wb = CalamineWorkbook.from_path(str(f))
        for name in wb.sheet_names:
            wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    return time.perf_counter() - t


def naive(files: list[Path], work: Path, env: dict) -> dict:
    """The naive pattern in its own process (bench/naive.py); whole-process wall time added."""
    db = work / "naive.db"
    db.unlink(missing_ok=True)
    t = time.perf_counter()
    out = subprocess.run([PY, str(HERE / "naive.py"), f"sqlite:///{db}", *map(str, files)], env=env,
                         check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {**result, "process": time.perf_counter() - t}


def city_cycle(city_files: list[Path], work: Path) -> float:
    """`cchc ingest` on the city's 253 files as a whole new process, imports included."""
    folder = work / "city_landing"
    shutil.rmtree(work / "city", ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for f in city_files:
        shutil.copy(f, folder / f.name)
    env = {k: v for k, v in os.environ.items() if k not in ("CCHC_REFERENCE_DIR", "CCHC_WAREHOUSE_URL")}
    env["CCHC_DATA_DIR"] = str(work / "city")
    t = time.perf_counter()
    subprocess.run([str(Path(PY).with_name("cchc")), "ingest", str(folder)], env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - t


def dag_imports() -> dict[str, tuple[float, float]]:
    """Each DAG file in a fresh interpreter: (airflow.sdk import, the file's own import)."""
    code = ("import runpy, sys, time; t = time.perf_counter(); import airflow.sdk; a = time.perf_counter() - t; "
            "t = time.perf_counter(); runpy.run_path(sys.argv[1]); print(a, time.perf_counter() - t)")
    out = {}
    for f in sorted((ROOT / "dags").glob("*.py")):
        res = subprocess.run([PY, "-c", code, str(f)], check=True, capture_output=True, text=True)
        a, b = res.stdout.strip().splitlines()[-1].split()
        out[f.name] = (float(a), float(b))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--provinces", type=int, default=1)
    ap.add_argument("--naive-files", type=int, default=500, help="naive pattern timed on this many files, scaled")
    ap.add_argument("--workers", type=int, default=0, help="reader processes (default: the cores available)")
    args = ap.parse_args()
    data = Path(os.environ.get("CCHC_DATA_DIR") or ROOT / "data") / "bench"
    work = data / f"run_{args.provinces}"
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    if args.workers:
        os.environ["CCHC_WORKERS"] = str(args.workers)

    sys.path.insert(0, str(HERE))
    from generate import ensure_files

    t = time.perf_counter()
    ref_dir, files = ensure_files(data / "files", args.provinces)
    gen_s = time.perf_counter() - t
    n = len(files)
    # The pipeline runs against the national registry, into a fresh archive and warehouse.
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    os.environ.update(CCHC_REFERENCE_DIR=str(ref_dir), CCHC_DATA_DIR=str(work))
    url = os.environ.get("CCHC_BENCH_WAREHOUSE_URL") or f"sqlite:///{work / 'warehouse.db'}"

    start_s, imports_s = fresh_interpreter_imports()
    t = time.perf_counter()
    import great_expectations  # noqa: F401 - paid here, not inside a stage
    import pandas  # noqa: F401

    from cchc.batch import workers
    from cchc.consolidate import consolidate_period, store
    from cchc.ingest import ingest_files, summary
    from cchc.reference import load_reference
    from cchc.warehouse import prepare
    in_process_imports = time.perf_counter() - t

    stages = Stages()
    ref = load_reference()
    with stages("setup (schema, reference)"):
        engine = prepare(url, ref)
    wall = time.perf_counter()
    outcomes = ingest_files(engine, ref, files, "bench", clock=stages)
    with stages("consolidate"):
        result = consolidate_period(engine, ref, "2024-H1")
        store(engine, result)
    wall = time.perf_counter() - wall
    counts = summary(outcomes)
    rerun_stages = Stages()
    t = time.perf_counter()
    again = ingest_files(engine, ref, files, "bench-rerun", clock=rerun_stages)
    rerun_s = time.perf_counter() - t
    assert summary(again)["duplicate"] == n, summary(again)
    peak_total = max(r[1] for r in stages.rows.values())

    raw_s = raw_read(files)
    city = files[: min(n, 253)]  # province 01 comes first: the city's own files
    step = max(1, n // args.naive_files)
    subset = files[::step][: args.naive_files] if n > args.naive_files else files
    env = {**os.environ, "CCHC_REFERENCE_DIR": str(ref_dir)}
    naive_sub = naive(subset, work, env)
    naive_city = naive_sub if subset == city else naive(city, work, {k: v for k, v in env.items()
                                                                     if k != "CCHC_REFERENCE_DIR"})
    city_s = city_cycle(city, work)
    dags = dag_imports()

    # --- the table -----------------------------------------------------------------------------
    rvl = sum(stages.rows[s][0] for s in ("read", "validate", "load") if s in stages.rows)
    naive_scaled = naive_sub["work"] / naive_sub["files"] * n
    scaled_note = f"timed on {naive_sub['files']} files, scaled ×{n / naive_sub['files']:.1f}" \
        if naive_sub["files"] != n else "timed on all files"
    line = "-" * 78
    print(f"\n{line}\ncchc benchmark: {args.provinces} province(s), {n} files, {workers()} reader process(es), "
          f"{os.cpu_count()} cores, warehouse {url.split(':', 1)[0]}\n{line}")
    print(f"generate files (cached between runs)      {gen_s:8.2f} s")
    print(f"imports (fresh interpreter): start {start_s:.2f} s + pandas/GX/sqlalchemy/calamine/openpyxl "
          f"{imports_s:.2f} s (in-process {in_process_imports:.2f} s); excluded from stages")
    print(f"{'stage':34} {'wall s':>9} {'files/s':>10} {'peak RSS MB':>12}")
    for name, (sec, mb) in stages.rows.items():
        print(f"{name:34} {sec:9.2f} {n / sec if sec else 0:10.0f} {mb:12.0f}")
    print(f"{'pipeline total (receive→consolidate)':34} {wall:9.2f} {n / wall:10.0f} {peak_total:12.0f}")
    print(f"{'rerun, nothing new':34} {rerun_s:9.2f} {n / rerun_s:10.0f} "
          f"{max(r[1] for r in rerun_stages.rows.values()):12.0f}")
    print(f"{'raw read (calamine, 1 process)':34} {raw_s:9.2f} {n / raw_s:10.0f}")
    print(f"{'naive read+validate+load':34} {naive_scaled:9.2f} {n / naive_scaled:10.0f}   ({scaled_note})")
    print(f"outcomes: {counts}")
    print(line)
    ok = lambda good: "met" if good else "NOT met"  # noqa: E731
    print(f"read+validate+load {rvl:.2f} s: {naive_scaled / rvl:.1f}× faster than naive (target ≥ 20×: "
          f"{ok(naive_scaled / rvl >= 20)}); {rvl / raw_s:.1f}× the raw read (target ≤ 3×: {ok(rvl / raw_s <= 3)})")
    print(f"whole run {wall:.1f} s (target < 120 s: {ok(wall < 120)}), peak memory {peak_total:.0f} MB "
          f"(target < 1536 MB: {ok(peak_total < 1536)})")
    print(f"city cycle, 253 files, whole process: pipeline {city_s:.1f} s vs naive {naive_city['process']:.1f} s = "
          f"{naive_city['process'] / city_s:.1f}× (target ≥ 5×: {ok(naive_city['process'] / city_s >= 5)})")
    print(f"rerun over {n} unchanged files: {rerun_s:.2f} s (target < 3 s: {ok(rerun_s < 3)})")
    for name, (sdk, own) in dags.items():
        print(f"DAG {name:26} import {own:.3f} s (target < 0.3 s: {ok(own < 0.3)}; airflow.sdk itself "
              f"{sdk:.2f} s, paid once by the DAG processor)")
    print(line)


if __name__ == "__main__":
    main()
