"""A counsellor's sitting at a desk: open, pause, resume, close; and the locks every desk action
takes first (the session row, then the visitor the desk holds)."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from citedesmetiers import rows
from citedesmetiers.access import partner_at
from citedesmetiers.live import publish_change
from citedesmetiers.models import Site, User
from citedesmetiers.refusals import Refusal
from reception.models import Visit

from ..models import Desk, DeskPause, DeskSession, opening


class CounsellingError(Refusal):
    """A refusal to show to the counsellor as it is."""


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def open_desk(
    *,
    counsellor: User,
    desk: Desk,
    theme_ids: list[int] | None = None,
    now: dt.datetime | None = None,
) -> DeskSession:
    """Open `desk` for the counsellor, serving `theme_ids` (some of the desk's active themes) or,
    when not given, the themes the plan has at that desk for them now, else all the desk's."""
    if not desk.active:
        raise CounsellingError(_("%(desk)s is not in use.") % {"desk": desk.name})
    partner = partner_at(counsellor, desk.site)
    now = _now(now)
    # Allowed whatever the plan says: a desk opened outside it is only recorded as such.
    plan = opening(desk, counsellor, partner, now)
    themes = _themes_to_serve(desk, theme_ids, plan.planned.theme_ids if plan.planned else None)
    try:
        with transaction.atomic():
            session = DeskSession.objects.create(
                desk=desk,
                counsellor=counsellor,
                partner=partner,
                opened_at=now,
                outside_plan=plan.outside_plan,
            )
            session.themes.set(themes)
            publish_change(desk.site.slug)
    except IntegrityError:
        if DeskSession.objects.filter(counsellor=counsellor, closed_at__isnull=True).exists():
            raise CounsellingError(_("You already have a desk open.")) from None
        raise CounsellingError(
            _("%(desk)s is already open for a colleague.") % {"desk": desk.name}
        ) from None
    return session


def _themes_to_serve(
    desk: Desk, chosen: list[int] | None, planned: frozenset[int] | None
) -> list[int]:
    offered = list(desk.themes.filter(active=True).values_list("pk", flat=True))
    if chosen is None:
        # The plan's themes, as far as the desk serves them; all the desk's otherwise.
        return [pk for pk in offered if planned and pk in planned] or offered
    if not chosen:
        raise CounsellingError(_("Choose at least one theme to serve."))
    if not set(chosen) <= set(offered):
        raise CounsellingError(
            _("%(desk)s does not serve one of those themes.") % {"desk": desk.name}
        )
    return list(dict.fromkeys(chosen))


def _locked_session(
    session_id: int | None, counsellor: User, *, site_id: int | None = None
) -> DeskSession:
    """The counsellor's desk session `session_id`, locked; or, without an id, their open one at
    `site_id` (one at most: `counsellor_one_open_desk`), so that a desk page's post is answered
    without the view reading the session first."""
    if session_id is not None:
        which, params = "s.id = %s", [session_id]
    elif site_id is not None:
        which, params = "s.closed_at IS NULL AND d.site_id = %s", [site_id]
    else:
        raise TypeError("A desk session id or a site id is needed.")
    # With its desk and site, as `select_related` would; the session row only is locked (`of`):
    # the desk and site must stay free for the others. In SQL (`rows`): every desk action starts
    # here.
    found = rows.fetch_one(
        f"SELECT {rows.columns(DeskSession, 's')}, {rows.columns(Desk, 'd')}, "  # noqa: S608
        f"{rows.columns(Site, 'st')} FROM {rows.table(DeskSession)} s "
        f"JOIN {rows.table(Desk)} d ON d.id = s.desk_id JOIN {rows.table(Site)} st "
        f"ON st.id = d.site_id WHERE s.counsellor_id = %s AND {which}" + rows.for_update(of="s"),
        [counsellor.pk, *params],
        DeskSession,
        Desk,
        Site,
    )
    if found is None or found[0].closed_at is not None:
        raise CounsellingError(_("This desk is closed. Open a desk first."))
    session, desk, site = found
    desk.site, session.desk = site, desk
    return session


def end_pause(session: DeskSession, at: dt.datetime) -> None:
    """End the sitting's pause in progress, if any, at `at` (never before it began)."""
    DeskPause.objects.filter(session=session, ended_at__isnull=True).update(
        ended_at=Greatest("started_at", Value(at, output_field=DateTimeField()))
    )


HELD = (Visit.Status.CALLED, Visit.Status.IN_INTERVIEW)


def _held(session: DeskSession):
    """The visits the desk holds (called or in interview): one at most."""
    return Visit.objects.filter(desk_id=session.desk_id, status__in=HELD)


def _holds_somebody(session: DeskSession) -> bool:
    return _held(session).exists()


def current_visit(session: DeskSession) -> Visit | None:
    """The visitor the desk holds (called or in interview), if any."""
    return _held(session).select_related("theme").first()


def _expect(session: DeskSession, visit_id: int | None, *statuses: str) -> Visit:
    """The desk's current visitor, locked and checked against what the counsellor's page showed
    (reception may be marking them as left at this very moment: the lock makes one of the two
    wait and then see the other's change)."""
    found = rows.fetch_one(
        f"SELECT {rows.columns(Visit)} FROM {rows.table(Visit)} "  # noqa: S608
        f"WHERE desk_id = %s AND status IN ({rows.marks(HELD)})"
        + rows.for_update(of=rows.table(Visit)),
        [session.desk_id, *HELD],
        Visit,
    )
    visit = found[0] if found else None
    if visit is None or (visit_id is not None and visit.pk != int(visit_id)):
        raise CounsellingError(_("Your page was out of date; nothing was changed."))
    if statuses and visit.status not in statuses:
        raise CounsellingError(_("Your page was out of date; nothing was changed."))
    return visit


@transaction.atomic
def pause_desk(
    *,
    session_id: int | None = None,
    counsellor: User,
    site_id: int | None = None,
    now: dt.datetime | None = None,
) -> None:
    session = _locked_session(session_id, counsellor, site_id=site_id)
    if session.paused_since is None:
        session.paused_since = _now(now)
        session.save(update_fields=["paused_since"])
        DeskPause.objects.create(session=session, started_at=session.paused_since)
        publish_change(session.desk.site.slug)


@transaction.atomic
def resume_desk(
    *,
    session_id: int | None = None,
    counsellor: User,
    site_id: int | None = None,
    now: dt.datetime | None = None,
) -> None:
    session = _locked_session(session_id, counsellor, site_id=site_id)
    if session.paused_since is not None:
        session.paused_since, session.resumed_at = None, _now(now)
        session.save(update_fields=["paused_since", "resumed_at"])
        end_pause(session, session.resumed_at)
        publish_change(session.desk.site.slug)


@transaction.atomic
def close_desk(
    *,
    session_id: int | None = None,
    counsellor: User,
    site_id: int | None = None,
    now: dt.datetime | None = None,
) -> None:
    session = _locked_session(session_id, counsellor, site_id=site_id)
    if _holds_somebody(session):
        raise CounsellingError(
            _("Finish the interview, or hand the visitor back to the queue, before closing.")
        )
    session.closed_at = _now(now)
    session.paused_since = None
    session.save(update_fields=["closed_at", "paused_since"])
    end_pause(session, session.closed_at)
    publish_change(session.desk.site.slug)
