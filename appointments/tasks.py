from celery import shared_task

from . import services


@shared_task(name="appointments.tasks.send_reminders")
def send_reminders() -> int:
    return services.send_reminders()


@shared_task(name="appointments.tasks.purge_contacts")
def purge_contacts() -> int:
    """The slots that have passed: their no-shows said, then the contacts past the retention
    erased. Returns how many appointments had their contact erased."""
    services.mark_no_shows()
    return services.purge_contacts()
