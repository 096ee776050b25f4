"""Read API over published snapshots, with the dashboards' suppression and scoping."""

from django.db.models import Q
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from surveys import access
from surveys.api import ErrorOut
from surveys.models import Wave
from surveys.permissions import VIEW_CLASS_RESULTS, VIEW_RESULTS, HasSchoolPermission

from .models import PublishRun
from .publishing import latest_snapshot
from .views import visible_groups, wave_document


class WaveOut(serializers.Serializer):
    public_id = serializers.CharField()
    series = serializers.CharField()
    school = serializers.CharField()
    label = serializers.CharField()
    season = serializers.CharField()
    status = serializers.CharField()


class WaveList(APIView):
    """Waves of the schools the user may see results for."""

    permission_classes = [HasSchoolPermission]
    permission = VIEW_CLASS_RESULTS

    @extend_schema(responses={200: WaveOut(many=True)})
    def get(self, request):
        schools = access.schools_for_user(request.user, VIEW_CLASS_RESULTS)
        # District-wide series cover every school of their district: listed for anyone
        # who may see one of those schools (what they then see is their school's part).
        waves = Wave.objects.filter(
            Q(series__school__in=schools)
            | Q(series__district__in=schools.values("district_id"))
        ).select_related("series__school", "series__district")
        return ApiResponse([
            {"public_id": w.public_id, "series": w.series.name,
             "school": (w.series.school or w.series.district).name,
             "label": w.label, "season": w.season, "status": w.status}
            for w in waves.order_by("series_id", "starts_on")
        ])


SnapshotOut = inline_serializer("Snapshot", fields={
    "version": serializers.IntegerField(),
    "k": serializers.IntegerField(),
    "wave": serializers.DictField(),
    "components": serializers.ListField(child=serializers.DictField()),
    "items": serializers.ListField(child=serializers.DictField()),
    "groups": serializers.ListField(child=serializers.DictField()),
    "participation": serializers.DictField(allow_null=True),
    "reliability": serializers.DictField(allow_null=True),
    "change": serializers.DictField(allow_null=True),
})


class WaveSnapshot(APIView):
    """The latest published snapshot of a wave, suppressed; teachers get their classes only."""

    permission_classes = [HasSchoolPermission]
    permission = VIEW_CLASS_RESULTS

    @extend_schema(responses={200: SnapshotOut, 404: ErrorOut})
    def get(self, request, public_id):
        wave = access.get_wave_for_user(request.user, public_id, VIEW_CLASS_RESULTS)
        snapshot = latest_snapshot(wave)
        if snapshot is None:
            return ApiResponse({"detail": "This wave has no published results yet."},
                               status=404)
        document, school = wave_document(request, wave, snapshot)
        data = dict(document)
        data["groups"] = visible_groups(request.user, wave, data["groups"], school)
        if not any(g["key"] in ("school", "district") for g in data["groups"]):
            data.update(participation=None, reliability=None, change=None)
        return ApiResponse({"version": snapshot.version, **data})


class RunOut(serializers.Serializer):
    status = serializers.ChoiceField(choices=PublishRun.Status.values)
    progress = serializers.IntegerField(help_text="Percent done.")
    step = serializers.CharField(help_text='What it is doing, e.g. "schools: 3 of 16 '
                                 'done, about 4 min left", or for one school\'s part '
                                 '"suppressing, about 1 min left".')
    error = serializers.CharField(help_text="Why it stopped, when it failed.")
    requested_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class WavePublishing(APIView):
    """The wave's latest publish run: how far it has got, for the page that shows it
    (static/js/publishing.js polls it). Leaders and district admins, as the school and
    district pages that show the run."""

    permission_classes = [HasSchoolPermission]
    permission = VIEW_RESULTS

    @extend_schema(responses={200: RunOut, 404: ErrorOut})
    def get(self, request, public_id):
        wave = access.get_wave_for_user(request.user, public_id, VIEW_RESULTS)
        run = wave.publish_runs.first()
        if run is None:
            return ApiResponse({"detail": "Nobody has asked to publish this wave yet."},
                               status=404)
        return ApiResponse({"status": run.status, **run.live, "error": run.error,
                            "requested_at": run.created_at, "finished_at": run.finished_at})
