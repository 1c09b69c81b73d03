"""Bulk writes and reads: one statement per table and chunk (executemany on SQLite, COPY on
PostgreSQL/psycopg2), and IN lists expanded per chunk."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, text


def select_in(conn: Connection, sql: str, values: list[str], **params) -> list:
    """`sql` with an expanding `:keys` IN list (chunked by the caller)."""
    stmt = text(sql).bindparams(bindparam("keys", expanding=True))
    return conn.execute(stmt, {"keys": values, **params}).all()


def insert_rows(conn: Connection, table: str, cols: Sequence[str], rows: list[tuple]) -> None:
    """One bulk write of tuples in `cols` order, inside the caller's transaction.

    Straight to the driver, tuples as they are (SQLAlchemy's per-row parameter dictionaries cost
    more than the insert itself at 16,000 submissions): executemany on SQLite, COPY … FROM STDIN on
    PostgreSQL/psycopg2 (one stream for the whole table's rows, several times faster than multi-row
    INSERTs). Either is part of the caller's transaction: a failure rolls back every table's rows.
    """
    if not rows:
        return
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg2":
        cur = dbapi.cursor()
        try:
            cur.copy_expert(f"COPY {table} ({', '.join(cols)}) FROM STDIN", copy_text(rows))
        finally:
            cur.close()
        return
    if conn.dialect.name == "sqlite":
        cur = dbapi.cursor()
        try:
            cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
        finally:
            cur.close()
        return
    names = [f"p{i}" for i in range(len(cols))]
    conn.execute(
        text(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(':' + n for n in names)})"),
        [dict(zip(names, r, strict=True)) for r in rows],
    )


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(rows: list[tuple]):
    """Rows in PostgreSQL's COPY text format (NULL as \\N, dates ISO), as a file-like stream."""
    import datetime as dt
    import io

    def field(v: object) -> str:
        if v is None:
            return "\\N"
        if isinstance(v, str):
            return v.translate(_COPY_ESCAPES)
        if isinstance(v, dt.datetime):
            return v.isoformat(sep=" ")
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, bool):
            return "t" if v else "f"
        return str(v)  # int, Decimal, float

    return io.StringIO("".join("\t".join(map(field, r)) + "\n" for r in rows))
