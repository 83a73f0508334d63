from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class RecognitionConfig(AppConfig):
    name = "gongzhi.recognition"
    label = "recognition"
    verbose_name = pgettext_lazy("recognition", "Recognition")
