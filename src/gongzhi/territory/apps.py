from django.apps import AppConfig


class TerritoryConfig(AppConfig):
    name = "gongzhi.territory"
    label = "territory"
    verbose_name = "Territory and organisations"
