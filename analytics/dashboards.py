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
from django.utils.translation import gettext as _

from .models import Snapshot
from .wording import in_language

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


def mean_interval(cell):
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
    each published wave's document (a school's, or a district-wide wave's district
    level), or (a district-wide series seen by one school) that school's part of each.
    `ids`: the snapshots', if known."""
    from .models import SnapshotPart

    if not wave.series.district_wide or school is None:
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
                             ci=mean_interval(cell), favorable=cell.get("favorable"))
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
    return {"components": components, "school_cells": school_cells, "rows": rows,
            "top": "district" if school.get("key") == "district" else "school"}


# ---- item distributions ----------------------------------------------------------------

def item_distributions(data, group):
    """Per component, each item's published option shares for one group, its text and
    answer labels in the reader's language where the instrument has them. A share shown
    only as a band (or hidden) is not drawn: the bar then does not reach 100%."""
    if not group or group.get("suppressed"):
        return []
    items = {i["key"]: i for i in data["items"]}
    out = []
    for comp in measured_components(data):
        rows = []
        for key in comp["items"]:
            item, published = items[key], (group.get("items") or {}).get(key) or {}
            options, labels = published.get("options") or {}, in_language(item["labels"])
            shares = []
            for pos, value in enumerate(range(item["lo"], item["hi"] + 1)):
                cell = options.get(str(value))
                shares.append({"label": labels[pos],
                               "value": cell.get("value") if cell else None,
                               "display": cell.get("display") if cell else None})
            hidden = all(s["display"] is None for s in shares)
            rows.append({"item": item, "text": in_language(item["text"]),
                         "shares": shares, "hidden": hidden,
                         "favorable": published.get("favorable"),
                         "rest": None if hidden else _rest(shares)})
        labels = in_language(items[comp["items"][0]]["labels"]) if comp["items"] else []
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
                   "items": [_short(r["text"]) for r in d["rows"]],
                   "shares": [[r["shares"][j]["value"] if j < len(r["shares"]) else None
                               for r in d["rows"]] for j in range(len(d["labels"]))],
                   "rest": [r["rest"] for r in d["rows"]]}
                  for d in distributions if any(not r["hidden"] for r in d["rows"])],
    }


def chart_strings():
    """The words static/js/dashboard.js writes on the charts, in the page's language
    (json_script "dashboard-strings"; the script keeps its English without them)."""
    return {
        "mean": _("Mean"),
        # xgettext:no-python-format
        "ci95": _("95% confidence interval"),
        "gap_school": _("Gap to the school"), "gap_district": _("Gap to the district"),
        "gap_school_mean": _("Gap to the school mean"),
        "gap_district_mean": _("Gap to the district mean"),
        "ranked_groups": _("%(count)s groups, from the lowest gap to the highest"),
        "school_mean": _("School mean"),
        "ranked_schools": _("%(count)s schools, from the lowest mean to the highest"),
        "dark_point": _("(the dark point: %(name)s)"),
        "rest": _("Not shown separately"),
        # xgettext:no-python-format
        "answers": _("% of answers"),
        "aria": _("Chart: %(caption)s. The same numbers are in the table."),
        "aria_ranked": _("Chart: %(caption)s, ranked from the lowest to the highest. The "
                         "same numbers are in the table."),
    }


def _equity_chart(view, j, comp):
    rows = [r for r in view["rows"] if r["cells"][j]]
    return {"id": f"equity-{comp['key']}", "label": comp["component"], "top": view["top"],
            "groups": [r["group"]["label"] for r in rows],
            "values": [r["cells"][j]["diff"] for r in rows],
            "ci": [r["cells"][j]["ci"] for r in rows],
            "caution": [bool(r["group"].get("caution")) for r in rows]}


def _short(text, limit=48):
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def slim(queryset):
    """Snapshots or parts without their documents: what the side-by-side tables and the
    trends read of each is its `summary` (analytics.models.summary_of)."""
    return queryset.defer(*[f for f in ("data", "published", "relations", "audit")
                            if f in {x.name for x in queryset.model._meta.fields}])


def slim_document(obj):
    """The summary of a slim snapshot or part; the whole document (one query more) for
    one whose summary holds no top-level group."""
    return obj.summary if obj.summary.get("groups") else obj.data
