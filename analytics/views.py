"""Dashboards: server-rendered from published snapshots only (DESIGN.md rule 1).

Views reach schools, waves and districts through surveys.access (404 for missing or
forbidden) and rearrange published numbers with analytics.dashboards; charts get
their data through json_script and static/js/dashboard.js, beside the same tables.
"""

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from surveys import access
from surveys.models import Wave
from surveys.permissions import VIEW_CLASS_RESULTS, VIEW_DISTRICT, VIEW_RESULTS

from . import dashboard_cache, dashboards, district_tables, practices
from .models import Snapshot, SnapshotPart
from .presentation import localized_text, shown_group
from .wording import in_language

FAVORABLE_DEFINITION = gettext_lazy(
    # xgettext:no-python-format
    "% favorable is the share of valid answers in an item's favorable categories (Agree or "
    "Strongly agree, or for negatively worded items Disagree or Strongly disagree). A "
    "component's % favorable is the mean of its items' values."
)

BREAKDOWNS = [("school", gettext_lazy("By school")), ("class", gettext_lazy("By class")),
              ("year", gettext_lazy("By year level")), ("gender", gettext_lazy("By gender")),
              ("home_language", gettext_lazy("By language at home")),
              ("year_gender", gettext_lazy("By year level and gender"))]
# A demographic band whose breakdowns were not published, as the page names it.
BANDS = {"gender": gettext_lazy("gender"), "home_language": gettext_lazy("language at home")}


def viewer_scope(user, wave, school=None):
    """The groups of a document the user may see: None for every group (leaders; the
    district level, reached only with the district's VIEW_DISTRICT), else the keys of
    the classes they teach. `school`: whose document it is (a school series' school or
    one school's part; None for the district level). The dashboard body depends on the
    user through this alone, so it is part of the page cache's key."""
    if wave.series.district_wide and school is None:
        return None
    school = school or wave.series.school
    if VIEW_RESULTS in access.school_permissions(user, school):
        return None
    return frozenset(f"class:{c.public_id}" for c in
                     access.classes_for_user(user, school, VIEW_CLASS_RESULTS))


def scoped_groups(groups, scope):
    return groups if scope is None else [g for g in groups if g["key"] in scope]


def visible_groups(user, wave, groups, school=None):
    """Leaders see every group; a teacher sees only the classes they teach."""
    return scoped_groups(groups, viewer_scope(user, wave, school))


def component_rows(data, groups):
    rows = []
    for comp in data["components"]:
        if not comp.get("items"):
            rows.append({"comp": comp, "measured": False})
            continue
        cells = [{"group": g, "cell": (g.get("components") or {}).get(comp["key"])}
                 for g in groups]
        rows.append({"comp": comp, "measured": True, "cells": cells})
    return rows


def breakdowns(groups, components):
    """The predefined breakdowns that have groups, each a table of groups x components."""
    out = []
    for kind, title in BREAKDOWNS:
        rows = [{"group": g, "cells": [(g.get("components") or {}).get(c["key"])
                                       for c in components]}
                for g in groups if g["kind"] == kind]
        if rows:
            out.append({"kind": kind, "title": title, "rows": rows})
    return out


def focus_group(wanted, groups):
    """The group whose item distributions are drawn: one of the predefined groups the
    user may see (?group=<key>: `wanted`), else the school, else the first visible group."""
    by_key = {g["key"]: g for g in groups if not g.get("suppressed")}
    if wanted in by_key:
        return by_key[wanted]
    top = top_group(by_key.values())
    return top or next(iter(by_key.values()), None)


def suggestion(school, components):
    weakest = dashboards.weakest_component(school, components)
    if weakest is None:
        return None
    comp = next(c for c in components if c["key"] == weakest["key"])
    return {**weakest, "comp": comp, **practices.for_component(comp["component"])}


def wave_school(request, wave):
    """Whose document of a wave the user sees, without reading any: (school, part).
    District-wide waves: the district level (None, False) for the district's staff,
    else one school's part (?school=<public id>, or the user's first school); 404 for a
    school the user may not see. A school series: (its school, False)."""
    series = wave.series
    if not series.district_wide:
        return series.school, False
    wanted = request.GET.get("school", "")
    if not wanted and VIEW_DISTRICT in access.district_permissions(request.user,
                                                                   series.district_id):
        return None, False
    if wanted:
        school = access.get_wave_school_for_user(request.user, wave, wanted, VIEW_CLASS_RESULTS)
    else:
        school = next(iter(access.series_schools_for_user(request.user, series,
                                                          VIEW_CLASS_RESULTS)), None)
    if school is None:
        raise Http404("This school has no published part in this wave.")
    return school, True


def read_document(snapshot, school, part):
    """The snapshot's document, or (`part`) only the `data` of that school's part (its
    audit input and relations are not read); 404 where the snapshot has no such part."""
    if not part:
        return snapshot.data
    data = (SnapshotPart.objects.filter(snapshots=snapshot, school=school)
            .values_list("data", flat=True).first())
    if data is None:
        raise Http404("This school has no published part in this wave.")
    return data


def wave_document(request, wave, snapshot):
    """(document, school) a user sees of a snapshot (`wave_school`, `read_document`)."""
    school, part = wave_school(request, wave)
    return read_document(snapshot, school, part), school


def own_classes(groups, components, change):
    """A teacher's cards: each published class they teach, its component cells and its
    published change since the previous wave (only the classes the user may see)."""
    changes = (change or {}).get("groups") or {}
    return [{"group": g, "rows": [{"comp": c, "cell": (g.get("components") or {}).get(c["key"]),
                                   "change": (changes.get(g["key"]) or {}).get(c["key"])}
                                  for c in components]}
            for g in groups if g["kind"] == "class" and not g.get("suppressed")]


def top_group(groups):
    """The whole school (a school's document) or the whole district (a district-wide
    wave's district level), if the user sees it."""
    return next((g for g in groups if g["key"] in ("school", "district")), None)


def dashboard_context(wave, snapshot, data, part_school, scope, wanted, trend_ids):
    """What the dashboard's body shows, in the reader's language: labels, reasons and
    cautions stored in English in the document are reworded (`shown_group`)."""
    groups = [shown_group(g) for g in scoped_groups(data["groups"], scope)]
    school = top_group(groups)
    others = [g for g in groups if g is not school]
    components = dashboards.measured_components(data)
    trend_rows = (dashboards.trends(dashboards.series_documents(wave, part_school, trend_ids),
                                    components, school["key"]) if school else [])
    equity_view = dashboards.equity(others, school, components) if school else None
    focus = focus_group(wanted, groups)
    distributions = dashboards.item_distributions(data, focus)
    change = (data.get("change") or {}) if school else {}
    return {
        "wave": wave, "snapshot": snapshot, "data": data, "k": data["k"],
        "part_school": part_school, "level": data.get("level", "school"),
        "top_name": "district" if data.get("level") == "district" else "school",
        "caution_below": 2 * data["k"], "school": school, "groups": groups,
        "components": components, "component_rows": component_rows(data, groups),
        "breakdowns": breakdowns(others, components),
        "trends": trend_rows, "equity": equity_view, "focus": focus,
        "focus_choices": [g for g in groups if not g.get("suppressed")],
        "distributions": distributions,
        "participation": dashboards.participation(data) if school else None,
        "suggestion": suggestion(school, components) if school else None,
        "favorable_definition": FAVORABLE_DEFINITION,
        "change": {**change, "caution": localized_text(change.get("caution"))},
        "own_classes": [] if school else own_classes(groups, components, data.get("change")),
        "change_from": (data.get("change") or {}).get("from"),
        "change_caution": localized_text((data.get("change") or {}).get("caution")),
        "reliability": (data.get("reliability") or {}) if school else {},
        "dropped": ", ".join(str(BANDS.get(b, b)) for b in data.get("dropped_breakdowns") or []),
        "instrument_title": in_language(data["wave"]["instrument"]["title"]),
        "charts": dashboards.chart_data(trend_rows, equity_view, distributions),
        "chart_strings": dashboards.chart_strings(),
    }


def dashboard_page(request, wave, snapshot):
    """{title, body} of a wave's dashboard for this user (`dashboard_body`)."""
    school, part = wave_school(request, wave)
    scope = viewer_scope(request.user, wave, school)
    page = dashboard_body(wave, snapshot, school, part, scope, request.GET.get("group", ""))
    return {"title": page["title"], "body": mark_safe(page["body"])}


def dashboard_body(wave, snapshot, school, part, scope, wanted=""):
    """{title, body} of a wave's dashboard for a viewer who sees `scope` of `school`'s
    document (`wave_school`, `viewer_scope`): from the page cache, else rendered from
    the snapshot and kept (analytics/dashboard_cache.py). A ?group= that is not a group
    the viewer may see is rendered (as the school's answers) but not kept, so made-up
    values cannot fill the cache. No request: `analytics.warming` renders it too."""
    wanted = wanted[:200]
    trend_ids = dashboards.series_snapshot_ids(wave) if scope is None else []
    key = dashboard_cache.page_key(snapshot, school, scope, wanted, trend_ids)
    page = dashboard_cache.read(key)
    if page is None:
        data = read_document(snapshot, school, part)
        context = dashboard_context(wave, snapshot, data, school, scope, wanted, trend_ids)
        page = {"title": f"{data['wave'].get('series', '')}: {data['wave'].get('label', '')}",
                "body": render_to_string("analytics/_dashboard.html", context)}
        if not wanted or (context["focus"] or {}).get("key") == wanted:
            dashboard_cache.store(key, page)
    return page


@login_required
def wave_dashboard(request, public_id):
    wave = access.get_wave_for_user(request.user, public_id, VIEW_CLASS_RESULTS)
    snapshot = (Snapshot.objects.filter(wave=wave).defer("data", "audit")
                .order_by("-version").first())
    if snapshot is None:
        return render(request, "analytics/not_published.html", {"wave": wave}, status=404)
    return render(request, "analytics/dashboard.html",
                  {"wave": wave, "page": dashboard_page(request, wave, snapshot)})


@login_required
def district_dashboard(request, public_id):
    """Every school side by side (`district_body`)."""
    district = access.get_district_for_user(request.user, public_id, VIEW_DISTRICT)
    return render(request, "district/dashboard.html", {
        "district": district, "k": district.min_cell_size,
        "body": mark_safe(district_body(district))})


def district_body(district):
    """The district page's body: from the page cache, else rendered from the snapshots'
    summaries and kept (analytics/district_tables.py). No request:
    `analytics.warming` renders it too."""
    shown = district_tables.newest(district)
    schools = list(district.schools.order_by("name").values_list("id", "name"))
    key = dashboard_cache.district_key(district, shown, schools)
    body = dashboard_cache.read(key)
    if body is None:
        tables = district_tables.comparison(shown)
        listed = {r["school"].id for t in tables for r in t["rows"]}
        body = render_to_string("district/_comparison.html", {
            "k": district.min_cell_size, "tables": tables,
            "not_yet": [name for sid, name in schools if sid not in listed],
            "charts": {"district": district_tables.chart_data(tables)},
            "chart_strings": dashboards.chart_strings()})
        dashboard_cache.store(key, body)
    return body


@login_required
def results_home(request):
    """Published waves of every school where the user may see results (a teacher: for
    their own classes), and district-wide waves covering those schools, so each role
    can find its dashboards (what each then sees is decided by the dashboard)."""
    schools = access.schools_for_user(request.user, VIEW_CLASS_RESULTS)
    covering = Q(series__school__in=schools) | Q(
        series__district__in=schools.values("district_id"))
    waves = (Wave.objects.filter(covering, status=Wave.Status.PUBLISHED)
             .select_related("series__school", "series__district")
             .order_by("series__school__name", "series__name", "-starts_on"))
    return render(request, "analytics/results_home.html", {"waves": waves})
