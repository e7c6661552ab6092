"""The content types of the take-away models follow them into `reception`, so that their
permissions, and whoever was given them, stay as they were (Django would otherwise make new ones)."""

from django.db import migrations

MOVED = {"takeawayitem": "resources", "takeawayevent": "events"}


def _move(apps, *, to_reception: bool) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model, old_app in MOVED.items():
        source, target = (old_app, "reception") if to_reception else ("reception", old_app)
        if not ContentType.objects.filter(app_label=target, model=model).exists():
            ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def forwards(apps, schema_editor):
    _move(apps, to_reception=True)


def backwards(apps, schema_editor):
    _move(apps, to_reception=False)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("reception", "0008_take_away"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
