"""Demo writing: the plan's hamlets, teams and members, built by their owners' services and written with COPY;
then the owners derive what hangs on them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from areas import maps
from areas.models import Commune, CommuneLink, Hamlet, OldCommuneSource
from areas.names import clean_name, name_key
from areas.services import hamlet_build
from config.copying import copy_insert
from demo.people import People, new_uuid, team_members
from demo.plan import DemoPlan
from members.models import Member
from members.services import teams_recount
from teams.models import Team
from teams.services import team_build

# Communes written per round of bulk inserts: large enough for big batches, small enough to keep memory flat.
_CHUNK = 60

_ESTABLISHED_FROM = dt.date(2023, 3, 1)
_ESTABLISHED_TO = dt.date(2025, 6, 30)


# Registries set up on the 2024 map date from the programme's start (2021) to the day they describe.
_ESTABLISHED_FROM_2024 = dt.date(2021, 6, 1)


class _Crosswalk:
    """Where the 2024 map's rows land on the 2025 map: a hamlet in a commune that went whole goes to its
    successor, one in a divided commune to one of its successors (drawn); a commune-level team to the default
    successor, keeping its old commune. A hamlet name already used in the new commune gets the old commune's
    name after it, as communes do when merged hamlets share a name."""

    def __init__(self, plan: DemoPlan, rng):
        self.rng = rng
        self.links: dict[int, list[CommuneLink]] = {}
        olds = [p.commune.pk for p in plan.communes]
        for link in (
            CommuneLink.objects.filter(old_commune__in=olds)
            .select_related("new_commune")
            .order_by("old_commune_id", "new_commune__code")
        ):
            self.links.setdefault(link.old_commune_id, []).append(link)
        self.names: dict[int, set[str]] = {}

    def default(self, old: Commune) -> Commune:
        return next(link.new_commune for link in self.links[old.pk] if link.is_default)

    def hamlet(self, old: Commune, name: str, kind: str) -> Hamlet:
        links = self.links[old.pk]
        new = links[0].new_commune if len(links) == 1 else self.rng.choice(links).new_commune
        taken = self.names.setdefault(new.pk, set())
        unique, n = name, 1
        while name_key(unique) in taken:
            n += 1
            unique = f"{name} {old.short_name}" if n == 2 else f"{name} {old.short_name} {n}"
        taken.add(name_key(unique))
        return hamlet_build(commune=new, name=unique, kind=kind, old_commune_id=old.pk, source=OldCommuneSource.IMPORT)


def plan_write(plan: DemoPlan, progress: Callable[[int], None] | None = None, as_of: dt.date | None = None) -> None:
    """Insert the plan's rows, a chunk of communes at a time, drawing the people from the plan's generator.

    A plan on the 2024 map is carried through the crosswalk (_Crosswalk) with its old communes recorded, and
    dated up to `as_of` (teams set up and members joined by then).
    """
    rng = plan.rng
    people = People(rng, last_join=as_of) if as_of else People(rng)
    carried = _Crosswalk(plan, rng) if plan.on_map is maps.OLD else None
    first = _ESTABLISHED_FROM_2024 if carried else _ESTABLISHED_FROM
    days = ((as_of or _ESTABLISHED_TO) - first).days
    for start in range(0, len(plan.communes), _CHUNK):
        chunk = plan.communes[start : start + _CHUNK]
        hamlets = {}
        for p in chunk:
            for h in p.hamlets:
                if carried:
                    hamlets[id(h)] = carried.hamlet(p.commune, clean_name(h.name), h.kind)
                else:
                    hamlets[id(h)] = hamlet_build(commune=p.commune, name=clean_name(h.name), kind=h.kind)
        copy_insert(Hamlet, hamlets.values())
        teams: list[Team] = []
        members: list[Member] = []
        for commune_plan in chunk:
            commune = commune_plan.commune
            slots = [(None, commune_plan.team_size)] if commune_plan.team_size else []
            slots += [(h, h.team_size) for h in commune_plan.hamlets if h.team_size]
            for hamlet_plan, size in slots:
                name = clean_name(f"Tổ Công nghệ số cộng đồng {hamlet_plan.name if hamlet_plan else commune.name}")
                hamlet = hamlets[id(hamlet_plan)] if hamlet_plan else None
                home = commune
                if carried:
                    home = hamlet.commune if hamlet else carried.default(commune)
                team = team_build(
                    team_id=new_uuid(rng),
                    commune=home,
                    hamlet=hamlet,
                    name=name,
                    established_on=first + dt.timedelta(days=rng.randint(0, days)),
                    decision_number=f"{rng.randint(1, 999)}/QĐ-UBND",
                    old_commune=commune if carried and not hamlet else None,
                )
                teams.append(team)
                members += team_members(
                    people, team, size, hamlet_level=hamlet_plan is not None, province_code=commune.province.code
                )
        copy_insert(Team, teams)
        copy_insert(Member, members)
        # Member count, size status and leader are the members app's rule: one set-based UPDATE per chunk.
        teams_recount([team.pk for team in teams])
        if progress:
            progress(len(chunk))
