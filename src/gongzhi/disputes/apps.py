from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisputesConfig(AppConfig):
    name = "gongzhi.disputes"
    label = "disputes"
    verbose_name = _("Disputes")

    def ready(self) -> None:
        from gongzhi.disputes import notify  # noqa: F401  (registers the inbox's kinds)
