"""Login in one or two steps, the lock-out page, and the two-factor settings page."""

import time

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, user_login_failed
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login

from surveys.services import audit

from . import twofactor

PENDING = "accounts.pending_second_step"
PENDING_SECONDS = 300


class LoginView(auth_views.LoginView):
    """The password step. A user with a confirmed device goes on to the code step,
    still logged out; everyone else is logged in as before."""

    template_name = "login.html"

    def form_invalid(self, form):
        username = form.data.get("username", "")[:150]
        audit(None, "login.failed", target=username)
        return super().form_invalid(form)

    def form_valid(self, form):
        user = form.get_user()
        if twofactor.confirmed_device(user) is None:
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING] = {
            "user": user.pk, "backend": user.backend, "at": time.time(),
            "next": self.get_success_url(),
        }
        return redirect("login-verify")


def _pending_user(request):
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None, None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return user, pending


def _code_refused(request, user):
    audit(None, "login.code_failed", target=user.username)
    # Counted by django-axes like a wrong password, for this username and address.
    user_login_failed.send(sender=__name__, credentials={"username": user.username},
                           request=request)


@sensitive_post_parameters("code")
@never_cache
def verify(request):
    """The second step: a current code from the user's authenticator app."""
    user, pending = _pending_user(request)
    if user is None:
        messages.error(request, _("Please log in again."))
        return redirect("login")
    credentials = {"username": user.username}
    error = None
    if request.method == "POST":
        device = twofactor.confirmed_device(user)
        if not AxesProxyHandler.is_allowed(request, credentials):
            return locked_out(request)
        if device and device.verify_token(twofactor.clean_code(request.POST.get("code"))):
            del request.session[PENDING]
            auth_login(request, user, backend=pending["backend"])
            otp_login(request, device)
            return redirect(_safe_next(request, pending["next"]))
        _code_refused(request, user)
        if not AxesProxyHandler.is_allowed(request, credentials):
            return locked_out(request)
        error = _("That code did not match. Codes change every 30 seconds; "
                  "wait for a new one and try again.")
    return render(request, "accounts/verify.html", {"error": error},
                  status=400 if error else 200)


def _safe_next(request, target):
    if url_has_allowed_host_and_scheme(target, {request.get_host()},
                                       require_https=request.is_secure()):
        return target
    return settings.LOGIN_REDIRECT_URL


def locked_out(request, original_response=None, credentials=None):
    """django-axes calls this for a locked-out login (AXES_LOCKOUT_CALLABLE): the login
    page again, saying why and for how long, with HTTP 429."""
    request.session.pop(PENDING, None)
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "login.html", {
        "form": AuthenticationForm(request),
        "locked_out": True,
        "cooloff_minutes": minutes,
    }, status=429)


@login_required
@never_cache
def security(request):
    """Two-factor settings: enrol (a new secret, shown once), confirm, or disable."""
    user = request.user
    context = {"eligible": twofactor.eligible(user), "device": twofactor.confirmed_device(user)}
    if request.method == "POST" and context["eligible"]:
        return _security_post(request, context)
    if context["eligible"] and context["device"] is None and request.GET.get("enrol"):
        device = twofactor.start_enrolment(user)
        context.update(enrolling=True, secret=twofactor.secret_text(device),
                       qr_svg=twofactor.qr_svg(device))
    return render(request, "accounts/security.html", context)


def _security_post(request, context):
    code = request.POST.get("code", "")
    if request.POST.get("action") == "disable":
        if twofactor.disable(request, code):
            messages.success(request, _("Two-factor authentication is off."))
            return redirect("account-security")
        context["error"] = _("That code did not match, so two-factor authentication "
                             "is still on.")
    elif twofactor.confirm_enrolment(request, code):
        messages.success(request, _("Two-factor authentication is on. You will be asked "
                                    "for a code each time you log in."))
        return redirect("account-security")
    else:
        # The secret is not shown again: try another code, or start again with a new one.
        context.update(enrolling=True, error=_("That code did not match. Enter the code "
                                               "your app shows now, or start again."))
    return render(request, "accounts/security.html", context, status=400)
