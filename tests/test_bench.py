"""The benchmark stays runnable: `bench/generate.py` makes several provinces and their national
registry, and `cchc ingest` (a real process, reader processes on) takes every file of them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from conftest import ROOT

BIN = os.path.dirname(sys.executable)


def test_two_generated_provinces_ingest_whole(tmp_path, data_dirs):
    out = tmp_path / "bench"
    gen = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), "--provinces", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    ref_dir = out / "reference_2"
    assert str(ref_dir) in gen.stdout and str(out / "P01") in gen.stdout
    assert sorted(p.name for p in out.iterdir()) == ["P01", "P02", "reference_2"]  # nothing else left behind
    files = sorted(out.glob("P0[12]/*.xlsx"))
    assert len(list(out.glob("P01/*.xlsx"))) == len(list(out.glob("P02/*.xlsx"))) > 200
    assert all(f.name.startswith("P02") for f in out.glob("P02/*.xlsx"))

    landing = tmp_path / "landing"
    landing.mkdir()
    for f in files:
        shutil.copy(f, landing / f.name)
    # The generated registry, a fresh warehouse; readers in processes (the national path), not in-process.
    env = {
        **os.environ,
        "CCHC_REFERENCE_DIR": str(ref_dir),
        "CCHC_DATA_DIR": str(data_dirs),
        "CCHC_POOL_MIN_FILES": "100",
        "CCHC_WORKERS": "2",
    }
    ingest = subprocess.run(
        [os.path.join(BIN, "cchc"), "ingest", str(landing)], env=env, capture_output=True, text=True, timeout=600
    )
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    outcomes = [line.split("\t") for line in ingest.stdout.splitlines()]
    assert len(outcomes) == len(files)
    assert {o[1] for o in outcomes} == {"accepted"}, [o for o in outcomes if o[1] != "accepted"][:5]
    assert len({o[2] for o in outcomes}) == len(files)  # every file a distinct unit

    report = subprocess.run(
        [os.path.join(BIN, "cchc"), "report", "--period", "2024-H1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert report.returncode == 0, report.stderr[-2000:]
    reported, missing = map(int, re.search(r"(\d+) đơn vị đã báo cáo, (\d+) chưa báo cáo", report.stderr).groups())
    assert (reported, missing) == (len(files), 0)
