"""Reads of provinces, communes and hamlets: through the caller's scope, or by code for the command line.

Provinces and communes are read on one map (areas.maps): the current one unless the caller names another.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from areas import maps
from areas.filters import CommuneFilter, HamletFilter
from areas.models import AreaSource, Commune, CommuneLink, Hamlet, Province
from config.errors import invalid
from config.filtering import filtered


def province_list(*, user, on_map: maps.Map = maps.DEFAULT) -> QuerySet[Province]:
    """Provinces of the map in scope, by code, with the province each old one became."""
    return Province.objects.current(on_map.day()).visible_to(user).select_related("successor").order_by("code")


def commune_list(*, user, filters: dict | None = None, on_map: maps.Map = maps.DEFAULT) -> QuerySet[Commune]:
    """Communes of the map in scope, by code, with their province (and district, on the old map)."""
    qs = Commune.objects.current(on_map.day()).visible_to(user).select_related("province", "district").order_by("code")
    return filtered(CommuneFilter, filters or {}, qs)


def map_source(on_map: maps.Map = maps.CURRENT) -> AreaSource | None:
    """The last load of a map's units: which dataset and version the figures are counted on."""
    return AreaSource.objects.filter(valid_from=on_map.starts).order_by("-loaded_at").first()


def commune_points(*, user, province_code: str | None = None) -> dict[str, tuple[str, float | None, float | None]]:
    """Where each current commune in scope (of one province) lies: code -> (name, latitude, longitude); None
    where the dataset gives no coordinates. One query."""
    qs = Commune.objects.current().visible_to(user)
    if province_code:
        qs = qs.filter(province__code=province_code)
    return {code: (name, lat, lon) for code, name, lat, lon in qs.values_list("code", "name", "latitude", "longitude")}


def commune_links(*, commune: Commune, direction: str) -> QuerySet[CommuneLink]:
    """The crosswalk from an old commune to its successors ("successors"), or from a new one to its
    predecessors ("predecessors"), each with the commune at the other end, by that commune's code.

    Whoever may see a commune may see what it became or was made of: no old commune is split across
    new provinces, so the other end is always inside the same new province.
    """
    if direction == "successors":
        links, other = CommuneLink.objects.filter(old_commune=commune), "new_commune"
    else:
        links, other = CommuneLink.objects.filter(new_commune=commune), "old_commune"
    return links.select_related(other, f"{other}__province", f"{other}__district").order_by(f"{other}__code")


def hamlet_list(*, user, filters: dict | None = None) -> QuerySet[Hamlet]:
    """Hamlets in scope, by commune then name, with their commune and province."""
    qs = (
        Hamlet.objects.visible_to(user)
        .select_related("commune", "province", "old_commune")
        .order_by("commune_id", "name_key", "id")
    )
    return filtered(HamletFilter, filters or {}, qs)


def units_by_code(*, province_code: str | None = None, commune_code: str | None = None) -> tuple:
    """The current province and commune with these codes (None where no code is given); an unknown code is a 400."""
    province = commune = None
    if province_code:
        province = Province.objects.current().filter(code=province_code).first()
        if province is None:
            raise invalid(province=_("Unknown province code."))
    if commune_code:
        commune = Commune.objects.current().filter(code=commune_code).first()
        if commune is None:
            raise invalid(commune=_("Unknown commune code."))
    return province, commune
