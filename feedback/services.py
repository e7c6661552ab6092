"""The writes of three-tap feedback: a visitor's answer about their visit, and an answer given
at the exit kiosk. Each refuses with a `FeedbackRefused` whose text the page shows as it is."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from citedesmetiers.models import Site
from citedesmetiers.refusals import Refusal
from counselling.models import Interview
from reception.models import Visit

from .models import FeedbackAnswer, FeedbackClaim, FeedbackHelp, Helped, Source

# How long after the end of a visit its visitor may still answer.
ANSWER_WINDOW = dt.timedelta(hours=24)


class FeedbackRefused(Refusal):
    pass


class NotOverYet(FeedbackRefused):
    pass


class TooLate(FeedbackRefused):
    pass


class AlreadyAnswered(FeedbackRefused):
    pass


@dataclass(frozen=True)
class Answers:
    """What a visitor tapped: each question's code, or "" when left out, and the helped codes."""

    got_what: str = ""
    wait: str = ""
    recommend: str = ""
    helped: tuple[str, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not (self.got_what or self.wait or self.recommend or self.helped)


def visit_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def visit_end(visit: Visit) -> dt.datetime | None:
    """When the visit was over, for its feedback: served, gone, or missed at a desk for good
    (a ticket that may still be put back in the queue is not over). None while it goes on."""
    if visit.is_open or visit.may_come_back():
        return None
    return visit.ended_at or visit.no_show_at


def state_of(visit: Visit, now: dt.datetime | None = None) -> str:
    """What the visitor's feedback page shows: "not_yet", "open", "answered" or "too_late"."""
    now = now or timezone.now()
    end = visit_end(visit)
    if end is None:
        return "not_yet"
    if FeedbackClaim.objects.filter(visit_digest=visit_digest(visit.token)).exists():
        return "answered"
    return "open" if now - end <= ANSWER_WINDOW else "too_late"


def answer_visit(*, token: str, answers: Answers, now: dt.datetime | None = None) -> None:
    """Record a visitor's answers about their visit: once per visit token, from its end to
    ANSWER_WINDOW after. Keyed to the visit's site, day and theme at arrival and the partners of
    its interviews. Two tabs (or a double tap) at once: the claim's unique digest lets one in,
    the other is told the answer is already recorded."""
    now = now or timezone.now()
    with transaction.atomic():
        visit = Visit.objects.get(token=token)
        end = visit_end(visit)
        if end is None:
            raise NotOverYet(_("You can answer once your visit is over."))
        if now - end > ANSWER_WINDOW:
            raise TooLate(_("These questions could be answered for 24 hours after the visit."))
        try:
            with transaction.atomic():
                FeedbackClaim.objects.create(
                    visit_digest=visit_digest(token), site_id=visit.site_id, day=visit.local_date
                )
        except IntegrityError:
            raise AlreadyAnswered(
                _("Your answer was already recorded for this visit. Thank you!")
            ) from None
        partners = set(
            Interview.objects.filter(visit=visit, partner__isnull=False).values_list(
                "partner_id", flat=True
            )
        )
        _store(
            site_id=visit.site_id,
            day=visit.local_date,
            source=Source.PHONE,
            theme_id=visit.first_theme_id,
            partner_ids=partners,
            answers=answers,
        )


def answer_at_kiosk(*, site: Site, answers: Answers, now: dt.datetime | None = None) -> None:
    """Record an answer given at the site's exit kiosk: it knows no visit, so it is keyed to the
    site and the day only (the caller limits how many a terminal sends)."""
    with transaction.atomic():
        _store(
            site_id=site.pk,
            day=site.local_date(now or timezone.now()),
            source=Source.KIOSK,
            theme_id=None,
            partner_ids=set(),
            answers=answers,
        )


def _store(*, site_id, day, source, theme_id, partner_ids, answers: Answers) -> None:
    answer = FeedbackAnswer.objects.create(
        site_id=site_id,
        day=day,
        source=source,
        theme_id=theme_id,
        got_what=answers.got_what,
        wait=answers.wait,
        recommend=answers.recommend,
    )
    if partner_ids:
        answer.partners.set(sorted(partner_ids))
    codes = [code for code in Helped.values if code in answers.helped]
    FeedbackHelp.objects.bulk_create([FeedbackHelp(answer=answer, code=code) for code in codes])
