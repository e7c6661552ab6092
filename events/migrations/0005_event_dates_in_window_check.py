import datetime

from django.db import migrations, models


class Migration(migrations.Migration):
    """The database's own check of the window, once 0004 has moved every event into it (in a
    migration of its own: PostgreSQL alters no table with updates pending in the transaction)."""

    dependencies = [
        ("events", "0004_dates_in_window"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="event",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "ends_at__lte",
                        datetime.datetime(2101, 1, 3, 0, 0, tzinfo=datetime.UTC),
                    ),
                    (
                        "starts_at__gte",
                        datetime.datetime(1999, 12, 31, 0, 0, tzinfo=datetime.UTC),
                    ),
                ),
                name="event_dates_in_window",
                violation_error_message="Give a date between 2000 and 2100.",
            ),
        ),
    ]
