"""A realistic demo catalogue: a few hundred French records across the five purposes, generated
deterministically (the same titles every run, so `seed_demo` stays idempotent). `records()` also
feeds the 100,000-record benchmark generator."""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator

from django.db import transaction

from citedesmetiers.models import Site

from .identifiers import normalize_isbn
from .models import Audience, Holding, Purpose, Resource
from .search import refresh_terms

FIELDS = [
    "santé",
    "social",
    "bâtiment",
    "numérique",
    "commerce",
    "hôtellerie-restauration",
    "transport et logistique",
    "agriculture",
    "industrie",
    "banque et assurance",
    "artisanat",
    "environnement",
    "culture et spectacle",
    "sport et animation",
    "fonction publique",
    "petite enfance",
    "aide à la personne",
    "énergie",
    "communication",
    "tourisme",
]
PATTERNS = {
    "learn-about-professions": [
        ("book", "Les métiers {de}"),
        ("leaflet", "Fiche métier : travailler {dans}"),
        ("video", "Témoignages : une journée {dans}"),
        ("website", "Portail des métiers {de}"),
    ],
    "find-a-training": [
        ("book", "Guide des formations {de}"),
        ("leaflet", "L'alternance {dans}"),
        ("website", "Trouver une formation {dans}"),
        ("periodical", "Formations et diplômes {de}"),
    ],
    "find-a-job": [
        ("book", "Réussir sa recherche d'emploi {dans}"),
        ("leaflet", "Le CV {de}"),
        ("website", "Offres d'emploi {de}"),
        ("video", "Préparer un entretien {dans}"),
    ],
    "change-your-job": [
        ("book", "Se reconvertir {dans}"),
        ("leaflet", "La VAE {dans}"),
        ("software", "Bilan de compétences en ligne {de}"),
    ],
    "create-a-business": [
        ("book", "Créer son entreprise {dans}"),
        ("leaflet", "Financer son projet {dans}"),
        ("website", "Les aides à la création {dans}"),
    ],
}
PUBLISHERS = [
    "Onisep",
    "Studyrama",
    "L'Étudiant",
    "Vuibert",
    "Centre Inffo",
    "Dunod",
    "Apec",
    "Bpifrance",
    "France Travail",
    "Région",
]
AUTHORS = [
    "Claire Martin",
    "Jean Dupont",
    "Sophie Bernard",
    "Ahmed Benali",
    "Lucie Moreau",
    "Thomas Petit",
    "Inès Garcia",
    "Paul Lefèvre",
]


def _phrase(pattern: str, field: str) -> str:
    de = (
        f"de l'{field}"
        if field[0] in "aeéèiou"
        else f"du {field}"
        if field
        in (
            "social",
            "bâtiment",
            "numérique",
            "commerce",
            "tourisme",
            "sport et animation",
            "transport et logistique",
        )
        else f"de la {field}"
    )
    dans = (
        f"dans le {field}"
        if de.startswith("du ")
        else f"dans la {field}"
        if de.startswith("de la")
        else f"dans l'{field}"
    )
    return pattern.format(de=de, dans=dans)


def _isbn(rng: random.Random) -> str:
    first12 = "9782" + "".join(str(rng.randint(0, 9)) for _ in range(8))
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(first12))
    return normalize_isbn(first12 + str((10 - total % 10) % 10))


def records(count: int, seed: int = 42) -> Iterator[dict]:
    """`count` resource dicts; the first ones are the demo's."""
    rng = random.Random(seed)
    combos = [
        (slug, kind, pattern, field)
        for slug, items in PATTERNS.items()
        for kind, pattern in items
        for field in FIELDS
    ]
    edition = 0
    while True:
        for slug, kind, pattern, field in combos:
            if count <= 0:
                return
            count -= 1
            title = _phrase(pattern, field)
            if edition:
                title = f"{title} ({edition + 1}e édition)"
            year = rng.randint(2015, 2026)
            yield {
                "title": title,
                "kind": kind,
                "purpose": slug,
                "authors": rng.choice(AUTHORS) if kind in ("book", "leaflet") else "",
                "publisher": rng.choice(PUBLISHERS),
                "year": year,
                "isbn": _isbn(rng) if kind == "book" else None,
                "url": f"https://example.org/ressources/{slug}/{zlib.crc32(title.encode())}"
                if kind in ("website", "video", "software")
                else "",
                "summary": f"{title} : repères, témoignages et conseils pratiques pour "
                f"s'orienter, se former et trouver sa place dans le secteur {field}.",
                "keywords": f"{field}, {slug.replace('-', ' ')}, orientation, métiers",
                "audience": rng.choice(["everyone", "young-people", "job-seekers", "employees"]),
                "shelf": f"{slug[:3].upper()} {rng.randint(100, 999)}",
            }
        edition += 1


@transaction.atomic
def seed_catalogue(site: Site, count: int = 320) -> None:
    # The purposes and audiences a migration creates (created again if a test flushed them).
    from importlib import import_module

    defaults = import_module("resources.migrations.0003_purposes_audiences")
    for order, (slug, name) in enumerate(defaults.PURPOSES):
        Purpose.objects.get_or_create(slug=slug, defaults={"name": name, "order": order})
    for order, (slug, name) in enumerate(defaults.AUDIENCES):
        Audience.objects.get_or_create(slug=slug, defaults={"name": name, "order": order})
    purposes = {p.slug: p for p in Purpose.objects.all()}
    audiences = {a.slug: a for a in Audience.objects.all()}
    created = []
    for record in records(count):
        resource, is_new = Resource.objects.get_or_create(
            title=record["title"],
            defaults={
                k: record[k]
                for k in (
                    "kind",
                    "authors",
                    "publisher",
                    "year",
                    "isbn",
                    "url",
                    "summary",
                    "keywords",
                )
            },
        )
        if is_new:
            resource.purposes.set([purposes[record["purpose"]]])
            resource.audiences.set([audiences[record["audience"]]])
            created.append(resource.pk)
        Holding.objects.get_or_create(
            resource=resource,
            site=site,
            defaults={"shelf_mark": record["shelf"], "copies": 1 + len(record["title"]) % 3},
        )
    if created:
        refresh_terms(Resource.objects.filter(pk__in=created))
