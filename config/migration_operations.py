"""Migration operations for the two databases: indexes built without blocking writes, and SQL per vendor.

CREATE INDEX CONCURRENTLY and DROP INDEX CONCURRENTLY (django.contrib.postgres) on PostgreSQL, so that a
deployment does not hold off the sync while an index is built over a large table; a migration using them
sets `atomic = False`. Elsewhere (the embedded SQLite) they are a plain CREATE INDEX / DROP INDEX.
`by_vendor` runs the statements written for the connection's database (triggers differ between the two).
"""

from collections.abc import Callable, Sequence

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations.operations import AddIndex, RemoveIndex


class _ConcurrentOnPostgres:
    """The operation `concurrent` on PostgreSQL and `plain` elsewhere, run on this operation's own fields."""

    concurrent: type
    plain: type

    def _base(self, schema_editor) -> type:
        return self.concurrent if schema_editor.connection.vendor == "postgresql" else self.plain

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._base(schema_editor).database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._base(schema_editor).database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddIndexConcurrentlyOnPostgres(_ConcurrentOnPostgres, AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL; a plain CREATE INDEX elsewhere (the embedded SQLite)."""

    concurrent, plain = AddIndexConcurrently, AddIndex


class RemoveIndexConcurrentlyOnPostgres(_ConcurrentOnPostgres, RemoveIndexConcurrently):
    """DROP INDEX CONCURRENTLY on PostgreSQL; a plain DROP INDEX elsewhere."""

    concurrent, plain = RemoveIndexConcurrently, RemoveIndex


def by_vendor(statements: dict[str, Sequence[str]]) -> Callable:
    """A RunPython function that executes the statements listed for the connection's vendor, in order; a
    database with none listed is refused, never migrated without them."""

    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise NotImplementedError(vendor)
        for statement in statements[vendor]:
            schema_editor.execute(statement)

    return run
