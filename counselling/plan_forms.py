"""Forms of the managers' presence-plan screens. They only read what was typed, within the
choices of the manager's site; every rule of the plan itself (a desk planned twice, an end before
the start, appointments without a channel) is the services' (`counselling.planning`), whose
refusals the views show on the same form."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from citedesmetiers.ids import IdChoiceField, IdMultipleChoiceField
from citedesmetiers.models import Partner, Site, StaffMembership, Theme, User
from citedesmetiers.roles import Role
from reception.models import Channel

from .models import APPOINTMENT_CHANNELS, Desk, PlanException, PlanMode, PlannedSession

# Dates of the plan: far enough for any real plan, near enough that a week before or after one
# is still a date (date.min - 7 days is not).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def in_plan_years(day: dt.date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


class PlanDateField(forms.DateField):
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

    def to_python(self, value):
        day = super().to_python(value)
        if day is not None and not in_plan_years(day):
            raise ValidationError(
                _("Give a date between %(first)d and %(last)d."),
                code="out_of_range",
                params={"first": FIRST_YEAR, "last": LAST_YEAR},
            )
        return day


class PlanTimeField(forms.TimeField):
    widget = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def site_counsellors(site: Site):
    """Who counsels at `site`: the counsellor role held at the site, at its Cité or across the
    network."""
    where = Q(site=site) | Q(site__isnull=True, cite__isnull=True)
    if site.cite_id is not None:
        where |= Q(site__isnull=True, cite_id=site.cite_id)
    holders = StaffMembership.objects.filter(where, roles__name=Role.COUNSELLOR)
    return User.objects.filter(is_active=True, pk__in=holders.values("user_id")).order_by(
        "first_name", "last_name", "email"
    )


CHANNEL_CHOICES = [(channel.value, channel.label) for channel in APPOINTMENT_CHANNELS]


class _SiteChoicesForm(forms.Form):
    """The site's desks, themes and counsellors, and the partners in use; a record the session
    already has stays offered when it is no longer in use."""

    desk = IdChoiceField(label=_("Desk"), queryset=Desk.objects.none(), empty_label="—")
    partner = IdChoiceField(label=_("Partner"), queryset=Partner.objects.none(), empty_label="—")
    themes = IdMultipleChoiceField(
        label=_("Themes served"),
        queryset=Theme.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    mode = forms.ChoiceField(
        label=_("Mode"), choices=PlanMode.choices, widget=forms.RadioSelect, initial="walk_in"
    )
    channels = forms.MultipleChoiceField(
        label=_("Appointments held"),
        choices=CHANNEL_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Appointments only."),
    )
    counsellor = IdChoiceField(
        label=_("Counsellor"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("not known yet"),
        help_text=_("Only managers see it."),
    )
    starts = PlanTimeField(label=_("Starts at"))
    ends = PlanTimeField(label=_("Ends at"))

    def __init__(self, *args, site: Site, current=None, **kwargs):
        super().__init__(*args, **kwargs)
        kept = {"desk": [], "partner": [], "themes": [], "counsellor": []}
        if current is not None:
            kept = {
                "desk": [current.desk_id],
                "partner": [current.partner_id],
                "themes": [t.pk for t in current.themes.all()],
                "counsellor": [current.counsellor_id],
            }
        self.fields["desk"].queryset = Desk.objects.filter(
            Q(active=True) | Q(pk__in=kept["desk"]), site=site
        ).order_by("order", "name")
        self.fields["partner"].queryset = Partner.objects.filter(
            Q(active=True) | Q(pk__in=kept["partner"])
        ).order_by("name")
        self.fields["themes"].queryset = Theme.objects.filter(
            Q(active=True) | Q(pk__in=kept["themes"]), site=site
        ).order_by("order", "name")
        self.fields["counsellor"].queryset = site_counsellors(site)

    def plan_fields(self) -> dict:
        """The services' keywords for what was typed."""
        data = self.cleaned_data
        return {
            "desk_id": data["desk"].pk,
            "partner_id": data["partner"].pk if data.get("partner") else None,
            "theme_ids": [t.pk for t in data["themes"]],
            "mode": data["mode"],
            "channels": data["channels"],
            "counsellor_id": data["counsellor"].pk if data.get("counsellor") else None,
            "starts": data["starts"],
            "ends": data["ends"],
        }


class SessionForm(_SiteChoicesForm):
    """A weekly session: added, or changed (every field, as `change_session` allows)."""

    weekday = forms.TypedChoiceField(
        label=_("Day of the week"), choices=list(WEEKDAYS.items()), coerce=int
    )
    valid_from = PlanDateField(label=_("Every week from"))
    valid_until = PlanDateField(
        label=_("Until"), required=False, help_text=_("Leave empty for no end.")
    )

    field_order = [
        "weekday",
        "starts",
        "ends",
        "desk",
        "partner",
        "themes",
        "mode",
        "channels",
        "counsellor",
        "valid_from",
        "valid_until",
    ]

    @classmethod
    def initial_of(cls, session: PlannedSession) -> dict:
        return {
            "desk": session.desk_id,
            "partner": session.partner_id,
            "themes": [t.pk for t in session.themes.all()],
            "mode": session.mode,
            "channels": list(session.channels or ()),
            "counsellor": session.counsellor_id,
            "weekday": session.weekday,
            "starts": session.starts,
            "ends": session.ends,
            "valid_from": session.valid_from,
            "valid_until": session.valid_until,
        }

    def plan_fields(self) -> dict:
        data = self.cleaned_data
        return {
            **super().plan_fields(),
            "weekday": data["weekday"],
            "valid_from": data["valid_from"],
            "valid_until": data["valid_until"],
        }


class EndSessionForm(forms.Form):
    last_day = PlanDateField(label=_("Last day"))


class ExceptionForm(_SiteChoicesForm):
    """A date where the weekly plan does not hold. Desk, themes, mode and times are for an extra
    session; the partner for an absence or an extra session."""

    kind = forms.ChoiceField(
        label=_("What happens"), choices=PlanException.Kind.choices, widget=forms.RadioSelect
    )
    day = PlanDateField(label=_("Day"))
    label = forms.CharField(
        label=_("Label"),
        max_length=80,
        required=False,
        help_text=_("For example “Easter Monday” or “staff training”."),
    )

    field_order = [
        "kind",
        "day",
        "label",
        "partner",
        "desk",
        "starts",
        "ends",
        "themes",
        "mode",
        "channels",
        "counsellor",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("desk", "themes", "starts", "ends"):
            self.fields[name].required = False
        self.fields["partner"].required = False
        self.fields["partner"].help_text = _("For an absence or an extra session.")
        self.fields["mode"].required = False
        self.fields["mode"].help_text = _("For an extra session.")
        for name in ("desk", "themes", "starts", "ends"):
            self.fields[name].help_text = _("For an extra session.")

    def exception_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "day": data["day"],
            "label": data["label"],
            "partner_id": data["partner"].pk if data.get("partner") else None,
            "desk_id": data["desk"].pk if data.get("desk") else None,
            "theme_ids": [t.pk for t in data["themes"]],
            "mode": data["mode"],
            "channels": data["channels"],
            "counsellor_id": data["counsellor"].pk if data.get("counsellor") else None,
            "starts": data["starts"],
            "ends": data["ends"],
        }


def channel_label(value: str) -> str:
    return str(Channel(value).label) if value in Channel.values else value
