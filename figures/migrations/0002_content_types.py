"""The content types of the moved models follow them into `figures`, so that their permissions,
and whoever was given them, stay as they were (Django would otherwise make new ones)."""

from django.db import migrations

MOVED = ["aggregatedday", "dailystat", "monthlyreport"]


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(
        ContentType.objects.filter(app_label="figures", model__in=MOVED).values_list(
            "model", flat=True
        )
    )
    ContentType.objects.filter(app_label="citedesmetiers", model__in=MOVED).exclude(
        model__in=taken
    ).update(app_label="figures")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("figures", "0001_initial"),
    ]

    operations = [migrations.RunPython(move_content_types, migrations.RunPython.noop)]
