"""Cités become a model, and roles are held at a place.

Each distinct `Site.cite` text becomes a Cité holding those sites; sites without one go to a Cité
named after the deployment's default ("Cité des métiers"). Each membership receives its user's
current roles (their Django groups); network staff (`works_at_all_sites`) get a network-wide
membership with those roles. Roles then live only on memberships: the groups are emptied."""

from django.db import migrations
from django.utils.text import slugify

ROLE_GROUPS = ["reception", "counsellor", "information_officer", "event_organiser", "manager"]
DEFAULT_CITE = "Cité des métiers"


def _unique_slug(Cite, name: str) -> str:
    base = (slugify(name) or "cite")[:32]
    slug, n = base, 1
    while Cite.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def make_cites(apps, schema_editor):
    Cite = apps.get_model("citedesmetiers", "Cite")
    Site = apps.get_model("citedesmetiers", "Site")
    for site in Site.objects.order_by("pk"):
        name = " ".join((site.cite_name or "").split())[:120] or DEFAULT_CITE
        cite = Cite.objects.filter(name=name).first()
        if cite is None:
            cite = Cite.objects.create(name=name, slug=_unique_slug(Cite, name))
        site.cite = cite
        site.save(update_fields=["cite"])


def give_memberships_their_roles(apps, schema_editor):
    User = apps.get_model("citedesmetiers", "User")
    Membership = apps.get_model("citedesmetiers", "StaffMembership")
    Group = apps.get_model("auth", "Group")
    groups = list(Group.objects.filter(name__in=ROLE_GROUPS))
    for user in User.objects.filter(groups__in=groups).distinct():
        roles = list(user.groups.filter(pk__in=[g.pk for g in groups]))
        for membership in Membership.objects.filter(user=user):
            membership.roles.add(*roles)
        if user.works_at_all_sites:
            network, _created = Membership.objects.get_or_create(user=user, site=None, cite=None)
            network.roles.add(*roles)
        user.groups.remove(*roles)


class Migration(migrations.Migration):
    dependencies = [("citedesmetiers", "0006_cites_and_roles_per_place")]

    operations = [
        migrations.RunPython(make_cites, migrations.RunPython.noop),
        migrations.RunPython(give_memberships_their_roles, migrations.RunPython.noop),
    ]
