"""The daily figures and the monthly reports now belong to the `figures` app (its 0001 takes
them over with their tables): forgotten here, without touching the database."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("citedesmetiers", "0011_cite_reports"),
        # After figures holds them, so that their foreign keys to Site and Cite keep resolving.
        ("figures", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AggregatedDay"),
                migrations.DeleteModel(name="DailyStat"),
                migrations.DeleteModel(name="MonthlyReport"),
            ],
            database_operations=[],
        ),
    ]
