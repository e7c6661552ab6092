"""“Left” can be undone for 10 minutes: the ticket goes back to its queue at its place. Anything
else (another site's ticket, too late, called since, left another way) is refused and changes
nothing.

Personas (tests/conftest.py): Alice is the reception agent of site Alpha; site Beta is another
site."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from counselling.models import Desk
from reception import queues, services
from reception.models import UNDO_WINDOW, Visit


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def check_in(site, letter: str = "E", **kwargs) -> Visit:
    theme = site.themes.get(letter=letter)
    return services.check_in(site=site, theme_id=theme.pk, **kwargs)[0]


def frozen(visit: Visit) -> dict:
    return Visit.objects.filter(pk=visit.pk).values().get()


def messages_of(response) -> list[tuple[str, str]]:
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


def ago(minutes: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(minutes=minutes)


# --- the service ---------------------------------------------------------------------------------


def test_undoing_left_puts_the_ticket_back_at_its_place(centre):
    first = check_in(centre.alpha, now=ago(30))
    second = check_in(centre.alpha, now=ago(20))
    later = check_in(centre.alpha, now=ago(5))
    services.mark_left(site=centre.alpha, visit_id=first.pk, now=ago(9))
    assert queues.position_in_queue(second) == 1

    back = services.undo_left(site=centre.alpha, visit_id=first.pk)

    assert (back.status, back.left_how, back.ended_at) == (Visit.Status.WAITING, "", None)
    assert frozen(back)["queued_at"] == first.queued_at
    assert [v.code for v in queues.waiting_visits(centre.alpha)] == [
        first.code,
        second.code,
        later.code,
    ]
    assert queues.position_in_queue(back) == 1


def test_it_refuses_after_ten_minutes_and_changes_nothing(centre):
    visit = check_in(centre.alpha, now=ago(30))
    services.mark_left(site=centre.alpha, visit_id=visit.pk, now=ago(10.5))
    before = frozen(visit)

    with pytest.raises(services.ReceptionError, match="more than 10 minutes ago"):
        services.undo_left(site=centre.alpha, visit_id=visit.pk)
    assert frozen(visit) == before


def test_it_refuses_a_ticket_already_back_in_the_queue(centre):
    visit = check_in(centre.alpha)
    services.mark_left(site=centre.alpha, visit_id=visit.pk)
    services.undo_left(site=centre.alpha, visit_id=visit.pk)  # the other tablet was quicker
    before = frozen(visit)

    with pytest.raises(services.ReceptionError, match="already back in the queue"):
        services.undo_left(site=centre.alpha, visit_id=visit.pk)
    assert frozen(visit) == before


@pytest.mark.parametrize("status", [Visit.Status.CALLED, Visit.Status.IN_INTERVIEW])
def test_it_refuses_a_ticket_called_since(centre, status):
    visit = check_in(centre.alpha)
    services.mark_left(site=centre.alpha, visit_id=visit.pk)
    services.undo_left(site=centre.alpha, visit_id=visit.pk)
    desk = Desk.objects.create(site=centre.alpha, name="Desk 1")
    Visit.objects.filter(pk=visit.pk).update(status=status, desk=desk, called_at=timezone.now())
    before = frozen(visit)

    with pytest.raises(services.ReceptionError, match="called by a desk since"):
        services.undo_left(site=centre.alpha, visit_id=visit.pk)
    assert frozen(visit) == before


@pytest.mark.parametrize(
    ("status", "how"),
    [
        (Visit.Status.LEFT, Visit.LeftHow.BY_THEMSELVES),  # the visitor's own choice
        (Visit.Status.LEFT, Visit.LeftHow.AT_CLOSING),
        (Visit.Status.DONE, ""),
        (Visit.Status.NO_SHOW, ""),
    ],
)
def test_it_only_puts_back_what_reception_marked_left(centre, status, how):
    visit = check_in(centre.alpha)
    Visit.objects.filter(pk=visit.pk).update(status=status, left_how=how, ended_at=ago(1))
    before = frozen(visit)

    with pytest.raises(services.ReceptionError, match="not marked “Left” at reception"):
        services.undo_left(site=centre.alpha, visit_id=visit.pk)
    assert frozen(visit) == before


def test_it_refuses_an_unknown_ticket_or_another_sites(centre):
    beta = check_in(centre.beta)
    services.mark_left(site=centre.beta, visit_id=beta.pk)
    before = frozen(beta)

    for visit_id in (beta.pk, 999999):
        with pytest.raises(services.ReceptionError, match="This ticket does not exist."):
            services.undo_left(site=centre.alpha, visit_id=visit_id)
    assert frozen(beta) == before


def test_the_overview_lists_tickets_left_in_the_last_ten_minutes_only(centre):
    recent, old, gone_alone = (check_in(centre.alpha) for _ in range(3))
    services.mark_left(site=centre.alpha, visit_id=recent.pk, now=ago(2))
    services.mark_left(site=centre.alpha, visit_id=old.pk, now=ago(11))
    services.leave_queue(token=gone_alone.token)

    listed = queues.recently_left(centre.alpha, UNDO_WINDOW)

    assert list(listed) == [recent]


# --- the tablet ----------------------------------------------------------------------------------


def test_reception_puts_a_ticket_back_from_the_overview(centre, login):
    visit = check_in(centre.alpha)
    client = login(centre.reception)
    page = client.post(reverse("reception:mark_left", args=[visit.pk]), follow=True)
    undo = reverse("reception:undo_left", args=[visit.pk])
    assert f'action="{undo}"' in page.content.decode()
    assert "Put back in the queue: ticket E-001" in page.content.decode()

    response = client.post(undo, follow=True)

    assert messages_of(response) == [("success", "Ticket E-001 is back in the queue at its place.")]
    assert [v.pk for v in response.context["waiting"]] == [visit.pk]
    assert list(response.context["recently_left"]) == []


def test_a_late_undo_on_the_tablet_says_why_and_changes_nothing(centre, login):
    visit = check_in(centre.alpha, now=ago(30))
    services.mark_left(site=centre.alpha, visit_id=visit.pk, now=ago(12))
    before = frozen(visit)

    response = login(centre.reception).post(
        reverse("reception:undo_left", args=[visit.pk]), follow=True
    )

    assert messages_of(response) == [
        (
            "error",
            "Ticket E-001 left more than 10 minutes ago; nothing was changed: "
            "check the visitor in again.",
        )
    ]
    assert frozen(visit) == before


def test_another_sites_ticket_cannot_be_put_back_from_the_tablet(centre, login):
    visit = check_in(centre.beta)
    services.mark_left(site=centre.beta, visit_id=visit.pk)
    before = frozen(visit)

    response = login(centre.reception).post(
        reverse("reception:undo_left", args=[visit.pk]), follow=True
    )

    assert messages_of(response) == [("error", "This ticket does not exist.")]
    assert frozen(visit) == before


def test_undoing_needs_a_post(centre, login):
    visit = check_in(centre.alpha)
    services.mark_left(site=centre.alpha, visit_id=visit.pk)
    response = login(centre.reception).get(reverse("reception:undo_left", args=[visit.pk]))
    assert response.status_code == 405
    assert Visit.objects.get().status == Visit.Status.LEFT
