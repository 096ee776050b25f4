"""The Spanish catalogue the student pages need: every student-facing message has a
translation, and the compiled django.mo (what Django reads; CI has no gettext to
compile it) says the same as django.po. No browser needed: these run everywhere."""

import ast
import gettext
import re

from tests.conftest import ROOT

LOCALE = ROOT / "locale" / "es" / "LC_MESSAGES"
STUDENT_SOURCES = ("templates/student/", "surveys/student.py", "surveys/submission.py",
                   "surveys/demographics.py", "surveys/api.py", "surveys/ratelimit.py")


def po_entries(path):
    """(locations, flags, msgid, msgid_plural, [msgstr...]) for each entry of a .po file
    (the msgid prefixed by its msgctxt and \x04 when it has one)."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        locations, flags, fields, key = [], [], {}, None
        for line in block.splitlines():
            if line.startswith("#:"):
                locations += line[2:].split()
            elif line.startswith("#,"):
                flags += [f.strip() for f in line[2:].split(",")]
            elif line.startswith("#") or not line.strip():
                continue
            elif line.startswith('"'):
                fields[key] += ast.literal_eval(line)
            else:
                key, _, rest = line.partition(" ")
                fields[key] = ast.literal_eval(rest)
        if fields.get("msgid"):
            strs = [fields[k] for k in sorted(fields) if re.fullmatch(r"msgstr(\[\d\])?", k)]
            # A message with a context is keyed "context\x04msgid", as django.mo keys it.
            msgid = "\x04".join(filter(None, [fields.get("msgctxt"), fields["msgid"]]))
            entries.append((locations, flags, msgid, fields.get("msgid_plural"), strs))
    return entries


def test_every_student_facing_message_has_a_spanish_translation():
    missing = [
        msgid for locations, flags, msgid, _plural, strs in po_entries(LOCALE / "django.po")
        if any(loc.startswith(STUDENT_SOURCES) for loc in locations)
        and ("fuzzy" in flags or not all(strs))
    ]
    assert missing == []


def test_the_compiled_catalogue_matches_the_po_file():
    with open(LOCALE / "django.mo", "rb") as f:
        mo = gettext.GNUTranslations(f)
    stale = []
    for _locations, flags, msgid, plural, strs in po_entries(LOCALE / "django.po"):
        if "fuzzy" in flags or not all(strs):
            continue
        if plural is None:
            ok = mo.gettext(msgid) == strs[0]
        else:
            ok = (mo.ngettext(msgid, plural, 1) == strs[0]
                  and mo.ngettext(msgid, plural, 5) == strs[-1])
        if not ok:
            stale.append(msgid)
    assert stale == [], "run `python manage.py compilemessages` and commit django.mo"
