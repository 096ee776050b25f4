"""Pages: agreements for district admins and leaders; exports and API tokens for
researchers. Every object is reached through surveys.access (404 when missing or
forbidden); every change goes through research.services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from surveys import access
from surveys.permissions import EXPORT, MANAGE_AGREEMENTS
from surveys.services import ServiceError, audit

from . import jobs, services
from .forms import AgreementForm, ExportForm, TokenForm
from .models import ApiToken, ExportJob


def _require(user, need):
    if need not in access.user_permissions_anywhere(user):
        raise Http404("No such page.")


# --- managers -----------------------------------------------------------------------


def _agreements_page(request, form, status=200):
    agreements = access.agreements_for_manager(request.user).select_related(
        "researcher", "granted_by").prefetch_related("schools", "waves__series")
    rows = [{"agreement": a, "can_manage": access.can_manage_agreement(request.user, a)}
            for a in agreements]
    return render(request, "research/agreements.html", {"rows": rows, "form": form},
                  status=status)


@login_required
def agreements(request):
    _require(request.user, MANAGE_AGREEMENTS)
    if request.method != "POST":
        return _agreements_page(request, AgreementForm(request.user))
    form = AgreementForm(request.user, request.POST)
    if not form.is_valid():
        return _agreements_page(request, form, status=400)
    try:
        agreement = services.create_agreement(by=request.user, **form.cleaned_data)
    except ServiceError as err:
        form.add_error(None, str(err))
        return _agreements_page(request, form, status=400)
    messages.success(request, _("Agreement %(id)s created for %(user)s.") % {
        "id": agreement.public_id, "user": agreement.researcher.username})
    return redirect("research-agreements")


@login_required
@require_POST
def revoke(request, public_id):
    agreement = access.get_agreement_for_manager(request.user, public_id)
    try:
        services.revoke_agreement(agreement, by=request.user)
        messages.success(request, _("Agreement revoked: its downloads stopped and its files "
                                    "were deleted."))
    except ServiceError as err:
        messages.error(request, str(err))
    return redirect("research-agreements")


# --- researchers --------------------------------------------------------------------


def _exports_page(request, *, status=200, error="", new_token=""):
    agreements = access.agreements_for_researcher(request.user).prefetch_related(
        "schools", "waves__series")
    active = [a for a in agreements if a.is_active]
    job_list = (ExportJob.objects.filter(agreement__in=agreements)
                .select_related("agreement")[:50])
    return render(request, "research/exports.html", {
        "active": active, "inactive": [a for a in agreements if not a.is_active],
        "jobs": job_list, "export_form": ExportForm(), "token_form": TokenForm(),
        "tokens": request.user.research_tokens.filter(revoked_at__isnull=True),
        "error": error, "new_token": new_token, "now": timezone.now(),
    }, status=status)


@login_required
def exports(request):
    _require(request.user, EXPORT)
    return _exports_page(request)


@login_required
@require_POST
def request_export(request, public_id):
    _require(request.user, EXPORT)
    agreement = services.researcher_agreement(request.user, public_id)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return _exports_page(request, status=400, error=_("Choose one of the formats offered."))
    try:
        job = services.request_export(agreement, by=request.user,
                                      fmt=form.cleaned_data["format"])
    except services.ExportDenied as err:
        return _exports_page(request, status=err.status, error=err.text)
    messages.success(request, _("Export %(id)s requested; this page shows its progress.")
                     % {"id": job.public_id})
    return redirect("research-exports")


@login_required
def download(request, public_id):
    _require(request.user, EXPORT)
    try:
        job, path = jobs.open_download(request.user, public_id)
    except services.ExportDenied as err:
        return _exports_page(request, status=err.status, error=err.text)
    if path is None:
        if job.status == ExportJob.Status.FAILED:
            return _exports_page(request, status=410,
                                 error=_("This export failed: %(error)s") % {"error": job.error})
        return _exports_page(request, status=409, error=_("This export is not ready yet."))
    return FileResponse(path.open("rb"), as_attachment=True, filename=job.file_name,
                        content_type=job.media_type or "application/octet-stream")


@login_required
@require_POST
def create_token(request):
    _require(request.user, EXPORT)
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _exports_page(request, status=400, error=_("Give the token a name."))
    token, raw = ApiToken.issue(request.user, form.cleaned_data["name"])
    audit(request.user, "research_token.created", target=token.public_id, name=token.name)
    # Shown once, in this response only (not cached); only its hash is stored.
    response = _exports_page(request, new_token=raw)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def revoke_token(request, public_id):
    _require(request.user, EXPORT)
    updated = ApiToken.objects.filter(user=request.user, public_id=public_id,
                                      revoked_at__isnull=True).update(revoked_at=timezone.now())
    if not updated:
        raise Http404("No such token.")
    audit(request.user, "research_token.revoked", target=public_id)
    messages.success(request, _("Token revoked."))
    return redirect("research-exports")
