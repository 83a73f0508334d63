"""Forms of the dispute pages: they read and check what a person typed, nothing more.

The rules (the ladder, who may act, what an agreement needs) stay in ``disputes.services`` and
``disputes.workflow``; a ``ValidationFailed`` from there is put back on the form next to the field it names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.cases.forms import set_choices
from gongzhi.disputes.choices import (
    NoticeResult,
    PartyRole,
    Performance,
    ReferralKind,
    Risk,
    SessionMode,
    SessionResult,
    Source,
)

TERM_ROWS = 5  # agreed terms on the agreement form (empty rows are left out)
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


class DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=LOCAL_INPUT, **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


def _places(nodes: Iterable[Any]) -> list[tuple[str, str]]:
    return [(str(n.pk), n.name if n.kind != "grid" else f"　{n.name}") for n in nodes]


class PartyFields(forms.Form):
    """One party: a person of the registry or an outsider (their contacts are kept masked)."""

    role = forms.ChoiceField(label=_("Role"), choices=PartyRole.choices, initial=PartyRole.APPLICANT)
    name = forms.CharField(label=_("Name"), max_length=60)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    id_number = forms.CharField(label=_("ID number"), max_length=18, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    is_organisation = forms.BooleanField(label=_("An organisation"), required=False)


class DisputeForm(forms.Form):
    """Register a dispute: what, where, how risky, from where; the first two parties."""

    kind = forms.ChoiceField(label=_("Kind of dispute"))
    summary = forms.CharField(label=_("Summary"), max_length=200)
    facts = forms.CharField(
        label=_("Facts and dispute"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What happened and what each side wants."),
    )  # fmt: skip
    place = forms.ChoiceField(label=_("Place"), required=False, help_text=_("Empty: the subdistrict desk holds it."))
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    risk = forms.ChoiceField(
        label=_("Risk"), choices=Risk.choices, initial=Risk.GREEN, widget=forms.RadioSelect,
        help_text=_("Red: may turn violent or collective; it starts at the station and the subdistrict is told."),
    )  # fmt: skip
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices, initial=Source.WALK_IN)
    applicant = forms.CharField(label=_("Applicant"), max_length=60, required=False)
    applicant_phone = forms.CharField(label=_("Applicant's phone"), max_length=20, required=False)
    respondent = forms.CharField(label=_("Respondent"), max_length=60, required=False)
    respondent_phone = forms.CharField(label=_("Respondent's phone"), max_length=20, required=False)
    mediate_myself = forms.BooleanField(label=_("I mediate it"), required=False, initial=True)

    def __init__(self, *args: Any, kinds: Iterable[Any], places: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "kind", [(str(k.pk), k.name) for k in kinds])
        set_choices(self, "place", [("", _("— the subdistrict desk —")), *_places(places)])


class SessionForm(forms.Form):
    """Plan or record a mediation session."""

    held_at = forms.DateTimeField(label=_("When"), widget=DateTimeLocal(), input_formats=[LOCAL_INPUT])
    where = forms.CharField(label=_("Where"), max_length=200, required=False)
    mode = forms.ChoiceField(
        label=_("Mode"), choices=SessionMode.choices, initial=SessionMode.FACE_TO_FACE, widget=forms.RadioSelect
    )
    attendees = forms.MultipleChoiceField(
        label=_("Parties present"), required=False, widget=forms.CheckboxSelectMultiple
    )
    summary = forms.CharField(
        label=_("What was said and done"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    result = forms.ChoiceField(label=_("Result"), required=False)
    private_notes = forms.CharField(
        label=_("Private notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Only the assigned mediators and the station read them."),
    )  # fmt: skip

    def __init__(self, *args: Any, parties: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "attendees", [(str(p.id), f"{p.name}（{p.role_label}）") for p in parties])
        set_choices(self, "result", [("", _("— planned, not held yet —")), *SessionResult.choices])
        if not self.is_bound:
            self.initial.setdefault("held_at", timezone.localtime().replace(second=0, microsecond=0))


class EscalateForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it goes up"), widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded with the escalation; everyone handling it reads it."),
    )  # fmt: skip
    referral_kind = forms.ChoiceField(label=_("Referred to"), required=False)
    body = forms.ChoiceField(label=_("Receiving body"), required=False)

    def __init__(self, *args: Any, bodies: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "referral_kind", [("", "—"), *ReferralKind.choices])
        set_choices(self, "body", [("", "—"), *[(str(b.pk), b.name) for b in bodies]])


class AgreementForm(forms.Form):
    """The 人民调解协议书: facts, up to five agreed terms (each how and by when), performance, committee."""

    facts = forms.CharField(label=_("Facts and dispute"), widget=forms.Textarea(attrs={"rows": 4}))
    performance = forms.CharField(
        label=_("Manner and deadline of performance"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    committee = forms.CharField(label=_("Mediation committee"), max_length=120, required=False)
    follow_up_days = forms.IntegerField(label=_("Follow up after (days)"), min_value=1, max_value=365)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, TERM_ROWS + 1):
            self.fields[f"term_{i}"] = forms.CharField(
                label=_("Term %(n)s") % {"n": i}, required=i == 1, widget=forms.Textarea(attrs={"rows": 2})
            )
            self.fields[f"how_{i}"] = forms.CharField(label=_("How"), required=False, max_length=200)
            self.fields[f"by_{i}"] = forms.DateField(label=_("By"), required=False, widget=DateInput())

    def term_rows(self) -> list[tuple[Any, Any, Any]]:
        return [(self[f"term_{i}"], self[f"how_{i}"], self[f"by_{i}"]) for i in range(1, TERM_ROWS + 1)]

    def terms(self) -> list[dict[str, str]]:
        out = []
        for i in range(1, TERM_ROWS + 1):
            text = (self.cleaned_data.get(f"term_{i}") or "").strip()
            if not text:
                continue
            by: date | None = self.cleaned_data.get(f"by_{i}")
            out.append({"text": text, "how": self.cleaned_data.get(f"how_{i}") or "",
                        "by": by.isoformat() if by else ""})  # fmt: skip
        return out


class SignForm(forms.Form):
    signed_on = forms.DateField(label=_("Signed on"), widget=DateInput())
    signed = forms.MultipleChoiceField(label=_("Signed by"), required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, parties: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "signed", [(str(p.id), p.name) for p in parties])
        if not self.is_bound:
            self.initial.setdefault("signed_on", timezone.localdate())
            self.initial.setdefault("signed", [str(p.id) for p in parties])


class FollowUpForm(forms.Form):
    performance = forms.ChoiceField(label=_("Performed?"), choices=Performance.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ActionForm(forms.Form):
    """A plain step of the workflow (start, no agreement, withdrawn) with its note."""

    action = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class NoticeForm(forms.Form):
    """The police station files a notice (警情通报) for the grid of a place."""

    title = forms.CharField(label=_("What happened"), max_length=200)
    happened_at = forms.DateTimeField(label=_("Happened at"), widget=DateTimeLocal(), input_formats=[LOCAL_INPUT])
    place = forms.ChoiceField(label=_("Place"))
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    people = forms.CharField(label=_("People involved"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    people_phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)
    description = forms.CharField(label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    ask = forms.CharField(label=_("What the grid should do"), widget=forms.Textarea(attrs={"rows": 2}))
    due_at = forms.DateTimeField(label=_("Answer by"), widget=DateTimeLocal(), input_formats=[LOCAL_INPUT])

    def __init__(self, *args: Any, places: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "place", _places(places))
        if not self.is_bound:
            now = timezone.localtime().replace(second=0, microsecond=0)
            self.initial.setdefault("happened_at", now)
            self.initial.setdefault("due_at", now + timedelta(days=3))


class AnswerForm(forms.Form):
    """The grid's feedback after the visit."""

    result = forms.ChoiceField(label=_("Result of the visit"), choices=NoticeResult.choices, widget=forms.RadioSelect)
    feedback = forms.CharField(label=_("Feedback to the station"), widget=forms.Textarea(attrs={"rows": 3}))
    visited_at = forms.DateTimeField(
        label=_("Visited at"), required=False, widget=DateTimeLocal(), input_formats=[LOCAL_INPUT]
    )
    kind = forms.ChoiceField(label=_("Kind of dispute"), required=False)
    summary = forms.CharField(label=_("Dispute summary"), max_length=200, required=False)
    risk = forms.ChoiceField(label=_("Risk"), choices=Risk.choices, initial=Risk.GREEN, required=False)
    category = forms.ChoiceField(label=_("Case category"), required=False)

    def __init__(self, *args: Any, kinds: Iterable[Any], categories: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "kind", [("", "—"), *[(str(k.pk), k.name) for k in kinds]])
        set_choices(self, "category", [("", "—"), *[(str(c.pk), str(c)) for c in categories]])
        if not self.is_bound:
            self.initial.setdefault("visited_at", timezone.localtime().replace(second=0, microsecond=0))
