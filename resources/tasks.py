"""Thin Celery tasks: each takes primary keys and calls the module that does the work. Each has
an explicit name, so that the beat schedule, routes and messages already queued outlive a move."""

from celery import shared_task

from . import imports, usage


@shared_task(name="resources.tasks.forget_searches")
def forget_searches() -> int:
    return usage.forget_searches()


@shared_task(name="resources.tasks.check_catalogue_import")
def check_catalogue_import(import_id: int) -> None:
    imports.check(import_id=import_id)


@shared_task(name="resources.tasks.run_catalogue_import")
def run_catalogue_import(import_id: int) -> None:
    imports.run(import_id=import_id)


@shared_task(name="resources.tasks.sweep_imports")
def sweep_imports() -> int:
    return imports.sweep()
