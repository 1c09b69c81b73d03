"""Where things live: project files, data folders and the warehouse, from the environment.

Nothing secret is configured here; a production warehouse URL comes from the environment
(`CCHC_WAREHOUSE_URL`) or, inside Airflow, from the `cchc_warehouse` connection.
"""

from __future__ import annotations

import os
from pathlib import Path

# GX phones home unless told not to; every entry point imports this module first.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def project_dir() -> Path:
    """The project's root: holds include/reference, sql/ and expectations/."""
    env = os.environ.get("CCHC_HOME")
    return Path(env) if env else Path(__file__).resolve().parents[3]  # include/cchc/common/config.py


def reference_dir() -> Path:
    """The reviewed reference CSVs; CCHC_REFERENCE_DIR points elsewhere (the benchmark's national registry)."""
    env = os.environ.get("CCHC_REFERENCE_DIR")
    return Path(env) if env else project_dir() / "include" / "reference"


def sql_dir() -> Path:
    return project_dir() / "sql"


def expectations_dir() -> Path:
    return project_dir() / "expectations"


def data_dir() -> Path:
    return Path(os.environ.get("CCHC_DATA_DIR") or project_dir() / "data")


def landing_url() -> str:
    """The inbox units' files are dropped into; any fsspec URL an ObjectStoragePath takes."""
    return os.environ.get("CCHC_LANDING_URL") or (data_dir() / "landing").as_uri()


def archive_dir() -> Path:
    """Every received file is kept here as received, named by its SHA-256."""
    return Path(os.environ.get("CCHC_ARCHIVE_DIR") or data_dir() / "archive")


def output_dir() -> Path:
    return Path(os.environ.get("CCHC_OUTPUT_DIR") or data_dir() / "outputs")


def warehouse_url(explicit: str | None = None) -> str:
    if explicit:
        return explicit
    env = os.environ.get("CCHC_WAREHOUSE_URL")
    if env:
        return env
    return f"sqlite:///{data_dir() / 'warehouse.db'}"


def staging_dir(run_id: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in run_id)
    return data_dir() / "staging" / safe
