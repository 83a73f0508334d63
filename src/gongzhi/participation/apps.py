from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipationConfig(AppConfig):
    name = "gongzhi.participation"
    label = "participation"
    verbose_name = _("Needs, resources and projects")

    def ready(self) -> None:
        from gongzhi.participation import notify  # noqa: F401  (registers the inbox's kind names)
