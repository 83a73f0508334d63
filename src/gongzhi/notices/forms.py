"""Forms of the notice pages. They only shape input; the rules live in ``notices.services``."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from gongzhi.notices.choices import ReadVia
from gongzhi.notices.services import BODY_MAX, TITLE_MAX
from gongzhi.registry.choices import TagKind

# The services' messages, so that the pages can show them translated (see views.translated).
SERVICE_MESSAGES = (
    gettext_noop("You may not send notices."),
    gettext_noop("You may not send notices to this place."),
    gettext_noop("The notice to join was not found."),
    gettext_noop("no such notice"),
    gettext_noop("a title is required"),
    gettext_noop("the text is required"),
    gettext_noop("not a body you act for"),
    gettext_noop("say which body you send for"),
    gettext_noop("The notice cannot be sent."),
    gettext_noop("No household matches: nobody lives there yet, or nobody carries these tags."),
    gettext_noop("no households to deliver to"),
    gettext_noop("No notice for this link."),
    gettext_noop("Confirm reading in person or by phone."),
)


class NoticeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    body = forms.CharField(label=_("Text"), max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 8}))
    area = forms.TypedChoiceField(
        label=_("Send to"),
        coerce=int,
        help_text=_("Every household there with at least one resident receives it once."),
    )
    tags = forms.MultipleChoiceField(
        label=_("Only households with"),
        choices=TagKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty to reach every household."),
    )
    sender_body = forms.TypedChoiceField(label=_("On behalf of"), coerce=int, required=False, empty_value=None)

    def __init__(
        self,
        *args: Any,
        area_choices: list[Any] | None = None,
        body_choices: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["area"]).choices = [("", "—"), *(area_choices or [])]
        if body_choices and len(body_choices) > 1:
            cast(forms.ChoiceField, self.fields["sender_body"]).choices = [("", "—"), *body_choices]
        else:
            del self.fields["sender_body"]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "body": data["body"],
            "area_id": data["area"],
            "tags": list(data.get("tags") or []),
            "sender_body_id": data.get("sender_body"),
        }


class ConfirmForm(forms.Form):
    via = forms.ChoiceField(
        choices=[(ReadVia.IN_PERSON, ReadVia.IN_PERSON.label), (ReadVia.PHONE, ReadVia.PHONE.label)]
    )
