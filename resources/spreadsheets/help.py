"""What the import page tells the officer about the file to upload: the formats it takes, and the
columns, what each holds and how to write it."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import Holding, Resource
from .columns import COLUMNS, KIND_WORDS


def column_help() -> list[dict[str, Any]]:
    """The columns, what each holds and how to write it: for the import page."""
    hints = {
        "kind": ", ".join(KIND_WORDS.values()),
        "purposes": _("names, separated by “;”"),
        "audiences": _("names, separated by “;”"),
        "year": _("4 digits"),
        "language": ", ".join(Resource.Language.values),
        "isbn": _("10 or 13 digits, hyphens allowed"),
        "price": _("in euros: 12.50 or 12,50"),
        "shelf_mark": _("at this site"),
        "copies": _("at this site; 0 = no longer held here"),
    }
    help = []
    for column in COLUMNS:
        model = Holding if column.key in ("shelf_mark", "copies") else Resource
        help.append(
            {
                "header": column.header,
                "label": model._meta.get_field(column.key).verbose_name,
                "hint": hints.get(column.key, ""),
                "required": column.required,
            }
        )
    return help


UPLOAD_HELP = gettext_lazy(
    "CSV (UTF-8 or Windows-1252, separated by commas or semicolons) or Excel .xlsx, with the "
    "column names on the first row."
)
