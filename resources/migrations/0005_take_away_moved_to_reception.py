# TakeAwayItem now belongs to reception (reception.0008_take_away), on the same table: state only.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reception", "0008_take_away"),
        ("resources", "0004_catalogue_imports"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="TakeAwayItem")],
            database_operations=[],
        ),
    ]
