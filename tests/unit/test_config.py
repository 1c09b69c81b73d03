"""Where things live when nothing is set: the project's own folders, found from the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_project_dir_without_cchc_home_is_the_checkout():
    env = {"PATH": "/usr/bin:/bin", "GX_ANALYTICS_ENABLED": "false"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from cchc.common.config import project_dir, sql_dir, reference_dir;"
            "print(project_dir()); print(sql_dir()); print(reference_dir())",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [str(ROOT), str(ROOT / "sql"), str(ROOT / "include" / "reference")]
    assert (Path(out[1]) / "schema").is_dir() and (Path(out[2]) / "units.csv").is_file()
