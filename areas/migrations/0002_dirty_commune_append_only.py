"""The changed-commune outbox becomes append-only (no upsert, so no row lock shared by writers).

Its rows are transient marks, so the table is recreated rather than altered.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("areas", "0001_initial")]

    operations = [
        migrations.DeleteModel(name="DirtyCommune"),
        migrations.CreateModel(
            name="DirtyCommune",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("marked_at", models.DateTimeField()),
                (
                    "commune",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="areas.commune"
                    ),
                ),
            ],
            options={"indexes": [models.Index(fields=["commune", "id"], name="areas_dirty_commune_21812c_idx")]},
        ),
    ]
