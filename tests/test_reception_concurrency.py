"""Several tablets at once, with real threads against real PostgreSQL: ticket numbers never repeat
nor skip, a check-in resubmitted in parallel still makes one visit, and “Left” and its undo,
tapped on several tablets (or while a desk calls), change a ticket once.

SQLite serialises every writer (IMMEDIATE transactions), so the race cannot happen there; CI runs
the whole suite on PostgreSQL as well, which is where these run."""

from __future__ import annotations

import uuid

import pytest
from django.utils import translation

from citedesmetiers.roles import Role
from counselling import services as counselling
from reception import services
from reception.models import Call, LateCheckInDay, TicketCounter, Visit
from tests.conftest import make_site, make_staff
from tests.counselling_fixtures import make_desk, open_session
from tests.threads import in_parallel, needs_postgresql

pytestmark = [needs_postgresql, pytest.mark.django_db(transaction=True)]


def test_twenty_tablets_at_once_get_twenty_consecutive_numbers():
    site = make_site("alpha")
    theme = site.themes.get(letter="E")

    results = in_parallel(
        20,
        lambda i: services.check_in(site=site, theme_id=theme.pk, checkin_key=uuid.uuid4()),
    )

    assert all(created for _visit, created in results)
    numbers = sorted(visit.number for visit, _created in results)
    assert numbers == list(range(1, 21))
    assert sorted(Visit.objects.values_list("number", flat=True)) == list(range(1, 21))
    assert len({visit.code for visit, _created in results}) == 20
    assert TicketCounter.objects.get(site=site, letter="E").last_number == 20


def test_the_same_check_in_sent_ten_times_at_once_makes_one_visit():
    site = make_site("alpha")
    theme = site.themes.get(letter="E")
    key = uuid.uuid4()

    results = in_parallel(
        10, lambda i: services.check_in(site=site, theme_id=theme.pk, checkin_key=key)
    )

    assert Visit.objects.count() == 1
    visit = Visit.objects.get()
    assert [created for _visit, created in results].count(True) == 1
    assert {v.pk for v, _created in results} == {visit.pk}
    # The losers rolled their number back: nothing was skipped.
    assert visit.code == "E-001"
    assert services.check_in(site=site, theme_id=theme.pk)[0].code == "E-002"


def outcomes(work):
    """`work` wrapped to return "ok" or the refusal it raised (in English), so threads report
    either."""

    def run(i: int):
        try:
            with translation.override("en"):  # a thread starts in the default language
                work(i)
            return "ok"
        except (services.ReceptionError, counselling.CounsellingError) as refusal:
            with translation.override("en"):
                return str(refusal)

    return run


def test_ten_tablets_marking_the_same_ticket_left_at_once_change_it_once():
    site = make_site("alpha")
    visit, _created = services.check_in(site=site, theme_id=site.themes.get(letter="E").pk)

    results = in_parallel(10, outcomes(lambda i: services.mark_left(site=site, visit_id=visit.pk)))

    assert results.count("ok") == 1
    assert set(results) - {"ok"} == {"Ticket E-001 is not waiting any more; nothing was changed."}
    visit.refresh_from_db()
    assert (visit.status, visit.left_how) == (Visit.Status.LEFT, Visit.LeftHow.WALKED_OUT)


def test_ten_tablets_undoing_the_same_left_at_once_put_it_back_once():
    site = make_site("alpha")
    visit, _created = services.check_in(site=site, theme_id=site.themes.get(letter="E").pk)
    services.mark_left(site=site, visit_id=visit.pk)

    results = in_parallel(10, outcomes(lambda i: services.undo_left(site=site, visit_id=visit.pk)))

    assert results.count("ok") == 1
    assert set(results) - {"ok"} == {
        "Ticket E-001 is already back in the queue; nothing was changed."
    }
    back = Visit.objects.get()
    assert (back.status, back.ended_at, back.queued_at) == (
        Visit.Status.WAITING,
        None,
        visit.queued_at,
    )


def test_left_tapped_while_a_desk_calls_the_ticket_is_one_or_the_other():
    site = make_site("alpha")
    counsellor = make_staff("bob@alpha.test", Role.COUNSELLOR, site)
    session = open_session(counsellor, make_desk(site, "Desk 1", "E"))
    theme = site.themes.get(letter="E")
    for _round in range(5):
        visit, _created = services.check_in(site=site, theme_id=theme.pk)

        def act(i: int, visit=visit):
            if i == 0:
                return services.mark_left(site=site, visit_id=visit.pk)
            return counselling.call_next(session_id=session.pk, counsellor=counsellor)

        left, called = in_parallel(2, outcomes(act))

        visit.refresh_from_db()
        calls = Call.objects.filter(visit=visit).count()
        assert called == "ok"  # the desk calls, or finds nobody: never an error
        if left == "ok":  # the desk skipped the locked ticket, or found it gone
            assert (visit.status, visit.desk_id, calls) == (Visit.Status.LEFT, None, 0)
        else:  # the desk called first: reception's stale “Left” is refused
            assert left == f"Ticket {visit.code} is not waiting any more; nothing was changed."
            assert (visit.status, visit.desk_id, calls) == (Visit.Status.CALLED, session.desk_id, 1)
            counselling.mark_no_show(session_id=session.pk, counsellor=counsellor)


def test_ten_tablets_checking_late_arrivals_in_at_once_turn_one_day_on():
    site = make_site("gamma", always_open=False)
    theme = site.themes.get(letter="E")

    results = in_parallel(
        10,
        lambda i: services.check_in(
            site=site, theme_id=theme.pk, checkin_key=uuid.uuid4(), override_hours=True
        ),
    )

    assert sorted(visit.number for visit, _created in results) == list(range(1, 11))
    assert LateCheckInDay.objects.filter(site=site).count() == 1
