"""Exporting the catalogue as a spreadsheet (CSV or XLSX, written with tablib), in the columns the
import reads. Any text cell starting with =, +, -, @, a tab or a carriage return is prefixed with
' so that a spreadsheet never runs it as a formula; the import removes that ' again."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch

from citedesmetiers import exports
from citedesmetiers.models import Site

from ..models import Holding, Resource
from .columns import COLUMNS, KIND_WORDS, LIST_SEPARATOR


def export_catalogue(*, fmt: str, holding_site: Site, only_site: Site | None = None) -> bytes:
    """The catalogue (withdrawn items left out) as CSV or XLSX bytes, with the holding of
    `holding_site` in cote/exemplaires; only what `only_site` holds, when given."""
    if fmt not in exports.FORMATS:
        raise ValueError(fmt)
    resources = Resource.objects.filter(withdrawn=False)
    if only_site is not None:
        resources = resources.filter(holdings__site=only_site)
    resources = resources.order_by("title", "pk").prefetch_related(
        "purposes",
        "audiences",
        Prefetch(
            "holdings", queryset=Holding.objects.filter(site=holding_site), to_attr="site_holdings"
        ),
    )
    return exports.encode(
        exports.dataset(
            [column.header for column in COLUMNS],
            (_row(resource, fmt) for resource in resources.iterator(chunk_size=2000)),
            title="catalogue",
        ),
        fmt,
    )


def _row(resource: Resource, fmt: str) -> list:
    held = resource.site_holdings[0] if resource.site_holdings else None
    price = "" if resource.price is None else resource.price
    return [
        resource.title,
        KIND_WORDS.get(resource.kind, resource.kind),
        f"{LIST_SEPARATOR} ".join(p.name for p in resource.purposes.all()),
        f"{LIST_SEPARATOR} ".join(a.name for a in resource.audiences.all()),
        resource.authors,
        resource.publisher,
        resource.year if resource.year is not None else "",
        resource.language,
        resource.isbn or "",
        resource.issn or "",
        price if fmt == "xlsx" else str(price),
        resource.url,
        resource.summary,
        resource.keywords,
        resource.opinion,
        held.shelf_mark if held else "",
        held.copies if held else "",
    ]


def export_filename(fmt: str, site: Site | None) -> str:
    scope = site.slug if site is not None else "reseau"
    return f"catalogue-{scope}-{dt.date.today():%Y-%m-%d}.{fmt}"
