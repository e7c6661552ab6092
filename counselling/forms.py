from django import forms
from django.utils.translation import gettext_lazy as _

from citedesmetiers.ids import IdChoiceField, IdField, IdMultipleChoiceField
from citedesmetiers.models import Partner, Site, Theme
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

    def __init__(self, *args, theme: Theme | None = None, site: Site | None = None, **kwargs):
        """Shown for the visitor's `theme`: its topics, the other themes to refer to. Posted, it
        is read at the desk's `site` (`site=`): the answers must be the site's, and the service
        then holds them against the visitor's theme (so the view need not read the visit)."""
        super().__init__(*args, **kwargs)
        if theme is not None:
            topics = Topic.objects.filter(theme=theme)
            themes = Theme.objects.filter(site_id=theme.site_id).exclude(pk=theme.pk)
        else:
            topics = Topic.objects.filter(theme__site=site)
            themes = Theme.objects.filter(site=site)
        self.fields["topics"].queryset = topics.filter(active=True)
        self.fields["refer_theme"].queryset = themes.filter(active=True)


class CallTicketForm(forms.Form):
    visit = IdField()
    reason = forms.ChoiceField(label=_("Reason"), choices=Call.OutOfOrder.choices)
