"""Writes on hamlets. Every write marks its commune for coverage in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Count, Min, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.audit import audit_bulk, audit_record, state
from accounts.scoping import ScopedQuerySet, can_write
from areas import maps
from areas.changes import commune_changed, communes_changed
from areas.models import Commune, CommuneLink, Hamlet, HamletKind, HamletQuerySet, OldCommuneSource
from areas.names import name_key, validate_name
from areas.old_units import place_rows
from config.copying import RowShape
from config.errors import Conflict, DomainError, NotFound, invalid
from config.spreadsheets import RowError

HAMLET_NAME_MAX = 100
_HAMLET_NAME_MESSAGES = (
    gettext_lazy("The hamlet name may not be blank."),
    gettext_lazy("The hamlet name may have at most %(max)d characters."),
)

# Other apps register "is this hamlet in use?" checks here (teams does, in its AppConfig.ready),
# so that areas never imports them. Each returns a message when the hamlet may not be removed.
HAMLET_REMOVAL_GUARDS: list[Callable[[Hamlet], str | None]] = []


def validate_hamlet_name(raw: str) -> str:
    """The cleaned name, or a DomainError on `name`."""
    return validate_name(raw, field="name", max_length=HAMLET_NAME_MAX, messages=_HAMLET_NAME_MESSAGES)


def commune_get_writable(*, actor, commune_code: str, writes: type[ScopedQuerySet] = HamletQuerySet) -> Commune:
    """The current commune with this code if the actor may write `writes` rows in it (400 on `commune` otherwise)."""
    commune = Commune.objects.current().visible_to(actor).filter(code=commune_code).first()
    if commune is None or not can_write(actor, writes):
        raise invalid(commune=_("No commune with this code in your area."))
    return commune


# --- Old communes (the 2025 crosswalk) -----------------------------------------------------------

UNSET: object = object()


def sole_predecessors(commune_ids=None) -> dict[int, int]:
    """{commune id: its only old-map commune} for those of these communes (all when None) made of exactly
    one old commune. There the crosswalk makes a hamlet's or a team's old commune certain.
    """
    links = (
        CommuneLink.objects.all()
        if commune_ids is None
        else CommuneLink.objects.filter(new_commune_id__in=list(commune_ids))
    )
    rows = (
        links.order_by()
        .values("new_commune_id")
        .annotate(n=Count("id"), old=Min("old_commune_id"))
        .filter(n=1)
        .values_list("new_commune_id", "old")
    )
    return dict(rows)


def old_commune_of(*, commune: Commune, old_code: str) -> Commune:
    """The old-map commune with this code if it is a predecessor of `commune` (400 on `old_commune` otherwise)."""
    found = Commune.objects.current(maps.OLD.day()).filter(code=old_code, successor_links__new_commune=commune).first()
    if found is None:
        raise invalid(
            old_commune=_("Commune %(code)s of the 2024 map is not one of the communes %(name)s was made of.")
            % {"code": old_code, "name": commune.name}
        )
    return found


def hamlet_build_placed(
    *, commune: Commune, name: str, kind: str, key: str, old: Commune | None, certain: dict[int, int]
) -> Hamlet:
    """A new hamlet from an import row placed by areas.old_units: it keeps the file's old commune, or the one
    the crosswalk makes certain (certain: sole_predecessors of the file's communes)."""
    if old is not None:
        return hamlet_build(
            commune=commune, name=name, kind=kind, key=key, old_commune_id=old.pk, source=OldCommuneSource.IMPORT
        )
    return hamlet_build(
        commune=commune,
        name=name,
        kind=kind,
        key=key,
        old_commune_id=certain.get(commune.pk),
        source=OldCommuneSource.CROSSWALK,
    )


def hamlet_record_old_commune(hamlet: Hamlet, old: Commune | None) -> bool:
    """Record (in memory) the old commune an import row names for an existing hamlet; True when it changed.

    A hamlet that already records another old commune keeps it: a DomainError on `name` says so.
    """
    if old is None or hamlet.old_commune_id == old.pk:
        return False
    if hamlet.old_commune_id is not None:
        raise invalid(
            name=_("This hamlet is recorded in commune %(code)s of the 2024 map, not in the one this row names.")
            % {"code": hamlet.old_commune.code}
        )
    hamlet.old_commune, hamlet.old_commune_source = old, OldCommuneSource.IMPORT
    return True


@transaction.atomic
def hamlets_fill_old_commune(*, commune_ids=None) -> int:
    """Record the old commune of every hamlet that lacks one where the crosswalk makes it certain (its commune
    was made of one old commune), in one UPDATE; marks those communes for coverage. Returns how many."""
    sole = (
        CommuneLink.objects.order_by()
        .values("new_commune_id")
        .annotate(n=Count("id"), old=Min("old_commune_id"))
        .filter(n=1)
    )
    hamlets = Hamlet.objects.filter(old_commune__isnull=True, commune_id__in=sole.values("new_commune_id"))
    if commune_ids is not None:
        hamlets = hamlets.filter(commune_id__in=list(commune_ids))
    touched = set(hamlets.order_by().values_list("commune_id", flat=True).distinct())
    if not touched:
        return 0
    updated = hamlets.update(
        old_commune_id=Subquery(sole.filter(new_commune_id=OuterRef("commune_id")).values("old")[:1]),
        old_commune_source=OldCommuneSource.CROSSWALK,
        updated_at=timezone.now(),
    )
    communes_changed(touched)
    return updated


# The columns a new hamlet's row gives; the key comes from the sequence (config.copying.copy_rows).
HAMLET_ROW = RowShape(
    Hamlet, ("commune_id", "province_id", "name", "name_key", "kind", "old_commune_id", "old_commune_source")
)


def hamlet_row(
    *, commune: Commune, name: str, kind: str, key: str | None = None, old_commune_id: int | None = None, source=""
) -> tuple:
    """A new hamlet of a commune as a row of HAMLET_ROW, with its province and matching key; name is already
    validated. old_commune_id, when given, must already be checked as a predecessor (old_commune_of, or the
    crosswalk)."""
    return (
        commune.pk,
        commune.province_id,
        name,
        key or name_key(name),
        kind,
        old_commune_id,
        source if old_commune_id else "",
    )


def hamlet_build(*, commune: Commune, **values) -> Hamlet:
    """hamlet_row's hamlet as an unsaved instance, holding its commune."""
    hamlet = Hamlet(**HAMLET_ROW.kwargs(hamlet_row(commune=commune, **values)))
    hamlet.commune = commune
    return hamlet


def _duplicate(commune_id: int, key: str, exclude_id: int | None = None) -> Hamlet | None:
    qs = Hamlet.objects.filter(commune_id=commune_id, name_key=key, active=True)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return qs.first()


def _duplicate_error(existing: Hamlet) -> DomainError:
    return DomainError(
        fields={"name": [_("A hamlet with this name already exists in this commune.")]},
        code="duplicate",
        extra={"existing_id": existing.pk},
    )


@transaction.atomic
def hamlet_create(*, actor, commune_code: str, name: str, kind: str) -> Hamlet:
    """Create a hamlet in a commune the actor may write to."""
    commune = commune_get_writable(actor=actor, commune_code=commune_code)
    name = validate_hamlet_name(name)
    key = name_key(name)
    existing = _duplicate(commune.pk, key)
    if existing:
        raise _duplicate_error(existing)
    try:
        with transaction.atomic():
            old = sole_predecessors([commune.pk]).get(commune.pk)
            hamlet = hamlet_build(
                commune=commune, name=name, kind=kind, key=key, old_commune_id=old, source=OldCommuneSource.CROSSWALK
            )
            hamlet.save(force_insert=True)
    except IntegrityError:
        # A concurrent create won the race on the unique constraint.
        raise _duplicate_error(_duplicate(commune.pk, key) or Hamlet(pk=None)) from None
    commune_changed(commune.pk)
    audit_record(actor=actor, action="hamlet.create", obj=hamlet, before=None)
    return hamlet


def hamlet_get_writable(*, actor, hamlet_id: int) -> Hamlet:
    hamlet = Hamlet.objects.writable_by(actor).select_for_update().filter(pk=hamlet_id).first()
    if hamlet is None:
        raise NotFound(_("Not found."))
    return hamlet


@transaction.atomic
def hamlet_update(
    *,
    actor,
    hamlet_id: int,
    name: str | None = None,
    kind: str | None = None,
    active: bool | None = None,
    old_commune=UNSET,
) -> Hamlet:
    """Rename, re-kind or (re)activate a hamlet in the actor's scope, or record the old-map commune it was in
    (old_commune: a 2024-map code that must be a predecessor of its commune; None forgets it)."""
    hamlet = hamlet_get_writable(actor=actor, hamlet_id=hamlet_id)
    before = state(hamlet)
    if old_commune is None:
        hamlet.old_commune, hamlet.old_commune_source = None, ""
    elif old_commune is not UNSET:
        hamlet.old_commune = old_commune_of(commune=hamlet.commune, old_code=old_commune)
        hamlet.old_commune_source = OldCommuneSource.OFFICER
    if name is not None:
        hamlet.name = validate_hamlet_name(name)
        hamlet.name_key = name_key(hamlet.name)
    if kind is not None:
        hamlet.kind = kind
    if active is not None:
        if not active:
            _guard_removal(hamlet)
        hamlet.active = active
        hamlet.valid_to = None if active else _retire_date(hamlet)
    if hamlet.active:
        existing = _duplicate(hamlet.commune_id, hamlet.name_key, exclude_id=hamlet.pk)
        if existing:
            raise _duplicate_error(existing)
    hamlet.save()
    commune_changed(hamlet.commune_id)
    audit_record(actor=actor, action="hamlet.update", obj=hamlet, before=before)
    return hamlet


def _retire_date(hamlet: Hamlet) -> dt.date:
    # valid_to is exclusive and must follow valid_from, even for a hamlet created today.
    return max(timezone.localdate(), hamlet.valid_from + dt.timedelta(days=1))


def _guard_removal(hamlet: Hamlet) -> None:
    for guard in HAMLET_REMOVAL_GUARDS:
        reason = guard(hamlet)
        if reason:
            raise Conflict(reason, code="hamlet_in_use")


@transaction.atomic
def hamlet_remove(*, actor, hamlet_id: int) -> None:
    """Retire a hamlet: it stays for history (inactive, valid_to today). Refused while a team serves it."""
    hamlet = hamlet_get_writable(actor=actor, hamlet_id=hamlet_id)
    _guard_removal(hamlet)
    if hamlet.active:
        before = state(hamlet)
        hamlet.active = False
        hamlet.valid_to = _retire_date(hamlet)
        hamlet.save(update_fields=["active", "valid_to", "updated_at"])
        commune_changed(hamlet.commune_id)
        audit_record(actor=actor, action="hamlet.remove", obj=hamlet, before=before)


# --- Bulk import -------------------------------------------------------------------------

_KIND_BY_KEY = {name_key(code): code for code in HamletKind.values} | {
    name_key(label): code for code, label in HamletKind.choices
}


@dataclass
class HamletImportResult:
    rows: int
    created: int
    updated: int
    unchanged: int
    errors: list[RowError]
    # Rows placed in the default successor of a divided old commune (accept_default): to check.
    warnings: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_hamlet_kind(raw: str) -> str | None:
    """Accept the API code (to_dan_pho) or the Vietnamese label (Tổ dân phố) in any spelling."""
    return _KIND_BY_KEY.get(name_key(raw.replace("_", " "))) or _KIND_BY_KEY.get(name_key(raw))


@transaction.atomic
def hamlets_import(
    *, rows: list[tuple[int, dict]], dry_run: bool = False, actor=None, accept_default: bool = False
) -> HamletImportResult:
    """Import hamlets from (row number, {commune_code, name, kind}) rows: all or nothing, idempotent.

    A row may name its commune on the 2024 map instead (areas.old_units): it lands in the commune that
    succeeded it, and the hamlet keeps that old commune. accept_default places the rows of a divided old
    commune that no hamlet decides in its default successor, flagged in `warnings`.
    """
    placed = place_rows(rows, hamlet_column="name", accept_default=accept_default)
    errors: list[RowError] = list(placed.errors)
    seen: dict[tuple[int, str], int] = {}
    parsed: list[tuple[Commune, str, str, str, Commune | None]] = []
    for number, row in rows:
        place = placed.places.get(number)
        kind = parse_hamlet_kind(row.get("kind", ""))
        if kind is None:
            errors.append(RowError(number, "kind", _("Unknown hamlet kind %(kind)r.") % {"kind": row.get("kind", "")}))
        try:
            name = validate_hamlet_name(row.get("name", ""))
        except DomainError as exc:
            errors.append(RowError(number, "name", exc.fields["name"][0]))
            continue
        if place is None or kind is None:
            continue
        commune = place.commune
        key = name_key(name)
        if (commune.pk, key) in seen:
            errors.append(
                RowError(
                    number,
                    "name",
                    _("Same hamlet name as row %(row)d in this commune.") % {"row": seen[(commune.pk, key)]},
                )
            )
            continue
        seen[(commune.pk, key)] = number
        parsed.append((commune, name, key, kind, place.old))

    existing = {
        (h.commune_id, h.name_key): h
        for h in Hamlet.objects.select_for_update(of=("self",))
        .select_related("old_commune")
        .filter(commune_id__in={c.pk for c, *_ in parsed}, active=True)
    }
    certain = sole_predecessors({c.pk for c, *_ in parsed})
    to_create, to_update, befores = [], [], {}
    for commune, name, key, kind, old in parsed:
        hamlet = existing.get((commune.pk, key))
        if hamlet is None:
            to_create.append(
                hamlet_build_placed(commune=commune, name=name, kind=kind, key=key, old=old, certain=certain)
            )
            continue
        before = state(hamlet)
        try:
            changed = hamlet_record_old_commune(hamlet, old)
        except DomainError as exc:
            errors.append(RowError(seen[(commune.pk, key)], "name", exc.fields["name"][0]))
            continue
        if hamlet.kind != kind or changed:
            befores[hamlet.pk] = before
            hamlet.kind = kind
            to_update.append(hamlet)
    result = HamletImportResult(
        rows=len(rows),
        created=len(to_create),
        updated=len(to_update),
        unchanged=len(parsed) - len(to_create) - len(to_update),
        errors=sorted(errors, key=lambda e: e.row),
        warnings=placed.warnings,
    )
    if errors or dry_run:
        return result
    Hamlet.objects.bulk_create(to_create, batch_size=2000)
    now = timezone.now()
    for hamlet in to_update:
        hamlet.updated_at = now  # bulk_update skips auto_now: the body and the list's ETag must change
    Hamlet.objects.bulk_update(to_update, ["kind", "old_commune", "old_commune_source", "updated_at"], batch_size=2000)
    audit_bulk(actor=actor, action="hamlet.import_create", objects=to_create)
    audit_bulk(actor=actor, action="hamlet.import_update", objects=to_update, befores=befores)
    communes_changed({h.commune_id for h in to_create} | {h.commune_id for h in to_update})
    return result
