"""Demo writing: the plan's hamlets, teams and members in bulk, then the owners derive what hangs on them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from areas.models import Hamlet
from areas.names import clean_name
from areas.services import hamlet_build
from demo.people import People, new_uuid, team_members
from demo.plan import DemoPlan
from members.models import Member
from members.services import teams_recount
from teams.models import Team
from teams.services import team_build

_BATCH = 5000
# Communes written per round of bulk inserts: large enough for big batches, small enough to keep memory flat.
_CHUNK = 60

_ESTABLISHED_FROM = dt.date(2023, 3, 1)
_ESTABLISHED_TO = dt.date(2025, 6, 30)


def plan_write(plan: DemoPlan, progress: Callable[[int], None] | None = None) -> None:
    """Insert the plan's rows, a chunk of communes at a time, drawing the people from the plan's generator."""
    rng = plan.rng
    people = People(rng)
    days = (_ESTABLISHED_TO - _ESTABLISHED_FROM).days
    for start in range(0, len(plan.communes), _CHUNK):
        chunk = plan.communes[start : start + _CHUNK]
        hamlets = {}
        for p in chunk:
            for h in p.hamlets:
                hamlets[id(h)] = hamlet_build(commune=p.commune, name=clean_name(h.name), kind=h.kind)
        Hamlet.objects.bulk_create(hamlets.values(), batch_size=_BATCH)
        teams: list[Team] = []
        members: list[Member] = []
        for commune_plan in chunk:
            commune = commune_plan.commune
            slots = [(None, commune_plan.team_size)] if commune_plan.team_size else []
            slots += [(h, h.team_size) for h in commune_plan.hamlets if h.team_size]
            for hamlet_plan, size in slots:
                name = clean_name(f"Tổ Công nghệ số cộng đồng {hamlet_plan.name if hamlet_plan else commune.name}")
                team = team_build(
                    team_id=new_uuid(rng),
                    commune=commune,
                    hamlet=hamlets[id(hamlet_plan)] if hamlet_plan else None,
                    name=name,
                    established_on=_ESTABLISHED_FROM + dt.timedelta(days=rng.randint(0, days)),
                    decision_number=f"{rng.randint(1, 999)}/QĐ-UBND",
                )
                teams.append(team)
                members += team_members(
                    people, team, size, hamlet_level=hamlet_plan is not None, province_code=commune.province.code
                )
        Team.objects.bulk_create(teams, batch_size=_BATCH)
        Member.objects.bulk_create(members, batch_size=_BATCH)
        # Member count, size status and leader are the members app's rule: one set-based UPDATE per chunk.
        teams_recount([team.pk for team in teams])
        if progress:
            progress(len(chunk))
