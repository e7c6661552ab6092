"""The monthly activity report: figures of a month read from daily figures (never raw rows), with
charts, for the partners' committee and funders; and its PDF (WeasyPrint)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _

from citedesmetiers.facts import parse_key
from citedesmetiers.models import Cite, Partner, Site, Theme
from citedesmetiers.pdf import render
from counselling.models import Desk, Outcome, Topic
from events.models import Event
from reception.models import AgeBracket, Area, Channel, Situation
from resources import stats as resources_stats

from . import charts
from .feedback import feedback_section
from .models import report_place_key
from .stats import Figures, month_bounds, read, suppress, visits_by_weekday_hour

WAIT_BUCKETS = [(0, 10), (10, 20), (20, 30), (30, 45), (45, 60), (60, 10**6)]


def _shift(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def key_figures(f: Figures) -> dict:
    visits = f.total("visits")
    ends = f.by("visit_end", "how")
    interviews = f.total("interviews")
    timed = interviews - f.total("interviews_untimed")
    seconds = f.total("interview_seconds")
    walks = f.total("walks")
    registered = f.total("event_registered")
    attended = f.total("event_attended")
    no_show = f.total("event_no_show")
    return {
        "visits": visits,
        "interviews": interviews,
        "interview_minutes": round(seconds / timed / 60) if timed > 0 else None,
        # From the call to the start of the interview: one decimal, it is a matter of minutes.
        "walk_minutes": round(f.total("walk_seconds") / walks / 60, 1) if walks else None,
        "median_wait": f.wait_percentile(0.5),
        "p90_wait": f.wait_percentile(0.9),
        "walk_outs": ends["walked_out"] + ends["by_themselves"] + ends["closing"],
        "no_shows": ends["no_show"],
        "referrals": f.total("referrals"),
        "referrals_out": f.total("referrals_out"),
        "out_of_order": f.total("out_of_order"),
        "events": f.total("events"),
        "event_registered": registered,
        "event_attended": attended,
        "no_show_rate": round(100 * no_show / (attended + no_show)) if attended + no_show else None,
    }


def names_of(model, ids) -> dict[str, str]:
    return {
        str(pk): str(obj)
        for pk, obj in model.objects.in_bulk([int(i) for i in ids if str(i).isdigit()]).items()
    }


def covered_sites(site: Site | None, cite: Cite | None) -> list[Site]:
    """The sites a report covers: the site, the Cité's active sites, or every active site."""
    if site is not None:
        return [site]
    sites = Site.objects.filter(active=True)
    return list(sites.filter(cite=cite) if cite is not None else sites)


@dataclass(frozen=True)
class Month:
    """What every section of a report reads: its sites, its month [start, end), and the month's
    figures (read once for all the sections)."""

    sites: list[Site]
    start: dt.date
    end: dt.date
    current: Figures

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days)]


def build(site: Site | None, month: dt.date, *, cite: Cite | None = None) -> dict:
    """Everything the report (and the dashboard's month view) shows, for a site, a Cité or
    (neither) the network: one builder per section."""
    sites = covered_sites(site, cite)
    start, end = month_bounds(month)
    m = Month(sites, start, end, read(sites, start, end))
    theme_names = names_of(Theme, m.current.by("visits", "theme"))
    return {
        "site": site,
        "cite": cite,
        "sites": sites,
        "month": start,
        "figures": _key_figures_section(m),
        **_themes_section(m, theme_names),
        **_days_section(m),
        "heat_map": _heat_map_section(m),
        **_waits_section(m),
        "honesty": honesty_section(m.current, theme_names),
        "presence": presence_section(m.current),
        "feedback": feedback_section(m.current, theme_names),
        **_partners_section(m, theme_names),
        "flows": _flows_section(m),
        "referrals_out": sorted(m.current.by("referrals_out", "kind").items(), key=lambda r: -r[1]),
        "audiences": audiences_section(m),
        "events_by_kind": _events_section(m),
        "appointments": _appointments_section(m, theme_names),
        "documentation": resources_stats.usage(start, end),
        "by_site": _sites_section(m) if site is None else [],
        "topics": _topics_section(m),
        "generated": timezone.now(),
    }


def _key_figures_section(m: Month) -> dict:
    """The key figures against the month before and the same month last year."""
    return {
        "now": key_figures(m.current),
        "previous": key_figures(read(m.sites, *month_bounds(_shift(m.start, -1)))),
        "last_year": key_figures(read(m.sites, *month_bounds(_shift(m.start, -12)))),
    }


def _themes_section(m: Month, theme_names: dict[str, str]) -> dict:
    by_theme = Counter()
    for theme_id, n in m.current.by("visits", "theme").items():
        by_theme[theme_names.get(theme_id, _("other"))] += n
    rows = sorted(by_theme.items(), key=lambda item: -item[1])
    return {"theme_rows": rows, "theme_chart": charts.bar_chart(rows, _("Visits by theme"))}


def _days_section(m: Month) -> dict:
    rows = [(f"{d.day}", m.current.by_day["visits"].get(d, 0)) for d in m.days]
    return {"day_rows": rows, "day_chart": charts.column_chart(rows, _("Visits by day"))}


def _heat_map_section(m: Month) -> str:
    # Weekday × hour needs each row's day: one more query over the month's visit figures.
    heat = visits_by_weekday_hour(m.sites, m.start, m.end)
    hours = {hour for _day, hour in heat}
    return charts.heat_map(
        heat,
        [str(WEEKDAYS_ABBR[i]) for i in range(7)],
        list(range(min(hours, default=9), max(hours, default=17) + 1)),
        _("Visits by weekday and hour"),
    )


def _waits_section(m: Month) -> dict:
    waits = Counter()
    for k, n in m.current.totals["wait_minutes"].items():
        minutes = int(parse_key(k)["m"])
        for low, high in WAIT_BUCKETS:
            if low <= minutes < high:
                waits[(low, high)] += n
    rows = [
        (f"{low}–{high} min" if high < 10**6 else f"≥ {low} min", waits[(low, high)])
        for low, high in WAIT_BUCKETS
    ]
    return {
        "wait_rows": rows,
        "wait_chart": charts.bar_chart(rows, _("Waiting time before the call")),
    }


def honesty_section(figures: Figures, theme_names: dict[str, str]) -> dict:
    """How the waits quoted at check-in came true: overall, by theme and by hour of arrival."""
    by_theme = figures.estimate_honesty("theme")
    by_hour = figures.estimate_honesty("hour")
    return {
        "overall": figures.estimate_honesty().get(""),
        "by_theme": sorted(
            ((theme_names.get(t, "?"), h) for t, h in by_theme.items()), key=lambda r: -r[1].quoted
        ),
        "by_hour": [(f"{int(hour):02d}:00", by_hour[hour]) for hour in sorted(by_hour, key=int)],
    }


DESK_PARTS = ("serving", "paused", "idle_empty", "idle_waiting")


def _hours(seconds: int) -> float:
    return round(seconds / 3600, 1)


def presence_section(figures: Figures, partner_names: dict[str, str] | None = None) -> dict:
    """The partners' presence: per partner, the hours the plan gave them, the hours their
    counsellors' desks were open and the hours spent with a visitor; per desk, where its open
    hours went (serving, paused, idle with nobody waiting, idle while visitors waited)."""
    by_partner: dict[str, Counter] = defaultdict(Counter)
    by_desk: dict[str, Counter] = defaultdict(Counter)
    for k, n in figures.totals["planned_seconds"].items():
        by_partner[parse_key(k)["partner"]]["planned"] += n
    for k, n in figures.totals["desk_seconds"].items():
        dims = parse_key(k)
        for row in (by_partner[dims["partner"]], by_desk[dims["desk"]]):
            row["open"] += n
            row[dims["part"]] += n
    if partner_names is None:
        partner_names = names_of(Partner, by_partner)
    desk_names = names_of(Desk, by_desk)
    partners = [
        {
            "name": partner_names.get(p, _("no partner recorded")),
            "planned": _hours(row["planned"]),
            "open": _hours(row["open"]),
            "serving": _hours(row["serving"]),
            "idle_waiting": _hours(row["idle_waiting"]),
            # Open against planned: a sitting outside the plan can take it past 100 %.
            "presence": round(100 * row["open"] / row["planned"]) if row["planned"] else None,
        }
        for p, row in sorted(by_partner.items(), key=lambda item: -item[1]["planned"])
    ]
    desks = [
        {
            "name": desk_names.get(d, "?"),
            "open": _hours(row["open"]),
            **{part: _hours(row[part]) for part in DESK_PARTS},
            "serving_share": round(100 * row["serving"] / row["open"]) if row["open"] else None,
        }
        for d, row in sorted(by_desk.items(), key=lambda item: desk_names.get(item[0], "?"))
    ]
    return {"partners": partners, "desks": desks}


def _partners_section(m: Month, theme_names: dict[str, str]) -> dict:
    """One page per partner institution: its interviews, hours, themes, desks and outcomes."""
    interviews = m.current.by("interviews", "partner")
    partner_names = names_of(Partner, interviews)
    desk_names = names_of(Desk, m.current.by("interviews", "desk"))
    partners = []
    for partner_id, count in sorted(interviews.items(), key=lambda item: -item[1]):
        scoped = read(
            m.sites,
            m.start,
            m.end,
            metrics=["interviews", "interview_seconds", "outcomes"],
            partner=partner_id,
        )
        partners.append(
            {
                "name": partner_names.get(partner_id, _("no partner recorded")),
                "interviews": count,
                "hours": round(scoped.total("interview_seconds") / 3600, 1),
                "by_theme": sorted(
                    (
                        (theme_names.get(t) or names_of(Theme, [t]).get(t, "?"), n)
                        for t, n in scoped.by("interviews", "theme").items()
                    ),
                    key=lambda r: -r[1],
                ),
                "by_desk": sorted(
                    (
                        (desk_names.get(d, "?"), n)
                        for d, n in scoped.by("interviews", "desk").items()
                    ),
                    key=lambda r: -r[1],
                ),
                "outcomes": _outcome_rows(scoped.by("outcomes", "code")),
            }
        )
    return {
        "partners": partners,
        "partner_chart": charts.bar_chart(
            [(p["name"], p["interviews"]) for p in partners], _("Interviews by partner institution")
        ),
    }


def _flows_section(m: Month) -> list[tuple[str, str, int]]:
    """Referrals from one theme's desk to another's: (from, to, count), the largest first."""
    referrals = m.current.totals["referrals"]
    names = names_of(
        Theme, list(m.current.by("referrals", "src")) + list(m.current.by("referrals", "dst"))
    )
    flows = []
    for k, n in sorted(referrals.items(), key=lambda item: -item[1]):
        dims = parse_key(k)
        flows.append((names.get(dims["src"], "?"), names.get(dims["dst"], "?"), n))
    return flows


def audiences_section(m: Month) -> dict[str, list[tuple[str, str]]]:
    return {
        _("Age"): _profile(m.current.by("profile_age", "v"), AgeBracket),
        _("Situation"): _profile(m.current.by("profile_situation", "v"), Situation),
        _("Lives in"): _profile(m.current.by("profile_area", "v"), Area),
    }


def _events_section(m: Month) -> list[dict]:
    registered = m.current.by("event_registered", "kind")
    attended = m.current.by("event_attended", "kind")
    no_show = m.current.by("event_no_show", "kind")
    rows = []
    for kind, label in dict(Event.Kind.choices).items():
        count = m.current.by("events", "kind").get(kind, 0)
        if count:
            seen = attended.get(kind, 0) + no_show.get(kind, 0)
            rows.append(
                {
                    "kind": label,
                    "events": count,
                    "registered": registered.get(kind, 0),
                    "attended": attended.get(kind, 0),
                    "no_show_rate": round(100 * no_show.get(kind, 0) / seen) if seen else None,
                }
            )
    return rows


def _appointments_section(m: Month, theme_names: dict[str, str]) -> list[dict]:
    """Appointments of the month by channel and theme: booked in all (cancelled ones apart),
    attended, did not come, and the no-show rate of those whose slot came."""
    rows: dict[tuple[str, str], Counter] = {}
    for k, n in m.current.totals["appointments"].items():
        dims = parse_key(k)
        rows.setdefault((dims["channel"], dims["theme"]), Counter())[dims["status"]] += n
    channels = dict(Channel.choices)
    names = theme_names | names_of(Theme, {theme for _channel, theme in rows})
    table = []
    for (channel, theme), status in sorted(rows.items()):
        seen = status["attended"] + status["no_show"]
        table.append(
            {
                "channel": channels.get(channel, channel),
                "theme": names.get(theme, _("other")),
                "booked": sum(status.values()) - status["cancelled"],
                "cancelled": status["cancelled"],
                "attended": status["attended"],
                "no_show": status["no_show"],
                "no_show_rate": round(100 * status["no_show"] / seen) if seen else None,
            }
        )
    return table


def _sites_section(m: Month) -> list[tuple[str, dict]]:
    """A Cité's or the network's report compares its sites' key figures."""
    return [(each.name, key_figures(read([each], m.start, m.end))) for each in m.sites]


def _topics_section(m: Month) -> list[tuple[str, int]]:
    """The 15 interview topics most often coded."""
    topics = m.current.by("topics", "topic")
    names = names_of(Topic, topics)
    return sorted(((names.get(t, "?"), n) for t, n in topics.items()), key=lambda r: -r[1])[:15]


def _outcome_rows(codes: Counter) -> list[tuple[str, int]]:
    labels = dict(Outcome.Code.choices)
    return sorted(((labels.get(code, code), n) for code, n in codes.items()), key=lambda r: -r[1])


def _profile(counts: Counter, choices) -> list[tuple[str, str]]:
    labels = dict(choices.choices)
    cells = {labels.get("" if value == "-" else value, value): n for value, n in counts.items()}
    shown = suppress(cells)
    return [(label, shown[label]) for label in sorted(cells, key=lambda name: -cells[name])]


def render_pdf(
    site: Site | None, month: dt.date, progress=None, *, cite: Cite | None = None
) -> bytes:
    """The report as PDF bytes. `progress(percent)` is called along the way. It speaks the
    language of its site (a Cité's: of its first site) and shows times in its time zone."""
    first = (
        site if site is not None or cite is None else next(iter(covered_sites(None, cite)), None)
    )
    language = first.language if first else "fr"
    with translation.override(language), timezone.override(first.zone if first else None):
        context = build(site, month, cite=cite)
        if progress:
            progress(40)
        html = render_to_string("figures/report.html", context)
    if progress:
        progress(60)
    name = f"report {report_place_key(site, cite)} {month:%Y-%m}"
    pdf = render(html, what=name)
    if progress:
        progress(95)
    return pdf
