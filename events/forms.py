import re

from django import forms
from django.utils.translation import gettext_lazy as _


class RegistrationForm(forms.Form):
    pseudonym = forms.CharField(
        label=_("First name or pseudonym"),
        max_length=60,
        help_text=_("So that the facilitator can welcome you. No surname needed."),
    )
    email = forms.EmailField(
        label=_("E-mail address (optional)"),
        required=False,
        help_text=_(
            "Only to send you the confirmation, a reminder two days before and a link to "
            "cancel. It is deleted a few days after the event."
        ),
    )
    # The solution of the automatic check, when the page asks for it (static/js/challenge.js).
    altcha = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    # A field people never see: robots fill it in.
    website = forms.CharField(
        required=False,
        label=_("Leave this field empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )


class OnTheSpotForm(forms.Form):
    pseudonym = forms.CharField(label=_("First name or pseudonym"), max_length=60)


class FindRegistrationForm(forms.Form):
    code = forms.CharField(
        label=_("Registration code"),
        max_length=40,
        help_text=_(
            "Eight letters and digits, as printed by reception or shown on your "
            "registration's page. Spaces and small letters do not matter."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )

    def clean_code(self) -> str:
        # As people type it back: with spaces or hyphens between the groups, in small letters.
        return re.sub(r"[\s\-‐‑–—.]+", "", self.cleaned_data["code"]).upper()
