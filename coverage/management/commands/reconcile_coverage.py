"""manage.py reconcile_coverage: the nightly check on demand; exits non-zero when figures differed."""

import time

from django.core.management.base import BaseCommand, CommandError

from coverage.services import RecomputeBusy, reconcile


class Command(BaseCommand):
    help = (
        "Bring the incremental coverage figures up to date, recompute everything, and report how many figures "
        "of communes, provinces and the nation differed (expected 0), after checking the activity tallies "
        "against the activities. The fresh figures are kept. Exits with "
        "status 1 when any figure differed, so that a scheduler or a monitor can raise the alarm."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--wait", type=float, default=120, help="seconds to wait while another recompute holds the lock"
        )

    def handle(self, *args, wait: float, **options):
        deadline = time.monotonic() + wait
        while True:
            try:
                run = reconcile()
                break
            except RecomputeBusy:
                if time.monotonic() >= deadline:
                    raise CommandError("Another recompute is still running; try again later.") from None
                time.sleep(1)
        self.stdout.write(f"reconciled {run.communes} communes: {run.differences} figures differed")
        if run.tally_differences:
            self.stdout.write(
                f"  {run.tally_differences} kept count keys (activity tallies, team counts) differed from their rows "
                "(recounted)"
            )
        for example in run.examples:
            self.stdout.write(
                f"  {example['level']} {example['code']} {example['field']}: "
                f"stored {example['stored']!r}, recomputed {example['recomputed']!r}"
            )
        if run.tally_differences and not run.differences:
            raise CommandError(
                f"{run.tally_differences} kept count keys (activity tallies, team counts) differed from their rows "
                "(now fixed)."
            )
        if run.differences:
            raise CommandError(f"{run.differences} coverage figures differed from a full recompute (now fixed).")
