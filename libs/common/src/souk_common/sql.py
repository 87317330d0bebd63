"""Plain SQL for the few writes that run on every order.

Building those statements with the ORM measured at several times the cost of
running them, and each statement is one more round trip in which a thread gives
up the GIL and must win it back while other requests run (docs/benchmarks.md,
"Load"). These helpers keep such SQL small and safe: tables and columns are named
from the models (quoted by the backend), values always go as parameters, and
each value is prepared by its model field, as the ORM would.

:func:`execute_together` sends several statements in one round trip to
PostgreSQL, all or none; elsewhere (SQLite in development) it runs them one by
one in a transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, cast

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model, QuerySet
from django.db.models.sql import UpdateQuery


class Statement(NamedTuple):
    """One SQL statement and its parameters (``%s`` placeholders)."""

    sql: str
    params: list[Any]


def table(model: type[Model], *, using: str = DEFAULT_DB_ALIAS) -> str:
    """The model's table name, quoted."""
    return connections[using].ops.quote_name(model._meta.db_table)


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    return cast("Field[Any, Any]", model._meta.get_field(name))


def column(model: type[Model], name: str, *, using: str = DEFAULT_DB_ALIAS) -> str:
    """The column of the model's field ``name`` (``"product"`` gives ``product_id``), quoted."""
    return connections[using].ops.quote_name(str(_field(model, name).column))


def param(model: type[Model], name: str, value: Any, *, using: str = DEFAULT_DB_ALIAS) -> Any:
    """``value`` prepared for the database by the model's field ``name``, as ``save()`` would."""
    return _field(model, name).get_db_prep_save(value, connections[using])


def insert(
    model: type[Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    using: str = DEFAULT_DB_ALIAS,
) -> Statement | None:
    """``INSERT INTO <model> (<fields>) VALUES (...), (...)``: every row in one statement.

    Each value is prepared by its field for the database, as ``save()`` would (a
    UUID for SQLite, say); ``None`` when there are no rows.
    """
    connection = connections[using]
    model_fields = [_field(model, name) for name in fields]
    params = [
        field.get_db_prep_save(value, connection)
        for row in rows
        for field, value in zip(model_fields, row, strict=True)
    ]
    if not params:
        return None
    placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
    values = ", ".join([placeholders] * (len(params) // len(fields)))
    columns = ", ".join(column(model, name, using=using) for name in fields)
    sql = f"INSERT INTO {table(model, using=using)} ({columns}) VALUES {values}"  # noqa: S608
    return Statement(sql, params)


def insert_if_changed(
    change: Statement,
    model: type[Model],
    fields: Sequence[str],
    row: Sequence[Any],
    *,
    using: str = DEFAULT_DB_ALIAS,
) -> list[Statement]:
    """``change`` (an ``UPDATE`` or ``DELETE``), and ``row`` into ``model`` only if the change
    changed a row: statements for :func:`execute_together`, the first counting 1 if it
    did and 0 if not.

    On PostgreSQL one statement, the change in a ``WITH`` (a conditional write and what
    must be written with it in one round trip, with no transaction to open and commit);
    on SQLite the change, then the ``INSERT`` if ``changes()``, run one by one in a
    transaction. Values are prepared by their fields, as :func:`insert` does.
    """
    connection = connections[using]
    model_fields = [_field(model, name) for name in fields]
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(model_fields, row, strict=True)
    ]
    columns = ", ".join(column(model, name, using=using) for name in fields)
    into = f"INSERT INTO {table(model, using=using)} ({columns})"
    if connection.vendor == "postgresql":
        # Typed, as a SELECT list does not take its types from the columns it fills.
        values = ", ".join(f"CAST(%s AS {field.db_type(connection)})" for field in model_fields)
        changed = f"WITH changed AS ({change.sql} RETURNING 1)"
        together = f"{changed} {into} SELECT {values} WHERE EXISTS (SELECT 1 FROM changed)"  # noqa: S608
        return [Statement(together, [*change.params, *params])]
    if connection.vendor == "sqlite":
        values = ", ".join(["%s"] * len(fields))
        return [change, Statement(f"{into} SELECT {values} WHERE changes() > 0", params)]
    raise NotImplementedError(f"insert_if_changed: {connection.vendor} is not supported")


def update(queryset: QuerySet[Any], **values: Any) -> Statement:
    """The ``UPDATE`` that ``queryset.update(**values)`` would run, built by the ORM but not
    run: a statement to send with others (:func:`execute_together`).

    For the one-table filters conditional writes use (``filter(pk=..., status=...)``);
    a filter across relations needs a query of its own first, which this refuses.
    """
    query = cast(UpdateQuery, queryset.query.chain(UpdateQuery))
    query.add_update_values(values)
    joined = [alias for alias in query.alias_map if query.alias_refcount[alias]]
    if query.get_related_updates() or len(joined) > 1:
        raise ValueError("only an update filtered on its own table can be sent with others")
    sql, params = query.get_compiler(queryset.db).as_sql()
    return Statement(sql, list(params))


def sends_together(connection: BaseDatabaseWrapper) -> bool:
    """Whether several statements can go to this database in one query.

    PostgreSQL accepts them in one simple query, which Django's psycopg cursors
    send as long as they bind parameters on the client (Django's default, unless
    the ``server_side_binding`` option is on).
    """
    return connection.vendor == "postgresql" and not connection.settings_dict.get(
        "OPTIONS", {}
    ).get("server_side_binding")


def execute_together(
    statements: Iterable[Statement | None], *, using: str = DEFAULT_DB_ALIAS
) -> int:
    """Run the statements, all or none, and return the row count of the first.

    On PostgreSQL they go in one query, one round trip: outside a transaction,
    PostgreSQL runs the statements of one query as one transaction; inside one,
    they are part of it. Elsewhere they run one by one in a transaction.
    ``None`` items (an :func:`insert` with no rows) are skipped.
    """
    batch = [statement for statement in statements if statement is not None]
    if not batch:
        return 0
    connection = connections[using]
    if len(batch) == 1 or sends_together(connection):
        with connection.cursor() as cursor:
            cursor.execute(
                "; ".join(statement.sql for statement in batch),
                [param for statement in batch for param in statement.params],
            )
            return int(cursor.rowcount)  # the cursor is on the first statement's result
    counts: list[int] = []
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for statement in batch:
            cursor.execute(statement.sql, statement.params)
            counts.append(int(cursor.rowcount))
    return counts[0]
