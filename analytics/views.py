"""Dashboards: server-rendered from published snapshots only (DESIGN.md rule 1)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from surveys import access
from surveys.permissions import VIEW_CLASS_RESULTS, VIEW_RESULTS

from .publishing import latest_snapshot

FAVORABLE_DEFINITION = (
    "% favorable is the share of valid answers in an item's favorable categories (Agree or "
    "Strongly agree, or for negatively worded items Disagree or Strongly disagree). A "
    "component's % favorable is the mean of its items' values."
)


def visible_groups(user, wave, groups):
    """Leaders see every group; a teacher sees only the classes they teach."""
    school = wave.series.school
    if VIEW_RESULTS in access.school_permissions(user, school):
        return groups
    mine = {f"class:{c.public_id}" for c in
            access.classes_for_user(user, school, VIEW_CLASS_RESULTS)}
    return [g for g in groups if g["key"] in mine]


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


@login_required
def wave_dashboard(request, public_id):
    wave = access.get_wave_for_user(request.user, public_id, VIEW_CLASS_RESULTS)
    snapshot = latest_snapshot(wave)
    if snapshot is None:
        return render(request, "analytics/not_published.html", {"wave": wave}, status=404)
    data = snapshot.data
    groups = visible_groups(request.user, wave, data["groups"])
    school = next((g for g in groups if g["key"] == "school"), None)
    return render(request, "analytics/dashboard.html", {
        "wave": wave, "snapshot": snapshot, "data": data, "k": data["k"],
        "school": school, "groups": groups,
        "component_rows": component_rows(data, groups),
        "favorable_definition": FAVORABLE_DEFINITION,
        "change": (data.get("change") or {}), "reliability": data.get("reliability") or {},
    })
