"""REST endpoints of the surveys app. Students submit without an account; staff
read participation through the access door."""

import json

from django.http import Http404
from django.utils import translation
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from . import access, submission
from .permissions import VIEW_PARTICIPATION, HasSchoolPermission


def exception_handler(exc, context):
    """DRF's handler, with every error carrying a readable `detail`."""
    response = drf_exception_handler(exc, context)
    if response is None and isinstance(exc, Http404):
        response = ApiResponse({"detail": str(exc) or "Not found."}, status=404)
    return response


class SubmissionIn(serializers.Serializer):
    client_id = serializers.UUIDField()
    language = serializers.CharField(required=False)
    demographics = serializers.DictField(required=False)
    answers = serializers.DictField(child=serializers.IntegerField(allow_null=True))
    student_number = serializers.CharField(required=False, max_length=64)


class SubmissionAck(serializers.Serializer):
    client_id = serializers.UUIDField()
    stored = serializers.BooleanField(help_text="False when this response was already stored.")


class ErrorOut(serializers.Serializer):
    detail = serializers.CharField()
    field = serializers.CharField(required=False)


def _payload(request):
    if len(request.body) > submission.MAX_PAYLOAD_BYTES:
        return None
    try:
        return json.loads(request.body or b"{}")
    except ValueError:
        raise ParseError("The request body is not valid JSON.") from None


class JsonOnly(BaseContentNegotiation):
    """The submission answers JSON whatever the Accept header says: no negotiation work
    on the path every student's response takes."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return JSONRenderer(), JSONRenderer.media_type


class SubmitResponse(APIView):
    """A student's response. Idempotent on `client_id`."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JsonOnly

    @extend_schema(
        request=SubmissionIn,
        responses={
            201: SubmissionAck, 200: SubmissionAck, 400: ErrorOut, 404: ErrorOut,
            409: ErrorOut, 410: ErrorOut, 413: ErrorOut,
        },
    )
    def post(self, request, public_id):
        payload = _payload(request)
        if payload is None:
            return ApiResponse({"detail": "The response is too large."}, status=413)
        language = payload.get("language") if isinstance(payload, dict) else None
        with translation.override(language if language in ("en", "es") else "en"):
            return self._submit(public_id, payload)

    def _submit(self, public_id, payload):
        from django.utils.translation import gettext as _

        try:
            client_id, created = submission.submit_to(public_id, payload)
        except Http404:
            return ApiResponse({"detail": _("This survey session was not found. "
                                            "Check the code with your teacher.")}, status=404)
        except submission.SubmissionError as err:
            body = {"detail": err.message}
            if err.field:
                body["field"] = err.field
            return ApiResponse(body, status=err.status)
        return ApiResponse(
            {"client_id": str(client_id), "stored": created},
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class ParticipationOut(serializers.Serializer):
    session = serializers.CharField()
    status = serializers.CharField()
    responses = serializers.IntegerField()


class SessionParticipation(APIView):
    """How many have answered in a session: never what they answered."""

    permission_classes = [HasSchoolPermission]
    permission = VIEW_PARTICIPATION

    @extend_schema(responses={200: ParticipationOut, 404: OpenApiResponse(ErrorOut)})
    def get(self, request, public_id):
        session = access.get_session_for_user(request.user, public_id, VIEW_PARTICIPATION)
        return ApiResponse({
            "session": session.public_id,
            "status": session.status,
            "responses": session.responses.count(),
        })
