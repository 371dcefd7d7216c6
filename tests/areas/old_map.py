"""A small old (pre-2025) map beside the `world` fixture's current one, with codes that collide with it.

Old provinces 01 (became A, which is also 01), 28 (also became A) and 03 (became B). Old communes:
- 00001 Phường Phúc Xá (district 001 of old 01): whole into A1, whose code is also 00001;
- 00004 Phường Trúc Bạch (district 001): divided between A1 (its default successor) and A2;
- 09999 Xã Cũ Hà Tây (district 270 of old 28): whole into A2;
- 00500 Xã Cũ Miền Núi (district 040 of old 03): whole into B1;
- 318 Huyện Bạch Long Vĩ, an island district without communes (district 318 of old 03): whole into B1.
"""

from __future__ import annotations

from types import SimpleNamespace

from areas.models import MAP_2024, MAP_2025, CommuneKind, CommuneLink, District, DistrictKind
from areas.names import fold, name_key
from tests.factories import CommuneFactory, ProvinceFactory

OLD = {"valid_from": MAP_2024, "valid_to": MAP_2025}


def _district(code: str, name: str, province) -> District:
    return District.objects.create(
        code=code,
        name=name,
        short_name=name,
        kind=DistrictKind.RURAL_DISTRICT,
        province=province,
        name_key=name_key(name),
        **OLD,
    )


def build_old_map(world) -> SimpleNamespace:
    p01 = ProvinceFactory(code="01", name="Thành phố Hà Nội Cũ", successor=world.a, **OLD)
    p28 = ProvinceFactory(code="28", name="Tỉnh Hà Tây", successor=world.a, **OLD)
    p03 = ProvinceFactory(code="03", name="Tỉnh Miền Núi Cũ", successor=world.b, **OLD)
    d001 = _district("001", "Quận Ba Đình", p01)
    d270 = _district("270", "Huyện Ba Vì", p28)
    d040 = _district("040", "Huyện Miền Núi", p03)
    d318 = _district("318", "Huyện Bạch Long Vĩ", p03)

    def commune(code, name, province, district, kind=CommuneKind.COMMUNE):
        return CommuneFactory(
            code=code,
            name=name,
            province=province,
            district=district,
            kind=kind,
            name_key=name_key(name),
            name_folded=fold(name),
            **OLD,
        )

    c = SimpleNamespace(
        phuc_xa=commune("00001", "Phường Phúc Xá", p01, d001, CommuneKind.WARD),
        truc_bach=commune("00004", "Phường Trúc Bạch", p01, d001, CommuneKind.WARD),
        ha_tay=commune("09999", "Xã Cũ Hà Tây", p28, d270),
        mien_nui=commune("00500", "Xã Cũ Miền Núi", p03, d040),
        island=commune("318", "Huyện Bạch Long Vĩ", p03, d318, CommuneKind.ISLAND_DISTRICT),
    )
    CommuneLink.objects.bulk_create(
        [
            CommuneLink(old_commune=c.phuc_xa, new_commune=world.a1, whole=True, is_default=True),
            CommuneLink(old_commune=c.truc_bach, new_commune=world.a1, whole=False, is_default=True),
            CommuneLink(old_commune=c.truc_bach, new_commune=world.a2, whole=False, is_default=False),
            CommuneLink(old_commune=c.ha_tay, new_commune=world.a2, whole=True, is_default=True),
            CommuneLink(old_commune=c.mien_nui, new_commune=world.b1, whole=True, is_default=True),
            CommuneLink(old_commune=c.island, new_commune=world.b1, whole=True, is_default=True),
        ]
    )
    return SimpleNamespace(provinces=SimpleNamespace(p01=p01, p28=p28, p03=p03), communes=c)
