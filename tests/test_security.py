"""Security headers, the strict Content Security Policy, login throttling and the
optional second factor (docs/security.md)."""

import re
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from surveys.models import AuditEvent
from tests.conftest import ROOT

PASSWORD = "correct horse battery"
CSP_DIRECTIVES = [
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'", "object-src 'none'",
]


def csp(response):
    return [d.strip() for d in response["Content-Security-Policy"].split(";")]


# --- headers ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/login/", "/join/", "/api/v1/waves/", "/no-such-page/",
                                 "/api/schema/"])
def test_every_response_carries_the_security_headers(client, db, url):
    response = client.get(url)
    directives = csp(response)
    for directive in CSP_DIRECTIVES:
        assert directive in directives, (url, directive)
    assert not any("unsafe" in d for d in directives)
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response["Permissions-Policy"]
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_a_well_formed_request_id_is_kept_and_a_bad_one_replaced(client, db):
    sent = "3f2c1a9e-8d4b-4c6e-9f0a-1b2c3d4e5f60"
    assert client.get("/login/", HTTP_X_REQUEST_ID=sent)["X-Request-ID"] == sent
    for bad in ["short", "has space in it", "x" * 200, "line\nbreak-injected"]:
        echoed = client.get("/login/", HTTP_X_REQUEST_ID=bad)["X-Request-ID"]
        assert echoed != bad and re.fullmatch(r"[0-9a-f]{32}", echoed)


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", re.I),
     "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style", re.I), "<style> element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_has_inline_script_or_style():
    """The strict CSP would block these; json_script (type application/json) is data."""
    found = []
    for path in sorted(ROOT.glob("**/templates/**/*.html")):
        if ".venv" in path.parts:
            continue
        text = path.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not found, "\n".join(found)


# --- login throttling ----------------------------------------------------------------------


def login(client, username, password=PASSWORD, address="198.51.100.7", **extra):
    return client.post("/login/", {"username": username, "password": password},
                       REMOTE_ADDR=address, **extra)


def fail(client, username, times, address="198.51.100.7"):
    """Wrong passwords; the fifth in a row is answered with the lock-out page."""
    return [login(client, username, "wrong password", address).status_code
            for _ in range(times)]


def test_five_failures_lock_out_that_username_from_that_address(client, world):
    assert fail(client, "leader", 5) == [200, 200, 200, 200, 429]
    response = login(client, "leader")  # even the right password
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert "15 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="login.locked_out", target="leader").exists()
    assert AuditEvent.objects.filter(action="login.failed", target="leader").count() >= 5


def test_four_failures_do_not_lock_and_success_resets_the_count(client, world):
    fail(client, "leader", 4)
    assert login(client, "leader").status_code == 302
    client.logout()
    fail(client, "leader", 4)
    assert login(client, "leader").status_code == 302


def test_one_users_failures_do_not_lock_out_their_school(client, world):
    """A whole school shares one address: a colleague there still logs in, and so does
    the same user from home."""
    fail(client, "leader", 6)
    assert login(client, "teacher").status_code == 302
    client.logout()
    assert login(client, "leader", address="203.0.113.9").status_code == 302


def test_lock_out_ends_after_the_cool_off(client, world):
    fail(client, "leader", 5)
    assert login(client, "leader").status_code == 429
    AccessAttempt.objects.update(attempt_time=time_ago(minutes=16))
    assert login(client, "leader").status_code == 302


def time_ago(**delta):
    from django.utils import timezone

    return timezone.now() - timedelta(**delta)


def test_lock_out_keys_on_the_address_behind_trusted_proxies(client, world, settings):
    settings.BELONGING_PROXY_HOPS = 1
    for _ in range(5):
        client.post("/login/", {"username": "leader", "password": "nope"},
                    REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    locked = client.post("/login/", {"username": "leader", "password": PASSWORD},
                         REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert locked.status_code == 429
    other = client.post("/login/", {"username": "leader", "password": PASSWORD},
                        REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert other.status_code == 302


# --- two-factor authentication ------------------------------------------------------------


def code(device, offset=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset
    return f"{totp.token():06d}"


def enrol(client, user):
    client.force_login(user)
    page = client.get("/account/security/?enrol=1").content.decode()
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert secret.replace(" ", "") == __import__("base64").b32encode(device.bin_key).decode()
    assert "<svg" in page
    response = client.post("/account/security/", {"action": "confirm", "code": code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_enrolment_shows_the_secret_once_and_confirms_with_a_code(client, world):
    device = enrol(client, world["leader"])
    assert AuditEvent.objects.filter(action="2fa.enabled", actor=world["leader"]).exists()
    page = client.get("/account/security/?enrol=1").content.decode()
    assert "two-factor authentication is on" in page.lower()
    assert device.key not in page and 'class="secret"' not in page
    assert TOTPDevice.objects.filter(user=world["leader"]).count() == 1


def test_enrolment_refuses_a_wrong_code(client, world):
    client.force_login(world["leader"])
    client.get("/account/security/?enrol=1")
    response = client.post("/account/security/", {"action": "confirm", "code": "000000"})
    assert response.status_code == 400
    assert "did not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=world["leader"], confirmed=True).exists()


def test_teachers_are_not_offered_two_factor(client, world):
    client.force_login(world["teacher"])
    page = client.get("/account/security/?enrol=1").content.decode()
    assert "offered to school leaders" in page
    assert not TOTPDevice.objects.filter(user=world["teacher"]).exists()


def test_login_asks_for_the_code_when_the_user_has_a_device(client, world):
    device = enrol(client, world["leader"])
    client.logout()
    response = login(client, "leader")
    assert response.status_code == 302 and response["Location"] == "/login/code/"
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302  # still logged out

    wrong = client.post("/login/code/", {"code": "000000"})
    assert wrong.status_code == 400 and "did not match" in wrong.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="login.code_failed", target="leader").exists()

    time.sleep(1.1)  # django-otp's throttle: one second after one wrong code
    right = client.post("/login/code/", {"code": code(device, offset=30)})
    assert right.status_code == 302 and right["Location"] == "/"
    assert client.get("/").status_code == 200


def test_wrong_codes_count_towards_the_lock_out(client, world):
    enrol(client, world["leader"])
    client.logout()
    for _ in range(2):
        login(client, "leader", "wrong password")
    assert login(client, "leader").status_code == 302
    statuses = []
    for _ in range(3):
        statuses.append(client.post("/login/code/", {"code": "000000"},
                                    REMOTE_ADDR="198.51.100.7").status_code)
    assert statuses[-1] == 429
    assert login(client, "leader").status_code == 429


def test_the_code_step_expires(client, world):
    enrol(client, world["leader"])
    client.logout()
    login(client, "leader")
    session = client.session
    pending = session["accounts.pending_second_step"]
    pending["at"] -= 301
    session["accounts.pending_second_step"] = pending
    session.save()
    response = client.post("/login/code/", {"code": "123456"})
    assert response.status_code == 302 and response["Location"] == "/login/"


def test_a_user_without_a_device_logs_in_as_before(client, world):
    response = login(client, "district_admin")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_disabling_needs_a_current_code(client, world):
    device = enrol(client, world["researcher"])
    refused = client.post("/account/security/", {"action": "disable", "code": "000000"})
    assert refused.status_code == 400
    assert TOTPDevice.objects.filter(user=world["researcher"], confirmed=True).exists()
    time.sleep(1.1)
    done = client.post("/account/security/", {"action": "disable", "code": code(device, 30)})
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=world["researcher"]).exists()
    assert AuditEvent.objects.filter(action="2fa.disabled", actor=world["researcher"]).exists()


def test_admin_site_requires_the_code_from_staff_who_have_a_device(client, world):
    staff = User.objects.create_user("operator", password=PASSWORD, is_staff=True,
                                     is_superuser=True)
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200  # no device: as before
    device = enrol(client, staff)
    client.logout()
    client.force_login(staff)  # a session that never gave the code
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert client.get(response["Location"])["Location"].startswith("/login/?next=")
    client.logout()
    login(client, "operator")
    client.post("/login/code/", {"code": code(device, offset=30)})
    assert client.get("/admin/").status_code == 200
    # Where an operator removes a lost phone's device, and sees or lifts lock-outs.
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 200
    assert client.get("/admin/axes/accessattempt/").status_code == 200
