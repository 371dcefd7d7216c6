"""Activity tallies (issue 16): per commune, team, type and quarter, and all time, kept by triggers.

The counts change in the statement that changes the activities, in its transaction, whatever runs it.
PostgreSQL: one statement-level trigger per event, reading the transition tables, so a sync batch of
any size costs two upserts. SQLite (the embedded default): row-level triggers.
A quarter is its first day: date_trunc('quarter', day) on PostgreSQL, built from the text on SQLite.
The tables are filled from the activities already there.
"""

import django.db.models.deletion
from django.db import migrations, models



TABLES = {"quarter": "activities_quartertally", "lifetime": "activities_lifetimetally"}

# Rows whose counts change: +1 for a counted row of the new image, -1 for one of the old.
_PG_UPSERT = """
    INSERT INTO {table} ({key}, activities, people_helped)
    SELECT {key}, SUM(sign), SUM(sign * people_helped) FROM (
        {rows}
    ) AS changed GROUP BY {key} HAVING SUM(sign) <> 0 OR SUM(sign * people_helped) <> 0 ORDER BY {key}
    ON CONFLICT ({key}) DO UPDATE SET activities = {table}.activities + EXCLUDED.activities,
        people_helped = {table}.people_helped + EXCLUDED.people_helped;
"""
_PG_ROWS = {
    "new": "SELECT {columns}, 1 AS sign, people_helped FROM new_rows WHERE NOT deleted",
    "old": "SELECT {columns}, -1 AS sign, people_helped FROM old_rows WHERE NOT deleted",
}
_QUARTER_KEY = "quarter_start, commune_id, team_id, type_id"
_QUARTER_COLUMNS = "date_trunc('quarter', occurred_on)::date AS quarter_start, commune_id, team_id, type_id"
_LIFETIME_KEY = "commune_id, team_id, type_id"


def _pg_upserts(images: list[str]) -> str:
    statements = []
    for table, key, columns in (
        (TABLES["lifetime"], _LIFETIME_KEY, _LIFETIME_KEY),
        (TABLES["quarter"], _QUARTER_KEY, _QUARTER_COLUMNS),
    ):
        rows = " UNION ALL ".join(_PG_ROWS[image].format(columns=columns) for image in images)
        statements.append(_PG_UPSERT.format(table=table, key=key, rows=rows))
    return "".join(statements)


POSTGRES = f"""
CREATE FUNCTION activities_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN {_pg_upserts(["new"])}
    ELSIF TG_OP = 'UPDATE' THEN {_pg_upserts(["new", "old"])}
    ELSE {_pg_upserts(["old"])}
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER activity_tally_insert AFTER INSERT ON activities_activity
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION activities_tally();
CREATE TRIGGER activity_tally_update AFTER UPDATE ON activities_activity
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION activities_tally();
CREATE TRIGGER activity_tally_delete AFTER DELETE ON activities_activity
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION activities_tally();
"""
POSTGRES_REVERSE = """
DROP TRIGGER activity_tally_insert ON activities_activity;
DROP TRIGGER activity_tally_update ON activities_activity;
DROP TRIGGER activity_tally_delete ON activities_activity;
DROP FUNCTION activities_tally();
"""


def _sqlite_quarter(row: str) -> str:
    day = f"{row}.occurred_on"
    return (
        f"substr({day}, 1, 5) || CASE WHEN substr({day}, 6, 2) < '04' THEN '01' WHEN substr({day}, 6, 2) < '07' "
        f"THEN '04' WHEN substr({day}, 6, 2) < '10' THEN '07' ELSE '10' END || '-01'"
    )


def _sqlite_add(row: str, sign: int) -> str:
    """Two upserts adding `sign` times the row NEW or OLD (SQLite needs a WHERE before ON CONFLICT)."""
    people = f"{sign} * {row}.people_helped"
    ids = f"{row}.commune_id, {row}.team_id, {row}.type_id"
    return (
        f"INSERT INTO {TABLES['lifetime']} ({_LIFETIME_KEY}, activities, people_helped) "
        f"SELECT {ids}, {sign}, {people} WHERE true ON CONFLICT ({_LIFETIME_KEY}) DO UPDATE SET "
        "activities = activities + excluded.activities, people_helped = people_helped + excluded.people_helped; "
        f"INSERT INTO {TABLES['quarter']} ({_QUARTER_KEY}, activities, people_helped) "
        f"SELECT {_sqlite_quarter(row)}, {ids}, {sign}, {people} WHERE true ON CONFLICT ({_QUARTER_KEY}) DO UPDATE SET "
        "activities = activities + excluded.activities, people_helped = people_helped + excluded.people_helped;"
    )


SQLITE = [
    "CREATE TRIGGER activity_tally_insert AFTER INSERT ON activities_activity WHEN NOT NEW.deleted "
    f"BEGIN {_sqlite_add('NEW', 1)} END",
    # An update takes the old image out, then puts the new one in (each only when it is counted).
    "CREATE TRIGGER activity_tally_update_old AFTER UPDATE ON activities_activity WHEN NOT OLD.deleted "
    f"BEGIN {_sqlite_add('OLD', -1)} END",
    "CREATE TRIGGER activity_tally_update_new AFTER UPDATE ON activities_activity WHEN NOT NEW.deleted "
    f"BEGIN {_sqlite_add('NEW', 1)} END",
    "CREATE TRIGGER activity_tally_delete AFTER DELETE ON activities_activity WHEN NOT OLD.deleted "
    f"BEGIN {_sqlite_add('OLD', -1)} END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER activity_tally_insert",
    "DROP TRIGGER activity_tally_update_old",
    "DROP TRIGGER activity_tally_update_new",
    "DROP TRIGGER activity_tally_delete",
]


def _quarter_of_column(vendor: str) -> str:
    return "date_trunc('quarter', occurred_on)::date" if vendor == "postgresql" else _sqlite_quarter("a")


def fill(apps, schema_editor):
    """The triggers, then the counts of the activities already there."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES)
    elif vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)
    else:
        raise NotImplementedError(vendor)
    schema_editor.execute(
        f"INSERT INTO {TABLES['lifetime']} ({_LIFETIME_KEY}, activities, people_helped) "
        f"SELECT {_LIFETIME_KEY}, COUNT(*), SUM(people_helped) FROM activities_activity a WHERE NOT deleted "
        f"GROUP BY {_LIFETIME_KEY}"
    )
    schema_editor.execute(
        f"INSERT INTO {TABLES['quarter']} ({_QUARTER_KEY}, activities, people_helped) "
        f"SELECT {_quarter_of_column(vendor)}, {_LIFETIME_KEY}, COUNT(*), SUM(people_helped) "
        f"FROM activities_activity a WHERE NOT deleted GROUP BY 1, {_LIFETIME_KEY}"
    )


def drop(apps, schema_editor):
    statements = [POSTGRES_REVERSE] if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ('activities', '0003_fewer_indexes'),
        ('areas', '0005_commune_coordinates'),
        ('teams', '0004_team_old_commune'),
    ]

    operations = [
        migrations.CreateModel(
            name='LifetimeTally',
            fields=[
                ('activities', models.BigIntegerField()),
                ('people_helped', models.BigIntegerField()),
                ('pk', models.CompositePrimaryKey('commune', 'team', 'type', blank=True, editable=False, primary_key=True, serialize=False)),
                ('commune', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='areas.commune')),
                ('team', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='teams.team')),
                ('type', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='activities.activitytype')),
            ],
        ),
        migrations.CreateModel(
            name='QuarterTally',
            fields=[
                ('activities', models.BigIntegerField()),
                ('people_helped', models.BigIntegerField()),
                ('pk', models.CompositePrimaryKey('quarter_start', 'commune', 'team', 'type', blank=True, editable=False, primary_key=True, serialize=False)),
                ('quarter_start', models.DateField()),
                ('commune', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='areas.commune')),
                ('team', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='teams.team')),
                ('type', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='activities.activitytype')),
            ],
        ),
        migrations.RunPython(fill, drop),
    ]
