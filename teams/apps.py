from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = "Tổ Công nghệ số cộng đồng"

    def ready(self) -> None:
        from areas.services import HAMLET_REMOVAL_GUARDS
        from teams.services import hamlet_served_by_active_team

        if hamlet_served_by_active_team not in HAMLET_REMOVAL_GUARDS:
            HAMLET_REMOVAL_GUARDS.append(hamlet_served_by_active_team)
