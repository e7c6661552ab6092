from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import GotWhat, Helped, Recommend, Wait
from .services import Answers


class FeedbackForm(forms.Form):
    """The three closed questions and the "what would have helped" list; no free text. Each
    question may be left out, but not all of them."""

    got_what = forms.ChoiceField(
        label=_("Did you get what you came for?"),
        choices=GotWhat.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    wait = forms.ChoiceField(
        label=_("The wait was…"), choices=Wait.choices, required=False, widget=forms.RadioSelect
    )
    recommend = forms.ChoiceField(
        label=_("Would you recommend us to someone?"),
        choices=Recommend.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    helped = forms.MultipleChoiceField(
        label=_("What would have helped? (optional)"),
        choices=Helped.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name in ("got_what", "wait", "recommend", "helped")):
            raise forms.ValidationError(_("Tap at least one answer, then send."), code="empty")
        return data

    def answers(self) -> Answers:
        data = self.cleaned_data
        return Answers(
            got_what=data["got_what"],
            wait=data["wait"],
            recommend=data["recommend"],
            helped=tuple(data["helped"]),
        )

    def questions(self):
        """The three radio groups, for the template: (bound field, its id)."""
        return [self[name] for name in ("got_what", "wait", "recommend")]
