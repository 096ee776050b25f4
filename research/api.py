"""Research export API: researchers request exports under their agreements and fetch the
files, with a session or a research API token (`Authorization: Bearer ...`).

POST /agreements/<id>/exports/ answers 202 with the job's URL in Location; GET on that
URL answers 409 with the progress until the file is ready, then the file; 410 once the
job failed (with its reason) or the download link expired.
"""

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from surveys import access
from surveys.api import ErrorOut
from surveys.permissions import EXPORT, HasSchoolPermission

from . import jobs, services
from .auth import ResearchTokenAuthentication
from .models import ExportJob


class AgreementOut(serializers.Serializer):
    public_id = serializers.CharField()
    purpose = serializers.CharField()
    schools = serializers.ListField(child=serializers.CharField())
    waves = serializers.ListField(child=serializers.CharField())
    starts_on = serializers.DateField()
    expires_on = serializers.DateField()
    k = serializers.IntegerField()
    include_pseudonyms = serializers.BooleanField()
    active = serializers.BooleanField()
    inactive_reason = serializers.CharField()


class JobOut(serializers.Serializer):
    public_id = serializers.CharField()
    agreement = serializers.CharField()
    format = serializers.ChoiceField(choices=ExportJob.Format.choices)
    status = serializers.ChoiceField(choices=ExportJob.Status.choices)
    progress = serializers.IntegerField()
    step = serializers.CharField()
    error = serializers.CharField()
    rows = serializers.IntegerField(allow_null=True)
    file_name = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField(help_text="GET: 409 until ready, then the file.")
    download_url = serializers.CharField(help_text="The same file for a browser session.")


ExportIn = inline_serializer("ExportRequest", fields={
    "format": serializers.ChoiceField(choices=ExportJob.Format.choices)})


def agreement_json(agreement):
    return {
        "public_id": agreement.public_id, "purpose": agreement.purpose,
        "schools": [s.name for s in agreement.schools.order_by("name")],
        "waves": [str(w) for w in agreement.waves.select_related("series")],
        "starts_on": agreement.starts_on, "expires_on": agreement.expires_on,
        "k": agreement.k, "include_pseudonyms": agreement.include_pseudonyms,
        "active": agreement.is_active, "inactive_reason": agreement.inactive_reason(),
    }


def job_json(job):
    return {
        "public_id": job.public_id, "agreement": job.agreement.public_id,
        "format": job.format, "status": job.status, "progress": job.progress,
        "step": job.step, "error": job.error, "rows": job.rows, "file_name": job.file_name,
        "created_at": job.created_at, "finished_at": job.finished_at,
        "expires_at": job.expires_at,
        "url": reverse("api-export", args=[job.public_id]),
        "download_url": reverse("research-download", args=[job.public_id]),
    }


class ResearchView(APIView):
    # The token first: a missing or bad token answers 401 with WWW-Authenticate: Bearer.
    authentication_classes = [ResearchTokenAuthentication, SessionAuthentication]
    permission_classes = [HasSchoolPermission]
    permission = EXPORT


def _denied(err):
    return ApiResponse({"detail": str(err)}, status=err.status)


class AgreementList(ResearchView):
    """The researcher's agreements, active or not."""

    @extend_schema(responses={200: AgreementOut(many=True)})
    def get(self, request):
        agreements = access.agreements_for_researcher(request.user)
        return ApiResponse([agreement_json(a) for a in agreements])


class AgreementExports(ResearchView):
    """Export jobs under one agreement: list them, or request a new one."""

    @extend_schema(responses={200: JobOut(many=True), 404: ErrorOut})
    def get(self, request, public_id):
        agreement = services.researcher_agreement(request.user, public_id)
        return ApiResponse([job_json(j) for j in agreement.jobs.select_related("agreement")])

    @extend_schema(request=ExportIn,
                   responses={202: JobOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                              429: ErrorOut})
    def post(self, request, public_id):
        agreement = services.researcher_agreement(request.user, public_id)
        data = request.data if isinstance(request.data, dict) else {}
        try:
            job = services.request_export(agreement, by=request.user,
                                          fmt=str(data.get("format", "")))
        except services.ExportDenied as err:
            return _denied(err)
        response = ApiResponse(job_json(job), status=202)
        response["Location"] = request.build_absolute_uri(job_json(job)["url"])
        return response


class ExportDownload(ResearchView):
    """The export's file once ready (attachment); 409 with progress before."""

    @extend_schema(responses={
        (200, "application/octet-stream"): OpenApiTypes.BINARY,
        409: OpenApiResponse(JobOut, description="Not ready yet: retry after a second."),
        410: OpenApiResponse(ErrorOut, description="Failed (with its reason) or expired."),
        403: ErrorOut, 404: ErrorOut,
    })
    def get(self, request, public_id):
        try:
            job, path = jobs.open_download(request.user, public_id)
        except services.ExportDenied as err:
            return _denied(err)
        if path is None:
            return not_ready(job)
        return FileResponse(path.open("rb"), as_attachment=True, filename=job.file_name,
                            content_type=job.media_type or "application/octet-stream")


def not_ready(job):
    body = job_json(job)
    if job.status == ExportJob.Status.FAILED:
        return ApiResponse({**body, "detail": job.error}, status=410)
    return ApiResponse({**body, "detail": "The export is not ready yet."}, status=409,
                       headers={"Retry-After": "1"})


class ExportStatus(ResearchView):
    """The job's state as JSON, always 200 (the researcher's page polls this)."""

    @extend_schema(responses={200: JobOut, 404: ErrorOut})
    def get(self, request, public_id):
        job = jobs.researcher_job(request.user, public_id)
        return ApiResponse(job_json(job))
