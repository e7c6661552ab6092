"""Thin Celery tasks: each takes primary keys and calls the module that does the work."""

from celery import shared_task

from . import imports, usage


@shared_task
def forget_searches() -> int:
    return usage.forget_searches()


@shared_task
def check_catalogue_import(import_id: int) -> None:
    imports.check(import_id=import_id)


@shared_task
def run_catalogue_import(import_id: int) -> None:
    imports.run(import_id=import_id)


@shared_task
def sweep_imports() -> int:
    return imports.sweep()
