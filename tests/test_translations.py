"""The Spanish catalogue as a whole: every page is offered in Spanish, so every entry of
django.po has its Spanish, with the same placeholders as its English (a placeholder
missing or misspelt in one language breaks that language's page only, at render time).
The student-facing subset and the compiled django.mo are checked in
tests/browser/test_student_strings.py."""

import re

from tests.browser.test_student_strings import LOCALE, po_entries

PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]")


def test_every_message_has_its_spanish_translation():
    missing = [msgid for locations, flags, msgid, _plural, strs in po_entries(LOCALE / "django.po")
               if "fuzzy" in flags or not all(strs)]
    assert missing == []


def test_each_translation_keeps_the_placeholders_of_its_english():
    broken = []
    for _locations, _flags, msgid, plural, strs in po_entries(LOCALE / "django.po"):
        wanted = sorted(PLACEHOLDER.findall(msgid))
        for text in strs:
            got = sorted(PLACEHOLDER.findall(text))
            # A plural's singular may say "one" instead of its count (%(count)s).
            if got != wanted and not (plural and set(got) <= set(wanted)):
                broken.append((msgid, text))
    assert broken == []


def test_the_placeholder_check_catches_a_misspelt_name():
    assert PLACEHOLDER.findall("%(school)s: %(n)s answers") == ["school", "n"]
    assert sorted(PLACEHOLDER.findall("%(escuela)s: %(n)s respuestas")) != ["n", "school"]
