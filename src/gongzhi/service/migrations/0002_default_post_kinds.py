"""The post kinds the editable table starts with (三长五员 and the posts of seed 004)."""

from django.db import migrations

KINDS = ("楼道长", "文明劝导", "垃圾分类督导", "助老", "平安巡逻", "政策宣传", "网格支部委员")


def add_kinds(apps, schema_editor):  # type: ignore[no-untyped-def]  # migration functions get historical models
    PostKind = apps.get_model("service", "PostKind")
    for order, name in enumerate(KINDS, start=1):
        PostKind.objects.get_or_create(name=name, defaults={"order": order})


class Migration(migrations.Migration):
    dependencies = [("service", "0001_posts_claims_service")]
    operations = [migrations.RunPython(add_kinds, migrations.RunPython.noop)]
