from django import forms
from django.utils.translation import gettext_lazy as _

from citedesmetiers.ids import IdField

from .models import AgeBracket, Area, Situation


class ProfileForm(forms.Form):
    """The optional, coarse profile. Every question can be left at “prefer not to say”."""

    age_bracket = forms.ChoiceField(
        label=_("Age"), choices=AgeBracket.choices, required=False, widget=forms.RadioSelect
    )
    situation = forms.ChoiceField(
        label=_("Situation"), choices=Situation.choices, required=False, widget=forms.RadioSelect
    )
    area = forms.ChoiceField(
        label=_("Lives in"), choices=Area.choices, required=False, widget=forms.RadioSelect
    )


class CheckInForm(ProfileForm):
    theme = IdField()
    checkin_key = forms.UUIDField(widget=forms.HiddenInput)
    override_hours = forms.BooleanField(label=_("Check in anyway (late arrival)"), required=False)
    # Checked by the service against LANGUAGES, so an unknown code gets its own clear refusal.
    language = forms.CharField(required=False, strip=True)
