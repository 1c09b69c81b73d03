"""The warehouse's Alembic migrations, on SQLite and PostgreSQL (issue 17, item 2).

The previous release (557d508, the last without migrations) is reproduced from its own SQL files:
tests/data/release_557d508/<dialect>.sql, written by generate.py there from `git show`, is what its
schema apply ran on a fresh warehouse, and is run here whole by the driver. Against it: (a) a fresh
warehouse upgraded to head has its tables, columns, keys, views (and on PostgreSQL its descriptions
and grants) plus exactly what the later revisions add; (b) its warehouse, holding the H1 sample
ingested, consolidated and approved, upgrades to head and loses nothing (every row of every table and
view the same, the 73 golden figures again) and keeps working; (c) a second upgrade changes nothing
and takes no lock; (d) processes upgrading together migrate once; (e) `cchc init` says the revision;
(f) a revision written with the documented `alembic revision` command, changing a table and a view,
upgrades and downgrades.
"""

from __future__ import annotations

import csv
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import GOLDEN, ROOT, copy_files, pg_database
from sqlalchemy import create_engine, inspect, text

RELEASE = ROOT / "tests" / "data" / "release_557d508"
HEAD = "0004"
# What revision 0002 adds to the previous release's schema: (table, index, columns).
NEW_INDEXES = {
    ("submissions", "ix_submissions_period", ("period_code", "status")),
    ("file_receipts", "ix_file_receipts_run", ("run_id",)),
    ("landing_deliveries", "ix_landing_deliveries_checksum", ("checksum",)),
}
# What revision 0003 adds: the office mailbox's tables (sql/schema/011_mailbox.sql).
NEW_TABLES = {"mail_messages", "mail_attachments", "sender_holds"}
# ... and its views (sql/marts/0003/035_report_status.sql): v_report_status says `held`, the rates
# count held units in a new column `held`.
HELD_RATES = ("v_completeness", "v_commune_completeness")
# What revision 0004 adds: figure_cells (sql/schema/012_figure_cells.sql), where the `cell` rows of
# figure_inputs move, narrow; v_figure_provenance (sql/marts/0004/) gives them back whole.
CELLS = "figure_cells"


def without_held(view: str, columns: list, rows: list) -> list:
    """A rates view's rows as before 0003: its `held` column (0 everywhere: nothing held yet) taken out."""
    i = columns.index("held")
    assert {r[i] for r in rows} <= {0}, view
    return sorted((r[:i] + r[i + 1 :] for r in rows), key=repr)


PERIOD = "2024-H1"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request, tmp_path):
    """make(name) → the URL of a new, empty warehouse database (a file, or a PostgreSQL database)."""
    drops = []

    def make(name: str) -> str:
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / name}.db"
        url, drop = pg_database(f"cchc_mig_{os.getpid()}_{abs(hash(request.node.nodeid)) % 10**6}_{name}")
        drops.append(drop)
        return url

    yield make
    for drop in drops:
        drop()


def previous_release(url: str) -> None:
    """Make the warehouse the previous release made: its DDL, run whole by the driver's own
    multi-statement execution (sqlite3 executescript, psycopg2 one execute)."""
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    script = (RELEASE / f"{dialect}.sql").read_text(encoding="utf-8")
    if dialect == "sqlite":
        with closing(sqlite3.connect(url.split(":///", 1)[1])) as conn:
            conn.executescript(script)
        return
    engine = create_engine(url)
    raw = engine.raw_connection()
    try:
        raw.cursor().execute(script)
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def shape(engine) -> dict:
    """Tables (columns with type and nullability, keys, indexes), views (columns); on PostgreSQL also
    the views' and columns' descriptions and what the analysts' role may read."""
    insp = inspect(engine)
    tables = {
        t: {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)],
            "pk": insp.get_pk_constraint(t)["constrained_columns"],
            "fks": sorted(
                (tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                for f in insp.get_foreign_keys(t)
            ),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(t)),
            "indexes": {(i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(t)},
        }
        for t in insp.get_table_names()
    }
    out = {
        "tables": tables,
        "views": {v: [(c["name"], str(c["type"])) for c in insp.get_columns(v)] for v in insp.get_view_names()},
    }
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            out["descriptions"] = sorted(
                conn.execute(
                    text(
                        "SELECT c.relname, a.attname, col_description(c.oid, a.attnum), obj_description(c.oid, 'pg_class') "
                        "FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
                        "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'v'"
                    )
                ).all()
            )
            out["analyst_grants"] = sorted(
                conn.execute(
                    text(
                        "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
                        "WHERE grantee = 'cchc_analyst' AND table_schema = current_schema()"
                    )
                ).all()
            )
            assert out["analyst_grants"], "the analysts' role reads the views"
    return out


def contents(engine) -> dict[str, list[tuple]]:
    """Every row of every table and view but Alembic's own."""
    insp = inspect(engine)
    with engine.connect() as conn:
        return {
            t: sorted((tuple(r) for r in conn.execute(text(f"SELECT * FROM {t}"))), key=repr)
            for t in insp.get_table_names() + insp.get_view_names()
            if t != "alembic_version"
        }


def test_a_fresh_warehouse_at_head_is_the_previous_release_plus_the_new_revisions(fresh):
    from cchc.warehouse.engine import get_engine, head, revision, upgrade

    old_url, new_url = fresh("previous"), fresh("head")
    previous_release(old_url)
    old = shape(get_engine(old_url))
    assert len(old["tables"]) == 30 and len(old["views"]) == 18  # what 557d508 made

    engine = get_engine(new_url)
    assert revision(engine) is None
    assert upgrade(engine) == head() == HEAD == revision(engine)
    new = shape(engine)

    version = new["tables"].pop("alembic_version")
    assert {t: new["tables"].pop(t) for t in NEW_TABLES}.keys() == NEW_TABLES
    cells = new["tables"].pop(CELLS)
    assert [c[0] for c in cells["columns"]] == ["period_code", "indicator_code", "seq", "submission_id", "input_code"]
    assert cells["pk"] == ["period_code", "indicator_code", "seq"]  # figure_inputs' own key
    assert (version["columns"][0][0], version["pk"]) == ("version_num", ["version_num"])
    for table, name, columns in NEW_INDEXES:
        assert (name, columns, False) in new["tables"][table]["indexes"]
        new["tables"][table]["indexes"].discard((name, columns, False))
    for view in HELD_RATES:
        new["views"][view] = [c for c in new["views"][view] if c[0] != "held"]
    if "descriptions" in new:  # v_report_status's words (status `held`) and the new column's: changed by 0003
        status = {r[1]: r[2] for r in new["descriptions"] if r[0] == "v_report_status"}["status"]
        assert "held" in status and {r[1] for r in new["descriptions"] if r[0] in HELD_RATES} >= {"held"}
        for side in (new, old):
            side["descriptions"] = [r for r in side["descriptions"] if r[0] != "v_report_status" and r[1] != "held"]
        # v_period_figures.as_of: a figure's own as-of date since issue 19 (the dictionary's words only)
        as_of = {r[2] for r in new["descriptions"] if r[:2] == ("v_period_figures", "as_of")}
        assert any("31/5" in d for d in as_of), as_of
        for side in (new, old):
            side["descriptions"] = [r for r in side["descriptions"] if r[:2] != ("v_period_figures", "as_of")]
    assert new == old


def test_a_previous_release_warehouse_with_data_upgrades_and_loses_nothing(fresh, samples, ref, tmp_path, caplog):
    from helpers import edit, set_info

    from cchc.figures.approval import approve
    from cchc.figures.consolidate import consolidate_period, store
    from cchc.loading.ingest import ingest_files, summary
    from cchc.warehouse.engine import get_engine, load_reference_tables, revision, upgrade
    from cchc.warehouse.migrations import run_script

    url = fresh("deployed")
    previous_release(url)
    engine = get_engine(url)
    load_reference_tables(engine, ref)  # the old release's tables, filled by the pipeline as it was then
    # Today's loader asks where files came from (mail_attachments) and today's consolidation writes
    # cells narrow (figure_cells): for the filling only, those tables exist, then go (the cells put
    # back whole in figure_inputs, as the release wrote them), so the warehouse is the old release's
    # again when it is upgraded.
    with engine.begin() as conn:
        run_script(conn, ROOT / "sql" / "schema" / "011_mailbox.sql")
        run_script(conn, ROOT / "sql" / "schema" / "012_figure_cells.sql")
    files = copy_files(sorted((samples / "h1").glob("*.xlsx")), tmp_path / "in")
    assert summary(ingest_files(engine, ref, files))["accepted"] == 253
    store(engine, consolidate_period(engine, ref, PERIOD))
    approve(engine, ref, PERIOD, "Nguyễn Thị Hương", note="Báo cáo 6 tháng")
    with engine.begin() as conn:
        for table in ("sender_holds", "mail_attachments", "mail_messages"):
            conn.execute(text(f"DROP TABLE {table}"))
        conn.execute(
            text(
                "INSERT INTO figure_inputs SELECT fc.period_code, fc.indicator_code, fc.seq, 'cell', fc.input_code, "
                "s.unit_code, fc.submission_id, v.value, NULL, NULL, 1, v.sheet, v.cell FROM figure_cells fc "
                "JOIN indicator_values v ON v.submission_id = fc.submission_id AND v.indicator_code = fc.input_code "
                "JOIN submissions s ON s.submission_id = fc.submission_id"
            )
        )
        conn.execute(text(f"DROP TABLE {CELLS}"))
    before = contents(engine)
    assert len(before["indicator_values"]) > 3_000 and len(before["approved_figures"]) > 73
    assert {r[0] for r in before["warehouse_state"]} == {"schema", "reference"}

    with caplog.at_level(logging.INFO, logger="cchc.warehouse.engine"):
        assert revision(engine) is None
        assert upgrade(engine) == HEAD == revision(engine)
    assert "warehouse_state, no alembic_version" in caplog.text and "- → 0004" in caplog.text

    after = contents(engine)
    assert {t: after.pop(t) for t in NEW_TABLES} == dict.fromkeys(NEW_TABLES, [])  # new, empty
    # 0004: every `cell` row of figure_inputs moved to figure_cells, keyed as it was, the rest stayed
    # (v_figure_provenance, compared below with every other view, gives them all back as before).
    col = {c["name"]: i for i, c in enumerate(inspect(engine).get_columns("figure_inputs"))}
    moved = [r for r in before["figure_inputs"] if r[col["input_kind"]] == "cell"]
    moved_set = set(moved)
    assert len(moved) > 3_000 and len(moved) < len(before["figure_inputs"])
    assert after.pop("figure_inputs") == [r for r in before.pop("figure_inputs") if r not in moved_set]
    narrow = [
        tuple(r[col[c]] for c in ("period_code", "indicator_code", "seq", "submission_id", "input_code")) for r in moved
    ]
    assert after.pop(CELLS) == sorted(narrow, key=repr)
    for view in HELD_RATES:
        after[view] = without_held(view, [c["name"] for c in inspect(engine).get_columns(view)], after[view])
    assert {t: len(r) for t, r in after.items()} == {t: len(r) for t, r in before.items()}
    assert after == before  # every row of every table and view, the old schema checksum included

    # And it works on: the golden figures again, and a unit's correction numbered after its old version.
    result = consolidate_period(engine, ref, PERIOD)
    with open(GOLDEN, encoding="utf-8") as fh:
        golden = {r["code"]: Decimal(r["value"]) for r in csv.DictReader(fh)}
    assert len(golden) == 73 and {c: result.figures[c].value for c in golden} == golden
    fixed = edit(
        samples / "h1" / "SYT_2024-H1.xlsx",
        tmp_path / "v2" / "SYT_2024-H1.xlsx",
        lambda wb: set_info(wb, "Ngày gửi", "20/06/2024"),
    )
    assert [(o.outcome, o.version) for o in ingest_files(engine, ref, [fixed])] == [("accepted", 2)]
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT version FROM v_latest_submission WHERE unit_code = 'SYT' AND period_code = :p"),
                {"p": PERIOD},
            ).scalar_one()
            == 2
        )
        assert conn.execute(text("SELECT COUNT(*) FROM v_pending_corrections")).scalar_one() == 1  # locked period


def _view_objects(engine) -> object:
    """What re-creating views would change: SQLite's schema counter, PostgreSQL's view OIDs."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return conn.execute(text("PRAGMA schema_version")).scalar_one()
        return sorted(
            conn.execute(
                text(
                    "SELECT relname, oid FROM pg_class WHERE relkind = 'v' "
                    "AND relnamespace = current_schema()::regnamespace"
                )
            ).all()
        )


def test_upgrading_twice_is_a_no_op_that_takes_no_lock(fresh):
    from cchc.warehouse.engine import get_engine, revision, upgrade, writing

    engine = get_engine(fresh("twice"))
    upgrade(engine)
    schema, objects = shape(engine), _view_objects(engine)

    # A writer holds the lock (a long load); the second upgrade neither waits for it nor changes anything.
    held, release = threading.Event(), threading.Event()

    def writer() -> None:
        with writing(engine):
            held.set()
            release.wait(30)

    with ThreadPoolExecutor(2) as pool:
        holding = pool.submit(writer)
        assert held.wait(10)
        try:
            start = time.monotonic()
            assert pool.submit(upgrade, engine).result(timeout=10) == HEAD
            assert time.monotonic() - start < 2
        finally:
            release.set()
        holding.result()
    assert revision(engine) == HEAD
    assert _view_objects(engine) == objects and shape(engine) == schema
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM alembic_version")).scalar_one() == 1

    # refresh_views (cchc init) does re-create them, to the same definitions.
    assert upgrade(engine, refresh_views=True) == HEAD
    assert _view_objects(engine) != objects and shape(engine) == schema


UPGRADE = """
import logging, sys, time
from pathlib import Path
logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
from cchc.warehouse.engine import get_engine, upgrade
engine, barrier = get_engine(sys.argv[1]), Path(sys.argv[2])
(barrier / sys.argv[3]).touch()
deadline = time.monotonic() + 60
while len(list(barrier.iterdir())) < int(sys.argv[4]) and time.monotonic() < deadline:
    time.sleep(0.005)
print(upgrade(engine))
"""


@pytest.mark.parametrize("previous", [False, True], ids=["empty", "previous-release"])
def test_processes_upgrading_at_once_migrate_once(fresh, tmp_path, previous):
    from cchc.warehouse.engine import get_engine, upgrade

    url, serial = fresh("together"), fresh("serial")
    if previous:
        previous_release(url)
        previous_release(serial)
    upgrade(get_engine(serial))
    barrier, n = tmp_path / "barrier", 4
    barrier.mkdir()
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE, url, str(barrier), str(i), str(n)],
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        for i in range(n)
    ]
    outs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0] * n, [err[-2000:] for _, err in outs]
    assert [out.strip() for out, _ in outs] == [HEAD] * n
    logs = "".join(err for _, err in outs)
    assert logs.count("Running upgrade  -> 0001") == 1 and logs.count("Running upgrade 0001 -> 0002") == 1
    assert logs.count("Running upgrade 0002 -> 0003") == 1 and logs.count("Running upgrade 0003 -> 0004") == 1
    assert logs.count("warehouse_state, no alembic_version") == (1 if previous else 0)
    engine = get_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD]
    assert shape(engine) == shape(get_engine(serial))


def test_cchc_init_upgrades_and_says_the_revision(fresh):
    url = fresh("init")
    previous_release(url)
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}

    def init() -> str:
        out = subprocess.run(
            [sys.executable, "-m", "cchc.cli", "--warehouse", url, "init"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        return out.stdout

    assert "Lược đồ kho dữ liệu: phiên bản 0004 (trước đó: -) / Warehouse schema: revision 0004 (before: -)" in init()
    again = init()
    assert "phiên bản 0004 (trước đó: 0004)" in again and "ref_units: " in again


# A revision as a maintainer would write it after `alembic revision`: a column, and a view showing it
# (a new file under sql/marts/<revision>/ replacing the view's file of the same name).
REVISION_BODY = """

def upgrade() -> None:
    op.add_column("submissions", sa.Column("channel", sa.String(16)))
    recreate_views(revision)


def downgrade() -> None:
    drop_views(op.get_bind())  # SQLite refuses to drop a column a view's definition names
    op.drop_column("submissions", "channel")
    recreate_views(down_revision)
"""
QUARANTINE_0005 = """-- v_quarantine with the channel each refused file came by.
DROP VIEW IF EXISTS v_quarantine;
CREATE VIEW v_quarantine AS
SELECT s.submission_id AS checksum, r.first_name AS file_name, s.channel
FROM submissions s
JOIN received_files r ON r.checksum = s.submission_id
WHERE s.status = 'rejected';
"""


def test_a_revision_written_with_the_documented_command_upgrades_and_downgrades(fresh, tmp_path, monkeypatch):
    from alembic import command

    from cchc.warehouse.engine import get_engine, upgrade, writing
    from cchc.warehouse.migrations import LOCATION, config

    # A copy of the project's migrations and sql/, so the new revision touches neither.
    home = tmp_path / "home"
    shutil.copytree(ROOT / "sql", home / "sql")
    location = shutil.copytree(LOCATION, tmp_path / "migrations", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("CCHC_HOME", str(home))
    alembic = Path(sys.executable).with_name("alembic")
    out = subprocess.run(
        [
            str(alembic),
            "-c",
            str(location / "alembic.ini"),
            "revision",
            "--rev-id",
            "0005",
            "-m",
            "submissions channel",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    new = location / "versions" / "0005_submissions_channel.py"
    body = new.read_text(encoding="utf-8")
    assert 'revision = "0005"' in body.replace("'", '"') and 'down_revision = "0004"' in body.replace("'", '"')
    head, _, _ = body.partition("\ndef upgrade()")
    new.write_text(
        head.replace("import recreate_views", "import drop_views, recreate_views") + REVISION_BODY, encoding="utf-8"
    )
    (home / "sql" / "marts" / "0005").mkdir()
    (home / "sql" / "marts" / "0005" / "030_quarantine.sql").write_text(QUARANTINE_0005, encoding="utf-8")

    engine = get_engine(fresh("revision"))
    upgrade(engine)  # the project's head, 0004

    def run(step, target: str) -> None:
        with writing(engine) as conn:
            step(config(conn, location), target)

    def columns(view: str) -> list[str]:
        return [c["name"] for c in inspect(engine).get_columns(view)]

    run(command.upgrade, "head")
    assert "channel" in [c["name"] for c in inspect(engine).get_columns("submissions")]
    assert columns("v_quarantine") == ["checksum", "file_name", "channel"]
    assert "channel" in columns("v_latest_submission")  # `s.*`: re-created, so PostgreSQL sees the column too
    run(command.downgrade, "0004")
    assert "channel" not in [c["name"] for c in inspect(engine).get_columns("submissions")]
    assert columns("v_quarantine")[:3] == ["checksum", "file_name", "archive_path"]
    # 0004, 0003 and 0002 themselves: figure_cells, the mailbox's tables and the indexes go and come back.
    run(command.downgrade, "0003")
    assert CELLS not in inspect(engine).get_table_names() and "v_figure_provenance" in inspect(engine).get_view_names()
    run(command.upgrade, "0004")
    assert CELLS in inspect(engine).get_table_names()
    run(command.downgrade, "0001")
    assert "ix_submissions_period" not in {i["name"] for i in inspect(engine).get_indexes("submissions")}
    assert not NEW_TABLES & set(inspect(engine).get_table_names())
    run(command.upgrade, "0003")
    assert set(inspect(engine).get_table_names()) >= NEW_TABLES
    run(command.downgrade, "0001")
    run(command.upgrade, "0002")
    assert "ix_submissions_period" in {i["name"] for i in inspect(engine).get_indexes("submissions")}
    with pytest.raises(NotImplementedError):  # the baseline would drop every table: refused
        run(command.downgrade, "base")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0002"
        assert conn.execute(text("SELECT COUNT(*) FROM v_unit_figures")).scalar_one() == 0


def test_views_as_of_a_revision_overlay_the_marts_folders(tmp_path, monkeypatch):
    from cchc.warehouse.engine import scripts
    from cchc.warehouse.migrations import marts_at

    assert [f.name for f in marts_at(scripts(), HEAD)] == [
        "010_latest_submission.sql",
        "020_unit_figures.sql",
        "030_quarantine.sql",
        "035_report_status.sql",
        "040_analysts.sql",
        "050_provenance.sql",
        "060_approvals.sql",
    ]  # one number per file
    home = tmp_path / "home"
    shutil.copytree(ROOT / "sql", home / "sql")
    monkeypatch.setenv("CCHC_HOME", str(home))
    (home / "sql" / "marts" / "0002").mkdir()
    (home / "sql" / "marts" / "0002" / "020_unit_figures.sql").write_text("-- changed\n", encoding="utf-8")
    (home / "sql" / "marts" / "0002" / "070_new.sql").write_text("-- added\n", encoding="utf-8")
    files = marts_at(scripts(), HEAD)
    assert [f.relative_to(home / "sql" / "marts").as_posix() for f in files][1:] == [
        "0002/020_unit_figures.sql",
        "030_quarantine.sql",
        "0003/035_report_status.sql",
        "040_analysts.sql",
        "0004/050_provenance.sql",
        "060_approvals.sql",
        "0002/070_new.sql",
    ]
    assert [f.name for f in marts_at(scripts(), "0001")][1] == "020_unit_figures.sql"
    assert marts_at(scripts(), "0001")[1].parent.name == "marts"


def test_the_lookups_use_the_new_indexes(tmp_path):
    """What revision 0002 is for: SQLite's planner searches the new indexes instead of scanning."""
    from cchc.warehouse.engine import get_engine, upgrade

    engine = get_engine(f"sqlite:///{tmp_path / 'w.db'}")
    upgrade(engine)
    lookups = {
        "ix_submissions_period": "SELECT submission_id FROM submissions WHERE period_code = 'x'",
        "ix_file_receipts_run": "SELECT checksum FROM file_receipts WHERE run_id = 'x'",
        "ix_landing_deliveries_checksum": "SELECT file_name FROM landing_deliveries WHERE checksum IN ('a', 'b') "
        "AND cleared_at IS NULL",
    }
    with engine.connect() as conn:
        for index, sql in lookups.items():
            plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
            assert f"USING INDEX {index}" in plan, plan
