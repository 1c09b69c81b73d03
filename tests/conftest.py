"""Shared fixtures: isolated data folders, the reference data, the sample submissions (made once)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT.parent / "shared" / "domain" / "golden_h1_2024.csv"

os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("CCHC_HOME", str(ROOT))

# The fonts LibreOffice renders with: only those tests/fonts.conf names (Debian's Liberation and DejaVu),
# whatever else the machine has, so that a printed header wraps as in CI. Set for the whole session:
# every soffice a test starts (test_print, test_draft, helpers.libreoffice_save, …) inherits it.
os.environ["FONTCONFIG_FILE"] = str(ROOT / "tests" / "fonts.conf")

# Lanes: `make test` runs every test; `make test-fast` leaves out -m "e2e or postgres or slow or
# libreoffice". The markers are given here, from what a test needs, so that test files need not carry
# them: postgres on every PostgreSQL variant (a parameter "postgresql"), libreoffice and slow by node id
# (a prefix: a file or one test). Slow: several seconds each on CI's 2 cores (durations measured with
# `pytest --durations=0`), or a module fixture that is; the fast lane must stay under 2 minutes.
LIBREOFFICE = (
    "tests/test_print.py",
    "tests/test_draft.py::test_libreoffice_prints_the_draft_on_a4_with_diacritics",
    "tests/test_draft.py::test_libreoffice_prints_each_note_whole_at_the_foot_of_the_page_that_cites_it",
    "tests/test_error_cells.py::test_errors_saved_by_libreoffice_in_a_figure_a_date_and_an_info_cell",
    "tests/test_preview.py",
    "tests/test_approval.py::test_the_request_links_the_outputs_shows_the_first_pages_and_what_changed",
    "tests/test_scenario_other_city.py",  # its module fixture re-saves a unit's file with LibreOffice
    "tests/unit/test_reading_checks.py::test_a_libreoffice_file_with_all_three_is_accepted_flagged_and_fed_back",
)
SLOW = (
    "tests/test_advice.py",  # module fixture ≈ 8 s
    "tests/test_approval.py",
    "tests/test_bench.py",
    "tests/test_concurrency.py",
    "tests/test_corpus.py",
    "tests/test_crash.py",
    "tests/test_datadocs.py",  # headless chromium
    "tests/test_mailbox.py",  # a Dovecot and 253 e-mails
    "tests/test_delivery_order.py",
    "tests/test_draft.py",
    "tests/test_landing.py",
    "tests/test_migrations.py",
    "tests/test_print.py",
    "tests/test_scenario_other_city.py",
    "tests/test_soak.py",
    "tests/test_weekly_rollup.py",
)


@pytest.hookimpl(tryfirst=True)  # before -m deselects by them
def pytest_collection_modifyitems(config, items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and any(v == "postgresql" for v in callspec.params.values() if isinstance(v, str)):
            item.add_marker(pytest.mark.postgres)
        if item.nodeid.startswith(LIBREOFFICE):
            item.add_marker(pytest.mark.libreoffice)
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def data_dirs(tmp_path, monkeypatch):
    """Every test gets its own data folder (archive, outputs, staging, SQLite warehouse)."""
    data = tmp_path / "data"
    monkeypatch.setenv("CCHC_DATA_DIR", str(data))
    monkeypatch.delenv("CCHC_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("CCHC_ARCHIVE_DIR", raising=False)
    monkeypatch.delenv("CCHC_OUTPUT_DIR", raising=False)
    monkeypatch.delenv("CCHC_LANDING_URL", raising=False)
    return data


@pytest.fixture(scope="session")
def ref():
    from cchc.reference.registry import load_reference

    return load_reference()


@pytest.fixture(scope="session")
def samples(tmp_path_factory) -> Path:
    """The H1-2024 sample workbooks and weekly snapshots, written once per test session."""
    from cchc.reference.sample import generate

    out = tmp_path_factory.mktemp("samples")
    generate(out, weeks=True)
    return out


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'warehouse.db'}"


def deployment_warehouse(data: Path, name: str) -> tuple[str, dict[str, str], object]:
    """A module's deployment warehouse: a fresh PostgreSQL database `name` when the test server is
    there, else SQLite in `data`; (url, the cchc environment pointing at it and `data`, drop)."""
    if os.environ.get("CCHC_TEST_PG_URL"):
        url, drop = pg_database(name)
    else:
        url, drop = f"sqlite:///{data / 'warehouse.db'}", (lambda: None)
    env = {
        "CCHC_HOME": str(ROOT),
        "CCHC_DATA_DIR": str(data),
        "CCHC_WAREHOUSE_URL": url,
        "GX_ANALYTICS_ENABLED": "false",
        "NO_PROXY": "*",
    }
    return url, env, drop


def pg_database(name: str):
    """A fresh PostgreSQL database on the test server: (url, drop); skips (or fails in CI) without one."""
    admin = os.environ.get("CCHC_TEST_PG_URL")
    if not admin:
        if os.environ.get("CCHC_REQUIRE_PG") == "1":
            pytest.fail("CCHC_REQUIRE_PG=1 but CCHC_TEST_PG_URL is not set")
        pytest.skip("no PostgreSQL server (set CCHC_TEST_PG_URL)")
    from sqlalchemy import create_engine, text

    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        import time

        from sqlalchemy.exc import ProgrammingError

        from cchc.warehouse.engine import get_engine

        get_engine.cache_clear()  # its pooled connections would hold the database open
        # An autovacuum worker busy in the database (after a test's bulk load) runs as the bootstrap
        # superuser, whose backend the test role may not terminate: FORCE then refuses; it ends soon.
        for attempt in range(30):
            try:
                with engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                break
            except ProgrammingError as e:
                if "pg_signal_backend" not in str(e) or attempt == 29:
                    raise
                time.sleep(1)
        engine.dispose()

    return admin.rsplit("/", 1)[0] + f"/{name}", drop


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request, tmp_path) -> str:
    """A fresh, empty warehouse on SQLite and on PostgreSQL (a new database per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warehouse.db'}"
        return
    url, drop = pg_database(f"cchc_test_{os.getpid()}_{abs(hash(request.node.nodeid)) % 10**8}")
    yield url
    drop()


def copy_files(files, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(f, folder / Path(f).name)) for f in files]


def airflow_command_env(home: Path, data: Path, warehouse_url: str) -> dict[str, str]:
    """The environment of an `airflow` command run by a test: a private home, this project's DAGs, the
    given data folder and warehouse (run-state lines are logged at INFO)."""
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "CCHC_HOME": str(ROOT),
        "CCHC_DATA_DIR": str(data),
        "CCHC_WAREHOUSE_URL": warehouse_url,
        "GX_ANALYTICS_ENABLED": "false",
        "NO_PROXY": "*",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    }


AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def migrated_airflow(home: Path, data: Path, request, db_name: str) -> tuple[dict[str, str], str]:
    """An `airflow` command environment with its metadata database migrated, on a warehouse that is
    SQLite in `data`, or a fresh PostgreSQL database `db_name` when `request.param` says so (dropped
    at the fixture's end); (environment, warehouse URL)."""
    url = f"sqlite:///{data / 'warehouse.db'}"
    if request.param == "postgresql":
        url, drop = pg_database(db_name)
        request.addfinalizer(drop)
    env = airflow_command_env(home, data, url)
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
    return env, url


def dags_test(env: dict[str, str], *args: str) -> str:
    """`airflow dags test ARGS`: its log, after checking it exited 0 and the run finished in success."""
    out = subprocess.run([AIRFLOW, "dags", "test", *args], env=env, capture_output=True, text=True)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    finished = [line for line in log.splitlines() if "DagRun Finished" in line]
    assert finished and "state=success" in finished[-1], log[-4000:]
    return log


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, headless, driven by Playwright (one per test module that uses it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        yield b
        b.close()
