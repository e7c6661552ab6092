"""The content types of the moved models follow them into `figures`, so that their permissions,
and whoever was given them, stay as they were (Django would otherwise make new ones)."""

from django.db import migrations

MOVED = ["aggregatedday", "dailystat", "monthlyreport"]


def _move(apps, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = set(
        ContentType.objects.filter(app_label=target, model__in=MOVED).values_list(
            "model", flat=True
        )
    )
    ContentType.objects.filter(app_label=source, model__in=MOVED).exclude(model__in=taken).update(
        app_label=target
    )


def move_content_types(apps, schema_editor):
    _move(apps, "citedesmetiers", "figures")


def move_them_back(apps, schema_editor):
    _move(apps, "figures", "citedesmetiers")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("figures", "0001_initial"),
    ]

    operations = [migrations.RunPython(move_content_types, move_them_back)]
