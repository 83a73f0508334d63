"""Forms of the messaging pages. They only shape input; the rules live in ``messaging.services``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class PreferenceForm(forms.Form):
    sms = forms.BooleanField(label=_("SMS"), required=False)
    email = forms.BooleanField(label=_("E-mail"), required=False)
    quiet_start = forms.TimeField(
        label=_("Quiet hours from"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours until"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("No SMS in these hours (the same time twice: none); urgent messages are sent at once."),
    )
    digest = forms.BooleanField(
        label=_("Daily digest instead of single messages"),
        required=False,
        help_text=_("Your SMS and e-mail come as one message a day at %(hour)s:00; urgent ones at once. "
                    "Your inbox here is told at once either way."),
    )  # fmt: skip


class DutyGroupForm(forms.Form):
    webhook_url = forms.CharField(
        label=_("WeCom group robot webhook URL"),
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "url"}),
        help_text=_("Leave empty to keep the stored one."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    remove = forms.BooleanField(label=_("Remove the duty group"), required=False)
