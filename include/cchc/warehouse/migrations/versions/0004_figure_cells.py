"""A figure's cell inputs written narrow (issue 20): `figure_cells` (sql/schema/012_figure_cells.sql)
keeps the submission and indicator of each cell a sum or a single was made from, and
v_figure_provenance (sql/marts/0004/) reads the cell's unit, value, sheet and address back from
indicator_values and submissions. A national period's ~220,000 cells were most of a consolidation's
write. The upgrade moves the `cell` rows of figure_inputs that the join gives back identically (every
one a consolidation wrote; any other stays where it is, whole, and the view still shows it); the
downgrade puts them back whole."""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from cchc.common.config import sql_dir
from cchc.warehouse.migrations import recreate_views, run_script

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The figure_inputs `cell` rows the narrow row gives back unchanged: the view's join finds the same
# unit, value, sheet and cell (and the fields a cell never has are blank).
MOVABLE = """
FROM figure_inputs fi
JOIN indicator_values v ON v.submission_id = fi.submission_id AND v.indicator_code = fi.input_code
JOIN submissions s ON s.submission_id = fi.submission_id
WHERE fi.input_kind = 'cell' AND fi.unit_code = s.unit_code AND fi.value = v.value
  AND fi.sheet = v.sheet AND fi.cell = v.cell AND fi.counted = 1
  AND fi.task_status IS NULL AND fi.completed_on IS NULL
"""


def upgrade() -> None:
    conn = op.get_bind()
    run_script(conn, sql_dir() / "schema" / "012_figure_cells.sql")
    conn.execute(
        text(
            "INSERT INTO figure_cells (period_code, indicator_code, seq, submission_id, input_code) "
            f"SELECT fi.period_code, fi.indicator_code, fi.seq, fi.submission_id, fi.input_code {MOVABLE}"
        )
    )
    conn.execute(
        text(
            "DELETE FROM figure_inputs WHERE input_kind = 'cell' AND EXISTS (SELECT 1 FROM figure_cells fc "
            "WHERE fc.period_code = figure_inputs.period_code AND fc.indicator_code = figure_inputs.indicator_code "
            "AND fc.seq = figure_inputs.seq)"
        )
    )
    recreate_views(revision)


def downgrade() -> None:
    conn = op.get_bind()
    conn.execute(
        text(
            "INSERT INTO figure_inputs (period_code, indicator_code, seq, input_kind, input_code, unit_code, "
            "submission_id, value, task_status, completed_on, counted, sheet, cell) "
            "SELECT fc.period_code, fc.indicator_code, fc.seq, 'cell', fc.input_code, s.unit_code, fc.submission_id, "
            "v.value, NULL, NULL, 1, v.sheet, v.cell FROM figure_cells fc "
            "JOIN indicator_values v ON v.submission_id = fc.submission_id AND v.indicator_code = fc.input_code "
            "JOIN submissions s ON s.submission_id = fc.submission_id"
        )
    )
    recreate_views(down_revision)  # before the drop: 0003's views name no figure_cells, 0004's do
    op.drop_table("figure_cells")
