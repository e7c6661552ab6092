"""The daily figures and the monthly reports move from `citedesmetiers` into `figures`: a database
of the previous release, with rows in their tables, migrates forward with every row intact, read
through the new models, and their content types (so their permissions) follow them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from figures.models import AggregatedDay, DailyStat, MonthlyReport

BEFORE = [("citedesmetiers", "0011_cite_reports"), ("figures", None)]
MOVED = ["aggregatedday", "dailystat", "monthlyreport"]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    # The state after the nodes migrated to (an app migrated to None has none).
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.fixture
def back_to_the_latest_schema():
    yield
    migrate(latest())
    ContentType.objects.clear_cache()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_the_figures_and_reports_of_the_previous_release_are_read_through_figures():
    old = migrate(BEFORE)
    Cite = old.get_model("citedesmetiers", "Cite")
    Site = old.get_model("citedesmetiers", "Site")
    cite = Cite.objects.create(slug="lyon", name="Cité des métiers de Lyon")
    site = Site.objects.create(slug="lyon", name="Lyon", cite=cite)
    day = dt.date(2025, 2, 3)
    old.get_model("citedesmetiers", "DailyStat").objects.create(
        site=site, day=day, source="reception", metric="visits", key="hour=10", value=42
    )
    old.get_model("citedesmetiers", "AggregatedDay").objects.create(
        site=site, day=day, at=dt.datetime(2025, 2, 3, 19, tzinfo=dt.UTC)
    )
    old.get_model("citedesmetiers", "MonthlyReport").objects.create(
        cite=cite,
        month=dt.date(2025, 2, 1),
        status="done",
        file="reports/cite-lyon-2025-02.pdf",
        requested_at=dt.datetime(2025, 3, 1, 4, tzinfo=dt.UTC),
    )
    # As the previous release left them: its content types named the old app.
    ContentType.objects.filter(app_label="figures").delete()
    for model in MOVED:
        ContentType.objects.get_or_create(app_label="citedesmetiers", model=model)
    old_ids = dict(
        ContentType.objects.filter(app_label="citedesmetiers", model__in=MOVED).values_list(
            "model", "pk"
        )
    )

    new = migrate(latest())

    assert list(
        new.get_model("figures", "DailyStat").objects.values_list(
            "site__slug", "day", "source", "metric", "key", "value"
        )
    ) == [("lyon", day, "reception", "visits", "hour=10", 42)]
    assert list(DailyStat.objects.values_list("site__slug", "value")) == [("lyon", 42)]
    assert list(AggregatedDay.objects.values_list("site__slug", "day")) == [("lyon", day)]
    report = MonthlyReport.objects.select_related("cite").get()
    assert (report.place_key, report.status, report.file.name) == (
        "cite:lyon",
        "done",
        "reports/cite-lyon-2025-02.pdf",
    )
    assert site.pk in set(AggregatedDay.objects.values_list("site_id", flat=True))
    ContentType.objects.clear_cache()
    moved = dict(
        ContentType.objects.filter(app_label="figures", model__in=MOVED).values_list("model", "pk")
    )
    assert moved == old_ids
