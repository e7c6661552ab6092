"""What a browser or a script can send to the events' pages that once ended in a server error:
dates out of any sane window (2000–2100) in the organiser's forms, the series form and the
admin, Unicode digits and huge numbers where ids are read from forms and query strings. Each is
a clear message or a page, never a 5xx, and writes nothing; and no stored row can break a list.
"""

from __future__ import annotations

import datetime as dt

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from events.models import Event, Series
from tests.events_fixtures import (
    fixture_in_english,  # noqa: F401 (a fixture)
    make_event,
)

pytestmark = pytest.mark.usefixtures("in_english")
MANAGE = "/events/manage"
OUT_OF_WINDOW = [
    "0001-01-01T00:00",
    "0001-01-01T00:05",
    "1899-12-31T23:00",
    "1999-12-31T22:00",
    "2101-01-01T10:00",
    "9999-12-31T23:30",
]


def event_post(centre, **changes) -> dict:
    data = {
        "title": "Write a cover letter",
        "kind": Event.Kind.WORKSHOP,
        "themes": [centre.alpha.themes.get(letter="E").pk],
        "description": "",
        "starts_at": "2030-05-06T10:00",
        "ends_at": "2030-05-06T12:00",
        "place": "Room 2",
        "online_url": "",
        "capacity": "12",
        "audience": Event.Audience.EVERYONE,
        "reminder_days": "2",
    }
    data.update(changes)
    return data


def series_post(centre, **changes) -> dict:
    data = event_post(centre)
    for name in ("starts_at", "ends_at"):
        data.pop(name)
    data.update(
        frequency="weekly",
        weekday="4",
        interval="1",
        ordinal="1",
        first_date="2030-03-01",
        last_date="2030-03-31",
        start_time="09:30",
        duration="90",
    )
    data.update(changes)
    return data


@pytest.mark.parametrize("moment", OUT_OF_WINDOW)
@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
def test_the_event_form_refuses_a_date_out_of_the_window(centre, login, field, moment):
    client = login(centre.organiser)
    changes = {field: moment}
    if field == "starts_at":
        changes["ends_at"] = "2030-05-06T12:00"

    response = client.post(f"{MANAGE}/new/", event_post(centre, **changes))

    assert response.status_code == 200
    assert "between 2000 and 2100" in response.content.decode()
    assert Event.objects.count() == 0


def test_editing_an_event_to_a_date_out_of_the_window_changes_nothing(centre, login):
    event = make_event(centre.alpha)
    client = login(centre.organiser)

    response = client.post(
        f"{MANAGE}/{event.pk}/edit/",
        event_post(centre, starts_at="0001-01-01T00:00", ends_at="0001-01-01T02:00"),
    )

    assert response.status_code == 200
    assert "between 2000 and 2100" in response.content.decode()
    assert Event.objects.get().starts_at == event.starts_at
    assert client.get(f"{MANAGE}/").status_code == 200


@pytest.mark.parametrize(
    "changes",
    [
        {"first_date": "0001-01-01", "last_date": "0001-03-01"},
        {"first_date": "1999-12-01", "last_date": "2000-01-31"},
        {"first_date": "2100-12-01", "last_date": "9999-12-31"},
        {"first_date": "9999-12-01", "last_date": "9999-12-31"},
        {"first_date": "2030-03-01", "last_date": "9999-12-31", "frequency": "monthly"},
    ],
    ids=["year-1", "before-2000", "after-2100", "year-9999", "monthly-to-9999"],
)
def test_the_series_form_refuses_dates_out_of_the_window(centre, login, changes):
    client = login(centre.organiser)

    for extra in ({"preview": "1"}, {}):
        response = client.post(f"{MANAGE}/series/new/", series_post(centre, **changes, **extra))

        assert response.status_code == 200
        assert "between 2000 and 2100" in response.content.decode()
    assert Series.objects.count() == 0
    assert Event.objects.count() == 0


def test_the_admin_refuses_a_date_out_of_the_window(centre, client, django_user_model):
    superuser = django_user_model.objects.create_superuser(email="root@alpha.test", password="x")
    TOTP.activate(superuser, generate_totp_secret())
    client.force_login(superuser, backend="citedesmetiers.auth_backends.ModelBackend")
    data = {
        "site": centre.alpha.pk,
        "title": "Forum",
        "kind": Event.Kind.WORKSHOP,
        "description": "",
        "starts_at_0": "01/01/0001",
        "starts_at_1": "00:00:00",
        "ends_at_0": "01/01/0001",
        "ends_at_1": "02:00:00",
        "place": "",
        "online_url": "",
        "capacity": "",
        "audience": Event.Audience.EVERYONE,
        "reminder_days": "2",
        "registrations-TOTAL_FORMS": "0",
        "registrations-INITIAL_FORMS": "0",
    }

    response = client.post("/admin/events/event/add/", data)

    assert response.status_code == 200
    assert "between 2000 and 2100" in response.content.decode()
    assert Event.objects.count() == 0


def test_the_database_refuses_an_event_out_of_the_window(centre):
    # The last line of defence, for any path that skips the forms (a bulk insert, a script).
    start = dt.datetime(1999, 12, 1, 10, tzinfo=dt.UTC)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(
            site=centre.alpha, title="Old", starts_at=start, ends_at=start + dt.timedelta(hours=1)
        )


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="A date before year 1 is PostgreSQL's"
)
def test_a_date_before_year_one_cannot_be_stored(centre):
    # What once happened: 0001-01-01 00:00 in Paris is before year 1 in UTC, which PostgreSQL
    # stores and then cannot hand back ("timestamp too small"), on every page listing it.
    event = make_event(centre.alpha)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE events_event SET starts_at = '0001-01-01 00:00:00+00:09:21' WHERE id = %s",
            [event.pk],
        )


# --- ids in forms and query strings -------------------------------------------------------------


@pytest.mark.parametrize("theme", ["²", "١٢", "１２", "9" * 30, str(2**63), "0", "-3", " 4 "])
def test_a_theme_filter_that_is_no_id_is_ignored(centre, client, theme):
    make_event(centre.alpha, title="CV workshop")

    response = client.get(reverse("events:list"), {"site": "alpha", "theme": theme})

    assert response.status_code == 200


@pytest.mark.parametrize("source", ["²", "١٢", "１２", "9" * 30, str(2**63), "0", "abc"])
def test_a_series_from_an_event_that_is_no_id_starts_empty(centre, login, source):
    response = login(centre.organiser).get(f"{MANAGE}/series/new/", {"from": source})

    assert response.status_code == 200
    assert response.context["form"].initial == {}


@pytest.mark.parametrize("value", [str(2**63), str(2**64 + 5), "9" * 30, "²", "１２"])
def test_the_event_form_refuses_theme_and_partner_ids_that_are_no_ids(centre, login, value):
    client = login(centre.organiser)

    for field in ("themes", "partners"):
        response = client.post(f"{MANAGE}/new/", event_post(centre, **{field: [value]}))

        assert response.status_code == 200, field
        assert "Select a valid choice" in response.content.decode()
    assert Event.objects.count() == 0


@pytest.mark.parametrize("value", [str(2**63), "9" * 30, "²"])
def test_a_registration_form_with_odd_numbers_is_an_answer_not_an_error(centre, client, value):
    event = make_event(centre.alpha)

    response = client.post(
        reverse("events:register", args=[event.pk]),
        {"pseudonym": value, "email": "", "website": "", "altcha": value},
    )

    assert response.status_code in (302, 400)


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_events_stored_out_of_the_window_into_drafts(centre, login):
    before = [("events", "0003_registration_keys")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("events", "Event")
    start = dt.datetime(1899, 12, 31, 23, tzinfo=dt.UTC)
    typo = old.objects.create(
        site_id=centre.alpha.pk,
        title="Typo",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        status="published",
    )
    gone = old.objects.create(
        site_id=centre.alpha.pk,
        title="Gone",
        starts_at=dt.datetime(9999, 12, 30, tzinfo=dt.UTC),
        ends_at=dt.datetime(9999, 12, 31, tzinfo=dt.UTC),
        status="cancelled",
    )
    fine = old.objects.create(
        site_id=centre.alpha.pk,
        title="Fine",
        starts_at=dt.datetime(2030, 5, 6, 8, tzinfo=dt.UTC),
        ends_at=dt.datetime(2030, 5, 6, 10, tzinfo=dt.UTC),
        status="published",
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # before year 1 in UTC: unreadable by Python
            cursor.execute(
                "UPDATE events_event SET starts_at = '0001-01-01 00:00:00+00:09:21', "
                "ends_at = '0001-01-01 02:00:00+00:09:21' WHERE id = %s",
                [typo.pk],
            )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    repaired = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    rows = {event.title: event for event in Event.objects.all()}
    assert (rows["Typo"].status, rows["Typo"].starts_at) == ("draft", repaired)
    assert (rows["Gone"].status, rows["Gone"].starts_at) == ("cancelled", repaired)
    assert rows["Fine"].starts_at == fine.starts_at and rows["Fine"].status == "published"
    assert rows["Gone"].pk == gone.pk
    # The organiser's lists and the event's own pages open again.
    client = login(centre.organiser)
    for url in (
        f"{MANAGE}/",
        f"{MANAGE}/?page=1",
        f"{MANAGE}/{typo.pk}/",
        f"{MANAGE}/{typo.pk}/edit/",
    ):
        assert client.get(url).status_code == 200, url
