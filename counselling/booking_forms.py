"""The public booking form: who (a first name or pseudonym) and one way to reach them. Which
contact a channel needs is the service's rule (counselling.services.appointments): the form only
carries what was typed, as it was typed, so that a refusal shows it again."""

from __future__ import annotations

from django import forms
from django.forms import BoundField
from django.utils.translation import gettext_lazy as _

from .services.appointments import PSEUDONYM_MAX


class _DescribedField(BoundField):
    """A field described by the widget's own `aria-describedby` (a text the page shares between
    fields, such as what the contact is used for) and also, as Django does by default, by its help
    text and, once refused, by its error message."""

    @property
    def aria_describedby(self) -> str:
        ids = [self.field.widget.attrs.get("aria-describedby", "")]
        if self.auto_id and not self.is_hidden:
            if self.help_text:
                ids.append(f"{self.auto_id}_helptext")
            if self.errors:
                ids.append(f"{self.auto_id}_error")
        return " ".join(i for i in ids if i)


class BookingForm(forms.Form):
    bound_field_class = _DescribedField

    # The steps chosen before (theme, channel, slot) travel with the form as hidden fields.
    theme = forms.CharField(max_length=20, widget=forms.HiddenInput)
    channel = forms.CharField(max_length=20, widget=forms.HiddenInput)
    slot = forms.CharField(max_length=40, widget=forms.HiddenInput)
    pseudonym = forms.CharField(
        label=_("First name or pseudonym"),
        # The service says what is too long, in a sentence; the field only keeps junk out.
        max_length=PSEUDONYM_MAX * 4,
        required=False,
        help_text=_("So that the counsellor can greet you. No surname needed."),
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "autocomplete": "tel",
                "inputmode": "tel",
                "aria-describedby": "contact-use",
            }
        ),
    )
    email = forms.CharField(
        label=_("E-mail address"),
        max_length=254,
        required=False,
        widget=forms.TextInput(
            attrs={
                "type": "email",
                "autocomplete": "email",
                "inputmode": "email",
                "aria-describedby": "contact-use",
            }
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
