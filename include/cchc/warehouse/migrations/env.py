"""Alembic's environment: online only, on the connection the caller put in
`config.attributes["connection"]` (cchc.warehouse.engine.upgrade, inside the transaction that holds
the warehouse's writer lock). Alembic sees that transaction open and leaves it to the caller: every
revision of one upgrade commits together, or none does."""

from alembic import context

connection = context.config.attributes.get("connection")
if context.is_offline_mode() or connection is None:
    raise SystemExit(
        "Nâng cấp kho dữ liệu bằng `cchc init` / upgrade the warehouse with `cchc init` "
        "(cchc.warehouse.engine.upgrade): revisions run on its connection, under the writer lock"
    )

context.configure(connection=connection)
with context.begin_transaction():  # a no-op here: the caller's transaction is already open
    context.run_migrations()
