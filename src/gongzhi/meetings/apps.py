from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class MeetingsConfig(AppConfig):
    name = "gongzhi.meetings"
    label = "meetings"
    verbose_name = pgettext_lazy("meetings", "Meetings")

    def ready(self) -> None:
        from gongzhi.cases import events
        from gongzhi.meetings import services

        # A decision tracked as a case follows it: the cases app tells its listeners of every step (no import back).
        events.listen(services.on_case_event)
