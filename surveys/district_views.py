"""A district admin's pages for district-wide series: create one, then its waves.

Only a district admin of that district reaches them (MANAGE_WAVES through a district
membership, `access.get_district_for_user` / `access.get_district_series_for_user`:
404 for anyone else, a school's leader included). A district-wide series' waves then
appear for every school of the district: teachers open sessions for their classes
(`views.teacher_home`), each school's staff record opt-outs for their own classes
(`consent_views`), and the district opens, closes and publishes the waves.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from analytics.models import runs_listed

from . import access, consent, services
from .forms import DistrictSeriesForm, WaveForm
from .models import Wave
from .permissions import MANAGE_WAVES


def _posted(request):
    """The form's data: bound on any POST (an empty one too, so it shows its errors)."""
    return request.POST if request.method == "POST" else None


@login_required
@require_http_methods(["GET", "POST"])
def create_series(request, public_id):
    district = access.get_district_for_user(request.user, public_id, MANAGE_WAVES)
    form = DistrictSeriesForm(_posted(request), district=district)
    if request.method == "POST" and form.is_valid():
        try:
            series = services.create_district_series(district, by=request.user,
                                                     **form.series_options())
        except services.ServiceError as err:
            form.add_error(None, str(err))
        else:
            messages.success(request, _("District-wide series created. Add its first wave."))
            return redirect("district-series", public_id=district.public_id,
                            series_id=series.public_id)
    return render(request, "district/series_new.html", {"district": district, "form": form},
                  status=400 if form.is_bound else 200)


def _participation(series):
    """Per wave that has opened: participation per school and over the district."""
    waves = series.waves.exclude(status=Wave.Status.DRAFT).order_by("-starts_on", "-id")
    schools = list(series.schools())
    return [{"wave": wave, **consent.participation_by_school(wave, schools)} for wave in waves]


@login_required
@require_http_methods(["GET", "POST"])
def series_detail(request, public_id, series_id):
    district, series = access.get_district_series_for_user(request.user, public_id, series_id,
                                                           MANAGE_WAVES)
    form = WaveForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        services.create_wave(series, by=request.user, **form.cleaned_data)
        messages.success(request, _("Wave created. Open it when schools may start."))
        return redirect("district-series", public_id=district.public_id,
                        series_id=series.public_id)
    return render(request, "district/series.html", {
        "district": district, "series": series, "form": form,
        "waves": series.waves.prefetch_related(runs_listed()),
        "schools": series.schools(), "participation": _participation(series),
    }, status=400 if form.is_bound else 200)
