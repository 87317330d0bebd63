"""Migration operations that build indexes without stopping writes.

``CREATE INDEX`` holds a lock that blocks every write to the table for the
whole build: minutes on a table of a million rows. PostgreSQL's ``CREATE INDEX
CONCURRENTLY`` builds it while writes go on (django.contrib.postgres's
``AddIndexConcurrently``), but only on PostgreSQL, and outside a transaction.
These operations are the same ``AddIndex``/``RemoveIndex`` to the migration
state (so ``makemigrations`` sees the models' ``Meta.indexes`` as they are) and
run concurrently on PostgreSQL, plainly elsewhere; an index only PostgreSQL has
(a GIN index, say of trigrams) is left out on SQLite, which scans instead.

A build CONCURRENTLY that fails half way (cancelled, timed out, a deadlock, a crash)
leaves an INVALID index behind, which PostgreSQL keeps up to date on every write and never
reads; and a migration that is not atomic, stopped half way, has built some of its
indexes and is not recorded as applied. Run again, the migration must finish what it
started: an INVALID index of the name on the table is dropped (CONCURRENTLY) and built
again, and a valid one is kept (PostgreSQL's own ``IF NOT EXISTS`` goes by the name
too).

A migration that uses them sets ``atomic = False``. :class:`TrigramExtension` is
django.contrib.postgres's, undone on PostgreSQL only as it is done (Django's own looks
for the extension in any database when a migration is undone, and fails on SQLite).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.postgres import operations as postgres
from django.contrib.postgres.indexes import PostgresIndex
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import ProjectState


def _on_postgres(schema_editor: BaseDatabaseSchemaEditor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def _index_of(state: ProjectState, app_label: str, model_name: str, name: str) -> Any:
    model_state = state.models[app_label, model_name.lower()]
    return model_state.get_index_by_name(name)


Step = Callable[[str, BaseDatabaseSchemaEditor, ProjectState, ProjectState], None]


def _built_concurrently(model_name: str, index: Any, add: Step) -> Step:
    """``add``, the concurrent build of ``index``, run again where an earlier run stopped:
    an INVALID index of its name is dropped first; a valid one on the table is kept."""

    def step(
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if schema_editor.collect_sql:  # sqlmigrate: the statements, whatever the database has
            add(app_label, schema_editor, from_state, to_state)
            return
        table = to_state.apps.get_model(app_label, model_name)._meta.db_table
        quoted = schema_editor.quote_name(index.name)
        with schema_editor.connection.cursor() as cursor:
            # The index of that name along the search path, and whether it is this
            # table's: only then is it this operation's, to keep or to build again.
            cursor.execute(
                "SELECT indisvalid, indrelid = to_regclass(%s) FROM pg_index"
                " WHERE indexrelid = to_regclass(%s)",
                [schema_editor.quote_name(table), quoted],
            )
            found = cursor.fetchone()
        if found is not None and found[1]:  # an index of the name, on this table
            if found[0]:
                return
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quoted}")
        add(app_label, schema_editor, from_state, to_state)

    return step


def _run(
    index: Any,
    concurrently: Step,
    plainly: Step,
    app_label: str,
    schema_editor: BaseDatabaseSchemaEditor,
    from_state: ProjectState,
    to_state: ProjectState,
) -> None:
    """``concurrently`` on PostgreSQL; elsewhere ``plainly``, unless ``index`` is one only
    PostgreSQL has."""
    if _on_postgres(schema_editor):
        concurrently(app_label, schema_editor, from_state, to_state)
    elif not isinstance(index, PostgresIndex):
        plainly(app_label, schema_editor, from_state, to_state)


class AddIndexConcurrently(migrations.AddIndex):
    """``AddIndex``, built ``CONCURRENTLY`` on PostgreSQL."""

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        concurrent = postgres.AddIndexConcurrently(self.model_name, self.index)
        _run(
            self.index,
            _built_concurrently(self.model_name, self.index, concurrent.database_forwards),
            super().database_forwards,
            app_label, schema_editor, from_state, to_state,
        )  # fmt: skip

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        concurrent = postgres.AddIndexConcurrently(self.model_name, self.index)
        _run(
            self.index, concurrent.database_backwards, super().database_backwards,
            app_label, schema_editor, from_state, to_state,
        )  # fmt: skip


class RemoveIndexConcurrently(migrations.RemoveIndex):
    """``RemoveIndex``, dropped ``CONCURRENTLY`` on PostgreSQL."""

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        concurrent = postgres.RemoveIndexConcurrently(self.model_name, self.name)
        _run(
            _index_of(from_state, app_label, self.model_name, self.name),
            concurrent.database_forwards, super().database_forwards,
            app_label, schema_editor, from_state, to_state,
        )  # fmt: skip

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        concurrent = postgres.RemoveIndexConcurrently(self.model_name, self.name)
        index = _index_of(to_state, app_label, self.model_name, self.name)
        _run(
            index,
            _built_concurrently(self.model_name, index, concurrent.database_backwards),
            super().database_backwards,
            app_label, schema_editor, from_state, to_state,
        )  # fmt: skip


class TrigramExtension(postgres.TrigramExtension):
    """``CREATE EXTENSION pg_trgm`` on PostgreSQL; nothing elsewhere, either way."""

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if _on_postgres(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
