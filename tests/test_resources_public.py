"""The public catalogue at /catalogue/: no login, browse by purpose, search, detail with the shelf
and a QR code, kiosk mode for public terminals, and a normal page whatever is typed."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from resources.models import Resource, ResourceViewCount, SearchCount
from resources.search import PAGE_SIZE, refresh_terms
from tests.test_resources_search import (
    CATALOGUE,
    PURPOSES,
    add_resource,
    ensure_audiences,
    ensure_purposes,
)

OPINION = "Trop cher pour ce que c'est, ne pas racheter"
LINK = "https://example.org/alternance"


@pytest.fixture
def purposes(db):
    return ensure_purposes()


@pytest.fixture
def audiences(db):
    return ensure_audiences()


@pytest.fixture
def catalogue(centre, purposes, audiences) -> dict[str, Resource]:
    training = purposes["find-a-training"]
    resources = {
        "book": add_resource(
            "Les métiers de la santé",
            kind=Resource.Kind.BOOK,
            purposes=[purposes["learn-about-professions"]],
            audiences=[audiences["young-people"]],
            authors="Claire Martin",
            isbn="9780306406157",
            summary="Infirmier, aide-soignant : qui fait quoi à l'hôpital.",
            opinion=OPINION,
            holdings=[(centre.alpha, "MET 610"), (centre.beta, "B-12")],
        ),
        "website": add_resource(
            "Trouver sa formation en alternance",
            kind=Resource.Kind.WEBSITE,
            purposes=[training],
            url=LINK,
            opinion=OPINION,
        ),
        "withdrawn": add_resource(
            "Guide des formations 2009",
            purposes=[training],
            withdrawn=True,
            holdings=[(centre.alpha, "FOR 001")],
        ),
    }
    refresh_terms()
    return resources


def html(response) -> str:
    return response.content.decode()


# --- home and search ------------------------------------------------------------------------------


def test_the_home_page_lists_the_purposes_as_tiles(client, catalogue):
    response = client.get(CATALOGUE)
    assert response.status_code == 200
    page = html(response)
    for slug, name in PURPOSES.items():
        assert f'href="/catalogue/?purpose={slug}"' in page
        assert name.replace("'", "&#x27;") in page
    assert 'name="q"' in page


def test_a_purpose_tile_lists_its_resources(client, catalogue):
    response = client.get(CATALOGUE, {"purpose": "find-a-training"})
    assert [r.title for r in response.context["results"].page] == [
        "Trouver sa formation en alternance"
    ]


def test_the_search_page_shows_the_hits_with_links_to_their_pages(client, catalogue):
    response = client.get(CATALOGUE, {"q": "metiers"})
    page = html(response)
    assert response.context["results"].total == 1
    assert f'href="/catalogue/{catalogue["book"].pk}/"' in page
    assert "Les métiers de la santé" in page
    assert 'value="metiers"' in page  # the search box keeps the words


def test_filters_combine_with_the_words_and_stay_in_the_form(client, catalogue):
    response = client.get(CATALOGUE, {"q": "formation", "kind": "website"})
    assert response.context["results"].total == 1
    assert '<input type="hidden" name="kind" value="website">' in html(response)
    assert client.get(CATALOGUE, {"q": "formation", "kind": "book"}).context["results"].total == 0


def test_it_pages_through_the_results(client, purposes):
    for n in range(PAGE_SIZE * 2 + 3):
        add_resource(f"Guide des formations {n:02d}", purposes=[purposes["find-a-training"]])
    first = client.get(CATALOGUE, {"q": "formations", "kind": "book"})
    assert first.context["results"].total == 43
    assert len(first.context["results"].page) == PAGE_SIZE
    assert "q=formations&amp;kind=book&amp;page=2" in html(first)

    third = client.get(CATALOGUE, {"q": "formations", "kind": "book", "page": 3})
    assert [r.title for r in third.context["results"].page] == [
        "Guide des formations 40",
        "Guide des formations 41",
        "Guide des formations 42",
    ]
    assert "page=2" in html(third) and "page=4" not in html(third)


@pytest.mark.parametrize(("page", "shown"), [("99", 2), ("0", 2), ("-1", 2), ("abc", 1), ("", 1)])
def test_an_odd_page_number_shows_a_page_anyway(client, purposes, page, shown):
    for n in range(PAGE_SIZE + 1):
        add_resource(f"Guide des formations {n:02d}", purposes=[purposes["find-a-training"]])
    response = client.get(CATALOGUE, {"q": "formation", "page": page})
    assert response.status_code == 200
    assert response.context["results"].page.number == shown


ODD_QUERIES = [
    "",
    " ",
    "a" * 10_000,
    "formation " * 1_000,
    "\x00",
    "formation\x00",
    "métiers\x00santé",
    "👩‍🔧 métiers 🚀",
    "ﷺ",
    "שלום עולם",
    "مهن الصحة",
    "\u202eseitem",
    "𝔣𝔬𝔯𝔪𝔞𝔱𝔦𝔬𝔫",
    "me\u0301tiers",
    "for\u200bmation",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '"les métiers',
    "-formation",
    "formation OR",
    "!!! & | :* ()",
    "%",
    "_",
    "\\",
]


@pytest.mark.parametrize("q", ODD_QUERIES, ids=range(len(ODD_QUERIES)))
def test_any_query_gives_a_normal_page(client, catalogue, q):
    response = client.get(CATALOGUE, {"q": q})
    # A NUL character is refused before any view (tests/test_bad_input.py).
    assert response.status_code == (400 if "\x00" in q else 200)
    assert "<html" in html(response)
    assert "<script>alert(1)" not in html(response)


@pytest.mark.parametrize(
    "query_string",
    [
        "q=%00",
        "q=formation%00",
        "q=%ED%A0%80",  # an encoded lone surrogate: not UTF-8
        "q=%FF%FE",
        "q=%",
        "q=%E2%80%AE",
        "kind=%00",
        "purpose=%00&site=%00",
        "kind=unknown&language=xx&audience=nobody&site=nowhere",
        "q=formation&q=m%C3%A9tiers",
        "page=%00&q=formation",
    ],
)
def test_any_query_string_gives_a_normal_page(client, catalogue, query_string):
    response = client.get(f"{CATALOGUE}?{query_string}")
    assert response.status_code == (400 if "%00" in query_string else 200)
    assert "<html" in html(response)


def test_the_search_page_runs_as_many_queries_for_150_results_as_for_3(
    client, centre, purposes, audiences, django_assert_max_num_queries
):
    def grow_to(count: int) -> None:
        for n in range(Resource.objects.count(), count):
            add_resource(
                f"Guide des formations {n:03d}",
                kind=Resource.Kind.BOOK if n % 2 else Resource.Kind.WEBSITE,
                purposes=[purposes["find-a-training"], purposes["find-a-job"]],
                audiences=[audiences["everyone"]],
                holdings=[(centre.alpha, f"FOR {n}"), (centre.beta, f"B {n}")],
            )

    queries = {}
    for size in (3, 150):
        grow_to(size)
        with django_assert_max_num_queries(15) as captured:
            response = client.get(CATALOGUE, {"q": "formations", "site": "alpha"})
        assert response.context["results"].total == size
        queries[size] = len(captured)
        with django_assert_max_num_queries(15):
            client.get(CATALOGUE, {"q": "formations", "page": 2})
    # Facets and hits are counted by the database, whatever the number of results.
    assert queries[3] == queries[150]


def test_an_htmx_request_gets_only_the_results(client, catalogue):
    response = client.get(CATALOGUE, {"q": "metiers"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = html(response)
    assert "<html" not in page and "<header" not in page
    assert page.lstrip().startswith('<div id="results"')
    assert "Les métiers de la santé" in page
    assert "HX-Request" in response["Vary"]


# --- detail ---------------------------------------------------------------------------------------


def test_the_detail_page_says_where_to_find_it_and_shows_a_qr_code(client, catalogue):
    response = client.get(catalogue["book"].get_absolute_url())
    assert response.status_code == 200
    page = html(response)
    assert "Les métiers de la santé" in page
    assert "Site Alpha" in page and "MET 610" in page
    assert "Site Beta" in page and "B-12" in page
    assert "9780306406157" in page
    assert "<svg" in page


def test_a_holding_at_a_closed_site_is_not_shown(client, catalogue, centre):
    centre.beta.active = False
    centre.beta.save(update_fields=["active"])
    page = html(client.get(catalogue["book"].get_absolute_url()))
    assert "MET 610" in page
    assert "B-12" not in page


def test_opening_a_resource_counts_a_view_for_the_day(client, catalogue):
    book = catalogue["book"]
    for _ in range(3):
        client.get(book.get_absolute_url())
    client.get(catalogue["website"].get_absolute_url())
    count = ResourceViewCount.objects.get(resource=book)
    assert (count.day, count.views) == (timezone.localdate(), 3)
    assert ResourceViewCount.objects.get(resource=catalogue["website"]).views == 1


def test_an_unknown_resource_is_not_found(client, catalogue):
    assert client.get("/catalogue/999999/").status_code == 404
    assert client.get("/catalogue/abc/").status_code == 404
    assert not ResourceViewCount.objects.exists()


def test_a_withdrawn_resource_is_not_found_nor_listed(client, catalogue):
    withdrawn = catalogue["withdrawn"]
    assert client.get(withdrawn.get_absolute_url()).status_code == 404
    assert not ResourceViewCount.objects.filter(resource=withdrawn).exists()
    for params in (
        {"q": "guide 2009"},
        {"purpose": "find-a-training"},
        {"site": "alpha", "language": "fr"},
    ):
        response = client.get(CATALOGUE, params)
        assert "Guide des formations 2009" not in html(response), params
        assert withdrawn.pk not in [r.pk for r in response.context["results"].page]


def test_the_officers_opinion_is_never_public(client, catalogue):
    book, website = catalogue["book"], catalogue["website"]
    pages = [
        client.get(CATALOGUE),
        client.get(CATALOGUE, {"q": "métiers"}),
        client.get(CATALOGUE, {"q": "formation"}, headers={"HX-Request": "true"}),
        client.get(CATALOGUE, {"purpose": "learn-about-professions"}),
        client.get(book.get_absolute_url()),
        client.get(website.get_absolute_url()),
        client.get(book.get_absolute_url() + "?kiosk=1"),
    ]
    for response in pages:
        assert response.status_code == 200
        assert "racheter" not in html(response)


# --- kiosk ----------------------------------------------------------------------------------------


KIOSK = "/catalogue/kiosk/alpha/"
LEAVE_KIOSK = "/catalogue/leave-kiosk/"
RESTART_KIOSK = "/catalogue/restart-kiosk/"


def become_kiosk(client, address: str = KIOSK):
    """What staff do at a terminal: open the kiosk address and press its button."""
    response = client.post(address)
    assert response.status_code == 302
    return response


def test_a_link_with_kiosk_1_does_not_turn_a_browser_into_a_kiosk(client, catalogue):
    # A visitor following a shared link keeps an ordinary browser.
    response = client.get(CATALOGUE, {"kiosk": "1"})

    assert "kiosk" not in response.cookies
    assert "data-kiosk-idle=" not in html(response)
    assert "data-kiosk-idle=" not in html(client.get(CATALOGUE))


def test_opening_the_kiosk_address_asks_before_setting_up_a_terminal(client, catalogue):
    response = client.get(KIOSK, headers={"accept-language": "en"})

    assert response.status_code == 200
    assert "kiosk" not in response.cookies
    page = html(response)
    assert "Use this browser as the kiosk of Site Alpha" in page
    assert "data-kiosk-idle=" not in page
    assert "data-kiosk-idle=" not in html(client.get(CATALOGUE))


def test_a_terminal_set_up_for_a_site_remembers_its_site(client, catalogue):
    response = become_kiosk(client)

    assert response["Location"] == KIOSK
    cookie = response.cookies["kiosk"]
    assert "alpha" in cookie.value and cookie.value != "alpha"  # signed
    assert cookie["httponly"] and cookie["max-age"] > 365 * 24 * 3600
    home = html(client.get(KIOSK))
    assert 'class="catalogue kiosk"' in home
    assert "purpose-tiles" in home
    assert 'name="site" value="alpha"' in home  # its searches stay on its shelves
    # Remembered: every catalogue page is a kiosk page, and an idle one goes back to the
    # home page of its own site, not to the network's catalogue.
    for path in (CATALOGUE, f"{CATALOGUE}?q=metiers", catalogue["book"].get_absolute_url()):
        page = html(client.get(path))
        assert f'data-kiosk-home="{KIOSK}"' in page, path
        assert f'class="brand" href="{KIOSK}"' in page, path


def test_a_kiosk_is_turned_back_into_a_browser_with_a_button(client, catalogue):
    become_kiosk(client)
    leave = client.get(LEAVE_KIOSK, headers={"accept-language": "en"})
    assert "Turn it back into an ordinary browser" in html(leave)

    response = client.post(LEAVE_KIOSK)

    assert response.cookies["kiosk"].value == ""
    assert response.cookies["kiosk"]["max-age"] == 0
    assert "data-kiosk-idle=" not in html(client.get(CATALOGUE))
    assert "data-kiosk-idle=" not in html(client.get(CATALOGUE, {"kiosk": "1"}))


@pytest.mark.parametrize("value", ["1", "alpha", "alpha:forged:signature"])
def test_a_kiosk_cookie_the_kiosk_address_did_not_write_is_ignored(client, catalogue, value):
    # "1" is what the old ?kiosk=1 links left in browsers.
    client.cookies["kiosk"] = value

    assert "data-kiosk-idle=" not in html(client.get(CATALOGUE))


def test_a_kiosk_of_a_site_that_closed_is_an_ordinary_browser_again(client, catalogue, centre):
    become_kiosk(client)
    centre.alpha.active = False
    centre.alpha.save(update_fields=["active"])

    assert "data-kiosk-idle=" not in html(client.get(CATALOGUE))
    assert client.get(KIOSK).status_code == 404
    assert client.get("/catalogue/kiosk/nowhere/").status_code == 404
    assert client.post("/catalogue/kiosk/nowhere/").status_code == 404


def test_a_site_alone_opens_the_home_of_its_shelves_not_all_it_holds(client, catalogue):
    # Where "Just browse the catalogue" of the kiosk address leads.
    assert 'href="/catalogue/?site=alpha"' in html(client.get(KIOSK))
    response = client.get(CATALOGUE, {"site": "alpha"})
    assert response.status_code == 200
    assert "results" not in response.context
    page = html(response)
    assert "purpose-tiles" in page and "result-count" not in page
    assert "?purpose=find-a-training&amp;site=alpha" in page
    assert 'name="site" value="alpha"' in page  # its searches stay on its shelves
    # A site and anything else is a search; a site that does not exist finds nothing.
    assert client.get(CATALOGUE, {"site": "alpha", "kind": "book"}).context["results"].total
    assert client.get(CATALOGUE, {"site": "nowhere"}).context["results"].total == 0


def test_the_kiosk_home_is_its_sites_browse_by_purpose_page(client, catalogue):
    become_kiosk(client)
    response = client.get(KIOSK)
    assert "results" not in response.context
    page = html(response)
    assert "purpose-tiles" in page and "result-count" not in page
    # No language select: a visitor's choice would stay for the next one.
    assert 'id="language-select"' not in page
    assert 'id="language-select"' in html(client.get(LEAVE_KIOSK))
    # Its results lead back to it.
    results = html(client.get(CATALOGUE, {"q": "metiers", "site": "alpha"}))
    assert f'<a href="{KIOSK}">←' in results
    assert 'id="language-select"' not in results


def test_results_on_a_sites_shelves_lead_back_to_its_home(client, catalogue):
    page = html(client.get(CATALOGUE, {"q": "metiers", "site": "alpha"}))
    assert '<a href="/catalogue/?site=alpha">←' in page
    assert '<a href="/catalogue/">←' in html(client.get(CATALOGUE, {"q": "metiers"}))


def test_the_kiosk_idle_time_comes_from_the_settings(client, catalogue, settings):
    settings.KIOSK_IDLE_SECONDS = 42
    settings.KIOSK_WARNING_SECONDS = 25
    become_kiosk(client)
    page = html(client.get(CATALOGUE, headers={"accept-language": "en"}))
    assert 'data-kiosk-idle="42"' in page
    assert 'data-kiosk-warning="25"' in page
    assert f'data-kiosk-home="{KIOSK}"' in page
    # The warning it shows before restarting, and where the restart is posted.
    assert 'role="alertdialog"' in page
    assert "In 25 seconds, the catalogue starts again" in page
    assert f'action="{RESTART_KIOSK}"' in page


def test_an_ordinary_browser_has_no_idle_warning(client, catalogue):
    page = html(client.get(CATALOGUE))
    assert "kiosk-warning" not in page
    assert RESTART_KIOSK not in page


def session_keys() -> set[str]:
    return set(Session.objects.values_list("session_key", flat=True))


def test_a_kiosk_restart_forgets_the_terminals_session_and_stays_a_kiosk(
    client, catalogue, centre, login
):
    # Someone logged in on the terminal and walked away; someone else is logged in elsewhere.
    elsewhere = Client()
    elsewhere.force_login(centre.reception, backend="citedesmetiers.auth_backends.ModelBackend")
    login(centre.officer)
    become_kiosk(client)
    client.get(CATALOGUE, {"q": "sante"})
    counted = list(SearchCount.objects.values_list("query", "searches", "empty"))
    terminal = client.session.session_key
    assert terminal in session_keys()

    response = client.post(RESTART_KIOSK)

    assert response.status_code == 302
    assert response["Location"] == KIOSK
    assert response["Clear-Site-Data"] == '"cache"'
    assert terminal not in session_keys()
    assert elsewhere.session.session_key in session_keys()  # nobody else's
    assert "kiosk" not in response.cookies  # the terminal stays set up
    assert 'class="catalogue kiosk"' in html(client.get(KIOSK))
    assert client.get("/catalogue/staff/").status_code == 302  # logged out
    assert elsewhere.get("/reception/").status_code == 200
    # The anonymous counters are statistics, not the terminal's: they stay.
    assert list(SearchCount.objects.values_list("query", "searches", "empty")) == counted


def test_a_kiosk_restart_twice_is_a_restart_once(client, catalogue):
    become_kiosk(client)
    for _ in range(2):
        response = client.post(RESTART_KIOSK)
        assert response.status_code == 302
        assert response["Location"] == KIOSK
    assert session_keys() == set()  # an anonymous terminal is not given a session either
    assert 'class="catalogue kiosk"' in html(client.get(KIOSK))


def test_a_kiosk_restart_needs_the_pages_csrf_token(catalogue, centre):
    client = Client(enforce_csrf_checks=True)
    client.force_login(centre.officer, backend="citedesmetiers.auth_backends.ModelBackend")
    home = client.get(KIOSK)
    token = home.context["csrf_token"]
    client.post(KIOSK, {"csrfmiddlewaretoken": str(token)})
    terminal = client.session.session_key

    assert client.post(RESTART_KIOSK).status_code == 403
    assert terminal in session_keys()

    page = html(client.get(CATALOGUE))
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert client.post(RESTART_KIOSK, {"csrfmiddlewaretoken": token}).status_code == 302
    assert terminal not in session_keys()


def test_a_restart_posted_by_an_ordinary_browser_changes_nothing(client, catalogue, centre, login):
    login(centre.officer)
    before = session_keys()

    response = client.post(RESTART_KIOSK)

    assert response.status_code == 302
    assert response["Location"] == CATALOGUE
    assert "Clear-Site-Data" not in response
    assert session_keys() == before
    assert client.get("/catalogue/staff/").status_code == 200
    assert client.get(RESTART_KIOSK).status_code == 405


@pytest.mark.parametrize("persona", ["anonymous", "officer"])
def test_a_kiosk_shows_no_way_to_staff_pages(client, catalogue, centre, login, persona):
    # Even if someone left a staff session open on the terminal.
    login(centre.persona(persona))
    become_kiosk(client)
    for path in (KIOSK, CATALOGUE, f"{CATALOGUE}?q=sante", catalogue["book"].get_absolute_url()):
        page = html(client.get(path))
        assert "/accounts/login/" not in page
        assert "/accounts/logout/" not in page
        assert "staff-nav" not in page
        assert 'href="/staff/' not in page
        assert f'class="brand" href="{KIOSK}"' in page


def test_outside_kiosk_mode_staff_see_their_navigation(client, catalogue, centre, login):
    login(centre.officer)
    assert "staff-nav" in html(client.get(CATALOGUE, {"q": "sante"}))


def test_a_kiosk_shows_a_web_address_as_a_qr_code_not_a_link(client, catalogue):
    become_kiosk(client)
    page = html(client.get(catalogue["website"].get_absolute_url()))
    assert f'href="{LINK}"' not in page
    assert '<a href="https://' not in page
    assert page.count('class="qr-block"') == 2  # the web address's and this page's
    assert page.count("<svg") == 2


def test_outside_kiosk_mode_a_web_address_is_a_link(client, catalogue):
    page = html(client.get(catalogue["website"].get_absolute_url()))
    assert f'<a href="{LINK}" rel="noopener noreferrer">' in page
    assert page.count('class="qr-block"') == 1  # this page's only
    assert page.count("<svg") == 1
