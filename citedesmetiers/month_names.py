"""The month names of dates (`|date:"j F"`) as each language writes them inside a sentence.

Django's own Italian and Portuguese catalogues capitalise them ("9 Dicembre", "9 Dezembro"),
which reads wrong on the display and in the e-mails. Our catalogues are read before Django's
(LOCALE_PATHS), so the same msgids translated here win. Nothing imports this module: it only
puts the msgids in front of `makemessages`."""

from django.utils.translation import gettext_noop

MONTHS = [
    gettext_noop("January"),
    gettext_noop("February"),
    gettext_noop("March"),
    gettext_noop("April"),
    gettext_noop("May"),
    gettext_noop("June"),
    gettext_noop("July"),
    gettext_noop("August"),
    gettext_noop("September"),
    gettext_noop("October"),
    gettext_noop("November"),
    gettext_noop("December"),
]
