"""Forms of the notice pages. They only shape input; the rules live in ``notices.services``."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from gongzhi.notices.choices import ReadVia
from gongzhi.notices.services import BODY_MAX, TITLE_MAX
from gongzhi.registry.choices import TagKind


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
