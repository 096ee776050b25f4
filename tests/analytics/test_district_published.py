"""A district-wide wave published once for the module (conftest.module_rows) and only
read by its tests: one part per school and the district level, the audit of everything
published together, and what a school leader and the district admin get. The wave is
`fielded` of test_district_publish.py (Hilltop, Lakeside and two small schools under k);
the tests that publish waves of their own are there."""

import json

import pytest
from django.db import connection

from analytics.audit import audit
from analytics.publishing import publish

from .dashboard_pages import shared_publication
from .test_district_publish import (
    everything_published,
    field_and_close,
    groups_of,
    open_district_wave,
)

pytestmark = pytest.mark.django_db


def publish_fielded(world):
    """The fielded district-wide wave and its snapshot."""
    wave = field_and_close(world, open_district_wave(world))
    return wave, publish(wave.id)


published, world, wave_and_snapshot = shared_publication(publish_fielded, "wave_and_snapshot")


@pytest.fixture
def fielded(wave_and_snapshot):
    return wave_and_snapshot[0]


@pytest.fixture
def snap(wave_and_snapshot):
    return wave_and_snapshot[1]


def strip_basis(components):
    return {key: {f: v for f, v in c.items() if f != "sd_of"} for key, c in components.items()}


def test_a_district_wave_publishes_a_part_per_school_and_the_district_level(world, fielded, snap):
    parts = {p.school.name: p for p in snap.parts.select_related("school")}
    assert set(parts) == {"Hilltop", "Lakeside", "Brookside", "Creekside"}
    assert groups_of(parts["Hilltop"].data)["school"]["n"] == 49
    assert groups_of(parts["Lakeside"].data)["school"]["n"] == 25
    assert groups_of(parts["Brookside"].data)["school"]["suppressed"]
    district = groups_of(snap.data)
    assert snap.data["level"] == "district"
    rows = {g["label"]: g for g in snap.data["groups"] if g["kind"] == "school"}
    assert rows["Hilltop"]["n"] == 49 and rows["Lakeside"]["n"] == 25
    assert rows["Brookside"]["suppressed"] and rows["Creekside"]["suppressed"]
    # The two small schools together hold 15, enough that subtracting the shown schools
    # from the district leaves every size under k possible for each: the total is shown.
    assert district["district"]["n"] == 49 + 25 + 6 + 9
    # The school rows show exactly what each school's own part shows; only the name of
    # the group whose SD it is differs ("school" in the part, the school's key here).
    row, own = rows["Hilltop"]["components"], groups_of(parts["Hilltop"].data)["school"][
        "components"]
    assert strip_basis(row) == strip_basis(own)
    assert {c.get("sd_of") for c in own.values()} <= {"school", None}
    # The same holds for every measure the audit sees: the district level never hides a
    # value a part shows (that would hide nothing) and hides all that a part hides.
    for name in ("Hilltop", "Lakeside"):
        part = parts[name]
        own = part.published["groups"]["school"]["measures"]
        row = snap.audit["published"]["groups"][f"school:{part.school.public_id}"]["measures"]
        assert row == own
    fielded.refresh_from_db()
    assert fielded.status == "published"


def test_subtracting_schools_from_the_district_recovers_nothing(world, fielded, snap):
    pub, rels, also, same, small = everything_published(snap)
    assert audit(pub, rels, snap.data["k"], also=also, same=same, small=small) == []
    # The check can fail: were Creekside's size shown beside the district total, the
    # district minus the shown schools would be Brookside's size.
    leaky = dict(pub, groups=dict(pub["groups"]))
    creek = next(k for k in pub["groups"] if k != "district"
                 and snap.parts.get(school__name="Creekside").school.public_id in k)
    brook = next(k for k in pub["groups"] if k != "district"
                 and snap.parts.get(school__name="Brookside").school.public_id in k)
    leaky["groups"][creek] = {"suppressed": False, "n": 9, "measures": {}}
    found = audit(leaky, rels, snap.data["k"], also=also, same=same, small=small)
    assert any(f.group == brook and f.condition == "count" for f in found)


def test_a_leader_sees_their_own_school_part_and_the_admin_the_district(
    world, fielded, snap, client
):
    hilltop, lakeside = world["school"], world["other_school"]
    client.force_login(world["leader"])
    url = f"/api/v1/waves/{fielded.public_id}/snapshot/"
    mine = client.get(url).json()
    assert mine["school"]["public_id"] == hilltop.public_id
    assert {g["key"] for g in mine["groups"]} >= {"school"}
    assert client.get(url, {"school": lakeside.public_id}).status_code == 404
    page = client.get(f"/waves/{fielded.public_id}/dashboard/")
    assert page.status_code == 200 and "Whole school" in page.content.decode()
    client.force_login(world["district_admin"])
    whole = client.get(url).json()
    assert whole["level"] == "district" and len(whole["groups"]) == 5
    assert client.get(url, {"school": lakeside.public_id}).json()["school"]["name"] \
        == "Lakeside"
    assert snap.data["k"] == 10


def test_published_documents_are_kept_as_written_json(snap):
    """On PostgreSQL a snapshot's documents are `json` text, not `jsonb` (analytics.fields:
    written once, read whole, never searched inside), and read back as they were written."""
    part = snap.parts.first()
    with connection.cursor() as cur:
        cur.execute("SELECT pg_typeof(p.published)::text, p.published::text, s.data::text "
                    "FROM analytics_snapshotpart p, analytics_snapshot s "
                    "WHERE p.id = %s AND s.id = %s", [part.id, snap.id])
        kind, published, data = cur.fetchone()
    assert kind == "json"
    assert json.loads(published) == part.published and json.loads(data) == snap.data
    assert part.published["groups"] and snap.data["groups"]
