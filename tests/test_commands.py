"""The commands the README documents, each exercised by a test.

`make test` is the whole suite set up as CI sets it up (.ci/setup-test-env: system packages,
PostgreSQL, CCHC_TEST_PG_URL and CCHC_REQUIRE_PG=1), and CI runs that very command; `make test-fast`
is the lane without end-to-end runs, PostgreSQL, slow tests or LibreOffice; `make lint` is ruff's
checks and formatting. The README's other make targets are run by the tests RUN_BY names.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import ROOT

SETUP = ROOT / ".ci" / "setup-test-env"

# Each make target the README documents, and the test file that runs it.
RUN_BY = {
    "demo": "tests/e2e/test_make_demo.py",
    "test": "tests/test_commands.py",
    "test-fast": "tests/test_commands.py",
    "lint": "tests/test_commands.py",
    "bench": "tests/e2e/test_make_targets.py",
    "corpus": "tests/e2e/test_make_targets.py",
    "up": "tests/e2e/test_stack.py",
    "down": "tests/e2e/test_stack.py",
    "stack-status": "tests/e2e/test_stack.py",
}


def make_env() -> dict[str, str]:
    """This environment without what would change a target's command line (also when a make runs this)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTEST_ARGS", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}


def run(command: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """`command` in the repository, in `make_env()` unless told otherwise; its output as text."""
    kwargs = {"cwd": ROOT, "env": make_env(), **kwargs}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)


def dry_run(target: str) -> list[list[str]]:
    """`make -n TARGET`: the commands it would run, each split as the shell would."""
    out = run(["make", "--no-print-directory", "-n", target], timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return [shlex.split(line) for line in out.stdout.splitlines() if line.strip()]


def documented_targets() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return set(re.findall(r"(?:^|`)make ([a-z][a-z-]*)", readme, re.MULTILINE))


def test_every_make_command_in_the_readme_is_a_target_run_by_a_test():
    documented = documented_targets()
    assert {"demo", "test", "test-fast", "lint"} <= documented
    assert documented <= RUN_BY.keys(), f"documented without a test: {documented - RUN_BY.keys()}"
    for target in sorted(documented):
        assert dry_run(target), target  # a target of the Makefile
        assert f'"{target}"' in (ROOT / RUN_BY[target]).read_text(encoding="utf-8"), (target, RUN_BY[target])


def test_make_test_runs_the_whole_suite_in_the_setup_ci_uses():
    *_, last = dry_run("test")
    assert [Path(last[0]).as_posix(), Path(last[1]).name, *last[2:]] == [".ci/setup-test-env", "pytest", "-q"]
    # CI runs the README's command, after the same setup and `make lint`.
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    ci = [line for line in ci if line and not line.startswith("#")]
    assert any(line.startswith(".ci/setup-test-env") for line in ci)
    assert any("docker-compose -f docker-compose.yml config" in line for line in ci)
    assert ci.index("make lint") < ci.index("time make test") == len(ci) - 1
    assert os.access(SETUP, os.X_OK) and os.access(ROOT / ".ci" / "pg-start", os.X_OK)


def test_the_setup_gives_pytest_the_postgresql_server():
    """Under `make test`: the script hands on the server it was given (CCHC_TEST_PG_URL set: no other
    is started), the same to a command and as `export` lines, with CCHC_REQUIRE_PG=1."""
    url = os.environ.get("CCHC_TEST_PG_URL")
    if not url:
        if os.environ.get("CCHC_REQUIRE_PG") == "1":
            pytest.fail("CCHC_REQUIRE_PG=1 but CCHC_TEST_PG_URL is not set")
        pytest.skip("runs under `make test` (.ci/setup-test-env sets CCHC_TEST_PG_URL)")
    env = {**make_env(), "CCHC_REQUIRE_PG": "0"}
    show = "import os; print(os.environ['CCHC_TEST_PG_URL'], os.environ['CCHC_REQUIRE_PG'])"
    out = run([str(SETUP), sys.executable, "-c", show], timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [url, "1"]
    password = urlsplit(url).password
    assert not password or f":{password}@" not in out.stderr  # the password is not printed
    script = f'eval "$({shlex.quote(str(SETUP))})"; echo "$CCHC_TEST_PG_URL $CCHC_REQUIRE_PG"'
    shown = run(["bash", "-c", script], timeout=120, env=env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == [url, "1"]


@pytest.fixture
def bare_path():
    """A PATH with only what the script itself runs, readable by any user: every package looks missing."""
    folder = Path(tempfile.mkdtemp(prefix="cchc-bare-path-"))
    try:
        folder.chmod(0o755)
        for tool in ("bash", "env", "id", "dirname"):
            (folder / tool).symlink_to(shutil.which(tool))
        yield folder
    finally:
        shutil.rmtree(folder)


def test_the_setup_says_what_to_install_when_not_root(bare_path):
    command = ["env", f"PATH={bare_path}", str(SETUP), "true"]
    if os.geteuid() == 0:
        if not shutil.which("runuser"):
            pytest.skip("root without runuser: cannot run the script as another user")
        command = ["runuser", "-u", "nobody", "--", *command]
    out = run(command, timeout=60, env=None)
    assert out.returncode == 1, out.stdout + out.stderr
    message = out.stderr
    assert "Lỗi / error" in message and "thiếu gói hệ thống" in message and "missing" in message
    assert "sudo apt-get install --no-install-recommends" in message
    packages = ["docker-compose", "libreoffice-writer-nogui", "libreoffice-calc-nogui", "poppler-utils"]
    assert all(p in message for p in [*packages, "redis-server", "chromium"]), message
    assert "setup-test-env" in message  # or run it once as root


def test_make_test_fast_is_the_quick_lane():
    """`make test-fast`, dry: its marker expression, and what pytest collects with it. Its time (under two
    minutes on CI's 2 cores) is measured by hand, not here: running the lane inside the suite would run it twice."""
    (command,) = [c for c in dry_run("test-fast") if c and Path(c[0]).name == "pytest"]
    assert "-m" in command and ".ci/setup-test-env" not in " ".join(command)  # no server, no root needed
    expression = command[command.index("-m") + 1]
    assert all(m in expression for m in ("e2e", "postgres", "slow", "libreoffice"))
    out = run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-m", expression], 300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    ids = [line for line in out.stdout.splitlines() if "::" in line]
    assert len(ids) >= 150, out.stdout[-1000:]
    files = {i.split("::")[0] for i in ids}
    assert {"tests/test_golden.py", "tests/unit/test_read.py", "tests/test_commands.py"} <= files
    assert not {"tests/test_soak.py", "tests/test_print.py", "tests/e2e/test_stack.py"} & files
    assert not [i for i in ids if re.search(r"\[.*postgresql.*\]$", i)]  # no PostgreSQL variant


def test_make_lint_passes():
    """`make lint` for real: ruff check and ruff format --check find nothing."""
    out = run(["make", "-s", "lint"], timeout=600)
    assert out.returncode == 0, (out.stdout + out.stderr)[-6000:]


def test_the_readme_status_command_runs_as_written(tmp_path):
    """`cchc status` as the README's command list writes it, each option in its brackets, on a
    warehouse that received one file that is not a workbook (`SNV_2024-H1 (2).xlsx`): the page's
    facts, Vietnamese first, or JSON a script reads."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (line,) = [x for x in readme.splitlines() if x.startswith("cchc status ")]
    words = shlex.split(line.split("#", 1)[0])
    base = [w for w in words if not w.startswith("[") and not w.endswith("]")]
    options = [shlex.split(w.strip("[]")) for w in re.findall(r"\[[^]]+\]", line.split("#", 1)[0])]
    assert base == ["cchc", "status", "--period", "2024-H1"] and ["--json"] in options, line
    cchc = str(Path(sys.executable).with_name("cchc"))
    env = {**make_env(), "CCHC_DATA_DIR": str(tmp_path / "data"), "GX_ANALYTICS_ENABLED": "false"}
    env["CCHC_WAREHOUSE_URL"] = f"sqlite:///{tmp_path / 'warehouse.db'}"
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "SNV_2024-H1 (2).xlsx").write_text("<html><body><table><tr><td>1</td></tr></table></body></html>")
    ingested = run([cchc, "ingest", str(drop)], timeout=300, env=env)
    assert ingested.returncode == 0 and "FILE_NOT_XLSX" in ingested.stdout, ingested.stderr[-3000:]

    shown = run([cchc, *base[1:]], timeout=300, env=env)
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert shown.stdout.startswith("Tình hình báo cáo / reporting status — Kỳ 2024-H1")
    assert "SNV_2024-H1 (2).xlsx" in shown.stdout and "kỳ ghi trong tên tệp" in shown.stdout
    for option in options:
        out = run([cchc, *base[1:], *option], timeout=300, env=env)
        assert out.returncode == 0, (option, out.stderr[-3000:])
        if option == ["--json"]:
            got = json.loads(out.stdout)
            counts = got["counts"]
            assert counts["unattributed"] == 1 and counts["missing"] == counts["total"] == len(got["units"]) > 200
            (broken,) = got["unattributed"]
            assert (broken["file_name"], broken["tied_by"], broken["findings"][0]["code"]) == (
                "SNV_2024-H1 (2).xlsx",
                "name",
                "FILE_NOT_XLSX",
            )
            assert broken["received_at"].endswith("+07:00") and broken["feedback"].startswith("/cchc/feedback/")
        else:  # --status missing: only the units not received, every one of them; no file
            lines = out.stdout.splitlines()
            total = int(lines[2].split()[0])
            assert f"Đơn vị (units): {total}" in lines and "SNV_2024-H1 (2).xlsx" not in out.stdout
            assert sum(x.startswith("  ") and "Chưa gửi (not received)" in x for x in lines) == total
