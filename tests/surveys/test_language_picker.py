"""The staff language picker (templates/_language_picker.html): a plain POST form to
Django's set_language (/language/, accounts/urls.py) that keeps the choice in the django_language
cookie and goes back to the page it was on. A language the site does not offer, or a
`next` on another host, changes nothing."""

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import translation

pytestmark = pytest.mark.django_db

SETLANG = "/language/"


def district_urls(world):
    district = world["district"].public_id
    return f"/districts/{district}/", f"/districts/{district}/results/"


def picker(path):
    return render_to_string("_language_picker.html", request=RequestFactory().get(path))


def test_the_picker_is_a_labelled_select_posting_to_set_language():
    html = picker("/districts/abc/results/?x=1")
    assert f'action="{SETLANG}"' in html and 'method="post"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert '<input type="hidden" name="next" value="/districts/abc/results/?x=1">' in html
    assert '<label for="language-picker">Language</label>' in html
    assert '<select name="language" id="language-picker">' in html
    for code, _ in settings.LANGUAGES:
        assert f'<option value="{code}" lang="{code}"' in html
    assert 'value="en" lang="en" selected>English</option>' in html
    assert ">Change language</button>" in html and "<script" not in html


def test_the_picker_speaks_the_active_language():
    with translation.override("es"):
        html = picker("/")
    assert '<label for="language-picker">Idioma</label>' in html
    assert ">Cambiar idioma</button>" in html and "Change language" not in html
    # Each language by its own name, the current one chosen.
    assert 'value="es" lang="es" selected>Español</option>' in html
    assert 'value="en" lang="en">English</option>' in html


def test_choosing_spanish_turns_the_district_pages_spanish(client, world):
    client.force_login(world["district_admin"])
    home, results = district_urls(world)
    response = client.post(SETLANG, {"language": "es", "next": results})
    assert response.status_code == 302 and response["Location"] == results
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    html = client.get(results).content.decode()
    assert "Riverside: escuelas lado a lado" in html and "schools side by side" not in html
    html = client.get(home).content.decode()
    assert "Escuelas lado a lado: resultados publicados" in html
    assert "Audit log" not in html
    client.post(SETLANG, {"language": "en", "next": home})
    assert "Schools side by side: published results" in client.get(home).content.decode()


def test_an_unknown_language_or_a_foreign_next_changes_nothing(client, world):
    client.force_login(world["district_admin"])
    home, results = district_urls(world)
    for language in ("xx", "es<script>", ""):
        response = client.post(SETLANG, {"language": language, "next": results})
        assert response.status_code == 302 and response["Location"] == results
        assert settings.LANGUAGE_COOKIE_NAME not in client.cookies
    assert "Riverside: schools side by side" in client.get(results).content.decode()
    assert "Audit log" in client.get(home).content.decode()
    # Never a redirect to another host: back to the home page instead.
    response = client.post(SETLANG, {"language": "es", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_picker_needs_the_csrf_token():
    response = Client(enforce_csrf_checks=True).post(SETLANG, {"language": "es", "next": "/"})
    assert response.status_code == 403
