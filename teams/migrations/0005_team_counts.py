"""Team counts per commune and province, kept by triggers on teams_team (issue 16: the team list's count).

PostgreSQL: one statement-level trigger per event, reading the transition tables, so a COPY or a bulk UPDATE
of any size costs one upsert. An UPDATE that moves no team changes no count (the HAVING drops zero deltas).
SQLite (the embedded default): row-level triggers. The table is filled from the teams already there.
"""

import django.db.models.deletion
from django.db import migrations, models

from config.migration_operations import by_vendor

TABLE = "teams_teamcount"
KEY = "commune_id, province_id"

# +1 for each row of the new image, -1 for each of the old; only the keys whose count changes are written,
# in key order (concurrent writers take the rows' locks in one order).
_PG_UPSERT = f"""
    INSERT INTO {TABLE} ({KEY}, teams)
    SELECT {KEY}, SUM(sign) FROM ({{rows}}) AS changed
    GROUP BY {KEY} HAVING SUM(sign) <> 0 ORDER BY {KEY}
    ON CONFLICT ({KEY}) DO UPDATE SET teams = {TABLE}.teams + EXCLUDED.teams;
"""
_NEW = f"SELECT {KEY}, 1 AS sign FROM new_rows"
_OLD = f"SELECT {KEY}, -1 AS sign FROM old_rows"

POSTGRES = f"""
CREATE FUNCTION teams_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN {_PG_UPSERT.format(rows=_NEW)}
    ELSIF TG_OP = 'UPDATE' THEN {_PG_UPSERT.format(rows=_NEW + " UNION ALL " + _OLD)}
    ELSE {_PG_UPSERT.format(rows=_OLD)}
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER team_count_insert AFTER INSERT ON teams_team
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION teams_count();
CREATE TRIGGER team_count_update AFTER UPDATE ON teams_team
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION teams_count();
CREATE TRIGGER team_count_delete AFTER DELETE ON teams_team
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION teams_count();
"""
POSTGRES_REVERSE = """
DROP TRIGGER team_count_insert ON teams_team;
DROP TRIGGER team_count_update ON teams_team;
DROP TRIGGER team_count_delete ON teams_team;
DROP FUNCTION teams_count();
"""


def _sqlite_add(row: str, sign: int) -> str:
    return (
        f"INSERT INTO {TABLE} ({KEY}, teams) SELECT {row}.commune_id, {row}.province_id, {sign} WHERE true "
        f"ON CONFLICT ({KEY}) DO UPDATE SET teams = teams + excluded.teams;"
    )


_MOVED = "OLD.commune_id IS NOT NEW.commune_id OR OLD.province_id IS NOT NEW.province_id"
SQLITE = [
    f"CREATE TRIGGER team_count_insert AFTER INSERT ON teams_team BEGIN {_sqlite_add('NEW', 1)} END",
    f"CREATE TRIGGER team_count_update AFTER UPDATE OF commune_id, province_id ON teams_team WHEN {_MOVED} "
    f"BEGIN {_sqlite_add('OLD', -1)} {_sqlite_add('NEW', 1)} END",
    f"CREATE TRIGGER team_count_delete AFTER DELETE ON teams_team BEGIN {_sqlite_add('OLD', -1)} END",
]
SQLITE_REVERSE = ["DROP TRIGGER team_count_insert", "DROP TRIGGER team_count_update", "DROP TRIGGER team_count_delete"]


FILL = f"INSERT INTO {TABLE} ({KEY}, teams) SELECT {KEY}, COUNT(*) FROM teams_team GROUP BY {KEY}"

# The triggers, then the counts of the teams already there.
create = by_vendor({"postgresql": [POSTGRES, FILL], "sqlite": [*SQLITE, FILL]})
drop = by_vendor({"postgresql": [POSTGRES_REVERSE], "sqlite": SQLITE_REVERSE})


class Migration(migrations.Migration):

    dependencies = [
        ('areas', '0005_commune_coordinates'),
        ('teams', '0004_team_old_commune'),
    ]

    operations = [
        migrations.CreateModel(
            name='TeamCount',
            fields=[
                ('pk', models.CompositePrimaryKey('commune', 'province', blank=True, editable=False, primary_key=True, serialize=False)),
                ('teams', models.BigIntegerField()),
                ('commune', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='areas.commune')),
                ('province', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='areas.province')),
            ],
        ),
        migrations.RunPython(create, drop),
    ]
