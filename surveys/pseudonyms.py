"""Keyed pseudonyms (HMAC-SHA256). The key material lives outside the database
(settings.PSEUDONYM_KEY); each series and each research agreement derives its own
key, so pseudonyms from two scopes cannot be joined, and none can be reversed
without the key. Student numbers are never stored or logged."""

import hashlib
import hmac
import unicodedata

from django.conf import settings


def derive_key(scope):
    """A sub-key for one scope, e.g. 'series:<public_id>' or 'agreement:<public_id>'."""
    master = settings.PSEUDONYM_KEY.encode()
    return hmac.new(master, f"belonging/v1/{scope}".encode(), hashlib.sha256).digest()


def normalise_number(student_number):
    text = unicodedata.normalize("NFKC", student_number or "")
    return "".join(text.split()).upper()


def series_pseudonym(series, student_number):
    number = normalise_number(student_number)
    if not number:
        raise ValueError("empty student number")
    key = derive_key(f"series:{series.public_id}")
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def rekey(pseudonym, scope):
    """Re-key a series pseudonym for another scope (a research agreement)."""
    return hmac.new(derive_key(scope), pseudonym.encode(), hashlib.sha256).hexdigest()
