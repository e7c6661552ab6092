"""Reading for the desk screen and the counsellor's day."""

from __future__ import annotations

from django.db.models import Count, Min
from django.utils import timezone

from appointments.models import Appointment
from citedesmetiers.access import partner_at
from citedesmetiers.clock import local_day_bounds
from reception.models import UNDO_WINDOW, Visit

from .desk_time import DeskTime, desk_times
from .models import Desk, DeskSession, Interview, Occurrence, Outcome, planned_for, sessions_on


def open_session_of(counsellor) -> DeskSession | None:
    return (
        DeskSession.objects.select_related("desk", "desk__site")
        .filter(counsellor=counsellor, closed_at__isnull=True)
        .first()
    )


def planned_desks(counsellor, site) -> dict[int, Occurrence]:
    """The desks the plan has for the counsellor now (see planned_for), each with its session."""
    now = timezone.now()
    today = sessions_on(site, site.local_date(now))
    return {o.desk_id: o for o in planned_for(today, counsellor, partner_at(counsellor, site), now)}


def appointments_today(desk: Desk, now=None) -> list[Appointment]:
    """The desk's appointments of the site's day that are still to come or happening, by time:
    booked (on site, checked in or not; remote) or being taken."""
    now = now or timezone.now()
    start, end = local_day_bounds(desk.site.zone, desk.site.local_date(now))
    return list(
        Appointment.objects.filter(
            desk=desk,
            starts__gte=start,
            starts__lt=end,
            ends__gt=now,
            status=Appointment.Status.BOOKED,
        )
        .select_related("theme", "site")
        .order_by("starts", "pk")
    )


def desk_queues(session: DeskSession) -> list[dict]:
    """For each theme the sitting serves: how many wait and since when."""
    now = timezone.now()
    themes = list(session.themes.filter(active=True))
    rows = {
        row["theme"]: row
        for row in Visit.objects.filter(
            site_id=session.desk.site_id, status=Visit.Status.WAITING, theme__in=themes
        )
        .values("theme")
        .annotate(n=Count("id"), oldest=Min("queued_at"))
    }
    return [
        {
            "theme": theme,
            "waiting": rows[theme.pk]["n"] if theme.pk in rows else 0,
            "longest_minutes": int((now - rows[theme.pk]["oldest"]).total_seconds() // 60)
            if theme.pk in rows
            else None,
        }
        for theme in themes
    ]


def waiting_for_desk(session: DeskSession):
    return (
        Visit.objects.filter(
            site_id=session.desk.site_id,
            status=Visit.Status.WAITING,
            theme__in=session.themes.all(),
        )
        .select_related("theme")
        .order_by("queued_at", "pk")
    )


def recent_no_shows(session: DeskSession):
    return Visit.objects.filter(
        site_id=session.desk.site_id,
        status=Visit.Status.NO_SHOW,
        no_show_at__gte=timezone.now() - UNDO_WINDOW,
        theme__in=session.themes.all(),
    ).order_by("-no_show_at")


def referral_to(visit: Visit) -> Outcome | None:
    """The referral that sent the visitor to the theme they are now at a desk for, if a desk
    referred them: the last one recorded (a visit can pass through several desks). None when
    reception gave them another theme since (then nobody referred them here). Only codes: the
    desk and theme they came from, and why."""
    referral = (
        Outcome.objects.filter(interview__visit=visit, code=Outcome.Code.REFERRED_DESK)
        .select_related("interview__desk", "interview__theme")
        .order_by("-interview__ended_at", "-pk")
        .first()
    )
    if referral is None or referral.referred_theme_id != visit.theme_id:
        return None
    return referral


def sittings_today(counsellor, site, now=None) -> list[tuple[DeskSession, DeskTime]]:
    """The counsellor's sittings at `site` today, each with where its time went so far."""
    now = now or timezone.now()
    start, end = site.day_bounds(site.local_date(now))
    sessions = list(
        DeskSession.objects.filter(counsellor=counsellor, desk__site=site, opened_at__lt=end)
        .exclude(closed_at__lte=start)
        .select_related("desk")
        .prefetch_related("themes", "desk__themes")
        .order_by("opened_at")
    )
    times = desk_times(sessions, (start, min(end, now)))
    return [(session, times[session.pk]) for session in sessions]


def interviews_today(counsellor, site):
    start, _end = site.day_bounds()
    return (
        Interview.objects.filter(counsellor=counsellor, started_at__gte=start)
        .select_related("desk", "theme")
        .prefetch_related("outcomes", "topics")
        .order_by("started_at")
    )
