"""The suggested practices in Spanish: every text of analytics/practices.yaml has an `es`
version that practices.py gives under the active language (English otherwise), a file
with a text lacking it is refused on load, and the leader dashboard's practices section
is Spanish when the page is (references stay as published). One published core wave,
built once for the module (conftest.module_rows)."""

import pytest
import yaml
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.html import escape

from analytics import dashboards, practices
from tests.analytics.dashboard_pages import dashboard_url, shared_publication, snapshot_of
from tests.analytics.dashboard_seed import publish_core_waves

pytestmark = pytest.mark.django_db

COMPONENTS = ("perceptions", "competencies", "motivations", "opportunities")
SPANISH_NAMES = {"perceptions": "percepciones", "competencies": "competencias",
                 "motivations": "motivaciones", "opportunities": "oportunidades"}

published, world, wave1 = shared_publication(
    lambda world: publish_core_waves(world, count=1), "wave1")


def in_language(lang, component):
    with translation.override(lang):
        return practices.for_component(component)


def test_the_practices_are_spanish_under_es_and_english_under_en():
    doc = practices.load()
    for comp in COMPONENTS:
        entry = doc["components"][comp]
        es, en = in_language("es", comp), in_language("en", comp)
        assert es["meaning"] == entry["meaning"]["es"] != en["meaning"]
        assert en["meaning"] == entry["meaning"]["en"]
        assert [p["title"] for p in es["practices"]] == \
            [p["title"]["es"] for p in entry["practices"]]
        assert [p["text"] for p in en["practices"]] == \
            [p["text"]["en"] for p in entry["practices"]]
        assert es["caveat"] == doc["caveat"]["es"] and en["caveat"] == doc["caveat"]["en"]
        assert es["component_name"] == SPANISH_NAMES[comp] and en["component_name"] == comp
        assert es["references"] == en["references"]  # as published, never translated
    assert in_language("es", "motivations")["practices"][2]["title"] == "Ofrecer mentoría"
    assert in_language("fr", "motivations")["practices"][2]["title"] == "Offer mentoring"


def test_every_text_of_the_file_has_a_distinct_spanish_version():
    doc = practices.load()
    places = list(practices.texts(doc))
    assert len(places) == 1 + 4 * (1 + 3 * 2)
    for place, text in places:
        assert set(text) == {"en", "es"}, place
        assert text["es"].strip() and text["es"] != text["en"], place


def write_catalogue(tmp_path, change):
    """The real file, changed by `change(doc)`, in a folder of its own (load is cached
    by path)."""
    doc = yaml.safe_load(practices.PATH.read_text(encoding="utf-8"))
    change(doc)
    folder = tmp_path / change.__name__.strip("<>")
    folder.mkdir()
    path = folder / "practices.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_a_file_with_a_text_lacking_its_spanish_version_is_refused(tmp_path):
    path = write_catalogue(tmp_path, lambda doc: None)
    assert practices.load(path)["caveat"]["es"] == practices.load()["caveat"]["es"]

    def drop(doc):
        del doc["components"]["competencies"]["practices"][1]["text"]["es"]
    with pytest.raises(practices.PracticesError,
                       match=r"practices.yaml: components\.competencies\.practices\[1\]\.text: "
                             r"has no Spanish version \(es: \.\.\.\)"):
        practices.load(write_catalogue(tmp_path, drop))


def test_a_text_given_only_as_english_or_empty_in_spanish_is_refused(tmp_path):
    def english_only(doc):
        doc["caveat"] = doc["caveat"]["en"]
    with pytest.raises(practices.PracticesError, match=r"caveat: needs a text per language"):
        practices.load(write_catalogue(tmp_path, english_only))

    def empty(doc):
        doc["components"]["opportunities"]["meaning"]["es"] = "  "
    with pytest.raises(practices.PracticesError,
                       match=r"components\.opportunities\.meaning: has no Spanish version"):
        practices.load(write_catalogue(tmp_path, empty))


def leader_page(client, world, wave, **headers):
    client.force_login(world["leader"])
    response = client.get(dashboard_url(wave), **headers)
    assert response.status_code == 200
    return response.content.decode()


def weakest_of(wave):
    data = snapshot_of(wave)
    school = next(g for g in data["groups"] if g["key"] == "school")
    return dashboards.weakest_component(school, dashboards.measured_components(data))


def test_the_leader_dashboard_in_spanish_shows_the_spanish_practices(client, world, wave1):
    weakest = weakest_of(wave1[-1])
    html = leader_page(client, world, wave1[-1], HTTP_ACCEPT_LANGUAGE="es")
    es, en = in_language("es", weakest["key"]), in_language("en", weakest["key"])
    assert f"Prácticas sugeridas: {SPANISH_NAMES[weakest['key']]}" in html
    assert "Suggested practices:" not in html
    first = ("tiene el % favorable publicado más bajo de los cuatro componentes"
             if weakest["basis"] == "favorable" else
             "tiene la media publicada más baja en relación con su propia escala")
    assert f"<strong>{SPANISH_NAMES[weakest['key']].capitalize()}</strong> {first}" in html
    assert "has the lowest published" not in html
    assert escape(es["meaning"]) in html and escape(en["meaning"]) not in html
    for spanish, english in zip(es["practices"], en["practices"], strict=True):
        assert f"<strong>{escape(spanish['title'])}.</strong> {escape(spanish['text'])}" in html
        assert escape(english["title"]) not in html and escape(english["text"]) not in html
    assert escape(es["caveat"]) in html and escape(en["caveat"]) not in html
    assert '<h3 class="small-h">Fuentes</h3>' in html and ">Sources<" not in html
    for ref in es["references"]:
        assert escape(ref["full"]) in html


def test_the_leader_dashboard_in_english_is_unchanged_after_a_spanish_one(
        client, world, wave1):
    weakest = weakest_of(wave1[-1])
    leader_page(client, world, wave1[-1], HTTP_ACCEPT_LANGUAGE="es")  # cached per language
    html = leader_page(client, world, wave1[-1])
    es, en = in_language("es", weakest["key"]), in_language("en", weakest["key"])
    assert f"Suggested practices: {weakest['key']}" in html
    assert "Prácticas sugeridas" not in html
    assert f"<strong>{weakest['key'].capitalize()}</strong> has the lowest published" in html
    assert escape(en["meaning"]) in html and escape(es["meaning"]) not in html
    for spanish, english in zip(es["practices"], en["practices"], strict=True):
        assert f"<strong>{escape(english['title'])}.</strong> {escape(english['text'])}" in html
        assert escape(spanish["title"]) not in html
    assert escape(en["caveat"]) in html
    assert '<h3 class="small-h">Sources</h3>' in html and "Fuentes" not in html


def render_section(lang, component, basis):
    with translation.override(lang):
        suggestion = {"basis": basis, "comp": {"component": component},
                      **practices.for_component(component)}
        return render_to_string("analytics/_practices.html", {"suggestion": suggestion})


def test_the_scale_sentence_is_spanish_too_and_english_unchanged():
    es = render_section("es", "motivations", "scale")
    assert ("<strong>Motivaciones</strong> tiene la media publicada más baja en relación con "
            "su propia escala en esta ronda (los componentes usan escalas distintas y no "
            "siempre se publica el % favorable, por lo que cada media se sitúa entre los "
            "extremos de su escala).") in es
    assert "Prácticas sugeridas: motivaciones" in es and "relative to its own scale" not in es
    en = render_section("en", "motivations", "scale")
    assert ("<strong>Motivations</strong> has the lowest published mean relative to its own "
            "scale this wave (the components use different scales, and not every % favorable "
            "is published, so each mean is placed between its scale's ends). "
            "Students&#x27; willingness") in en
    assert "Suggested practices: motivations" in en and "escala" not in en
