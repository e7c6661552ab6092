"""Interviews: start, finish with coded topics and outcomes (a referral sends the visitor to
another theme's queue), finish and call the next visitor at once, hand the visitor back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils.translation import gettext as _

from citedesmetiers import rows
from citedesmetiers.live import publish_change
from citedesmetiers.models import Partner, Theme, User
from reception.models import Channel, Visit

from ..models import DeskSession, Interview, Outcome, Topic
from .calling import _call_next_at
from .sessions import CounsellingError, _expect, _locked_session, _now


@transaction.atomic
def start_interview(
    *,
    session_id: int | None = None,
    counsellor: User,
    site_id: int | None = None,
    visit_id: int | None = None,
    now: dt.datetime | None = None,
) -> Interview:
    """The called visitor sits down at the desk (the session `session_id`, or the counsellor's
    open one at `site_id`). One conditional UPDATE (compare-and-set) both starts their visit and
    checks it against what the counsellor's page showed: the visitor this desk has called
    (`visit_id`, when the page names one). No row updated means the page was out of date —
    another tab started them, reception marked them as left — and nothing changes."""
    session = _locked_session(session_id, counsellor, site_id=site_id)
    now = _now(now)
    visit = _start_called(session.desk_id, visit_id, now)
    if visit is None:
        raise CounsellingError(_("Your page was out of date; nothing was changed."))
    interview = Interview(
        visit=visit,
        session=session,
        desk=session.desk,
        counsellor=counsellor,
        partner_id=session.partner_id,
        theme_id=visit.theme_id,
        channel=visit.channel,
        by_appointment=visit.by_appointment,
        called_at=visit.called_at,
        started_at=now,
    )
    rows.insert(interview)
    publish_change(session.desk.site.slug)
    return interview


def _end_open_interview(
    session: DeskSession, visit: Visit, now: dt.datetime, channel: str
) -> Interview:
    """The sitting's open interview of `visit`, ended now; refused if it is finished already."""
    interview = rows.update_returning(
        Interview,
        "ended_at = %s, channel = %s",
        "session_id = %s AND visit_id = %s AND ended_at IS NULL",
        [connection.ops.adapt_datetimefield_value(now), channel, session.pk, visit.pk],
    )
    if interview is None:
        raise CounsellingError(_("This interview is already finished."))
    return interview


def _start_called(desk_id: int, visit_id: int | None, now: dt.datetime) -> Visit | None:
    """`Visit.start` as one statement: the desk's called visitor (that one, if named) goes into
    interview, `started_at` keeping the first start (before any referral); None if the desk
    holds no such visitor."""
    return _move_held(
        desk_id,
        visit_id,
        Visit.Status.CALLED,
        "status = %s, started_at = COALESCE(started_at, %s)",
        [Visit.Status.IN_INTERVIEW, connection.ops.adapt_datetimefield_value(now)],
    )


def _finish_held(desk_id: int, visit_id: int | None, now: dt.datetime) -> Visit | None:
    """`Visit.finish` as one statement: the desk's visitor in interview (that one, if named) is
    done; None if the desk holds no such visitor."""
    return _move_held(
        desk_id,
        visit_id,
        Visit.Status.IN_INTERVIEW,
        "status = %s, desk_id = NULL, ended_at = %s",
        [Visit.Status.DONE, connection.ops.adapt_datetimefield_value(now)],
    )


def _move_held(
    desk_id: int, visit_id: int | None, status: str, assignments: str, params: list
) -> Visit | None:
    """Compare-and-set of the visitor the desk holds in `status` (that one, if named)."""
    named = " AND id = %s" if visit_id is not None else ""
    return rows.update_returning(
        Visit,
        assignments,
        f"desk_id = %s AND status = %s{named}",
        [*params, desk_id, status, *([int(visit_id)] if visit_id is not None else [])],
    )


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
    *,
    session_id: int | None = None,
    counsellor: User,
    site_id: int | None = None,
    now: dt.datetime | None = None,
    **answers,
) -> Interview:
    """End the interview with its coded topics and outcomes (see `_finish` for `answers`; the
    desk as for `start_interview`)."""
    session = _locked_session(session_id, counsellor, site_id=site_id)
    return _finish(session, _now(now), **answers)


@dataclass(frozen=True)
class FinishedAndCalled:
    session: DeskSession
    interview: Interview
    called: Visit | None  # None: nobody waits, or the desk is paused
    paused: bool


@transaction.atomic
def finish_and_call_next(
    *,
    session_id: int | None = None,
    counsellor: User,
    site_id: int | None = None,
    now: dt.datetime | None = None,
    **answers,
) -> FinishedAndCalled:
    """End the interview and call the next visitor in one step, as a counsellor does when people
    are waiting: one lock of the desk, one commit. A paused desk only finishes. (The desk as for
    `start_interview`.)"""
    session = _locked_session(session_id, counsellor, site_id=site_id)
    now = _now(now)
    interview = _finish(session, now, **answers)
    paused = session.paused_since is not None
    # Not the visitor just seen, were they referred to another theme of this desk: not straight
    # back (they keep their place, for another desk or for a later call).
    called = None if paused else _call_next_at(session, now, passing_over=interview.visit_id)
    return FinishedAndCalled(session, interview, called, paused)


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
    channel: str = Channel.IN_PERSON,
    topic_ids: list[int] | tuple = (),
    outcomes: list[str] | tuple = (),
    refer_theme_id: int | None = None,
    referral_reason: str = "",
    partner_kind: str = "",
) -> Interview:
    """End the interview with its coded topics and outcomes. A referral to another desk's theme
    puts the visit back in that queue with its original arrival time; otherwise the visit ends,
    in one conditional UPDATE that also tells a repeat or a stale page (see `start_interview`).
    Any refusal below rolls back what was written before it."""
    outcomes = list(dict.fromkeys(outcomes))
    if Outcome.Code.REFERRED_DESK in outcomes:
        try:
            visit = _expect(session, visit_id, Visit.Status.IN_INTERVIEW)
        except CounsellingError:
            raise cannot_finish(session, visit_id) from None
    else:
        visit = _finish_held(session.desk_id, visit_id, now)
        if visit is None:
            raise cannot_finish(session, visit_id)
    if any(code not in Outcome.Code.values for code in outcomes):
        raise CounsellingError(_("One of the outcomes is not a valid choice."))
    if channel not in Channel.values:
        raise CounsellingError(_("Choose how the interview took place."))
    interview = _end_open_interview(session, visit, now, channel)
    topic_ids = set(map(int, topic_ids))
    topics = (
        list(Topic.objects.filter(pk__in=topic_ids, theme_id=visit.theme_id, active=True))
        if topic_ids
        else []
    )
    if len(topics) != len(topic_ids):
        raise CounsellingError(_("One of the topics does not belong to this theme."))
    refer_theme = None
    if Outcome.Code.REFERRED_DESK in outcomes:
        refer_theme = (
            Theme.objects.filter(pk=refer_theme_id or 0, site_id=visit.site_id, active=True)
            .exclude(pk=visit.theme_id)
            .first()
        )
        if refer_theme is None:
            raise CounsellingError(_("Choose the theme of the desk you refer the visitor to."))
        if referral_reason not in Outcome.Reason.values:
            raise CounsellingError(_("Choose why you refer the visitor to another desk."))
    if Outcome.Code.REFERRED_PARTNER in outcomes and partner_kind not in Partner.Kind.values:
        raise CounsellingError(_("Choose the kind of institution you refer the visitor to."))

    if topics:
        interview.topics.add(*topics)  # a new interview: nothing to replace
    if outcomes:
        rows.insert(
            *(
                Outcome(
                    interview=interview,
                    code=code,
                    referred_theme=refer_theme if code == Outcome.Code.REFERRED_DESK else None,
                    referral_reason=referral_reason if code == Outcome.Code.REFERRED_DESK else "",
                    partner_kind=partner_kind if code == Outcome.Code.REFERRED_PARTNER else "",
                )
                for code in outcomes
            )
        )
    if refer_theme is not None:
        # Several points of view: back to waiting for the other theme, keeping the arrival time,
        # and not called back here (see `_call_next_at`).
        fields = visit.refer(refer_theme, by=session)
        if visit.by_appointment:
            # Their time was the appointment's: in a walk-in queue they are a fresh arrival,
            # never ahead of those already waiting.
            visit.queued_at = now
            fields.append("queued_at")
        visit.save(update_fields=fields)
        if not session.referred_on:
            session.referred_on = True
            session.save(update_fields=["referred_on"])
    publish_change(session.desk.site.slug)
    return interview


@transaction.atomic
def hand_back(
    *,
    session_id: int | None = None,
    counsellor: User,
    site_id: int | None = None,
    visit_id: int | None = None,
    now: dt.datetime | None = None,
) -> Visit:
    """Give the current visitor back to the queue (e.g. before closing the desk in a hurry): they
    keep their place; an interview already started is closed without outcome."""
    session = _locked_session(session_id, counsellor, site_id=site_id)
    visit = _expect(session, visit_id)
    if visit.by_appointment:
        raise CounsellingError(
            _("An appointment never joins the walk-in queue: finish it, or say they did not come.")
        )
    Interview.objects.filter(session=session, visit=visit, ended_at__isnull=True).update(
        ended_at=_now(now)
    )
    visit.save(update_fields=visit.hand_back())
    publish_change(session.desk.site.slug)
    return visit
