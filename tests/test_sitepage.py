"""A site's public page (`/s/<slug>/`) and its poster: opening hours and whether it is open now,
each theme served now (with its wait) or when next, the best hours to come from the last eight
weeks' figures (small cells never counted), the reception protocol — the site's own per
language, else the shipped one — and no visitor's data anywhere."""

from __future__ import annotations

import datetime as dt
import io
import re
from html import unescape

import pytest
from django.conf import settings
from django.test import Client
from pypdf import PdfReader

from citedesmetiers.facts import key
from citedesmetiers.models import Cite, OpeningPeriod, Site
from counselling import planning
from counselling.models import PlanMode
from figures.models import DailyStat
from figures.stats import SMALL_CELL, suppressed_heat_map
from sitepage import poster
from sitepage.hours import hours_of
from sitepage.models import ReceptionProtocol
from tests.counselling_fixtures import in_english, make_desk, open_session, queue_visit, theme  # noqa: F401

pytestmark = pytest.mark.usefixtures("in_english")


def page(client: Client | None = None, slug: str = "alpha") -> str:
    response = (client or Client()).get(f"/s/{slug}/")
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, title_id: str) -> str:
    """The <section> whose heading has this id."""
    match = re.search(rf'<section[^>]*aria-labelledby="{title_id}".*?</section>', html, re.S)
    assert match, title_id
    return match.group(0)


def text(markup: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def theme_line(html: str, name: str) -> str:
    themes = section(html, "themes-title")
    match = re.search(rf"<li>(?:(?!</li>).)*{re.escape(name)}.*?</li>", themes, re.S)
    assert match, name
    return text(match.group(0))


def week_of(site: Site, *periods: tuple[int, dt.time, dt.time]) -> None:
    site.opening_periods.all().delete()
    for weekday, opens, closes in periods:
        OpeningPeriod.objects.create(site=site, weekday=weekday, opens=opens, closes=closes)


# --- opening hours --------------------------------------------------------------------------------


def test_it_says_the_site_is_open_now_and_gives_todays_hours_and_the_weeks(centre):
    html = page()
    head = text(html.split('aria-labelledby="themes-title"')[0])
    assert "Open now, until 23:59" in head
    assert "Today 00:00–23:59" in head
    week = text(section(html, "hours-title"))
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        assert f"{day} " in week
    assert "today" in week  # today's row is marked in words, not only by its colour


def test_it_says_when_a_closed_site_opens_next(centre):
    alpha = centre.alpha
    tomorrow = (alpha.local_date() + dt.timedelta(days=1)).weekday()
    in_three_days = (alpha.local_date() + dt.timedelta(days=3)).weekday()
    week_of(
        alpha, (tomorrow, dt.time(9), dt.time(12, 30)), (in_three_days, dt.time(14), dt.time(17))
    )

    html = page()

    assert "Closed now · opens tomorrow at 09:00" in text(html)
    assert "Today closed" in text(html)
    week = text(section(html, "hours-title"))
    assert f"{OpeningPeriod.Weekday(tomorrow).label} 09:00–12:30" in week
    assert f"{OpeningPeriod.Weekday(in_three_days).label} 14:00–17:00" in week


def test_at_lunch_the_site_opens_again_today(centre):
    alpha = centre.alpha
    week_of(
        alpha,
        *((d, dt.time(9), dt.time(12, 30)) for d in range(5)),
        *((d, dt.time(13, 30), dt.time(17)) for d in range(5)),
    )
    monday_lunch = dt.datetime(2025, 3, 10, 12, 45, tzinfo=alpha.zone)
    saturday = dt.datetime(2025, 3, 15, 10, 0, tzinfo=alpha.zone)

    at_lunch = hours_of(alpha, monday_lunch)
    assert not at_lunch.open_now
    assert at_lunch.next_opening == dt.datetime(2025, 3, 10, 13, 30)
    assert at_lunch.next_opening_days_ahead == 0
    assert [(p.opens, p.closes) for p in at_lunch.today.periods] == [
        (dt.time(9), dt.time(12, 30)),
        (dt.time(13, 30), dt.time(17)),
    ]
    at_weekend = hours_of(alpha, saturday)
    assert at_weekend.next_opening == dt.datetime(2025, 3, 17, 9, 0)
    assert at_weekend.next_opening_days_ahead == 2
    assert hours_of(alpha, monday_lunch + dt.timedelta(hours=1)).closes_at == dt.time(17)


# --- the themes, now and next -------------------------------------------------------------------


def test_each_theme_is_served_now_with_its_wait_or_says_when_next(centre):
    alpha = centre.alpha
    open_session(centre.counsellor_a, make_desk(alpha, "Desk 1", "E"))  # E served, nobody waits
    tomorrow = alpha.local_date() + dt.timedelta(days=1)
    planning.plan_session(
        site=alpha,
        desk_id=make_desk(alpha, "Desk 2", "F").pk,
        partner_id=centre.partner_b.pk,
        theme_ids=[theme(alpha, "F").pk],
        mode=PlanMode.WALK_IN,
        weekday=tomorrow.weekday(),
        starts=dt.time(9),
        ends=dt.time(12),
        valid_from=tomorrow - dt.timedelta(days=7),
    )

    html = page()

    assert theme_line(html, "Find a job") == "E Find a job served now · 0 waiting · no wait"
    assert theme_line(html, "Find a training") == (
        "F Find a training not served now · next: tomorrow 09:00"
    )
    assert theme_line(html, "Create a business") == (
        "A Create a business not served now · no desk open now"
    )


def test_the_wait_is_the_displays_estimate(centre):
    alpha = centre.alpha
    alpha.language = "en"  # the display speaks the site's language
    alpha.save(update_fields=["language"])
    open_session(centre.counsellor_a, make_desk(alpha, "Desk 1", "E"))
    for _n in range(3):
        queue_visit(alpha, "E")

    # Three waiting, one free desk, 20 minutes an interview: it calls them now, in 20 and in 40
    # minutes, and a newcomer in 60.
    assert theme_line(page(), "Find a job") == "E Find a job served now · 3 waiting · about 60 min"
    assert "about 60 min" in Client().get("/display/alpha/").content.decode()


def test_an_inactive_theme_is_not_listed(centre):
    alpha = centre.alpha
    alpha.themes.filter(letter="A").update(active=False)
    assert "Create a business" not in page()


# --- the best hours to come ----------------------------------------------------------------------


def visits(site: Site, day: dt.date, hour: int, n: int, letter: str = "E") -> None:
    DailyStat.objects.create(
        site=site,
        day=day,
        source="reception",
        metric="visits",
        key=key(theme=theme(site, letter).pk, hour=hour, channel="in_person"),
        value=n,
    )


def weekday_before(site: Site, weekday: int, nth: int = 1) -> dt.date:
    """The `nth` last `weekday` before today (1: the latest; 8: within the eight weeks)."""
    today = site.local_date()
    return today - dt.timedelta(days=(today.weekday() - weekday - 1) % 7 + 1 + 7 * (nth - 1))


def heat_cell(html: str, hour: str, weekday: int) -> str:
    table = section(html, "best-title")
    row = re.search(rf'<th scope="row">{hour}</th>(.*?)</tr>', table, re.S)
    assert row, hour
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    return text(cells[weekday])  # the test sites open every day: one column per weekday


def test_the_best_hours_count_the_last_eight_weeks_visits_by_weekday_and_hour(centre):
    alpha, beta = centre.alpha, centre.beta
    tuesday, last_tuesday = weekday_before(alpha, 1, 1), weekday_before(alpha, 1, 8)
    visits(alpha, tuesday, 10, 20)
    visits(alpha, last_tuesday, 10, 7, letter="F")  # eight weeks ago: still counted
    visits(alpha, weekday_before(alpha, 1, 9), 10, 500)  # nine weeks ago: not
    visits(alpha, weekday_before(alpha, 3), 15, 9)
    visits(beta, tuesday, 10, 300)  # another site's

    html = page()

    assert heat_cell(html, "10:00", 1) == "27"
    assert heat_cell(html, "15:00", 3) == "9"
    assert heat_cell(html, "11:00", 1) == "0 no visits"
    table = section(html, "best-title")
    assert '<caption id="heat-caption">' in table and 'scope="col"' in table
    # Too wide for a zoomed phone, it scrolls: a named region the keyboard can reach.
    assert 'role="region" aria-labelledby="heat-caption" tabindex="0"' in table
    assert "the darker the cell, the busier the hour" in text(table)  # the legend says it


def test_a_cell_with_fewer_visits_than_the_threshold_never_shows_its_count(centre):
    alpha = centre.alpha
    small = SMALL_CELL - 1
    visits(alpha, weekday_before(alpha, 2), 14, small)
    visits(alpha, weekday_before(alpha, 2), 16, 1)
    visits(alpha, weekday_before(alpha, 4), 9, 40)

    html = page()

    assert heat_cell(html, "14:00", 2) == "few"
    assert heat_cell(html, "16:00", 2) == "few"
    assert heat_cell(html, "09:00", 4) == "40"
    numbers = re.findall(r"<td[^>]*>\s*(\d+)\s*</td>", section(html, "best-title"))
    assert set(numbers) == {"40"}  # the small ones are nowhere, not even as a total
    assert f"fewer than {SMALL_CELL} visits" in text(section(html, "best-title"))


def test_the_published_heat_map_keeps_no_small_count(centre):
    alpha = centre.alpha
    day = weekday_before(alpha, 0)
    visits(alpha, day, 10, SMALL_CELL - 1)
    visits(alpha, day, 11, SMALL_CELL)

    heat = suppressed_heat_map([alpha], day, day + dt.timedelta(days=1))

    assert heat.counts == {(0, 11): SMALL_CELL}
    assert heat.few == {(0, 10)}


def test_with_no_figures_yet_it_says_so(centre):
    html = page()
    assert "Not enough visits yet" in text(section(html, "best-title"))
    assert "<table" not in section(html, "best-title")


# --- the reception protocol ---------------------------------------------------------------------


def french(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    return client


def test_without_a_text_of_its_own_the_site_shows_the_shipped_protocol(centre):
    protocol = text(section(page(), "protocol-title"))
    assert "free and open to everyone" in protocol
    assert "No appointment is needed" in protocol
    assert "never goes ahead of the people who walked in" in protocol
    assert "proof that you came" in protocol
    assert "site's manager" in protocol


def test_a_site_shows_its_own_text_in_each_language_it_wrote(centre):
    ReceptionProtocol.objects.create(
        site=centre.alpha, language="fr", text="Bienvenue à Alpha.\r\n\r\nSans rendez-vous."
    )
    ReceptionProtocol.objects.create(site=centre.beta, language="en", text="Beta's own words.")

    in_french = section(page(french(Client())), "protocol-title")
    english = text(section(page(), "protocol-title"))

    assert "<p>Bienvenue à Alpha.</p><p>Sans rendez-vous.</p>" in in_french
    assert "Bienvenue" not in english  # no English text of Alpha's: the shipped one
    assert "No appointment is needed" in english
    assert "Beta's own words." not in english
    assert "Beta's own words." in text(page(slug="beta"))


def test_a_sites_text_is_shown_as_text(centre):
    ReceptionProtocol.objects.create(site=centre.alpha, language="en", text="<b>Hi</b> & welcome")
    assert "&lt;b&gt;Hi&lt;/b&gt; &amp; welcome" in page()


def test_the_poster_is_a_one_page_pdf_in_a4_or_a3_with_the_protocol(centre):
    ReceptionProtocol.objects.create(site=centre.alpha, language="en", text="Come as you are.")
    client = Client()

    a4 = client.get("/s/alpha/poster.pdf")
    a3 = client.get("/s/alpha/poster.pdf?size=a3")

    assert a4.status_code == a3.status_code == 200
    assert a4["Content-Type"] == a3["Content-Type"] == "application/pdf"
    small, large = PdfReader(io.BytesIO(a4.content)), PdfReader(io.BytesIO(a3.content))
    assert len(small.pages) == len(large.pages) == 1
    assert round(float(small.pages[0].mediabox.width) / 72 * 25.4) == 210
    assert round(float(large.pages[0].mediabox.width) / 72 * 25.4) == 297
    words = small.pages[0].extract_text()
    assert "Come as you are." in words
    assert "testserver/s/alpha/" in words
    assert client.get("/s/alpha/poster.pdf?size=a5").status_code == 404


def test_past_the_renders_budget_the_poster_asks_to_come_back(centre, monkeypatch):
    monkeypatch.setattr(poster, "RENDERS_PER_SITE", 0)

    response = Client().get("/s/alpha/poster.pdf")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Please try again later" in response.content.decode()


def test_the_page_links_to_the_posters(centre):
    html = page()
    assert 'href="/s/alpha/poster.pdf?size=a4"' in html
    assert 'href="/s/alpha/poster.pdf?size=a3"' in html


# --- which sites ---------------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["/s/nowhere/", "/s/nowhere/poster.pdf"])
def test_an_unknown_site_is_the_ordinary_404(centre, address):
    response = Client().get(address)
    assert response.status_code == 404
    assert "This page does not exist" in response.content.decode()


@pytest.mark.parametrize("address", ["/s/beta/", "/s/beta/poster.pdf"])
def test_an_inactive_site_is_not_found(centre, address):
    Site.objects.filter(pk=centre.beta.pk).update(active=False)
    assert Client().get(address).status_code == 404


def test_an_associated_centre_says_so_and_links_to_its_cites_sites(centre):
    cite = Cite.objects.create(slug="lyon", name="Cité des métiers de Lyon")
    Site.objects.filter(pk=centre.alpha.pk).update(cite=cite)
    Site.objects.filter(pk=centre.beta.pk).update(cite=cite, kind=Site.Kind.ASSOCIATED)

    html = page(slug="beta")

    associated = text(section(html, "associated-title"))
    assert "associated centre of the Cité des métiers de Lyon" in associated
    assert 'href="/s/alpha/"' in section(html, "associated-title")
    assert "associated-title" not in page(slug="alpha")


# --- nobody's data -------------------------------------------------------------------------------


def test_the_page_shows_no_visitors_data(centre):
    alpha = centre.alpha
    open_session(centre.counsellor_a, make_desk(alpha, "Desk 1", "E"))
    waiting = [queue_visit(alpha, "E"), queue_visit(alpha, "F")]
    profiled = queue_visit(alpha, "A")
    profiled.age_bracket, profiled.situation = "26-44", "job_seeker"
    profiled.save(update_fields=["age_bracket", "situation"])

    html = page()

    for visit in [*waiting, profiled]:
        assert visit.code not in html
        assert visit.token not in html
    assert "Desk 1" not in html  # nor which desk, nor who staffs it
    assert centre.partner_a.name not in html
    assert centre.counsellor_a.email not in html


# --- where it is linked from ---------------------------------------------------------------------


def test_the_display_and_the_visitors_phone_link_to_the_page(centre):
    visit = queue_visit(centre.alpha, "E")
    display = Client().get("/display/alpha/").content.decode()
    phone = Client().get(f"/t/{visit.token}/").content.decode()
    assert "testserver/s/alpha/" in display
    assert 'href="/s/alpha/?lang=' in phone  # in the visitor's language (reception.views)


# --- the administration --------------------------------------------------------------------------


def test_a_manager_writes_her_sites_protocol_and_only_hers(mfa_enrolled, login):
    frank = login(mfa_enrolled.manager)
    add = "/admin/sitepage/receptionprotocol/add/"
    form = frank.get(add)
    assert form.status_code == 200
    assert "No appointment is needed" in form.content.decode()  # it starts from the shipped text

    frank.post(add, {"site": mfa_enrolled.beta.pk, "language": "en", "text": "Planted."})
    response = frank.post(add, {"site": mfa_enrolled.alpha.pk, "language": "en", "text": "Ours."})

    assert response.status_code == 302
    assert list(ReceptionProtocol.objects.values_list("site__slug", "text")) == [("alpha", "Ours.")]
    theirs = ReceptionProtocol.objects.create(site=mfa_enrolled.beta, language="fr", text="À Beta.")
    listed = frank.get("/admin/sitepage/receptionprotocol/").context["cl"].result_list
    assert [p.site.slug for p in listed] == ["alpha"]
    assert frank.get(f"/admin/sitepage/receptionprotocol/{theirs.pk}/change/").status_code == 302
    assert "Ours." in page(slug="alpha")


def test_reception_agents_do_not_edit_protocols(mfa_enrolled, login):
    alice = login(mfa_enrolled.reception)
    alice.post(
        "/admin/sitepage/receptionprotocol/add/",
        {"site": mfa_enrolled.alpha.pk, "language": "en", "text": "Planted."},
    )
    assert not ReceptionProtocol.objects.exists()


def test_a_poster_is_rendered_once_and_served_again(centre, monkeypatch):
    renders = []
    original = poster.pdf.render
    monkeypatch.setattr(
        poster.pdf, "render", lambda html, what: renders.append(what) or original(html, what=what)
    )
    client = Client()
    first = client.get("/s/alpha/poster.pdf")
    again = client.get("/s/alpha/poster.pdf")
    assert first.content == again.content
    assert renders == ["poster alpha a4"]
    # A new text is a new poster.
    ReceptionProtocol.objects.create(site=centre.alpha, language="en", text="New words.")
    assert client.get("/s/alpha/poster.pdf").content != first.content
    assert len(renders) == 2


def test_the_page_says_how_to_book_when_the_plan_has_appointment_hours(centre):
    alpha = centre.alpha
    assert "Book an appointment" not in page()
    planning.plan_session(
        site=alpha,
        desk_id=make_desk(alpha, "Desk 4", "E").pk,
        partner_id=centre.partner_a.pk,
        theme_ids=[alpha.themes.get(letter="E").pk],
        mode=PlanMode.APPOINTMENTS,
        weekday=(alpha.local_date().weekday() + 2) % 7,
        starts=dt.time(14),
        ends=dt.time(17),
        valid_from=alpha.local_date(),
        channels=["phone", "video"],
    )
    shown = page()
    # Video needs the site's room address: without one, only the phone is offered.
    assert "Book an appointment" in shown and "phone" in shown and "video call" not in shown
    assert 'href="/appointments/alpha/"' in shown
