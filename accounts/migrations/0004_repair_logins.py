"""Existing logins made to fit the rules of 0005 before its constraints exist (issue 11)."""

from django.db import migrations

NO_SCOPE = {"role": "province_admin", "province": None, "commune": None, "team": None}


def repair_logins(apps, schema_editor):
    """Make every existing login fit the new rules without granting anything it did not have.

    A login without a usable scope (a blank role, a commune officer without a commune, a team leader
    without a team) becomes a province admin without a province: it sees nothing, as before. A team
    leader with superuser rights is deactivated, for a superuser to look at.
    Officers and leaders take their province (and a leader their commune) from the unit they name.
    """
    User = apps.get_model("accounts", "User")
    Team = apps.get_model("teams", "Team")
    Commune = apps.get_model("areas", "Commune")
    User.objects.filter(role="").update(**NO_SCOPE)
    User.objects.filter(role="commune_officer", commune__isnull=True).update(**NO_SCOPE)
    User.objects.filter(role="team_leader", team__isnull=True).update(**NO_SCOPE)
    # A leader login with superuser rights is the takeover of issue 11: it loses the role and is deactivated.
    User.objects.filter(role="team_leader", is_superuser=True).update(**NO_SCOPE, is_active=False)
    for user in User.objects.filter(role="commune_officer"):
        province_id = Commune.objects.filter(pk=user.commune_id).values_list("province_id", flat=True).first()
        User.objects.filter(pk=user.pk).update(province_id=province_id)
    for user in User.objects.filter(role="team_leader"):
        team = Team.objects.filter(pk=user.team_id).values("province_id", "commune_id").first()
        User.objects.filter(pk=user.pk).update(**team)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_audit_entry"),
        ("areas", "0002_dirty_commune_append_only"),
        ("teams", "0003_team_list_index"),
    ]

    operations = [migrations.RunPython(repair_logins, migrations.RunPython.noop)]
