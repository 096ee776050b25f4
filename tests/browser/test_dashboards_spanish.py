"""The dashboard's charts and a publication followed live, in Spanish in Chromium: the
scripts (static/js/dashboard.js, static/js/publishing.js) take their words from the page
(json_script "dashboard-strings", a run's data-strings) under a strict CSP, while the
API they read stays English. The English charts are checked in test_dashboards.py."""

import pytest
from playwright.sync_api import expect

from analytics.models import PublishRun
from surveys.models import Wave
from tests.browser import test_dashboards as dashboards
from tests.browser.conftest import axe_violations, screenshot
from tests.browser.test_dashboards import (
    csp_violations,
    drawn_charts,
    equity_axes,
    item_bars,
    logged_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The world with its published core wave, built once a session (conftest.kept).
world, wave1 = dashboards.world, dashboards.wave1


def in_spanish(context, live_server):
    """The language a staff member picks: Django's language cookie."""
    context.add_cookies([{"name": "django_language", "value": "es", "url": live_server.url}])


def chart_texts(page):
    """Per chart drawn: its canvas's aria-label and its datasets' labels."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('[data-chart] canvas'))
        .map((canvas) => [canvas.getAttribute('aria-label'),
                          Chart.getChart(canvas).data.datasets.map((d) => d.label)])""")


def test_the_charts_are_drawn_with_spanish_words(chromium, live_server, world, wave1):
    context, page = logged_in(chromium, live_server, world["leader"])
    try:
        in_spanish(context, live_server)
        page.goto(f"{live_server.url}/waves/{wave1[-1].public_id}/dashboard/")
        assert drawn_charts(page) >= 4 + 1 + 1
        assert set(equity_axes(page)) == {"Diferencia con la media de la escuela"}
        texts = chart_texts(page)
        assert all(label.startswith("Gráfico: ") and label.endswith(
            "Las mismas cifras están en la tabla.") for label, _ in texts)
        assert ["Media", "Intervalo de confianza del 95%"] in [sets for _, sets in texts]
        bars = item_bars(page)
        assert bars and all(("No mostrado por separado" in labels) == rest
                            for rest, labels in bars)
        assert "Muy de acuerdo" in {label for _, labels in bars for label in labels}
        english = ("Mean", "95% confidence interval", "Not shown separately",
                   "Strongly agree", "Chart:")
        assert not [word for word in english if word in str(texts)]
        assert csp_violations(page) == []
        assert axe_violations(page) == []
        screenshot(page, "dashboard-leader-es")
    finally:
        context.close()


def test_a_publication_is_followed_in_spanish(chromium, live_server, world):
    wave = world["wave"]
    Wave.objects.filter(pk=wave.pk).update(status=Wave.Status.CLOSED)
    run = PublishRun.objects.create(wave=wave, status="running", progress=29,
                                    step="schools: 1 of 4 done, about 12 min left")
    context, page = logged_in(chromium, live_server, world["leader"])
    try:
        in_spanish(context, live_server)
        page.goto(f"{live_server.url}/schools/{world['school'].public_id}/")
        status = page.get_by_role("status").filter(has_text="Publicación")
        expect(status).to_have_text(
            "Publicación: en curso 29% (escuelas: 1 de 4 terminadas, quedan unos 12 min)")
        PublishRun.objects.filter(pk=run.pk).update(
            progress=65, step="suppressing, under a minute left")
        expect(status).to_have_text(
            "Publicación: en curso 65% (ocultando celdas pequeñas, queda menos de un minuto)")
        PublishRun.objects.filter(pk=run.pk).update(
            status="failed", step="failed",
            error="The disclosure audit refused this snapshot: Hilltop: a cell")
        expect(status).to_have_text("La publicación falló: La auditoría de divulgación "
                                    "rechazó esta publicación: Hilltop: a cell")
        assert csp_violations(page) == []
    finally:
        context.close()
