"""The label's yearly self-assessment report: one section per structuring principle of the
charter, each figure of the year beside the year before, each saying what it counts — written for
a labelling committee. Read from the daily figures, except the contact erasures, read from the
registrations' and appointments' own records (which outlive the raw visits, without contact)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from appointments.models import Appointment
from citedesmetiers.models import Cite, Site, Theme
from citedesmetiers.pdf import render
from events.models import Event
from resources import stats as resources_stats

from .feedback import feedback_section
from .models import report_place_key
from .reports import (
    Month,
    audiences_section,
    covered_sites,
    honesty_section,
    key_figures,
    names_of,
    presence_section,
)
from .stats import Figures, read, suppress

# The nightly job erases contacts: a day after their date is still on time.
ERASURE_GRACE = dt.timedelta(days=1)


@dataclass(frozen=True)
class Row:
    """One figure of the year, the year before's, and what it counts."""

    label: str
    now: object
    before: object
    counts: str


@dataclass
class Section:
    title: str
    principle: str  # the charter's words for it
    rows: list[Row]
    tables: list[dict] = field(default_factory=list)  # {"title", "head", "rows"}
    # Templates the section shows after its figures, each with the one variable it reads.
    includes: list[tuple[str, str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class Year:
    sites: list[Site]
    year: int
    now: Figures
    before: Figures

    def bounds(self, year: int) -> tuple[dt.date, dt.date]:
        return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} %" if whole else "—"


def _both(y: Year, compute) -> tuple:
    return compute(y.now, y.year), compute(y.before, y.year - 1)


def build(site: Site | None, year: int, *, cite: Cite | None = None) -> dict:
    sites = covered_sites(site, cite)
    y = Year(
        sites,
        year,
        read(sites, dt.date(year, 1, 1), dt.date(year + 1, 1, 1)),
        read(sites, dt.date(year - 1, 1, 1), dt.date(year, 1, 1)),
    )
    theme_names = names_of(Theme, y.now.by("visits", "theme"))
    return {
        "site": site,
        "cite": cite,
        "sites": sites,
        "year": year,
        "sections": [
            _anonymity(y),
            _free(y),
            _audiences(y),
            _plurality(y),
            _counselling_and_resources(y),
            _events(y),
            _quality(y, theme_names),
            _presence(y),
        ],
        "generated": timezone.now(),
    }


def _erasures(y: Year, year: int) -> dict[str, tuple[int, int, int]]:
    """For registrations (by event) and appointments whose contacts fell due for erasure in
    `year`: (due, erased on time, still held)."""
    start, end = (timezone.make_aware(dt.datetime.combine(d, dt.time.min)) for d in y.bounds(year))
    now = timezone.now()
    event_days = dt.timedelta(days=settings.EVENT_CONTACT_RETENTION_DAYS)
    events = Event.objects.filter(site__in=y.sites, registrations__isnull=False).distinct()
    events = events.annotate(due=F("ends_at") + event_days).filter(due__gte=start, due__lt=end)
    appointment_days = dt.timedelta(days=settings.APPOINTMENT_CONTACT_RETENTION_DAYS)
    appointments = Appointment.objects.filter(site__in=y.sites).annotate(
        due=F("ends") + appointment_days
    )
    appointments = appointments.filter(due__gte=start, due__lt=end)
    out = {}
    for name, rows, erased in (
        ("events", events, "contacts_purged_at"),
        ("appointments", appointments, "contact_erased_at"),
    ):
        due = rows.filter(due__lte=now)
        on_time = due.filter(**{f"{erased}__lte": F("due") + ERASURE_GRACE}).count()
        held = due.filter(Q(**{f"{erased}__isnull": True})).count()
        out[name] = (due.count(), on_time, held)
    return out


def _anonymity(y: Year) -> Section:
    now, before = _erasures(y, y.year), _erasures(y, y.year - 1)

    def on_time(e, name):
        due, done, _held = e[name]
        return f"{done} / {due}" if due else "—"

    return Section(
        _("Anonymity"),
        _(
            "Reception and counselling never ask for a name; contact data lives only where "
            "the visitor gave it for a purpose, and is erased."
        ),
        [
            Row(
                _("Visitor identities stored for walk-ins and interviews"),
                _("none"),
                _("none"),
                _(
                    "Reception and counselling have no field for a name, an e-mail address, a "
                    "phone number or an identity number: a visit is a ticket code."
                ),
            ),
            Row(
                _("Events whose registrants' contacts were erased on time"),
                on_time(now, "events"),
                on_time(before, "events"),
                _(
                    "Events whose contact erasure fell due in the year (%(days)s days after the "
                    "event), erased by the next day."
                )
                % {"days": settings.EVENT_CONTACT_RETENTION_DAYS},
            ),
            Row(
                _("Appointments whose contact was erased on time"),
                on_time(now, "appointments"),
                on_time(before, "appointments"),
                _(
                    "Appointments whose contact erasure fell due in the year (%(days)s days after "
                    "the slot), erased by the next day."
                )
                % {"days": settings.APPOINTMENT_CONTACT_RETENTION_DAYS},
            ),
            Row(
                _("Contacts still held past their date"),
                now["events"][2] + now["appointments"][2],
                before["events"][2] + before["appointments"][2],
                _(
                    "Events and appointments due for erasure in the year whose contact is still "
                    "stored today: it should be none."
                ),
            ),
            Row(
                _("Days raw visit records are kept"),
                settings.RAW_RETENTION_DAYS,
                "—",
                _("After this, visits are erased and only anonymous daily totals remain."),
            ),
        ],
    )


def _walk_ins(f: Figures) -> tuple[int, int]:
    """(visits, of which by appointment): an appointment that came made its visit."""
    by_appointment = f.by("appointments", "status")["attended"]
    return f.total("visits"), by_appointment


def _free(y: Year) -> Section:
    now, before = key_figures(y.now), key_figures(y.before)
    (visits, booked), (visits_before, booked_before) = _walk_ins(y.now), _walk_ins(y.before)
    return Section(
        _("Free and without appointment"),
        _(
            "Anyone walks in, free of charge, without an appointment; appointments come only "
            "from desk hours planned for them."
        ),
        [
            Row(
                _("Visits"),
                visits,
                visits_before,
                _("Tickets taken at reception, in person or remotely."),
            ),
            Row(
                _("Visits without an appointment"),
                _share(visits - booked, visits),
                _share(visits_before - booked_before, visits_before),
                _("Visits that were not an appointment, out of all visits."),
            ),
            Row(
                _("Appointments held"),
                booked,
                booked_before,
                _("Appointments the visitor came to, in the hours planned for appointments."),
            ),
            Row(
                _("Median wait (min)"),
                now["median_wait"],
                before["median_wait"],
                _("Half of the walk-ins were called within this many minutes."),
            ),
            Row(
                _("90th percentile wait (min)"),
                now["p90_wait"],
                before["p90_wait"],
                _("Nine walk-ins in ten were called within this many minutes."),
            ),
            Row(
                _("Left before being called"),
                now["walk_outs"],
                before["walk_outs"],
                _("Walk-ins who left the queue, or were still waiting at closing time."),
            ),
        ],
    )


def _audiences(y: Year) -> Section:
    m = Month(y.sites, *y.bounds(y.year), y.now)
    languages = dict(settings.LANGUAGES) | {"-": _("the site's language")}
    spoken = Counter()
    for v, n in y.now.by("visit_language", "v").items():
        spoken[str(languages.get(v, v))] += n
    tables = [{"title": title, "rows": rows} for title, rows in audiences_section(m).items()]
    if spoken:
        shown = suppress(spoken)
        rows = [(name, shown[name]) for name in sorted(spoken, key=lambda name: -spoken[name])]
        tables.append({"title": _("Language chosen for the visit"), "rows": rows})
    return Section(
        _("All audiences"),
        _(
            "The Cité is open to everyone, whatever their status, age or level of education, "
            "in their own language."
        ),
        [
            Row(
                _("Profile questions answered: age · situation · where they live"),
                _answered(y.now),
                _answered(y.before),
                _(
                    "The share of visitors who answered each optional question (the others "
                    "preferred not to say)."
                ),
            ),
        ],
        tables=tables,
    )


def _answered(f: Figures) -> str:
    shares = []
    for metric in ("profile_age", "profile_situation", "profile_area"):
        total = f.total(metric)
        shares.append(_share(total - f.by(metric, "v").get("-", 0), total))
    return " · ".join(shares)


def _plurality(y: Year) -> Section:
    def met(f: Figures) -> tuple[int, int]:
        by_n = f.by("visit_partners", "n")
        return by_n.get("2", 0) + by_n.get("3", 0), sum(by_n.values())

    (several, seen), (several_before, seen_before) = met(y.now), met(y.before)
    return Section(
        _("Plurality of points of view"),
        _(
            "Counsellors of several partner institutions work side by side, and refer visitors "
            "to one another."
        ),
        [
            Row(
                _("Visitors who met two or more partner institutions"),
                f"{several} ({_share(several, seen)})",
                f"{several_before} ({_share(several_before, seen_before)})",
                _(
                    "Visitors seen at a desk on a day whose interviews were with counsellors of "
                    "two institutions or more, and their share of the visitors seen."
                ),
            ),
            Row(
                _("Referrals between desks"),
                y.now.total("referrals"),
                y.before.total("referrals"),
                _("Visitors sent by one desk to another theme's desk, keeping their place."),
            ),
            Row(
                _("Referrals to partners outside"),
                y.now.total("referrals_out"),
                y.before.total("referrals_out"),
                _("Visitors referred to an institution outside the Cité."),
            ),
            Row(
                _("Partner institutions that held interviews"),
                len(y.now.by("interviews", "partner")),
                len(y.before.by("interviews", "partner")),
                _("Institutions with at least one interview in the year."),
            ),
        ],
    )


def _counselling_and_resources(y: Year) -> Section:
    now, before = key_figures(y.now), key_figures(y.before)
    usage = resources_stats.usage(*y.bounds(y.year))
    usage_before = resources_stats.usage(*y.bounds(y.year - 1))
    lists, lists_before = y.now.by("take_away", "what"), y.before.by("take_away", "what")
    return Section(
        _("Counselling and resources"),
        _(
            "Counselling and self-service documentation go together: counsellors hand "
            "visitors a take-away list of resources and events."
        ),
        [
            Row(
                _("Interviews"),
                now["interviews"],
                before["interviews"],
                _("Conversations at a desk, in person or remote."),
            ),
            Row(
                _("Average interview (min)"),
                now["interview_minutes"],
                before["interview_minutes"],
                _("From the start of an interview to its end."),
            ),
            Row(
                _("Take-away lists handed over"),
                lists.get("lists", 0),
                lists_before.get("lists", 0),
                _("Visitors given a list of resources or events by a counsellor."),
            ),
            Row(
                _("Resources on those lists"),
                lists.get("resources", 0),
                lists_before.get("resources", 0),
                _("Documents, websites and other resources put on a take-away list."),
            ),
            Row(
                _("Events suggested on those lists"),
                lists.get("events", 0),
                lists_before.get("events", 0),
                _("Workshops and information days suggested."),
            ),
            Row(
                _("Catalogue pages read"),
                usage["views"],
                usage_before["views"],
                _("Resource pages opened in the catalogue, at the kiosk or online."),
            ),
            Row(
                _("Catalogue searches"),
                usage["searches"],
                usage_before["searches"],
                _("Searches made in the catalogue."),
            ),
        ],
    )


def _events(y: Year) -> Section:
    now, before = key_figures(y.now), key_figures(y.before)
    return Section(
        _("Events"),
        _("Workshops, information days and clubs, free and open."),
        [
            Row(
                _("Events held"),
                now["events"],
                before["events"],
                _("Events that took place, each session counted."),
            ),
            Row(
                _("Registrations"),
                now["event_registered"],
                before["event_registered"],
                _("Places booked for those events."),
            ),
            Row(
                _("Attended"),
                now["event_attended"],
                before["event_attended"],
                _("Registrants ticked as present at the door."),
            ),
            Row(
                _("No-show rate (%)"),
                now["no_show_rate"],
                before["no_show_rate"],
                _("Registrants who did not come, out of those ticked either way."),
            ),
        ],
    )


def _quality(y: Year, theme_names: dict[str, str]) -> Section:
    def honesty(f: Figures):
        return f.estimate_honesty().get("")

    h, h_before = honesty(y.now), honesty(y.before)
    feedback, before = feedback_section(y.now, theme_names), feedback_section(y.before, {})

    def said(f, question: str, choice: str) -> str:
        percent = f.percent(question, choice) if f.shown else None
        return "—" if percent is None else f"{percent} %"

    return Section(
        _("Quality"),
        _("Visitors are told an honest estimate of their wait, and say what they thought."),
        [
            Row(
                _("Visitors' answers (three-tap feedback)"),
                feedback.answers,
                before.answers,
                _(
                    "Answers given on the phone after a visit or at the exit kiosk: closed "
                    "questions only, no free text, nothing that names anyone."
                ),
            ),
            Row(
                _("Got what they came for"),
                said(feedback, "got_what", "yes"),
                said(before, "got_what", "yes"),
                _("Share of “yes” among those who answered the question (from 5 answers)."),
            ),
            Row(
                _("Found the wait fine"),
                said(feedback, "wait", "fine"),
                said(before, "wait", "fine"),
                _("Share of “fine” among those who answered the question (from 5 answers)."),
            ),
            Row(
                _("Would recommend the Cité"),
                said(feedback, "recommend", "yes"),
                said(before, "recommend", "yes"),
                _("Share of “yes” among those who answered the question (from 5 answers)."),
            ),
            Row(
                _("Quoted waits that came true within 10 minutes"),
                f"{h.within} %" if h else "—",
                f"{h_before.within} %" if h_before else "—",
                _(
                    "Visitors quoted a wait at check-in and then called, called within 10 "
                    "minutes of the quote either way."
                ),
            ),
            Row(
                _("Typical error of a quoted wait (min)"),
                h.median_miss if h else "—",
                h_before.median_miss if h_before else "—",
                _("The median gap between the wait quoted and the wait that came."),
            ),
        ],
        includes=[
            ("figures/_feedback.html", "f", feedback),
            ("figures/_estimate_honesty.html", "h", honesty_section(y.now, theme_names)),
        ],
    )


def _presence(y: Year) -> Section:
    def hours(f: Figures, part: str | None) -> float:
        if part is None:
            return round(f.total("planned_seconds") / 3600)
        seconds = f.totals["desk_seconds"]
        return round(
            sum(n for k, n in seconds.items() if part == "open" or f"part={part}" in k) / 3600
        )

    return Section(
        _("The partners' presence"),
        _("Partner institutions delegate counsellors to the desks, as the presence plan says."),
        [
            Row(
                _("Desk hours planned"),
                hours(y.now, None),
                hours(y.before, None),
                _("The presence plan's desk hours, exceptions applied."),
            ),
            Row(
                _("Desk hours open"),
                hours(y.now, "open"),
                hours(y.before, "open"),
                _("From opening a desk to closing it."),
            ),
            Row(
                _("Desk hours with a visitor"),
                hours(y.now, "serving"),
                hours(y.before, "serving"),
                _("From a call to the end of the interview, or to a no-show."),
            ),
        ],
        includes=[("figures/_presence.html", "p", presence_section(y.now))],
    )


def render_pdf(site: Site | None, year: int, progress=None, *, cite: Cite | None = None) -> bytes:
    """The yearly report as PDF bytes, in the language and time zone of its site (a Cité's:
    of its first site)."""
    first = (
        site if site is not None or cite is None else next(iter(covered_sites(None, cite)), None)
    )
    with (
        translation.override(first.language if first else "fr"),
        timezone.override(first.zone if first else None),
    ):
        context = build(site, year, cite=cite)
        if progress:
            progress(40)
        html = render_to_string("figures/yearly_report.html", context)
    if progress:
        progress(60)
    pdf = render(html, what=f"yearly report {report_place_key(site, cite)} {year}")
    if progress:
        progress(95)
    return pdf
