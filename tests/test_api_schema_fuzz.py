"""schemathesis against /api/schema/: every operation, for each role, with bounded,
deterministic examples. No answer may be a 5xx, and every status code, content type,
header and body must be one the schema describes.

Random ids would only ever find nothing, so half the generated path ids are swapped
for real ones (an open session, a published wave) before the call."""

from datetime import date

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from hypothesis import HealthCheck, settings

from analytics.publishing import publish
from surveys import services, submission
from tests.conftest import answers_for

schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]
ROLES = ["anonymous", "teacher", "leader", "district_admin", "researcher", "other_leader"]
REAL_IDS = {}  # path prefix -> a real public id, set by the `api_world` fixture
STATUSES = []  # the status codes the API answered with, for the operation under test
# Operations where the fuzzing must also have reached a real object.
MUST_SUCCEED = {"GET /api/v1/waves/": 200, "GET /api/v1/waves/{public_id}/snapshot/": 200,
                "GET /api/v1/sessions/{public_id}/participation/": 200}


@schema.hook
def map_path_parameters(ctx, path_parameters):
    """Half the time (by the drawn id's length, so it stays deterministic) the id of a
    real object of the operation's kind."""
    if not path_parameters:
        return path_parameters
    generated = str(path_parameters.get("public_id", ""))
    path = ctx.operation.path if ctx.operation else ""
    for prefix, real in REAL_IDS.items():
        if path.startswith(prefix) and len(generated) % 2 == 0:
            path_parameters["public_id"] = real
    return path_parameters


@schema.hook
def after_call(ctx, case, response):
    STATUSES.append(response.status_code)


def submit_many(session, instrument, count):
    for i in range(count):
        submission.submit_to(session.public_id, {
            "client_id": f"00000000-0000-4000-8000-{session.id:04d}{i:08d}",
            "language": "en", "demographics": {"gender": ["girl", "boy"][i % 2]},
            "answers": answers_for(instrument, 1 + i % 4)})


@pytest.fixture
def in_test_transaction():
    """The calls go through WSGI in this thread, on the test's connection. Django's
    test client keeps that connection open across requests by unhooking
    close_old_connections; so does this."""
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def api_world(request, world, in_test_transaction):
    """A published wave (26 responses) and an open session of a later wave. Afterwards,
    checks that the operation's examples reached a real object, not only 404s."""
    leader = world["leader"]
    published = services.open_wave(world["wave"], by=leader)
    for name in ("7A", "7B"):
        session = services.open_session(published, world["classes"][name], by=leader)
        submit_many(session, world["instrument"], 13)
    services.close_wave(published, by=leader)
    publish(published.id)
    spring = services.create_wave(world["series"], by=leader, label="Spring 2027",
                                  season="spring", starts_on=date(2027, 3, 1))
    spring = services.open_wave(spring, by=leader)
    open_session = services.open_session(spring, world["classes"]["7A"], by=world["teacher"])
    REAL_IDS.update({"/api/v1/waves/": published.public_id,
                     "/api/v1/sessions/": open_session.public_id})
    STATUSES.clear()
    yield world
    REAL_IDS.clear()
    for operation, status in MUST_SUCCEED.items():
        if f"[{operation}]" in request.node.name:
            assert status in STATUSES, (operation, sorted(set(STATUSES)))


@pytest.fixture
def credentials(api_world):
    """Each role's session cookie (and CSRF token, for POSTs through the session); the
    anonymous caller sends none."""
    found = {"anonymous": {"cookies": {}, "headers": {}}}
    for role in ROLES[1:]:
        client = Client()
        client.force_login(api_world[role])
        token = _get_new_csrf_string()
        found[role] = {
            "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": token},
            "headers": {"X-CSRFToken": token},
        }
    return found


@schema.parametrize()
@settings(max_examples=20, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_answers_as_its_schema_says(case, credentials):
    """Each generated request is sent once per role (the data is set up once per
    operation, which keeps the run short)."""
    for role in ROLES:
        case.call_and_validate(checks=CHECKS, cookies=credentials[role]["cookies"],
                               headers=credentials[role]["headers"])
