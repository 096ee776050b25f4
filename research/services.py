"""The data-sharing workflow: plain functions taking the acting user, each writing an
audit event (who, which agreement, which file, when; never answers or identifiers).

`request_export` is what a researcher's click or API call runs; it sends the job to
`research.tasks.run_export` on commit. Running, downloading and deleting files are in
research/jobs.py.
"""

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from surveys import access
from surveys.models import Wave
from surveys.services import ServiceError, audit

from .models import Agreement, ExportJob


class ExportDenied(ServiceError):
    """A refused export request or download; `status` is the HTTP answer for the API.
    `message` is English with %(name)s placeholders filled from `params`: str() is the
    English (the API's answer, the audit's reason), `text` the same in the request's
    language (the researcher's page)."""

    def __init__(self, message, status=403, params=None):
        super().__init__(message % params if params else message)
        self.status = status
        self.text = _(message) % params if params else _(message)


def export_dir():
    return Path(settings.BELONGING_EXPORT_DIR)


# --- agreements ---------------------------------------------------------------------


def covers(series, school):
    """A school's own series, or a district-wide series (no school) of its district.
    Only the agreement's schools' responses leave (ExportScope.school_ids)."""
    if series.school_id is not None:
        return series.school_id == school.id
    return series.district_id == school.district_id


def _check_scope(by, schools, waves):
    if not schools:
        raise ServiceError(_("Choose at least one school."))
    if not waves:
        raise ServiceError(_("Choose at least one published wave."))
    for school in schools:
        if access.MANAGE_AGREEMENTS not in access.school_permissions(by, school):
            raise ServiceError(_("You may not grant access to %(school)s.")
                               % {"school": school.name})
    if len({school.district_id for school in schools}) > 1:
        raise ServiceError(_("An agreement covers schools of one district only."))
    for wave in waves:
        if wave.status != Wave.Status.PUBLISHED:
            raise ServiceError(_("%(wave)s is not published; only published waves can be "
                                 "shared.") % {"wave": wave})
        if not any(covers(wave.series, school) for school in schools):
            raise ServiceError(_("%(wave)s is not a wave of the chosen schools.")
                               % {"wave": wave})


def _check_terms(schools, waves, *, starts_on, expires_on, k, include_pseudonyms):
    if expires_on <= timezone.localdate():
        raise ServiceError(_("The expiry date must be in the future."))
    if starts_on > expires_on:
        raise ServiceError(_("The agreement must start before it expires."))
    if not settings.BELONGING_MIN_K <= k <= settings.BELONGING_MAX_K:
        raise ServiceError(_("k must be between %(low)s and %(high)s.") % {
            "low": settings.BELONGING_MIN_K, "high": settings.BELONGING_MAX_K})
    floor = max([schools[0].district.min_cell_size] + [w.series.k for w in waves])
    if k < floor:
        raise ServiceError(_("k cannot be below %(floor)s, the minimum group size of the "
                             "district and of the chosen waves' series.") % {"floor": floor})
    if include_pseudonyms and not any(w.series.mode == "linked" for w in waves):
        raise ServiceError(_("Pseudonyms can be included only for waves of a linked series; "
                             "none of the chosen waves is."))


def create_agreement(*, by, researcher, schools, waves, purpose, starts_on, expires_on, k,
                     include_pseudonyms=False):
    schools = list(schools)
    # Re-read the waves: the caller's objects may predate their publication.
    waves = list(Wave.objects.filter(pk__in=[w.pk for w in waves])
                 .select_related("series__school__district").order_by("starts_on", "id"))
    if access.EXPORT not in access.user_permissions_anywhere(researcher):
        raise ServiceError(_("%(user)s does not hold the researcher role.")
                           % {"user": researcher.username})
    if not (purpose or "").strip():
        raise ServiceError(_("State the purpose of the agreement."))
    _check_scope(by, schools, waves)
    _check_terms(schools, waves, starts_on=starts_on, expires_on=expires_on, k=k,
                 include_pseudonyms=include_pseudonyms)
    with transaction.atomic():
        agreement = Agreement.objects.create(
            researcher=researcher, granted_by=by, district=schools[0].district,
            purpose=purpose.strip(), starts_on=starts_on, expires_on=expires_on, k=k,
            include_pseudonyms=include_pseudonyms,
        )
        agreement.schools.set(schools)
        agreement.waves.set(waves)
        audit(by, "agreement.created", target=agreement.public_id,
              researcher=researcher.username, schools=[s.public_id for s in schools],
              waves=[w.public_id for w in waves], k=k, expires_on=str(expires_on),
              include_pseudonyms=include_pseudonyms)
    return agreement


def revoke_agreement(agreement, *, by):
    """Stops every request and download at once, and deletes the files already made."""
    with transaction.atomic():
        locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if locked.revoked_at is not None:
            raise ServiceError(_("This agreement is already revoked."))
        locked.revoked_at = timezone.now()
        locked.revoked_by = by
        locked.save(update_fields=["revoked_at", "revoked_by"])
        audit(by, "agreement.revoked", target=locked.public_id,
              researcher=locked.researcher.username)
    agreement.revoked_at, agreement.revoked_by = locked.revoked_at, by
    from .jobs import delete_job_files

    for job in agreement.jobs.exclude(file_path="").select_related("agreement"):
        delete_job_files(job, reason="agreement revoked")
    return agreement


# --- requests -----------------------------------------------------------------------


def refuse(by, agreement_id, message, *, status=403, params=None, **detail):
    """Audit a refused request or download and raise it, with a message for the person:
    English (marked with gettext_noop where it is written) with %(name)s placeholders
    filled from `params`. The audit keeps the English; the page shows it translated."""
    denied = ExportDenied(message, status=status, params=params)
    audit(by, "export.refused", target=agreement_id, reason=str(denied), **detail)
    raise denied


# Exports share the workers with publishing: a researcher waits for one to finish
# before queueing more than this many.
MAX_ACTIVE_JOBS = 3


def request_export(agreement, *, by, fmt):
    from .jobs import send_on_commit

    _check_format(by, agreement, fmt)
    inactive = agreement.inactive_message()
    if inactive:
        refuse(by, agreement.public_id, inactive[0], params=inactive[1], format=fmt)
    unpublished = agreement.waves.exclude(status=Wave.Status.PUBLISHED)
    if unpublished.exists():
        labels = ", ".join(str(w) for w in unpublished)
        refuse(by, agreement.public_id, gettext_noop(
            "Not yet published: %(labels)s. Exports contain published waves only."),
            params={"labels": labels}, format=fmt)
    active = ExportJob.objects.filter(requested_by=by, status__in=[
        ExportJob.Status.CREATED, ExportJob.Status.RUNNING]).count()
    if active >= MAX_ACTIVE_JOBS:
        refuse(by, agreement.public_id, gettext_noop(
            "You have %(n)s exports waiting or running; request more when one has finished."),
            params={"n": active}, status=429, format=fmt)
    job = ExportJob.objects.create(agreement=agreement, requested_by=by, format=fmt)
    audit(by, "export.requested", target=agreement.public_id, job=job.public_id, format=fmt)
    send_on_commit(job)
    return job


def _check_format(by, agreement, fmt):
    if fmt not in ExportJob.Format.values:
        refuse(by, agreement.public_id, gettext_noop(
            "Unknown format %(format)s; choose one of %(formats)s."),
            params={"format": repr(fmt), "formats": ", ".join(ExportJob.Format.values)},
            status=400, format=str(fmt)[:20])
    from analytics.exporters import REGISTRY

    if fmt not in REGISTRY:
        refuse(by, agreement.public_id, gettext_noop(
            "The %(format)s export is not available on this installation yet; choose one "
            "of %(formats)s."), params={"format": fmt, "formats": ", ".join(sorted(REGISTRY))},
            status=400, format=fmt)


def researcher_agreement(user, public_id):
    """The door for a researcher's agreement, auditing a miss (someone else's, or none)."""
    try:
        return access.get_agreement_for_researcher(user, public_id)
    except Http404:
        audit(user, "export.refused", target=str(public_id)[:40],
              reason="no such agreement for this user")
        raise
