"""Indexes for the lookups by period and by run, which scanned whole tables.

Measured on three years of submissions (53,889: 253 units × 213 periods), PostgreSQL 15 / SQLite,
best of 3, before → after:
- the status page's period list (each period's last file, `WHERE s.period_code = p.period_code`):
  1,567 → 224 ms / 159 → 76 ms; one period's status page: 31 → 7 ms;
- `sql/queries/latest_for_period` (consolidation): 8.5 → 1.1 ms;
- a run's receipts (`file_receipts.run_id`, each ingest run's summary and mail): 28 → 3.4 / 7 → 2 ms;
- the landing folder's uncleared deliveries by checksum (every file taken): 7 → 2 / 18 → 1 ms.
submissions' one index began with unit_code; file_receipts and landing_deliveries had none on these.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_submissions_period", "submissions", ["period_code", "status"]),
    ("ix_file_receipts_run", "file_receipts", ["run_id"]),
    ("ix_landing_deliveries_checksum", "landing_deliveries", ["checksum"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
