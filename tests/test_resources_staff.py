"""The information officers' side of the catalogue: create, edit, withdraw, find — through HTTP.

Personas (tests/conftest.py): Dan is the information officer of site Alpha, Frank its manager,
Alice its reception agent, Bob a counsellor, Erin the event organiser; Grace manages site Beta."""

from __future__ import annotations

import pytest
from django.urls import reverse

from citedesmetiers.models import Theme
from resources.models import Audience, Holding, Purpose, Resource, SearchTerm
from resources.search import refresh_terms

LIST = reverse("resources_staff:list")
CREATE = reverse("resources_staff:create")


@pytest.fixture(autouse=True)
def _english(settings):
    # The assertions read English messages, whatever catalogues exist.
    settings.LANGUAGE_CODE = "en"


def purpose(slug: str = "find-a-training") -> Purpose:
    return Purpose.objects.get(slug=slug)


def make_resource(title: str, *, site=None, shelf_mark: str = "", **fields) -> Resource:
    resource = Resource.objects.create(title=title, **fields)
    resource.purposes.set([purpose("find-a-job")])
    if site is not None:
        Holding.objects.create(resource=resource, site=site, shelf_mark=shelf_mark, copies=2)
    refresh_terms(Resource.objects.filter(pk=resource.pk))
    return resource


def form_data(**overrides) -> dict:
    data = {
        "title": "Guide des formations du numérique",
        "kind": "book",
        "purposes": [purpose().pk],
        "audiences": [],
        "themes": [],
        "authors": "Claire Martin",
        "publisher": "Onisep",
        "year": "2024",
        "language": "fr",
        "isbn": "",
        "issn": "",
        "price": "12,50",
        "url": "",
        "summary": "Toutes les formations.",
        "keywords": "numérique, formation",
        "opinion": "Très demandé.",
        "shelf_mark": "FOR 120",
        "copies": "2",
    }
    data.update(overrides)
    return data


def errors_of(response) -> dict[str, list[str]]:
    return {name: list(errors) for name, errors in response.context["form"].errors.items()}


# --- create and edit --------------------------------------------------------------------------


def test_it_lets_an_officer_add_a_resource_held_at_their_site(centre, login):
    client = login(centre.officer)
    alpha_theme = centre.alpha.themes.get(letter="F")

    response = client.post(
        CREATE,
        form_data(
            isbn="0-306-40615-2",
            themes=[alpha_theme.pk],
            audiences=[Audience.objects.get(slug="job-seekers").pk],
            price="12,50",
        ),
    )

    assert response.status_code == 302, response.context["form"].errors
    resource = Resource.objects.get()
    assert response.url == reverse("resources_staff:edit", args=[resource.pk])
    assert resource.isbn == "9780306406157"  # ISBN-10 typed, ISBN-13 stored
    assert str(resource.price) == "12.50"
    assert set(resource.purposes.values_list("slug", flat=True)) == {"find-a-training"}
    assert set(resource.audiences.values_list("slug", flat=True)) == {"job-seekers"}
    assert list(resource.themes.all()) == [alpha_theme]
    holding = Holding.objects.get(resource=resource)
    assert (holding.site, holding.shelf_mark, holding.copies) == (centre.alpha, "FOR 120", 2)
    # The suggestions know the new words at once.
    assert SearchTerm.objects.filter(term="numerique").exists()


def test_it_offers_only_the_themes_of_the_officers_site(centre, login):
    response = login(centre.officer).get(CREATE)

    themes = response.context["form"].fields["themes"].queryset
    assert response.status_code == 200
    assert {theme.site for theme in themes} == {centre.alpha}
    assert themes.count() == 3


def test_it_keeps_the_themes_and_holdings_of_other_sites_when_editing(centre, login):
    resource = make_resource("Le CV du commerce", site=centre.beta, shelf_mark="BETA 7")
    beta_theme = centre.beta.themes.get(letter="E")
    resource.themes.add(beta_theme)
    alpha_theme = centre.alpha.themes.get(letter="E")

    response = login(centre.officer).post(
        reverse("resources_staff:edit", args=[resource.pk]),
        form_data(title="Le CV du commerce (2e édition)", themes=[alpha_theme.pk]),
    )

    resource.refresh_from_db()
    assert response.status_code == 302
    assert resource.title == "Le CV du commerce (2e édition)"
    assert set(resource.themes.all()) == {alpha_theme, beta_theme}
    assert Holding.objects.get(resource=resource, site=centre.beta).shelf_mark == "BETA 7"
    assert Holding.objects.get(resource=resource, site=centre.alpha).shelf_mark == "FOR 120"


def test_it_shows_this_sites_holding_on_the_edit_page(centre, login):
    resource = make_resource("Le CV du commerce", site=centre.alpha, shelf_mark="EMP 12")

    response = login(centre.officer).get(reverse("resources_staff:edit", args=[resource.pk]))

    form = response.context["form"]
    assert form["shelf_mark"].value() == "EMP 12"
    assert form["copies"].value() == 2


def test_it_removes_this_sites_holding_with_zero_copies(centre, login):
    resource = make_resource("Le CV du commerce", site=centre.alpha, shelf_mark="EMP 12")

    login(centre.officer).post(
        reverse("resources_staff:edit", args=[resource.pk]), form_data(copies="0")
    )

    assert not Holding.objects.filter(resource=resource).exists()


def test_it_refuses_an_isbn_with_a_wrong_check_digit_and_writes_nothing(centre, login):
    response = login(centre.officer).post(CREATE, form_data(isbn="978-0-306-40615-8"))

    assert response.status_code == 200
    assert errors_of(response)["isbn"] == ["“978-0-306-40615-8” is not a valid ISBN (check digit)."]
    assert not Resource.objects.exists()


def test_it_refuses_an_issn_with_a_wrong_check_digit(centre, login):
    response = login(centre.officer).post(CREATE, form_data(kind="periodical", issn="0378-5956"))

    assert "not a valid ISSN" in errors_of(response)["issn"][0]
    assert not Resource.objects.exists()


@pytest.mark.parametrize(
    ("field", "stored", "typed"),
    [("isbn", "9780306406157", "0-306-40615-2"), ("issn", "0378-5955", "ISSN 03785955")],
)
def test_it_points_to_the_record_that_already_has_the_identifier(
    centre, login, field, stored, typed
):
    existing = make_resource("Formations et diplômes", **{field: stored})

    response = login(centre.officer).post(CREATE, form_data(**{field: typed}))

    (message,) = errors_of(response)[field]
    assert "already in the catalogue" in message
    assert "Formations et diplômes" in message
    edit_url = reverse("resources_staff:edit", args=[existing.pk])
    link = f'<a href="{edit_url}">Formations et diplômes</a>'
    assert link in response.content.decode()
    assert Resource.objects.count() == 1


def test_it_lets_a_record_keep_its_own_isbn(centre, login):
    resource = make_resource("Formations et diplômes", isbn="9780306406157")

    response = login(centre.officer).post(
        reverse("resources_staff:edit", args=[resource.pk]), form_data(isbn="978-0-306-40615-7")
    )

    assert response.status_code == 302


def test_it_requires_a_title_a_kind_and_a_purpose(centre, login):
    response = login(centre.officer).post(CREATE, form_data(title="", kind="", purposes=[]))

    assert set(errors_of(response)) == {"title", "kind", "purposes"}
    assert not Resource.objects.exists()


def test_it_refuses_a_negative_price_and_an_impossible_year(centre, login):
    response = login(centre.officer).post(CREATE, form_data(price="-3", year="20245"))

    assert set(errors_of(response)) == {"price", "year"}


def test_a_refused_record_lists_its_problems_at_the_top(centre, login):
    page = login(centre.officer).post(CREATE, form_data(price="-3", year="20245")).content.decode()

    summary = page[page.index("error-summary") : page.index("</div>", page.index("error-summary"))]
    assert 'href="#id_price"' in summary and 'href="#id_year"' in summary
    assert "Some fields need attention" in summary


# --- withdraw and restore ------------------------------------------------------------------------


def test_it_withdraws_a_resource_from_the_public_catalogue_and_restores_it(centre, login, client):
    resource = make_resource("Les métiers de la logistique", site=centre.alpha)
    client = login(centre.officer)
    assert resource.title in client.get("/catalogue/?q=logistique").content.decode()

    response = client.post(reverse("resources_staff:withdraw", args=[resource.pk]))

    assert response.status_code == 302
    resource.refresh_from_db()
    assert resource.withdrawn
    login(None)
    assert resource.title not in client.get("/catalogue/?q=logistique").content.decode()
    assert client.get(resource.get_absolute_url()).status_code == 404

    client = login(centre.officer)
    assert resource.title not in client.get(LIST, {"q": "logistique"}).content.decode()
    assert (
        resource.title in client.get(LIST, {"q": "logistique", "withdrawn": "1"}).content.decode()
    )

    client.post(reverse("resources_staff:restore", args=[resource.pk]))
    login(None)
    assert resource.title in client.get("/catalogue/?q=logistique").content.decode()


def test_it_withdraws_only_on_post(centre, login):
    resource = make_resource("Les métiers de la logistique")

    response = login(centre.officer).get(reverse("resources_staff:withdraw", args=[resource.pk]))

    assert response.status_code == 405
    resource.refresh_from_db()
    assert not resource.withdrawn


# --- finding -------------------------------------------------------------------------------------


def test_it_finds_records_accent_insensitively_and_pages_them(centre, login):
    for n in range(30):
        make_resource(f"Fiche métier numéro {n:02d}", site=centre.alpha, shelf_mark=f"M {n}")
    make_resource("Créer son entreprise")
    client = login(centre.officer)

    first = client.get(LIST, {"q": "metier"})
    second = client.get(LIST, {"q": "metier", "page": "2"})

    assert first.context["page"].paginator.count == 30
    assert len(first.context["page"]) == 25
    assert len(second.context["page"]) == 5
    assert "Créer son entreprise" not in first.content.decode()
    assert "M 29" in second.content.decode()  # this site's shelf mark


def test_it_filters_by_kind_and_by_the_site_that_holds_it(centre, login):
    make_resource("Portail des métiers", kind="website", site=centre.beta)
    make_resource("Les métiers du bâtiment", kind="book", site=centre.alpha)
    client = login(centre.officer)

    websites = client.get(LIST, {"kind": "website"}).context["page"]
    at_beta = client.get(LIST, {"site": "beta"}).context["page"]

    assert [r.title for r in websites] == ["Portail des métiers"]
    assert [r.title for r in at_beta] == ["Portail des métiers"]


def test_it_lists_a_page_in_a_fixed_number_of_queries(centre, login, django_assert_max_num_queries):
    for n in range(25):
        make_resource(f"Fiche {n}", site=centre.alpha)
    client = login(centre.officer)
    client.get(LIST)  # the session, the site

    with django_assert_max_num_queries(12):
        response = client.get(LIST)

    assert len(response.context["page"]) == 25


def test_it_survives_odd_search_strings(centre, login):
    client = login(centre.officer)

    for q in ["", "   ", "'; DROP TABLE", "ß" * 500, "\u202eé", "&|!:*"]:
        assert client.get(LIST, {"q": q}).status_code == 200
    # A NUL character is refused before any view (tests/test_bad_input.py).
    assert client.get(LIST, {"q": "\u202e\u0000é"}).status_code == 400
    assert client.get(LIST, {"kind": "\x00", "site": "\x00", "purpose": "\x00"}).status_code == 400


# --- access --------------------------------------------------------------------------------------

STAFF_PAGES = [
    ("get", "resources_staff:list", False),
    ("get", "resources_staff:create", False),
    ("get", "resources_staff:edit", True),
    ("post", "resources_staff:withdraw", True),
    ("get", "resources_staff:import", False),
    ("get", "resources_staff:export", False),
]


@pytest.mark.parametrize("persona", ["reception", "counsellor_a", "organiser"])
@pytest.mark.parametrize(("method", "name", "with_id"), STAFF_PAGES)
def test_it_refuses_staff_of_other_roles(centre, login, persona, method, name, with_id):
    resource = make_resource("Le CV du commerce")
    url = reverse(name, args=[resource.pk] if with_id else [])

    response = getattr(login(centre.persona(persona)), method)(url)

    assert response.status_code == 403
    resource.refresh_from_db()
    assert not resource.withdrawn


@pytest.mark.parametrize(("method", "name", "with_id"), STAFF_PAGES)
def test_it_sends_anonymous_visitors_to_the_login_page(centre, login, method, name, with_id):
    resource = make_resource("Le CV du commerce")
    url = reverse(name, args=[resource.pk] if with_id else [])

    response = getattr(login(None), method)(url)

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("persona", ["officer", "manager"])
def test_it_lets_officers_and_managers_in(mfa_enrolled, login, persona):
    client = login(mfa_enrolled.persona(persona))
    if persona == "manager":
        session = client.session
        session["mfa_enrolment_checked"] = True
        session.save()

    assert client.get(LIST).status_code == 200
    assert client.get(CREATE).status_code == 200


def test_it_offers_the_catalogue_screen_to_officers(centre, login):
    response = login(centre.officer).get(reverse("staff_home") + "?menu")

    assert reverse("resources_staff:list") in response.content.decode()


def test_it_keeps_other_sites_themes_out_of_the_form(centre, login):
    beta_theme = Theme.objects.filter(site=centre.beta).first()

    response = login(centre.officer).post(CREATE, form_data(themes=[beta_theme.pk]))

    assert "themes" in errors_of(response)
    assert not Resource.objects.exists()


def _unicode_digits(number: int) -> str:
    """The same number in Arabic-Indic digits, which Python's int() reads as ASCII ones."""
    return str(number).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


@pytest.mark.parametrize("field", ["purposes", "audiences", "themes"])
@pytest.mark.parametrize(
    "value",
    ["9223372036854775808", "1" * 30, "unicode", "-1", "0", "1.0"],
    ids=["2**63", "30-digits", "unicode-digits", "negative", "zero", "decimal"],
)
def test_it_refuses_an_odd_id_among_the_choices_and_writes_nothing(centre, login, field, value):
    choices = {
        "purposes": purpose(),
        "audiences": Audience.objects.first(),
        "themes": centre.alpha.themes.first(),
    }
    if value == "unicode":
        # Record ١٢ is not record 12: a Unicode digit is no choice, never another record.
        value = _unicode_digits(choices[field].pk)
    client = login(centre.officer)
    client.raise_request_exception = False

    response = client.post(CREATE, form_data(**{field: [value]}))

    assert response.status_code == 200
    assert set(errors_of(response)) == {field}
    assert not Resource.objects.exists()
