"""Writes on activities: the offline sync (set-based), edits, tombstones, and the activity types."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scoping import Role
from activities.bulk import CONTENT_FIELDS, UPDATE_COLUMNS, insert_ignoring_existing, update_if_unchanged
from activities.feed import change_seq_expression
from activities.models import COORD_STEP, Activity, ActivityQuerySet, ActivityType
from areas.changes import all_communes_changed, communes_changed
from areas.models import Hamlet
from config.errors import Conflict, DomainError, NotFound, PreconditionFailed, PreconditionRequired, invalid
from config.timestamps import format_timestamp
from teams.models import Team, TeamStatus

CREATED, UNCHANGED, UPDATED, CONFLICT, REJECTED = "created", "unchanged", "updated", "conflict", "rejected"


@dataclass
class ItemResult:
    id: uuid.UUID
    status: str
    errors: dict | None = None
    server: Activity | None = None
    updated_at: dt.datetime | None = None


@dataclass
class _Plan:
    inserts: list[dict] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    results: dict[uuid.UUID, ItemResult] = field(default_factory=dict)


def _quantize(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(COORD_STEP)


def normalize(item: dict) -> dict:
    """A parsed item (from the API's serializer) as model column values."""
    return {
        "team_id": item["team"],
        "hamlet_id": item.get("hamlet"),
        "type_id": item["type"],
        "occurred_on": item["occurred_on"],
        "people_helped": item["people_helped"],
        "households_helped": item.get("households_helped"),
        "duration_minutes": item.get("duration_minutes"),
        "note": item.get("note") or "",
        "latitude": _quantize(item.get("latitude")),
        "longitude": _quantize(item.get("longitude")),
        "deleted": bool(item.get("deleted", False)),
    }


def same_content(activity: Activity, values: dict) -> bool:
    return all(getattr(activity, name) == values[name] for name in CONTENT_FIELDS)


def _window_start(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


def _edit_window_open(activity: Activity, now: dt.datetime) -> bool:
    return activity.created_at >= now - dt.timedelta(days=settings.ACTIVITY_EDIT_WINDOW_DAYS)


class _Team(NamedTuple):
    """What a batch needs of a team it writes to."""

    province_id: int
    commune_id: int
    status: str


class _Context:
    """Everything one batch needs from the database, read in a constant number of queries."""

    def __init__(self, actor, items: list[tuple[uuid.UUID, dict]]):
        may_write = actor.role in ActivityQuerySet.write_roles
        team_ids = {values["team_id"] for _, values in items}
        # Tuples, not model instances: a batch from a province's office names hundreds of teams, and building a
        # Team for each cost more than the query.
        self.teams: dict[uuid.UUID, _Team] = (
            {
                pk: _Team(*rest)
                for pk, *rest in Team.objects.visible_to(actor)
                .filter(pk__in=team_ids)
                .values_list("id", "province_id", "commune_id", "status")
            }
            if may_write
            else {}
        )
        hamlet_ids = {values["hamlet_id"] for _, values in items if values["hamlet_id"]}
        self.hamlets = (
            dict(Hamlet.objects.filter(pk__in=hamlet_ids, active=True).values_list("id", "commune_id"))
            if hamlet_ids
            else {}
        )
        self.types = dict(ActivityType.objects.values_list("code", "active"))
        self.existing: dict[uuid.UUID, Activity] = {}
        self.visible_team_ids = set(self.teams)

    def read_existing(self, ids) -> None:
        """The stored rows of these ids (one query): what a replay or an edit is judged against."""
        rows = Activity.objects.filter(pk__in=list(ids)).select_related("province", "commune")
        self.existing.update((a.pk, a) for a in rows)


def _date_changed(values: dict, existing: Activity | None) -> bool:
    # A new date is held to the same limit on an edit as on a create; an unchanged old one stays.
    return existing is None or values["occurred_on"] != existing.occurred_on


def _check(values: dict, context: _Context, *, existing: Activity | None) -> dict:
    """Business rules for one item; returns {field: [messages]} (empty when valid)."""
    errors: dict[str, list] = {}
    team = context.teams.get(values["team_id"])
    if team is None:
        errors["team"] = [_("No team with this id in your area.")]
    elif team.status != TeamStatus.ACTIVE and existing is None:
        errors["team"] = [_("This team is dissolved.")]
    if values["hamlet_id"] and team is not None and context.hamlets.get(values["hamlet_id"]) != team.commune_id:
        errors["hamlet"] = [_("This hamlet is not an active hamlet of the team's commune.")]
    type_active = context.types.get(values["type_id"])
    if type_active is None:
        errors["type"] = [_("Unknown activity type.")]
    elif not type_active and (existing is None or existing.type_id != values["type_id"]):
        errors["type"] = [_("This activity type is no longer in use.")]
    today = timezone.localdate()
    if values["occurred_on"] > today:
        errors["occurred_on"] = [_("The date may not be in the future.")]
    elif _date_changed(values, existing) and values["occurred_on"] < _window_start(settings.ACTIVITY_MAX_AGE_DAYS):
        errors["occurred_on"] = [
            _("The date may be at most %(days)d days ago.") % {"days": settings.ACTIVITY_MAX_AGE_DAYS}
        ]
    return errors


def _plan(actor, items: list[tuple[uuid.UUID, dict, dt.datetime | None]], context: _Context, now) -> _Plan:
    plan = _Plan()
    seen: set[uuid.UUID] = set()
    for item_id, values, base in items:
        if item_id in seen:
            continue  # the same id twice in one batch: the first occurrence decides
        seen.add(item_id)
        existing = context.existing.get(item_id)
        if existing is not None and existing.team_id not in context.visible_team_ids:
            plan.results[item_id] = ItemResult(item_id, REJECTED, errors={"id": [_("This id is already in use.")]})
            continue
        errors = _check(values, context, existing=existing)
        if errors:
            plan.results[item_id] = ItemResult(item_id, REJECTED, errors=errors)
            continue
        if existing is None:
            team = context.teams[values["team_id"]]
            plan.inserts.append(
                {
                    "id": item_id,
                    **values,
                    "province_id": team.province_id,
                    "commune_id": team.commune_id,
                    "recorded_by_id": actor.pk,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        elif same_content(existing, values):
            plan.results[item_id] = ItemResult(item_id, UNCHANGED, updated_at=existing.updated_at)
        elif base is None or base != existing.updated_at:
            plan.results[item_id] = ItemResult(item_id, CONFLICT, server=existing)
        elif not _edit_window_open(existing, now):
            plan.results[item_id] = ItemResult(
                item_id,
                REJECTED,
                errors={"base_updated_at": [_edit_window_message()]},
            )
        elif values["team_id"] != existing.team_id:
            plan.results[item_id] = ItemResult(
                item_id, REJECTED, errors={"team": [_("An activity cannot move to another team.")]}
            )
        else:
            plan.updates.append({"id": item_id, "base": base, **values})
    return plan


def _edit_window_message() -> str:
    return _("Activities can be changed for %(days)d days after they are recorded.") % {
        "days": settings.ACTIVITY_EDIT_WINDOW_DAYS
    }


@transaction.atomic
def activities_sync(*, actor, items: list[tuple[uuid.UUID, dict, dt.datetime | None]]) -> dict[uuid.UUID, ItemResult]:
    """Save a batch from the mobile client: creates, replays, edits and tombstones, item by item.

    items are (id, values from normalize(), base_updated_at or None). The batch is read in a
    constant number of queries and written with one INSERT ... ON CONFLICT and one UPDATE, so
    its cost does not grow in queries with its size. A retry of the batch writes nothing.
    """
    now = timezone.now()
    context = _Context(actor, [(item_id, values) for item_id, values, _ in items])
    # Most batches are new activities: every item is first planned as new and inserted ON CONFLICT DO NOTHING,
    # which finds the ids already stored without reading them (a read of 500 random keys cost as much as the
    # insert). An item that did not go in, or was rejected as new, is planned again against its stored row:
    # a replay, an edit, a conflict, an id of another area, or (not stored) the rejection stands.
    plan = _plan(actor, items, context, now)
    inserted = insert_ignoring_existing(plan.inserts)
    for row in plan.inserts:
        if row["id"] in inserted:
            plan.results[row["id"]] = ItemResult(row["id"], CREATED, updated_at=now)
    again = {row["id"] for row in plan.inserts if row["id"] not in inserted}
    again |= {item_id for item_id, result in plan.results.items() if result.status == REJECTED}
    if again:
        context.read_existing(again)
        stored = [item for item in items if item[0] in context.existing]
        replan = _plan(actor, stored, context, now)
        plan.results.update(replan.results)
        plan.updates = replan.updates
        for item_id in again - context.existing.keys() - plan.results.keys():
            # In the way of our insert, gone before our read (never in this service): not written, so not ours.
            plan.results[item_id] = ItemResult(item_id, REJECTED, errors={"id": [_("This id is already in use.")]})
    updated = update_if_unchanged(plan.updates, now)
    for row in plan.updates:
        if row["id"] in updated:
            plan.results[row["id"]] = ItemResult(row["id"], UPDATED, updated_at=now)

    # Edits whose base another client changed between our read and our write: decide against what is there now.
    raced = [r["id"] for r in plan.updates if r["id"] not in updated]
    if raced:
        values_by_id = {item_id: values for item_id, values, _ in items}
        for activity in Activity.objects.filter(pk__in=raced).select_related("province", "commune"):
            same = same_content(activity, values_by_id[activity.pk])
            status = UNCHANGED if same else CONFLICT
            plan.results[activity.pk] = ItemResult(
                activity.pk, status, server=None if same else activity, updated_at=activity.updated_at
            )

    touched = {r["commune_id"] for r in plan.inserts if r["id"] in inserted}
    touched |= {context.existing[i].commune_id for i in updated}
    communes_changed(touched, activities_only=True)
    return plan.results


# --- Single-activity edits (PATCH / DELETE) -----------------------------------------------------


def _writable(actor, activity_id) -> Activity:
    activity = Activity.objects.visible_to(actor).select_for_update().filter(pk=activity_id).first()
    if activity is None:
        raise NotFound(_("Not found."))
    if actor.role not in ActivityQuerySet.write_roles:
        raise DomainError(_("You may not change this activity."), code="forbidden", status_code=403)
    return activity


def _check_base(activity: Activity, base: dt.datetime | None) -> None:
    if base is None:
        raise PreconditionRequired(
            _("Send base_updated_at: the updated_at of the copy you are editing."),
            extra={"updated_at": format_timestamp(activity.updated_at)},
        )
    if base != activity.updated_at:
        raise PreconditionFailed(
            _("This activity was changed by someone else. Reload it and try again."),
            extra={"updated_at": format_timestamp(activity.updated_at)},
        )


@transaction.atomic
def activity_update(*, actor, activity_id, base_updated_at: dt.datetime | None, changes: dict) -> Activity:
    """Edit one activity within the edit window; the base must be current."""
    activity = _writable(actor, activity_id)
    _check_base(activity, base_updated_at)
    now = timezone.now()
    if not _edit_window_open(activity, now):
        raise Conflict(_edit_window_message(), code="edit_window_closed")
    if activity.deleted:
        raise Conflict(_("This activity was deleted."), code="deleted")
    values = {name: getattr(activity, name) for name in CONTENT_FIELDS}
    values.update({k: (_quantize(v) if k in {"latitude", "longitude"} else v) for k, v in changes.items()})
    context = _Context(actor, [(activity.pk, values)])
    errors = _check(values, context, existing=activity)
    if errors:
        raise DomainError(fields=errors)
    Activity.objects.filter(pk=activity.pk).update(
        **changes_for_update(values), updated_at=now, change_seq=change_seq_expression()
    )
    communes_changed([activity.commune_id], activities_only=True)
    return Activity.objects.get(pk=activity.pk)


def changes_for_update(values: dict) -> dict:
    return {c: values[c] for c in UPDATE_COLUMNS}


@transaction.atomic
def activity_delete(*, actor, activity_id) -> Activity:
    """Delete an activity: it becomes a tombstone, which the changes feed delivers. A retry changes nothing."""
    activity = _writable(actor, activity_id)
    if activity.deleted:
        return activity
    if not _edit_window_open(activity, timezone.now()):
        raise Conflict(_edit_window_message(), code="edit_window_closed")
    Activity.objects.filter(pk=activity.pk).update(
        deleted=True, updated_at=timezone.now(), change_seq=change_seq_expression()
    )
    communes_changed([activity.commune_id], activities_only=True)
    return Activity.objects.get(pk=activity.pk)


# --- Activity types (ministry) ------------------------------------------------------------------


def _ministry_only(actor) -> None:
    if actor.role != Role.MINISTRY:
        raise DomainError(_("Only the ministry manages activity types."), code="forbidden", status_code=403)


@transaction.atomic
def activity_type_create(*, actor, code: str, name_vi: str, name_en: str, sort_order: int = 100) -> ActivityType:
    """Add an activity type (ministry only)."""
    _ministry_only(actor)
    if ActivityType.objects.filter(pk=code).exists():
        raise invalid(code=_("An activity type with this code already exists."))
    activity_type = ActivityType.objects.create(code=code, name_vi=name_vi, name_en=name_en, sort_order=sort_order)
    all_communes_changed()  # every unit's by-type breakdown gains the new code
    return activity_type


@transaction.atomic
def activity_type_update(*, actor, code: str, **changes) -> ActivityType:
    """Rename or (de)activate a type. A deactivated type is refused for new activities but kept for history."""
    _ministry_only(actor)
    activity_type = ActivityType.objects.select_for_update().filter(pk=code).first()
    if activity_type is None:
        raise NotFound(_("Not found."))
    for name, value in changes.items():
        setattr(activity_type, name, value)
    activity_type.save()
    return activity_type
