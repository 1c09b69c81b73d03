"""The Celery workers' preload (cchc.orchestration.preload): what each task process inherits by fork."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys, threading, time
t = time.perf_counter()
import cchc.orchestration.preload
took = time.perf_counter() - t
print(json.dumps({
    "threads": [th.name for th in threading.enumerate()],
    "modules": [m for m in ("pandas", "great_expectations", "sqlalchemy", "python_calamine",
                            "cchc.orchestration.ingest_tasks", "cchc.loading.ingest") if m in sys.modules],
    "seconds": took,
}))
"""


def test_preload_imports_the_heavy_modules_and_starts_no_thread():
    """A fork copies no thread: a preload that started one (a GX usage-statistics sender, a pool)
    would leave its locks held in every task process."""
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, cwd=ROOT, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["threads"] == ["MainThread"], got
    assert len(got["modules"]) == 6, got
    print(f"\npreload: {got['seconds']:.1f} s once per worker")


def test_the_stack_and_compose_file_preload_it_in_the_workers():
    stack = (ROOT / "stack" / "stack.py").read_text(encoding="utf-8")
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert 'extra_celery_config = {{"imports": ["cchc.orchestration.preload"]}}' in stack
    line = next(x for x in compose.splitlines() if "AIRFLOW__CELERY__EXTRA_CELERY_CONFIG" in x)
    assert json.loads(line.split(":", 1)[1].strip().strip("'")) == {"imports": ["cchc.orchestration.preload"]}
