from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "gongzhi.accounts"
    label = "accounts"
    verbose_name = _("Users and roles")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from gongzhi.accounts import pages
        from gongzhi.accounts.auth import count_failed_login
        from gongzhi.core import pageguard

        pageguard.install(pages.allowed)  # the page policy, for the views of every app (territory's too)

        user_login_failed.connect(count_failed_login, dispatch_uid="gongzhi_count_failed_login")
