"""What a demo build in a test leaves behind once ``builder.delete_demo`` has removed the demo itself: rows with no
tie to the demo's places or people (SMS deliveries to a phone, the national holidays the build loads, audit rows, the
triage model version it trained: versions are the whole database's, so ``delete_demo`` keeps them).
Later tests on the same database count such rows, so a module that builds the demo removes them afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.models import Max, Model

from gongzhi.cases.models import CalendarDay
from gongzhi.core.models import AuditLog
from gongzhi.messaging.models import Delivery, Message
from gongzhi.triage.models import ModelVersion

LEFT_BEHIND: tuple[type[Model], ...] = (Delivery, Message, CalendarDay, AuditLog, ModelVersion)


@contextmanager
def removed_afterwards() -> Iterator[None]:
    """Rows of :data:`LEFT_BEHIND` written inside the block are deleted when it ends."""
    last = {model: model.objects.aggregate(last=Max("pk"))["last"] or 0 for model in LEFT_BEHIND}
    try:
        yield
    finally:
        for model, pk in last.items():
            model.objects.filter(pk__gt=pk).delete()
