"""The SQL warehouse: one SQLAlchemy 2 engine from one URL, the schema from sql/, reference loads.

The embedded default is a SQLite file; the same SQL runs on PostgreSQL (CCHC_WAREHOUSE_URL or
`--warehouse postgresql+psycopg2://…`).

Several processes may start at once (two `cchc ingest`, a DAG run's prepare step, mapped load
tasks on several workers). Every write that reads before it writes — the schema apply, the
reference load, receiving files, loading submissions — runs in `writing(engine)`: one writer at a
time, by a transaction-scoped advisory lock on PostgreSQL and `BEGIN IMMEDIATE` on SQLite (whose
single write lock is taken up front, so a transaction never reads a state another writer is about
to change). The schema is Alembic's (migrations/): `upgrade` brings the warehouse to the head
revision under that lock, and finds it there with one read and no lock. The reference tables carry
a checksum in `warehouse_state`: a process that finds them current changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from pathlib import Path

import sqlparse
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, bindparam, create_engine, event, inspect, text

from cchc.common.batching import chunks
from cchc.common.config import sql_dir, warehouse_url
from cchc.common.messages import text as message
from cchc.common.periods import due_before, periods_for_year
from cchc.reference.registry import Reference
from cchc.warehouse.migrations import config, replace_views

# sqlite3 stores Decimals as text otherwise; NUMERIC affinity turns '4048.546' back into a number.
sqlite3.register_adapter(Decimal, str)
sqlite3.register_adapter(dt.date, lambda d: d.isoformat())
sqlite3.register_adapter(dt.datetime, lambda d: d.isoformat(sep=" "))

log = logging.getLogger(__name__)

REFERENCE_YEARS = range(2023, 2027)
# pg_advisory_xact_lock key of the warehouse's writer lock ("CCHC" in ASCII); one key for every
# writer, so a schema upgrade never runs under a load and two loads never number versions alike.
WRITER_LOCK = 0x43434843
STATE_TABLE = "warehouse_state"
VERSION_TABLE = "alembic_version"  # Alembic's: the revision the warehouse is at
BEGIN_OPTION = "cchc_sqlite_begin"


@cache
def get_engine(url: str | None = None) -> Engine:
    url = warehouse_url(url)
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record):  # noqa: ANN001 - DB-API connection
            # The driver's own transaction handling would run DDL outside any transaction (two
            # processes' DROP/CREATE VIEW then interleave); SQLAlchemy emits BEGIN instead, below.
            conn.isolation_level = None
            cur = conn.cursor()
            cur.execute("PRAGMA foreign_keys = ON")
            cur.execute("PRAGMA journal_mode = WAL")  # readers don't block the loader
            cur.execute("PRAGMA synchronous = NORMAL")
            # 64 MB of page cache (default 2 MB): a national load inserts into primary keys of random
            # SHA-256 keys, which otherwise re-read index pages from the OS on nearly every row.
            cur.execute("PRAGMA cache_size = -65536")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):  # noqa: ANN001 - Connection
            # Readers begin deferred (WAL: they never wait); `writing` asks for BEGIN IMMEDIATE.
            conn.exec_driver_sql(conn.get_execution_options().get(BEGIN_OPTION, "BEGIN"))

        return engine
    return create_engine(url, pool_pre_ping=True)


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the warehouse's writer lock from its first statement to its end.

    PostgreSQL: `pg_advisory_xact_lock` (readers are not held up; the lock ends with the
    transaction, also when the process dies). SQLite: `BEGIN IMMEDIATE`, waiting up to the
    connection's 60 s busy timeout for another writer to finish.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.execution_options(**{BEGIN_OPTION: "BEGIN IMMEDIATE"})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITER_LOCK})
            yield conn


def _state(conn: Connection, item: str) -> str | None:
    return conn.execute(text(f"SELECT checksum FROM {STATE_TABLE} WHERE item = :i"), {"i": item}).scalar()


def _set_state(conn: Connection, item: str, checksum: str) -> None:
    conn.execute(text(f"DELETE FROM {STATE_TABLE} WHERE item = :i"), {"i": item})
    conn.execute(
        text(f"INSERT INTO {STATE_TABLE} (item, checksum, applied_at) VALUES (:i, :c, :t)"),
        {"i": item, "c": checksum, "t": dt.datetime.now(dt.UTC).replace(tzinfo=None)},
    )


@cache
def scripts() -> ScriptDirectory:
    """The revisions (read once per process)."""
    return ScriptDirectory.from_config(config())


def head() -> str:
    return scripts().get_current_head()


def revision(engine: Engine) -> str | None:
    """The revision the warehouse is at (None: no `alembic_version`, i.e. empty or made before migrations)."""
    with engine.connect() as conn:
        return current_revision(conn)


def current_revision(conn: Connection) -> str | None:
    # Alembic's table read directly: a MigrationContext would log two INFO lines in every task.
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def upgrade(engine: Engine, *, refresh_views: bool = False) -> str:
    """Bring the warehouse to the head revision, holding the writer lock; the head.

    At head already: one read, no lock, nothing changed (every entry point calls this). Otherwise
    the missing revisions run in one locked transaction, so processes starting together migrate
    once. A warehouse made before migrations (tables and `warehouse_state`, no `alembic_version`)
    is taken over by the baseline, which over it creates only what is missing and re-creates the
    views. `refresh_views` (`cchc init`) also re-creates head's views and, on PostgreSQL, re-grants
    and re-describes them (e.g. once a DBA has created the analysts' role).
    """
    target = head()
    if not refresh_views and revision(engine) == target:
        return target  # current: no DROP/CREATE VIEW under other processes' queries, no wait for a load
    with writing(engine) as conn:
        before = current_revision(conn)
        if before is None and inspect(conn).has_table(STATE_TABLE):
            log.warning("%s", message("warehouse.taken_over", revision=target))
        command.upgrade(config(conn), "head")
        if refresh_views:
            replace_views(conn, scripts(), target)
    if before != target:
        log.info("%s", message("warehouse.upgraded", before=before or "-", after=target))
    return target


@cache
def _query_text(path: Path) -> str:
    return sqlparse.format(path.read_text(encoding="utf-8"), strip_comments=True).strip().rstrip(";")


def query(name: str) -> str:
    """A query of sql/queries/ (comments dropped: `:names` in them would read as parameters)."""
    return _query_text(sql_dir() / "queries" / f"{name}.sql")


def unit_history(
    engine: Engine, unit_codes: set[str], before_run: str | None = None
) -> dict[str, dict[str, dict[str, Decimal]]]:
    """unit → period → indicator → value, from the latest accepted submissions (for validate); with
    `before_run`, as they were before that run loaded anything (its chunks load in parallel)."""
    out: dict[str, dict[str, dict[str, Decimal]]] = {}

    name = "unit_history_before_run" if before_run else "unit_history"
    stmt = text(query(name)).bindparams(bindparam("units", expanding=True))
    with engine.connect() as conn:
        for part in chunks(sorted(c for c in unit_codes if c), 500):  # IN lists well under driver limits
            for unit, period, code, value in conn.execute(stmt, {"units": part, "run": before_run}):
                out.setdefault(unit, {}).setdefault(period, {})[code] = as_decimal(value)
    return out


def load_reference_tables(engine: Engine, ref: Reference, *, force: bool = False) -> dict[str, int]:
    """Mirror include/reference/ into the ref_* tables (whole replace, one locked transaction);
    row counts per table. Skipped when the tables already hold these rows (unless `force`)."""
    rows = {
        "ref_units": [
            dict(
                unit_code=u.code,
                valid_from=u.valid_from,
                valid_to=u.valid_to,
                name_vi=u.name_vi,
                unit_type=u.unit_type,
                subtype=u.subtype,
                parent_code=u.parent_code or None,
                handles_tthc=int(u.handles_tthc),
            )
            for u in ref.units
        ],
        "ref_periods": [
            dict(period_code=p.code, kind=p.kind, year=p.year, start_date=p.start, end_date=p.end, name_vi=p.name_vi)
            for y in REFERENCE_YEARS
            for p in periods_for_year(y)
        ],
        "ref_plan_tasks": [
            dict(
                task_code=t.code,
                valid_from=t.valid_from,
                valid_to=t.valid_to,
                task_group=t.group,
                name_vi=t.name_vi,
                lead_unit=t.lead_unit,
                deadline=t.deadline,
                expected_product_vi=t.product_vi,
            )
            for t in ref.tasks
        ],
        "ref_indicators": [
            dict(
                indicator_code=i.code,
                valid_from=i.valid_from,
                valid_to=i.valid_to,
                group_code=i.group,
                label_vi=i.label_vi,
                unit_vi=i.unit_vi,
                rule=i.rule,
                reporters=i.reporters.unit_code or "+".join(i.reporters.unit_types) or None,
                method=i.method,
                expression=i.expression or None,
                decimals=i.decimals,
                section=i.section,
            )
            for i in ref.indicators
        ],
        "ref_identities": [
            dict(identity_code=i.code, expression=i.expression, label_vi=i.label_vi, label_en=i.label_en)
            for i in ref.identities
        ],
        "ref_report_due": report_due_rows(ref),
        "ref_unit_contacts": [
            dict(unit_code=c.unit_code, email=c.email, valid_from=c.valid_from, valid_to=c.valid_to)
            for c in ref.contacts
        ],
    }
    checksum = hashlib.sha256(json.dumps(rows, default=str, sort_keys=True).encode()).hexdigest()
    with writing(engine) as conn:
        if _state(conn, "reference") == checksum and not force:
            return {t: len(d) for t, d in rows.items()}
        for table in reversed(rows):  # ref_report_due refers to ref_periods
            conn.execute(text(f"DELETE FROM {table}"))
        for table, data in rows.items():
            if not data:  # e.g. a reference folder without unit_contacts.csv
                continue
            cols = list(data[0])
            conn.execute(
                text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"), data
            )
        _set_state(conn, "reference", checksum)
    return {t: len(d) for t, d in rows.items()}


def report_due_rows(ref: Reference) -> list[dict]:
    """Each period's deadline per unit type expected to report it (deadlines.csv over the periods)."""
    rows = []
    for y in REFERENCE_YEARS:
        for p in periods_for_year(y):
            rule = ref.report_rule(p.kind)
            if rule is None:
                continue
            due = p.end + dt.timedelta(days=rule.due_days)
            # The end of the due day in Asia/Ho_Chi_Minh, as stored UTC.
            before = due_before(p, rule.due_days).astimezone(dt.UTC).replace(tzinfo=None)
            rows += [
                dict(
                    period_code=p.code,
                    unit_type=t,
                    registry_on=p.as_of_default,
                    due_on=due,
                    due_before=before,
                    basis=rule.basis,
                )
                for t in rule.unit_types
            ]
    return rows


def prepare(url: str | None, ref: Reference) -> Engine:
    """Engine with the schema at head and reference data loaded: what every entry point needs."""
    engine = get_engine(url)
    upgrade(engine)
    load_reference_tables(engine, ref)
    return engine


def as_date(value: object) -> dt.date | None:
    """Dates come back as strings from SQLite and as dates from PostgreSQL."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def as_datetime(value: object) -> dt.datetime:
    """Timestamps come back as strings from SQLite and as datetimes from PostgreSQL."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))


def as_decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
