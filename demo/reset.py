"""Demo reset: delete the whole registry, and what hangs on it, in dependency order."""

from __future__ import annotations

from django.db import router

from accounts.models import User
from activities.models import Activity, LifetimeTally, QuarterTally
from areas.changes import outbox_clear
from areas.models import Hamlet
from members.models import Member
from teams.models import Team


def registry_commune_ids() -> set[int]:
    """The communes that hold hamlets or teams now: a reset empties them, so their figures change."""
    return set(Hamlet.objects.values_list("commune_id", flat=True).distinct()) | set(
        Team.objects.values_list("commune_id", flat=True).distinct()
    )


def _delete_all(model) -> None:
    """One DELETE of every row, without loading them.

    QuerySet.delete() would first fetch 400,000 members to null Team.leader (SET_NULL), and 81,000 teams and
    90,000 hamlets to check their PROTECT references, which the earlier steps have already cleared. Foreign keys
    are checked at commit, so a team may still name its leader between the member and team deletes.
    """
    model.objects.all()._raw_delete(router.db_for_write(model))


def registry_delete() -> None:
    """Delete every activity (and its tallies), team-leader login, member, team, hamlet and dirty mark.

    The order follows the foreign keys from the top: activities point at teams and hamlets; a team leader's
    login points at its team and cannot exist without one (a database rule), so it goes (through the ORM,
    which clears the few rows that point at a login); members point at teams; teams at hamlets.
    """
    _delete_all(Activity)  # its triggers bring the tallies to zero; then their rows go, as they name teams
    _delete_all(QuarterTally)
    _delete_all(LifetimeTally)
    User.objects.filter(team__isnull=False).delete()
    _delete_all(Member)
    _delete_all(Team)
    _delete_all(Hamlet)
    outbox_clear()
