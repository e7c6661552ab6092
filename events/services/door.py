"""At the door: who came, and how many came without registering."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from ..models import Event, Registration
from .places import EventError, locked_event


@transaction.atomic
def set_attendance(*, registration_id: int, attended: bool | None) -> Registration:
    registration = Registration.objects.select_for_update().filter(pk=registration_id).first()
    if registration is None:
        raise EventError(_("This registration does not exist."))
    if registration.status != Registration.Status.CONFIRMED:
        raise EventError(_("Only registered people can be marked present."))
    registration.attended = attended
    registration.save(update_fields=["attended"])
    return registration


@transaction.atomic
def add_walk_ins(*, event_id: int, delta: int) -> Event:
    event = locked_event(event_id)
    event.walk_ins = max(0, event.walk_ins + delta)
    event.save(update_fields=["walk_ins"])
    return event
