"""Migration operations that build and drop indexes without blocking writes on PostgreSQL.

CREATE INDEX CONCURRENTLY and DROP INDEX CONCURRENTLY (django.contrib.postgres) on PostgreSQL, so that a
deployment does not hold off the sync while an index is built over a large table; a migration using them
sets `atomic = False`. Elsewhere (the embedded SQLite) they are a plain CREATE INDEX / DROP INDEX.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations.operations import AddIndex, RemoveIndex


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL; a plain CREATE INDEX elsewhere (the embedded SQLite)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        base = AddIndexConcurrently if schema_editor.connection.vendor == "postgresql" else AddIndex
        base.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        base = AddIndexConcurrently if schema_editor.connection.vendor == "postgresql" else AddIndex
        base.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexConcurrentlyOnPostgres(RemoveIndexConcurrently):
    """DROP INDEX CONCURRENTLY on PostgreSQL; a plain DROP INDEX elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        base = RemoveIndexConcurrently if schema_editor.connection.vendor == "postgresql" else RemoveIndex
        base.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        base = RemoveIndexConcurrently if schema_editor.connection.vendor == "postgresql" else RemoveIndex
        base.database_backwards(self, app_label, schema_editor, from_state, to_state)
