"""Every write of events, one module per use case: who holds a place (`places`), a registrant's
writes (`registration`), an organiser's on an event (`planning`) and on a series (`series`), the
door (`door`), and the sweeps beat runs (`reminders`, `purge`).

Capacity is never exceeded: every change of who holds a place locks the event row first
(`locked_event`), so simultaneous registrations are decided one after the other, in arrival
order. E-mails are written to the outbox in the same transaction, and sent after it commits."""

from .door import add_walk_ins, set_attendance
from .places import EventError, locked_event, reminder_due
from .planning import (
    EDITABLE,
    EventUpdate,
    cancel_event,
    create_event,
    editable,
    publish_event,
    update_event,
)
from .purge import purge_contacts
from .registration import (
    RESEND_AFTER,
    cancel_registration,
    confirm_email,
    register,
    send_links_again,
)
from .reminders import send_reminders
from .series import create_series, publish_series

__all__ = [
    "EDITABLE",
    "RESEND_AFTER",
    "EventError",
    "EventUpdate",
    "add_walk_ins",
    "cancel_event",
    "cancel_registration",
    "confirm_email",
    "create_event",
    "create_series",
    "editable",
    "locked_event",
    "publish_event",
    "publish_series",
    "purge_contacts",
    "register",
    "reminder_due",
    "send_links_again",
    "send_reminders",
    "set_attendance",
    "update_event",
]
