"""The door (attendance and walk-ins), the list of registrants, its exports, and what is left to
see once contact data is purged."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from citedesmetiers.models import AuditEntry
from events import services
from events.models import Event, Registration
from tests.conftest import Centre
from tests.events_organiser_fixtures import (
    ENGLISH,
    MANAGE,
    PARIS,
    alpha_registration,
    make_event,
    move_to_the_past,
    register,
)

# --- the door -------------------------------------------------------------------------------------


def test_marking_present_twice_is_the_same_as_once(centre, login):
    event, registration = alpha_registration(centre)
    client = login(centre.organiser)
    url = f"{MANAGE}/{event.pk}/door/{registration.pk}/"

    client.post(url, {"attended": "yes"})
    response = client.post(url, {"attended": "yes"})

    registration.refresh_from_db()
    assert registration.attended is True
    assert response.url == f"{MANAGE}/{event.pk}/door/#r-{registration.pk}"

    client.post(url, {"attended": "no"})
    client.post(url, {"attended": "no"})
    registration.refresh_from_db()
    assert registration.attended is False

    client.post(url, {"attended": "unknown"})
    registration.refresh_from_db()
    assert registration.attended is None


def test_a_tap_with_htmx_answers_the_row_and_the_counter(centre, login):
    event, registration = alpha_registration(centre)
    register(event, "Ben")

    response = login(centre.organiser).post(
        f"{MANAGE}/{event.pk}/door/{registration.pk}/",
        {"attended": "yes", "q": "an"},
        HTTP_HX_REQUEST="true",
        **ENGLISH,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<li id="r-{registration.pk}"')
    assert 'value="yes" class="door-present" aria-pressed="true"' in html
    assert 'hx-swap-oob="true"' in html
    assert "<strong>1</strong> of 2 registered are here" in html
    assert 'name="q" value="an"' in html


def test_the_search_keeps_the_name_after_a_tap_without_javascript(centre, login):
    event, registration = alpha_registration(centre)

    response = login(centre.organiser).post(
        f"{MANAGE}/{event.pk}/door/{registration.pk}/", {"attended": "yes", "q": "An a"}
    )

    assert response.url == f"{MANAGE}/{event.pk}/door/?q=An+a#r-{registration.pk}"


@pytest.mark.parametrize("value", ["", "maybe", "toggle"])
def test_attendance_needs_an_explicit_answer(centre, login, value):
    event, registration = alpha_registration(centre)

    response = login(centre.organiser).post(
        f"{MANAGE}/{event.pk}/door/{registration.pk}/", {"attended": value}
    )

    registration.refresh_from_db()
    assert response.status_code == 400
    assert registration.attended is None


def test_someone_on_the_waiting_list_cannot_be_marked_present(centre, login):
    event = make_event(centre.alpha, capacity=1)
    register(event, "Ana")
    waiting = register(event, "Ben")

    response = login(centre.organiser).post(
        f"{MANAGE}/{event.pk}/door/{waiting.pk}/", {"attended": "yes"}, **ENGLISH
    )

    waiting.refresh_from_db()
    assert response.status_code == 302
    assert waiting.attended is None
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == ["Only registered people can be marked present."]


def test_the_door_lists_confirmed_people_by_name_and_finds_them(centre, login):
    event = make_event(centre.alpha, capacity=3)
    for name in ("Zoé", "ana", "Bruno"):
        register(event, name)
    waiting = register(event, "Waiting Walter")
    client = login(centre.organiser)

    everyone = client.get(f"{MANAGE}/{event.pk}/door/")
    found = client.get(f"{MANAGE}/{event.pk}/door/", {"q": "BRU"})
    without_accent = client.get(f"{MANAGE}/{event.pk}/door/", {"q": "zoe"})
    by_code = client.get(
        f"{MANAGE}/{event.pk}/door/",
        {"q": event.registrations.get(pseudonym="Zoé").code.lower()},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="door-rows",
    )

    assert [r.pseudonym for r in everyone.context["rows"]] == ["ana", "Bruno", "Zoé"]
    assert waiting.pseudonym not in everyone.content.decode()
    assert [r.pseudonym for r in found.context["rows"]] == ["Bruno"]
    assert [r.pseudonym for r in without_accent.context["rows"]] == ["Zoé"]
    html = by_code.content.decode()
    assert html.lstrip().startswith('<ul id="door-rows"')
    assert "Zoé" in html and "Bruno" not in html and "<header" not in html


def test_walk_ins_count_up_and_down_but_never_below_zero(centre, login):
    event = make_event(centre.alpha)
    client = login(centre.organiser)
    url = f"{MANAGE}/{event.pk}/walk-ins/"

    client.post(url, {"delta": "-1"})
    event.refresh_from_db()
    assert event.walk_ins == 0

    client.post(url, {"delta": "1"})
    client.post(url, {"delta": "1"})
    client.post(url, {"delta": "-1"})
    event.refresh_from_db()
    assert event.walk_ins == 1

    for bad in ("5", "-100", "", "one"):
        assert client.post(url, {"delta": bad}).status_code == 400
    event.refresh_from_db()
    assert event.walk_ins == 1


def test_walk_ins_with_htmx_answer_the_counter(centre, login):
    event = make_event(centre.alpha)

    response = login(centre.organiser).post(
        f"{MANAGE}/{event.pk}/walk-ins/", {"delta": "1"}, HTTP_HX_REQUEST="true", **ENGLISH
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="door-counter"')
    assert '<output class="walk-in-count" aria-labelledby="walk-ins-label">1</output>' in html


# --- registrants: print, export, purge ------------------------------------------------------------


NASTY = ['=HYPERLINK("http://evil")', "+33 6 12", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def _event_with_registrants(centre: Centre) -> Event:
    event = make_event(centre.alpha, capacity=2)
    register(event, "Ana", "ana@example.org")
    register(event, "=cmd|' /C calc'!A0", "=evil@example.org")
    register(event, "Cleo")  # waiting list
    services.cancel_registration(registration_id=register(event, "Gone").pk)
    for pseudonym in NASTY:  # as a careless import or an old version could have stored them
        Registration.objects.create(
            event=event, status=Registration.Status.WAITING, pseudonym=pseudonym
        )
    services.set_attendance(
        registration_id=event.registrations.get(pseudonym="Ana").pk, attended=True
    )
    return event


def test_the_registrants_page_lists_places_then_the_waiting_list(centre, login):
    event = _event_with_registrants(centre)

    response = login(centre.organiser).get(f"{MANAGE}/{event.pk}/registrants/")

    names = [r.pseudonym for r in response.context["registrations"]]
    assert names[:3] == ["Ana", "=cmd|' /C calc'!A0", "Cleo"]
    assert "Gone" not in names
    html = response.content.decode()
    assert "ana@example.org" in html and 'class="printable"' in html
    assert "data-print" in html and "js/print" in html  # a Print button, wired by print.js


def test_the_csv_export_neutralises_formulas(centre, login):
    event = _event_with_registrants(centre)

    response = login(centre.organiser).get(f"{MANAGE}/{event.pk}/registrants.csv", **ENGLISH)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="registrants-')
    assert "no-store" in response["Cache-Control"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Pseudonym", "E-mail", "Status", "Registered at", "Code", "Attended"]
    ana = event.registrations.get(pseudonym="Ana")
    local = ana.created_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")
    assert rows[1] == ["Ana", "ana@example.org", "registered", local, ana.code, "yes"]
    assert rows[2][:2] == ["'=cmd|' /C calc'!A0", "'=evil@example.org"]
    assert rows[3][0] == "Cleo" and rows[3][2] == "on the waiting list" and rows[3][5] == ""
    assert [row[0] for row in rows[4:]] == ["'" + value for value in NASTY]
    assert len(rows) == 1 + 3 + len(NASTY)  # the cancelled registration is left out
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_the_xlsx_export_holds_text_not_formulas(centre, login):
    event = _event_with_registrants(centre)

    response = login(centre.organiser).get(f"{MANAGE}/{event.pk}/registrants.xlsx", **ENGLISH)

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = [list(row) for row in sheet.iter_rows()]
    assert [c.value for c in rows[0]] == [
        "Pseudonym",
        "E-mail",
        "Status",
        "Registered at",
        "Code",
        "Attended",
    ]
    assert rows[1][0].value == "Ana" and rows[1][5].value == "yes"
    assert rows[2][0].value == "'=cmd|' /C calc'!A0"
    for row in rows[1:]:
        for cell in row:
            assert cell.data_type != "f"
            assert not str(cell.value or "").startswith(("=", "+", "-", "@", "\t", "\r"))


def test_after_the_purge_only_counts_remain(centre, login):
    event = _event_with_registrants(centre)
    codes = list(event.registrations.values_list("code", flat=True))
    move_to_the_past(event, days=10)
    services.purge_contacts(days=7)
    event.refresh_from_db()
    assert event.contacts_purged_at is not None
    client = login(centre.organiser)

    page = client.get(f"{MANAGE}/{event.pk}/registrants/", **ENGLISH)
    export = client.get(f"{MANAGE}/{event.pk}/registrants.csv")

    html = page.content.decode()
    assert "Contact data of this event was erased" in html
    assert page.context["registrations"] == []
    for leaked in ("Ana", "ana@example.org", "Cleo", "evil", *codes):
        assert leaked not in html
    assert page.context["event"].n_confirmed == 2 and page.context["event"].n_attended == 1
    assert export.status_code == 302
    assert export.url == f"{MANAGE}/{event.pk}/registrants/"


def test_an_export_of_registrants_is_written_to_the_audit_log(centre, login):

    event = _event_with_registrants(centre)
    login(centre.organiser).get(f"{MANAGE}/{event.pk}/registrants.xlsx", **ENGLISH)
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.site) == (centre.organiser, "export", centre.alpha)
    assert entry.subject == f"registrants: {event.title}"
    assert "xlsx" in entry.detail
