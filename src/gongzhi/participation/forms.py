"""Forms of the participation pages: they only shape input for ``participation.services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.participation.choices import NeedSource, ResourceKind, Slot, Urgency

SLOT_CHOICES = Slot.choices


class NeedForm(forms.Form):
    title = forms.CharField(label=_("What is needed"), max_length=120)
    category = forms.TypedChoiceField(label=_("Category"), coerce=int)
    place = forms.TypedChoiceField(label=_("Where"), coerce=int)
    description = forms.CharField(
        label=pgettext_lazy("participation", "Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    beneficiaries = forms.CharField(label=_("Who benefits"), max_length=120, required=False)
    beneficiary_count = forms.IntegerField(label=_("How many people"), min_value=1, max_value=100_000, initial=1)
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    slots = forms.MultipleChoiceField(
        label=_("When help is wanted"), choices=SLOT_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    source = forms.ChoiceField(label=_("Where the need came from"), choices=NeedSource.choices)
    source_note = forms.CharField(label=_("Source note"), max_length=200, required=False)

    def __init__(self, *args: Any, categories: list[Any], places: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(c.pk, c.name) for c in categories]  # type: ignore[attr-defined]
        self.fields["place"].choices = [(p.pk, p.name) for p in places]  # type: ignore[attr-defined]
        self.fields["source"].choices = [c for c in NeedSource.choices if c[0] != NeedSource.CASE]  # type: ignore[attr-defined]

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "title": d["title"],
            "category_id": d["category"],
            "place_id": d["place"],
            "description": d["description"],
            "beneficiaries": d["beneficiaries"],
            "beneficiary_count": d["beneficiary_count"],
            "urgency": d["urgency"],
            "slots": d["slots"],
            "source": d["source"],
            "source_note": d["source_note"],
        }


class ResourceForm(forms.Form):
    unit = forms.TypedChoiceField(label=_("Offered by"), coerce=int)
    title = forms.CharField(label=_("What is offered"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=ResourceKind.choices)
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, required=False, empty_value=None)
    place = forms.TypedChoiceField(label=_("Where"), coerce=int)
    description = forms.CharField(
        label=pgettext_lazy("participation", "Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    capacity = forms.IntegerField(label=_("Capacity (people served)"), min_value=1, max_value=1_000_000, initial=10)
    slots = forms.MultipleChoiceField(
        label=_("Available"), choices=SLOT_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    contact_name = forms.CharField(label=_("Contact person"), max_length=60, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=20, required=False)

    def __init__(self, *args: Any, units: list[Any], categories: list[Any], places: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.pk, u.name) for u in units]  # type: ignore[attr-defined]
        self.fields["category"].choices = [("", "—")] + [(c.pk, c.name) for c in categories]  # type: ignore[attr-defined]
        self.fields["place"].choices = [(p.pk, p.name) for p in places]  # type: ignore[attr-defined]

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "unit_id": d["unit"],
            "title": d["title"],
            "kind": d["kind"],
            "category_id": d["category"],
            "place_id": d["place"],
            "description": d["description"],
            "capacity": d["capacity"],
            "slots": d["slots"],
            "contact_name": d["contact_name"],
            "contact_phone": d["contact_phone"],
        }


class ProgressForm(forms.Form):
    progress = forms.IntegerField(label=_("Progress %"), min_value=0, max_value=100)
    note = forms.CharField(label=_("What was done this time"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    hours = forms.DecimalField(label=_("Volunteer hours"), min_value=0, max_digits=9, decimal_places=1, initial=0)
    funds = forms.DecimalField(label=_("Funds (yuan)"), min_value=0, max_digits=12, decimal_places=2, initial=0)
    people_served = forms.IntegerField(label=_("People served"), min_value=0, max_value=100_000, initial=0)
    photo = forms.FileField(label=_("Photo"), required=False)


class AcceptForm(forms.Form):
    surveyed = forms.IntegerField(label=_("Residents asked"), min_value=0, max_value=100_000)
    satisfied = forms.IntegerField(label=_("Of them satisfied"), min_value=0, max_value=100_000)


class WishForm(forms.Form):
    """A grid worker records a resident's micro-wish (微心愿), with the resident's consent."""

    person = forms.TypedChoiceField(label=_("Resident"), coerce=int)
    title = forms.CharField(label=_("The wish"), max_length=60, help_text=_("e.g. a wheelchair, tutoring, a repair"))
    description = forms.CharField(
        label=_("Details for the wall"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown publicly: no name, phone, ID number or address."),
    )
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, required=False, empty_value=None)
    consent = forms.BooleanField(label=_("The resident agrees to the wish being shown on the wish wall"))
    consent_note = forms.CharField(
        label=_("How consent was given"), max_length=120, initial=_("Agreed in person at the visit")
    )

    def __init__(self, *args: Any, people: list[Any], categories: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = people  # type: ignore[attr-defined]
        self.fields["category"].choices = [("", "—"), *((c.pk, c.name) for c in categories)]  # type: ignore[attr-defined]


class FulfilForm(forms.Form):
    note = forms.CharField(
        label=_("How the wish was fulfilled"), max_length=300, widget=forms.Textarea(attrs={"rows": 3})
    )
    photo = forms.ImageField(label=_("Photo"), required=False)
