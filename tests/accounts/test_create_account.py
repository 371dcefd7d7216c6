"""manage.py create_account."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_creates_a_province_admin_who_can_log_in(world):
    call_command(
        "create_account",
        phone="+84 912 000 111",
        password="mot-mat-khau-dai",
        role="province_admin",
        province="02",
        stdout=StringIO(),
    )
    user = User.objects.get(phone="0912000111")
    assert (user.role, user.province, user.commune) == ("province_admin", world.b, None)
    assert user.check_password("mot-mat-khau-dai")


def test_commune_officer_gets_the_commune_and_its_province(world):
    call_command(
        "create_account",
        phone="0912000222",
        password="mot-mat-khau-dai",
        role="commune_officer",
        commune="00003",
        stdout=StringIO(),
    )
    user = User.objects.get(phone="0912000222")
    assert (user.province, user.commune) == (world.b, world.b1)


def test_running_again_resets_instead_of_duplicating(world):
    for password in ("mot-mat-khau-dai", "hai-mat-khau-dai"):
        call_command("create_account", phone="0912000333", password=password, role="ministry", stdout=StringIO())
    assert User.objects.filter(phone="0912000333").count() == 1
    assert User.objects.get(phone="0912000333").check_password("hai-mat-khau-dai")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"role": "province_admin"},
        {"role": "province_admin", "province": "77"},
        {"role": "commune_officer", "commune": "12345"},
        {"role": "king"},
    ],
)
def test_missing_or_unknown_scope_is_refused(world, kwargs):
    with pytest.raises(CommandError):
        call_command("create_account", phone="0912000444", password="mot-mat-khau-dai", stdout=StringIO(), **kwargs)
    assert not User.objects.filter(phone="0912000444").exists()
