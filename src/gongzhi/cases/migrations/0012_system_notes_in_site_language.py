"""System notes stored in English before they were written in the site's language (core.messages.system_note):
"Deadline missed: escalated automatically.", "Location matched no grid: held by the subdistrict desk." and the
12345 import's unconfirmed category note are rewritten in the site's language (``LANGUAGE_CODE``), as new ones are."""

import re

from django.conf import settings
from django.db import migrations
from django.utils import translation
from django.utils.translation import gettext

ESCALATED = "Deadline missed: escalated automatically."
ON_DESK = "Location matched no grid: held by the subdistrict desk."
UNCONFIRMED = "The 12345 category “%(category)s” matched none of ours: the desk sets the category."
_UNCONFIRMED = re.compile(r"The 12345 category “(?P<category>.*?)” matched none of ours: the desk sets the category\.")


def _rewritten(note: str) -> str:
    note = note.replace(ESCALATED, gettext(ESCALATED)).replace(ON_DESK, gettext(ON_DESK))
    return _UNCONFIRMED.sub(lambda m: gettext(UNCONFIRMED) % {"category": m.group("category")}, note)


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    CaseEvent = apps.get_model("cases", "CaseEvent")
    with translation.override(settings.LANGUAGE_CODE):
        if gettext(ESCALATED) == ESCALATED:  # an English site: nothing to rewrite
            return
        CaseEvent.objects.filter(note=ESCALATED).update(note=gettext(ESCALATED))
        CaseEvent.objects.filter(note=ON_DESK).update(note=gettext(ON_DESK))
        changed = []
        rows = CaseEvent.objects.filter(note__contains="matched none of ours").only("id", "note")
        for event in rows.iterator(chunk_size=2000):
            note = _rewritten(event.note)
            if note != event.note:
                event.note = note
                changed.append(event)
        CaseEvent.objects.bulk_update(changed, ["note"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("cases", "0011_caseevent_reply")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
