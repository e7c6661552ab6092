"""Calling visitors to a desk: call next, call a ticket out of order, recall, mark as not come,
put back in the queue."""

from __future__ import annotations

import contextlib
import datetime as dt

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from appointments.models import Appointment
from citedesmetiers import rows
from citedesmetiers.live import publish_change
from citedesmetiers.models import User
from reception.models import UNDO_WINDOW, Call, Visit

from ..models import DeskSession
from .appointments import call_due_appointment
from .sessions import CounsellingError, _expect, _holds_somebody, _locked_session, _now


def _queue_head(session: DeskSession, *, passing_over: int | None = None):
    """The read of call next, in SQL (`rows`: every "finish and call next" makes it): the id of
    the visitor who has waited longest for one of the sitting's themes, locked as it is read — on
    PostgreSQL skipping a visitor another desk is calling at this instant instead of waiting for
    it. `(sql, params)`, or None when the sitting serves no theme.

    Not a visitor this sitting referred to another theme while another desk serves it (see
    `_call_next_at`); nor `passing_over` (the visitor just finished here)."""
    through = DeskSession.themes.through
    themes = rows.fetch_values(
        f"SELECT {rows.quoted(through._meta.get_field('theme').column)} "  # noqa: S608
        f"FROM {rows.table(through)} WHERE "
        f"{rows.quoted(through._meta.get_field('desksession').column)} = %s",
        [session.pk],
    )
    if not themes:
        return None
    # A list of themes, not a subquery: the planner then knows how many and walks the site's
    # queue index in order instead of sorting every waiting visit.
    sql = (
        f"SELECT v.id FROM {rows.table(Visit)} v "  # noqa: S608
        f"WHERE v.site_id = %s AND v.status = %s AND v.theme_id IN ({rows.marks(themes)})"
    )
    params = [session.desk.site_id, Visit.Status.WAITING, *themes]
    if passing_over is not None:
        sql += " AND v.id <> %s"
        params.append(passing_over)
    elsewhere = themes_served_elsewhere(session) if session.referred_on else set()
    if elsewhere:
        # In the query, not after it: a visitor passed over must not be locked meanwhile
        # (another desk pressing now would skip them).
        passed_over = rows.marks(elsewhere)
        sql += f" AND NOT (COALESCE(v.referred_by_id, 0) = %s AND v.theme_id IN ({passed_over}))"
        params += [session.pk, *elsewhere]
    sql += " ORDER BY v.queued_at, v.id LIMIT 1" + rows.for_update(of="v", skip_locked=True)
    return sql, params


def _call_head(session: DeskSession, now: dt.datetime, passing_over: int | None) -> Visit | None:
    """`Visit.call` of the queue's head (`_queue_head`) as one statement; None if nobody waits."""
    head = _queue_head(session, passing_over=passing_over)
    if head is None:
        return None
    sql, params = head
    with _held_already():
        return rows.update_returning(
            Visit,
            "status = %s, desk_id = %s, called_at = %s, referred_by_id = NULL",
            f"id = ({sql})",
            [
                Visit.Status.CALLED,
                session.desk_id,
                connection.ops.adapt_datetimefield_value(now),
                *params,
            ],
        )


@contextlib.contextmanager
def _held_already():
    try:
        yield
    except IntegrityError:
        # `visit_one_per_desk`: the desk holds somebody already (the callers check first; this
        # is the database's word on it). The call's transaction rolls back as this error leaves.
        raise CounsellingError(_("You already have a visitor. Finish with them first.")) from None


def _call(session: DeskSession, visit: Visit, now: dt.datetime, out_of_order: str = "") -> Visit:
    with _held_already():
        rows.update(visit, visit.call(session.desk, now))
    return _record_call(session, visit, now, out_of_order)


def _record_call(
    session: DeskSession, visit: Visit, now: dt.datetime, out_of_order: str = ""
) -> Visit:
    """The call of `visit` (called now by the desk), for the screens and the statistics."""
    rows.insert(
        Call(
            site_id=visit.site_id, visit=visit, desk=session.desk, at=now, out_of_order=out_of_order
        )
    )
    publish_change(session.desk.site.slug)
    return visit


@transaction.atomic
def call_next(
    *,
    session_id: int | None = None,
    counsellor: User,
    site_id: int | None = None,
    now: dt.datetime | None = None,
) -> Visit | None:
    """Call the visitor who has waited longest for one of the desk's themes; None if nobody."""
    session = _locked_session(session_id, counsellor, site_id=site_id)
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
    `passing_over`: a visit not to call now (the one just finished here).

    At an appointment desk, a checked-in appointment due now comes first; with none due, the
    desk calls walk-ins like any other (a walk-in desk has no appointment to call)."""
    appointment = call_due_appointment(session, now)
    if appointment is not None:
        return appointment
    visit = _call_head(session, now, passing_over)
    return None if visit is None else _record_call(session, visit, now)


def themes_served_elsewhere(session: DeskSession) -> set[int]:
    """The themes that another open, unpaused desk of the site serves."""
    others = (
        DeskSession.objects.filter(
            desk__site_id=session.desk.site_id, closed_at__isnull=True, paused_since__isnull=True
        )
        .exclude(pk=session.pk)
        .values("pk")
    )
    return set(
        DeskSession.themes.through.objects.filter(desksession_id__in=others).values_list(
            "theme_id", flat=True
        )
    )


@transaction.atomic
def call_ticket(
    *,
    session_id: int | None = None,
    counsellor: User,
    site_id: int | None = None,
    visit_id: int,
    reason: str,
    now: dt.datetime | None = None,
) -> Visit:
    """Call a specific waiting ticket out of order, with a reason code (counted in statistics)."""
    if reason not in Call.OutOfOrder.values:
        raise CounsellingError(_("Choose why this ticket is called out of order."))
    session = _locked_session(session_id, counsellor, site_id=site_id)
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
    session_id: int | None = None,
    counsellor: User,
    site_id: int | None = None,
    visit_id: int | None = None,
    now: dt.datetime | None = None,
) -> Visit:
    session = _locked_session(session_id, counsellor, site_id=site_id)
    visit = _expect(session, visit_id, Visit.Status.CALLED)
    Call.objects.create(
        site_id=visit.site_id, visit=visit, desk=session.desk, kind=Call.Kind.RECALL, at=_now(now)
    )
    publish_change(session.desk.site.slug)
    return visit


@transaction.atomic
def mark_no_show(
    *,
    session_id: int | None = None,
    counsellor: User,
    site_id: int | None = None,
    visit_id: int | None = None,
    now: dt.datetime | None = None,
) -> Visit:
    session = _locked_session(session_id, counsellor, site_id=site_id)
    visit = _expect(session, visit_id, Visit.Status.CALLED)
    visit.save(update_fields=visit.miss(_now(now)))
    if visit.by_appointment:
        Appointment.objects.filter(visit=visit).update(status=Appointment.Status.NO_SHOW)
    publish_change(session.desk.site.slug)
    return visit


@transaction.atomic
def put_back(*, site_id: int, visit_id: int, now: dt.datetime | None = None) -> Visit:
    """A visitor marked “did not come” turns up within 10 minutes: back in the queue with their
    original time."""
    visit = Visit.objects.select_for_update().filter(pk=visit_id, site_id=site_id).first()
    if visit is None or visit.status != Visit.Status.NO_SHOW or visit.by_appointment:
        # An appointment missed when called checks in again at reception, as a walk-in.
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
