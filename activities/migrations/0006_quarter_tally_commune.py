# The quarter tally by commune and quarter: the incremental recompute reads its communes' current quarter.
# Built concurrently on PostgreSQL: the tally is written by every activity write (its triggers).
from django.db import migrations, models

from config.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("activities", "0005_activity_commune_day"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="quartertally",
            index=models.Index(fields=["commune", "quarter_start"], name="quarter_tally_commune"),
        ),
    ]
