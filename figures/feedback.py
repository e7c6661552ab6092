"""What visitors said (three-tap feedback), read from the daily figures for the dashboard, the
monthly report and the yearly report: `feedback_section(figures, theme_names)` is the one
selector they all call.

Every breakdown is suppressed as the profiles are (`stats.suppress`): a theme or a partner
institution with fewer than SMALL_CELL answers shows "< 5" and no shares, and when that would
let its figures be recomputed from the others, one more group is hidden too. The whole
section's shares need SMALL_CELL answers as well."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from citedesmetiers.facts import parse_key
from citedesmetiers.models import Partner, Theme
from feedback.models import QUESTIONS, FeedbackAnswer, Helped, Source

from .stats import SMALL_CELL, Figures, suppress


@dataclass(frozen=True)
class Share:
    code: str
    label: str
    count: int
    percent: int


@dataclass(frozen=True)
class Question:
    """One question's answers in a group: how many answered it, and the share of each choice."""

    code: str
    label: str
    answered: int
    shares: list[Share]

    def percent(self, code: str) -> int | None:
        return next((s.percent for s in self.shares if s.code == code), None)


@dataclass(frozen=True)
class Group:
    """A theme's or a partner's answers: `answers` as shown ("12", "< 5", "≤ 20"), and its
    questions only when its figures may be shown."""

    name: str
    answers: str
    questions: list[Question] | None


@dataclass(frozen=True)
class FeedbackSection:
    answers: int  # answers given in the period, phone and kiosk
    questions: list[Question] | None  # None under SMALL_CELL answers
    by_source: list[tuple[str, str]]
    by_theme: list[Group]
    by_partner: list[Group]
    helped: list[tuple[str, str]]  # (what would have helped, how many ticked it, suppressed)

    @property
    def shown(self) -> bool:
        return self.questions is not None

    @property
    def breakdowns(self) -> list[tuple[str, list[Group]]]:
        return [(_("By theme"), self.by_theme), (_("By partner institution"), self.by_partner)]

    @property
    def question_labels(self) -> list[tuple[str, str]]:
        labels = {f.name: capfirst(f.verbose_name) for f in FeedbackAnswer._meta.concrete_fields}
        return [(name, str(labels[name])) for name, _kind in QUESTIONS]

    def percent(self, question: str, choice: str) -> int | None:
        """The share (%) of those who answered `question` who chose `choice`, e.g. ("wait",
        "fine"); None when the section's figures are not shown."""
        for q in self.questions or []:
            if q.code == question:
                return q.percent(choice) or 0
        return None


def _questions(choices: Counter) -> list[Question]:
    """`choices` counts (question, choice) pairs."""
    labels = {f.name: capfirst(f.verbose_name) for f in FeedbackAnswer._meta.concrete_fields}
    questions = []
    for name, kind in QUESTIONS:
        answered = sum(choices[(name, code)] for code in kind.values)
        shares = (
            [
                Share(
                    code,
                    str(label),
                    choices[(name, code)],
                    round(100 * choices[(name, code)] / answered),
                )
                for code, label in kind.choices
            ]
            if answered
            else []
        )
        questions.append(Question(name, str(labels[name]), answered, shares))
    return questions


def _groups(answers: Counter, choices: dict[str, Counter], names: dict[str, str]) -> list[Group]:
    shown = suppress(dict(answers))
    groups = []
    for group_id, n in sorted(answers.items(), key=lambda item: (-item[1], item[0])):
        if not n:
            continue
        visible = shown[group_id].isdigit() and n >= SMALL_CELL
        groups.append(
            Group(
                names.get(group_id, "?"),
                shown[group_id],
                _questions(choices[group_id]) if visible else None,
            )
        )
    return groups


def feedback_section(figures: Figures, theme_names: dict[str, str]) -> FeedbackSection:
    """What visitors said in the period of `figures`: every answer, by where it was given, by
    theme (phone answers: the kiosk knows no theme), by partner institution, and what would
    have helped."""
    total, by_source, by_theme = 0, Counter(), Counter()
    for k, n in figures.totals["feedback_answers"].items():
        dims = parse_key(k)
        total += n
        by_source[dims["source"]] += n
        if dims["theme"] != "0":
            by_theme[dims["theme"]] += n
    overall, theme_choices = Counter(), defaultdict(Counter)
    for k, n in figures.totals["feedback"].items():
        dims = parse_key(k)
        overall[(dims["q"], dims["a"])] += n
        if dims["theme"] != "0":
            theme_choices[dims["theme"]][(dims["q"], dims["a"])] += n
    by_partner, partner_choices = Counter(), defaultdict(Counter)
    for k, n in figures.totals["feedback_partner_answers"].items():
        by_partner[parse_key(k)["partner"]] += n
    for k, n in figures.totals["feedback_partner"].items():
        dims = parse_key(k)
        partner_choices[dims["partner"]][(dims["q"], dims["a"])] += n
    helped = Counter()
    for k, n in figures.totals["feedback_helped"].items():
        helped[parse_key(k)["code"]] += n
    partner_names = {
        str(p.pk): p.name
        for p in Partner.objects.filter(pk__in=[int(i) for i in by_partner if i.isdigit()])
    }
    sources = dict(Source.choices)
    helped_labels = dict(Helped.choices)
    shown_sources = suppress({sources.get(s, s): n for s, n in by_source.items()})
    helped_counts = {str(helped_labels.get(c, c)): n for c, n in helped.items()}
    shown_helped = suppress(helped_counts)
    missing = [int(t) for t in by_theme if t not in theme_names and t.isdigit()]
    theme_names = theme_names | {str(t.pk): t.name for t in Theme.objects.filter(pk__in=missing)}
    return FeedbackSection(
        answers=total,
        questions=_questions(overall) if total >= SMALL_CELL else None,
        by_source=[(str(label), shown_sources[label]) for label in shown_sources],
        by_theme=_groups(by_theme, theme_choices, theme_names),
        by_partner=_groups(by_partner, partner_choices, partner_names),
        helped=sorted(shown_helped.items(), key=lambda item: -helped_counts[item[0]]),
    )
