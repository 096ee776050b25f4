"""The district page: every school side by side, from each school's newest published
whole-school result, and each district-wide series' newest wave with its district row.

The rows are read from each snapshot's and part's `summary` (analytics.models), never
from the whole documents, and the page's body is kept rendered in the cache under a
key naming the snapshots it shows (`newest`): snapshots never change, so the key
changes exactly when another snapshot would be shown (docs/dashboards.md). The body is
in the active language (its texts are translated here, and the key names the language);
numbers, school names and wave labels are shown as published.
"""

from django.utils.translation import gettext as _

from . import wording
from .dashboards import (
    component_cell,
    mean_interval,
    measured_components,
    participation,
    slim,
    slim_document,
)
from .models import Snapshot
from .templatetags.dashboard import pct


def newest(district):
    """The snapshots the page shows, with what it prints of their waves and series:
    {"schools": [...], "district_wide": [...]}, each a list of (snapshot id, wave
    label, series name) sorted by id. The newest wave's newest version of each school
    series' school, and of each district-wide series. Two queries whatever the number
    of schools and waves."""
    fields = ("id", "wave__starts_on", "version", "wave__label", "wave__series__name")
    by_school = Snapshot.objects.filter(wave__series__school__district=district).values_list(
        "wave__series__school_id", *fields)
    by_series = Snapshot.objects.filter(wave__series__district=district).values_list(
        "wave__series_id", *fields)
    return {"schools": _newest_of_each(by_school), "district_wide": _newest_of_each(by_series)}


def _newest_of_each(rows):
    best = {}
    for owner, sid, starts_on, version, label, series in rows:
        if owner not in best or (starts_on, version) > best[owner][0]:
            best[owner] = ((starts_on, version), (sid, label, series))
    return sorted(shown for _, shown in best.values())


def comparison(shown):
    """Schools side by side (`shown`: `newest`): one table per instrument version for
    school series (only results of the same instrument are comparable), then one per
    district-wide series with its published district row."""
    tables = {}
    snaps = slim(Snapshot.objects.select_related("wave__series__school")).in_bulk(
        [row[0] for row in shown["schools"]])
    for snap in sorted(snaps.values(), key=lambda s: s.wave.series.school.name):
        data = slim_document(snap)
        inst = data["wave"]["instrument"]
        table = tables.setdefault((inst["key"], inst["version"]), {
            "instrument": inst, "components": _labelled(measured_components(data)),
            "rows": [],
            "district": None, "series": None})
        table["rows"].append(_school_row(snap.wave.series.school, snap.wave, data,
                                         table["components"]))
    return list(tables.values()) + _district_wide_tables(shown["district_wide"])


def _district_wide_tables(shown):
    """Each school's part of a district-wide wave, and the district level's
    whole-district row. One query per such series for its parts."""
    snaps = slim(Snapshot.objects.select_related("wave__series")).in_bulk(
        [row[0] for row in shown])
    tables = []
    for snap in sorted(snaps.values(), key=lambda s: s.wave.series.name):
        data = slim_document(snap)
        components = _labelled(measured_components(data))
        parts = sorted(slim(snap.parts.select_related("school")), key=lambda p: p.school.name)
        top = next((g for g in data["groups"] if g["key"] == "district"), None)
        tables.append({
            "instrument": data["wave"]["instrument"], "components": components,
            "series": snap.wave.series, "wave": snap.wave,
            "rows": [_school_row(p.school, snap.wave, slim_document(p), components,
                                 part=True) for p in parts],
            "district": {**_row(top, data, components), "label": _("Whole district")}})
    return tables


def _labelled(components):
    """The published components with their names in the active language (copies: the
    document's own dicts stay as published)."""
    return [{**c, "label": wording.component_name(c["component"])} for c in components]


def _row(top, data, components):
    return {"hidden": top is None or bool(top.get("suppressed")),
            "n": None if top is None else top.get("n"),
            "participation": participation(data),
            "cells": [_cell_with_ci(component_cell(top, c["key"])) for c in components]}


def _school_row(school, wave, data, components, part=False):
    top = next((g for g in data["groups"] if g["key"] == "school"), None)
    return {"school": school, "wave": wave, "part": part, **_row(top, data, components)}


def _cell_with_ci(cell):
    """A side-by-side cell with its CI, and the texts the page shows (formatted here,
    once, rather than by template filters in each of 500 rows)."""
    if cell is None:
        return None
    ci = mean_interval(cell)
    return {**cell, "ci": ci, "ci_text": f"{ci[0]:.2f}–{ci[1]:.2f}" if ci else "",
            "display_text": wording.band(cell.get("display")),
            "favorable_text": wording.band(pct(cell.get("favorable")))}


def chart_data(tables):
    """One chart per table and component: each shown row's mean and CI, the whole
    district's first (`reference`: static/js/dashboard.js marks it in a chart of many
    schools, ranked by mean)."""
    charts = []
    for t_index, table in enumerate(tables):
        district = table["district"]
        rows = [district] if district else []
        rows += [dict(r, label=r["school"].name) for r in table["rows"]]
        for c_index, comp in enumerate(table["components"]):
            shown = [r for r in rows if r["cells"][c_index] is not None]
            if not shown:
                continue
            charts.append({
                "id": f"district-{t_index}-{comp['key']}", "label": comp["label"],
                "lo": comp["lo"], "hi": comp["hi"], "reference": _("Whole district"),
                "groups": [r["label"] for r in shown],
                "values": [r["cells"][c_index]["value"] for r in shown],
                "ci": [r["cells"][c_index]["ci"] for r in shown]})
    return charts
