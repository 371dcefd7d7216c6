"""Demo writing: the plan's hamlets, teams and members, built as rows by their owners' services and written with
COPY, each team with the figures its members give it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from areas import maps
from areas.models import Commune, CommuneLink, OldCommuneSource
from areas.names import clean_name, name_key
from areas.services import HAMLET_ROW, hamlet_row
from config.copying import copy_rows
from demo.people import People, TeamDraft, new_uuid, team_members
from demo.plan import DemoPlan
from members.services import MEMBER_ROW, new_team_figures
from teams.services import TEAM_ROW, SizeRanges, team_row

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

    def hamlet(self, old: Commune, name: str, kind: str) -> tuple[Commune, tuple]:
        """The 2025 commune the old commune's hamlet lands in, and the hamlet's row."""
        links = self.links[old.pk]
        new = links[0].new_commune if len(links) == 1 else self.rng.choice(links).new_commune
        taken = self.names.setdefault(new.pk, set())
        unique, n = name, 1
        while name_key(unique) in taken:
            n += 1
            unique = f"{name} {old.short_name}" if n == 2 else f"{name} {old.short_name} {n}"
        taken.add(name_key(unique))
        return new, hamlet_row(
            commune=new, name=unique, kind=kind, old_commune_id=old.pk, source=OldCommuneSource.IMPORT
        )


def plan_write(plan: DemoPlan, progress: Callable[[int], None] | None = None, as_of: dt.date | None = None) -> None:
    """Insert the plan's rows, a chunk of communes at a time, drawing the people from the plan's generator.

    The rows are the owners' tuples (hamlet_row, team_row, member_row), written with COPY: the members as they
    are drawn, so that PostgreSQL stores them while the next are drawn, then their teams, each with the member
    count, size status and leader its members give it (new_team_figures), so that no team row is written twice.
    The caller checks the foreign keys at the end (config.copying.foreign_keys_checked_once).

    A plan on the 2024 map is carried through the crosswalk (_Crosswalk) with its old communes recorded, and
    dated up to `as_of` (teams set up and members joined by then).
    """
    writer = _Writer(plan, as_of)
    for start in range(0, len(plan.communes), _CHUNK):
        chunk = plan.communes[start : start + _CHUNK]
        hamlets = writer.hamlets(chunk)
        teams: list[tuple] = []
        copy_rows(MEMBER_ROW, writer.members(chunk, hamlets, teams))
        copy_rows(TEAM_ROW, teams)
        if progress:
            progress(len(chunk))


class _Writer:
    def __init__(self, plan: DemoPlan, as_of: dt.date | None):
        self.rng = plan.rng
        self.people = People(self.rng, last_join=as_of) if as_of else People(self.rng)
        self.carried = _Crosswalk(plan, self.rng) if plan.on_map is maps.OLD else None
        self.first = _ESTABLISHED_FROM_2024 if self.carried else _ESTABLISHED_FROM
        self.days = ((as_of or _ESTABLISHED_TO) - self.first).days
        self.sizes = SizeRanges()

    def hamlets(self, chunk) -> dict[int, tuple[int, Commune]]:
        """Write the chunk's hamlets; for each planned hamlet (by id()), its key and the commune it is in."""
        rows: list[tuple] = []
        communes: list[tuple[int, Commune]] = []
        for p in chunk:
            for h in p.hamlets:
                if self.carried:
                    commune, row = self.carried.hamlet(p.commune, clean_name(h.name), h.kind)
                else:
                    commune, row = p.commune, hamlet_row(commune=p.commune, name=clean_name(h.name), kind=h.kind)
                communes.append((id(h), commune))
                rows.append(row)
        keys = copy_rows(HAMLET_ROW, rows)
        return {plan_id: (key, commune) for (plan_id, commune), key in zip(communes, keys, strict=True)}

    def members(self, chunk, hamlets: dict[int, tuple[int, Commune]], teams: list[tuple]) -> Iterator[tuple]:
        """The chunk's members, drawn team by team; each team's row goes to `teams`."""
        rng, carried = self.rng, self.carried
        for commune_plan in chunk:
            commune = commune_plan.commune
            slots = [(None, commune_plan.team_size)] if commune_plan.team_size else []
            slots += [(h, h.team_size) for h in commune_plan.hamlets if h.team_size]
            for hamlet_plan, size in slots:
                name = clean_name(f"Tổ Công nghệ số cộng đồng {hamlet_plan.name if hamlet_plan else commune.name}")
                hamlet_id, home = None, commune
                if hamlet_plan:
                    hamlet_id, home = hamlets[id(hamlet_plan)]
                elif carried:
                    home = carried.default(commune)
                draft = TeamDraft(
                    id=new_uuid(rng),
                    province_id=home.province_id,
                    commune_id=home.pk,
                    established_on=self.first + dt.timedelta(days=rng.randint(0, self.days)),
                )
                decision_number = f"{rng.randint(1, 999)}/QĐ-UBND"
                rows = team_members(
                    self.people, draft, size, hamlet_level=hamlet_plan is not None, province_code=commune.province.code
                )
                teams.append(
                    team_row(
                        team_id=draft.id,
                        commune=home,
                        hamlet_id=hamlet_id,
                        name=name,
                        established_on=draft.established_on,
                        decision_number=decision_number,
                        old_commune_id=commune.pk if carried and not hamlet_plan else None,
                        figures=new_team_figures(rows, self.sizes, home.province_id),
                    )
                )
                yield from rows
