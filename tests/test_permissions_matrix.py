"""Who may do what: one row per (method, url, persona, expected status). Every URL is
also tried by a leader of another school, who must get 404 (missing and forbidden
look the same), and by an anonymous visitor."""

import uuid
from datetime import date, timedelta

import pytest
from django.utils import timezone

from analytics.models import PublishRun
from analytics.publishing import publish
from research import services as research
from research.models import ExportJob
from surveys import services
from surveys.models import Response

PERSONAS = ["leader", "teacher", "district_admin", "researcher", "other_leader", "anonymous"]


@pytest.fixture
def objects(world):
    leader = world["leader"]
    wave = world["wave"]
    wave = services.open_wave(wave, by=leader)
    own = services.open_session(wave, world["classes"]["7A"], by=leader)
    not_taught = services.open_session(wave, world["classes"]["8A"], by=leader)
    done = services.create_wave(world["series"], by=leader, label="Spring", season="spring",
                                starts_on=date(2026, 3, 1))
    done = services.open_wave(done, by=leader)
    s = services.open_session(done, world["classes"]["7A"], by=leader)
    Response.objects.bulk_create([
        Response(client_id=uuid.uuid4(), wave=done, session=s, class_group=s.class_group,
                 school=world["school"], year_level=7, gender="girl", v01=2, v02=3, v03=3,
                 v04=2, v05=3, v06=i % 4 + 1) for i in range(12)])
    services.close_wave(done, by=leader)
    publish(done.id)
    PublishRun.objects.create(wave=done, status="done", progress=100)
    agreement = research.create_agreement(
        by=leader, researcher=world["researcher"], schools=[world["school"]], waves=[done],
        purpose="Matrix", starts_on=timezone.localdate(),
        expires_on=timezone.localdate() + timedelta(days=30), k=10)
    job = ExportJob.objects.create(agreement=agreement, requested_by=world["researcher"],
                                   format="csv")
    district_series = services.create_district_series(
        world["district"], by=world["district_admin"], name="Matrix district",
        instrument=world["instrument"])
    return {"wave": wave, "own": own, "not_taught": not_taught, "published": done,
            "school": world["school"], "district": world["district"],
            "agreement": agreement, "job": job, "district_series": district_series,
            "class_7a": world["classes"]["7A"], "lakeside_class": world["other_class"]}


def rows():
    s, w, p = "{school}", "{wave}", "{published}"
    own, other = "{own}", "{not_taught}"
    return [
        # (method, url, {persona: status}); personas not listed expect 404.
        ("get", "/teach/", {"leader": 200, "teacher": 200, "district_admin": 200,
                            "researcher": 200, "other_leader": 200}),
        ("get", f"/schools/{s}/", {"leader": 200, "district_admin": 200}),
        ("post", f"/schools/{s}/series/", {"leader": 302, "district_admin": 302}),
        ("post", f"/waves/{w}/close/", {"leader": 302, "district_admin": 302}),
        ("post", "/teach/sessions/open/?own", {"leader": 302, "teacher": 302}),
        ("get", f"/teach/sessions/{own}/", {"leader": 200, "teacher": 200}),
        ("get", f"/teach/sessions/{other}/", {"leader": 200}),
        ("get", f"/teach/sessions/{own}/projector/", {"leader": 200, "teacher": 200}),
        ("post", f"/teach/sessions/{own}/close/", {"leader": 302, "teacher": 302}),
        ("get", f"/api/v1/sessions/{own}/participation/",
         {"leader": 200, "teacher": 200, "district_admin": 200, "researcher": 403}),
        ("get", f"/api/v1/sessions/{other}/participation/",
         {"leader": 200, "district_admin": 200, "researcher": 403}),
        ("get", f"/waves/{p}/dashboard/", {"leader": 200, "teacher": 200,
                                           "district_admin": 200}),
        ("get", f"/api/v1/waves/{p}/snapshot/", {"leader": 200, "teacher": 200,
                                                 "district_admin": 200, "researcher": 403}),
        ("get", f"/api/v1/waves/{p}/publishing/", {"leader": 200, "district_admin": 200,
                                                   "teacher": 403, "researcher": 403}),
        ("get", "/api/v1/waves/", {"leader": 200, "teacher": 200, "district_admin": 200,
                                   "researcher": 403, "other_leader": 200}),
        ("get", "/districts/{district}/", {"district_admin": 200}),
        ("get", "/districts/{district}/results/", {"district_admin": 200}),
        ("get", "/results/", {"leader": 200, "teacher": 200, "district_admin": 200,
                              "researcher": 200, "other_leader": 200}),
        # Erasure (leaders of the school only) and the audit log.
        ("get", f"/schools/{s}/erasure/", {"leader": 200}),
        ("get", f"/schools/{s}/erasure/waves/{p}/", {"leader": 200}),
        ("post", f"/schools/{s}/erasure/waves/{w}/", {"leader": 400}),
        ("get", f"/schools/{s}/audit/", {"leader": 200, "district_admin": 200}),
        ("get", "/districts/{district}/audit/", {"district_admin": 200}),
        # District-wide series pages (district admins of the district only; an empty
        # POST is a form with errors: 400) and opt-outs of a district-wide series (each
        # school's staff for their own classes: Lakeside's leader not for Hilltop's 7A).
        ("get", "/districts/{district}/series/new/", {"district_admin": 200}),
        ("post", "/districts/{district}/series/new/", {"district_admin": 400}),
        ("get", "/districts/{district}/series/{district_series}/", {"district_admin": 200}),
        ("post", "/districts/{district}/series/{district_series}/", {"district_admin": 400}),
        ("get", "/teach/consent/{district_series}/{class_7a}/", {"leader": 200, "teacher": 200}),
        ("post", "/teach/consent/{district_series}/{class_7a}/", {"leader": 302,
                                                                 "teacher": 302}),
        ("get", "/teach/consent/{district_series}/{lakeside_class}/", {"other_leader": 200}),
    ]


def research_rows():
    """Agreements (managers) and exports (researchers). The export API takes research
    tokens, so an anonymous caller gets 401 there; other roles lack the permission: 403."""
    a, j = "{agreement}", "{job}"
    api = {"leader": 403, "teacher": 403, "district_admin": 403, "other_leader": 403}
    return [
        ("get", "/research/agreements/", {"leader": 200, "district_admin": 200,
                                          "other_leader": 200}),
        ("post", f"/research/agreements/{a}/revoke/", {"leader": 302, "district_admin": 302}),
        ("get", "/research/", {"researcher": 200}),
        ("post", f"/research/agreements/{a}/exports/", {"researcher": 302}),
        ("get", f"/research/exports/{j}/download/", {"researcher": 409}),
        ("post", "/research/tokens/", {"researcher": 400}),
        ("get", "/api/v1/agreements/", {**api, "researcher": 200}),
        ("get", f"/api/v1/agreements/{a}/exports/", {**api, "researcher": 200}),
        ("post", f"/api/v1/agreements/{a}/exports/", {**api, "researcher": 202}),
        ("get", f"/api/v1/exports/{j}/", {**api, "researcher": 409}),
        ("get", f"/api/v1/exports/{j}/status/", {**api, "researcher": 200}),
    ]


TOKEN_APIS = ("/api/v1/agreements/", "/api/v1/exports/")

CASES = [(m, u, persona, expected.get(persona, 404))
         for m, u, expected in rows() + research_rows() for persona in PERSONAS]


@pytest.mark.parametrize("method, url, persona, expected", CASES)
def test_permission_matrix(client, world, objects, method, url, persona, expected):
    ids = {k: v.public_id for k, v in objects.items()}
    path = url.format(**ids)
    data = {}
    if path.startswith("/teach/sessions/open/"):
        path, data = "/teach/sessions/open/", {"wave": ids["wave"],
                                               "class": world["classes"]["7A"].public_id}
    if method == "post" and path.endswith("/exports/"):
        data = {"format": "csv"}
    if persona == "anonymous":
        expected = 403 if path.startswith("/api/") else 302
        expected = 401 if path.startswith(TOKEN_APIS) else expected
    else:
        client.force_login(world[persona])
    response = getattr(client, method)(path, data)
    assert response.status_code == expected, (method, path, persona)
    if persona == "anonymous" and expected == 302:
        assert response["Location"].startswith("/login/")
