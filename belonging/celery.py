"""The Celery application. Tasks live in each app's tasks.py and take ids."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "belonging.settings")

app = Celery("belonging")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# JSON logs with request ids in the worker too (belonging/logs.py).
from belonging.logs import connect_celery  # noqa: E402

connect_celery()
