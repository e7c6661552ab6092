"""The Celery application. Tasks take primary keys, never model instances, and are sent after
commit (`task.delay_on_commit(pk)`), so a worker never reads a row that is not there yet."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citedesmetiers.settings")

app = Celery("citedesmetiers")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
