"""A realistic demo catalogue: a few hundred French records across the five purposes, generated
deterministically (the same titles every run, so `seed_demo` stays idempotent), and a few written
by hand for the questions visitors ask most (a CV, work abroad, salaries, apprenticeship…).
Keywords are in the site's language (French, or English for an English-speaking site). `records()`
also feeds the 100,000-record benchmark generator."""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator

from django.db import transaction

from citedesmetiers.models import Site

from .identifiers import normalize_isbn
from .models import Audience, Holding, Purpose, Resource, ResourceOfTheWeek
from .search import refresh_terms

# Each field of work with the professions and words people look it up by: (fr, en).
FIELDS = {
    "santé": (
        "infirmier, aide-soignant, médecine, hôpital",
        "health, nurse, care assistant, hospital",
    ),
    "social": (
        "éducateur spécialisé, assistant social, travail social",
        "social work, social worker, youth worker",
    ),
    "bâtiment": (
        "BTP, maçon, électricien, plombier",
        "construction, builder, electrician, plumber",
    ),
    "numérique": ("informatique, développeur, web, IT", "digital, computing, developer, IT"),
    "commerce": ("vente, vendeur, grande distribution", "retail, sales, shop assistant"),
    "hôtellerie-restauration": (
        "cuisinier, serveur, hôtel, restaurant",
        "hospitality, cook, waiter, hotel, restaurant",
    ),
    "transport et logistique": (
        "chauffeur, logisticien, entrepôt",
        "transport, logistics, driver, warehouse",
    ),
    "agriculture": ("agriculteur, élevage, agroalimentaire", "agriculture, farmer, food industry"),
    "industrie": (
        "technicien, production, usine, maintenance",
        "industry, technician, factory, maintenance",
    ),
    "banque et assurance": (
        "conseiller bancaire, finance, assurance",
        "banking, insurance, finance, bank adviser",
    ),
    "artisanat": ("artisan, boulanger, coiffeur, métiers d'art", "crafts, baker, hairdresser"),
    "environnement": (
        "écologie, développement durable, recyclage, énergies renouvelables",
        "environment, ecology, sustainability, recycling",
    ),
    "culture et spectacle": (
        "spectacle vivant, musique, intermittent",
        "culture, performing arts, music",
    ),
    "sport et animation": (
        "animateur, éducateur sportif, BPJEPS",
        "sport, coach, youth leader",
    ),
    "fonction publique": (
        "concours, fonctionnaire, administration",
        "civil service, public sector, competitive exam",
    ),
    "petite enfance": (
        "auxiliaire de puériculture, crèche, assistante maternelle",
        "early childhood, nursery, childminder",
    ),
    "aide à la personne": (
        "aide à domicile, auxiliaire de vie, services à la personne",
        "home care, care worker, personal services",
    ),
    "énergie": (
        "électricité, énergies renouvelables, nucléaire",
        "energy, electricity, renewable energy",
    ),
    "communication": (
        "marketing, journalisme, relations publiques",
        "communication, marketing, journalism, public relations",
    ),
    "tourisme": (
        "guide, agence de voyages, accueil touristique",
        "tourism, tour guide, travel agency",
    ),
}
# Per purpose: (kind, title pattern, keywords in French, keywords in English).
PATTERNS = {
    "learn-about-professions": [
        (
            "book",
            "Les métiers {de}",
            "découvrir les métiers, débouchés, salaires",
            "discover jobs, careers, prospects, salaries",
        ),
        (
            "leaflet",
            "Fiche métier : travailler {dans}",
            "fiche métier, missions, salaire, compétences",
            "job profile, duties, salary, skills",
        ),
        (
            "video",
            "Témoignages : une journée {dans}",
            "témoignages, découvrir un métier, quotidien",
            "testimonies, a day at work, discover a job",
        ),
        (
            "website",
            "Portail des métiers {de}",
            "métiers, débouchés, secteurs qui recrutent",
            "careers, prospects, sectors that hire",
        ),
    ],
    "find-a-training": [
        (
            "book",
            "Guide des formations {de}",
            "formation, diplômes, écoles, orientation",
            "training, qualifications, schools, guidance",
        ),
        (
            "leaflet",
            "L'alternance {dans}",
            "formation en alternance, apprentissage, contrat de professionnalisation, CFA",
            "work-study, apprenticeship, training contract",
        ),
        (
            "website",
            "Trouver une formation {dans}",
            "formation continue, organismes de formation, CPF",
            "adult training, training providers, training account",
        ),
        (
            "periodical",
            "Formations et diplômes {de}",
            "diplômes, certifications, CAP, BTS, licence professionnelle",
            "qualifications, certificates, diplomas",
        ),
    ],
    "find-a-job": [
        (
            "book",
            "Réussir sa recherche d'emploi {dans}",
            "chercher un emploi, candidature, recrutement",
            "job search, looking for a job, application, recruitment",
        ),
        (
            "leaflet",
            "Le CV {de}",
            "CV, curriculum vitae, rédiger son CV, lettre de motivation, candidature",
            "CV, résumé, write a CV, cover letter, application",
        ),
        (
            "website",
            "Offres d'emploi {de}",
            "offres d'emploi, recrutement, candidature",
            "job offers, vacancies, recruitment",
        ),
        (
            "video",
            "Préparer un entretien {dans}",
            "entretien d'embauche, entretien de recrutement, questions du recruteur",
            "job interview, interview questions, recruiter",
        ),
    ],
    "change-your-job": [
        (
            "book",
            "Se reconvertir {dans}",
            "reconversion, changer de métier, évolution professionnelle",
            "career change, retraining, career development",
        ),
        (
            "leaflet",
            "La VAE {dans}",
            "VAE, validation des acquis de l'expérience, diplôme, reconversion",
            "accreditation of prior learning, qualification, career change",
        ),
        (
            "software",
            "Bilan de compétences en ligne {de}",
            "bilan de compétences, reconversion, évolution professionnelle",
            "skills assessment, career change, career development",
        ),
    ],
    "create-a-business": [
        (
            "book",
            "Créer son entreprise {dans}",
            "création d'entreprise, entrepreneur, statut juridique, micro-entreprise",
            "start a business, entrepreneur, legal status, sole trader",
        ),
        (
            "leaflet",
            "Financer son projet {dans}",
            "financement, prêt d'honneur, aides, plan de financement",
            "funding, loan, grants, business plan",
        ),
        (
            "website",
            "Les aides à la création {dans}",
            "aides à la création d'entreprise, accompagnement, ACRE",
            "start-up grants, business support",
        ),
    ],
}
# Written by hand for the questions the generated records leave out: (kind, purpose, title,
# keywords in French, keywords in English, summary).
CURATED = [
    (
        "website",
        "find-a-job",
        "Travailler au Canada : visas, PVT et emploi",
        "étranger, Québec, mobilité internationale, PVT, expatriation",
        "abroad, Quebec, working holiday visa, expatriation",
        "Les visas de travail, le programme vacances-travail (PVT), la reconnaissance des "
        "diplômes et les offres d'emploi au Canada et au Québec.",
    ),
    (
        "book",
        "find-a-training",
        "Partir en stage à l'étranger avec Erasmus+",
        "stage, étranger, Europe, Erasmus, mobilité internationale",
        "internship, abroad, Europe, Erasmus, international mobility",
        "Trouver un stage en Europe ou ailleurs, le financer avec Erasmus+ et le faire "
        "reconnaître dans son parcours.",
    ),
    (
        "book",
        "find-a-job",
        "Travailler en Europe : le guide de la mobilité",
        "étranger, Europe, EURES, reconnaissance des diplômes, mobilité internationale",
        "abroad, Europe, EURES, recognition of qualifications",
        "Chercher un emploi dans un autre pays européen : le réseau EURES, la protection "
        "sociale, la reconnaissance des diplômes.",
    ),
    (
        "website",
        "find-a-job",
        "Le volontariat international en entreprise (VIE)",
        "étranger, VIE, jeunes diplômés, mobilité internationale",
        "abroad, international volunteering, graduates",
        "Une première expérience professionnelle à l'étranger, de 6 à 24 mois, pour les "
        "moins de 29 ans.",
    ),
    (
        "periodical",
        "learn-about-professions",
        "Salaires : combien gagne-t-on dans chaque métier ?",
        "salaire, rémunération, grille salariale, SMIC",
        "salary, pay, wages, minimum wage",
        "Les salaires de débutant et de confirmé dans 300 métiers, secteur par secteur.",
    ),
    (
        "book",
        "find-a-training",
        "Devenir infirmier ou infirmière : IFSI et diplôme d'État",
        "infirmière, formation en soins infirmiers, IFSI, santé, études paramédicales",
        "nurse, nursing school, health, paramedical studies",
        "Les instituts de formation en soins infirmiers, l'admission, les trois années "
        "d'études et le diplôme d'État.",
    ),
    (
        "leaflet",
        "find-a-training",
        "L'apprentissage mode d'emploi : contrat, salaire et CFA",
        "apprentissage, apprenti, alternance, CFA, contrat d'apprentissage",
        "apprenticeship, apprentice, work-study, training contract",
        "Trouver un employeur et un centre de formation d'apprentis, le contrat, la "
        "rémunération de l'apprenti.",
    ),
    (
        "leaflet",
        "find-a-job",
        "Rédiger sa lettre de motivation",
        "lettre de motivation, candidature, CV, candidature spontanée",
        "cover letter, application, CV",
        "Une lettre courte qui répond à l'offre : exemples commentés et erreurs à éviter.",
    ),
    (
        "book",
        "find-a-job",
        "Rédiger son CV : méthode et modèles",
        "CV, curriculum vitae, candidature, lettre de motivation",
        "CV, résumé, application, cover letter",
        "Un CV clair en une page : rubriques, mots-clés, modèles pour chaque situation.",
    ),
    (
        "leaflet",
        "change-your-job",
        "Le bilan de compétences : mode d'emploi",
        "bilan de compétences, CPF, reconversion, évolution professionnelle",
        "skills assessment, training account, career change",
        "À quoi sert un bilan de compétences, comment le financer avec le CPF, comment il "
        "se déroule.",
    ),
    (
        "website",
        "find-a-training",
        "Financer sa formation avec le CPF",
        "CPF, compte personnel de formation, financement de la formation",
        "training account, training funding",
        "Consulter ses droits, choisir une formation éligible et compléter son financement.",
    ),
    (
        "book",
        "create-a-business",
        "Créer sa micro-entreprise pas à pas",
        "micro-entreprise, auto-entrepreneur, création d'entreprise, statut juridique",
        "sole trader, self-employed, start a business, legal status",
        "Les démarches, les cotisations, la facturation et les limites du régime "
        "micro-entrepreneur.",
    ),
]
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


def _language(language: str) -> int:
    """Which of the keyword columns: French, or English for an English-speaking site; French
    otherwise, the language of the titles."""
    return 1 if language == "en" else 0


def records(count: int, seed: int = 42, language: str = "fr") -> Iterator[dict]:
    """`count` resource dicts with keywords in `language`; the first ones are the demo's."""
    rng = random.Random(seed)
    column = _language(language)
    combos = [
        (slug, kind, pattern, keywords[column], field, vocabulary[column])
        for slug, items in PATTERNS.items()
        for kind, pattern, *keywords in items
        for field, vocabulary in FIELDS.items()
    ]
    edition = 0
    while True:
        for slug, kind, pattern, keywords, field, vocabulary in combos:
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
                # French: the field's own name, then its words; English: its words only.
                "keywords": f"{field}, {vocabulary}, {keywords}"
                if column == 0
                else f"{vocabulary}, {keywords}",
                "audience": rng.choice(["everyone", "young-people", "job-seekers", "employees"]),
                "shelf": f"{slug[:3].upper()} {rng.randint(100, 999)}",
            }
        edition += 1


def curated(language: str = "fr") -> Iterator[dict]:
    """The records written by hand, with keywords in `language`."""
    column = _language(language)
    for n, (kind, slug, title, *keywords, summary) in enumerate(CURATED):
        yield {
            "title": title,
            "kind": kind,
            "purpose": slug,
            "authors": "",
            "publisher": PUBLISHERS[n % len(PUBLISHERS)],
            "year": 2025,
            "isbn": None,
            "url": f"https://example.org/ressources/{slug}/{zlib.crc32(title.encode())}"
            if kind in ("website", "video", "software")
            else "",
            "summary": summary,
            "keywords": keywords[column],
            "audience": "everyone",
            "shelf": f"{slug[:3].upper()} {100 + n}",
        }


# Every generated pattern once in every field, and the records written by hand.
DEMO_COUNT = sum(len(items) for items in PATTERNS.values()) * len(FIELDS)


@transaction.atomic
def seed_catalogue(site: Site, count: int = DEMO_COUNT) -> None:
    """The demo catalogue on the site's shelves, its keywords in the site's language. Records
    are found by title; a record seeded before with other keywords (the English ones of a French
    catalogue) gets the new ones."""
    # The purposes and audiences a migration creates (created again if a test flushed them).
    from importlib import import_module

    defaults = import_module("resources.migrations.0003_purposes_audiences")
    for order, (slug, name) in enumerate(defaults.PURPOSES):
        Purpose.objects.get_or_create(slug=slug, defaults={"name": name, "order": order})
    for order, (slug, name) in enumerate(defaults.AUDIENCES):
        Audience.objects.get_or_create(slug=slug, defaults={"name": name, "order": order})
    purposes = {p.slug: p for p in Purpose.objects.all()}
    audiences = {a.slug: a for a in Audience.objects.all()}
    changed = []
    for record in [*records(count, language=site.language), *curated(site.language)]:
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
            changed.append(resource.pk)
        elif resource.keywords != record["keywords"]:
            resource.keywords = record["keywords"]
            resource.save(update_fields=["keywords"])
            changed.append(resource.pk)
        Holding.objects.get_or_create(
            resource=resource,
            site=site,
            defaults={"shelf_mark": record["shelf"], "copies": 1 + len(record["title"]) % 3},
        )
    if changed:
        refresh_terms(Resource.objects.filter(pk__in=changed))
    # The waiting-room screen's resource of the week: a guide written by hand, unless the
    # information officer chose another since.
    featured = Resource.objects.filter(title=CURATED[2][2]).first()
    if featured is not None:
        ResourceOfTheWeek.objects.get_or_create(site=site, defaults={"resource": featured})
