"""Cités become a model, and memberships hold roles at a site, a Cité or the network (the data
follows in 0007, the old columns go in 0008: each step in a transaction of its own, as PostgreSQL
cannot alter a table whose rows the same transaction changed)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("citedesmetiers", "0005_outbox"),
    ]

    operations = [
        migrations.CreateModel(
            name="Cite",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "slug",
                    models.SlugField(
                        max_length=40, unique=True, verbose_name="short name in addresses"
                    ),
                ),
                ("name", models.CharField(max_length=120, unique=True, verbose_name="name")),
                (
                    "labelled_since",
                    models.DateField(
                        blank=True,
                        help_text="When the network awarded the Cité des métiers label to this Cité.",
                        null=True,
                        verbose_name="label awarded on",
                    ),
                ),
                ("created", models.DateTimeField(auto_now_add=True, verbose_name="created")),
            ],
            options={
                "verbose_name": "Cité des métiers",
                "verbose_name_plural": "Cités des métiers",
                "ordering": ["name"],
            },
        ),
        # The Cité of each site, from its label.
        migrations.RenameField(model_name="site", old_name="cite", new_name="cite_name"),
        migrations.AddField(
            model_name="site",
            name="cite",
            field=models.ForeignKey(
                blank=True,
                help_text="The Cité this site or associated centre belongs to.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="sites",
                to="citedesmetiers.cite",
                verbose_name="Cité des métiers",
            ),
        ),
        # Memberships at a site, a Cité or the network, each with its roles.
        migrations.AlterModelOptions(
            name="staffmembership",
            options={"verbose_name": "membership", "verbose_name_plural": "memberships"},
        ),
        migrations.RemoveConstraint(
            model_name="staffmembership", name="membership_unique_user_site"
        ),
        migrations.AddField(
            model_name="staffmembership",
            name="roles",
            field=models.ManyToManyField(
                blank=True, related_name="memberships", to="auth.group", verbose_name="roles"
            ),
        ),
        migrations.AlterField(
            model_name="staffmembership",
            name="site",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="memberships",
                to="citedesmetiers.site",
            ),
        ),
        migrations.AddField(
            model_name="staffmembership",
            name="cite",
            field=models.ForeignKey(
                blank=True,
                help_text="For roles at every site of a Cité. Leave both empty for the whole network.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="memberships",
                to="citedesmetiers.cite",
                verbose_name="Cité des métiers",
            ),
        ),
        migrations.AddConstraint(
            model_name="staffmembership",
            constraint=models.CheckConstraint(
                condition=models.Q(("site__isnull", True), ("cite__isnull", True), _connector="OR"),
                name="membership_site_or_cite",
            ),
        ),
        migrations.AddConstraint(
            model_name="staffmembership",
            constraint=models.UniqueConstraint(
                condition=models.Q(("site__isnull", False)),
                fields=("user", "site"),
                name="membership_unique_user_site",
            ),
        ),
        migrations.AddConstraint(
            model_name="staffmembership",
            constraint=models.UniqueConstraint(
                condition=models.Q(("cite__isnull", False)),
                fields=("user", "cite"),
                name="membership_unique_user_cite",
            ),
        ),
        migrations.AddConstraint(
            model_name="staffmembership",
            constraint=models.UniqueConstraint(
                condition=models.Q(("cite__isnull", True), ("site__isnull", True)),
                fields=("user",),
                name="membership_unique_user_network",
            ),
        ),
    ]
