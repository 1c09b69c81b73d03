"""Imported once by each Celery worker at start (`[celery] extra_celery_config`'s "imports", set by
stack/stack.py and docker-compose.yml), before its pool forks: every task process is a fork of the
worker, so it inherits pandas, Great Expectations, SQLAlchemy, the reader and the pipeline's modules
instead of importing them again (≈ 5 s per task on this machine). Imports only: no engine, no
configuration, no thread (a fork must not copy a running thread's locks). Then `gc.freeze()`: the
≈ 400,000 objects imported are never scanned by the collector again nor copied into each forked
process when it would touch them (Python's advice for pre-forking servers).
"""

from __future__ import annotations

import gc
import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # before GX's import reads it

import great_expectations  # noqa: E402, F401
import pandas  # noqa: E402, F401
import python_calamine  # noqa: E402, F401
import sqlalchemy  # noqa: E402, F401

import cchc.orchestration.ingest_tasks  # noqa: E402, F401
import cchc.orchestration.report_tasks  # noqa: E402, F401
import cchc.orchestration.weekly_tasks  # noqa: E402, F401

gc.freeze()
