"""Reading the ids people and scripts send: in URLs (the `id` path converter) and in forms and
query strings (`parse_id`). Only ASCII digits, and never more than a database integer holds,
so `²`, `١٢`, `１２` or a 30-digit number is "no such id" (a 404 or a refusal), never a server
error."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

# 18 digits: below 2⁶³, the largest id PostgreSQL and SQLite store.
ID_PATTERN = "[0-9]{1,18}"
_MAX_DIGITS = 18


def parse_id(value) -> int | None:
    """The positive id written in `value` (a string or an int), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 10**_MAX_DIGITS else None
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not (0 < len(value) <= _MAX_DIGITS and value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number or None


class IdConverter:
    """`<id:name>` in a URL pattern: like `<int:…>`, but bounded (see the module)."""

    regex = ID_PATTERN

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


class IdField(forms.Field):
    """A form field for an id (see `parse_id`): Django's IntegerField would take `１２` and
    numbers no database holds."""

    widget = forms.HiddenInput
    default_error_messages = {"invalid": _("This is not a valid choice.")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        number = parse_id(value)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class IdListField(forms.Field):
    """Several ids (see `parse_id`), as checkboxes post them, each once; which records they name
    is for the caller to check."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("This is not a valid choice.")}

    def to_python(self, value):
        if value in self.empty_values:
            return []
        if not isinstance(value, list | tuple):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        numbers = [parse_id(item) for item in value]
        if None in numbers:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return list(dict.fromkeys(numbers))


class IdChoiceField(forms.ModelChoiceField):
    """A menu of records whose value is read with `parse_id`: “١” or a 30-digit number is not a
    valid choice, where Django would read record 1 or fail in the database."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if parse_id(value) is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(str(parse_id(value)))


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Checkboxes of records whose values are read with `parse_id` (see IdChoiceField)."""

    def _check_values(self, value):
        ids = []
        for pk in value:
            parsed = parse_id(pk)
            if parsed is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
            ids.append(str(parsed))
        return super()._check_values(ids)


class YearConverter:
    """`<year:…>`: four ASCII digits, so a 30-digit year is no such page (a 404), never an
    OverflowError in the view."""

    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return f"{int(value):04d}"


class MonthConverter:
    """`<month:…>`: one or two ASCII digits (the view refuses 0 and 13–99 with a 404)."""

    regex = "[0-9]{1,2}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))
