"""Turning published (suppressed, audited) numbers into the snapshot document the
dashboards, the API and the printable report read. Nothing here sees a hidden value:
it only reshapes what `disclosure.publish` released, plus school-level reliability
and change against the previous published wave."""

import math

import numpy as np
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, pgettext_lazy

from . import aggregation, reliability, wording
from .change import GroupSummary, mean_difference, season_caution
from .scoring import COMPONENTS

KIND_ORDER = {"school": 0, "year": 1, "class": 2, "gender": 3, "home_language": 4}


def group_kind(key):
    if key == "school":
        return "school"
    if "|" in key:
        return "year_gender"
    return key.split(":", 1)[0]


# A group's label, stored in English in every published document (which never changes)
# and recomposed from the group's key in the reader's language (`localized_label`).
WHOLE_DISTRICT = gettext_noop("Whole district")
WHOLE_SCHOOL = gettext_noop("Whole school")
CLASS = gettext_noop("Class")
LABELS = {"class": gettext_noop("Class %(name)s"), "year": gettext_noop("Year %(year)s"),
          "year_gender": gettext_noop("Year %(year)s, %(gender)s"),
          "gender": gettext_noop("Gender: %(value)s"),
          "home_language": gettext_noop("Other language at home: %(value)s")}
# A demographic band's values as a label says them (the English is the value's own).
VALUES = {"gender": {"girl": pgettext_lazy("gender in a group label", "girl"),
                     "boy": pgettext_lazy("gender in a group label", "boy"),
                     "another": pgettext_lazy("gender in a group label", "another"),
                     "prefer_not": pgettext_lazy("gender in a group label", "prefer not")},
          "home_language": {
              "yes": pgettext_lazy("other language at home in a group label", "yes"),
              "no": pgettext_lazy("other language at home in a group label", "no"),
              "prefer_not": pgettext_lazy("other language at home in a group label",
                                          "prefer not")}}


def group_label(key, classes_by_public_id):
    """The English label a document stores (never translated: a publication written
    from a Spanish page's request reads as any other)."""
    kind = group_kind(key)
    if key == "district":
        return WHOLE_DISTRICT
    if kind == "school":
        return WHOLE_SCHOOL
    if kind == "class":
        cg = classes_by_public_id.get(key.split(":", 1)[1])
        return LABELS["class"] % {"name": cg.name} if cg else CLASS
    return _compose(key, kind, lambda band, value: value.replace("_", " "), str)


def _compose(key, kind, value_words, translate):
    """A year, demographic or year-and-gender label from its key, with `value_words`
    (band, value) for a band's value and `translate` for the template."""
    if kind == "year_gender":
        year, gender = key.split("|")
        return translate(LABELS["year_gender"]) % {
            "year": year.split(":")[1], "gender": value_words("gender", gender.split(":")[1])}
    if kind not in LABELS:
        return key
    value = key.split(":", 1)[1]
    if kind == "year":
        return translate(LABELS["year"]) % {"year": value}
    return translate(LABELS[kind]) % {"value": value_words(kind, value)}


def localized_label(key, stored_label):
    """A group's label in the active language, recomposed from its key (a class's name
    from the stored label, after "Class "); in English, or for a group of no known kind
    (a school's name at a district level), the stored label unchanged."""
    kind = group_kind(key)
    if wording.english() or (kind == "school" and key != "school"):
        return stored_label
    whole = {"district": WHOLE_DISTRICT, "school": WHOLE_SCHOOL}.get(key)
    if whole is not None:
        return gettext(whole)
    if kind == "class":
        prefix = LABELS["class"] % {"name": ""}
        if not stored_label.startswith(prefix):
            return gettext(CLASS) if stored_label == CLASS else stored_label
        return gettext(LABELS["class"]) % {"name": stored_label[len(prefix):]}
    return _compose(key, kind, _value_words, gettext)


def _value_words(band, value):
    return str(VALUES.get(band, {}).get(value, value.replace("_", " ")))


# Other English texts a document stores that the pages show, as analytics.disclosure
# and analytics.change write them (tests/analytics/test_dashboard_spanish.py checks
# that they still do).
STORED_TEXTS = (
    gettext_noop("fewer than %(k)s respondents, or hidden so that a smaller group cannot "
                 "be worked out"),
    gettext_noop("fewer than %(k)s answers, or hidden so that a smaller group cannot be "
                 "worked out"),
    gettext_noop("fewer than %(k)s responses"),
    gettext_noop("The season of one of these waves is not recorded, so seasonal "
                 "differences cannot be ruled out when comparing them."),
    gettext_noop("These waves come from different seasons (%(first)s and %(second)s). "
                 "Students' ratings of school climate tend to be more favorable in autumn "
                 "than in spring (Huang et al., 2023), so part of this change may be "
                 "seasonal. Compare waves from the same season where possible."),
)
SEASON_WORDS = {"autumn": pgettext_lazy("season in a sentence", "autumn"),
           "winter": pgettext_lazy("season in a sentence", "winter"),
           "spring": pgettext_lazy("season in a sentence", "spring"),
           "summer": pgettext_lazy("season in a sentence", "summer")}


def localized_text(text):
    """A stored reason or caution (STORED_TEXTS) in the active language."""
    return wording.reword(text, STORED_TEXTS, {"first": SEASON_WORDS, "second": SEASON_WORDS})


def shown_group(group):
    """A document's group as the pages show it: its label and a hidden group's reason
    in the reader's language (the document itself is not changed)."""
    out = {**group, "label": localized_label(group["key"], group["label"])}
    if group.get("reason"):
        out["reason"] = localized_text(group["reason"])
    return out


def component_entries(spec):
    entries = []
    for name, infos in spec.components.items():
        component = name.split(":")[0]
        entries.append({
            "key": name, "component": component, "validated": ":" not in name,
            "lo": infos[0].lo, "hi": infos[0].hi, "items": [i.key for i in infos],
        })
    entries.sort(key=lambda e: (COMPONENTS.index(e["component"]), not e["validated"]))
    measured = {e["component"] for e in entries}
    for component in COMPONENTS:
        if component not in measured:
            entries.append({"key": component, "component": component, "validated": True,
                            "measured": False, "items": []})
    return entries


def item_entries(instrument, spec):
    scales = instrument.scales
    out = []
    for item in instrument.items.all():
        scale = scales[item.scale]
        prov = item.provenance or {}
        out.append({"key": item.key, "text": item.text, "component": item.component,
                    "citation": prov.get("citation", ""),
                    "wording_verified": bool(prov.get("wording_verified")),
                    "translation": prov.get("translation", {}),
                    "reverse_keyed": item.reverse_keyed, "validated": item.validated,
                    "lo": scale["min"], "hi": scale["max"], "labels": scale["labels"],
                    "favorable": scale["favorable"]})
    return out


def _cell(entry):
    """A published value as the dashboard shows it: a number, or a band's text."""
    if not entry or entry.get("suppressed"):
        return None
    return {"value": entry.get("value"), "display": entry["display"], "n": entry.get("n")}


def _component_favorable(values, component):
    """DESIGN: a component's % favorable is the mean of its items' values; computed from
    the published item values, and only when every one of them is shown unbanded."""
    shares = [(values.get(f"item:{key}:favorable") or {}).get("value")
              for key in component["items"]]
    if not shares or any(s is None for s in shares):
        return None
    return (2 * sum(shares) + len(shares)) // (2 * len(shares))  # half up, as every value


def pooled_spreads(spreads, published, basis):
    """The spreads a document may publish: every shown group's component SD is that of
    its `basis` group (`basis[key]`: the school, or at the district level the district
    and each school), and its 95% CI half-width is that SD over the root of the group's
    own published n.

    A group's own SD would be a leak: with exact n, the mean and the SD of a parent and
    of its shown children, the sum of squares of a hidden child follows by subtraction,
    and a sum of squares near its largest value pins the hidden mean to an end of the
    scale (a unanimous hidden group). The basis group's SD is a number about the whole
    school (or district); the district's own is published only when no school is hidden
    at the district level, since the district minus the shown schools would again give
    the hidden one's sum of squares."""
    out = {}
    for key, pub in published["groups"].items():
        base = spreads.get(basis.get(key), {})
        if pub["suppressed"] or not base:
            continue
        out[key] = {}
        for mkey, spread in base.items():
            n = (pub["measures"].get(mkey) or {}).get("n")
            if n and n >= 2:
                out[key][mkey] = {"sd": spread["sd"], "sd_of": basis[key],
                                  "ci95": round(1.96 * spread["sd"] / math.sqrt(n), 2)}
    return out


def group_entry(key, pub, spreads, components, items, classes, k):
    entry = {"key": key, "kind": group_kind(key), "label": group_label(key, classes)}
    if pub["suppressed"]:
        entry.update(suppressed=True, reason=pub.get("reason") or STORED_TEXTS[2] % {"k": k})
        return entry
    values = pub["measures"]
    entry.update(suppressed=False, n=pub["n"], caution=pub["n"] < 2 * k, components={},
                 items={})
    for comp in components:
        if not comp.get("items"):
            continue
        cell = _cell(values.get(f"component:{comp['key']}")) or {"value": None,
                                                                   "display": None}
        cell["favorable"] = _component_favorable(values, comp)
        if cell["value"] is not None:
            cell.update(spreads.get(key, {}).get(f"component:{comp['key']}", {}))
        if cell.get("n") is not None:
            # Students without a score answered fewer than 80% of the component's items.
            cell["excluded_percent"] = round(100 * (pub["n"] - cell["n"]) / pub["n"])
        entry["components"][comp["key"]] = cell
    for item in items:
        base = f"item:{item['key']}"
        entry["items"][item["key"]] = {
            "mean": _cell(values.get(f"{base}:mean")),
            "favorable": _cell(values.get(f"{base}:favorable")),
            "options": {str(v): _cell(values.get(f"{base}:option:{v}"))
                        for v in range(item["lo"], item["hi"] + 1)}}
    return entry


def school_reliability(wave, spec, school_id=None):
    rows = aggregation.fetch_keyed_matrix(spec, wave.id, school_id or wave.series.school_id)
    if not rows:
        return {}
    matrix = np.array([[np.nan if v is None else float(v) for v in row] for row in rows])
    index = {info.key: j for j, info in enumerate(spec.items)}
    out = {}
    for name, infos in spec.components.items():
        sub = matrix[:, [index[i.key] for i in infos]]
        if sub.shape[1] < 2:
            continue
        alpha = reliability.cronbach_alpha(sub)
        omega = reliability.omega_total(sub)
        out[name] = {
            "alpha": _r(alpha.alpha), "alpha_ci": [_r(alpha.ci_low), _r(alpha.ci_high)],
            "n_used": alpha.n_used, "omega": _r(getattr(omega, "omega", None)),
        }
    return out


def _r(value, digits=2):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), digits)


def change_since(previous, groups, components):
    """Change of each component mean for groups shown in both waves (only then: a
    change involving a suppressed cell would let it be recovered). `previous` is the
    same school's (or district's) document of the series' previous published wave."""
    if previous is None:
        return None
    before = {g["key"]: g for g in previous["groups"]}
    alphas = {name: rel.get("alpha") for name, rel in
              (previous.get("reliability") or {}).items()}
    out = {"from": previous["wave"]["label"], "groups": {}}
    for group in groups:
        old = before.get(group["key"])
        if group.get("suppressed") or not old or old.get("suppressed"):
            continue
        out["groups"][group["key"]] = _group_change(old, group, components, alphas)
    return out


def _group_change(old, new, components, alphas):
    result = {}
    for comp in components:
        a, b = old["components"].get(comp["key"], {}), new["components"].get(comp["key"], {})
        if not all(x.get("sd") is not None and x.get("value") is not None and x.get("n")
                   for x in (a, b)):
            continue  # banded or hidden in either wave: no change is published
        diff = mean_difference(GroupSummary(n=a["n"], mean=a["value"], sd=a["sd"]),
                               GroupSummary(n=b["n"], mean=b["value"], sd=b["sd"]),
                               reliability=alphas.get(comp["key"]))
        result[comp["key"]] = {"diff": _r(diff.difference), "ci": [_r(diff.ci_low),
                                                                   _r(diff.ci_high)],
                               "detectable": diff.detectable, "mdc95": _r(diff.mdc95),
                               "exceeds_mdc": diff.exceeds_mdc}
    return result


def present(wave, spec, published, decision, spreads, classes, k, *, school_id=None,
            previous=None):
    """The school document; `previous` is the school's document of the series' previous
    published wave (None: no change is reported)."""
    instrument = wave.series.instrument
    components = component_entries(spec)
    items = item_entries(instrument, spec)
    by_public = {c.public_id: c for c in classes.values()}
    spreads = pooled_spreads(spreads, published, dict.fromkeys(published["groups"], "school"))
    groups = [group_entry(key, pub, spreads, components, items, by_public, k)
              for key, pub in published["groups"].items()]
    groups.sort(key=lambda g: (KIND_ORDER.get(g["kind"], 9), g["label"]))
    change = change_since(previous, groups, components)
    if change is not None:
        change["caution"] = season_caution(previous["wave"]["season"], wave.season)
    school = next((g for g in groups if g["key"] == "school"), None)
    enrolment = sum(c.enrolment for c in classes.values())
    shown = school is not None and not school["suppressed"]
    return {
        "schema": 1, "k": k, "published_at": timezone.now().isoformat(),
        "wave": {"public_id": wave.public_id, "label": wave.label, "season": wave.season,
                 "starts_on": wave.starts_on.isoformat(), "series": wave.series.name,
                 "instrument": {"key": instrument.key, "version": instrument.version,
                                "title": instrument.title}},
        "components": components, "items": items, "groups": groups,
        "participation": {"enrolment": enrolment, "responses": school["n"] if shown else None},
        "reliability": school_reliability(wave, spec, school_id) if shown else {},
        "change": change,
    }


def district_basis(published):
    """At the district level each school's SD is its own (the top of its part) and the
    district's is the district's, unless a school is hidden (`pooled_spreads`)."""
    groups = published["groups"]
    hidden = any(pub["suppressed"] for key, pub in groups.items() if key != "district")
    return {key: key for key in groups if not (key == "district" and hidden)}
