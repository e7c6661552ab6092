"""A registrant's writes: register, confirm the address, have the links sent again, cancel."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import emails, keys
from ..models import Event, Registration
from .places import EventError, confirm_place, locked_event, places_taken, promote

# A registration's e-mail is sent again (to an address registering again) only this long after
# it was made, and at most once per clock hour after that.
RESEND_AFTER = dt.timedelta(minutes=10)


def _mail_again(registration: Registration, now: dt.datetime) -> None:
    """Send the e-mail of the registration as it stands again, with fresh links: at most one
    an hour, so a script repeating an address cannot flood its owner."""
    emails.queue(
        registration.pk,
        emails.MailKind.of(registration.status),
        again=True,
        once_key=f"events.again:{registration.pk}:{now:%Y%m%d%H}",
    )


def _check_open(event: Event, now: dt.datetime) -> None:
    if event.status == Event.Status.CANCELLED:
        raise EventError(_("This event has been cancelled."))
    if event.status != Event.Status.PUBLISHED or not event.site_active:
        raise EventError(_("This event is not open for registration."))
    if not event.needs_registration:
        raise EventError(_("No registration is needed: just come along."))
    if event.starts_at <= now:
        raise EventError(_("This event has already started; registration is closed."))


def _take_place(event: Event, registration: Registration, now: dt.datetime) -> None:
    """Give `registration` a place if one is free, else a place on the waiting list (`event`
    comes locked from `locked_event`)."""
    if places_taken(event) < event.capacity:
        confirm_place(event, registration, now)
    else:
        registration.status = Registration.Status.WAITING


def register(
    *,
    event_id: int,
    pseudonym: str,
    email: str = "",
    language: str = "fr",
    source: str = Registration.Source.ONLINE,
    now: dt.datetime | None = None,
) -> tuple[Registration, bool]:
    """Take a place (or a place on the waiting list). Returns the registration and whether it is
    new. An address that already has a registration for the event gets its e-mail again (with
    fresh links), and nothing else: the caller must answer as for a new one, so that nobody
    learns from the answer whether an address is registered.

    A new registration without an e-mail address carries `manage_token`, the secret of its
    page, for the caller to show (it exists nowhere else)."""
    pseudonym = " ".join(pseudonym.split())[:60]
    email = email.strip().lower()
    if not pseudonym:
        raise EventError(_("Give a first name or a pseudonym."))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise EventError(_("This e-mail address is not valid.")) from None
    # Twice at most: the address's registration met at the insert may be cancelled before it
    # is read (then the next try takes a place); a second conflict is refused, never raised.
    for _attempt in range(2):
        found = _register_once(
            event_id=event_id,
            pseudonym=pseudonym,
            email=email,
            language=language,
            source=source,
            now=now,
        )
        if found is not None:
            return found
    raise EventError(_("Your registration could not be recorded. Please try again."))


def _register_once(
    *, event_id, pseudonym: str, email: str, language: str, source: str, now
) -> tuple[Registration, bool] | None:
    """`register`'s one try: the registration and whether it is new, or None when the address's
    registration that stopped the insert was gone when read."""
    try:
        with transaction.atomic():
            event = locked_event(event_id)
            # The time is read once the event is locked: places go in the order of created_at.
            now = now or timezone.now()
            _check_open(event, now)
            if event.confirm_by_email and source == Registration.Source.ONLINE and not email:
                raise EventError(
                    _(
                        "This event confirms registrations by e-mail: give an address, or "
                        "register at reception."
                    )
                )
            registration = Registration(
                event=event,
                pseudonym=pseudonym,
                email=email,
                language=language,
                source=source,
                created_at=now,
            )
            if event.confirm_by_email and email and source == Registration.Source.ONLINE:
                registration.status = Registration.Status.PENDING
            else:
                _take_place(event, registration, now)
            # One plain INSERT while the event is locked (bulk_create skips save()'s
            # bookkeeping; no signal listens to registrations).
            Registration.objects.bulk_create([registration])
            if email:
                emails.queue(registration.pk, emails.MailKind.of(registration.status))
            else:
                registration.manage_token = keys.issue(registration.pk, keys.MANAGE)
    except IntegrityError:
        # One active registration per address and event (a unique index): this address has
        # one already. Looked up only then, not on every registration.
        with transaction.atomic():
            existing = (
                Registration.objects.filter(
                    event_id=event_id, email=email, status__in=Registration.ACTIVE
                ).first()
                if email
                else None
            )
            if existing is None:
                return None
            now = now or timezone.now()
            # Within minutes of the registration its first e-mail is still on its way (a double
            # submit): one is enough.
            if existing.created_at < now - RESEND_AFTER:
                _mail_again(existing, now)
        return existing, False
    return registration, True


@transaction.atomic
def confirm_email(*, registration_id: int, now: dt.datetime | None = None) -> Registration:
    """The owner of the address confirmed it from the link of our e-mail: now the registration
    takes a place (or a place on the waiting list)."""
    now = now or timezone.now()
    registration = Registration.objects.filter(pk=registration_id).first()
    if registration is None:
        raise EventError(_("This registration does not exist."))
    event = locked_event(registration.event_id)
    registration = Registration.objects.select_for_update().get(pk=registration_id)
    if registration.status != Registration.Status.PENDING:
        return registration  # already confirmed (a second click) or cancelled
    _check_open(event, now)
    _take_place(event, registration, now)
    registration.email_confirmed_at = now
    registration.save(
        update_fields=["status", "confirmed_at", "reminder_sent_at", "email_confirmed_at"]
    )
    emails.queue(registration.pk, emails.MailKind.of(registration.status))
    return registration


@transaction.atomic
def send_links_again(*, registration_id: int, now: dt.datetime | None = None) -> None:
    """E-mail the registration again with fresh links, to its own address (for a link of an
    older version that can no longer be trusted). At most once an hour; nothing for a
    registration that is cancelled, without an address or whose event is over."""
    now = now or timezone.now()
    registration = (
        Registration.objects.select_related("event")
        .filter(pk=registration_id, status__in=Registration.ACTIVE)
        .exclude(email="")
        .first()
    )
    if registration is not None and registration.event.ends_at > now:
        _mail_again(registration, now)


@transaction.atomic
def cancel_registration(*, registration_id: int, now: dt.datetime | None = None) -> Registration:
    """Give the place back (or leave the waiting list); the first person waiting gets it."""
    now = now or timezone.now()
    registration = Registration.objects.filter(pk=registration_id).first()
    if registration is None:
        raise EventError(_("This registration does not exist."))
    event = locked_event(registration.event_id)
    registration = Registration.objects.select_for_update().get(pk=registration_id)
    if registration.status == Registration.Status.CANCELLED:
        raise EventError(_("This registration was already cancelled."))
    if event.ends_at <= now:
        raise EventError(_("This event is over."))
    held_place = registration.status == Registration.Status.CONFIRMED
    registration.status = Registration.Status.CANCELLED
    registration.cancelled_at = now
    registration.save(update_fields=["status", "cancelled_at"])
    # Its links stop working: whoever held one (a forwarded e-mail) can do nothing more.
    keys.revoke(registration.pk)
    # Once the event has begun, a freed place goes to nobody: whoever waits is not coming now.
    if held_place and event.status == Event.Status.PUBLISHED and event.starts_at > now:
        promote(event, now)
    return registration
