"""The school leader's and teacher's dashboard in Spanish (Accept-Language: es), English
unchanged without it: headings, cards, group labels recomposed from each group's key
(documents keep their English labels), item texts from the instrument's Spanish, the
words the charts are drawn with, and the Spanish and English bodies kept apart in the
page cache. Also what a document or a publish run stores in English (a hidden group's
reason, a season caution, a run's step) read back in Spanish.

Two published core waves (trends, change and a season caution), published once for
the module and only read (conftest.module_rows)."""

import json
import re

import pytest
from django.core.cache import cache
from django.utils import translation

from analytics.change import season_caution
from analytics.disclosure import suppressed_marker
from analytics.models import PublishRun
from analytics.presentation import localized_label, localized_text

from .dashboard_pages import dashboard_url, shared_publication, snapshot_of
from .dashboard_seed import publish_core_waves

pytestmark = pytest.mark.django_db

published, world, waves = shared_publication(
    lambda world: publish_core_waves(world, count=2), "waves")

SPANISH = ("Los cuatro componentes del sentido de pertenencia", "Tendencias entre rondas",
           "Desgloses", "Equidad: la diferencia de cada grupo con toda la escuela",
           "Cómo respondieron los estudiantes a cada pregunta", "Sobre las preguntas",
           "Percepciones", "Puntuación", "Fiabilidad", "Cambio desde Spring 2026",
           "Interpretar con cautela", "Toda la escuela", "Clase 7A", "Curso 7",
           "Curso 8, chica", "Género: chica", "Por curso y género",
           "Hago amigos fácilmente en la escuela.", "Muy de acuerdo",
           "menos de 10 participantes, o se oculta",
           "Estas rondas son de estaciones distintas (primavera y otoño)",
           "El % favorable es la proporción de respuestas válidas")
ENGLISH = ("The four components of belonging", "Trends across waves", "Breakdowns",
           "Equity: each group's gap to the whole school",
           "How students answered each question", "About the questions", "Score",
           "Reliability", "Change since", "Interpret with caution", "Whole school",
           "Class 7A", "Year 7", "Year 8, girl", "Gender: girl", "By year level and gender",
           "I make friends easily at school.", "Strongly agree",
           "fewer than 10 respondents", "These waves come from different seasons",
           "% favorable is the share of valid answers")


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def get(client, user, url, language=None):
    client.force_login(user)
    headers = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


def script_json(html, element_id):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>',
                      html, re.S)
    return json.loads(match.group(1))


def test_the_leader_dashboard_reads_in_spanish_with_no_english_left(client, world, waves):
    html = get(client, world["leader"], dashboard_url(waves[-1]), "es")
    missing = [text for text in SPANISH if text not in html]
    assert missing == []
    left = [text for text in ENGLISH if text in html]
    assert left == []
    # Data stays as stored: the series, the wave labels and the school's name.
    assert "Core 2026: Autumn 2026" in html and "Hilltop" in html


def test_the_charts_get_their_words_and_item_texts_in_spanish(client, world, waves):
    html = get(client, world["leader"], dashboard_url(waves[-1]), "es")
    words = script_json(html, "dashboard-strings")
    assert words["mean"] == "Media" and words["rest"] == "No mostrado por separado"
    assert words["ci95"] == "Intervalo de confianza del 95%"
    assert words["gap_school_mean"] == "Diferencia con la media de la escuela"
    assert words["aria"].startswith("Gráfico: %(caption)s")
    charts = script_json(html, "dashboard-charts")
    perceptions = next(c for c in charts["items"] if c["id"] == "items-perceptions")
    assert "Hago amigos fácilmente en la escuela." in perceptions["items"]
    assert perceptions["options"][-1] == "Muy de acuerdo"
    groups = {g for chart in charts["equity"] for g in chart["groups"]}
    assert "Clase 7A" in groups and "Class 7A" not in groups


def test_the_dashboard_in_english_is_unchanged(client, world, waves):
    html = get(client, world["leader"], dashboard_url(waves[-1]))
    missing = [text for text in ENGLISH if text not in html]
    assert missing == []
    assert not [text for text in SPANISH if text in html]
    assert script_json(html, "dashboard-strings")["mean"] == "Mean"
    charts = script_json(html, "dashboard-charts")
    assert "Class 7A" in {g for chart in charts["equity"] for g in chart["groups"]}
    # The document keeps its English labels whatever the language of the page.
    labels = {g["label"] for g in snapshot_of(waves[-1])["groups"]}
    assert {"Whole school", "Class 7A", "Year 7", "Gender: girl"} <= labels


def test_the_spanish_and_the_english_page_are_cached_apart(client, world, waves):
    url = dashboard_url(waves[-1])
    for _ in range(2):  # the second round is served from the page cache
        spanish = get(client, world["leader"], url, "es")
        english = get(client, world["leader"], url, "en")
        assert "Toda la escuela" in spanish and "Whole school" not in spanish
        assert "Whole school" in english and "Toda la escuela" not in english


def test_a_teacher_sees_their_class_in_spanish(client, world, waves):
    html = get(client, world["teacher"], dashboard_url(waves[-1]), "es")
    assert "Sus clases" in html and "Clase 7A" in html and "(26 respuestas)" in html
    assert "Usted ve los resultados publicados de las clases que imparte." in html
    assert "Your classes" not in html and "Class 7A" not in html


def test_the_list_of_published_results_reads_in_spanish(client, world, waves):
    html = get(client, world["leader"], "/results/", "es")
    assert "Resultados publicados" in html and "Panel de resultados de Autumn 2026" in html
    assert "Published results" not in html and "Dashboard for" not in html


def test_a_group_label_is_recomposed_from_its_key_and_kept_in_english():
    cases = [("school", "Whole school", "Toda la escuela"),
             ("district", "Whole district", "Todo el distrito"),
             ("class:abc", "Class 7A", "Clase 7A"), ("year:7", "Year 7", "Curso 7"),
             ("year:8|gender:girl", "Year 8, girl", "Curso 8, chica"),
             ("gender:prefer_not", "Gender: prefer not", "Género: prefiere no decirlo"),
             ("home_language:yes", "Other language at home: yes", "Otro idioma en casa: sí"),
             ("school:xyz", "Lakeside", "Lakeside")]  # a school's name, at a district level
    for key, stored, spanish in cases:
        with translation.override("en"):
            assert localized_label(key, stored) == stored
        with translation.override("es"):
            assert localized_label(key, stored) == spanish


def test_stored_reasons_and_cautions_are_read_back_in_spanish():
    """The English templates presentation.STORED_TEXTS reads back are the ones
    analytics.disclosure and analytics.change still write."""
    stored = [suppressed_marker(10)["reason"], suppressed_marker(10, "answers")["reason"],
              season_caution("spring", "autumn"), season_caution(None, "autumn")]
    with translation.override("en"):
        assert [localized_text(text) for text in stored] == stored
    with translation.override("es"):
        spanish = [localized_text(text) for text in stored]
    assert spanish[0].startswith("menos de 10 participantes, o se oculta")
    assert spanish[1].startswith("menos de 10 respuestas, o se oculta")
    assert spanish[2].startswith("Estas rondas son de estaciones distintas (primavera y otoño)")
    assert spanish[3].startswith("No consta la estación de una de estas rondas")


def test_a_publish_run_line_is_spanish_on_the_page_and_english_in_the_api(client, world):
    wave = world["wave"]
    PublishRun.objects.create(wave=wave, status="running", progress=29,
                              step="schools: 1 of 4 done, about 12 min left")
    page = get(client, world["leader"], f"/schools/{world['school'].public_id}/", "es")
    assert "Publicación: en curso 29% (escuelas: 1 de 4 terminadas, quedan unos 12 min)" in page
    assert "Publicación de Autumn 2026" in page  # the progress bar's label
    words = json.loads(re.search(r'data-strings="([^"]*)"', page).group(1)
                       .replace("&quot;", '"'))
    assert words["steps"]["suppressing"] == "ocultando celdas pequeñas"
    english = get(client, world["leader"], f"/schools/{world['school'].public_id}/")
    assert "Publishing: running 29% (schools: 1 of 4 done, about 12 min left)" in english
    api = client.get(f"/api/v1/waves/{wave.public_id}/publishing/", HTTP_ACCEPT_LANGUAGE="es")
    assert api.json()["step"] == "schools: 1 of 4 done, about 12 min left"


def test_why_a_run_failed_is_shown_in_spanish_as_recorded_in_english():
    run = PublishRun(status="failed", error="The disclosure audit refused this snapshot: "
                     "cell 3 is pinned")
    with translation.override("es"):
        assert run.shown["text"] == ("La publicación falló: La auditoría de divulgación "
                                     "rechazó esta publicación: cell 3 is pinned")
    with translation.override("en"):
        assert run.shown["text"] == ("Publishing failed: The disclosure audit refused this "
                                     "snapshot: cell 3 is pinned")
