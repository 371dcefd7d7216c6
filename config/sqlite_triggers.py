"""Migrations that rebuild a table on SQLite (the embedded default) keep the triggers that mention it.

SQLite cannot alter a constraint or add a NOT NULL column in place: Django copies the table into a
new one, drops the old and renames the new. A trigger on another table whose body names the rebuilt
table (accounts' user-scope checks name areas_commune and teams_team) then fails the rename ("no
such table"), and a trigger on the rebuilt table itself would be lost with it. So a migration that
rebuilds one of these tables drops the triggers that mention it first and recreates them after.
PostgreSQL alters in place and needs none of this.
"""

from __future__ import annotations

from django.db import migrations


def kept_sqlite_triggers(*tables: str) -> tuple[migrations.RunPython, migrations.RunPython]:
    """Two operations to put around a migration's operations: drop, then recreate, the triggers naming `tables`."""
    saved: list[str] = []

    def _drop(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
            found = cursor.fetchall()
        for name, sql in found:
            if any(table in sql for table in tables):
                saved.append(sql)
                schema_editor.execute(f'DROP TRIGGER "{name}"')

    def _restore(apps, schema_editor):
        if schema_editor.connection.vendor != "sqlite":
            return
        for sql in saved:
            schema_editor.execute(sql)
        saved.clear()

    return migrations.RunPython(_drop, _restore), migrations.RunPython(_restore, _drop)
