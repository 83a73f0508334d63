"""A case event's note is shown to the reporter only when staff marked it a reply (issue 16: notes were public by
default). Existing rows: a note that was explicitly shown to the reporter (a note event marked "show to the
reporter") and the reporter's own rating note stay shown; a note written with an action was public only because that
was the default, so it becomes internal; an internal event's note stays internal."""

from django.db import migrations, models


def mark_replies(apps, schema_editor):  # type: ignore[no-untyped-def]
    CaseEvent = apps.get_model("cases", "CaseEvent")
    CaseEvent.objects.filter(public=True, action__in=["note", "rate"]).exclude(note="").update(reply=True)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0010_calendar_day_statutory"),
    ]

    operations = [
        migrations.AddField(
            model_name="caseevent",
            name="reply",
            field=models.BooleanField(default=False, db_default=False, verbose_name="reply to the reporter"),
        ),
        migrations.RunPython(mark_replies, migrations.RunPython.noop),
    ]
