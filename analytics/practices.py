"""Suggested practices per component (analytics/practices.yaml), with their sources.

The texts are the project's own, written from the framework summary; every practice
names at least one source, and every source it names must be in `references`.
The file is read once and checked on load, so a broken edit fails loudly in tests.
"""

from functools import cache
from pathlib import Path

import yaml

from .scoring import COMPONENTS

PATH = Path(__file__).with_name("practices.yaml")


class PracticesError(ValueError):
    pass


def check(doc):
    refs = doc.get("references") or {}
    comps = doc.get("components") or {}
    missing = [c for c in COMPONENTS if c not in comps]
    if missing:
        raise PracticesError(f"practices.yaml has no entry for {', '.join(missing)}")
    for name, entry in comps.items():
        if not entry.get("meaning") or not entry.get("practices"):
            raise PracticesError(f"{name}: needs a meaning and at least one practice")
        for practice in entry["practices"]:
            if not practice.get("title") or not practice.get("text"):
                raise PracticesError(f"{name}: every practice needs a title and a text")
            cited = practice.get("sources") or []
            if not cited:
                raise PracticesError(f"{name}: '{practice['title']}' cites no source")
            unknown = [s for s in cited if s not in refs]
            if unknown:
                raise PracticesError(f"{name}: unknown source {', '.join(unknown)}")
    unknown = [s for s in doc.get("caveat_sources") or [] if s not in refs]
    if unknown:
        raise PracticesError(f"caveat: unknown source {', '.join(unknown)}")
    for key, ref in refs.items():
        if not isinstance(ref, dict) or not ref.get("short") or not ref.get("full"):
            raise PracticesError(f"reference {key}: needs a short and a full form")
    return doc


@cache
def load(path=PATH):
    return check(yaml.safe_load(Path(path).read_text(encoding="utf-8")))


def for_component(component):
    """The practices for one component, each with its sources' full references."""
    doc = load()
    entry = doc["components"][component]
    refs = doc["references"]
    practices = [{**p, "references": [refs[s] for s in p["sources"]]}
                 for p in entry["practices"]]
    cited = []
    for p in entry["practices"]:
        cited += [s for s in p["sources"] if s not in cited]
    cited += [s for s in doc.get("caveat_sources") or [] if s not in cited]
    return {"component": component, "meaning": entry["meaning"], "practices": practices,
            "references": [refs[s] for s in cited], "caveat": doc["caveat"]}
