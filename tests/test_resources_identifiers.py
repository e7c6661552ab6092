"""ISBN and ISSN: checked with their check digits and stored in one canonical form (ISBN-13
digits, ISSN as NNNN-NNNC), so that de-duplication compares like with like."""

import pytest
from django.core.exceptions import ValidationError

from resources.identifiers import normalize_isbn, normalize_issn
from resources.models import Resource


@pytest.mark.parametrize(
    ("isbn10", "isbn13"),
    [
        # The textbook examples: 0-306-40615-2 is 978-0-306-40615-7, and an X check digit.
        ("0306406152", "9780306406157"),
        ("0-306-40615-2", "9780306406157"),
        ("0 306 40615 2", "9780306406157"),
        ("0-8044-2957-X", "9780804429573"),
        ("0-8044-2957-x", "9780804429573"),
        ("ISBN 0-8044-2957-X", "9780804429573"),
        # A French one (Gallimard, Folio).
        ("2-07-036822-X", "9782070368228"),
    ],
)
def test_it_turns_an_isbn10_into_an_isbn13_with_its_own_check_digit(isbn10, isbn13):
    assert normalize_isbn(isbn10) == isbn13


@pytest.mark.parametrize(
    "value",
    [
        "9780306406157",
        "978-0-306-40615-7",
        "978 0 306 40615 7",
        " 978-0306406157 ",
        "ISBN: 978-0-306-40615-7",
        "ISBN 978‑0‑306‑40615‑7",  # non-breaking hyphens, as pasted from a web page
    ],
)
def test_it_accepts_an_isbn13_with_hyphens_and_spaces(value):
    assert normalize_isbn(value) == "9780306406157"


def test_it_keeps_979_isbns():
    assert normalize_isbn("979-10-90636-07-1") == "9791090636071"


@pytest.mark.parametrize(
    "value",
    [
        "0-306-40615-3",  # ISBN-10, wrong check digit
        "0-306-40615-X",  # ISBN-10, X where 2 is due
        "0-8044-2957-0",  # ISBN-10, a digit where X is due
        "978-0-306-40615-8",  # ISBN-13, wrong check digit
        "979-10-90636-07-2",
        "977-0-306-40615-7",  # neither 978 nor 979
        "X-306-40615-2",  # X only as a check digit
        "978030640615",  # 12 digits
        "97803064061577",  # 14 digits
        "030640615",  # 9 digits
        "abcdefghij",
        "",
    ],
)
def test_it_rejects_a_bad_isbn(value):
    with pytest.raises(ValidationError):
        normalize_isbn(value)


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("0317-8471", "0317-8471"),
        ("03178471", "0317-8471"),
        ("0378 5955", "0378-5955"),
        ("ISSN 0378-5955", "0378-5955"),
        ("2434-561X", "2434-561X"),
        ("2434561x", "2434-561X"),
    ],
)
def test_it_normalises_an_issn_to_nnnn_nnnc(value, canonical):
    assert normalize_issn(value) == canonical


@pytest.mark.parametrize(
    "value",
    [
        "0317-8472",  # wrong check digit
        "0378-595X",  # X where 5 is due
        "2434-5610",  # a digit where X is due
        "X434-5611",  # X only as a check digit
        "0317-847",  # 7 characters
        "0317-84711",  # 9 characters
        "",
    ],
)
def test_it_rejects_a_bad_issn(value):
    with pytest.raises(ValidationError):
        normalize_issn(value)


def test_a_resource_is_cleaned_to_canonical_identifiers(db):
    resource = Resource(title="Les métiers de la santé", isbn="0-8044-2957-x", issn="2434-561x")
    resource.full_clean()
    assert (resource.isbn, resource.issn) == ("9780804429573", "2434-561X")


def test_a_resource_accepts_a_hyphenated_isbn13_and_issn_as_typed(db):
    # An officer types (or pastes) the ISBN as printed on the book: 17 characters with the
    # hyphens, longer than the 13 stored. Normalising must happen before the length check.
    resource = Resource(
        title="Guide des formations", isbn="978-0-306-40615-7", issn="ISSN 0378-5955"
    )
    resource.full_clean()
    assert (resource.isbn, resource.issn) == ("9780306406157", "0378-5955")


def test_a_resource_with_a_bad_check_digit_does_not_validate(db):
    resource = Resource(title="Guide des formations", isbn="0-306-40615-3", issn="0317-8472")
    with pytest.raises(ValidationError) as error:
        resource.full_clean()
    # Both mistakes are reported, each next to its own field in the officer's form.
    assert {"isbn", "issn"} <= set(error.value.message_dict)


def test_a_resource_without_identifiers_stores_null_not_empty(db):
    # Two resources without an ISBN must not collide on the unique constraint.
    resource = Resource(title="Portail des métiers", isbn="", issn="")
    resource.full_clean()
    assert resource.isbn is None
    assert resource.issn is None
