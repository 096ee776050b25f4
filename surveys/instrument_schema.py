"""Instrument files' schema: every field, its check, and `validate`, which returns
every problem of a parsed file at once (docs/instruments.md describes the fields;
`surveys.instruments` reads, checks and stores the files)."""

import json
import re

from surveys.models import MAX_ITEMS, Item

COMPONENTS = tuple(Item.Component.values)
FACES = ("sad", "ok", "happy")
TRANSLATION_KINDS = ("official", "project")

# Lengths match Instrument.key (80) and Instrument.version (20).
_ID = re.compile(r"^(?=.{1,80}$)[a-z0-9]+(-[a-z0-9]+)*$")
_VERSION = re.compile(r"^(?=.{1,20}$)\d+(\.\d+)*$")
# Item keys go into exports and URLs; keep them short and free of spaces.
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
# Scale, stem and subscale names; 40 characters fits Item.scale.
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
# Project-written items have no web source; they point into this repository.
_REPO_PATH = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_.-]+)*(#[a-z0-9-]+)?$")

# Value checks: each returns None when the value is fine, else a message.


def _is_int(value):
    # bool is a subclass of int in Python; `points: true` must not pass as 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(test, message):
    """A check from a predicate and a message template that may use {value!r}."""

    def check(value, ctx):
        return None if test(value) else message.format(value=value)

    return check


_text = _kind(lambda v: isinstance(v, str) and v.strip(), "must be non-empty text")
_bool = _kind(lambda v: isinstance(v, bool), "must be true or false, not {value!r}")
_int = _kind(_is_int, "must be a whole number, not {value!r}")
_mapping = _kind(lambda v: isinstance(v, dict) and v, "must be a non-empty mapping")
_list = _kind(lambda v: isinstance(v, list) and v, "must be a non-empty list")
_url = _kind(
    lambda v: isinstance(v, str) and v.startswith(("https://", "http://")),
    "must be an http(s) address, not {value!r}",
)
_source = _kind(
    lambda v: isinstance(v, str) and (v.startswith(("https://", "http://")) or _REPO_PATH.match(v)),
    "must be an http(s) address or a path in this repository, not {value!r}",
)
_share = _kind(
    lambda v: (_is_int(v) or isinstance(v, float)) and 0 < v <= 1,
    "must be a number above 0 and at most 1, not {value!r}",
)
_age_range = _kind(
    lambda v: (
        isinstance(v, list) and len(v) == 2 and all(map(_is_int, v)) and 3 <= v[0] <= v[1] <= 99
    ),
    "must be [youngest, oldest] in years, not {value!r}",
)
_component = _kind(lambda v: v in COMPONENTS, "{value!r} is not one of " + ", ".join(COMPONENTS))


def _pattern(regex, what):
    return _kind(
        lambda v: isinstance(v, str) and regex.match(v), "{value!r} is not a valid " + what
    )


def _version(value, ctx):
    if not isinstance(value, str):
        # YAML reads an unquoted 1.0 as the number 1.0, and 1.10 as 1.1.
        return f'must be a quoted string such as "1.0", not {value!r}'
    return None if _VERSION.match(value) else f"{value!r} is not a version such as 1.0"


def _languages(value, ctx):
    if not isinstance(value, list) or not value:
        return "must be a list of language codes such as [en, es]"
    bad = [v for v in value if not (isinstance(v, str) and _LANGUAGE.match(v))]
    if bad:
        return f"{bad[0]!r} is not a language code"
    if len(set(value)) != len(value):
        return "lists a language twice"
    # Item.text_in falls back to English, so every instrument must have it.
    return None if "en" in value else "must include en"


def _lang_map(value, ctx):
    """Text per language: exactly the instrument's languages, each non-empty."""
    if not isinstance(value, dict):
        return f"must give text per language ({', '.join(ctx['languages'])})"
    missing = [lang for lang in ctx["languages"] if _text(value.get(lang), ctx)]
    if missing:
        return f"has no {missing[0]!r} text"
    extra = sorted(set(value) - set(ctx["languages"]), key=str)
    if extra:
        return f"has {extra[0]!r} text, but {extra[0]!r} is not in the instrument's languages"
    return None


def _translation(value, ctx):
    """How each non-English text was made: an official translation or the project's own."""
    wanted = [lang for lang in ctx["languages"] if lang != "en"]
    if not isinstance(value, dict):
        return f"must say official or project for {', '.join(wanted) or 'no language'}"
    for lang in wanted:
        if value.get(lang) not in TRANSLATION_KINDS:
            return f"{lang}: {value.get(lang)!r} is not one of {', '.join(TRANSLATION_KINDS)}"
    extra = sorted(set(value) - set(wanted), key=str)
    return f"names {extra[0]!r}, which has no translation here" if extra else None


_faces = _kind(
    lambda v: isinstance(v, list) and v and all(f in FACES for f in v),
    "must list faces from " + ", ".join(FACES) + ", not {value!r}",
)


# Field specifications: field -> (check, required). Unknown fields are errors,
# because a misspelt optional field (`validate: false`) would otherwise pass
# silently and let a project-written item count as validated.

_NOTES = (_text, False)
TOP_FIELDS = {
    "id": (_pattern(_ID, "id (lowercase words joined by -)"), True),
    "version": (_version, True),
    "languages": (_languages, True),
    "title": (_lang_map, True),
    "description": (_lang_map, True),
    "age_range": (_age_range, True),
    "presentation": (_mapping, True),
    "stems": (_mapping, True),
    "licence": (_mapping, True),
    "scales": (_mapping, True),
    "scoring": (_mapping, True),
    "items": (_list, True),
    "notes": _NOTES,
}
PRESENTATION_FIELDS = {
    "pictorial": (_bool, True),
    "read_aloud_default": (_bool, True),
    "faces": (_faces, False),
    "notes": _NOTES,
}
LICENCE_FIELDS = {
    "name": (_text, True),
    "terms": (_text, True),
    "url": (_url, True),
    "cleared_for_commercial_use": (_bool, True),
    "notes": _NOTES,
}
SCORING_FIELDS = {"min_answered_share": (_share, True), "notes": _NOTES}
SECTIONS = {
    "presentation": PRESENTATION_FIELDS,
    "licence": LICENCE_FIELDS,
    "scoring": SCORING_FIELDS,
}
SCALE_FIELDS = {
    "points": (_int, True),
    "min": (_int, True),
    "max": (_int, True),
    "labels": (_mapping, True),
    "favorable": (_list, True),
    "labels_verified": (_bool, True),
    "labels_source": (_text, True),
    "notes": _NOTES,
}
ITEM_FIELDS = {
    "key": (_pattern(_KEY, "item key"), True),
    "component": (_component, True),
    "subscale": (_pattern(_NAME, "subscale name"), True),
    "scale": (_pattern(_NAME, "scale name"), True),
    "stem": (_pattern(_NAME, "stem name"), True),
    "reverse_keyed": (_bool, True),
    "validated": (_bool, False),
    "text": (_lang_map, True),
    "provenance": (_mapping, True),
    "notes": _NOTES,
}
PROVENANCE_FIELDS = {
    "citation": (_text, True),
    "source_url": (_source, True),
    "licence": (_text, True),
    "age_range": (_age_range, True),
    "wording_verified": (_bool, True),
    "wording_source": (_text, True),
    "scale_validated": (_bool, True),
    "translation": (_translation, True),
    "adaptation": (_text, False),
    "notes": _NOTES,
}


class _Report:
    """Collects errors as '<file>: <where>: field '<field>': <message>'."""

    def __init__(self, source):
        self.source = source
        self.errors = []

    def add(self, where, field, message):
        parts = [self.source, where, f"field {field!r}" if field else "", message]
        self.errors.append(": ".join(p for p in parts if p))


def _check_fields(mapping, spec, report, where, ctx, prefix=""):
    """Check one mapping against a spec; return True when it is a mapping at all."""
    if not isinstance(mapping, dict):
        report.add(where, prefix.rstrip(".") or None, "must be a mapping")
        return False
    for name in mapping:
        if name not in spec:
            report.add(where, f"{prefix}{name}", "is not a known field (misspelt?)")
    for name, (check, required) in spec.items():
        if name not in mapping:
            if required:
                report.add(where, f"{prefix}{name}", "is missing")
            continue
        problem = check(mapping[name], ctx)
        if problem:
            report.add(where, f"{prefix}{name}", problem)
    return True


def validate(data, source_name):
    """Every problem in one parsed instrument file, as readable lines; [] if none."""
    report = _Report(source_name)
    if not isinstance(data, dict):
        report.add("", None, "must be a mapping of instrument fields")
        return report.errors
    try:
        # PostgreSQL's jsonb refuses the NUL character, so it counts as unstorable.
        storable = "\\u0000" not in canonical_json(data)
    except (TypeError, ValueError):
        storable = False
    if not storable:
        report.add("", None, "holds a value JSON cannot store (quote dates and odd values)")
        return report.errors
    languages = data.get("languages")
    ctx = {"languages": languages if _languages(languages, {}) is None else ["en"]}
    _check_fields(data, TOP_FIELDS, report, "", ctx)
    for name, spec in SECTIONS.items():
        if isinstance(data.get(name), dict):
            _check_fields(data[name], spec, report, "", ctx, prefix=f"{name}.")
    _check_stems(data.get("stems"), report, ctx)
    scales = data.get("scales") if isinstance(data.get("scales"), dict) else {}
    for name, scale in scales.items():
        _check_scale(name, scale, report, ctx)
    items = data.get("items") if isinstance(data.get("items"), list) else []
    _check_items(items, data, report, ctx)
    return report.errors


def _check_stems(stems, report, ctx):
    if not isinstance(stems, dict):
        return
    for name, text in stems.items():
        if _pattern(_NAME, "stem name")(name, ctx):
            report.add("", f"stems.{name}", "is not a valid stem name (lowercase, digits, _)")
        problem = _lang_map(text, ctx)
        if problem:
            report.add("", f"stems.{name}", problem)


def _check_scale(name, scale, report, ctx):
    where = f"scale {name}"
    if _pattern(_NAME, "scale name")(name, ctx):
        report.add(where, None, "is not a valid scale name (lowercase, digits, _)")
    if not _check_fields(scale, SCALE_FIELDS, report, where, ctx):
        return
    points, low, high = scale.get("points"), scale.get("min"), scale.get("max")
    if not all(_is_int(v) for v in (points, low, high)):
        return
    if points < 2 or points != high - low + 1:
        report.add(where, "points", f"{points} does not fit min {low} and max {high}")
        return
    _check_labels(scale.get("labels"), points, report, where, ctx)
    _check_favorable(scale.get("favorable"), low, high, report, where)


def _check_labels(labels, points, report, where, ctx):
    if not isinstance(labels, dict):
        return
    for lang in ctx["languages"]:
        values = labels.get(lang)
        if values is None:
            report.add(where, f"labels.{lang}", "is missing")
        elif not isinstance(values, list) or len(values) != points:
            report.add(where, f"labels.{lang}", f"must list {points} labels, one per point")
        elif any(_text(v, ctx) for v in values):
            report.add(where, f"labels.{lang}", "has an empty label")
    for lang in sorted(set(labels) - set(ctx["languages"]), key=str):
        report.add(where, f"labels.{lang}", "is not one of the instrument's languages")


def _check_favorable(favorable, low, high, report, where):
    """Favorable values are keyed values (after reverse keying) inside the scale."""
    if not isinstance(favorable, list) or not favorable:
        return
    for value in favorable:
        if not _is_int(value) or not low <= value <= high:
            report.add(where, "favorable", f"{value!r} is outside the scale's range {low}..{high}")
            return
    if len(set(favorable)) != len(favorable):
        report.add(where, "favorable", "lists a value twice")
    elif len(favorable) == high - low + 1:
        # Every answer favorable would make "% favorable" always 100%.
        report.add(where, "favorable", "cannot include every point of the scale")


def _item_where(item, index):
    key = item.get("key") if isinstance(item, dict) else None
    return f"item {key}" if isinstance(key, str) and key else f"item #{index + 1}"


def _check_items(items, data, report, ctx):
    if len(items) > MAX_ITEMS:
        report.add("", "items", f"has {len(items)} items; at most {MAX_ITEMS} fit (MAX_ITEMS)")
    seen = {}
    for index, item in enumerate(items):
        where = _item_where(item, index)
        if not _check_fields(item, ITEM_FIELDS, report, where, ctx):
            continue
        _check_fields(item.get("provenance"), PROVENANCE_FIELDS, report, where, ctx, "provenance.")
        _check_item_references(item, data, report, where)
        _check_item_validation(item, report, where)
        key = item.get("key")
        if isinstance(key, str):
            if key in seen:
                report.add(where, "key", f"duplicates the key of item #{seen[key] + 1}")
            seen.setdefault(key, index)
    # Group checks only see items whose own grouping fields are valid, so one
    # bad value is reported once, not again as a "mixed" subscale.
    grouped = [
        (_item_where(item, index), item)
        for index, item in enumerate(items)
        if isinstance(item, dict)
        and item.get("component") in COMPONENTS
        and all(isinstance(item.get(f), str) for f in ("subscale", "scale"))
    ]
    _check_groups(grouped, report)
    _check_faces([item for _, item in grouped], data, report)


def _check_item_references(item, data, report, where):
    """The scale and stem an item names must exist in the file."""
    for field, section in (("scale", "scales"), ("stem", "stems")):
        name, known = item.get(field), data.get(section)
        if isinstance(name, str) and isinstance(known, dict) and name not in known:
            choices = ", ".join(map(str, known)) or "none"
            report.add(where, field, f"{name!r} is not one of the file's {section} ({choices})")


def _check_item_validation(item, report, where):
    """Only verified wording from a validated scale may count as validated.

    Items the project wrote, or whose wording is unverified, say validated:
    false; scoring keeps them apart (DESIGN.md, Measurement).
    """
    provenance = item.get("provenance")
    if item.get("validated", True) is not True or not isinstance(provenance, dict):
        return
    for field in ("wording_verified", "scale_validated"):
        if provenance.get(field) is False:
            message = f"provenance.{field} is false, so the item must say validated: false"
            report.add(where, "validated", message)


def _check_groups(located_items, report):
    """A subscale is scored as one unit: one component and one response scale.

    No component may mix validated and not-validated items, so a
    project-written item can never enter a validated component score.
    """
    by_subscale, by_component = {}, {}
    for where, item in located_items:
        by_subscale.setdefault(item["subscale"], []).append((where, item))
        by_component.setdefault(item["component"], []).append((where, item))
    for name, group in by_subscale.items():
        for field in ("component", "scale"):
            first = group[0][1][field]
            for where, item in group:
                if item[field] != first:
                    message = f"{name!r} mixes {field}s {first!r} and {item[field]!r}"
                    report.add(where, "subscale", message)
                    break
    for name, group in by_component.items():
        if len({item.get("validated", True) is True for _, item in group}) > 1:
            where = next(w for w, item in group if item.get("validated", True) is not True)
            message = f"component {name!r} mixes validated and not-validated items"
            report.add(where, "validated", message + "; put them in separate instruments")


def _check_faces(items, data, report):
    """A pictorial instrument draws one face per scale point."""
    presentation = data.get("presentation")
    if not isinstance(presentation, dict) or presentation.get("pictorial") is not True:
        return
    faces = presentation.get("faces")
    if not isinstance(faces, list):
        report.add("", "presentation.faces", "is missing (a pictorial instrument needs faces)")
        return
    scales = data.get("scales") if isinstance(data.get("scales"), dict) else {}
    for name in sorted({item.get("scale") for item in items if item.get("scale") in scales}):
        points = scales[name].get("points") if isinstance(scales[name], dict) else None
        if _is_int(points) and points != len(faces):
            message = f"{points} points but presentation.faces has {len(faces)} faces"
            report.add(f"scale {name}", "points", message)


def canonical_json(data):
    """The definition as canonical JSON: comments and key order do not change it."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
