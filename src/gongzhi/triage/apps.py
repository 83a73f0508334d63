from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TriageConfig(AppConfig):
    name = "gongzhi.triage"
    label = "triage"
    verbose_name = _("Learned triage")

    def ready(self) -> None:
        from gongzhi.cases import events
        from gongzhi.triage import services, tasks

        events.on_arrival(tasks.queue_arrivals)  # new cases: suggested, and dispatched where switched on
        events.listen(services.learn_from_step)  # the desk's dispatches and returns: what the model learns from
