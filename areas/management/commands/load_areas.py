"""manage.py load_areas: load both official maps (2025: 34 provinces; before: 63) and the crosswalk between them."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from areas.loaders import load_maps, read_2024_dataset, read_2025_dataset


class Command(BaseCommand):
    help = (
        "Load the 34 provinces and 3,321 communes valid from 2025-07-01, the 63 provinces, 696 districts and "
        "10,040 communes valid up to 2025-06-30, and the 2025 crosswalk between them, from the vietnamadminunits "
        "dataset. Idempotent: a second run changes nothing. Never deletes a unit."
    )

    def handle(self, *args, **options):
        provinces, communes = read_2025_dataset()
        old = read_2024_dataset()
        total = len(provinces) + len(communes) + len(old.provinces) + len(old.districts) + len(old.communes)
        with tqdm(total=total + len(old.links), desc="units", unit="unit", file=self.stderr) as bar:
            new_map, old_map = load_maps(progress=bar.update)
        self.stdout.write(
            f"{new_map.source} {new_map.version}: 2025 map: {new_map.provinces} provinces, {new_map.communes} "
            f"communes; created {new_map.created}, updated {new_map.updated}, unchanged {new_map.unchanged}"
        )
        self.stdout.write(
            f"2024 map: {old_map.provinces} provinces, {old_map.districts} districts, {old_map.communes} communes, "
            f"{old_map.links} crosswalk links; created {old_map.created}, updated {old_map.updated}, "
            f"unchanged {old_map.unchanged}"
        )
        for label, result in (("2025", new_map), ("2024", old_map)):
            if result.not_in_source:
                self.stdout.write(
                    self.style.WARNING(
                        f"{len(result.not_in_source)} communes of the {label} map in the database are not in the "
                        "source; kept"
                    )
                )
