from celery import shared_task

from . import usage


@shared_task
def forget_searches() -> int:
    return usage.forget_searches()
