"""What the dashboards draw, rearranged from published snapshot numbers only.

Every function here reads snapshot documents (already suppressed and audited) and
never the responses. A number appears only where the snapshot publishes it; the few
derived here are plain functions of published numbers: a CI's ends (mean +/- its
published half-width), a group's gap to the school (both means published) with its
uncertainty (from the published SDs and counts), a participation rate (both counts
published), and a mean's position on its scale (for ranking components only).
"""

import math

from django.db.models import F
from django.db.models.fields.json import KeyTransform

from .models import Snapshot

Z95 = 1.96


def measured_components(data):
    return [c for c in data["components"] if c.get("items")]


def component_cell(group, key):
    """A group's published component cell, or None where the group or cell is hidden."""
    if not group or group.get("suppressed"):
        return None
    cell = (group.get("components") or {}).get(key)
    if not cell or cell.get("value") is None:
        return None
    return cell


def _interval(cell):
    if cell.get("ci95") is None:
        return None
    return [round(cell["value"] - cell["ci95"], 2), round(cell["value"] + cell["ci95"], 2)]


# ---- trends across waves ---------------------------------------------------------------

def series_snapshot_ids(wave):
    """The ids of the newest snapshot of every published wave of the series up to this
    one, oldest first: one query whatever the number of waves. They name exactly the
    documents a trend is drawn from (snapshots are frozen), so they key the page cache."""
    rows = (Snapshot.objects.filter(wave__series_id=wave.series_id,
                                    wave__starts_on__lte=wave.starts_on)
            .values_list("id", "wave_id", "version", "wave__starts_on"))
    newest = {}
    for sid, wave_id, version, starts_on in rows:
        if wave_id not in newest or version > newest[wave_id][1]:
            newest[wave_id] = (sid, version, starts_on)
    return [sid for sid, _, _ in sorted(newest.values(), key=lambda t: t[2])]


def series_snapshots(wave, queryset=None, ids=None):
    """The snapshots of `series_snapshot_ids` (or of `ids`), oldest first: one query more."""
    ids = series_snapshot_ids(wave) if ids is None else ids
    by_id = (queryset if queryset is not None else Snapshot.objects).in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


def series_documents(wave, school=None, ids=None):
    """The documents a trend is drawn from, reduced to what a trend reads (`slim`):
    each published wave's document, or (a district-wide series seen by one school) that
    school's part of each. The district level's documents are read whole (they hold
    only the district's and the schools' rows). `ids`: the snapshots', if known."""
    from .models import SnapshotPart

    if wave.series.district_wide and school is None:
        return [s.data for s in series_snapshots(wave, ids=ids)]
    if not wave.series.district_wide:
        return [slim_document(s) for s in series_snapshots(wave, slim(Snapshot.objects), ids)]
    ids = series_snapshot_ids(wave) if ids is None else ids
    parts = slim(SnapshotPart.objects.filter(snapshots__in=ids, school=school)
                 .annotate(snapshot_id=F("snapshots__id")))
    by_snapshot = {p.snapshot_id: slim_document(p) for p in parts}
    return [by_snapshot[i] for i in ids if i in by_snapshot]


def trends(documents, components, group_key="school"):
    """Per component, one point per published wave: the group's mean with its 95% CI,
    or a hidden point where that wave did not publish it."""
    out = []
    for comp in components:
        points = []
        for data in documents:
            group = next((g for g in data["groups"] if g["key"] == group_key), None)
            cell = component_cell(group, comp["key"])
            wave = data["wave"]
            point = {"wave": wave["label"], "season": wave["season"], "hidden": cell is None}
            if cell is not None:
                point.update(value=cell["value"], display=cell["display"], n=cell.get("n"),
                             ci=_interval(cell), favorable=cell.get("favorable"))
            points.append(point)
        out.append({"comp": comp, "points": points,
                    "seasons_differ": len({p["season"] for p in points}) > 1})
    return out


# ---- equity: each group's gap to the school ------------------------------------------

def gap(group_cell, school_cell):
    """Group mean minus school mean, with a 95% CI. The group's students are part of the
    school, so the two means are correlated: Var(g - s) = sd_g^2/n_g + sd_s^2/n_s
    - 2 sd_g^2/n_s (Cov(g, s) = sd_g^2/n_s). All four inputs are published."""
    diff = group_cell["value"] - school_cell["value"]
    parts = [group_cell.get(x) for x in ("sd", "n")] + [school_cell.get(x) for x in ("sd", "n")]
    if any(p in (None, 0) for p in parts):
        return {"diff": round(diff, 2), "ci": None, "clear": False}
    sd_g, n_g, sd_s, n_s = parts
    var = max(sd_g ** 2 / n_g + sd_s ** 2 / n_s - 2 * sd_g ** 2 / n_s, 0.0)
    half = Z95 * math.sqrt(var)
    ci = [round(diff - half, 2), round(diff + half, 2)]
    return {"diff": round(diff, 2), "ci": ci, "clear": ci[0] > 0 or ci[1] < 0}


def equity(groups, school, components):
    """Each group's gap to the school (or district: `school` is the top group, `groups`
    the others), one cell per component; no number wherever the group, its cell or the
    top group's cell is not published."""
    school_cells = [component_cell(school, c["key"]) for c in components]
    rows = []
    for group in groups:
        if group is school:
            continue
        cells = []
        for comp, school_cell in zip(components, school_cells, strict=True):
            cell = component_cell(group, comp["key"])
            cells.append(None if cell is None or school_cell is None
                         else gap(cell, school_cell))
        rows.append({"group": group, "cells": cells,
                     "hidden": all(c is None for c in cells)})
    return {"components": components, "school_cells": school_cells, "rows": rows}


# ---- item distributions ----------------------------------------------------------------

def item_distributions(data, group):
    """Per component, each item's published option shares for one group. A share shown
    only as a band (or hidden) is not drawn: the bar then does not reach 100%."""
    if not group or group.get("suppressed"):
        return []
    items = {i["key"]: i for i in data["items"]}
    out = []
    for comp in measured_components(data):
        rows = []
        for key in comp["items"]:
            item, published = items[key], (group.get("items") or {}).get(key) or {}
            options = published.get("options") or {}
            shares = []
            for pos, value in enumerate(range(item["lo"], item["hi"] + 1)):
                cell = options.get(str(value))
                shares.append({"label": item["labels"]["en"][pos],
                               "value": cell.get("value") if cell else None,
                               "display": cell.get("display") if cell else None})
            hidden = all(s["display"] is None for s in shares)
            rows.append({"item": item, "shares": shares, "hidden": hidden,
                         "favorable": published.get("favorable"),
                         "rest": None if hidden else _rest(shares)})
        labels = items[comp["items"][0]]["labels"]["en"] if comp["items"] else []
        out.append({"comp": comp, "rows": rows, "labels": labels,
                    "has_rest": any(r["rest"] is not None for r in rows)})
    return out


def _rest(shares):
    """What the shares not drawn (banded or hidden) add up to together: 100 minus the
    drawn ones, from published numbers only (so within a point or two of rounding);
    None when every share is drawn."""
    drawn = [s["value"] for s in shares if s["value"] is not None]
    if len(drawn) == len(shares):
        return None
    return max(0, 100 - sum(drawn))


# ---- the weakest component, and participation ----------------------------------------

def weakest_component(school, components):
    """The component to suggest practices for, from published school numbers only.

    By % favorable when every measured validated component publishes it; otherwise by
    where each published mean sits between its scale's ends (the components use
    different scales, so raw means are not comparable). None when neither is complete.
    """
    comps = [c for c in components if c.get("validated")]
    cells = {c["key"]: component_cell(school, c["key"]) for c in comps}
    if len(comps) < 2 or any(cell is None for cell in cells.values()):
        return None
    favorable = {k: cell.get("favorable") for k, cell in cells.items()}
    if all(isinstance(v, (int, float)) for v in favorable.values()):
        key = min(favorable, key=favorable.get)
        return {"key": key, "basis": "favorable", "values": favorable}
    position = {c["key"]: round(100 * (cells[c["key"]]["value"] - c["lo"]) / (c["hi"] - c["lo"]))
                for c in comps}
    key = min(position, key=position.get)
    return {"key": key, "basis": "scale", "values": position}


def participation(data):
    part = data.get("participation") or {}
    responses, enrolment = part.get("responses"), part.get("enrolment")
    if responses is None or not enrolment:
        return None
    return {"responses": responses, "enrolment": enrolment,
            "rate": round(100 * responses / enrolment)}


# ---- chart data (passed to static/js/dashboard.js with json_script) -------------------

def chart_data(trend_rows, equity_view, distributions):
    return {
        "trends": [{"id": f"trend-{t['comp']['key']}", "lo": t["comp"]["lo"],
                    "hi": t["comp"]["hi"], "label": t["comp"]["component"],
                    "waves": [p["wave"] for p in t["points"]],
                    "values": [p.get("value") for p in t["points"]],
                    "ci": [p.get("ci") for p in t["points"]]} for t in trend_rows],
        "equity": [_equity_chart(equity_view, j, comp)
                   for j, comp in enumerate(equity_view["components"])
                   if any(r["cells"][j] for r in equity_view["rows"])] if equity_view else [],
        "items": [{"id": f"items-{d['comp']['key']}", "label": d["comp"]["component"],
                   "options": d["labels"],
                   "items": [_short(r["item"]["text"]["en"]) for r in d["rows"]],
                   "shares": [[r["shares"][j]["value"] if j < len(r["shares"]) else None
                               for r in d["rows"]] for j in range(len(d["labels"]))],
                   "rest": [r["rest"] for r in d["rows"]]}
                  for d in distributions if any(not r["hidden"] for r in d["rows"])],
    }


def _equity_chart(view, j, comp):
    rows = [r for r in view["rows"] if r["cells"][j]]
    return {"id": f"equity-{comp['key']}", "label": comp["component"],
            "groups": [r["group"]["label"] for r in rows],
            "values": [r["cells"][j]["diff"] for r in rows],
            "ci": [r["cells"][j]["ci"] for r in rows],
            "caution": [bool(r["group"].get("caution")) for r in rows]}


def _short(text, limit=48):
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---- district: schools side by side --------------------------------------------------

def district_snapshots(district):
    """Each school's newest published snapshot (newest wave, newest version). Two
    queries whatever the number of schools and waves."""
    rows = (Snapshot.objects.filter(wave__series__school__district=district)
            .values_list("id", "wave__series__school_id", "wave__starts_on", "version"))
    newest = {}
    for sid, school_id, starts_on, version in rows:
        if school_id not in newest or (starts_on, version) > newest[school_id][1:]:
            newest[school_id] = (sid, starts_on, version)
    by_id = slim(Snapshot.objects.select_related("wave__series__school")).in_bulk(
        [t[0] for t in newest.values()])
    return sorted(by_id.values(), key=lambda s: s.wave.series.school.name)


def slim(queryset):
    """Only what the side-by-side tables read of each document, so a district of a
    hundred schools does not load a hundred whole documents: the wave, the components,
    participation and the first group (the presentation sorts the whole school first)."""
    return queryset.defer(*[f for f in ("data", "published", "relations")
                            if f in {x.name for x in queryset.model._meta.fields}]).annotate(
        doc_wave=KeyTransform("wave", "data"),
        doc_components=KeyTransform("components", "data"),
        doc_participation=KeyTransform("participation", "data"),
        doc_top=KeyTransform("0", KeyTransform("groups", "data")))


def slim_document(obj):
    top = obj.doc_top
    if not top or top.get("key") != "school":
        return obj.data  # not sorted as expected: read the whole document
    return {"wave": obj.doc_wave, "components": obj.doc_components,
            "participation": obj.doc_participation, "groups": [top]}


def district_comparison(district):
    """Schools side by side from each school's own published document: one table per
    instrument version for school series (only results of the same instrument are
    comparable), one per district-wide series with its published district row."""
    tables = {}
    for snap in district_snapshots(district):
        data = slim_document(snap)
        inst = data["wave"]["instrument"]
        table = tables.setdefault((inst["key"], inst["version"]), {
            "instrument": inst, "components": measured_components(data), "rows": [],
            "district": None, "series": None})
        table["rows"].append(_school_row(snap.wave.series.school, snap.wave, data,
                                         table["components"]))
    return list(tables.values()) + district_wide_tables(district)


def district_wide_tables(district):
    """The newest published wave of each district-wide series: each school's part, and
    the district level's whole-district row. One query per such series for its parts."""
    rows = (Snapshot.objects.filter(wave__series__district=district)
            .values_list("id", "wave__series_id", "wave__starts_on", "version"))
    newest = {}
    for sid, series_id, starts_on, version in rows:
        if series_id not in newest or (starts_on, version) > newest[series_id][1:]:
            newest[series_id] = (sid, starts_on, version)
    snaps = Snapshot.objects.select_related("wave__series").in_bulk(
        [t[0] for t in newest.values()])
    tables = []
    for snap in sorted(snaps.values(), key=lambda s: s.wave.series.name):
        data = snap.data
        components = measured_components(data)
        parts = sorted(slim(snap.parts.select_related("school")), key=lambda p: p.school.name)
        top = next((g for g in data["groups"] if g["key"] == "district"), None)
        tables.append({
            "instrument": data["wave"]["instrument"], "components": components,
            "series": snap.wave.series, "wave": snap.wave,
            "rows": [_school_row(p.school, snap.wave, slim_document(p), components,
                                 part=True) for p in parts],
            "district": _row(top, data, components)})
    return tables


def _row(top, data, components):
    return {"hidden": top is None or bool(top.get("suppressed")),
            "n": None if top is None else top.get("n"),
            "participation": participation(data),
            "cells": [_cell_with_ci(component_cell(top, c["key"])) for c in components]}


def _school_row(school, wave, data, components, part=False):
    top = next((g for g in data["groups"] if g["key"] == "school"), None)
    return {"school": school, "wave": wave, "part": part, **_row(top, data, components)}


def _cell_with_ci(cell):
    return None if cell is None else {**cell, "ci": _interval(cell)}


def district_chart_data(tables):
    charts = []
    for t_index, table in enumerate(tables):
        rows = ([dict(table["district"], label="Whole district")] if table["district"] else [])
        rows += [dict(r, label=r["school"].name) for r in table["rows"]]
        for c_index, comp in enumerate(table["components"]):
            shown = [r for r in rows if r["cells"][c_index] is not None]
            if not shown:
                continue
            charts.append({
                "id": f"district-{t_index}-{comp['key']}", "label": comp["component"],
                "lo": comp["lo"], "hi": comp["hi"],
                "groups": [r["label"] for r in shown],
                "values": [r["cells"][c_index]["value"] for r in shown],
                "ci": [r["cells"][c_index]["ci"] for r in shown]})
    return charts
