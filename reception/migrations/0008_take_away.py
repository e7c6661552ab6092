# The take-away list moves here from resources (TakeAwayItem) and events (TakeAwayEvent): it
# belongs to the visit. Its tables keep their names: state only, no change to the database.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0005_event_dates_in_window_check"),
        ("reception", "0007_late_check_in_day"),
        ("resources", "0004_catalogue_imports"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="TakeAwayItem",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("added_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "resource",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="take_away_items",
                                to="resources.resource",
                            ),
                        ),
                        (
                            "visit",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="take_away",
                                to="reception.visit",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "resources_takeawayitem",
                        "ordering": ["added_at", "pk"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("visit", "resource"), name="takeaway_once_per_visit"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="TakeAwayEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("added_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "event",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="events.event",
                            ),
                        ),
                        (
                            "visit",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="take_away_events",
                                to="reception.visit",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "events_takeawayevent",
                        "ordering": ["added_at", "pk"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("visit", "event"), name="takeaway_event_once_per_visit"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
