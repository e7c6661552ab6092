from celery import shared_task

from . import emails, services


@shared_task(name="events.tasks.send_registration_mail")
def send_registration_mail(registration_id: int, kind: str) -> None:
    """Left for the messages an older version queued in the broker before an upgrade: the
    e-mails now go through the outbox (`emails.queue`). A kind this version does not know is
    dropped, as `emails.send` would."""
    if kind in set(emails.MailKind):
        emails.queue(registration_id, emails.MailKind(kind))


@shared_task(name="events.tasks.send_reminders")
def send_reminders() -> int:
    return services.send_reminders()


@shared_task(name="events.tasks.purge_contacts")
def purge_contacts() -> int:
    return services.purge_contacts()
