"""Placing the rows of an old spreadsheet: a row that names an old-map commune lands in a current commune.

A file names its place in one of three ways (columns):
- `commune_code`: a current commune, as always;
- `old_commune_code`: a commune of the 2024 map, by code;
- `old_commune`, `old_district`, `old_province`: a commune of the 2024 map by its names, in any spelling
  the name matching accepts (Unicode form, tone placement, case, with or without the kind word).

A commune that went whole into one new commune lands there. A divided one lands where the row's hamlet
decides (the one candidate that already has a hamlet of that name), or in the current commune the row
also names; otherwise the row is reported with its candidates, never guessed, unless the caller accepts
the default successor, and then the row is flagged. The imports (areas.services.hamlets_import and the
registry import) ask this module; neither reads the crosswalk itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from areas import maps
from areas.models import Commune, CommuneLink, District, Hamlet, Province
from areas.names import clean_name, fold, has_diacritics, name_key
from config.spreadsheets import RowError

OLD_CODE = "old_commune_code"
OLD_NAMES = ("old_commune", "old_district", "old_province")
OLD_COLUMNS = (OLD_CODE, *OLD_NAMES)


def add_accept_default_argument(parser) -> None:
    """The import commands' --accept-default-successor (accept_default for the import services)."""
    parser.add_argument(
        "--accept-default-successor",
        action="store_true",
        help="place the rows of a divided old commune that no hamlet decides in its default successor "
        "(each such row is listed as a warning)",
    )


def location_columns_missing(header: list[str], current: str = "commune_code") -> str | None:
    """The message for a header that names no place (None when it names one in a way we read)."""
    if current in header or OLD_CODE in header or all(c in header for c in OLD_NAMES):
        return None
    return _(
        "Name each row's commune: a column %(current)s (the current code), or %(code)s (its code on the 2024 map), "
        "or %(names)s (its names on the 2024 map)."
    ) % {"current": current, "code": OLD_CODE, "names": ", ".join(OLD_NAMES)}


@dataclass
class Place:
    """Where a row lands: `commune`, once decided; `old` is the old commune the file named (or None)."""

    old: Commune | None
    commune: Commune | None
    candidates: list[Commune] = field(default_factory=list)
    default: Commune | None = None
    by_default: bool = False  # landed in the default successor because the caller accepted it: flag the row
    column: str = "commune_code"  # the column that named the place, for the row's errors


# The kind words a unit's name may be written with or without ("Thành phố Hà Nội", "Hà Nội").
_KIND_WORDS = sorted(
    (name_key(w) for w in ("Thành phố", "Tỉnh", "Quận", "Huyện đảo", "Huyện", "Thị xã", "Thị trấn", "Xã", "Phường")),
    key=len,
    reverse=True,
)
_FOLDED_KIND_WORDS = sorted({fold(w) for w in _KIND_WORDS}, key=len, reverse=True)


def _bare(key: str, words) -> str:
    """A name key without its leading kind word, unless the name is nothing else ("Phường 1" keeps its word)."""
    for word in words:
        rest = key.removeprefix(word + " ")
        if rest != key and rest and not rest.isdigit():
            return rest
    return key


def _keys(unit) -> set[str]:
    keys = {name_key(unit.name), name_key(unit.short_name)}
    return keys | {_bare(k, _KIND_WORDS) for k in keys}


def _folded(unit) -> set[str]:
    keys = {fold(unit.name), fold(unit.short_name)}
    return keys | {_bare(k, _FOLDED_KIND_WORDS) for k in keys}


class _NameIndex:
    """Old units by name within their parent, matched with tones when typed with them, else without."""

    def __init__(self, units, parent: str):
        self.exact: dict[tuple, list] = defaultdict(list)
        self.folded: dict[tuple, list] = defaultdict(list)
        for unit in units:
            owner = getattr(unit, parent) if parent else None
            for key in _keys(unit):
                self.exact[(owner, key)].append(unit)
            for key in _folded(unit):
                self.folded[(owner, key)].append(unit)

    def find(self, owner, text: str) -> list:
        key = name_key(text)
        found = self.exact.get((owner, key)) or self.exact.get((owner, _bare(key, _KIND_WORDS)), [])
        if not found and not has_diacritics(text):
            folded = fold(text)
            found = self.folded.get((owner, folded)) or self.folded.get((owner, _bare(folded, _FOLDED_KIND_WORDS)), [])
        return list({u.pk: u for u in found}.values())


class OldUnitLocator:
    """Reads the old map and the crosswalk once for a whole file (four queries), then places rows in memory."""

    def __init__(self, rows: list[tuple[int, dict]], current: str = "commune_code"):
        self.current = current
        day = maps.OLD.day()
        wants_names = any(any(row.get(c) for c in OLD_NAMES) for _, row in rows)
        codes = {row.get(OLD_CODE, "").strip() for _, row in rows} - {""}
        old = Commune.objects.current(day)
        if wants_names:
            self.provinces = _NameIndex(Province.objects.current(day), "")
            self.districts = _NameIndex(District.objects.current(day), "province_id")
            communes = list(old)
            self.communes = _NameIndex(communes, "district_id")
        else:
            communes = list(old.filter(code__in=codes)) if codes else []
        self.by_code = {c.code: c for c in communes}
        links = CommuneLink.objects.filter(old_commune__in=[c.pk for c in communes]).select_related("new_commune")
        self.links: dict[int, list[CommuneLink]] = defaultdict(list)
        for link in links:
            self.links[link.old_commune_id].append(link)

    def _old_commune(self, number: int, row: dict, errors: list[RowError]) -> Commune | None:
        code = row.get(OLD_CODE, "").strip()
        if code:
            found = self.by_code.get(code)
            if found is None:
                errors.append(RowError(number, OLD_CODE, _("No commune with this code on the 2024 map.")))
            return found
        names = {c: clean_name(row.get(c, "")) for c in OLD_NAMES}
        if not any(names.values()):
            return None
        for column in OLD_NAMES:
            if not names[column]:
                errors.append(RowError(number, column, _("Give the commune, district and province together.")))
                return None
        province = self._one(number, "old_province", self.provinces.find(None, names["old_province"]), errors)
        if province is None:
            return None
        district = self._one(number, "old_district", self.districts.find(province.pk, names["old_district"]), errors)
        if district is None:
            return None
        return self._one(number, "old_commune", self.communes.find(district.pk, names["old_commune"]), errors)

    @staticmethod
    def _one(number: int, column: str, found: list, errors: list[RowError]):
        if len(found) == 1:
            return found[0]
        if not found:
            errors.append(RowError(number, column, _("No unit with this name on the 2024 map, where it should be.")))
        else:
            listed = ", ".join(f"{u.code} {u.name}" for u in sorted(found, key=lambda u: u.code))
            errors.append(
                RowError(
                    number,
                    column,
                    _("This name fits several units: %(units)s. Write it with its tones.") % {"units": listed},
                )
            )
        return None

    def place(self, number: int, row: dict, current: Commune | None, errors: list[RowError]) -> Place | None:
        """The row's place, with `current` the current commune it names (already looked up) or None.

        None when the row names no old commune (it is placed by `current` alone, as before) or when it
        named one wrongly (errors added).
        """
        before = len(errors)
        old = self._old_commune(number, row, errors)
        if old is None:
            return Place(old=None, commune=current, column=self.current) if len(errors) == before and current else None
        column = OLD_CODE if row.get(OLD_CODE, "").strip() else "old_commune"
        links = sorted(self.links.get(old.pk, []), key=lambda link: link.new_commune.code)
        candidates = [link.new_commune for link in links]
        default = next((link.new_commune for link in links if link.is_default), None)
        if current is not None:
            if current.pk not in {c.pk for c in candidates}:
                errors.append(RowError(number, self.current, self._not_a_successor(old, candidates)))
                return None
            return Place(old=old, commune=current, candidates=candidates, default=default, column=self.current)
        whole = len(links) == 1
        return Place(
            old=old, commune=candidates[0] if whole else None, candidates=candidates, default=default, column=column
        )

    @staticmethod
    def _not_a_successor(old: Commune, candidates: list[Commune]) -> str:
        return _("Commune %(old)s of the 2024 map went into %(new)s, not into this commune.") % {
            "old": f"{old.code} {old.name}",
            "new": ", ".join(f"{c.code} {c.name}" for c in candidates),
        }


def decide_divided(places: dict[int, Place], hamlet_keys: dict[int, str], *, accept_default: bool) -> list[RowError]:
    """Decide the rows in divided communes: where their hamlet already is, or (accept_default) the default.

    places: {row number: Place}; hamlet_keys: {row number: the row's hamlet name key ("" for none).
    One query: the active hamlets of those names in the candidate communes. Returns the rows left undecided.
    """
    open_rows = {n: p for n, p in places.items() if p.commune is None}
    if not open_rows:
        return []
    candidate_ids = {c.pk for p in open_rows.values() for c in p.candidates}
    keys = {hamlet_keys.get(n, "") for n in open_rows} - {""}
    existing = (
        set(
            Hamlet.objects.filter(commune_id__in=candidate_ids, name_key__in=keys, active=True).values_list(
                "commune_id", "name_key"
            )
        )
        if keys
        else set()
    )
    errors = []
    for number, place in sorted(open_rows.items()):
        key = hamlet_keys.get(number, "")
        holding = [c for c in place.candidates if (c.pk, key) in existing]
        if len(holding) == 1:
            place.commune = holding[0]
        elif accept_default and place.default is not None:
            place.commune, place.by_default = place.default, True
        else:
            listed = ", ".join(f"{c.code} {c.name}" for c in place.candidates)
            errors.append(
                RowError(
                    number,
                    place.column,
                    _(
                        "Commune %(old)s of the 2024 map was divided between %(new)s; name the current commune in "
                        "column commune_code, or accept its default successor %(default)s."
                    )
                    % {
                        "old": f"{place.old.code} {place.old.name}",
                        "new": listed,
                        "default": f"{place.default.code} {place.default.name}" if place.default else "-",
                    },
                )
            )
    return errors


def by_default_warning(number: int, place: Place) -> RowError:
    """The flag on a row placed in the default successor of a divided commune."""
    return RowError(
        number,
        place.column,
        _("Placed in %(new)s, the default successor of divided commune %(old)s: check it.")
        % {"new": f"{place.commune.code} {place.commune.name}", "old": f"{place.old.code} {place.old.name}"},
    )


@dataclass
class Placed:
    places: dict[int, Place]  # row number -> its place, for every row that could be placed
    errors: list[RowError]
    warnings: list[RowError]  # rows placed in a default successor (accept_default)


def place_rows(
    rows: list[tuple[int, dict]],
    *,
    hamlet_column: str,
    accept_default: bool = False,
    current_column: str = "commune_code",
    current_message: str | None = None,
) -> Placed:
    """Place every row of a file in a current commune, from its current or old-map columns (see the module).

    Queries: the current communes named; with old columns, the old communes (and, by name, the old provinces
    and districts) and their links; with divided communes, the hamlets that decide them.
    """
    codes = {row.get(current_column, "") for _, row in rows} - {""}
    current = {c.code: c for c in Commune.objects.current().filter(code__in=codes)} if codes else {}
    uses_old = any(any(row.get(c, "").strip() for c in OLD_COLUMNS) for _, row in rows)
    locator = OldUnitLocator(rows, current_column) if uses_old else None
    places: dict[int, Place] = {}
    errors: list[RowError] = []
    for number, row in rows:
        before = len(errors)
        code = row.get(current_column, "")
        commune = current.get(code) if code else None
        if code and commune is None:
            errors.append(RowError(number, current_column, current_message or _("No commune with this code.")))
            continue
        if locator is not None:
            place = locator.place(number, row, commune, errors)
        else:
            place = Place(old=None, commune=commune, column=current_column) if commune else None
        if place is not None:
            places[number] = place
        elif len(errors) == before:  # the row names no place at all
            errors.append(RowError(number, current_column, current_message or _("No commune with this code.")))
    hamlet_keys = {n: name_key(row.get(hamlet_column, "")) for n, row in rows if clean_name(row.get(hamlet_column, ""))}
    undecided = decide_divided(places, hamlet_keys, accept_default=accept_default)
    for error in undecided:
        places.pop(error.row, None)
    warnings = [by_default_warning(n, p) for n, p in sorted(places.items()) if p.by_default]
    return Placed(places=places, errors=errors + undecided, warnings=warnings)
