"""Structured logs: one JSON object a line, each carrying the request id.

DESIGN.md: logs carry no answers and no identifiers. The formatter writes an
allow-list of fields, never a record's `extra` attributes (Django attaches the
whole request to some records), and blanks anything shaped like a pseudonym
(64 hex digits, e.g. in a database error's DETAIL line). SQL with its
parameters is never logged (settings.LOGGING keeps django.db.backends at INFO).
"""

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime

from django.core.signals import request_finished

request_id = ContextVar("request_id", default="-")

# What an incoming X-Request-ID may look like: a UUID or a proxy's token, nothing that
# could smuggle a line break or markup into the logs.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,99}$")
HEX64 = re.compile(r"\b[0-9a-fA-F]{64}\b")
# Extra record attributes that are safe to write when a caller sets them.
ALLOWED_EXTRAS = ("status_code", "duration_ms", "task_id", "task_name")


def redact(text):
    return HEX64.sub("[redacted]", text)


class RequestIdFilter(logging.Filter):
    """Adds the current request id (or Celery task's) to every record."""

    def filter(self, record):
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", request_id.get()),
        }
        for name in ALLOWED_EXTRAS:
            value = getattr(record, name, None)
            if isinstance(value, (int, float, str)):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def forget_request_id(**kwargs):
    request_id.set("-")


request_finished.connect(forget_request_id, dispatch_uid="belonging.logs.forget_request_id")


def connect_celery():
    """Celery keeps Django's LOGGING (no handlers of its own), carries the request id of
    whoever queued a task, and uses the task's id where there was none."""
    from celery import signals

    @signals.setup_logging.connect(weak=False)
    def keep_django_logging(**kwargs):
        from logging.config import dictConfig

        from django.conf import settings

        dictConfig(settings.LOGGING)

    @signals.before_task_publish.connect(weak=False)
    def send_request_id(headers=None, **kwargs):
        if headers is not None and request_id.get() != "-":
            headers["request_id"] = request_id.get()

    @signals.task_prerun.connect(weak=False)
    def take_request_id(task_id=None, task=None, **kwargs):
        sent = getattr(task.request, "request_id", None) if task else None
        running = request_id.get()  # a task run eagerly inside a request keeps its id
        own = running if running != "-" else task_id or "-"
        task.request.belonging_token = request_id.set(sent or own)

    @signals.task_postrun.connect(weak=False)
    def drop_request_id(task=None, **kwargs):
        token = getattr(task.request, "belonging_token", None) if task else None
        if token is not None:
            request_id.reset(token)
