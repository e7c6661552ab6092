from celery import shared_task

from . import emails, services


@shared_task
def send_registration_mail(registration_id: int, kind: str) -> None:
    """Left for the messages an older version queued in the broker before an upgrade: the
    e-mails now go through the outbox (`emails.queue`)."""
    emails.queue(registration_id, kind)


@shared_task
def send_reminders() -> int:
    return services.send_reminders()


@shared_task
def purge_contacts() -> int:
    return services.purge_contacts()
