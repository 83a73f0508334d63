"""Forms of the case pages: they read and check what a person typed, nothing more.

Every rule of the domain (who may report, where a case lands, which transition is possible) stays in
``cases.services`` and ``cases.workflow``; a ``ValidationFailed`` from there is put back on the form next to the
field it names (see ``views.add_service_errors``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from gongzhi.cases.choices import KIND_WORD, CategoryKind, Channel, Rating, Status, Urgency
from gongzhi.cases.selectors import category_terms

if TYPE_CHECKING:
    from gongzhi.cases.workflow import Transition

PHONE_VALIDATOR = RegexValidator(r"^\d{5,20}$", _("Enter the phone number in digits only (5 to 20 digits)."))


def set_choices(form: forms.Form, name: str, choices: Sequence[Any]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = list(choices)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos from one ``<input type=file multiple>``; the phone opens its camera (``capture``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/*", "capture": "environment", "class": "photo-input"}),
        )
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            files = [single(item, initial) for item in data if item]
        else:
            files = [single(data, initial)] if data else []
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return files


def category_choices(categories: Iterable[Any]) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """(major choices, minor choices grouped by kind and major class: "事件 · 市容环境") from
    ``selectors.active_categories()``. A major class without minor classes is a choice of its own."""
    rows = list(categories)
    majors = [c for c in rows if not c.parent_id]
    minors: dict[int, list[tuple[str, str]]] = {}
    for c in rows:
        if c.parent_id:
            minors.setdefault(c.parent_id, []).append((str(c.pk), c.name))
    major_choices: list[tuple[str, Any]] = [("", _("— major class —"))] + [(str(m.pk), str(m)) for m in majors]
    minor_choices: list[tuple[str, Any]] = [("", _("— choose what it is about —"))]
    for m in majors:
        group = f"{KIND_WORD[CategoryKind(m.kind)]} · {m.name}"
        minor_choices.append((group, minors.get(m.pk) or [(str(m.pk), m.name)]))
    return major_choices, minor_choices


class CategorySelect(forms.Select):
    """The category select: each option carries the words it answers to (``data-terms``, see
    ``selectors.category_terms``) and its code, for the search box ``category-picker.js`` puts above it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.terms: dict[str, list[str]] = {}
        self.codes: dict[str, str] = {}

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        key = str(value)
        if key in self.terms:
            option["attrs"]["data-terms"] = "|".join(self.terms[key])
            option["attrs"]["data-code"] = self.codes[key]
        return option


class CategoryMixin(forms.Form):
    """One select of every class, grouped by kind (部件/事件) and major class, with a search box over it (by plain
    word, keyword or code) where JavaScript runs. The minor class is what is stored; ``major`` is still accepted
    (and checked against the minor class) from forms and clients that send it."""

    major = forms.ChoiceField(label=_("Major class"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False, widget=CategorySelect)

    def setup_categories(self, categories: Iterable[Any]) -> None:
        rows = list(categories)
        self.parent_of = {str(c.pk): str(c.parent_id or "") for c in rows}
        majors, minors = category_choices(rows)
        set_choices(self, "major", majors)
        set_choices(self, "category", minors)
        widget = self.fields["category"].widget
        assert isinstance(widget, CategorySelect)
        widget.terms = {str(c.pk): category_terms(c) for c in rows}
        widget.codes = {str(c.pk): c.code for c in rows}
        widget.attrs.update(
            {
                "class": "cat-select",
                "data-category-picker": "",
                "data-placeholder": _("Type a word: 井盖, 路灯, 噪音, 停车…"),
                "data-none": _("Nothing found. Try another word, or choose 其他."),
                "data-found": _("{count} found"),
            }
        )
        self.fields["major"].widget = forms.HiddenInput()

    def clean_category_pair(self, cleaned: dict[str, Any]) -> None:
        minor, major = cleaned.get("category") or "", cleaned.get("major") or ""
        if minor and major and self.parent_of.get(minor) != major:
            self.add_error("category", _("This minor class does not belong to the chosen major class."))
            return
        chosen = minor or major
        if not chosen:
            self.add_error("category", _("Choose the category of the problem."))
            return
        cleaned["category_id"] = int(chosen)


class LocationMixin(forms.Form):
    lat = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(label=_("Longitude"), required=False, min_value=-180, max_value=180)
    address = forms.CharField(
        label=_("Address"),
        required=False,
        max_length=200,
        help_text=_("Building, unit and a landmark, e.g. 金禾家苑3号楼2单元."),
    )

    # The system of lat/lng (docs/maps.md): WGS-84 from the browser's GPS and the page's map (which converts a point
    # picked on a GCJ-02 base map back); gcj02 for a point from an AMap/phone map SDK. Stored as WGS-84.
    coord_system = forms.ChoiceField(
        required=False, choices=[("wgs84", "WGS-84"), ("gcj02", "GCJ-02")], widget=forms.HiddenInput()
    )
    # The building the reporter chose from those near the point (the report map's "not this building?"): it wins
    # over the point.
    building = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput())

    def clean_location(self, cleaned: dict[str, Any]) -> None:
        if (cleaned.get("lat") is None) != (cleaned.get("lng") is None):
            self.add_error("lat", _("Give both latitude and longitude, or neither."))

    def location_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        kwargs: dict[str, Any] = {"coord_system": d.get("coord_system") or "wgs84"}
        if d.get("building"):
            kwargs["node_id"] = d["building"]
        return kwargs


class ReportForm(CategoryMixin, LocationMixin):
    """A case taken in by staff: a grid worker's patrol, a building head, a phone call at the desk."""

    channel = forms.ChoiceField(label=_("Source"))
    title = forms.CharField(label=_("Title"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    urgency = forms.ChoiceField(label=_("Urgency"), required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField(label=_("Photos"), help_text=_("Up to 9 photos, 10 MB each (JPEG, PNG, WebP or HEIC)."))
    reporter_name = forms.CharField(label=_("Reporter's name"), required=False, max_length=60)
    reporter_phone = forms.CharField(
        label=_("Reporter's phone"),
        required=False,
        max_length=20,
        validators=[PHONE_VALIDATOR],
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=_("If a resident told you: they can follow and rate the case with it."),
    )
    fixed_on_spot = forms.BooleanField(label=_("Fixed on the spot (即报即办)"), required=False)
    fixed_note = forms.CharField(label=_("What was done"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    # How sure the phone's GPS was (metres), filled by "use my location".
    gps_accuracy = forms.FloatField(required=False, min_value=0, max_value=100_000, widget=forms.HiddenInput())

    field_order = [
        "channel", "title", "major", "category", "urgency", "description", "lat", "lng", "address", "photos",
        "reporter_name", "reporter_phone", "fixed_on_spot", "fixed_note",
    ]  # fmt: skip

    def __init__(self, *args: Any, categories: Iterable[Any], channels: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_categories(categories)
        set_choices(self, "channel", [(c, Channel(c).label) for c in channels])
        if len(channels) == 1:
            self.fields["channel"].initial = channels[0]
        set_choices(self, "urgency", [("", _("As the category says")), *Urgency.choices])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.clean_category_pair(cleaned)
        self.clean_location(cleaned)
        if cleaned.get("fixed_on_spot") and not (cleaned.get("fixed_note") or "").strip():
            self.add_error("fixed_note", _("Say what was done on the spot."))
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "channel": d["channel"],
            "title": d["title"],
            "category_id": d["category_id"],
            "description": d.get("description") or "",
            "urgency": d.get("urgency") or None,
            "lat": d.get("lat"),
            "lng": d.get("lng"),
            "address": d.get("address") or "",
            "reporter_name": d.get("reporter_name") or "",
            "reporter_phone": d.get("reporter_phone") or "",
            "fixed_on_spot_note": (d.get("fixed_note") or "").strip() if d.get("fixed_on_spot") else "",
            "files": d.get("photos") or [],
            "gps_accuracy": d.get("gps_accuracy"),
            **self.location_kwargs(),
        }


class PublicReportForm(CategoryMixin, LocationMixin):
    """A resident's report, without an account: the tracking code shown afterwards is how they follow it."""

    title = forms.CharField(
        label=_("What is the problem?"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    description = forms.CharField(label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    photos = PhotosField(label=_("Photos"), help_text=_("Up to 9 photos, 10 MB each."))
    reporter_name = forms.CharField(label=_("Your name"), required=False, max_length=60)
    reporter_phone = forms.CharField(
        label=_("Your phone"),
        max_length=20,
        required=False,
        validators=[PHONE_VALIDATOR],
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        help_text=_("Optional: lets staff call you back; staff see it masked."),
    )

    field_order = [
        "title", "major", "category", "description", "address", "lat", "lng", "photos", "reporter_name",
        "reporter_phone",
    ]  # fmt: skip

    def __init__(self, *args: Any, categories: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_categories(categories)
        # A resident does not type coordinates: "use my location" fills them.
        self.fields["lat"].widget = forms.HiddenInput()
        self.fields["lng"].widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.clean_category_pair(cleaned)
        self.clean_location(cleaned)
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "channel": Channel.RESIDENT,
            "title": d["title"],
            "category_id": d["category_id"],
            "description": d.get("description") or "",
            "lat": d.get("lat"),
            "lng": d.get("lng"),
            "address": d.get("address") or "",
            "reporter_name": d.get("reporter_name") or "",
            "reporter_phone": d["reporter_phone"],
            "files": d.get("photos") or [],
            "coord_system": d.get("coord_system") or "wgs84",
        }


class ActionForm(forms.Form):
    """The small form behind one workflow button. Only the fields the action needs are kept."""

    handler = forms.ChoiceField(label=_("Dispatch to"))
    phone_handoff_note = forms.CharField(
        label=_("Phone hand-off"),
        required=False,
        max_length=500,
        help_text=_(
            "Only for a body nobody acts for in Gongzhi (marked in the list): whom you phoned there, and when. "
            "It goes on the timeline."
        ),
    )
    into_case = forms.ChoiceField(label=_("The case it duplicates"), widget=forms.RadioSelect)
    rating = forms.ChoiceField(label=_("Rating"), choices=Rating.choices, widget=forms.RadioSelect)
    resolved = forms.BooleanField(label=_("The problem is solved"), required=False, initial=True)
    responded = forms.BooleanField(label=_("Someone got in touch with the reporter"), required=False, initial=True)
    until = forms.DateField(label=_("Postponed until"), widget=forms.DateInput(attrs={"type": "date"}))
    special = forms.BooleanField(label=_("Special close (cannot be solved as asked)"), required=False)
    photos = PhotosField(label=_("Photos (evidence)"))
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reply = forms.BooleanField(
        label=_("Reply to the reporter"),
        required=False,
        help_text=_("Unchecked, the note is internal: the reporter sees the step, not the note."),
    )

    FIELDS_BY_ACTION = {
        "dispatch": ("handler", "phone_handoff_note"),
        "merge": ("into_case",),
        "follow_up": ("rating", "resolved", "responded"),
        "postpone": ("until",),
        "close": ("special",),
        "dispose": ("photos",),
        "fix_on_spot": ("photos",),
    }
    COMMON = ("note", "reply")

    def __init__(
        self,
        *args: Any,
        transition: Transition,
        handler_choices: Sequence[Any] = (),
        merge_choices: Sequence[tuple[str, str]] = (),
        today: date | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", transition.action)
        super().__init__(*args, **kwargs)
        self.transition = transition
        self.today = today
        keep = set(self.FIELDS_BY_ACTION.get(transition.action, ())) | set(self.COMMON)
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if "handler" in self.fields:
            set_choices(self, "handler", [("", _("— choose —")), *handler_choices])
        if "into_case" in self.fields:
            set_choices(self, "into_case", list(merge_choices))
        if transition.note_required:
            self.fields["note"].required = True
            self.fields["note"].label = _("Reason / what was done")

    def clean_until(self) -> date | None:
        until: date | None = self.cleaned_data.get("until")
        if until is not None and self.today is not None and until < self.today:
            raise forms.ValidationError(_("Choose a day from today on."))
        return until

    def payload(self) -> dict[str, Any]:
        from datetime import datetime, time

        from django.utils import timezone

        d = self.cleaned_data
        out: dict[str, Any] = {}
        handler = d.get("handler") or ""
        if handler.startswith("body:"):
            out["handler_body_id"] = int(handler[5:])
        elif handler.startswith("node:"):
            out["handler_node_id"] = int(handler[5:])
        if (d.get("phone_handoff_note") or "").strip():
            out["phone_handoff_note"] = d["phone_handoff_note"].strip()
        if d.get("into_case"):
            out["into_case_id"] = int(d["into_case"])
        if "rating" in self.fields:
            out["rating"] = d.get("rating")
            out["resolved"] = bool(d.get("resolved"))
            out["responded"] = bool(d.get("responded"))
        if d.get("until"):
            out["until"] = timezone.make_aware(datetime.combine(d["until"], time(17, 30)))
        if d.get("special"):
            out["special"] = True
        return out


class CaseIdsField(forms.Field):
    """The ticked cases of a list (``<input type=checkbox name=… value=id>`` outside the form, ``form=`` its id)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        try:
            return [int(v) for v in value or []]
        except (TypeError, ValueError):
            raise forms.ValidationError(_("Not a list of cases.")) from None


class BatchDispatchForm(forms.Form):
    """The desk's batch dispatch: the ticked cases of the intake queue to one body or grid."""

    case = CaseIdsField(label=_("Cases"), error_messages={"required": _("Tick the cases to dispatch.")})
    handler = forms.ChoiceField(label=_("Dispatch to"))
    phone_handoff_note = ActionForm.base_fields["phone_handoff_note"]
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, handler_choices: Sequence[Any] = (), **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "batch")
        super().__init__(*args, **kwargs)
        set_choices(self, "handler", [("", _("— choose —")), *handler_choices])

    def target(self) -> dict[str, int]:
        handler = self.cleaned_data.get("handler") or ""
        if handler.startswith("body:"):
            return {"handler_body_id": int(handler[5:])}
        if handler.startswith("node:"):
            return {"handler_node_id": int(handler[5:])}
        return {}


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}))
    reply = forms.BooleanField(
        label=_("Reply to the reporter"),
        required=False,
        help_text=_("Unchecked, the note is internal: only staff see it."),
    )


class AttachForm(forms.Form):
    photos = PhotosField(label=_("Photos"), required=True)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class HandOverForm(forms.Form):
    to_user = forms.ChoiceField(label=_("Hand over to"))
    note = forms.CharField(label=_("Why"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, people: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "to_user", [("", _("— choose —")), *people])


class CategoryConfirmForm(CategoryMixin):
    """The desk sets a case's category (a 12345 ticket whose category matched none of ours)."""

    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, categories: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_categories(categories)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.clean_category_pair(cleaned)
        return cleaned


YES_NO_ANY = (("", _("Any")), ("1", _("Yes")), ("0", _("No")))


class CaseFilterForm(forms.Form):
    text = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    node = forms.ChoiceField(label=_("Community / grid"), required=False)
    overdue = forms.ChoiceField(label=_("Overdue"), required=False, choices=YES_NO_ANY)
    date_from = forms.DateField(
        label=_("Reported from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("Reported until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, categories: Iterable[Any], places: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "status", [("", _("Any")), ("open", _("All open")), *Status.choices])
        rows = list(categories)
        cats: list[tuple[str, Any]] = [("", _("Any"))]
        for major in [c for c in rows if not c.parent_id]:
            cats.append((str(major.pk), str(major)))
            cats += [(str(c.pk), f"— {c.name}") for c in rows if c.parent_id == major.pk]
        set_choices(self, "category", cats)
        set_choices(
            self,
            "node",
            [("", _("Anywhere in my scope"))]
            + [(str(n.pk), f"{'— ' if n.kind == 'grid' else ''}{n.name}") for n in places],
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end comes before the start."))
        return cleaned

    def selector_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        status = d.get("status") or ""
        return {
            "status": [status] if status and status != "open" else None,
            "open_only": status == "open",
            "category_id": int(d["category"]) if d.get("category") else None,
            "node_id": int(d["node"]) if d.get("node") else None,
            "overdue": {"1": True, "0": False}.get(d.get("overdue") or ""),
            "date_from": d.get("date_from"),
            "date_to": d.get("date_to"),
            "text": (d.get("text") or "").strip() or None,
        }


class HotlineForm(forms.Form):
    file = forms.FileField(
        label=_("12345 export (CSV or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
    check_columns = forms.BooleanField(
        label=_("Check the columns first"),
        required=False,
        help_text=_(
            "Shows which column of the file goes to each field before importing. Without it, the columns "
            "are matched as last time (or by the usual 12345 headers); when they do not fit, you are asked."
        ),
    )


class HotlineMappingForm(forms.Form):
    """The 12345 import's column step: for each of our fields, the column of the uploaded file that holds it,
    pre-selected (the desk's last mapping, else the usual header); required fields must have one."""

    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        fields: Sequence[tuple[str, Any, bool]],
        header: Sequence[str],
        guessed: dict[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        columns = [("", _("— not in the file —"))] + [(h, h) for h in dict.fromkeys(h for h in header if h)]
        self.field_names: list[str] = []
        for name, label, required in fields:
            key = f"col_{name}"
            self.fields[key] = forms.ChoiceField(label=label, required=required, choices=columns)
            self.fields[key].initial = guessed.get(name, "")
            self.fields[key].widget.attrs["data-field"] = name
            self.field_names.append(name)

    def mapping(self) -> dict[str, str]:
        """Our field → the chosen header ("" when the field is not in the file)."""
        return {name: self.cleaned_data.get(f"col_{name}") or "" for name in self.field_names}


class TrackForm(forms.Form):
    code = forms.CharField(
        label=_("Tracking code or case number"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
        help_text=_("The tracking code you were given when you reported (e.g. 7KQ2-M9XD-4TFB-R8WC)."),
    )
    phone = forms.CharField(
        label=_("Your phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
        help_text=_(
            "Optional with a tracking code (if given, it must be the one you reported with); needed with a case number."
        ),
    )


class RateForm(forms.Form):
    code = forms.CharField(max_length=32, widget=forms.HiddenInput)
    phone = forms.CharField(max_length=20, required=False, widget=forms.HiddenInput)
    rating = forms.ChoiceField(label=_("How satisfied are you?"), choices=Rating.choices, widget=forms.RadioSelect)
    resolved = forms.ChoiceField(
        label=_("Is the problem solved?"),
        choices=(("1", _("Yes")), ("0", _("No"))),
        widget=forms.RadioSelect,
        initial="1",
    )
    note = forms.CharField(
        label=_("Anything to add?"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class MyRateForm(RateForm):
    """The rating a signed-in resident gives their own closed case (我的反映): no code or phone to give."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["code"]
        del self.fields["phone"]
