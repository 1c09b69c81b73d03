"""The warehouse's Alembic migrations (versions/) and what revisions use to run the SQL of sql/.

Alembic is configured here in code: `config(connection)` gives a Config whose env.py runs the
revisions on that connection, inside the caller's transaction (cchc.warehouse.engine.upgrade holds
the writer lock there). alembic.ini beside this file serves only `alembic revision` (sql/README.md).

Views are never altered one by one: a revision that changes one calls `recreate_views(revision)`,
which drops every `v_*` view and creates the views of sql/marts/ as of that revision (the top-level
files, each replaced or joined by the files of sql/marts/<revision>/ for every revision up to it),
then, on PostgreSQL, grants them to the analysts' role again and writes their descriptions.
"""

from __future__ import annotations

from pathlib import Path

import sqlparse
from alembic import context, op
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from cchc.common.config import sql_dir
from cchc.warehouse.dictionary import View, comment_statements, load_dictionary

LOCATION = Path(__file__).resolve().parent
VIEW_PREFIX = "v_"  # every view so named is the warehouse's: dropped and re-created by revisions


def config(connection: Connection | None = None, location: Path = LOCATION) -> Config:
    """Alembic's configuration, without an .ini: the scripts at `location`, run on `connection`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(location).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["connection"] = connection
    return cfg


def run_script(conn: Connection, path: Path) -> None:
    """Run a .sql file as written, in `conn`'s transaction.

    PostgreSQL parses the whole file itself (psycopg2 runs a multi-statement string in one
    execute; no parameters, so a `%` stays a `%`). sqlite3 runs one statement per execute, so
    sqlparse splits the file; not `executescript`, which commits first and so would end the
    transaction that holds the writer lock.
    """
    run_sql(conn, path.read_text(encoding="utf-8"))


def run_sql(conn: Connection, script: str) -> None:
    cursor = conn.connection.cursor()  # the DB-API cursor: no bind-parameter parsing of the text
    try:
        if conn.dialect.name == "postgresql":
            cursor.execute(script)
        else:
            for statement in sqlparse.split(script):
                cursor.execute(statement)
    finally:
        cursor.close()


def marts_at(script: ScriptDirectory, revision: str) -> list[Path]:
    """The files of sql/marts/ that make the views as of `revision`, in name order."""
    chain = [s.revision for s in script.iterate_revisions(revision, "base")][::-1]  # oldest first
    files: dict[str, Path] = {}
    for folder in [sql_dir() / "marts"] + [sql_dir() / "marts" / r for r in chain]:
        files.update((f.name, f) for f in folder.glob("*.sql"))
    return [files[name] for name in sorted(files)]


def replace_views(conn: Connection, script: ScriptDirectory, revision: str) -> list[Path]:
    """Drop every `v_*` view, create the views as of `revision`; on PostgreSQL grant and describe
    them. The files run, in order."""
    drop_views(conn)
    files = marts_at(script, revision)
    for f in files:
        run_script(conn, f)
    if conn.dialect.name == "postgresql":
        for f in sorted((sql_dir() / "postgresql").glob("*.sql")):
            run_script(conn, f)
        describe(conn)
    return files


def recreate_views(revision: str) -> list[Path]:
    """In a revision's upgrade() (its own `revision`) or downgrade() (its `down_revision`)."""
    return replace_views(op.get_bind(), context.script, revision)


def drop_views(conn: Connection) -> None:
    """Every `v_*` view at once: PostgreSQL drops views that depend on each other in one DROP VIEW
    without CASCADE (which would silently take along a view of someone else's built on ours)."""
    quote = conn.dialect.identifier_preparer.quote
    names = [quote(n) for n in inspect(conn).get_view_names() if n.startswith(VIEW_PREFIX)]
    if not names:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"DROP VIEW {', '.join(names)}"))
    else:  # SQLite does not check a view's dependants when dropping it
        for name in names:
            conn.execute(text(f"DROP VIEW {name}"))


def describe(conn: Connection) -> None:
    """COMMENT ON every view and column sql/dictionary.yml describes, of those the warehouse has
    (the dictionary describes head's views; an older revision's may lack some)."""
    insp = inspect(conn)
    present = {v: {c["name"] for c in insp.get_columns(v)} for v in insp.get_view_names()}
    views = [
        View(v.name, v.description, {c: d for c, d in v.columns.items() if c in present[v.name]})
        for v in load_dictionary()
        if v.name in present
    ]
    if views:
        run_sql(conn, ";\n".join(comment_statements(views)))
