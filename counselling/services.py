"""Every write of the desks: open, pause, close; call next, recall, no-show, put back, call a
specific ticket; start, finish and hand back an interview.

Concurrency, by design:
- Each action on a desk first locks its DeskSession row, so a double click or a second browser
  tab waits for the first and then sees the new state (and is refused with a clear message).
- Call next locks the oldest waiting visit with SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL:
  two desks pressing at the same instant get two different visitors, without waiting on each
  other. SQLite (the embedded default) runs IMMEDIATE transactions, which serialise writers.
- Database constraints back all of it: one open session per desk and per counsellor, one open
  interview per counsellor and per visit, one visitor held per desk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial

from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from citedesmetiers.access import partner_at
from citedesmetiers.facts import local_day_bounds
from citedesmetiers.live import publish_change
from citedesmetiers.models import Partner, Site, Theme, User
from citedesmetiers.refusals import Refusal
from reception import take_away
from reception.models import UNDO_WINDOW, Call, Channel, Visit
from reception.services import ReceptionError

from .models import Desk, DeskSession, Interview, Outcome, Topic


class CounsellingError(Refusal):
    """A refusal to show to the counsellor as it is."""


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


# --- desk sessions -------------------------------------------------------------------------------


def open_desk(*, counsellor: User, desk: Desk, now: dt.datetime | None = None) -> DeskSession:
    if not desk.active:
        raise CounsellingError(_("%(desk)s is not in use.") % {"desk": desk.name})
    partner = partner_at(counsellor, desk.site)
    try:
        with transaction.atomic():
            session = DeskSession.objects.create(
                desk=desk,
                counsellor=counsellor,
                partner=partner,
                opened_at=_now(now),
            )
            publish_change(desk.site.slug)
    except IntegrityError:
        if DeskSession.objects.filter(counsellor=counsellor, closed_at__isnull=True).exists():
            raise CounsellingError(_("You already have a desk open.")) from None
        raise CounsellingError(
            _("%(desk)s is already open for a colleague.") % {"desk": desk.name}
        ) from None
    return session


def _locked_session(session_id: int, counsellor: User) -> DeskSession:
    # Lock the session row only (`of`): the joined desk and site must stay free for the others.
    session = (
        DeskSession.objects.select_for_update(of=("self",))
        .select_related("desk", "desk__site")
        .filter(pk=session_id, counsellor=counsellor)
        .first()
    )
    if session is None or session.closed_at is not None:
        raise CounsellingError(_("This desk is closed. Open a desk first."))
    return session


def _held(session: DeskSession):
    """The visits the desk holds (called or in interview): one at most."""
    return Visit.objects.filter(
        desk_id=session.desk_id, status__in=[Visit.Status.CALLED, Visit.Status.IN_INTERVIEW]
    )


def _holds_somebody(session: DeskSession) -> bool:
    return _held(session).exists()


def current_visit(session: DeskSession) -> Visit | None:
    """The visitor the desk holds (called or in interview), if any."""
    return _held(session).select_related("theme").first()


def _expect(session: DeskSession, visit_id: int | None, *statuses: str) -> Visit:
    """The desk's current visitor, locked and checked against what the counsellor's page showed
    (reception may be marking them as left at this very moment: the lock makes one of the two
    wait and then see the other's change)."""
    visit = _held(session).select_for_update(of=("self",)).select_related("theme").first()
    if visit is None or (visit_id is not None and visit.pk != int(visit_id)):
        raise CounsellingError(_("Your page was out of date; nothing was changed."))
    if statuses and visit.status not in statuses:
        raise CounsellingError(_("Your page was out of date; nothing was changed."))
    return visit


@transaction.atomic
def pause_desk(*, session_id: int, counsellor: User, now: dt.datetime | None = None) -> None:
    session = _locked_session(session_id, counsellor)
    if session.paused_since is None:
        session.paused_since = _now(now)
        session.save(update_fields=["paused_since"])
        publish_change(session.desk.site.slug)


@transaction.atomic
def resume_desk(*, session_id: int, counsellor: User, now: dt.datetime | None = None) -> None:
    session = _locked_session(session_id, counsellor)
    if session.paused_since is not None:
        session.paused_since, session.resumed_at = None, _now(now)
        session.save(update_fields=["paused_since", "resumed_at"])
        publish_change(session.desk.site.slug)


@transaction.atomic
def close_desk(*, session_id: int, counsellor: User, now: dt.datetime | None = None) -> None:
    session = _locked_session(session_id, counsellor)
    if _holds_somebody(session):
        raise CounsellingError(
            _("Finish the interview, or hand the visitor back to the queue, before closing.")
        )
    session.closed_at = _now(now)
    session.paused_since = None
    session.save(update_fields=["closed_at", "paused_since"])
    publish_change(session.desk.site.slug)


def close_forgotten_desks(*, site: Site, now: dt.datetime | None = None) -> set[dt.date]:
    """Close the desks of `site` left open from an earlier day and not used today, so that
    nobody finds a desk “already open for a colleague” in the morning. Safe to run twice.
    Returns the local days whose visits or interviews changed (to aggregate again).

    A desk closes at the last closing time of the day it was last used (the end of that day if
    the site did not open), or at its last use if later (late arrivals). An interview left
    running ends then too, without outcome and marked so (its length is not counted), and its
    visit is done; a visitor still called is left at closing, as reception's day close does.
    A desk already used today (the worker was down overnight) is its counsellor's to close."""
    today_starts, _tomorrow = local_day_bounds(site.zone, site.local_date(_now(now)))
    forgotten = DeskSession.objects.filter(
        desk__site=site, closed_at__isnull=True, opened_at__lt=today_starts
    ).values_list("pk", flat=True)
    changed_days = set()
    for session_id in list(forgotten):
        with transaction.atomic():
            session = (
                DeskSession.objects.select_for_update(of=("self",))
                .filter(pk=session_id, closed_at__isnull=True)
                .first()
            )
            if session is None:  # closed meanwhile by its counsellor
                continue
            last = _last_use(session)
            if last >= today_starts:
                continue  # in use today (the job did not run overnight)
            closing = site.last_closing(last)  # of that local day
            ends = max(closing or local_day_bounds(site.zone, site.local_date(last))[1], last)
            visit = _held(session).select_for_update(of=("self",)).first()
            if visit is not None:
                if visit.status == Visit.Status.IN_INTERVIEW:
                    interview = _open_interview(session, visit)
                    interview.ended_at, interview.ended_by_day_close = ends, True
                    interview.save(update_fields=["ended_at", "ended_by_day_close"])
                    visit.save(update_fields=visit.finish(ends))
                    changed_days.add(site.local_date(interview.started_at))
                else:
                    visit.save(update_fields=visit.leave(Visit.LeftHow.AT_CLOSING, ends))
                changed_days.add(visit.local_date)
            session.closed_at, session.paused_since = ends, None
            session.save(update_fields=["closed_at", "paused_since"])
            publish_change(site.slug)
    return changed_days


def _last_use(session: DeskSession) -> dt.datetime:
    """When the desk was last used: opened, paused, resumed, a call, an interview begun or
    ended."""
    calls = Call.objects.filter(desk_id=session.desk_id, at__gte=session.opened_at)
    interviews = Interview.objects.filter(session=session).aggregate(
        started=Max("started_at"), ended=Max("ended_at")
    )
    moments = (
        session.opened_at,
        session.paused_since,
        session.resumed_at,
        calls.aggregate(at=Max("at"))["at"],
        interviews["started"],
        interviews["ended"],
    )
    return max(moment for moment in moments if moment is not None)


# --- calling -------------------------------------------------------------------------------------


def _waiting_for(desk: Desk):
    """The desk's queue, oldest first, locked as it is read."""
    queue = Visit.objects.filter(
        site_id=desk.site_id,
        status=Visit.Status.WAITING,
        # A list, not a subquery: the planner then knows how many themes and walks the queue
        # index in order instead of sorting every waiting visit.
        theme_id__in=list(desk.themes.values_list("pk", flat=True)),
    ).order_by("queued_at", "pk")
    if connection.vendor == "postgresql":
        # Skip visits another desk is calling right now instead of waiting for it.
        queue = queue.select_for_update(skip_locked=True, of=("self",))
    else:
        queue = queue.select_for_update()
    return queue


def _call(session: DeskSession, visit: Visit, now: dt.datetime, out_of_order: str = "") -> Visit:
    try:
        visit.save(update_fields=visit.call(session.desk, now))
    except IntegrityError:
        # `visit_one_per_desk`: the desk holds somebody already (the callers check first; this
        # is the database's word on it). The call's transaction rolls back as this error leaves.
        raise CounsellingError(_("You already have a visitor. Finish with them first.")) from None
    Call.objects.create(
        site_id=visit.site_id, visit=visit, desk=session.desk, at=now, out_of_order=out_of_order
    )
    publish_change(session.desk.site.slug)
    return visit


@transaction.atomic
def call_next(*, session_id: int, counsellor: User, now: dt.datetime | None = None) -> Visit | None:
    """Call the visitor who has waited longest for one of the desk's themes; None if nobody."""
    session = _locked_session(session_id, counsellor)
    if session.paused_since is not None:
        raise CounsellingError(_("Your desk is paused. Resume it to call visitors."))
    # Checked before the queue is read: a desk that cannot call must not hold the head of the
    # queue locked for a moment (the other desks would skip that visitor), and a double click
    # with nobody left waiting must still hear why nothing happened.
    if _holds_somebody(session):
        raise CounsellingError(_("You already have a visitor. Finish with them first."))
    return _call_next_at(session, _now(now))


def _call_next_at(
    session: DeskSession, now: dt.datetime, *, passing_over: int | None = None
) -> Visit | None:
    """Call the head of the desk's queues, if anybody waits (the session is locked, the desk
    holds nobody and is not paused).

    A visitor this sitting referred to another theme went for another point of view: while
    another open desk serves that theme, this one passes over them (the counsellor may still
    call their ticket); with no other desk for it, they are called here at their turn.
    `passing_over`: a visit not to call now (the one just finished here)."""
    queue = _waiting_for(session.desk)
    if passing_over is not None:
        queue = queue.exclude(pk=passing_over)
    if session.referred_on:
        # In the query, not after it: a visitor passed over must not be locked meanwhile (another
        # desk pressing now would skip them).
        queue = queue.exclude(referred_by=session, theme_id__in=themes_served_elsewhere(session))
    visit = queue.first()
    if visit is None:
        return None
    return _call(session, visit, now)


def themes_served_elsewhere(session: DeskSession) -> set[int]:
    """The themes that another open, unpaused desk of the site serves."""
    open_desks = (
        DeskSession.objects.filter(
            desk__site_id=session.desk.site_id, closed_at__isnull=True, paused_since__isnull=True
        )
        .exclude(desk_id=session.desk_id)
        .values("desk_id")
    )
    return set(
        Desk.themes.through.objects.filter(desk_id__in=open_desks).values_list(
            "theme_id", flat=True
        )
    )


@transaction.atomic
def call_ticket(
    *,
    session_id: int,
    counsellor: User,
    visit_id: int,
    reason: str,
    now: dt.datetime | None = None,
) -> Visit:
    """Call a specific waiting ticket out of order, with a reason code (counted in statistics)."""
    if reason not in Call.OutOfOrder.values:
        raise CounsellingError(_("Choose why this ticket is called out of order."))
    session = _locked_session(session_id, counsellor)
    if session.paused_since is not None:
        raise CounsellingError(_("Your desk is paused. Resume it to call visitors."))
    if _holds_somebody(session):
        raise CounsellingError(_("You already have a visitor. Finish with them first."))
    visit = (
        Visit.objects.select_for_update().filter(pk=visit_id, site_id=session.desk.site_id).first()
    )
    if visit is None or visit.status != Visit.Status.WAITING:
        raise CounsellingError(_("This ticket is no longer waiting; another desk may have it."))
    return _call(session, visit, _now(now), out_of_order=reason)


@transaction.atomic
def recall(
    *,
    session_id: int,
    counsellor: User,
    visit_id: int | None = None,
    now: dt.datetime | None = None,
) -> Visit:
    session = _locked_session(session_id, counsellor)
    visit = _expect(session, visit_id, Visit.Status.CALLED)
    Call.objects.create(
        site_id=visit.site_id, visit=visit, desk=session.desk, kind=Call.Kind.RECALL, at=_now(now)
    )
    publish_change(session.desk.site.slug)
    return visit


@transaction.atomic
def mark_no_show(
    *,
    session_id: int,
    counsellor: User,
    visit_id: int | None = None,
    now: dt.datetime | None = None,
) -> Visit:
    session = _locked_session(session_id, counsellor)
    visit = _expect(session, visit_id, Visit.Status.CALLED)
    visit.save(update_fields=visit.miss(_now(now)))
    publish_change(session.desk.site.slug)
    return visit


@transaction.atomic
def put_back(*, site_id: int, visit_id: int, now: dt.datetime | None = None) -> Visit:
    """A visitor marked “did not come” turns up within 10 minutes: back in the queue with their
    original time."""
    visit = Visit.objects.select_for_update().filter(pk=visit_id, site_id=site_id).first()
    if visit is None or visit.status != Visit.Status.NO_SHOW:
        raise CounsellingError(_("This ticket cannot be put back in the queue."))
    if _now(now) - visit.no_show_at > UNDO_WINDOW:
        raise CounsellingError(
            _(
                "Ticket %(code)s was missed more than 10 minutes ago: "
                "the visitor checks in again at reception."
            )
            % {"code": visit.code}
        )
    visit.save(update_fields=visit.put_back())
    publish_change(visit.site.slug)
    return visit


# --- interviews ----------------------------------------------------------------------------------


@transaction.atomic
def start_interview(
    *,
    session_id: int,
    counsellor: User,
    visit_id: int | None = None,
    now: dt.datetime | None = None,
) -> Interview:
    session = _locked_session(session_id, counsellor)
    visit = _expect(session, visit_id, Visit.Status.CALLED)
    now = _now(now)
    visit.save(update_fields=visit.start(now))
    interview = Interview.objects.create(
        visit=visit,
        session=session,
        desk=session.desk,
        counsellor=counsellor,
        partner=session.partner,
        theme=visit.theme,
        channel=visit.channel,
        called_at=visit.called_at,
        started_at=now,
    )
    publish_change(session.desk.site.slug)
    return interview


def _open_interview(session: DeskSession, visit: Visit) -> Interview:
    interview = (
        Interview.objects.select_for_update()
        .filter(session=session, visit=visit, ended_at__isnull=True)
        .first()
    )
    if interview is None:
        raise CounsellingError(_("This interview is already finished."))
    return interview


@transaction.atomic
def finish_interview(
    *, session_id: int, counsellor: User, now: dt.datetime | None = None, **answers
) -> Interview:
    """End the interview with its coded topics and outcomes (see `_finish` for `answers`)."""
    session = _locked_session(session_id, counsellor)
    return _finish(session, _now(now), **answers)


@dataclass(frozen=True)
class FinishedAndCalled:
    interview: Interview
    called: Visit | None  # None: nobody waits, or the desk is paused
    paused: bool


@transaction.atomic
def finish_and_call_next(
    *, session_id: int, counsellor: User, now: dt.datetime | None = None, **answers
) -> FinishedAndCalled:
    """End the interview and call the next visitor in one step, as a counsellor does when people
    are waiting: one lock of the desk, one commit. A paused desk only finishes."""
    session = _locked_session(session_id, counsellor)
    now = _now(now)
    interview = _finish(session, now, **answers)
    paused = session.paused_since is not None
    # Not the visitor just seen, were they referred to another theme of this desk: not straight
    # back (they keep their place, for another desk or for a later call).
    called = None if paused else _call_next_at(session, now, passing_over=interview.visit_id)
    return FinishedAndCalled(interview, called, paused)


def cannot_finish(session: DeskSession, visit_id: int | None) -> CounsellingError:
    """Why the interview of `visit_id` cannot be finished at this desk, which does not hold that
    visitor in interview: finished already (a repeat), or the page was out of date."""
    if (
        visit_id is not None
        and Interview.objects.filter(
            session=session, visit_id=visit_id, ended_at__isnull=False
        ).exists()
    ):
        return CounsellingError(_("This interview is already finished."))
    return CounsellingError(_("Your page was out of date; nothing was changed."))


def _finish(
    session: DeskSession,
    now: dt.datetime,
    *,
    visit_id: int | None = None,
    channel: str = "in_person",
    topic_ids: list[int] | tuple = (),
    outcomes: list[str] | tuple = (),
    refer_theme_id: int | None = None,
    referral_reason: str = "",
    partner_kind: str = "",
) -> Interview:
    """End the interview with its coded topics and outcomes. A referral to another desk's theme
    puts the visit back in that queue with its original arrival time; otherwise the visit ends."""
    try:
        visit = _expect(session, visit_id, Visit.Status.IN_INTERVIEW)
    except CounsellingError:
        raise cannot_finish(session, visit_id) from None
    interview = _open_interview(session, visit)

    outcomes = list(dict.fromkeys(outcomes))
    if any(code not in Outcome.Code.values for code in outcomes):
        raise CounsellingError(_("One of the outcomes is not a valid choice."))
    if channel not in Channel.values:
        raise CounsellingError(_("Choose how the interview took place."))
    topics = list(Topic.objects.filter(pk__in=topic_ids, theme=visit.theme, active=True))
    if len(topics) != len(set(map(int, topic_ids))):
        raise CounsellingError(_("One of the topics does not belong to this theme."))
    refer_theme = None
    if Outcome.Code.REFERRED_DESK in outcomes:
        refer_theme = Theme.objects.filter(
            pk=refer_theme_id or 0, site_id=visit.site_id, active=True
        ).first()
        if refer_theme is None:
            raise CounsellingError(_("Choose the theme of the desk you refer the visitor to."))
        if referral_reason not in Outcome.Reason.values:
            raise CounsellingError(_("Choose why you refer the visitor to another desk."))
    if Outcome.Code.REFERRED_PARTNER in outcomes and partner_kind not in Partner.Kind.values:
        raise CounsellingError(_("Choose the kind of institution you refer the visitor to."))

    interview.ended_at = now
    interview.channel = channel
    interview.save(update_fields=["ended_at", "channel"])
    if topics:
        interview.topics.add(*topics)  # a new interview: nothing to replace
    Outcome.objects.bulk_create(
        Outcome(
            interview=interview,
            code=code,
            referred_theme=refer_theme if code == Outcome.Code.REFERRED_DESK else None,
            referral_reason=referral_reason if code == Outcome.Code.REFERRED_DESK else "",
            partner_kind=partner_kind if code == Outcome.Code.REFERRED_PARTNER else "",
        )
        for code in outcomes
    )
    if refer_theme is not None:
        # Several points of view: back to waiting for the other theme, keeping the arrival time,
        # and not called back here (see `_call_next_at`).
        visit.save(update_fields=visit.refer(refer_theme, by=session))
        if not session.referred_on:
            session.referred_on = True
            session.save(update_fields=["referred_on"])
    else:
        visit.save(update_fields=visit.finish(now))
    publish_change(session.desk.site.slug)
    return interview


@transaction.atomic
def hand_back(
    *,
    session_id: int,
    counsellor: User,
    visit_id: int | None = None,
    now: dt.datetime | None = None,
) -> Visit:
    """Give the current visitor back to the queue (e.g. before closing the desk in a hurry): they
    keep their place; an interview already started is closed without outcome."""
    session = _locked_session(session_id, counsellor)
    visit = _expect(session, visit_id)
    Interview.objects.filter(session=session, visit=visit, ended_at__isnull=True).update(
        ended_at=_now(now)
    )
    visit.save(update_fields=visit.hand_back())
    publish_change(session.desk.site.slug)
    return visit


# --- take-away list ------------------------------------------------------------------------------


def _change_take_away(session_id: int, counsellor: User, visit_id: int | None, change) -> None:
    """Apply `change(visit=…)` (a write of `reception.take_away`) to the list of the visitor the
    counsellor's page shows (a stale tab is refused) and refresh the visitor's phone."""
    session = _locked_session(session_id, counsellor)
    visit = _expect(session, visit_id, Visit.Status.IN_INTERVIEW)
    try:
        change(visit=visit)
    except ReceptionError as refusal:
        raise CounsellingError(str(refusal)) from refusal
    publish_change(session.desk.site.slug)


@transaction.atomic
def add_to_take_away(
    *, session_id: int, counsellor: User, resource_id: int, visit_id: int | None = None
) -> None:
    """Put a catalogue resource on the current visitor's take-away list (once)."""
    _change_take_away(
        session_id, counsellor, visit_id, partial(take_away.add_resource, resource_id=resource_id)
    )


@transaction.atomic
def remove_from_take_away(
    *, session_id: int, counsellor: User, resource_id: int, visit_id: int | None = None
) -> None:
    _change_take_away(
        session_id,
        counsellor,
        visit_id,
        partial(take_away.remove_resource, resource_id=resource_id),
    )


@transaction.atomic
def add_event_to_take_away(
    *, session_id: int, counsellor: User, event_id: int, visit_id: int | None = None
) -> None:
    """Suggest an upcoming event of the site: it joins the visitor's take-away list."""
    _change_take_away(
        session_id, counsellor, visit_id, partial(take_away.add_event, event_id=event_id)
    )


@transaction.atomic
def remove_event_from_take_away(
    *, session_id: int, counsellor: User, event_id: int, visit_id: int | None = None
) -> None:
    _change_take_away(
        session_id, counsellor, visit_id, partial(take_away.remove_event, event_id=event_id)
    )
