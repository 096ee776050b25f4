"""Opaque codes and re-keyed pseudonyms, specific to one agreement.

Every code is a keyed HMAC-SHA256 under `derive_key("agreement:<public id>")`, whose
master key (settings.PSEUDONYM_KEY) lives outside the database. Two agreements therefore
get unrelated codes for the same school, class, wave or student, and nobody holding a file
can reverse a code without that key. Codes are short (10 hex digits, 40 bits: no collision
to expect among a district's classes), pseudonyms full length (64 hex digits).
"""

import hashlib
import hmac

from surveys.pseudonyms import derive_key

CODE_HEX = 10
PREFIX = {"school": "S", "class": "C", "wave": "W"}


def agreement_key(agreement_id):
    return derive_key(f"agreement:{agreement_id}")


def opaque(key, kind, public_id):
    digest = hmac.new(key, f"{kind}:{public_id}".encode(), hashlib.sha256).hexdigest()
    return PREFIX[kind] + digest[:CODE_HEX]


def codes_for(key, kind, public_ids):
    """{database id: code} for {database id: public id}; refuses a collision outright."""
    codes = {pk: opaque(key, kind, public_id) for pk, public_id in public_ids.items()}
    if len(set(codes.values())) != len(codes):
        raise RuntimeError(f"two {kind} codes collide; lengthen CODE_HEX")
    return codes


def rekey_all(key, pseudonyms):
    """`surveys.pseudonyms.rekey` for many pseudonyms at once (the key derived once)."""
    return [None if p is None else hmac.new(key, p.encode(), hashlib.sha256).hexdigest()
            for p in pseudonyms]
