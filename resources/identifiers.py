"""ISBN and ISSN: validated with their check digits and stored in one canonical form
(ISBN-13 without hyphens, ISSN as NNNN-NNNC), so that de-duplication compares like with like."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_SEPARATORS = re.compile(r"[\s\-‐‑–—.]")


def _isbn13_check(first12: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def normalize_isbn(value: str) -> str:
    """An ISBN-10 or ISBN-13 (hyphens and spaces allowed) → ISBN-13 digits; ValidationError if the
    check digit is wrong."""
    raw = _SEPARATORS.sub("", value or "").upper().removeprefix("ISBN")
    raw = raw.lstrip(":")
    if re.fullmatch(r"\d{9}[\dX]", raw):
        total = sum((10 - i) * (10 if c == "X" else int(c)) for i, c in enumerate(raw))
        if total % 11:
            raise ValidationError(
                _("“%(value)s” is not a valid ISBN (check digit).") % {"value": value}
            )
        first12 = "978" + raw[:9]
        return first12 + _isbn13_check(first12)
    if re.fullmatch(r"97[89]\d{10}", raw):
        if _isbn13_check(raw[:12]) != raw[12]:
            raise ValidationError(
                _("“%(value)s” is not a valid ISBN (check digit).") % {"value": value}
            )
        return raw
    raise ValidationError(_("“%(value)s” is not an ISBN: use 10 or 13 digits.") % {"value": value})


def normalize_issn(value: str) -> str:
    raw = _SEPARATORS.sub("", value or "").upper().removeprefix("ISSN").lstrip(":")
    if not re.fullmatch(r"\d{7}[\dX]", raw):
        raise ValidationError(_("“%(value)s” is not an ISSN: use 8 characters.") % {"value": value})
    total = sum((8 - i) * int(c) for i, c in enumerate(raw[:7]))
    check = (11 - total % 11) % 11
    if raw[7] != ("X" if check == 10 else str(check)):
        raise ValidationError(
            _("“%(value)s” is not a valid ISSN (check digit).") % {"value": value}
        )
    return f"{raw[:4]}-{raw[4:]}"
