"""A job says it is alive, and how far it got; a job whose heartbeat stops for
`CatalogueImport.STALE_AFTER` is taken over (`running.recover_stale`)."""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone

from ..models import CatalogueImport
from .errors import Superseded


def beat(job_id: int, runner: uuid.UUID | None = None, **fields: Any) -> None:
    """Say this job is alive (and how far it got); Superseded if someone else has it now."""
    jobs = CatalogueImport.objects.filter(pk=job_id)
    if runner is not None:
        jobs = jobs.filter(runner=runner, status=CatalogueImport.Status.RUNNING)
    if not jobs.update(heartbeat_at=timezone.now(), **fields) and runner is not None:
        raise Superseded
