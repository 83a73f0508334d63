from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "gongzhi.accounts"
    label = "accounts"
    verbose_name = "Users and roles"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from gongzhi.accounts.auth import count_failed_login

        user_login_failed.connect(count_failed_login, dispatch_uid="gongzhi_count_failed_login")
