"""The data migrations of Cités and roles per place, run on data as the previous release left
it: `Site.cite` texts become Cités, every membership receives its user's roles, network staff
get a network-wide membership, and the roles leave Django's groups."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("citedesmetiers", "0004_statistics")]
AFTER = [("citedesmetiers", "0008_drop_cite_text_and_network_flag")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_the_latest_schema():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_cite_texts_become_cites_and_groups_become_roles_of_memberships():
    old = migrate(BEFORE)
    Site = old.get_model("citedesmetiers", "Site")
    User = old.get_model("citedesmetiers", "User")
    Group = old.get_model("auth", "Group")
    Membership = old.get_model("citedesmetiers", "StaffMembership")
    lyon = Site.objects.create(slug="lyon", name="Lyon", cite="Cité des métiers de Lyon")
    villeurbanne = Site.objects.create(
        slug="villeurbanne", name="Villeurbanne", cite="Cité des métiers  de Lyon"
    )
    geneva = Site.objects.create(slug="geneve", name="Genève", cite="")
    counsellor = User.objects.create(email="ana@lyon.test")
    counsellor.groups.add(Group.objects.get(name="counsellor"), Group.objects.get(name="reception"))
    Membership.objects.create(user=counsellor, site=lyon)
    Membership.objects.create(user=counsellor, site=geneva)
    network = User.objects.create(email="nina@network.test", works_at_all_sites=True)
    network.groups.add(Group.objects.get(name="manager"))

    new = migrate(AFTER)
    Cite = new.get_model("citedesmetiers", "Cite")
    Site = new.get_model("citedesmetiers", "Site")
    Membership = new.get_model("citedesmetiers", "StaffMembership")
    User = new.get_model("citedesmetiers", "User")

    cites = {site.slug: site.cite.name for site in Site.objects.select_related("cite")}
    assert cites == {
        "lyon": "Cité des métiers de Lyon",
        "villeurbanne": "Cité des métiers de Lyon",  # the same text, spaced differently
        "geneve": "Cité des métiers",
    }
    assert Cite.objects.count() == 2
    roles = {
        (m.site.slug if m.site else None, m.cite_id): set(m.roles.values_list("name", flat=True))
        for m in Membership.objects.filter(user__email="ana@lyon.test").select_related("site")
    }
    assert roles == {
        ("lyon", None): {"counsellor", "reception"},
        ("geneve", None): {"counsellor", "reception"},
    }
    (everywhere,) = Membership.objects.filter(user__email="nina@network.test")
    assert (everywhere.site_id, everywhere.cite_id) == (None, None)
    assert set(everywhere.roles.values_list("name", flat=True)) == {"manager"}
    assert not User.objects.filter(groups__isnull=False).exists()
    assert villeurbanne.pk in Site.objects.values_list("pk", flat=True)
