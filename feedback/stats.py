"""Feedback's anonymous daily facts, for the daily figures (`figures.stats` rolls them in):

- `feedback_answers` (source, theme): answers given;
- `feedback` (source, theme, q, a): how many answered question `q` with `a`;
- `feedback_helped` (source, theme, code): "what would have helped" codes ticked;
- `feedback_partner_answers` (partner, theme) and `feedback_partner` (partner, theme, q, a):
  the same per partner institution of the visit's interviews (an answer counts for each).

Theme 0 is an answer without a theme (the kiosk's). No key names a visit or a counsellor."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from citedesmetiers.facts import Fact, facts_from, key
from citedesmetiers.models import Site

from .models import QUESTIONS, FeedbackAnswer, FeedbackClaim, FeedbackHelp


def daily_facts(site: Site, day: dt.date) -> list[Fact]:
    answers = FeedbackAnswer.objects.filter(site=site, day=day)
    partners: dict[object, list[int]] = {}
    for answer_id, partner_id in FeedbackAnswer.partners.through.objects.filter(
        feedbackanswer__in=answers
    ).values_list("feedbackanswer_id", "partner_id"):
        partners.setdefault(answer_id, []).append(partner_id)
    counts, choices, by_partner, partner_choices = (Counter() for _ in range(4))
    themes = {}
    fields = [name for name, _choices in QUESTIONS]
    for row in answers.values_list("pk", "source", "theme_id", *fields, named=True):
        theme = row.theme_id or 0
        themes[row.pk] = (row.source, theme)
        counts[key(source=row.source, theme=theme)] += 1
        for partner in partners.get(row.pk, []):
            by_partner[key(partner=partner, theme=theme)] += 1
        for name in fields:
            choice = getattr(row, name)
            if not choice:
                continue
            choices[key(source=row.source, theme=theme, q=name, a=choice)] += 1
            for partner in partners.get(row.pk, []):
                partner_choices[key(partner=partner, theme=theme, q=name, a=choice)] += 1
    helped = Counter()
    for answer_id, code in FeedbackHelp.objects.filter(answer__in=answers).values_list(
        "answer_id", "code"
    ):
        source, theme = themes[answer_id]
        helped[key(source=source, theme=theme, code=code)] += 1
    return (
        facts_from("feedback_answers", counts)
        + facts_from("feedback", choices)
        + facts_from("feedback_helped", helped)
        + facts_from("feedback_partner_answers", by_partner)
        + facts_from("feedback_partner", partner_choices)
    )


def raw_days(site: Site, before: dt.date) -> set[dt.date]:
    """The days before `before` that still have raw answers (to aggregate before a purge)."""
    return set(
        FeedbackAnswer.objects.filter(site=site, day__lt=before)
        .values_list("day", flat=True)
        .distinct()
    )


def purge_raw(site: Site, before: dt.date) -> int:
    """Delete raw answers (with their codes and partners) and the visits' claims of days before
    `before`; the caller checks those days are aggregated. The claims go too: the visits they
    stand for are purged by then, and their links with them."""
    _total, deleted = FeedbackAnswer.objects.filter(site=site, day__lt=before).delete()
    FeedbackClaim.objects.filter(site=site, day__lt=before).delete()
    return deleted.get(FeedbackAnswer._meta.label, 0)
