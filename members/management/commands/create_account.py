"""manage.py create_account: create a login, or reset its password, role and scope."""

from django.core.management.base import BaseCommand, CommandError

from accounts.scoping import Role
from accounts.services import account_upsert
from areas.selectors import units_by_code
from config.errors import DomainError
from members.services import team_leader_account_set


class Command(BaseCommand):
    help = (
        "Create the login of a phone number with a role and its scope, or reset an existing one. "
        "ministry needs no scope; province_admin needs --province; commune_officer needs --commune; "
        "team_leader needs --team (the login is the team leader member's phone)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--phone", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument("--province", help="2-digit province code")
        scope.add_argument("--commune", help="5-digit commune code")
        scope.add_argument("--team", help="team id (UUID)")

    def handle(self, *args, phone, password, role, province=None, commune=None, team=None, **options):
        try:
            if role == Role.TEAM_LEADER:
                user, created = self._team_leader(team=team, password=password)
            else:
                if team:
                    raise CommandError("--team goes with --role team_leader")
                province_row, commune_row = units_by_code(province_code=province, commune_code=commune)
                user, created = account_upsert(
                    phone=phone, password=password, role=role, province=province_row, commune=commune_row
                )
        except DomainError as exc:
            messages = [f"{field}: {m}" for field, ms in exc.fields.items() for m in ms] or [str(exc.message)]
            raise CommandError("; ".join(messages)) from None
        self.stdout.write(f"{'created' if created else 'updated'} {user.role} account {user.pk}")

    def _team_leader(self, *, team, password):
        if not team:
            raise CommandError("a team_leader account needs --team")
        user, created, _ = team_leader_account_set(actor=None, team_id=team, password=password)
        return user, created
