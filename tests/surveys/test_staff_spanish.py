"""The staff pages in Spanish (LocaleMiddleware: Accept-Language) and unchanged in
English: the teacher's home and session page (the live count and the close button),
recording opt-outs, a leader's school home, the researcher's exports page and the audit
log. Data (school, class and wave names, audit action codes) stays as it was entered."""

from datetime import timedelta

import pytest
from django.utils import timezone

from research.models import Agreement, ExportJob
from surveys import services
from surveys.models import AuditEvent

ES = {"HTTP_ACCEPT_LANGUAGE": "es"}


def page(client, user, url, **headers):
    client.force_login(user)
    response = client.get(url, **headers)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def assert_language(html, present, absent):
    missing = [text for text in present if text not in html]
    leaked = [text for text in absent if text in html]
    assert (missing, leaked) == ([], [])


@pytest.fixture
def session(open_wave, world):
    return services.open_session(open_wave, world["classes"]["7A"], by=world["teacher"])


TEACHER_EN = ["<h1>My classes</h1>", "Open survey waves for your classes", "Survey wave",
              "Opt-outs and consent for my classes"]
TEACHER_ES = ["<h1>Mis clases</h1>", "Rondas de encuesta abiertas para sus clases",
              "Ronda de encuesta", "Exclusiones y consentimiento de mis clases"]


def test_the_teachers_home_is_in_spanish(client, open_wave, world):
    html = page(client, world["teacher"], "/teach/", **ES)
    assert_language(html, TEACHER_ES + ["Abrir una sesión para 7A", '<html lang="es">'],
                    TEACHER_EN + ["Open a session for"])
    assert "Autumn 2026" in html and "Belonging 2026" in html  # data, as entered


def test_the_teachers_home_is_unchanged_in_english(client, open_wave, world):
    html = page(client, world["teacher"], "/teach/")
    assert_language(html, TEACHER_EN + ["Open a session for 7A"], TEACHER_ES)


SESSION_EN = ["Students join with", "responses so far.", "Close this session",
              "You see how many have answered, never what they answered.",
              "Show on the projector", 'aria-label="Access code"']
SESSION_ES = ["Los estudiantes entran con", "respuestas hasta ahora.", "Cerrar esta sesión",
              "Usted ve cuántos han respondido, nunca qué respondieron.",
              "Mostrar en el proyector", 'aria-label="Código de acceso"']


def test_the_session_page_is_in_spanish(client, session, world):
    html = page(client, world["teacher"], f"/teach/sessions/{session.public_id}/", **ES)
    assert_language(html, SESSION_ES + ["Estado: <strong", ">Abierta</strong>",
                                        "se cierra sola a las",
                                        "<title>Código QR para entrar</title>"],
                    SESSION_EN + ["Status:", "closes by itself"])
    # The live count's element, and the word the script writes once the session closes.
    assert 'id="count"' in html and 'data-closed="Cerrada"' in html


def test_the_session_page_is_unchanged_in_english(client, session, world):
    html = page(client, world["teacher"], f"/teach/sessions/{session.public_id}/")
    assert_language(html, SESSION_EN + ["Status: <strong", ">Open</strong>",
                                        "closes by itself at", 'data-closed="Closed"'],
                    SESSION_ES)


def test_closing_a_session_says_so_in_spanish(client, session, world):
    client.force_login(world["teacher"])
    url = f"/teach/sessions/{session.public_id}/"
    response = client.post(f"{url}close/", **ES)
    assert response.status_code == 302
    html = client.get(url, **ES).content.decode()
    assert_language(html, ["Sesión cerrada.", ">Cerrada</strong>"],
                    ["Session closed.", "Cerrar esta sesión", "Close this session"])


def test_the_projector_page_is_in_spanish(client, session, world):
    html = page(client, world["teacher"], f"/teach/sessions/{session.public_id}/projector/",
                **ES)
    assert_language(html, ['Ve a <span class="addr">', "han respondido"],
                    ["Go to", "answered<"])


def test_recording_opt_outs_is_in_spanish(client, world):
    series, class_group = world["series"], world["classes"]["7A"]
    client.force_login(world["teacher"])
    url = f"/teach/consent/{series.public_id}/{class_group.public_id}/"
    response = client.post(url, {"action": "record", "count": "2"}, **ES)
    assert response.status_code == 302
    html = client.get(url, **ES).content.decode()
    assert_language(html, ["Se registraron 2 estudiantes.", "2</span> registrados de 30",
                           "Registrar como excluido por la familia", "Quitar este número"],
                    ["Recorded 2 students.", "recorded of 30", "Record as opted out"])
    english = client.get(url).content.decode()
    assert "recorded of 30 enrolled." in english and "Record as opted out" in english


SCHOOL_EN = ["Audit log", "New survey series", "Create series", "Open Autumn 2026",
             "groups smaller than 10 are never shown", "Create wave"]
SCHOOL_ES = ["Registro de auditoría", "Nueva serie de encuestas", "Crear serie",
             "Abrir Autumn 2026", "nunca se muestran grupos de menos de 10", "Crear ronda",
             '<th scope="col">Ronda</th>', "Borrador", "Otoño", "Nombre",
             "Modo de consentimiento"]


def test_a_leaders_school_home_is_in_spanish(client, world):
    html = page(client, world["leader"], f"/schools/{world['school'].public_id}/", **ES)
    assert_language(html, SCHOOL_ES, SCHOOL_EN + ["Consent mode", ">Draft<"])
    instrument = world["wave"].series.instrument.title
    assert instrument["es"] in html and instrument["en"] not in html


def test_a_leaders_school_home_is_unchanged_in_english(client, world):
    html = page(client, world["leader"], f"/schools/{world['school'].public_id}/")
    assert_language(html, SCHOOL_EN + ["Consent mode", ">Draft<"], SCHOOL_ES[:6])


@pytest.fixture
def agreement(world):
    """An agreement and one running job, written directly: the page only lists them."""
    today = timezone.localdate()
    row = Agreement.objects.create(
        researcher=world["researcher"], granted_by=world["leader"], district=world["district"],
        purpose="Transition study", starts_on=today, expires_on=today + timedelta(days=30),
        k=10)
    row.schools.set([world["school"]])
    row.waves.set([world["wave"]])
    ExportJob.objects.create(agreement=row, requested_by=world["researcher"],
                             format=ExportJob.Format.CSV, status=ExportJob.Status.RUNNING,
                             progress=40)
    return row


EXPORTS_EN = ["Research agreements and exports", "Active agreements", "Request export",
              "Download links last 24 hours", "API tokens", "Create token", ">Running<",
              "Wave summary"]
EXPORTS_ES = ["Acuerdos de investigación y exportaciones", "Acuerdos vigentes",
              "Solicitar exportación", "Los enlaces de descarga duran 24 horas",
              "Tokens de la API", "Crear token", ">En curso<", "Resumen de la ronda"]


def test_the_research_exports_page_is_in_spanish(client, agreement, world):
    html = page(client, world["researcher"], "/research/", **ES)
    assert_language(html, EXPORTS_ES, EXPORTS_EN)
    # The words exports.js writes as a job moves on come from the page.
    assert 'data-label-done="Lista"' in html and 'data-download="Descargar {name}"' in html
    assert "Transition study" in html  # the purpose, as the leader wrote it


def test_the_research_exports_page_is_unchanged_in_english(client, agreement, world):
    html = page(client, world["researcher"], "/research/")
    assert_language(html, EXPORTS_EN, EXPORTS_ES)
    assert 'data-label-done="Ready"' in html and 'data-download="Download {name}"' in html


def test_a_refused_download_is_in_spanish_on_the_page_and_in_english_in_the_audit(
        client, agreement, world):
    agreement.revoked_at = timezone.now()
    agreement.save(update_fields=["revoked_at"])
    job = agreement.jobs.get()
    client.force_login(world["researcher"])
    response = client.get(f"/research/exports/{job.public_id}/download/", **ES)
    assert response.status_code == 403
    html = response.content.decode()
    assert "Este acuerdo se revocó el" in html and "This agreement was revoked" not in html
    assert "Acuerdos terminados" in html
    event = AuditEvent.objects.get(action="export.refused")
    assert event.detail["reason"].startswith("This agreement was revoked on ")


AUDIT_EN = ["Audit log: Hilltop", "Who did what and when", "When (UTC)", ">Who<", ">Filter<",
            ">About<", ">Details<"]
AUDIT_ES = ["Registro de auditoría: Hilltop", "Quién hizo qué y cuándo", "Cuándo (UTC)",
            ">Quién<", ">Filtrar<", ">Sobre<", ">Detalles<", "Acción", "Desde", "Hasta"]


def test_the_audit_log_is_in_spanish(client, open_wave, world):
    html = page(client, world["leader"], f"/schools/{world['school'].public_id}/audit/", **ES)
    assert_language(html, AUDIT_ES, AUDIT_EN)
    assert "wave.opened" in html  # action codes are data, not words


def test_the_audit_log_is_unchanged_in_english(client, open_wave, world):
    html = page(client, world["leader"], f"/schools/{world['school'].public_id}/audit/")
    assert_language(html, AUDIT_EN, AUDIT_ES)
