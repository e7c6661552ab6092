from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from citedesmetiers.ids import IdMultipleChoiceField
from citedesmetiers.models import Site, Theme

from . import spreadsheets
from .identifiers import normalize_isbn, normalize_issn
from .models import Resource

_M2M_FIELDS = ("purposes", "themes", "audiences")


def _formfield(model_field, **kwargs):
    if isinstance(model_field, models.URLField):
        kwargs["assume_scheme"] = "https"  # “www.onisep.fr” means https://, as in Django 6
    if isinstance(model_field, models.ManyToManyField):
        kwargs["form_class"] = IdMultipleChoiceField
    return model_field.formfield(**kwargs)


class PriceField(forms.DecimalField):
    """Euros as people type them: “12,50”, “12.50 €”."""

    widget = forms.TextInput(attrs={"inputmode": "decimal"})

    def to_python(self, value):
        if value in self.empty_values or not str(value).strip():
            return None
        try:
            return spreadsheets.parse_price(str(value))
        except ValueError as error:
            raise ValidationError(
                _("Enter a price in euros, such as 12.50."), code="invalid"
            ) from error

    def validate(self, value):
        forms.Field.validate(self, value)


def _label(name: str) -> str:
    return capfirst(Resource._meta.get_field(name).verbose_name)


class ResourceForm(forms.ModelForm):
    """A resource and, on the same page, where this officer's site keeps it."""

    # Wider than the stored forms, so that “978-2-07-036822-8” or “ISSN 0395-2037” can be typed.
    isbn = forms.CharField(
        label=_label("isbn"),
        max_length=30,
        required=False,
        help_text=gettext_lazy("10 or 13 digits, hyphens allowed; stored as ISBN-13."),
    )
    issn = forms.CharField(label=_label("issn"), max_length=20, required=False)
    price = PriceField(label=_label("price"), required=False)
    year = forms.IntegerField(label=_label("year"), min_value=1000, max_value=2100, required=False)
    shelf_mark = forms.CharField(label=gettext_lazy("Shelf mark"), max_length=60, required=False)
    copies = forms.IntegerField(
        label=gettext_lazy("Copies"),
        min_value=0,
        max_value=999,
        initial=1,
        help_text=gettext_lazy(
            "0 if this site does not keep it (an online resource, for example)."
        ),
    )

    class Meta:
        model = Resource
        formfield_callback = _formfield
        fields = [
            "title",
            "kind",
            "purposes",
            "themes",
            "audiences",
            "authors",
            "publisher",
            "year",
            "language",
            "isbn",
            "issn",
            "price",
            "url",
            "summary",
            "keywords",
            "opinion",
        ]
        widgets = {
            "purposes": forms.CheckboxSelectMultiple,
            "themes": forms.CheckboxSelectMultiple,
            "audiences": forms.CheckboxSelectMultiple,
            "summary": forms.Textarea(attrs={"rows": 5}),
            "opinion": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {"keywords": gettext_lazy("Separated by commas.")}

    def __init__(self, *args, site: Site, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.site = site
        # Themes are how each site routes its visitors: an officer chooses among their own.
        self.fields["themes"].queryset = Theme.objects.filter(site=site, active=True)
        self.fields["kind"].choices = [(v, capfirst(label)) for v, label in Resource.Kind.choices]
        self.fields["themes"].help_text = _("Themes of %(site)s.") % {"site": site.name}
        if self.instance.pk:
            holding = self.instance.holdings.filter(site=site).first()
            self.initial["shelf_mark"] = holding.shelf_mark if holding else ""
            self.initial["copies"] = holding.copies if holding else 0

    def clean_isbn(self) -> str | None:
        return self._identifier("isbn", normalize_isbn, _("ISBN"))

    def clean_issn(self) -> str | None:
        return self._identifier("issn", normalize_issn, _("ISSN"))

    def _identifier(self, name: str, normalize, label: str) -> str | None:
        value = (self.cleaned_data.get(name) or "").strip()
        if not value:
            return None
        value = normalize(value)
        existing = (
            Resource.objects.filter(**{name: value})
            .exclude(pk=self.instance.pk)
            .only("title", "withdrawn")
            .first()
        )
        if existing is not None:
            record = format_html(
                '<a href="{}">{}</a>', reverse("resources_staff:edit", args=[existing.pk]), existing
            )
            message = (
                _(
                    "This {label} is already in the catalogue: {record} (withdrawn). "
                    "Restore it instead."
                )
                if existing.withdrawn
                else _(
                    "This {label} is already in the catalogue: {record}. Edit that record instead."
                )
            )
            raise ValidationError(format_html(message, label=label, record=record))
        return value

    def clean_summary(self) -> str:
        return self.cleaned_data["summary"].replace("\r\n", "\n")

    def clean_opinion(self) -> str:
        return self.cleaned_data["opinion"].replace("\r\n", "\n")

    def service_arguments(self) -> dict[str, Any]:
        """What services.save_resource needs, from the cleaned form."""
        data = self.cleaned_data
        return {
            "values": {name: data[name] for name in self.Meta.fields if name not in _M2M_FIELDS},
            "purposes": data["purposes"],
            "audiences": data["audiences"],
            "themes": data["themes"],
            "shelf_mark": data["shelf_mark"],
            "copies": data["copies"],
        }


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet"),
        help_text=spreadsheets.UPLOAD_HELP,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
    holdings = forms.BooleanField(
        label=gettext_lazy(
            "Set this site's shelf marks and copies from the “cote” and “exemplaires” columns"
        ),
        help_text=gettext_lazy("Untick it for a file that describes another centre's shelves."),
        required=False,
        initial=True,
    )

    content: bytes = b""
    fmt: str = ""
    rows: int = 0

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_BYTES
        # Checked before reading: a huge upload is refused without loading it in memory.
        if upload.size > limit:
            raise ValidationError(
                _("This file is %(size)s; the largest file accepted is %(limit)s. Split it in two.")
                % {
                    "size": spreadsheets.human_size(upload.size),
                    "limit": spreadsheets.human_size(limit),
                }
            )
        content = upload.read()
        try:
            fmt = spreadsheets.detect_format(content)
            rows = spreadsheets.estimate_rows(content, fmt)
            # Quick for a CSV or a small workbook: it opens, names its columns, has a row. A
            # large workbook is opened by the check, in a worker.
            if fmt == "csv" or rows <= settings.IMPORT_WORKER_ROWS:
                spreadsheets.check_file(content, fmt)
        except spreadsheets.SpreadsheetError as error:
            raise ValidationError(str(error)) from error
        self.content, self.fmt, self.rows = content, fmt, rows
        return upload
