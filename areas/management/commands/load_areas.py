"""manage.py load_areas: load the official 2025 map (34 provinces, 3,321 communes)."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from areas.loaders import load_2025_map, read_2025_dataset


class Command(BaseCommand):
    help = (
        "Load the 34 provinces and 3,321 communes valid from 2025-07-01 from the vietnamadminunits dataset. "
        "Idempotent: a second run changes nothing. Never deletes a unit."
    )

    def handle(self, *args, **options):
        provinces, communes = read_2025_dataset()
        with tqdm(total=len(provinces) + len(communes), desc="units", unit="unit", file=self.stderr) as bar:
            result = load_2025_map(progress=bar.update)
        self.stdout.write(
            f"{result.source} {result.version}: {result.provinces} provinces, {result.communes} communes; "
            f"created {result.created}, updated {result.updated}, unchanged {result.unchanged}"
        )
        if result.not_in_source:
            self.stdout.write(
                self.style.WARNING(f"{len(result.not_in_source)} communes in the database are not in the source; kept")
            )
