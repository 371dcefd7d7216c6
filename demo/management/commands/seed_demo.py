"""manage.py seed_demo: the demo logins, the commune-scale demo registry and a demo team leader for the embedded run."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from demo.services import demo_accounts_set, demo_leader_seed

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = (
        "Create the demo logins (ministry, province admins, commune officer), the commune-scale demo registry unless "
        "it has data, and a demo team leader with a team, members and activities in the demo commune (DEBUG only). "
        "Running it again adds nothing. Prints the logins and the URLs under --base-url (what runserver serves)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            "--url",
            dest="base_url",
            default=DEFAULT_BASE_URL,
            help=f"the server's address, for the printed URLs (make run passes its HOST and PORT; {DEFAULT_BASE_URL})",
        )
        parser.add_argument("--force", action="store_true", help="allow outside DEBUG (never in production)")

    def handle(self, *args, base_url: str, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates known passwords: it runs only with DEBUG on (or --force).")
        url = base_url.rstrip("/")
        logins = demo_accounts_set()
        # The leader's team takes a hamlet the generator left free, so the registry comes first.
        call_command("generate_demo", scale="commune", seed=1, if_empty=True, stdout=self.stdout, stderr=self.stderr)
        leader = demo_leader_seed()
        if leader.login:
            logins.append(leader.login)
        if leader.team is not None:
            written = f" (written now: {', '.join(leader.written)})" if leader.written else ""
            self.stdout.write(
                f"Demo team leader: {leader.team.name}, {leader.members} members, "
                f"{leader.activities} activities{written}"
            )
        for note in leader.notes:
            self.stdout.write(self.style.WARNING(f"Demo team leader: {note}"))
        # The coverage figures the demo logins will read (recomputed in-process after each write).
        call_command("show_coverage", stdout=self.stdout, stderr=self.stderr)
        self.stdout.write(self.style.SUCCESS(f"\nDashboard: {url}/"))
        self.stdout.write(f"API:      {url}/api/v1/")
        self.stdout.write(f"API docs: {url}/api/docs/")
        self.stdout.write(f"Schema:   {url}/api/schema/")
        self.stdout.write(f'Log in:   POST {url}/api/v1/auth/token/ with {{"phone": ..., "password": ...}}')
        self.stdout.write("Demo logins:")
        rows = [("role", "phone", "password", "scope")] + [(x.role, x.phone, x.password, x.scope) for x in logins]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            self.stdout.write(
                "  " + "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
            )
