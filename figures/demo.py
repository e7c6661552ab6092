"""The demo site: what `python manage.py seed_demo` creates. Idempotent: running it again finds
everything by its natural key and changes nothing."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from citedesmetiers.models import Cite, OpeningPeriod, Partner, Site, Theme, User
from citedesmetiers.roles import Role
from citedesmetiers.services import grant_role
from counselling.models import Desk, Topic
from events.demo import seed_events
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
