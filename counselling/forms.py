from django import forms
from django.utils.translation import gettext_lazy as _

from citedesmetiers.ids import IdChoiceField, IdField, IdListField, IdMultipleChoiceField
from citedesmetiers.models import Partner, Theme
from reception.models import Call, Channel

from .models import Outcome, Topic


class FinishInterviewForm(forms.Form):
    """Coded topics and outcomes only: there is no field for free text about the person."""

    channel = forms.ChoiceField(
        label=_("Channel"), choices=Channel.choices, initial=Channel.IN_PERSON
    )
    topics = IdMultipleChoiceField(
        label=_("Topics"),
        queryset=Topic.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    outcomes = forms.MultipleChoiceField(
        label=_("Outcome"),
        choices=Outcome.Code.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    refer_theme = IdChoiceField(
        label=_("Refer to the desk for"),
        queryset=Theme.objects.none(),
        required=False,
        empty_label="—",  # as the other menus of the form
    )
    referral_reason = forms.ChoiceField(
        label=_("Why"), choices=[("", "—"), *Outcome.Reason.choices], required=False
    )
    partner_kind = forms.ChoiceField(
        label=_("Kind of institution"),
        choices=[("", "—"), *Partner.Kind.choices],
        required=False,
    )

    def __init__(self, *args, theme: Theme | None = None, **kwargs):
        """Shown for the visitor's `theme`: its topics, the other themes to refer to."""
        super().__init__(*args, **kwargs)
        if theme is not None:
            self.fields["topics"].queryset = Topic.objects.filter(theme=theme, active=True)
            self.fields["refer_theme"].queryset = Theme.objects.filter(
                site_id=theme.site_id, active=True
            ).exclude(pk=theme.pk)


class FinishAnswersForm(FinishInterviewForm):
    """The finish form as a desk posts it: the topics and the theme referred to are read as ids
    only. The service holds them against the visitor's theme and site, which the view has not
    read (so neither it nor this form reads the visit, the topics or the themes)."""

    topics = IdListField(required=False)
    refer_theme = IdField(required=False)


class CallTicketForm(forms.Form):
    visit = IdField()
    reason = forms.ChoiceField(label=_("Reason"), choices=Call.OutOfOrder.choices)
