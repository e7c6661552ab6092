"""Thin Celery tasks: each takes primary keys and calls the module that does the work. Each has
an explicit name, so that the beat schedule, routes and messages already queued outlive a move."""

from celery import shared_task

from . import imports, usage

# The two import tasks are defined beside the work they run, which queues them: found here by
# the worker all the same.
from .imports.jobs import check_catalogue_import  # noqa: F401
from .imports.running import run_catalogue_import  # noqa: F401


@shared_task(name="resources.tasks.forget_searches")
def forget_searches() -> int:
    return usage.forget_searches()


@shared_task(name="resources.tasks.sweep_imports")
def sweep_imports() -> int:
    return imports.sweep()
