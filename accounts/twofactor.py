"""Optional two-factor authentication (TOTP, django-otp) as plain functions.

Offered to leaders, district admins, researchers and staff: the people who see a
school's or a district's results or de-identified data. A user has at most one
confirmed device; enrolling again replaces an unconfirmed one, so a secret is
shown once, on the page that made it."""

from base64 import b32encode

import segno
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from surveys.models import Membership
from surveys.services import audit

Role = Membership.Role
ELIGIBLE_ROLES = {Role.LEADER, Role.DISTRICT_ADMIN, Role.RESEARCHER}


def eligible(user):
    if not user.is_authenticated:
        return False
    return user.is_staff or user.memberships.filter(role__in=ELIGIBLE_ROLES).exists()


def confirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def is_satisfied(request):
    """True when the user has no device, or has used it in this session."""
    user = request.user
    return user.is_verified() or confirmed_device(user) is None


@transaction.atomic
def start_enrolment(user):
    """A fresh unconfirmed device; any earlier unconfirmed one is dropped."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=False)


def secret_text(device):
    """The secret as people type it into an app: base32 in groups of four."""
    text = b32encode(device.bin_key).decode()
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def qr_svg(device):
    return segno.make(device.config_url, error="m").svg_inline(
        scale=4, title=_("QR code for your authenticator app"))


def clean_code(code):
    return "".join((code or "").split())


def confirm_enrolment(request, code):
    """Confirms the user's pending device with a current code; True when done."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None or not device.verify_token(clean_code(code)):
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit(user, "2fa.enabled", target=user.username)
    otp_login(request, device)
    return True


def disable(request, code):
    """Removes the user's devices if the code is current; True when done."""
    user = request.user
    device = confirmed_device(user)
    if device is None or not device.verify_token(clean_code(code)):
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        audit(user, "2fa.disabled", target=user.username)
    return True
