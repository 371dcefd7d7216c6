"""Leave room in each page of the figures tables, so that a round's update stays on its page (a HOT update).

Every round rewrites the figures of the communes it recomputes, their provinces and both nations. A commune's
row is about 1.5 KB, five to a full page: with no room on the page, each update wrote a new row elsewhere and a
new entry in both indexes, and the table grew between vacuums (190 MB for 13,361 rows after the benchmark's sync,
with autovacuum off). With pages filled to 70 %, about half the updates stay on their page, PostgreSQL prunes
their old versions without a vacuum, and the table held at 31 MB over the same rounds; their UPDATE took
29 instead of 64 ms (docs/performance.md). The setting applies to pages written from now on; a VACUUM FULL
(or pg_repack) of coverage_communefigures applies it at once. PostgreSQL only: SQLite has no such setting.
"""

from django.db import migrations

TABLES = ["coverage_communefigures", "coverage_provincefigures", "coverage_nationalfigures"]
FILLFACTOR = 70


def _set(fillfactor: int | None):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in TABLES:
            name = schema_editor.quote_name(table)
            if fillfactor is None:
                schema_editor.execute(f"ALTER TABLE {name} RESET (fillfactor)")
            else:
                schema_editor.execute(f"ALTER TABLE {name} SET (fillfactor = {int(fillfactor)})")

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("coverage", "0005_reconcile_tally_differences"),
    ]

    operations = [migrations.RunPython(_set(FILLFACTOR), _set(None))]
