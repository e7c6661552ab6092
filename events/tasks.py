from celery import shared_task

from . import emails, services
from .models import Registration


@shared_task(bind=True, max_retries=5, default_retry_delay=60)
def send_registration_mail(self, registration_id: int, kind: str) -> None:
    registration = (
        Registration.objects.select_related("event", "event__site")
        .filter(pk=registration_id)
        .first()
    )
    if registration is None:
        return
    try:
        emails.send(registration, kind)
    except OSError as error:  # SMTP down: try again later
        raise self.retry(exc=error) from error


@shared_task
def send_reminders() -> int:
    return services.send_reminders()


@shared_task
def purge_contacts() -> int:
    return services.purge_contacts()
