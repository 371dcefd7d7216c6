"""manage.py recompute_coverage: the full recompute of coverage figures (all communes or one province)."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from areas.models import Province
from coverage.services import recompute_all


class Command(BaseCommand):
    help = (
        "Recompute coverage figures from the source rows: every commune, or one province's with --province; "
        "then their provinces and the nation. Clears the dirty marks it covered."
    )

    def add_arguments(self, parser):
        parser.add_argument("--province", help="2-digit province code")

    def handle(self, *args, province=None, **options):
        if province and not Province.objects.current().filter(code=province).exists():
            raise CommandError(f"Unknown province code {province}")
        with tqdm(total=2, desc="coverage", unit="step", file=self.stderr) as bar:
            bar.set_postfix_str("communes")
            result = recompute_all(province_code=province)
            bar.update(1)
            if result is None:
                raise CommandError("Another recompute is running; try again when it finishes.")
            bar.set_postfix_str("provinces and nation")
            bar.update(1)
        self.stdout.write(f"recomputed {result.communes} communes and {result.provinces} provinces")
