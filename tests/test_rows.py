"""`citedesmetiers.rows`, the desk's statements in fixed SQL: what they read and write is what the
ORM reads and writes, on SQLite (whose converters turn text into datetimes, UUIDs and booleans)
as on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction
from django.db.models import F
from django.db.transaction import TransactionManagementError

from citedesmetiers import rows
from counselling import services
from counselling.models import DeskSession, Outcome
from counselling.services.sessions import _locked_session
from reception.models import Call, Visit
from tests.counselling_fixtures import make_desk, open_session, queue_visit

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def _visit_read(pk: int) -> Visit:
    (visit,) = rows.fetch_one(
        f"SELECT {rows.columns(Visit, 'v')} FROM {rows.table(Visit)} v WHERE v.id = %s",  # noqa: S608
        [pk],
        Visit,
    )
    return visit


def test_a_read_makes_the_instance_the_orm_makes(centre):
    session = open_session(centre.counsellor_a, make_desk(centre.alpha, "Desk 1", "E"))
    visit = queue_visit(centre.alpha, "E")
    services.call_next(session_id=session.pk, counsellor=centre.counsellor_a)
    read = _visit_read(visit.pk)
    assert _fields(read) == _fields(Visit.objects.get(pk=visit.pk))
    assert read.called_at.tzinfo is not None and read.by_appointment is False
    assert read._state.adding is False
    assert (
        rows.fetch_one(
            f"SELECT {rows.columns(Visit)} FROM {rows.table(Visit)} WHERE id = %s",  # noqa: S608
            [visit.pk + 1000],
            Visit,
        )
        is None
    )


def test_the_desk_lock_reads_the_session_desk_and_site_as_select_related_does(
    centre, django_assert_num_queries
):
    session = open_session(centre.counsellor_a, make_desk(centre.alpha, "Desk 1", "E"))
    with transaction.atomic():
        locked = _locked_session(None, centre.counsellor_a, site_id=centre.alpha.pk)
    orm = DeskSession.objects.select_related("desk", "desk__site").get(pk=session.pk)
    with django_assert_num_queries(0):  # the desk and the site came with the session
        pairs = [(locked, orm), (locked.desk, orm.desk), (locked.desk.site, orm.desk.site)]
    for read, expected in pairs:
        assert _fields(read) == _fields(expected)


def test_writes_store_what_save_stores(centre):
    desk = make_desk(centre.alpha, "Desk 1", "E")
    visit = queue_visit(centre.alpha, "E")
    calls = [Call(site=centre.alpha, visit=visit, desk=desk, at=visit.arrived_at) for _ in "ab"]
    rows.insert(*calls)
    assert [c.pk for c in calls] == list(
        Call.objects.filter(visit=visit).order_by("pk").values_list("pk", flat=True)
    )
    assert all(_fields(c) == _fields(Call.objects.get(pk=c.pk)) for c in calls)

    rows.update(visit, visit.call(desk, visit.arrived_at))
    assert _fields(Visit.objects.get(pk=visit.pk)) == _fields(visit)


def test_writes_refuse_what_save_would_refuse(centre):
    desk = make_desk(centre.alpha, "Desk 1", "E")
    visit = queue_visit(centre.alpha, "E")
    Visit.objects.filter(pk=visit.pk).delete()
    with pytest.raises(DatabaseError):
        rows.update(visit, ["status"])
    # An expression is the ORM's to compile: refused before anything is written.
    other = queue_visit(centre.alpha, "E")
    with pytest.raises(TypeError):
        rows.insert(Call(site=centre.alpha, visit=other, desk=desk, at=F("at")))
    assert not Call.objects.exists()
    assert not Outcome.objects.exists()


@pytest.mark.django_db(transaction=True)  # no test transaction around it
def test_a_locked_read_needs_a_transaction():
    with pytest.raises(TransactionManagementError):
        rows.for_update(of="v")
    with transaction.atomic():
        assert rows.for_update(of="v") in ("", " FOR UPDATE OF v")
