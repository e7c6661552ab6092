from .outbox import drain_outbox  # noqa: F401 (the outbox's own task, found here by the worker)
