"""A district admin creates a district-wide series and its waves from the district's
pages; the waves then appear for every school of the district. Nobody else reaches
those pages (404, the same answer as for a missing district or series)."""

import re
from datetime import date

import pytest

from surveys import consent, services
from surveys.models import AuditEvent, District, Instrument, Series, Wave

from ..conftest import Role, make_user
from .test_consent_district import add_responses

VALID = {"name": "District belonging 2027", "mode": "linked", "consent_mode": "active",
         "min_cell_size": "12", "demographics": ["gender"], "languages": ["en"],
         "retention_months": "24"}


def new_url(world):
    return f"/districts/{world['district'].public_id}/series/new/"


def series_url(series):
    return f"/districts/{series.district.public_id}/series/{series.public_id}/"


def form_data(world, **changes):
    return {**VALID, "instrument": str(world["instrument"].pk), **changes}


@pytest.fixture
def admin_client(client, world):
    client.force_login(world["district_admin"])
    return client


def test_the_creation_page_offers_the_series_fields(admin_client, world):
    response = admin_client.get(new_url(world))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("name", "instrument", "mode", "consent_mode", "min_cell_size",
                 "demographics", "languages", "retention_months"):
        assert f'name="{name}"' in html, name
    assert re.search(r'name="min_cell_size"[^>]*value="10"', html)  # the district's k
    assert "unique across the district" in html


def test_a_district_admin_creates_a_district_wide_series(admin_client, world):
    response = admin_client.post(new_url(world), form_data(world))
    series = Series.objects.get(name="District belonging 2027")
    assert response.status_code == 302 and response["Location"] == series_url(series)
    assert series.district == world["district"] and series.school is None
    assert (series.instrument, series.mode, series.consent_mode, series.min_cell_size,
            series.demographics, series.languages, series.retention_months) == (
        world["instrument"], "linked", "active", 12, ["gender"], ["en"], 24)
    event = AuditEvent.objects.get(action="series.created", target=series.public_id)
    assert event.actor == world["district_admin"] and event.school is None
    assert event.detail["district"] == world["district"].public_id
    log = admin_client.get(f"/districts/{world['district'].public_id}/audit/").content.decode()
    assert "series.created" in log and "name: District belonging 2027" in log


@pytest.mark.parametrize("changes, field, message", [
    ({"name": ""}, "name", "This field is required"),
    ({"min_cell_size": "5"}, "min_cell_size", "below the district&#x27;s (10)"),
    ({"min_cell_size": "40"}, "min_cell_size", "less than or equal to 30"),
    ({"languages": []}, "languages", "Choose at least one language"),
    ({"languages": ["fr"]}, "languages", "not one of the available choices"),
    ({"retention_months": "0"}, "retention_months", "greater than or equal to 1"),
    ({"mode": "sideways"}, "mode", "not one of the available choices"),
    ({"instrument": "999999"}, "instrument", "not one of the available choices"),
])
def test_a_bad_form_is_refused_with_a_clear_error_and_creates_nothing(
        admin_client, world, changes, field, message):
    response = admin_client.post(new_url(world), form_data(world, **changes))
    assert response.status_code == 400
    html = response.content.decode()
    assert "The series was not created" in html and message in html
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', html) or field in (
        "demographics", "languages"), field
    assert not Series.objects.filter(district__isnull=False).exists()
    assert AuditEvent.objects.filter(action="series.created").count() == 1  # the world's


def test_a_language_the_instrument_lacks_is_refused(admin_client, world):
    pulse = world["instrument"]
    english_only = Instrument.objects.create(
        key="english-only", version="1.0", title={"en": "English only"},
        definition={**pulse.definition, "languages": ["en"]}, checksum="0" * 64)
    response = admin_client.post(new_url(world), form_data(
        world, instrument=str(english_only.pk), languages=["en", "es"]))
    assert response.status_code == 400
    assert "has no text in es" in response.content.decode()
    with pytest.raises(services.ServiceError):
        services.create_district_series(world["district"], by=None, name="x",
                                        instrument=english_only, languages=["es"])
    assert not Series.objects.filter(instrument=english_only).exists()


@pytest.mark.parametrize("persona", ["leader", "other_leader", "teacher", "researcher"])
def test_only_the_districts_admin_reaches_the_pages(client, world, persona):
    series = services.create_district_series(world["district"], by=None, name="Existing",
                                             instrument=world["instrument"])
    client.force_login(world[persona])
    assert client.get(new_url(world)).status_code == 404
    assert client.post(new_url(world), form_data(world)).status_code == 404
    assert client.get(series_url(series)).status_code == 404
    posted = client.post(series_url(series), {"label": "W", "season": "autumn",
                                              "starts_on": "2027-03-01"})
    assert posted.status_code == 404
    assert Series.objects.count() == 2 and not series.waves.exists()


def test_another_districts_admin_and_the_anonymous_visitor_are_turned_away(client, world):
    series = services.create_district_series(world["district"], by=None, name="Existing",
                                             instrument=world["instrument"])
    far = District.objects.create(name="Far", min_cell_size=10)
    client.force_login(make_user("far_admin", Role.DISTRICT_ADMIN, district=far))
    assert client.get(new_url(world)).status_code == 404
    assert client.get(series_url(series)).status_code == 404
    # Their own district's URL with Riverside's series: still no such series.
    other = f"/districts/{far.public_id}/series/{series.public_id}/"
    assert client.get(other).status_code == 404
    client.logout()
    response = client.get(new_url(world))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_school_series_is_not_reachable_as_a_district_series(admin_client, world):
    url = f"/districts/{world['district'].public_id}/series/{world['series'].public_id}/"
    assert admin_client.get(url).status_code == 404


def test_waves_are_created_on_the_series_page_and_reach_every_school(client, world):
    admin = world["district_admin"]
    series = services.create_district_series(world["district"], by=admin, name="District",
                                             instrument=world["instrument"])
    client.force_login(admin)
    bad = client.post(series_url(series), {"label": "Spring 2027", "season": "spring"})
    assert bad.status_code == 400 and "This field is required" in bad.content.decode()
    assert not series.waves.exists()
    done = client.post(series_url(series), {"label": "Spring 2027", "season": "spring",
                                            "starts_on": "2027-03-01"})
    assert done.status_code == 302
    wave = Wave.objects.get(series=series)
    assert (wave.label, wave.status, wave.starts_on) == ("Spring 2027", "draft",
                                                         date(2027, 3, 1))
    event = AuditEvent.objects.get(action="wave.created", target=wave.public_id)
    assert event.detail["district"] == world["district"].public_id
    opened = client.post(f"/waves/{wave.public_id}/open/", {"back": "series"})
    assert opened.status_code == 302 and opened["Location"] == series_url(series)
    assert AuditEvent.objects.get(action="wave.opened").detail == {
        "district": world["district"].public_id}
    # Every school's teachers now see it for their classes, and open sessions.
    lake_teacher = make_user("lake_teacher", Role.TEACHER, school=world["other_school"])
    world["other_class"].teachers.add(lake_teacher)
    for teacher, class_group in ((world["teacher"], world["classes"]["7A"]),
                                 (lake_teacher, world["other_class"])):
        client.force_login(teacher)
        html = client.get("/teach/").content.decode()
        assert f'value="{wave.public_id}"' in html and f'value="{class_group.public_id}"' in html
        opened = client.post("/teach/sessions/open/", {"wave": wave.public_id,
                                                       "class": class_group.public_id})
        assert opened.status_code == 302
    assert wave.sessions.count() == 2


def test_the_series_page_shows_participation_per_school_and_district(client, world):
    admin = world["district_admin"]
    series = services.create_district_series(world["district"], by=admin, name="District",
                                             instrument=world["instrument"])
    wave = services.open_wave(services.create_wave(
        series, by=admin, label="Autumn 2027", season="autumn", starts_on=date(2027, 9, 1)),
        by=admin)
    consent.record(series, world["other_class"], by=world["other_leader"], count=5)
    add_responses(wave, world["other_class"], 10)
    add_responses(wave, world["classes"]["7B"], 18)
    client.force_login(admin)
    html = client.get(series_url(series)).content.decode()
    assert ("<th scope=\"row\">Lakeside</th><td>25</td><td>5</td><td>20</td><td>10</td>"
            "<td>50%</td>") in html
    assert "<th scope=\"row\">Hilltop</th><td>90</td><td>0</td><td>90</td><td>18</td>" in html
    assert ("<th scope=\"row\">Whole district</th><td>115</td><td>5</td><td>110</td>"
            "<td>28</td><td>25%</td>") in html


def test_the_district_home_links_the_pages_for_its_admin_only(client, world):
    series = services.create_district_series(world["district"], by=None, name="District",
                                             instrument=world["instrument"])
    client.force_login(world["district_admin"])
    html = client.get(f"/districts/{world['district'].public_id}/").content.decode()
    assert new_url(world) in html and series_url(series) in html


def test_the_school_series_form_takes_the_same_fields(client, world):
    client.force_login(world["leader"])
    url = f"/schools/{world['school'].public_id}/series/"
    assert 'name="retention_months"' in client.get(
        f"/schools/{world['school'].public_id}/").content.decode()
    assert client.post(url, form_data(world, name="School 2027")).status_code == 302
    series = Series.objects.get(name="School 2027")
    assert (series.school, series.languages, series.retention_months) == (
        world["school"], ["en"], 24)
