"""Forms of the visit pages: they read and check what a person typed, nothing more.

The rules (who may record where, what covers a campaign target, when a need becomes a case) stay in
``visits.services``; a ``ValidationFailed`` from there is put back on the form next to the field it names.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.cases.forms import CategoryMixin, set_choices
from gongzhi.registry.choices import TagKind
from gongzhi.visits.choices import Outcome

# Big buttons on the phone, in the order a worker meets them at the door.
OUTCOME_ORDER = (Outcome.MET, Outcome.NOT_HOME, Outcome.REFUSED, Outcome.MOVED_AWAY)


class VisitForm(CategoryMixin):
    """Record a visit at the door; a need found can become a case (category and an optional title)."""

    outcome = forms.ChoiceField(label=_("Outcome"), widget=forms.RadioSelect)
    person = forms.ChoiceField(label=_("Person visited"), required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    needs = forms.CharField(
        label=_("Needs found"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the household asks for or needs help with."),
    )
    raise_case = forms.BooleanField(label=_("Raise a case from this need"), required=False)
    case_title = forms.CharField(
        label=_("Case title (optional)"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("Empty: the first line of the needs."),
    )
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    gps_accuracy = forms.FloatField(required=False, min_value=0, max_value=100_000, widget=forms.HiddenInput)

    field_order = [
        "outcome", "person", "notes", "needs", "raise_case", "major", "category", "case_title", "lat", "lng",
    ]  # fmt: skip

    def __init__(self, *args: Any, people: Sequence[Any], categories: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_categories(categories)
        set_choices(self, "outcome", [(o.value, o.label) for o in OUTCOME_ORDER])
        set_choices(self, "person", [("", _("— the household —")), *[(str(p.pk), p.name) for p in people]])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("raise_case"):
            if not (cleaned.get("needs") or "").strip():
                self.add_error("needs", _("say what the household needs to raise a case"))
            self.clean_category_pair(cleaned)
        if (cleaned.get("lat") is None) != (cleaned.get("lng") is None):
            cleaned["lat"] = cleaned["lng"] = None  # half a position is no position
        if cleaned.get("lat") is None:
            cleaned["gps_accuracy"] = None
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        raise_case = bool(d.get("raise_case"))
        return {
            "outcome": d["outcome"],
            "person_id": int(d["person"]) if d.get("person") else None,
            "notes": d.get("notes") or "",
            "needs": d.get("needs") or "",
            "raise_case": raise_case,
            "category_id": d.get("category_id") if raise_case else None,
            "case_title": (d.get("case_title") or "") if raise_case else "",
            "lat": d.get("lat"),
            "lng": d.get("lng"),
            "gps_accuracy": d.get("gps_accuracy"),
        }


class CampaignForm(forms.Form):
    name = forms.CharField(
        label=_("Campaign name"), max_length=120, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    area = forms.ChoiceField(label=_("Area to visit"), help_text=_("Every household with residents in it is a target."))
    tags = forms.MultipleChoiceField(
        label=_("Only visit households with"),
        required=False,
        choices=TagKind.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every household of the area."),
    )
    starts = forms.DateField(label=_("Starts"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    ends = forms.DateField(label=_("Ends"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    description = forms.CharField(
        label=pgettext_lazy("campaign", "Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, areas: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        indent = {"subdistrict": "", "community": "— ", "village": "— ", "grid": "—— "}
        set_choices(
            self, "area", [("", _("— choose —")), *[(str(n.pk), f"{indent.get(n.kind, '')}{n.name}") for n in areas]]
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts, ends = cleaned.get("starts"), cleaned.get("ends")
        if starts and ends and ends < starts:
            self.add_error("ends", _("The end comes before the start."))
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "area_id": int(d["area"]),
            "tags": list(d.get("tags") or []),
            "starts": d["starts"],
            "ends": d["ends"],
            "description": d.get("description") or "",
        }


class CarePlanForm(forms.Form):
    person = forms.IntegerField(
        label=_("Person"), widget=forms.HiddenInput, error_messages={"required": _("Choose a person.")}
    )
    every_days = forms.IntegerField(label=_("Visit every (days)"), min_value=1, max_value=366, initial=7)
    starts = forms.DateField(
        label=_("First visit due"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("e.g. elderly living alone"),
    )

    def __init__(self, *args: Any, today: datetime.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if today is not None:
            self.fields["starts"].initial = today

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "person_id": d["person"],
            "every_days": d["every_days"],
            "starts": d.get("starts"),
            "reason": d.get("reason") or "",
        }
