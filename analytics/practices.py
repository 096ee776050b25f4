"""Suggested practices per component (analytics/practices.yaml), with their sources.

The texts are the project's own, written from the framework summary; every practice
names at least one source, and every source it names must be in `references`.
Every text (caveat, meaning, title, text) is `{en: ..., es: ...}` in the file, and
`for_component` gives the one of the active language (English for any other); the
references stay as published, in every language.
The file is read once and checked on load, so a broken edit fails loudly in tests:
a text without its Spanish version is refused there.
"""

from functools import cache
from pathlib import Path

import yaml
from django.utils import translation

from . import wording
from .scoring import COMPONENTS

PATH = Path(__file__).with_name("practices.yaml")
# Every text has one version per language; English is also the fallback.
LANGUAGES = {"en": "English", "es": "Spanish"}

class PracticesError(ValueError):
    pass


def english(text):
    """A text's English version: a text is a string, or one string per language."""
    return text.get("en") if isinstance(text, dict) else text


def check(doc):
    refs = doc.get("references") or {}
    comps = doc.get("components") or {}
    missing = [c for c in COMPONENTS if c not in comps]
    if missing:
        raise PracticesError(f"practices.yaml has no entry for {', '.join(missing)}")
    for name, entry in comps.items():
        if not english(entry.get("meaning")) or not entry.get("practices"):
            raise PracticesError(f"{name}: needs a meaning and at least one practice")
        for practice in entry["practices"]:
            title = english(practice.get("title"))
            if not title or not english(practice.get("text")):
                raise PracticesError(f"{name}: every practice needs a title and a text")
            cited = practice.get("sources") or []
            if not cited:
                raise PracticesError(f"{name}: '{title}' cites no source")
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


def texts(doc):
    """Every translated text of the file, with where it is: (place, text)."""
    yield "caveat", doc.get("caveat")
    for name, entry in (doc.get("components") or {}).items():
        yield f"components.{name}.meaning", entry.get("meaning")
        for i, practice in enumerate(entry.get("practices") or []):
            yield f"components.{name}.practices[{i}].title", practice.get("title")
            yield f"components.{name}.practices[{i}].text", practice.get("text")


def check_languages(doc, where="practices.yaml"):
    """Every text has a non-empty version in each of LANGUAGES, and no other."""
    for spot, text in texts(doc):
        place = f"{where}: {spot}"
        if not isinstance(text, dict):
            raise PracticesError(f"{place}: needs a text per language ({{en: ..., es: ...}}), "
                                 f"not a single text")
        for lang in LANGUAGES:
            if not isinstance(text.get(lang), str) or not text[lang].strip():
                raise PracticesError(f"{place}: has no {LANGUAGES[lang]} version ({lang}: ...)")
        extra = sorted(set(text) - set(LANGUAGES))
        if extra:
            raise PracticesError(f"{place}: unknown language {', '.join(map(str, extra))}")
    return doc


@cache
def load(path=PATH):
    doc = check(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    return check_languages(doc, where=Path(path).name)


def language():
    """The active language if the file has it, else English ("es-mx" reads "es")."""
    lang = (translation.get_language() or "en").lower().split("-")[0]
    return lang if lang in LANGUAGES else "en"


def for_component(component):
    """The practices for one component in the active language, each with its sources'
    full references."""
    doc = load()
    lang = language()
    entry = doc["components"][component]
    refs = doc["references"]
    practices = [{**p, "title": p["title"][lang], "text": p["text"][lang],
                  "references": [refs[s] for s in p["sources"]]}
                 for p in entry["practices"]]
    cited = []
    for p in entry["practices"]:
        cited += [s for s in p["sources"] if s not in cited]
    cited += [s for s in doc.get("caveat_sources") or [] if s not in cited]
    return {"component": component, "component_name": wording.component_name(component).lower(),
            "meaning": entry["meaning"][lang], "practices": practices,
            "references": [refs[s] for s in cited], "caveat": doc["caveat"][lang]}
