"""The product's URLs plus the BASELINE submission endpoint of benchmarks/submit.py.

The baseline is the floor for storing one response with Django: a bare view that parses
the JSON and inserts the same Response row (all answer columns) with the ORM in one
transaction. No validation, no idempotency check, no DRF. The session and the item-key to
column map are looked up once per worker process and kept, so the only database work per
request is the INSERT and its COMMIT.
"""

import json

from django.db import transaction
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from surveys.models import Response, Session

_targets = {}


def _target(public_id):
    target = _targets.get(public_id)
    if target is None:
        session = Session.objects.select_related(
            "class_group", "wave__series__instrument"
        ).get(public_id=public_id)
        columns = {item.key: item.column for item in session.wave.series.instrument.items.all()}
        target = _targets[public_id] = (session, columns)
    return target


@csrf_exempt
@require_POST
def baseline_submit(request, public_id):
    session, columns = _target(public_id)
    payload = json.loads(request.body)
    demographics = payload.get("demographics") or {}
    cg = session.class_group
    with transaction.atomic():
        response = Response.objects.create(
            client_id=payload["client_id"], wave_id=session.wave_id, session_id=session.id,
            class_group_id=cg.id, school_id=cg.school_id, year_level=cg.year_level,
            gender=demographics.get("gender", ""),
            home_language=demographics.get("home_language", ""),
            language=payload.get("language", "en"),
            **{columns[key]: value for key, value in payload["answers"].items()},
        )
    return JsonResponse({"client_id": str(response.client_id), "stored": True}, status=201)


urlpatterns = [
    path("bench/baseline/<str:public_id>/responses/", baseline_submit, name="bench-baseline"),
    path("", include("belonging.urls")),
]
