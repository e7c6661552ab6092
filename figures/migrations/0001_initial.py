"""The daily figures and the monthly reports move from `citedesmetiers` into this app: their
tables stay as they are (`db_table`), only Django's idea of which app holds them changes.
`citedesmetiers` 0012 forgets them on its side, after this one."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("citedesmetiers", "0011_cite_reports"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AggregatedDay",
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
                        ("day", models.DateField()),
                        ("at", models.DateTimeField()),
                        (
                            "site",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="citedesmetiers.site",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "citedesmetiers_aggregatedday",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("site", "day"), name="aggregatedday_unique"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="DailyStat",
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
                        ("day", models.DateField()),
                        ("source", models.CharField(max_length=20)),
                        ("metric", models.CharField(max_length=40)),
                        ("key", models.CharField(blank=True, max_length=200)),
                        ("value", models.BigIntegerField()),
                        (
                            "site",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="daily_stats",
                                to="citedesmetiers.site",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "daily figure",
                        "verbose_name_plural": "daily figures",
                        "db_table": "citedesmetiers_dailystat",
                        "indexes": [
                            models.Index(
                                fields=["site", "metric", "day"], name="dailystat_metric_idx"
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("site", "day", "source", "metric", "key"),
                                name="dailystat_unique",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="MonthlyReport",
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
                        ("month", models.DateField(help_text="The first day of the month.")),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "waiting to be generated"),
                                    ("running", "being generated"),
                                    ("done", "ready"),
                                    ("failed", "failed"),
                                ],
                                default="pending",
                                max_length=10,
                            ),
                        ),
                        ("progress", models.PositiveSmallIntegerField(default=0)),
                        ("file", models.FileField(blank=True, upload_to="reports/")),
                        ("requested_at", models.DateTimeField()),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("task_id", models.CharField(blank=True, max_length=64)),
                        (
                            "attempts",
                            models.PositiveSmallIntegerField(
                                default=0,
                                help_text="Runs started for the last request (a lost worker's included).",
                            ),
                        ),
                        ("generated_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "failure",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("time_limit", "took longer than its time limit"),
                                    ("worker_lost", "its worker stopped each time"),
                                    ("error", "an error stopped it"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("error", models.CharField(blank=True, max_length=300)),
                        (
                            "cite",
                            models.ForeignKey(
                                blank=True,
                                help_text="For a Cité's report across its sites.",
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="reports",
                                to="citedesmetiers.cite",
                            ),
                        ),
                        (
                            "site",
                            models.ForeignKey(
                                blank=True,
                                help_text="Empty for a Cité's report and for the network's.",
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="reports",
                                to="citedesmetiers.site",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "monthly report",
                        "verbose_name_plural": "monthly reports",
                        "db_table": "citedesmetiers_monthlyreport",
                        "ordering": ["-month", "site__name"],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("site__isnull", False)),
                                fields=("site", "month"),
                                name="report_unique_site_month",
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(("cite__isnull", False)),
                                fields=("cite", "month"),
                                name="report_unique_cite_month",
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(("cite__isnull", True), ("site__isnull", True)),
                                fields=("month",),
                                name="report_unique_network_month",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("site__isnull", True), ("cite__isnull", True), _connector="OR"
                                ),
                                name="report_site_or_cite",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
