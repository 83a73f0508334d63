from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "gongzhi.kpis"
    label = "kpis"
    verbose_name = "Performance figures"
