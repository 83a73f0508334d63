from django.db import migrations, models
from django.utils.crypto import salted_hmac


def mark_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Tokens issued before the mark existed are tied to their user's current password (ApiToken.mark_of)."""
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in ApiToken.objects.select_related("user").iterator():
        mark = salted_hmac("gongzhi.accounts.ApiToken", token.user.password, algorithm="sha256").hexdigest()
        ApiToken.objects.filter(pk=token.pk).update(password_mark=mark)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="password_mark",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(mark_existing, migrations.RunPython.noop),
    ]
