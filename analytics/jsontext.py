"""JSON text of the snapshot documents, written with orjson (docs/dependencies.md).

A school's part is about 1 MB of JSON: its dashboard document, the publication the
audit reads and the audit report, plus the digest of the publication that suppression
audited and the gate checks again. The standard library's encoder spent about a fifth
of a part's time besides the audit on that text (docs/performance.md, "Shown entries
and JSON text"); orjson writes the same JSON several times faster.

The options keep the standard library's meaning where a document can differ: keys that
are not strings are written as strings (`json.dumps` does so for numbers), NumPy scalars
as the numbers they are (`json.dumps` writes a NumPy float as a float), and datetimes and
dataclasses go to `default`, as `json.dumps` would send them. Two differences remain: a
float is written in its shortest form (`1e-7`, not `1e-07`; the same float when read),
and NaN is written as null where `json.dumps` writes the invalid token NaN (PostgreSQL's
json type refuses that token, so no stored document has one).
"""

import orjson

_OPTIONS = (orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
            | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS)


def dumps(value, *, sort_keys=False, default=None):
    """The JSON text of value, as UTF-8 bytes; `default` turns any other object into
    something JSON can hold, as in `json.dumps`."""
    option = _OPTIONS | orjson.OPT_SORT_KEYS if sort_keys else _OPTIONS
    return orjson.dumps(value, default=default, option=option)


def plain(value):
    """value as JSON reads it back: tuples become lists, keys strings, and anything else
    `str` of itself (a Decimal its digits)."""
    return orjson.loads(dumps(value, default=str))
