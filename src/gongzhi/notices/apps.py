from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "gongzhi.notices"
    label = "notices"
    verbose_name = "Notices"
