"""A month of realistic events for the demo site (idempotent: found again by title and start)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from citedesmetiers.models import Partner, Site

from .models import Event, Registration

# (days from today, hour, minutes long, title, kind, capacity, audience, theme letters, partner)
PLAN = [
    (-6, 14, 120, "Atelier CV : se présenter en une page", "workshop", 12, "job_seekers", "E", 0),
    (-3, 10, 180, "Information collective : l'alternance", "information_day", 30, "young", "FO", 2),
    (1, 14, 120, "Atelier CV : se présenter en une page", "workshop", 12, "job_seekers", "E", 0),
    (2, 9, 150, "Réussir son entretien d'embauche", "workshop", 10, "everyone", "E", 0),
    (3, 14, 90, "Créer son entreprise : les premières étapes", "workshop", 15, "creators", "A", 4),
    (5, 10, 240, "Forum des métiers du numérique", "information_day", None, "everyone", "OF", 3),
    (8, 14, 120, "Atelier CV : se présenter en une page", "workshop", 12, "job_seekers", "E", 0),
    (9, 18, 90, "Club des créateurs", "club", 20, "creators", "A", 4),
    (
        10,
        10,
        120,
        "Financer sa formation : le CPF expliqué",
        "information_day",
        25,
        "employees",
        "FC",
        None,
    ),
    (12, 9, 180, "Job dating : hôtellerie-restauration", "job_dating", 40, "job_seekers", "E", 0),
    (15, 14, 120, "Atelier CV : se présenter en une page", "workshop", 12, "job_seekers", "E", 0),
    (17, 14, 120, "Se reconvertir : par où commencer ?", "workshop", 12, "employees", "C", 1),
    (
        19,
        10,
        120,
        "Travailler en Europe : volontariat et mobilité",
        "information_day",
        30,
        "young",
        "I",
        2,
    ),
    (22, 14, 120, "Atelier CV : se présenter en une page", "workshop", 12, "job_seekers", "E", 0),
    (
        24,
        9,
        480,
        "Colloque : l'orientation tout au long de la vie",
        "symposium",
        80,
        "everyone",
        "OC",
        1,
    ),
    (26, 14, 90, "Découvrir les métiers de la santé", "workshop", 15, "young", "O", 2),
    (29, 14, 120, "Atelier CV : se présenter en une page", "workshop", 12, "job_seekers", "E", 0),
]
PSEUDONYMS = [
    "Nadia",
    "Karim",
    "Léa",
    "Tom",
    "Inès",
    "Hugo",
    "Chloé",
    "Yanis",
    "Manon",
    "Sami",
    "Jade",
    "Lucas",
    "Emma",
    "Noah",
]


def easter(year: int) -> dt.date:
    """Easter Sunday of the Gregorian calendar (the anonymous algorithm of Nature, 1876)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def public_holidays(year: int) -> set[dt.date]:
    """The public holidays of France (the demo site's country), when nobody plans a workshop."""
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    sunday = easter(year)
    movable = [sunday + dt.timedelta(days=n) for n in (1, 39, 50)]  # Monday, Ascension, Whit
    return {dt.date(year, month, day) for month, day in fixed} | set(movable)


def _fitting_start(
    day: dt.date, hour: int, minutes: int, periods: dict[int, list], holidays: set[dt.date]
) -> dt.time | None:
    """When on `day` an event of `minutes` can start, as near `hour` as the opening hours allow;
    None on a holiday or a day the site is closed (or open too briefly)."""
    if day in holidays:
        return None
    wanted = dt.datetime.combine(day, dt.time(hour))
    length = dt.timedelta(minutes=minutes)
    starts = []
    for opens, closes in periods.get(day.weekday(), []):
        earliest, latest = (
            dt.datetime.combine(day, opens),
            dt.datetime.combine(day, closes) - length,
        )
        if earliest <= latest:
            starts.append(min(max(wanted, earliest), latest))  # the wanted hour, moved inside
    if not starts:
        return None
    return min(starts, key=lambda start: abs(start - wanted)).time()


def event_start(
    site: Site, today: dt.date, days: int, hour: int, minutes: int
) -> dt.datetime | None:
    """The start of a demo event planned `days` from today at `hour`: that day if the site is
    open then, else the next day it is (within a week), inside its opening hours and never on a
    public holiday. None for a site without opening hours."""
    periods: dict[int, list] = {}
    for period in site.opening_periods.order_by("weekday", "opens"):
        periods.setdefault(period.weekday, []).append((period.opens, period.closes))
    first = today + dt.timedelta(days=days)
    holidays = public_holidays(first.year) | public_holidays(first.year + 1)
    for shift in range(8):
        day = first + dt.timedelta(days=shift)
        start = _fitting_start(day, hour, minutes, periods, holidays)
        if start is not None:
            return dt.datetime.combine(day, start, tzinfo=site.zone)
    return None


@transaction.atomic
def seed_events(site: Site) -> None:
    partners = list(Partner.objects.order_by("name"))
    themes = {theme.letter: theme for theme in site.themes.all()}
    today = site.local_date()
    for days, hour, minutes, title, kind, capacity, audience, letters, partner in PLAN:
        starts = event_start(site, today, days, hour, minutes)
        if starts is None:
            continue
        event, created = Event.objects.get_or_create(
            site=site,
            title=title,
            starts_at=starts,
            defaults={
                "ends_at": starts + dt.timedelta(minutes=minutes),
                "kind": kind,
                "capacity": capacity,
                "audience": audience,
                "status": Event.Status.PUBLISHED,
                "place": "Salle Jules Verne" if capacity and capacity < 30 else "Grand auditorium",
                "description": f"{title}. Gratuit et ouvert à toutes et tous.",
            },
        )
        if not created:
            continue
        event.themes.set([themes[letter] for letter in letters if letter in themes])
        if partner is not None and partners:
            event.partners.set([partners[partner % len(partners)]])
        ahead = starts > timezone.now()
        if capacity:
            taken = min(capacity + 2, max(3, capacity * 2 // 3 + days % 5))
            for index in range(taken):
                pseudonym = PSEUDONYMS[index % len(PSEUDONYMS)]
                # Every other person ahead registered online with an address of the reserved
                # example.org domain (never delivered): `make run` prints their confirmations,
                # reminders and changes in the worker's console. The past has no addresses left:
                # the purge erased them.
                online = ahead and index % 2 == 0
                Registration.objects.create(
                    event=event,
                    pseudonym=pseudonym,
                    email=f"{slugify(pseudonym)}.{index}@example.org" if online else "",
                    status=Registration.Status.CONFIRMED
                    if index < capacity
                    else Registration.Status.WAITING,
                    attended=(index % 4 != 0) if not ahead and index < capacity else None,
                    source=Registration.Source.ONLINE
                    if online
                    else Registration.Source.ON_THE_SPOT,
                )
