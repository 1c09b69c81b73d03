"""The office mailbox as a source (issue 18): the messages taken from it, their attachments, and
the workbooks held until ops confirm who sent them (sql/schema/011_mailbox.sql says what each
column means). New tables; and the views of sql/marts/0003/ (v_report_status says `held` for a unit
whose latest file waits for ops to confirm its sender; the rates count them). The downgrade drops
the tables and puts back the views of 0002."""

from __future__ import annotations

from alembic import op

from cchc.common.config import sql_dir
from cchc.warehouse.migrations import recreate_views, run_script

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("sender_holds", "mail_attachments", "mail_messages")  # dependents first


def upgrade() -> None:
    run_script(op.get_bind(), sql_dir() / "schema" / "011_mailbox.sql")
    recreate_views(revision)


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
    recreate_views(down_revision)
