"""The visitor's take-away list, from the desk: reception keeps the list
(`reception.take_away`); here the desk's lock and the check that the page shows the visitor in
interview."""

from __future__ import annotations

from functools import partial

from django.db import transaction

from citedesmetiers.live import publish_change
from citedesmetiers.models import User
from reception import take_away
from reception.models import Visit
from reception.services import ReceptionError

from .sessions import CounsellingError, _expect, _locked_session


def _change_take_away(
    session_id: int | None, site_id: int | None, counsellor: User, visit_id: int | None, change
) -> None:
    """Apply `change(visit=…)` (a write of `reception.take_away`) to the list of the visitor the
    counsellor's page shows (a stale tab is refused) and refresh the visitor's phone."""
    session = _locked_session(session_id, counsellor, site_id=site_id)
    visit = _expect(session, visit_id, Visit.Status.IN_INTERVIEW)
    try:
        change(visit=visit)
    except ReceptionError as refusal:
        raise CounsellingError(str(refusal)) from refusal
    publish_change(session.desk.site.slug)


@transaction.atomic
def add_to_take_away(
    *,
    session_id: int | None = None,
    counsellor: User,
    site_id: int | None = None,
    resource_id: int,
    visit_id: int | None = None,
) -> None:
    """Put a catalogue resource on the current visitor's take-away list (once)."""
    _change_take_away(
        session_id,
        site_id,
        counsellor,
        visit_id,
        partial(take_away.add_resource, resource_id=resource_id),
    )


@transaction.atomic
def remove_from_take_away(
    *,
    session_id: int | None = None,
    counsellor: User,
    site_id: int | None = None,
    resource_id: int,
    visit_id: int | None = None,
) -> None:
    _change_take_away(
        session_id,
        site_id,
        counsellor,
        visit_id,
        partial(take_away.remove_resource, resource_id=resource_id),
    )


@transaction.atomic
def add_event_to_take_away(
    *,
    session_id: int | None = None,
    counsellor: User,
    site_id: int | None = None,
    event_id: int,
    visit_id: int | None = None,
) -> None:
    """Suggest an upcoming event of the site: it joins the visitor's take-away list."""
    _change_take_away(
        session_id, site_id, counsellor, visit_id, partial(take_away.add_event, event_id=event_id)
    )


@transaction.atomic
def remove_event_from_take_away(
    *,
    session_id: int | None = None,
    counsellor: User,
    site_id: int | None = None,
    event_id: int,
    visit_id: int | None = None,
) -> None:
    _change_take_away(
        session_id,
        site_id,
        counsellor,
        visit_id,
        partial(take_away.remove_event, event_id=event_id),
    )
