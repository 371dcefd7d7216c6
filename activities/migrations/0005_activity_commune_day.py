# A commune's activities by date: (commune, occurred_on) replaces (commune, type, occurred_on).
#
# The recompute no longer reads activities per commune and type (it reads the tallies, migration 0004), so
# the type column in the key served no query any more. What is left to serve is a commune's activities newest
# first (the commune officer's list, the dashboard's recent activities), which the narrower key serves as well.
#
# The single-column indexes Django gave the hamlet and recorded_by foreign keys go too: hamlets and users are
# deactivated, never deleted, so no delete check reads them, and no query filters activities by either. Only
# the index goes (AlterField would also drop and re-add the foreign key, validating every row under lock).
#
# On PostgreSQL the index is built and the old one dropped CONCURRENTLY, so that a deployment does not block
# the sync for the minutes a build takes on tens of millions of rows: hence a migration outside a
# transaction, and the new index built before the old one goes, so that the reads always have one.
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from config.migration_operations import AddIndexConcurrentlyOnPostgres, RemoveIndexConcurrentlyOnPostgres


# Django's names for the foreign keys' indexes (the same on PostgreSQL and SQLite).
UNUSED_INDEXES = {
    "hamlet_id": "activities_activity_hamlet_id_18473de3",
    "recorded_by_id": "activities_activity_recorded_by_id_82cda38f",
}


def _concurrently(schema_editor) -> str:
    return " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""


def drop_unused_indexes(apps, schema_editor):
    for name in UNUSED_INDEXES.values():
        schema_editor.execute(f"DROP INDEX{_concurrently(schema_editor)} IF EXISTS {schema_editor.quote_name(name)}")


def create_unused_indexes(apps, schema_editor):
    for column, name in UNUSED_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX{_concurrently(schema_editor)} IF NOT EXISTS {schema_editor.quote_name(name)} "
            f"ON activities_activity ({schema_editor.quote_name(column)})"
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("activities", "0004_activity_tallies"),
        ("areas", "0005_commune_coordinates"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="activity",
            index=models.Index(fields=["commune", "occurred_on"], name="activity_commune_day"),
        ),
        RemoveIndexConcurrentlyOnPostgres(
            model_name="activity",
            name="activity_commune_type_day",
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="activity",
                    name="hamlet",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="areas.hamlet",
                    ),
                ),
                migrations.AlterField(
                    model_name="activity",
                    name="recorded_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_unused_indexes, create_unused_indexes)],
        ),
    ]
