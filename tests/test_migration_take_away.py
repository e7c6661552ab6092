"""The take-away list moved from resources and events to reception, on the same tables: the rows a
database held before the move are the lists reception reads after it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("reception", "0007_late_check_in_day"),
    ("resources", "0004_catalogue_imports"),
    ("events", "0005_event_dates_in_window_check"),
]
AFTER = [
    ("reception", "0008_take_away"),
    ("resources", "0005_take_away_moved_to_reception"),
    ("events", "0006_take_away_moved_to_reception"),
]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_the_latest_schema():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_the_lists_made_before_the_move_are_read_through_reception():
    old = migrate(BEFORE)
    site = old.get_model("citedesmetiers", "Site").objects.create(slug="lyon", name="Lyon")
    theme = old.get_model("citedesmetiers", "Theme").objects.create(
        site=site, name="Jobs", letter="A"
    )
    now = timezone.now()
    visit = old.get_model("reception", "Visit").objects.create(
        site=site,
        theme=theme,
        first_theme=theme,
        local_date=now.date(),
        letter="A",
        number=1,
        arrived_at=now,
        queued_at=now,
    )
    guide = old.get_model("resources", "Resource").objects.create(title="Guide")
    workshop = old.get_model("events", "Event").objects.create(
        site=site,
        title="CV workshop",
        starts_at=now + dt.timedelta(days=2),
        ends_at=now + dt.timedelta(days=2, hours=2),
    )
    old.get_model("resources", "TakeAwayItem").objects.create(visit=visit, resource=guide)
    old.get_model("events", "TakeAwayEvent").objects.create(visit=visit, event=workshop)

    new = migrate(AFTER)
    Item = new.get_model("reception", "TakeAwayItem")
    Event = new.get_model("reception", "TakeAwayEvent")
    assert list(Item.objects.values_list("visit_id", "resource__title")) == [(visit.pk, "Guide")]
    assert list(Event.objects.values_list("visit_id", "event__title")) == [
        (visit.pk, "CV workshop")
    ]
    # The catalogue sees a resource in use without a model of reception's.
    Resource = new.get_model("resources", "Resource")
    assert Resource.objects.filter(take_away_items__isnull=False).get().title == "Guide"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_schema")
def test_their_content_types_and_permissions_follow_them_and_back():
    before_types = [("reception", "0008_take_away")]
    old = migrate(before_types)
    ContentType = old.get_model("contenttypes", "ContentType")
    Permission = old.get_model("auth", "Permission")
    ContentType.objects.filter(model__in=["takeawayitem", "takeawayevent"]).delete()
    item = ContentType.objects.create(app_label="resources", model="takeawayitem")
    event = ContentType.objects.create(app_label="events", model="takeawayevent")
    Permission.objects.create(content_type=item, codename="view_takeawayitem", name="View")

    new = migrate([("reception", "0009_take_away_content_types")])
    moved = new.get_model("contenttypes", "ContentType").objects
    assert moved.get(pk=item.pk).app_label == moved.get(pk=event.pk).app_label == "reception"
    permission = new.get_model("auth", "Permission").objects.get(codename="view_takeawayitem")
    assert permission.content_type_id == item.pk

    back = migrate(before_types).get_model("contenttypes", "ContentType").objects
    assert (back.get(pk=item.pk).app_label, back.get(pk=event.pk).app_label) == (
        "resources",
        "events",
    )
