from django.db import migrations

# The network's five purposes, the same at every centre so that a shared record means the same
# everywhere, and common audiences.
PURPOSES = [
    ("find-a-job", "Trouver un emploi"),
    ("learn-about-professions", "S'informer sur les métiers"),
    ("find-a-training", "Trouver une formation"),
    ("change-your-job", "Changer de métier"),
    ("create-a-business", "Créer une entreprise"),
]
AUDIENCES = [
    ("everyone", "Tout public"),
    ("young-people", "Jeunes"),
    ("job-seekers", "Demandeurs d'emploi"),
    ("employees", "Salariés"),
    ("professionals", "Professionnels de l'orientation"),
]


def create(apps, schema_editor):
    Purpose = apps.get_model("resources", "Purpose")
    Audience = apps.get_model("resources", "Audience")
    for order, (slug, name) in enumerate(PURPOSES):
        Purpose.objects.get_or_create(slug=slug, defaults={"name": name, "order": order})
    for order, (slug, name) in enumerate(AUDIENCES):
        Audience.objects.get_or_create(slug=slug, defaults={"name": name, "order": order})


class Migration(migrations.Migration):
    dependencies = [("resources", "0002_french_search")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
