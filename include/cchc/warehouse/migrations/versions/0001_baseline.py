"""Baseline: the warehouse as the last release without migrations (557d508) made it.

The tables of sql/schema/ (the files below, in order; `warehouse_state` was created by code then),
the views of sql/marts/, and on PostgreSQL the analysts' role with its grants (sql/postgresql/) and
the views' descriptions (sql/dictionary.yml). Every table and index is created IF NOT EXISTS and
the views are dropped and re-created, so over a warehouse that release made (its tables, data and
`warehouse_state`, no `alembic_version`) this revision changes no table and loses nothing: it is
how such a warehouse is taken over, the stamp at this revision plus its views re-created (and a
table an even older release lacked, created).
"""

from __future__ import annotations

from alembic import op

from cchc.common.config import sql_dir
from cchc.warehouse.migrations import recreate_views, run_script

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Listed, not globbed: a later revision may add a file here, which this one must not run.
SCHEMA = (
    "001_reference.sql",
    "002_submissions.sql",
    "003_figures.sql",
    "004_reporting.sql",
    "005_approvals.sql",
    "006_landing.sql",
    "007_unit_contacts.sql",
    "008_arrivals.sql",
    "009_weekly_alerts.sql",
    "010_warehouse_state.sql",
)


def upgrade() -> None:
    for name in SCHEMA:
        run_script(op.get_bind(), sql_dir() / "schema" / name)
    recreate_views(revision)


def downgrade() -> None:
    raise NotImplementedError(
        "Không hạ cấp dưới phiên bản gốc: sẽ xoá mọi bảng / the baseline is not undone: "
        "it would drop every table (delete the warehouse to start over)"
    )
