from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "Thành viên Tổ"

    def ready(self) -> None:
        from members.services import team_members_dissolve
        from teams.services import TEAM_DISSOLVE_HOOKS

        # teams sits below members and may not import it: a dissolution reaches the members through this hook.
        if team_members_dissolve not in TEAM_DISSOLVE_HOOKS:
            TEAM_DISSOLVE_HOOKS.append(team_members_dissolve)
