# TakeAwayEvent now belongs to reception (reception.0008_take_away), on the same table: state only.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0005_event_dates_in_window_check"),
        ("reception", "0008_take_away"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="TakeAwayEvent")],
            database_operations=[],
        ),
    ]
