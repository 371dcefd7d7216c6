"""manage.py seed_demo: the demo logins and the commune-scale demo registry for the embedded run."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from accounts.scoping import Role
from accounts.services import account_upsert
from areas.selectors import units_by_code
from demo.plan import DEFAULT_PROVINCE, DEMO_COMMUNE

DEMO_PASSWORD = "demo-cdt-2025"
# Hà Nội; Phường Văn Miếu - Quốc Tử Giám (Hà Nội); Thành phố Hồ Chí Minh.
DEMO_ACCOUNTS = [
    ("0900000001", Role.MINISTRY, None, None, "Bộ (demo)"),
    ("0900000002", Role.PROVINCE_ADMIN, DEFAULT_PROVINCE, None, "Quản trị Hà Nội (demo)"),
    ("0900000003", Role.COMMUNE_OFFICER, None, DEMO_COMMUNE, "Cán bộ phường Văn Miếu - Quốc Tử Giám (demo)"),
    ("0900000004", Role.PROVINCE_ADMIN, "79", None, "Quản trị TP Hồ Chí Minh (demo)"),
]


class Command(BaseCommand):
    help = (
        "Create the demo logins and the commune-scale demo registry unless it has data (DEBUG only), "
        "and print the logins with the URL to open."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--force", action="store_true", help="allow outside DEBUG (never in production)")

    def handle(self, *args, url: str, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates known passwords: it runs only with DEBUG on (or --force).")
        for phone, role, province_code, commune_code, name in DEMO_ACCOUNTS:
            province, commune = units_by_code(province_code=province_code, commune_code=commune_code)
            account_upsert(
                phone=phone,
                password=DEMO_PASSWORD,
                role=role,
                province=province,
                commune=commune,
                full_name=name,
                check_password_strength=False,
            )
        call_command("generate_demo", scale="commune", seed=1, if_empty=True, stdout=self.stdout, stderr=self.stderr)
        # The coverage figures the demo logins will read (recomputed in-process after each write).
        call_command("show_coverage", stdout=self.stdout, stderr=self.stderr)
        self.stdout.write(self.style.SUCCESS(f"\nAPI:      {url}/api/v1/"))
        self.stdout.write(f"API docs: {url}/api/docs/")
        self.stdout.write(f'Log in:   POST {url}/api/v1/auth/token/ with {{"phone", "password"}}')
        self.stdout.write(f"Demo logins (password {DEMO_PASSWORD}):")
        for phone, role, province, commune, name in DEMO_ACCOUNTS:
            self.stdout.write(f"  {phone}  {role:<16} {province or commune or 'toàn quốc'}  {name}")
