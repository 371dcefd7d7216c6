"""The demo generator's entry point: plan the registry for a scale and seed, then write it (replacing it on reset)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils.translation import gettext as _

from areas.changes import communes_changed
from areas.models import Hamlet
from config.errors import Conflict
from demo.plan import DEFAULT_INCOMPLETE_PROVINCES, DEFAULT_UNCOVERED_COMMUNES, DemoSummary, demo_plan
from demo.reset import registry_commune_ids, registry_delete
from demo.write import plan_write
from members.models import Member
from teams.models import Team


@transaction.atomic
def demo_generate(
    *,
    scale: str,
    seed: int,
    province_code: str | None = None,
    uncovered_communes: float = DEFAULT_UNCOVERED_COMMUNES,
    incomplete_provinces: int = DEFAULT_INCOMPLETE_PROVINCES,
    reset: bool = False,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Create demo hamlets, teams and members on the real communes; reset replaces the registry first."""
    if not reset and (Team.objects.exists() or Member.objects.exists() or Hamlet.objects.exists()):
        raise Conflict(
            _("The database already has hamlets, teams or members; use --reset to replace them."),
            code="not_empty",
        )
    plan = demo_plan(
        scale=scale,
        seed=seed,
        province_code=province_code,
        uncovered_communes=uncovered_communes,
        incomplete_provinces=incomplete_provinces,
    )
    touched = {p.commune.pk for p in plan.communes}
    if reset:
        touched |= registry_commune_ids()
        registry_delete()
    plan_write(plan, progress)
    communes_changed(touched)
    return plan.summary()
