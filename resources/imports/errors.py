"""What an import refuses (shown to the officer as it is), and the two signals by which a step of
the write tells the run to stop."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from citedesmetiers.refusals import Refusal

from .. import spreadsheets


class ImportRefused(Refusal):
    """Nothing was imported; `plan` (when there is one) says row by row why."""

    def __init__(self, message: str, plan: spreadsheets.ImportPlan | None = None) -> None:
        super().__init__(message)
        self.plan = plan


class ImportGone(ImportRefused):
    """The job was forgotten meanwhile (a day old)."""


class Superseded(Exception):
    """This job was taken over (its worker was thought dead): stop, write nothing more."""


class Changed(Exception):
    """A record the plan updates is gone since the plan was made."""


def changed_message() -> str:
    return _("The catalogue changed during the import, so nothing was imported. Try again.")


def errors_message(n: int) -> str:
    return ngettext(
        "Nothing was imported: %(n)s row has errors.",
        "Nothing was imported: %(n)s rows have errors.",
        n,
    ) % {"n": n}
