"""The demo site: what `python manage.py seed_demo` creates. Idempotent: running it again finds
everything by its natural key and changes nothing."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from citedesmetiers.models import Cite, OpeningPeriod, Partner, Site, Theme, User
from citedesmetiers.roles import Role
from citedesmetiers.services import grant_role
from counselling import planning
from counselling.models import Desk, PlanMode, PlannedSession, Topic
from counselling.services import appointments
from events.demo import seed_events
from reception.models import Channel
from resources.demo import seed_catalogue

DEMO_PASSWORD = "demo-password"

THEMES = [
    # letter, name, colour
    ("O", "Choisir son orientation", "#1d4ed8"),
    ("F", "Trouver une formation", "#047857"),
    ("E", "Trouver un emploi", "#b45309"),
    ("C", "Changer de métier, évoluer", "#7c3aed"),
    ("A", "Créer son activité", "#be123c"),
    ("I", "Travailler à l'étranger", "#0e7490"),
]

PARTNERS = [
    ("France Travail", Partner.Kind.EMPLOYMENT),
    ("CIO — Centre d'information et d'orientation", Partner.Kind.GUIDANCE),
    ("Mission locale", Partner.Kind.YOUTH),
    ("Chambre de commerce et d'industrie", Partner.Kind.CHAMBER),
    ("BGE — Boutique de gestion", Partner.Kind.BUSINESS_CREATION),
]

# email, first name, role, partner index (counsellors only)
STAFF = [
    ("reception@demo.test", "Nadia", Role.RECEPTION, None),
    ("counsellor1@demo.test", "Karim", Role.COUNSELLOR, 0),
    ("counsellor2@demo.test", "Claire", Role.COUNSELLOR, 1),
    ("counsellor3@demo.test", "Yann", Role.COUNSELLOR, 2),
    ("counsellor4@demo.test", "Sofia", Role.COUNSELLOR, 4),
    ("librarian@demo.test", "Hélène", Role.INFORMATION_OFFICER, None),
    ("organiser@demo.test", "Marc", Role.EVENT_ORGANISER, None),
    ("manager@demo.test", "Isabelle", Role.MANAGER, None),
]

# Monday to Friday 9:30–17:30 with no lunch break, Saturday morning.
OPENING_HOURS = [(day, dt.time(9, 30), dt.time(17, 30)) for day in range(5)] + [
    (5, dt.time(10, 0), dt.time(13, 0))
]


@transaction.atomic
def seed_demo() -> Site:
    cite, _ = Cite.objects.get_or_create(
        slug="demo", defaults={"name": "Cité des métiers de démonstration"}
    )
    site, _ = Site.objects.update_or_create(
        slug="demo",
        defaults={
            "cite": cite,
            "name": "Cité des métiers — démo",
            "kind": Site.Kind.SITE,
            "time_zone": "Europe/Paris",
            "language": "fr",
            "reception_protocol": "Gratuit, anonyme, sans rendez-vous. Gardez ce ticket.",
            "video_room_template": "https://visio.example.org/cdm-{room}",
        },
    )
    for weekday, opens, closes in OPENING_HOURS:
        OpeningPeriod.objects.update_or_create(
            site=site, weekday=weekday, opens=opens, defaults={"closes": closes}
        )
    for order, (letter, name, colour) in enumerate(THEMES):
        Theme.objects.update_or_create(
            site=site,
            letter=letter,
            defaults={"name": name, "colour": colour, "order": order, "active": True},
        )
    partners = [
        Partner.objects.update_or_create(name=name, defaults={"kind": kind})[0]
        for name, kind in PARTNERS
    ]
    for email, first_name, role, partner_index in STAFF:
        user, created = User.objects.get_or_create(
            email=email,
            defaults={
                "first_name": first_name,
                "is_staff": role is not Role.RECEPTION and role is not Role.COUNSELLOR,
            },
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        partner = partners[partner_index] if partner_index is not None else None
        grant_role(user=user, role=role, site=site, partner=partner)
    seed_desks(site)
    seed_plan(site, partners)
    seed_bookings(site)
    seed_catalogue(site)
    seed_events(site)
    return site


# Six desks, each serving one or two themes (letters).
DESKS = [
    ("Desk 1", "desk one", "OF"),
    ("Desk 2", "desk two", "E"),
    ("Desk 3", "desk three", "EC"),
    ("Desk 4", "desk four", "C"),
    ("Desk 5", "desk five", "A"),
    ("Desk 6", "desk six", "IF"),
]
SPOKEN_FR = {
    "desk one": "guichet 1",
    "desk two": "guichet 2",
    "desk three": "guichet 3",
    "desk four": "guichet 4",
    "desk five": "guichet 5",
    "desk six": "guichet 6",
}


# Coded interview topics per theme letter.
TOPICS = {
    "O": ["Découvrir des métiers", "Choisir une filière", "Parcoursup, études", "Bilan, intérêts"],
    "F": ["Trouver un organisme", "Financer sa formation (CPF)", "Alternance", "VAE"],
    "E": ["CV et lettre", "Préparer un entretien", "Chercher des offres", "Droits, inscription"],
    "C": [
        "Reconversion",
        "Bilan de compétences",
        "Évoluer dans son entreprise",
        "Conseil en évolution professionnelle",
    ],
    "A": ["Idée de projet", "Statut juridique", "Financement", "Aides à la création"],
    "I": ["Travailler en Europe", "Volontariat international", "Reconnaissance des diplômes"],
}


def seed_desks(site: Site) -> None:
    for theme in site.themes.all():
        for order, name in enumerate(TOPICS.get(theme.letter, [])):
            Topic.objects.update_or_create(theme=theme, name=name, defaults={"order": order})

    themes = {theme.letter: theme for theme in site.themes.all()}
    for order, (name, spoken, letters) in enumerate(DESKS):
        desk, _ = Desk.objects.update_or_create(
            site=site,
            name=name.replace("Desk", "Guichet"),
            defaults={"order": order, "spoken_name": SPOKEN_FR[spoken], "active": True},
        )
        desk.themes.set([themes[letter] for letter in letters])


MORNING, AFTERNOON, DAY = ((9, 30), (12, 30)), ((13, 30), (17, 30)), ((9, 30), (17, 30))
SATURDAY = ((10, 0), (13, 0))
WALK_IN, APPOINTMENTS = PlanMode.WALK_IN, PlanMode.APPOINTMENTS
# The week's presence plan: desk number, partner index, counsellor's e-mail (None: whoever the
# partner sends), themes, mode, weekdays, hours. Six desks and four partners; one desk takes
# appointments (phone and video) on Tuesday and Thursday afternoons; work abroad (I) is served
# on Friday afternoons only, so the screens say when it is next.
PLAN = [
    (1, 1, "counsellor2@demo.test", "OF", WALK_IN, (0, 1, 2, 3, 4), MORNING),
    (1, 1, "counsellor2@demo.test", "OF", WALK_IN, (0, 1, 2, 3, 4), AFTERNOON),
    (1, 1, None, "OF", WALK_IN, (5,), SATURDAY),
    (2, 0, "counsellor1@demo.test", "E", WALK_IN, (0, 1, 2, 3, 4), DAY),
    (2, 0, None, "E", WALK_IN, (5,), SATURDAY),
    (3, 2, "counsellor3@demo.test", "EC", WALK_IN, (0, 2, 4), DAY),
    (3, 2, "counsellor3@demo.test", "EC", WALK_IN, (1, 3), MORNING),
    (4, 2, "counsellor3@demo.test", "C", APPOINTMENTS, (1, 3), ((14, 0), (17, 30))),
    (5, 4, "counsellor4@demo.test", "A", WALK_IN, (0, 1, 3), DAY),
    (5, 4, None, "A", WALK_IN, (2,), AFTERNOON),
    (6, 1, None, "IF", WALK_IN, (4,), AFTERNOON),
]


def seed_plan(site: Site, partners: list[Partner]) -> None:
    """The demo week, valid from the Monday of the week it is seeded. A weekly range already
    planned at that desk, day and hour (from an earlier seeding) is kept as it is."""
    desks = {n: site.desks.get(name=f"Guichet {n}") for n in range(1, len(DESKS) + 1)}
    themes = {theme.letter: theme.pk for theme in site.themes.all()}
    today = site.local_date()
    monday = today - dt.timedelta(days=today.weekday())
    for number, partner, email, letters, mode, weekdays, (starts, ends) in PLAN:
        counsellor = User.objects.get(email=email) if email else None
        for weekday in weekdays:
            if PlannedSession.objects.filter(
                site=site, desk=desks[number], weekday=weekday, starts=dt.time(*starts)
            ).exists():
                continue
            planning.plan_session(
                site=site,
                desk_id=desks[number].pk,
                partner_id=partners[partner].pk,
                theme_ids=[themes[letter] for letter in letters],
                mode=mode,
                weekday=weekday,
                starts=dt.time(*starts),
                ends=dt.time(*ends),
                valid_from=monday,
                counsellor_id=counsellor.pk if counsellor else None,
                channels=(Channel.PHONE, Channel.VIDEO) if mode == APPOINTMENTS else (),
            )


# A few bookings of the appointment desk's next free slots: pseudonyms and the contact their
# channel needs (the demo's e-mails go to the console).
BOOKINGS = [
    ("Amina", Channel.PHONE, {"phone": "06 12 34 56 78"}),
    ("Lucas", Channel.VIDEO, {"email": "lucas@example.org"}),
    ("Inès", Channel.PHONE, {"phone": "07 98 76 54 32"}),
]


def seed_bookings(site: Site) -> None:
    """Book the demo's appointments, unless some are still to come (a second seeding)."""
    if site.appointments.filter(status="booked", starts__gt=timezone.now()).exists():
        return
    change = site.themes.get(letter="C")
    for pseudonym, channel, contact in BOOKINGS:
        free = appointments.slots(site, change, channel=channel)
        if free:
            appointments.book(
                site=site,
                theme_id=change.pk,
                channel=channel,
                desk_id=free[0].desk_id,
                starts=free[0].starts,
                pseudonym=pseudonym,
                **contact,
            )
