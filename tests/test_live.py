"""The live-poll contract of the screens (tablet overview, waiting-room display, visitor's phone).

A screen polls with the change mark it was rendered with (`?v=`). While nothing changed, the answer
is an empty 204 that touches neither the database nor the session; once a change has *committed*,
the mark is new and the poll gets the fresh fragment, carrying the new mark."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import caches
from django.urls import reverse

from citedesmetiers.live import current_mark
from reception import services
from reception.models import Visit


@pytest.fixture(autouse=True)
def _english(settings, centre):
    settings.LANGUAGE_CODE = "en"
    # The display speaks the site's language; Alpha's is English here.
    centre.alpha.language = "en"
    centre.alpha.save(update_fields=["language"])


def display_poll(mark: str | None = None) -> str:
    url = reverse("reception:display_live", args=["alpha"])
    return url if mark is None else f"{url}?v={mark}"


def overview_poll(mark: str | None = None) -> str:
    url = f"{reverse('reception:overview_live')}?s=alpha"
    return url if mark is None else f"{url}&v={mark}"


def visitor_poll(visit: Visit, mark: str | None = None) -> str:
    url = f"{reverse('reception:visitor_live', args=[visit.token])}?s=alpha"
    return url if mark is None else f"{url}&v={mark}"


def check_in(centre, django_capture_on_commit_callbacks, letter: str = "E") -> Visit:
    # publish_change waits for the commit; the test transaction never commits, so run the
    # on-commit callbacks as a real commit would.
    with django_capture_on_commit_callbacks(execute=True):
        visit, _created = services.check_in(
            site=centre.alpha, theme_id=centre.alpha.themes.get(letter=letter).pk
        )
    return visit


def assert_nothing_changed(response) -> None:
    assert response.status_code == 204
    assert response.content == b""
    assert "no-store" in response["Cache-Control"]
    assert not response.cookies  # no session, no CSRF cookie
    assert not response.wsgi_request.session.accessed


# --- unchanged: 204, nothing touched --------------------------------------------------------------


def test_an_unchanged_display_poll_costs_no_query(centre, client, django_assert_num_queries):
    mark = current_mark("alpha")

    with django_assert_num_queries(0):
        response = client.get(display_poll(mark))

    assert_nothing_changed(response)


def test_an_unchanged_overview_poll_loads_neither_session_nor_database(
    centre, login, django_assert_num_queries
):
    client = login(centre.reception)
    mark = current_mark("alpha")

    with django_assert_num_queries(0):
        response = client.get(overview_poll(mark))

    assert_nothing_changed(response)


def test_an_unchanged_visitor_poll_costs_no_query(
    centre, client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    visit = check_in(centre, django_capture_on_commit_callbacks)
    mark = current_mark("alpha")

    with django_assert_num_queries(0):
        response = client.get(visitor_poll(visit, mark))

    assert_nothing_changed(response)


def test_a_manager_who_must_still_enrol_in_mfa_gets_a_204_too(
    centre, login, django_assert_num_queries
):
    # The MFA middleware lets unchanged polls through without loading the session.
    client = login(centre.manager)
    mark = current_mark("alpha")

    with django_assert_num_queries(0):
        response = client.get(overview_poll(mark))

    assert_nothing_changed(response)


# --- changed: the fragment, with the new mark -----------------------------------------------------


def test_a_check_in_changes_the_mark_only_once_committed(
    centre, django_capture_on_commit_callbacks
):
    before = current_mark("alpha")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.check_in(site=centre.alpha, theme_id=centre.alpha.themes.get(letter="E").pk)
        assert current_mark("alpha") == before  # not visible to the screens yet

    assert current_mark("alpha") == before
    for callback in callbacks:
        callback()
    assert current_mark("alpha") != before
    assert current_mark("beta") != current_mark("alpha")


def test_after_a_check_in_the_display_poll_gets_the_new_counts(
    centre, client, django_capture_on_commit_callbacks
):
    old = current_mark("alpha")
    check_in(centre, django_capture_on_commit_callbacks)
    new = current_mark("alpha")
    assert new != old

    response = client.get(display_poll(old))

    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<main id="main" class="board')
    assert "1 waiting" in fragment
    assert f"v={new}" in fragment
    assert client.get(display_poll(new)).status_code == 204


def test_after_a_check_in_the_overview_poll_lists_the_new_ticket(
    centre, login, django_capture_on_commit_callbacks
):
    client = login(centre.reception)
    old = current_mark("alpha")
    check_in(centre, django_capture_on_commit_callbacks)
    check_in(centre, django_capture_on_commit_callbacks, letter="F")
    new = current_mark("alpha")

    response = client.get(overview_poll(old))

    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<section id="overview"')
    assert "E-001" in fragment
    assert "F-001" in fragment
    assert f"v={new}" in fragment
    assert client.get(overview_poll(new)).status_code == 204


def test_after_the_visitor_ahead_leaves_the_visitor_poll_says_you_are_next(
    centre, client, django_capture_on_commit_callbacks
):
    ahead = check_in(centre, django_capture_on_commit_callbacks)
    visit = check_in(centre, django_capture_on_commit_callbacks)
    old = current_mark("alpha")
    assert "You are number 2 in the queue." in client.get(visitor_poll(visit)).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        services.leave_queue(token=ahead.token)

    response = client.get(visitor_poll(visit, old))
    assert response.status_code == 200
    assert "You are next." in response.content.decode()


@pytest.mark.parametrize("change", ["change_theme", "mark_left", "leave_queue", "close_day"])
def test_every_reception_write_moves_the_mark(centre, django_capture_on_commit_callbacks, change):
    visit = check_in(centre, django_capture_on_commit_callbacks)
    before = current_mark("alpha")

    with django_capture_on_commit_callbacks(execute=True):
        if change == "change_theme":
            theme = centre.alpha.themes.get(letter="F")
            services.change_theme(site=centre.alpha, visit_id=visit.pk, theme_id=theme.pk)
        elif change == "mark_left":
            services.mark_left(site=centre.alpha, visit_id=visit.pk)
        elif change == "leave_queue":
            services.leave_queue(token=visit.token)
        else:
            Visit.objects.filter(pk=visit.pk).update(local_date=visit.local_date.replace(year=2000))
            assert services.close_day(site=centre.alpha) == 1

    assert current_mark("alpha") != before


# --- stale or missing marks ---------------------------------------------------------------------


@pytest.mark.parametrize("mark", [None, "", "stale", "0" * 32])
def test_a_stale_or_missing_mark_gets_the_fragment(centre, client, login, mark):
    current = current_mark("alpha")

    display = client.get(display_poll(mark))
    overview = login(centre.reception).get(overview_poll(mark))

    assert display.status_code == overview.status_code == 200
    assert f"v={current}" in display.content.decode()
    assert f"v={current}" in overview.content.decode()


def test_a_mark_of_another_site_is_not_a_pass(centre, client):
    # Beta's mark says nothing about Alpha: the poll goes on to the view.
    response = client.get(display_poll(current_mark("beta")))
    assert response.status_code == 200


# --- polls of sites that do not exist -----------------------------------------------------------


def test_polls_of_unknown_sites_write_nothing(centre, client, login):
    # Names never polled before (the embedded default's file cache outlives a test run).
    slugs = [f"nowhere-{uuid.uuid4().hex[:12]}" for _n in range(30)]
    for slug in slugs:
        assert client.get(f"/display/{slug}/live/?v=x").status_code == 404
        client.get(f"/t/not-a-token/live/?s={slug}&v=x")
    reception = login(centre.reception)
    for slug in slugs:
        assert reception.get(f"/reception/live/?s={slug}&v=x").status_code == 200

    live = caches["live"]
    assert all(live.get(f"site:{slug}") is None for slug in slugs)
    assert live.get("site:alpha") is not None  # the agent's own site has its mark
