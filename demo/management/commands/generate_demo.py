"""manage.py generate_demo: demo hamlets, teams and members on the real map, reproducible from a seed."""

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from areas import maps
from config.errors import DomainError
from demo.plan import (
    DEFAULT_INCOMPLETE_PROVINCES,
    DEFAULT_PROVINCE,
    DEFAULT_UNCOVERED_COMMUNES,
    DEMO_COMMUNE,
    NATIONAL_TEAMS,
    Scale,
    demo_communes,
)
from demo.services import demo_generate
from teams.models import Team


class Command(BaseCommand):
    help = (
        "Create demo hamlets, teams and members on the real communes (run load_areas first). "
        f"--scale commune: a few Hà Nội communes including {DEMO_COMMUNE} (the README demo); province: every "
        f"commune of one province (--province, default {DEFAULT_PROVINCE}); national: all 3,321 communes with exactly "
        f"{NATIONAL_TEAMS:,} teams and about 400,000 members (the ministry's Q1/2024 figures). The same seed gives "
        "the same rows. Refuses a database that already has hamlets, teams or members unless --reset, which "
        "deletes every member, team, hamlet and dirty mark first (with the teams' activities and their leader logins)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=[s.value for s in Scale], default=Scale.COMMUNE)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--province", dest="province_code", help="2-digit province code (province scale)")
        parser.add_argument(
            "--uncovered-communes",
            type=float,
            default=DEFAULT_UNCOVERED_COMMUNES,
            help=f"share of communes left with no team (default {DEFAULT_UNCOVERED_COMMUNES}; 0 covers all)",
        )
        parser.add_argument(
            "--incomplete-provinces",
            type=int,
            default=DEFAULT_INCOMPLETE_PROVINCES,
            help="how many provinces hold the uncovered communes; every other province is fully covered "
            f"(default {DEFAULT_INCOMPLETE_PROVINCES})",
        )
        parser.add_argument(
            "--map",
            dest="map_key",
            choices=list(maps.MAPS),
            default=maps.CURRENT.key,
            help="plan on this map; 2024 plans on the 63-province map and carries the registry to today's communes "
            "through the crosswalk (province and national scales)",
        )
        parser.add_argument(
            "--as-of",
            type=dt.date.fromisoformat,
            help="date the registry up to this day (YYYY-MM-DD) and keep its figures as that day's snapshot, e.g. "
            "--map 2024 --as-of 2024-03-31 for the ministry's Q1/2024 figures",
        )
        parser.add_argument("--reset", action="store_true", help="delete every member, team and hamlet first")
        parser.add_argument("--force", action="store_true", help="allow --reset outside DEBUG (never in production)")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing (and succeed) when the registry already has data"
        )

    def handle(
        self,
        *args,
        scale,
        seed,
        province_code,
        uncovered_communes,
        incomplete_provinces,
        reset,
        force,
        map_key,
        as_of,
        **kw,
    ):
        if reset and not settings.DEBUG and not force:
            raise CommandError("--reset deletes the whole registry: it runs only with DEBUG on (or --force).")
        if kw.get("if_empty") and not reset and Team.objects.exists():
            self.stdout.write("The registry already has data; nothing generated (--if-empty).")
            return
        try:
            on_map = maps.MAPS[map_key]
            if as_of and as_of > timezone.localdate():
                raise CommandError("--as-of may not be in the future.")
            total = demo_communes(scale=scale, province_code=province_code, on_map=on_map).count()
            with tqdm(total=total, desc="communes", unit="commune", file=self.stderr) as bar:
                summary = demo_generate(
                    scale=scale,
                    seed=seed,
                    province_code=province_code,
                    uncovered_communes=uncovered_communes,
                    incomplete_provinces=incomplete_provinces,
                    reset=reset,
                    progress=bar.update,
                    on_map=on_map,
                    as_of=as_of,
                )
        except DomainError as exc:
            messages = [f"{name}: {m}" for name, ms in exc.fields.items() for m in ms] or [str(exc.message)]
            raise CommandError("; ".join(messages)) from None
        s = summary
        self.stdout.write(self.style.SUCCESS(f"Demo data, {s.scale} scale, seed {s.seed}, on the {map_key} map:"))
        self.stdout.write(
            f"  teams:     {s.teams:,} ({s.commune_teams:,} commune-level, {s.hamlet_teams:,} hamlet-level)"
        )
        self.stdout.write(f"  members:   {s.members:,} ({s.min_team_size}-{s.max_team_size} per team)")
        self.stdout.write(f"  hamlets:   {s.hamlets:,} ({s.hamlet_teams:,} with a team)")
        self.stdout.write(f"  communes:  {s.covered_communes:,} of {s.communes:,} covered")
        self.stdout.write(f"  provinces: {s.complete_provinces} of {s.provinces} complete")
