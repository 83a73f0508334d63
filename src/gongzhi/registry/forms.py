"""Forms of the registry pages: they read and check what a person typed, nothing more.

Every rule of the domain (ID-card checksum, who may see or change whom, what an import accepts) stays in
``registry.services``, ``registry.imports`` and ``registry.exports``; a ``ValidationFailed`` from there is put back on
the form next to the field it names (see ``views.add_service_errors``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.registry.choices import ImportKind, PartyMemberType, PopulationType, TagKind

YES_NO_ANY = [("", _("Any")), ("1", _("Yes")), ("0", _("No"))]
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

def set_choices(form: forms.Form, name: str, choices: Sequence[Any]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = list(choices)


def place_choices(places: Iterable[Any], empty: Any) -> list[tuple[str, Any]]:
    """Communities and villages with their grids under them (indented), for an "area" select."""
    return [("", empty)] + [(str(n.pk), f"{'— ' if n.kind == 'grid' else ''}{n.name}") for n in places]


def _int_or_none(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


class PersonFilterForm(forms.Form):
    """The registry search: name or room, area, population type, key-service tag."""

    q = forms.CharField(
        label=_("Name or room"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    area = forms.ChoiceField(label=_("Community / grid"), required=False)
    population_type = forms.ChoiceField(label=_("Population type"), required=False)
    tag = forms.ChoiceField(label=_("Key service target"), required=False)

    def __init__(self, *args: Any, places: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "area", place_choices(places, _("Anywhere in my scope")))
        set_choices(self, "population_type", [("", _("Any")), *PopulationType.choices])
        set_choices(self, "tag", [("", _("Any")), *TagKind.choices])

    def selector_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "q": (d.get("q") or "").strip() or None,
            "within_id": _int_or_none(d.get("area")),
            "population_type": d.get("population_type") or None,
            "tag": d.get("tag") or None,
        }


class PartyMemberFilterForm(forms.Form):
    """Party members: by name, area, type, branch and whether they reported in (双报到)."""

    q = forms.CharField(
        label=_("Name"), required=False, max_length=60, widget=forms.TextInput(attrs={"type": "search"})
    )
    area = forms.ChoiceField(label=_("Community / grid"), required=False)
    member_type = forms.ChoiceField(label=_("Member type"), required=False)
    branch = forms.ChoiceField(label=_("Branch"), required=False)
    reported_in = forms.ChoiceField(label=_("Reported in (双报到)"), required=False, choices=YES_NO_ANY)

    def __init__(self, *args: Any, places: Iterable[Any], branches: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "area", place_choices(places, _("Anywhere in my scope")))
        set_choices(self, "member_type", [("", _("Any")), *PartyMemberType.choices])
        set_choices(self, "branch", [("", _("Any"))] + [(str(b.pk), b.name) for b in branches])

    def selector_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "q": (d.get("q") or "").strip() or None,
            "within_id": _int_or_none(d.get("area")),
            "member_type": d.get("member_type") or None,
            "branch_id": _int_or_none(d.get("branch")),
            "reported_in": {"1": True, "0": False}.get(d.get("reported_in") or ""),
        }


class OrganisationFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Name"), required=False, max_length=60, widget=forms.TextInput(attrs={"type": "search"})
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False)

    def __init__(self, *args: Any, kinds: Sequence[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "kind", [("", _("Any")), *kinds])

    def selector_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {"q": (d.get("q") or "").strip() or None, "kind": d.get("kind") or None}


class TagForm(forms.Form):
    """Mark a person as a key service target (重点服务对象) from a date."""

    tag = forms.ChoiceField(label=_("Tag"), choices=TagKind.choices)
    label = forms.CharField(label=_("Label"), required=False, max_length=60, help_text=_("What an 'other' tag means."))
    since = forms.DateField(label=_("Since"), required=False, widget=DATE_INPUT, help_text=_("Empty: today."))
    until = forms.DateField(label=_("Until"), required=False, widget=DATE_INPUT)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("tag") == TagKind.OTHER and not (cleaned.get("label") or "").strip():
            self.add_error("label", _("An 'other' tag needs a label."))
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"tag": d["tag"], "label": d.get("label") or "", "since": d.get("since"), "until": d.get("until")}


class UntagForm(forms.Form):
    until = forms.DateField(label=_("Ended on"), required=False, widget=DATE_INPUT, help_text=_("Empty: today."))


class ImportUploadForm(forms.Form):
    """Step one of an import: what the file holds, the file, and whether to import the good rows of a partly bad
    file."""

    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportKind.choices, widget=forms.RadioSelect)
    file = forms.FileField(
        label=_("File (XLSX or CSV)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
        help_text=_("The first row is the header. Our template has the usual headers; other headers can be mapped."),
    )
    all_or_nothing = forms.BooleanField(
        label=_("All or nothing"),
        required=False,
        help_text=_(
            "By default the good rows are imported and the bad ones come back in a file to fix and import again. "
            "With this, nothing is imported when any row is bad."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].initial = ImportKind.RESIDENTS


class ImportMappingForm(forms.Form):
    """Step two: for each of our fields, the column of the file that holds it (pre-set from the usual headers)."""

    token = forms.CharField(widget=forms.HiddenInput)
    all_or_nothing = forms.BooleanField(label=_("All or nothing"), required=False)

    def __init__(
        self,
        *args: Any,
        fields: Sequence[tuple[str, Any, bool]],
        header: Sequence[str],
        detected: dict[str, str],
        **kwargs: Any,
    ) -> None:
        """``fields``: (our field, its label, required); ``header``: the file's headers; ``detected``: our field →
        the header that the import would use without a mapping."""
        super().__init__(*args, **kwargs)
        columns = [("", _("— not in the file —"))] + [(h, h) for h in header if h]
        self.field_names: list[str] = []
        for name, label, required in fields:
            key = f"col_{name}"
            self.fields[key] = forms.ChoiceField(label=label, required=False, choices=columns)
            self.fields[key].initial = detected.get(name, "")
            self.fields[key].widget.attrs["data-field"] = name
            if required:
                self.fields[key].widget.attrs["data-required"] = "true"
            self.field_names.append(name)
        self.order_fields(["token", *[f"col_{n}" for n in self.field_names], "all_or_nothing"])

    def mapping(self) -> dict[str, str]:
        """Our field → the chosen header ("" when the field is not in the file)."""
        return {name: self.cleaned_data.get(f"col_{name}") or "" for name in self.field_names}


class ContactForm(forms.Form):
    """A contact person of an organisation. Editing never shows the stored phone: an empty phone keeps it."""

    name = forms.CharField(label=_("Name"), max_length=60)
    title = forms.CharField(label=_("Post"), required=False, max_length=60)
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(label=_("Email"), required=False)
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            self.fields["phone"].help_text = _("Leave empty to keep the phone on record.")

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        out: dict[str, Any] = {
            "name": d["name"].strip(),
            "title": d.get("title") or "",
            "email": d.get("email") or "",
            "is_primary": bool(d.get("is_primary")),
        }
        phone = (d.get("phone") or "").strip()
        if phone or not self.editing:
            out["phone"] = phone
        return out


class AgreementForm(forms.Form):
    """A co-building agreement (共建协议): who signs, when, for how long, and what each side commits to. When editing,
    the community side stays as signed."""

    title = forms.CharField(label=_("Title"), max_length=120)
    partner = forms.ChoiceField(label=_("Community side"))
    party_org = forms.ChoiceField(label=_("Party organisation"), required=False)
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE_INPUT)
    starts = forms.DateField(label=_("Starts"), widget=DATE_INPUT)
    ends = forms.DateField(label=_("Ends"), required=False, widget=DATE_INPUT)
    commitments = forms.CharField(
        label=_("Commitments"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What each party commits to, one item per line."),
    )

    def __init__(
        self,
        *args: Any,
        partners: Iterable[Any] = (),
        party_orgs: Iterable[Any] = (),
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            del self.fields["partner"]
        else:
            set_choices(self, "partner", [(str(n.pk), n.name) for n in partners])
        set_choices(self, "party_org", [("", _("None"))] + [(str(p.pk), p.name) for p in party_orgs])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts, ends = cleaned.get("starts"), cleaned.get("ends")
        if starts and ends and ends < starts:
            self.add_error("ends", _("The end comes before the start."))
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        out: dict[str, Any] = {
            "title": d["title"].strip(),
            "party_org_id": _int_or_none(d.get("party_org")),
            "signed_on": d["signed_on"],
            "starts": d["starts"],
            "ends": d.get("ends"),
            "commitments": [line.strip() for line in (d.get("commitments") or "").splitlines() if line.strip()],
        }
        if not self.editing:
            out["partner_id"] = int(d["partner"])
        return out


class EndAgreementForm(forms.Form):
    ends = forms.DateField(label=_("Ended on"), required=False, widget=DATE_INPUT, help_text=_("Empty: today."))
    note = forms.CharField(label=_("Note"), required=False, max_length=200)
