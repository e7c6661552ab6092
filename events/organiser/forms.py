"""Forms of the organisers' screens: an event, and a series of sessions.

Dates and times are typed in the site's local time (a `datetime-local` input has no time zone)
and stored as aware UTC datetimes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citedesmetiers.ids import parse_id
from citedesmetiers.models import OpeningPeriod, Partner, Site, Theme

from .. import recurrence, series
from ..models import FIRST_YEAR, LAST_YEAR, Event, window_error

EVENT_FIELDS = [
    "title",
    "kind",
    "themes",
    "description",
    "partners",
    "starts_at",
    "ends_at",
    "place",
    "online_url",
    "capacity",
    "audience",
    "reminder_days",
    "confirm_by_email",
]
MAX_REMINDER_DAYS = 30


class LocalDateTimeField(forms.DateTimeField):
    """A `datetime-local` input read and shown in a given time zone (the site's), whatever the
    time zone of the request."""

    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]

    def __init__(self, *, zone: ZoneInfo, **kwargs):
        self.zone = zone
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, dt.datetime) and timezone.is_aware(value):
            return value.astimezone(self.zone).replace(tzinfo=None)
        return value

    def to_python(self, value):
        # Django makes a typed (naive) time aware in the current time zone, and refuses times
        # that do not exist or exist twice there (daylight saving): let that be the site's zone.
        # Near year 1 or 9999 that arithmetic overflows: out of the window all the same.
        with timezone.override(self.zone):
            try:
                moment = super().to_python(value)
            except OverflowError:
                raise window_error() from None
        if moment is not None and not in_window(moment.astimezone(self.zone).date()):
            raise window_error()
        return moment


def in_window(day: dt.date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


class WindowDateField(forms.DateField):
    """A date between FIRST_YEAR and LAST_YEAR (a series' first and last dates)."""

    def to_python(self, value):
        day = super().to_python(value)
        if day is not None and not in_window(day):
            raise window_error()
        return day


class IdsField(forms.ModelMultipleChoiceField):
    """Choices by id, where a value that is no id (`²`, a 30-digit number) is an invalid choice
    like any unknown one, instead of an error of the database (SQLite holds no integer past
    2⁶³)."""

    def _check_values(self, value):
        for pk in value:
            if parse_id(pk) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super()._check_values(value)


class _SiteEventForm(forms.ModelForm):
    """What every form about a site's event shares: the site's themes only, active partners."""

    themes = IdsField(
        queryset=Theme.objects.none(),
        required=False,
        label=Event._meta.get_field("themes").verbose_name,
        widget=forms.CheckboxSelectMultiple,
    )
    partners = IdsField(
        queryset=Partner.objects.none(),
        required=False,
        label=Event._meta.get_field("partners").verbose_name,
        widget=forms.CheckboxSelectMultiple,
    )

    online_url = forms.URLField(
        label=Event._meta.get_field("online_url").verbose_name,
        required=False,
        max_length=200,
        assume_scheme="https",
    )

    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, **kwargs)
        self.site = site
        # Inactive themes and partners stay offered where an event already has them.
        themes, partners = [], []
        if self.instance.pk:
            themes = self.instance.themes.values("pk")
            partners = self.instance.partners.values("pk")
        self.fields["themes"].queryset = Theme.objects.filter(
            Q(site=site) & (Q(active=True) | Q(pk__in=themes))
        ).order_by("order", "name")
        self.fields["partners"].queryset = Partner.objects.filter(
            Q(active=True) | Q(pk__in=partners)
        ).order_by("name")
        self.fields["capacity"].min_value = 1
        self.fields["capacity"].widget.attrs.update(min=1)
        self.fields["reminder_days"].widget.attrs.update(min=0, max=MAX_REMINDER_DAYS)

    def clean_capacity(self):
        capacity = self.cleaned_data.get("capacity")
        if capacity is not None and capacity < 1:
            raise forms.ValidationError(
                _("Give at least one place, or leave empty for an open-door event.")
            )
        return capacity

    def clean_reminder_days(self):
        days = self.cleaned_data.get("reminder_days")
        if days is not None and days > MAX_REMINDER_DAYS:
            raise forms.ValidationError(
                _("Remind at most %(days)d days before.") % {"days": MAX_REMINDER_DAYS}
            )
        return days


class EventForm(_SiteEventForm):
    class Meta:
        model = Event
        fields = EVENT_FIELDS
        widgets = {
            "themes": forms.CheckboxSelectMultiple,
            "partners": forms.CheckboxSelectMultiple,
            "description": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, site=site, **kwargs)
        for name in ("starts_at", "ends_at"):
            model_field = Event._meta.get_field(name)
            self.fields[name] = LocalDateTimeField(zone=site.zone, label=model_field.verbose_name)
        self.fields["starts_at"].help_text = _("Local time of %(site)s (%(zone)s).") % {
            "site": site.name,
            "zone": site.time_zone,
        }

    def clean(self):
        data = super().clean()
        starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The event must end after it starts."))
        return data


class SeriesForm(_SiteEventForm):
    """The details every session copies, and when the sessions take place."""

    frequency = forms.ChoiceField(
        label=_("Repeat"),
        choices=[
            (recurrence.Frequency.WEEKLY, _("every week, or every few weeks")),
            (recurrence.Frequency.MONTHLY, _("once a month, on the same weekday")),
        ],
        widget=forms.RadioSelect,
        initial=recurrence.Frequency.WEEKLY,
    )
    weekday = forms.TypedChoiceField(
        label=_("Day of the week"), choices=OpeningPeriod.Weekday.choices, coerce=int
    )
    interval = forms.IntegerField(
        label=_("Every how many weeks"),
        min_value=1,
        max_value=52,
        initial=1,
        required=False,
        help_text=_("Weekly only: 1 for every week, 2 for every other week…"),
    )
    ordinal = forms.TypedChoiceField(
        label=_("Which one in the month"),
        choices=[
            (1, _("1st")),
            (2, _("2nd")),
            (3, _("3rd")),
            (4, _("4th")),
            (recurrence.LAST, _("last")),
        ],
        coerce=int,
        required=False,
        initial=1,
        help_text=_("Monthly only: for example the 2nd Tuesday of each month."),
    )
    first_date = WindowDateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    last_date = WindowDateField(
        label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    start_time = forms.TimeField(
        label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    duration = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=5, max_value=24 * 60, initial=120
    )

    class Meta:
        model = Event
        fields = [name for name in EVENT_FIELDS if name not in ("starts_at", "ends_at")]
        widgets = EventForm.Meta.widgets

    def __init__(self, *args, site: Site, **kwargs):
        super().__init__(*args, site=site, **kwargs)
        self.fields["start_time"].help_text = _("Local time of %(site)s (%(zone)s).") % {
            "site": site.name,
            "zone": site.time_zone,
        }
        self.sessions: list[tuple[dt.datetime, dt.datetime]] = []

    def recurrence(self) -> recurrence.Recurrence:
        data = self.cleaned_data
        return recurrence.Recurrence(
            frequency=data["frequency"],
            weekday=data["weekday"],
            interval=data.get("interval") or 1,
            ordinal=data.get("ordinal") or 1,
        )

    def clean(self):
        data = super().clean()
        needed = ("frequency", "weekday", "first_date", "last_date", "start_time", "duration")
        if any(data.get(name) in (None, "") for name in needed):
            return data
        try:
            self.sessions = series.plan(
                recurrence=self.recurrence(),
                first=data["first_date"],
                last=data["last_date"],
                at=data["start_time"],
                duration=dt.timedelta(minutes=data["duration"]),
                zone=self.site.zone,
            )
        except recurrence.SeriesError as refusal:
            raise forms.ValidationError(str(refusal)) from None
        return data

    def series_arguments(self) -> dict:
        """What `services.create_series` makes the series of, once the form is valid."""
        data = self.cleaned_data
        return {
            "site": self.site,
            "recurrence": self.recurrence(),
            "first": data["first_date"],
            "last": data["last_date"],
            "at": data["start_time"],
            "duration": dt.timedelta(minutes=data["duration"]),
            "details": {name: data[name] for name in series.COPIED_FIELDS if name in data},
            "themes": data.get("themes") or (),
            "partners": data.get("partners") or (),
        }

    @classmethod
    def initial_from(cls, event: Event) -> dict:
        """Start a series from an existing event: same details, same weekday and time."""
        local_start = event.starts_at.astimezone(event.site.zone)
        minutes = int((event.ends_at - event.starts_at).total_seconds() // 60)
        initial = {name: getattr(event, name) for name in series.COPIED_FIELDS}
        initial.update(
            themes=list(event.themes.values_list("pk", flat=True)),
            partners=list(event.partners.values_list("pk", flat=True)),
            weekday=local_start.weekday(),
            ordinal=min((local_start.day - 1) // 7 + 1, 4),
            first_date=local_start.date(),
            start_time=local_start.time().replace(second=0, microsecond=0),
            duration=max(5, min(minutes, 24 * 60)),
        )
        return initial
