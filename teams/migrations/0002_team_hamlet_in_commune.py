"""A team's hamlet must lie in the team's commune: a composite foreign key (PostgreSQL).

SQLite (the embedded default) cannot add a constraint to an existing table; there the
service check (teams.services._hamlet_of) is the only guard.
"""

from django.db import migrations

FORWARD = (
    "ALTER TABLE teams_team ADD CONSTRAINT team_hamlet_in_commune "
    "FOREIGN KEY (hamlet_id, commune_id) REFERENCES areas_hamlet (id, commune_id) DEFERRABLE INITIALLY DEFERRED"
)
BACKWARD = "ALTER TABLE teams_team DROP CONSTRAINT IF EXISTS team_hamlet_in_commune"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0001_initial"),
        ("areas", "0001_initial"),
    ]

    operations = [migrations.RunPython(forward, backward)]
