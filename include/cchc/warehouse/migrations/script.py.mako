"""${message}

Revision ${up_revision}, after ${down_revision | comma,n} (${create_date}). Tables and columns: `op`
(SQLite alters a column only in `with op.batch_alter_table(...)`). A view: add its new file under
sql/marts/${up_revision}/ and call recreate_views (sql/README.md).
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401 - column types for op.add_column, op.create_table
from alembic import op  # noqa: F401
${imports if imports else ""}
from cchc.warehouse.migrations import recreate_views  # noqa: F401 - if this revision changes a view

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
