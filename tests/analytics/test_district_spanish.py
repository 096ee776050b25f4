"""The district admin's pages in Spanish (Accept-Language: es), English unchanged
without it: the district page (schools side by side, its body kept in the page cache
under a key naming the language), the district overview and a district-wide series'
page. The wave is `fielded` of test_district_publish.py (Hilltop, Lakeside and two small
schools under k), published once for the module and only read (conftest.module_rows)."""

import json
import re

import pytest
from django.utils import translation

from analytics.wording import band as band_text

from .dashboard_pages import shared_publication
from .test_dashboard_spanish import get
from .test_district_published import publish_fielded

pytestmark = pytest.mark.django_db


published, world, wave_and_snapshot = shared_publication(publish_fielded, "wave_and_snapshot")




def results_url(world):
    return f"/districts/{world['district'].public_id}/results/"


def series_url(wave):
    series = wave.series
    return f"/districts/{series.district.public_id}/series/{series.public_id}/"


def charts_of(html):
    return json.loads(re.search(
        r'<script id="dashboard-charts" type="application/json">(.*?)</script>', html,
        re.S).group(1))["district"]


SPANISH_PAGE = ["Riverside: escuelas lado a lado", "Resumen del distrito",
                "Imprimir informe", "nunca se muestran grupos de menos de 10",
                "Escuelas lado a lado: media (IC del 95%) · % favorable, con todo el distrito",
                ">Todo el distrito</a>", ">Escuela</th>", ">Ronda</th>",
                ">Respuestas</th>", ">Participación</th>", "Percepciones",
                "escala 1–4", "medias de las escuelas con IC del 95%",
                "Oculto: menos de 10 respuestas", "(ronda de todo el distrito)"]
ENGLISH_PAGE = ["Riverside: schools side by side", "District overview", "Print report",
                "groups smaller than 10 are never shown",
                "Schools side by side: mean (95% CI) · % favorable, with the whole district",
                ">Whole district</a>", ">School</th>", ">Wave</th>", ">Responses</th>",
                ">Participation</th>", "Perceptions", "on 1–4",
                "school means with 95% CI", "Not shown: fewer than 10 responses",
                "(district-wide wave)"]


def test_the_district_page_answers_in_spanish_and_then_in_english_from_the_cache(
        client, world, wave_and_snapshot):
    """The body is cached (analytics/dashboard_cache.district_key names the language):
    Spanish first, then English, then Spanish again each get their own body."""
    admin = world["district_admin"]
    spanish = get(client, admin, results_url(world), "es")
    assert all(text in spanish for text in SPANISH_PAGE), [
        t for t in SPANISH_PAGE if t not in spanish]
    assert not any(text in spanish for text in ENGLISH_PAGE), [
        t for t in ENGLISH_PAGE if t in spanish]
    english = get(client, admin, results_url(world))
    assert all(text in english for text in ENGLISH_PAGE), [
        t for t in ENGLISH_PAGE if t not in english]
    assert not any(text in english for text in SPANISH_PAGE)
    assert without_token(get(client, admin, results_url(world), "es")) == without_token(spanish)


def without_token(html):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def test_the_district_charts_name_the_whole_district_in_the_pages_language(
        client, world, wave_and_snapshot):
    admin = world["district_admin"]
    for language, whole, component in (("es", "Todo el distrito", "Percepciones"),
                                       (None, "Whole district", "Perceptions")):
        charts = charts_of(get(client, admin, results_url(world), language))
        assert charts and all(c["reference"] == whole for c in charts)
        assert all(c["groups"][0] == whole for c in charts if whole in c["groups"])
        assert component in {c["label"] for c in charts}
        # School names are data: the same in both languages.
        assert {"Hilltop", "Lakeside"} <= {g for c in charts for g in c["groups"]}


def test_the_district_series_page_answers_in_spanish(client, world, wave_and_snapshot):
    wave = wave_and_snapshot[0]
    admin = world["district_admin"]
    spanish = get(client, admin, series_url(wave), "es")
    for text in ("Configuración", ">Rondas</h2>", ">Participación</h2>",
                 ">Todo el distrito</th>", ">Matriculados</th>", "Crear ronda",
                 "(de todo el distrito: todas las escuelas)", "Panel de resultados"):
        assert text in spanish, text
    for text in ("Settings", ">Waves</h2>", ">Participation</h2>", "Whole district",
                 ">Enrolled</th>", "Create wave", "district-wide: every school"):
        assert text not in spanish, text
    english = get(client, admin, series_url(wave))
    for text in ("Settings", ">Waves</h2>", ">Participation</h2>",
                 ">Whole district</th>", "Create wave", "(district-wide: every school)"):
        assert text in english, text
    assert "Configuración" not in english and "Todo el distrito" not in english
    title = wave.series.instrument.title  # the instrument's own Spanish title
    assert title["es"] in spanish and title["en"] not in spanish
    assert title["en"] in english and title["es"] not in english


def test_the_district_overview_answers_in_spanish(client, world, wave_and_snapshot):
    admin = world["district_admin"]
    url = f"/districts/{world['district'].public_id}/"
    spanish = get(client, admin, url, "es")
    for text in ("Tamaño mínimo del grupo para cada cifra publicada: 10.",
                 "Escuelas lado a lado: resultados publicados", "Registro de auditoría",
                 "nunca se muestran grupos de menos de 10", ">Ronda</th>", ">Estado</th>",
                 "Panel de resultados", "Nueva serie de todo el distrito"):
        assert text in spanish, text
    for text in ("Minimum group size", "Schools side by side", "Audit log",
                 "are never shown", ">Wave</th>", ">Dashboard</a>"):
        assert text not in spanish, text
    english = get(client, admin, url)
    for text in ("Minimum group size for every published number: 10.",
                 "Schools side by side: published results", "Audit log",
                 "groups smaller than 10 are never shown", ">Dashboard</a>"):
        assert text in english, text


def test_a_published_band_is_worded_in_the_active_language():
    """Bands are stored in English in the snapshot (analytics.disclosure); the district
    page rewords them around their bound, and leaves plain numbers alone."""
    assert band_text("95% or more") == "95% or more"
    assert band_text("3.70 or less") == "3.70 or less"
    with translation.override("es"):
        assert band_text("95% or more") == "95% o más"
        assert band_text("5% or less") == "5% o menos"
        assert band_text("3.70 or less") == "3.70 o menos"
        assert band_text("3.41") == "3.41" and band_text("72%") == "72%"
        assert band_text(None) is None
