"""The audit log page: who exported, downloaded, published, changed roles, deleted,
opened and closed waves. Leaders see their school's events, district admins their
district's (surveys.access). Filterable by kind of action, user and dates; paginated.

Only safe fields are rendered: when, who (staff), what, the object's name and a
whitelist of counts and labels. Free-text reasons are never shown (a refused
publication's reason may quote the disclosure audit's findings), nor anything typed
at the login page; audit events never hold answers or student identifiers.
"""

from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import access
from .models import ClassGroup, Series, Session, Wave
from .permissions import VIEW_AUDIT_LOG

PER_PAGE = 50

# Kind of action -> (label, action prefixes).
KINDS = {
    "export": (_("Exports and downloads"), ("export.", "agreement.")),
    "publish": (_("Publishing"), ("wave.publish",)),
    "role": (_("Role changes"), ("role.",)),
    "delete": (_("Deletions"), ("data.",)),
    "wave": (_("Series and waves created, opened, closed"),
             ("series.created", "wave.created", "wave.opened", "wave.closed")),
    "session": (_("Class sessions"), ("session.",)),
    "consent": (_("Opt-outs and consent"), ("opt_out.", "consent.")),
}

# The only detail keys ever rendered; everything else stays in the database.
SAFE_DETAIL = {
    "responses": _("responses"), "consent_records": _("consent records"),
    "count": _("students"), "snapshot_version": _("snapshot version"), "role": _("role"),
    "kind": _("record"), "label": _("label"), "name": _("name"), "format": _("format"),
}


class FilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Action"), required=False,
                             choices=[("", _("All"))] + [(k, v[0]) for k, v in KINDS.items()])
    user = forms.CharField(label=_("User name"), required=False, max_length=150)
    since = forms.DateField(label=_("From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data


def _day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


def filtered(events, data):
    if data.get("kind"):
        prefixes = KINDS[data["kind"]][1]
        query = Q(pk__in=[])
        for prefix in prefixes:
            query |= Q(action__startswith=prefix)
        events = events.filter(query)
    if data.get("user"):
        events = events.filter(actor__username=data["user"])
    if data.get("since"):
        events = events.filter(created_at__gte=_day_start(data["since"]))
    if data.get("until"):
        events = events.filter(created_at__lt=_day_start(data["until"] + timedelta(days=1)))
    return events


def _names(events):
    """Public id -> name of the series, waves, sessions and classes the events name."""
    ids = {e.target for e in events if e.target}
    names = {}
    for model, label in ((Series, "name"), (Wave, "label"), (ClassGroup, "name")):
        names.update(model.objects.filter(public_id__in=ids).values_list("public_id", label))
    for sid, cls in Session.objects.filter(public_id__in=ids).values_list(
            "public_id", "class_group__name"):
        names[sid] = _("session of %(cls)s") % {"cls": cls}
    return names


def present(event, names):
    if event.action.startswith("role."):
        target = event.target  # a staff user name
    else:
        target = names.get(event.target, "")
    detail = [(SAFE_DETAIL[k], v) for k, v in sorted(event.detail.items())
              if k in SAFE_DETAIL and isinstance(v, str | int) and not isinstance(v, bool)]
    if isinstance(event.detail.get("waves"), list):
        detail.append((_("waves"), len(event.detail["waves"])))
    return {"when": event.created_at, "who": event.actor.username if event.actor else None,
            "action": event.action, "target": target, "detail": detail,
            "school": event.school.name if event.school else ""}


def _render(request, scope_name, events):
    form = FilterForm(request.GET or None)
    status = 200
    if form.is_bound and not form.is_valid():
        status, data = 400, {}
    else:
        data = form.cleaned_data if form.is_bound else {}
    events = filtered(events, data).select_related("actor", "school").order_by("-created_at",
                                                                                "-id")
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    names = _names(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/log.html", {
        "scope_name": scope_name, "form": form, "page": page, "query": query.urlencode(),
        "rows": [present(e, names) for e in page.object_list],
    }, status=status)


@login_required
def school_log(request, public_id):
    school, events = access.audit_events_for_school(request.user, public_id, VIEW_AUDIT_LOG)
    return _render(request, school.name, events)


@login_required
def district_log(request, public_id):
    district, events = access.audit_events_for_district(request.user, public_id,
                                                        VIEW_AUDIT_LOG)
    return _render(request, district.name, events)
