"""members.services: leader_loses_login, member_changes_apply and member_leave_apply on an instance."""

from __future__ import annotations

import datetime as dt

import pytest

from members.models import Member
from members.services import leader_loses_login, member_changes_apply, member_leave_apply

pytestmark = pytest.mark.django_db


def test_the_login_rule_and_the_leave_rule_on_an_instance():
    leader = Member(role="leader", phone="0911000000", user_id=7, joined_on=dt.date(2026, 3, 1), version=2)
    assert not leader_loses_login(leader, {"role": "leader", "phone": "0911000000", "full_name": "Lê Văn A"})
    assert leader_loses_login(leader, {"role": "deputy"})
    assert leader_loses_login(leader, {"phone": "0911000001"})
    assert not leader_loses_login(Member(role="member", phone="0911000000"), {"role": "deputy"})
    assert member_changes_apply(leader, {"role": "member"}) == 7
    assert (leader.role, leader.user_id, leader.version) == ("member", None, 3)
    # A member who joined after the leaving day leaves on the day they joined; the login goes with them.
    joined_late = Member(active=True, user_id=8, joined_on=dt.date(2026, 3, 1), version=1)
    assert member_leave_apply(joined_late, dt.date(2026, 2, 1)) == 8
    assert (joined_late.active, joined_late.left_on, joined_late.version) == (False, dt.date(2026, 3, 1), 2)
