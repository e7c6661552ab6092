"""Self-service proof of attendance: a short code, made to be typed back from paper, that says a
ticket was issued at this site at this minute — nothing about who held it. The signed codes of
the first slips still verify. Altered, malformed or unknown codes and tokens get a friendly
“not found” with the field to type the code again, never a server error."""

from __future__ import annotations

import datetime as dt
import io
import re
import string
import subprocess
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from playwright.sync_api import expect
from pypdf import PdfReader

from reception import proof, services
from reception.models import ProofOfAttendance, Visit
from reception.proof import proof_code, read_proof
from reception.views import VISITOR_LINK_DAYS
from tests.browser import PHONE, inside_viewport
from tests.conftest import make_site

BASE32 = string.ascii_uppercase + "234567"
PARIS = ZoneInfo("Europe/Paris")
ARRIVAL = dt.datetime(2026, 5, 6, 10, 17, 42, tzinfo=dt.UTC)  # 12:17:42 in Paris


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def check_in(site, now: dt.datetime | None = None) -> Visit:
    visit, _created = services.check_in(site=site, theme_id=site.themes.get(letter="E").pk, now=now)
    return visit


def first_version_code(visit: Visit) -> str:
    """The code the first version printed on a slip: the site, the ticket and the arrival minute
    in base 32, a hyphen and their signature."""
    return signed(f"{visit.site_id}:{visit.code}:{int(visit.arrived_at.timestamp()) // 60}")


def signed(payload: str) -> str:
    """A code signed with the server's own key, as only the server could make it: to reach what
    happens after the signature is checked."""
    data = payload.encode()
    return f"{proof._b32(data)}-{proof._mac(data)}"


# --- sign and read --------------------------------------------------------------------------------


def test_a_code_reads_back_as_site_ticket_and_arrival_minute(centre):
    visit = check_in(centre.alpha, now=ARRIVAL)

    found = read_proof(proof_code(visit))

    assert found.site == centre.alpha
    assert found.ticket == "E-001"
    assert found.arrived_at == dt.datetime(2026, 5, 6, 12, 17, tzinfo=PARIS)
    assert found.arrived_at.tzinfo == PARIS


def test_the_arrival_is_read_in_the_sites_own_time_zone(db):
    montreal = make_site("montreal", time_zone="America/Montreal")
    visit = check_in(montreal, now=ARRIVAL)

    found = read_proof(proof_code(visit))

    assert found.arrived_at == dt.datetime(2026, 5, 6, 6, 17, tzinfo=ZoneInfo("America/Montreal"))
    assert found.arrived_at.tzinfo == ZoneInfo("America/Montreal")


def test_the_code_is_short_grouped_and_free_of_characters_people_confuse(centre):
    codes = {proof_code(check_in(centre.alpha)) for _ in range(30)}

    assert len(codes) == 30
    for code in codes:
        assert re.fullmatch(r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}", code), code


def test_printing_again_gives_the_same_code(centre):
    visit = check_in(centre.alpha, now=ARRIVAL)

    assert proof_code(visit) == proof_code(Visit.objects.get(pk=visit.pk))
    assert ProofOfAttendance.objects.count() == 1


def test_the_verification_page_confirms_a_genuine_code(centre, client):
    code = proof_code(check_in(centre.alpha, now=ARRIVAL))
    bare = code.replace("-", "")

    # People type codes back as they like: without the hyphen, in small letters, with spaces.
    for typed in (code, code.lower(), bare, bare.lower(), f" {bare[:4]} {bare[4:]} "):
        response = client.get(reverse("reception:verify", args=[typed]))
        page = response.content.decode()
        assert response.status_code == 200, typed
        assert "This proof is genuine" in page
        assert "Ticket E-001 was issued at Site Alpha" in page
        assert "12:17" in page


def test_the_verification_page_has_a_field_to_type_the_code(centre, client):
    code = proof_code(check_in(centre.alpha, now=ARRIVAL))

    empty = client.get("/verify/")
    typed = client.get("/verify/", {"code": code.replace("-", " ").lower()})

    assert empty.status_code == 200
    page = empty.content.decode()
    assert '<label for="verify-code">Verification code</label>' in page
    assert 'id="verify-code" name="code"' in page
    assert 'action="/verify/"' in page and 'method="get"' in page
    assert typed.status_code == 200
    assert "This proof is genuine" in typed.content.decode()
    assert f'value="{code}"' in typed.content.decode()  # as printed


def test_a_mistyped_code_is_told_apart_from_an_unknown_one(centre, client):
    proof_code(check_in(centre.alpha, now=ARRIVAL))

    too_short = client.get("/verify/", {"code": "K7PM-4QX"})
    unknown = client.get("/verify/", {"code": "K7PM-4QXD"})

    for response in (too_short, unknown):
        assert response.status_code == 404
        page = response.content.decode()
        assert "We cannot confirm this code" in page
        assert 'id="verify-code" name="code"' in page  # to type it again
    assert "they have eight letters and digits" in too_short.content.decode()
    assert "The code is unknown or has been altered" in unknown.content.decode()


def test_the_code_says_nothing_about_the_person(centre):
    visit = check_in(centre.alpha, now=ARRIVAL)

    code = proof_code(visit)

    row = ProofOfAttendance.objects.values().get()
    assert set(row) == {"id", "code", "site_id", "ticket", "arrived_at", "created_at"}
    assert (row["site_id"], row["ticket"]) == (centre.alpha.pk, "E-001")
    assert row["arrived_at"] == ARRIVAL.replace(second=0)
    assert visit.token not in code


def test_a_proof_stays_verifiable_once_its_visit_is_purged(centre, client):
    visit = check_in(centre.alpha, now=ARRIVAL)
    code = proof_code(visit)
    Visit.objects.filter(pk=visit.pk).delete()

    found = read_proof(code)

    assert (found.ticket, found.arrived_at) == ("E-001", ARRIVAL.replace(second=0))


# --- the slips printed by the first version -------------------------------------------------------


def test_a_code_of_the_first_version_still_verifies_however_it_is_typed(centre, client):
    visit = check_in(centre.alpha, now=ARRIVAL)
    code = first_version_code(visit)
    Visit.objects.filter(pk=visit.pk).delete()  # and once its visit is purged
    bare = code.replace("-", "")

    for typed in (code, code.lower(), bare, bare.lower(), " ".join(code)):
        found = read_proof(typed)
        assert found.site == centre.alpha, typed
        assert found.ticket == "E-001"
        assert found.arrived_at == dt.datetime(2026, 5, 6, 12, 17, tzinfo=PARIS)
    response = client.get(reverse("reception:verify", args=[bare.lower()]))
    assert response.status_code == 200
    assert "Ticket E-001 was issued at Site Alpha" in response.content.decode()


def test_a_code_of_the_first_version_says_nothing_about_the_person(centre):
    visit = check_in(centre.alpha, now=ARRIVAL)
    encoded, _mac = first_version_code(visit).split("-")

    assert (
        proof._unb32(encoded).decode()
        == f"{centre.alpha.pk}:E-001:{int(ARRIVAL.timestamp()) // 60}"
    )


def test_changing_any_character_of_a_first_version_code_breaks_it(centre):
    code = first_version_code(check_in(centre.alpha, now=ARRIVAL))

    accepted = [
        tampered
        for i, original in enumerate(code)
        if original != "-"
        for replacement in BASE32
        if replacement != original
        for tampered in [code[:i] + replacement + code[i + 1 :]]
        if read_proof(tampered) is not None
    ]

    assert accepted == [], f"{code} still verifies after changing one character"


# --- tampering and garbage ------------------------------------------------------------------------


def test_changing_any_character_of_the_code_breaks_it(centre):
    code = proof_code(check_in(centre.alpha, now=ARRIVAL))

    accepted = [
        tampered
        for i, original in enumerate(code)
        if original != "-"
        for replacement in BASE32 + proof.ALPHABET
        if replacement != original
        for tampered in [code[:i] + replacement + code[i + 1 :]]
        if read_proof(tampered) is not None
    ]

    assert accepted == [], f"{code} still verifies after changing one character"


@pytest.mark.parametrize("cut", [lambda c: c[:-1], lambda c: c + "A", lambda c: c[1:]])
@pytest.mark.parametrize("made", [proof_code, first_version_code], ids=["short", "first-version"])
def test_a_shortened_or_lengthened_code_is_refused(centre, cut, made):
    code = made(check_in(centre.alpha, now=ARRIVAL))
    assert read_proof(cut(code)) is None


GARBAGE = [
    "",
    "-",
    "--",
    "A-",
    "-A",
    "AAAA-BBBB",
    "not a code",
    "A" * 5000 + "-" + "B" * 16,
    "ÉÉÉ-ÉÉÉ",
    "ß-ß",  # upper-cases to two letters
    "١٢٣-٤٥٦",  # Arabic-Indic digits
    "ＡＢＣ-ＤＥＦ",  # full-width letters
    "\u202eEDOC-EKAF",  # right-to-left override
    "🙂-🙂",
    "\x00-\x00",
    "====-====",
    "%00-%ff",
    "GE5EKLJQ-" + "=" * 16,
]


@pytest.mark.parametrize("code", GARBAGE)
def test_garbage_is_not_a_proof(db, code):
    assert read_proof(code) is None


@pytest.mark.parametrize(
    "payload",
    [
        "nonsense",
        "1:E-001",
        "1:E-001:12:34",
        "x:E-001:1",
        "999999:E-001:29611517",  # no such site
        "{site}:E-001:99999999999999999999",  # far beyond any date
        "{site}:E-001:-99999999999999999",
        "{site}:E-001:minute",
    ],
)
def test_a_signed_but_malformed_code_is_not_a_proof(centre, payload):
    assert read_proof(signed(payload.format(site=centre.alpha.pk))) is None


def test_a_signed_code_that_is_not_text_is_not_a_proof(centre):
    data = b"\xff\xfe:\x00"
    assert read_proof(f"{proof._b32(data)}-{proof._mac(data)}") is None


# A NUL character is refused before any view with a 400 (tests/test_bad_input.py).
@pytest.mark.parametrize("code", [c for c in GARBAGE if c and "/" not in c and "\x00" not in c])
def test_the_verification_page_answers_garbage_with_a_friendly_not_found(db, client, code):
    response = client.get(reverse("reception:verify", args=[code]))

    assert response.status_code == 404
    assert "We cannot confirm this code" in response.content.decode()


def test_the_verification_page_answers_a_tampered_code_with_a_friendly_not_found(centre, client):
    code = proof_code(check_in(centre.alpha, now=ARRIVAL))
    first = code[0]
    tampered = ("B" if first == "A" else "A") + code[1:]

    response = client.get(reverse("reception:verify", args=[tampered]))

    assert response.status_code == 404
    page = response.content.decode()
    assert "We cannot confirm this code" in page
    assert "Site Alpha" not in page


# --- the PDF --------------------------------------------------------------------------------------


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def pdftotext(content: bytes) -> str:
    """The text of a PDF as poppler lays it out, line by line as printed."""
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


def test_the_visitor_prints_a_real_pdf_proof(centre, client):
    # Today, so that the visitor's link is still valid.
    arrival = dt.datetime.combine(centre.alpha.local_date(), dt.time(12, 17, 42), tzinfo=PARIS)
    visit = check_in(centre.alpha, now=arrival)

    response = client.get(reverse("reception:proof", args=[visit.token]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert "Site Alpha" in text
    assert "E-001" in text
    assert "12:17" in text
    # To be typed back from the paper, the code and the address are each on one line.
    lines = [line.strip() for line in pdftotext(response.content).splitlines()]
    assert proof_code(visit) in lines
    assert "testserver/verify/" in lines
    # Only the ticket: the visitor's private link is not printed.
    assert visit.token not in "".join(text.split())


def test_the_slip_prints_the_site_name_as_it_is(centre, client):
    # Real names have hyphens and apostrophes (“Cité des métiers du Val-de-Marne”).
    centre.alpha.name = "Cité des métiers du Val-de-Marne & d'ailleurs"
    centre.alpha.save(update_fields=["name"])
    visit = check_in(centre.alpha)

    text = pdf_text(client.get(reverse("reception:proof", args=[visit.token])).content)

    assert "\\u00" not in text and "u002D" not in text and "u0027" not in text
    # Once in the slip, once in the page footer (lines may break anywhere).
    assert "".join(text.split()).count("Val-de-Marne&d'ailleurs") == 2


def test_the_slip_and_the_check_give_the_time_at_the_site(db, client):
    montreal = make_site("montreal", time_zone="America/Montreal")
    # 06:17 in Montreal today; the server's own time zone is Paris.
    arrival = dt.datetime.combine(
        montreal.local_date(), dt.time(6, 17), tzinfo=ZoneInfo("America/Montreal")
    )
    in_paris = f"{arrival.astimezone(PARIS):%H:%M}"
    visit = check_in(montreal, now=arrival)

    text = pdf_text(client.get(reverse("reception:proof", args=[visit.token])).content)
    page = client.get(reverse("reception:verify", args=[proof_code(visit)])).content.decode()

    assert "06:17" in text
    assert in_paris not in text
    assert "at 06:17" in page
    assert in_paris not in page


@pytest.mark.parametrize("name", ["reception:visitor", "reception:proof"])
def test_an_unknown_token_gets_the_friendly_not_found_page(centre, client, name):
    check_in(centre.alpha)

    response = client.get(reverse(name, args=["no-such-ticket"]))

    assert response.status_code == 404
    assert "We cannot find this ticket" in response.content.decode()


@pytest.mark.parametrize("name", ["reception:visitor", "reception:proof"])
def test_a_link_older_than_the_visitor_link_days_gets_the_friendly_not_found_page(
    centre, client, name
):
    visit = check_in(centre.alpha)
    today = centre.alpha.local_date()

    Visit.objects.filter(pk=visit.pk).update(local_date=today - dt.timedelta(VISITOR_LINK_DAYS))
    assert client.get(reverse("reception:visitor", args=[visit.token])).status_code == 200

    Visit.objects.filter(pk=visit.pk).update(local_date=today - dt.timedelta(VISITOR_LINK_DAYS + 1))
    response = client.get(reverse(name, args=[visit.token]))
    assert response.status_code == 404
    assert "We cannot find this ticket" in response.content.decode()


# --- in a browser, on a phone ---------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_on_a_phone_a_code_typed_from_the_paper_verifies(new_page, centre):
    code = proof_code(check_in(centre.alpha, now=ARRIVAL))
    phone = new_page(PHONE)

    phone.goto("/verify/")
    field = phone.get_by_label("Verification code")
    expect(field).to_be_visible()
    assert inside_viewport(field)
    field.fill(code.replace("-", "").lower())  # as typed back, without the hyphen
    phone.get_by_role("button", name="Check", exact=True).click()

    expect(phone.locator("h1")).to_have_text("This proof is genuine")
    expect(phone.get_by_text("Ticket E-001 was issued at Site Alpha")).to_be_visible()
    expect(phone.get_by_label("Verification code")).to_have_value(code)

    phone.get_by_label("Verification code").fill("K7PM 4QX")  # a character short
    phone.get_by_role("button", name="Check another code").click()
    expect(phone.locator("h1")).to_have_text("We cannot confirm this code")
    expect(phone.get_by_role("alert")).to_contain_text("they have eight letters and digits")
    expect(phone.get_by_label("Verification code")).to_be_visible()
    assert phone.js_errors == []
