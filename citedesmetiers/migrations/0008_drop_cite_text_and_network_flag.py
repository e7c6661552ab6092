from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("citedesmetiers", "0007_sites_into_cites_and_roles_onto_memberships")]

    operations = [
        migrations.RemoveField(model_name="site", name="cite_name"),
        migrations.RemoveField(model_name="user", name="works_at_all_sites"),
    ]
