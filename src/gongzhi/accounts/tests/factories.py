from __future__ import annotations

import factory

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.core.testing import PASSWORD


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            obj.save()


def user_with_role(role: str, node=None, body=None, post: str = "", **kwargs) -> User:  # type: ignore[no-untyped-def]
    user = UserFactory(**kwargs)
    RoleAssignment.objects.create(user=user, role=role, node=node, body=body, post=post)
    if role == Role.ADMIN:
        user.is_staff = user.is_superuser = True
        user.save()
    return user
