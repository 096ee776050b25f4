"""Login, lock-out, two-factor pages and the base layout in Spanish: by the browser's
Accept-Language, and by the login page's language switch (a plain POST form, so it
works without JavaScript under the strict CSP)."""

import gettext
import re
import time

from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import ROOT
from tests.test_security import code, fail, login

MO = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.mo"
TEMPLATES = ["templates/login.html", "templates/base.html", "templates/accounts/security.html",
             "templates/accounts/verify.html"]
TRANSLATE = re.compile(r"""{% translate (["'])(.+?)\1 %}""")
ES = {"HTTP_ACCEPT_LANGUAGE": "es"}


def test_every_string_of_the_login_and_account_templates_has_a_spanish_translation():
    catalog = gettext.GNUTranslations(MO.open("rb"))  # the committed, compiled catalog
    missing = []
    for name in TEMPLATES:
        for _, text in TRANSLATE.findall((ROOT / name).read_text()):
            if catalog.gettext(text) == text:
                missing.append(f"{name}: {text}")
    assert not missing, "\n".join(missing)


def test_the_login_page_follows_accept_language(client, db):
    english = client.get("/login/").content.decode()
    assert '<html lang="en">' in english and "<h1>Log in</h1>" in english
    spanish = client.get("/login/", **ES).content.decode()
    assert '<html lang="es">' in spanish
    assert "<h1>Iniciar sesión</h1>" in spanish
    assert "Usuario" in spanish and "Contraseña" in spanish
    assert "Estudiantes: no necesitan iniciar sesión." in spanish
    assert "Log in" not in spanish and "Password" not in spanish


def switch_form(html):
    form = re.search(r'<form method="post" action="/language/"[^>]*>(.*?)</form>', html, re.S)
    assert form is not None, "no language switch on the page"
    return form.group(1)


def test_the_language_switch_is_a_form_without_script(client, db):
    html = client.get("/login/").content.decode()
    form = switch_form(html)
    assert 'name="csrfmiddlewaretoken"' in form
    assert re.search(r'<button type="submit" class="link" name="language" value="es" lang="es">'
                     r"Español</button>", form)
    assert 'value="en" lang="en" aria-current="true" disabled>English' in form
    assert "<script" not in html and not re.search(r"\son[a-z]+=", html)


def test_the_switch_sets_the_language_for_the_next_pages(client, db):
    response = client.post("/language/", {"language": "es", "next": "/login/?next=/results/"})
    assert response.status_code == 302 and response["Location"] == "/login/?next=/results/"
    html = client.get("/login/").content.decode()
    assert "<h1>Iniciar sesión</h1>" in html
    form = switch_form(html)
    assert 'value="es" lang="es" aria-current="true" disabled>Español' in form
    # Each language is named in itself: "English", not "Inglés", on a Spanish page.
    assert 'value="en" lang="en">English</button>' in form and "Inglés" not in form
    # A link or a crawler's GET changes nothing; only the form's POST does.
    client.get("/language/?language=en")
    assert "<h1>Iniciar sesión</h1>" in client.get("/login/").content.decode()
    client.post("/language/", {"language": "en", "next": "/login/"})
    assert "<h1>Log in</h1>" in client.get("/login/").content.decode()


def test_the_switch_does_not_redirect_elsewhere(client, db):
    response = client.post("/language/", {"language": "es", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_lock_out_message_is_in_spanish(client, world):
    client.post("/language/", {"language": "es", "next": "/login/"})
    assert fail(client, "leader", 5)[-1] == 429
    html = login(client, "leader").content.decode()
    assert "Demasiados intentos fallidos de iniciar sesión con este usuario desde esta red." \
        in html
    assert "Espere 15 minutos e inténtelo de nuevo." in html
    assert "Too many" not in html


def test_a_wrong_password_is_reported_in_spanish(client, world):
    html = login(client, "leader", "wrong password", **ES).content.decode()
    assert "El usuario y la contraseña no coinciden." in html


def test_the_two_factor_pages_are_in_spanish(client, world):
    leader = world["leader"]
    client.force_login(leader)
    page = client.get("/account/security/", **ES).content.decode()
    assert "<h1>Autenticación en dos pasos</h1>" in page
    assert "Configurar la autenticación en dos pasos" in page
    assert "Seguridad de la cuenta" in page and "Cerrar sesión" in page  # the navigation
    page = client.get("/account/security/?enrol=1", **ES).content.decode()
    assert "Escanee este código QR" in page and "Activar la autenticación en dos pasos" in page
    wrong = client.post("/account/security/", {"action": "confirm", "code": "000000"}, **ES)
    assert wrong.status_code == 400
    assert "El código no coincide. Escriba el código que muestra ahora su aplicación" \
        in wrong.content.decode()
    device = TOTPDevice.objects.get(user=leader, confirmed=False)
    time.sleep(1.1)  # django-otp's throttle: one second after one wrong code
    done = client.post("/account/security/", {"action": "confirm", "code": code(device)},
                       follow=True, **ES).content.decode()
    assert "La autenticación en dos pasos está activada. Se le pedirá un código" in done

    client.logout()
    assert login(client, "leader", **ES)["Location"] == "/login/code/"
    page = client.get("/login/code/", **ES).content.decode()
    assert "<h1>Escriba su código</h1>" in page and "Empezar de nuevo" in page
    wrong = client.post("/login/code/", {"code": "000000"}, **ES).content.decode()
    assert "El código no coincide. Los códigos cambian cada 30 segundos" in wrong
    time.sleep(1.1)  # django-otp's throttle: one second after one wrong code
    right = client.post("/login/code/", {"code": code(device, offset=30)}, **ES)
    assert right.status_code == 302


def test_teachers_are_told_in_spanish_that_two_factor_is_not_for_them(client, world):
    client.force_login(world["teacher"])
    page = client.get("/account/security/", **ES).content.decode()
    assert "La autenticación en dos pasos se ofrece a quienes dirigen una escuela" in page
