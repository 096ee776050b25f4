"""The most the district level of a district-wide wave can tell about one school's
totals, as an extra unit for that school's audit (see `analytics.snapshot`).

A part is first made safe with its school's true totals stated (`snapshot.exact_school`).
A school whose small cells are protected only by its own row's rounding cannot be:
stated exactly, the totals pin them. The district level cannot state them exactly,
though. All it adds about a school is the district row (at most what the district's
publication shows of it: every measure at its published rounding or band, hidden
nowhere) and the relation "district = this school + the others"; everything anyone can
learn about the other schools (their rows, their parts) tells at most their exact
totals. With the others' totals R exact, a district total the row bounds to [lo, hi]
bounds this school's total to [lo - R, hi - R], measure by measure: that is the unit,
an entry per measure carrying its `range` (`audit_family._interval`). A part audited
with it stays safe whatever the district level and the other parts publish. The
district's own audit then takes such a part as its true totals, as it takes an
exact-safe part: the most anything can tell about them, so its cells are protected too.

The unit is computed from the district's totals as the part saw them; `digest` names
them, the part's report keeps the digest, and the district level takes the part as its
totals only when the district's totals it computes have the same digest
(`snapshot.district_links`). Pure: no Django.
"""

from __future__ import annotations

import hashlib
import json

from . import disclosure
from .audit_family import _interval, _total_bounds

PLACES = 6  # totals digested to this many decimals: sums added in another order agree


def digest(district):
    """A digest of the district's size and each measure's answers and total."""
    plain = [district.n, {key: [m.n, round(m.total, PLACES)]
                          for key, m in sorted(district.measures.items())}]
    return hashlib.blake2b(json.dumps(plain).encode(), digest_size=16).hexdigest()


def ranges(school, district, k, specs):
    """{measure: (lo, hi)}: the bounds on the school's total that the district row (as
    `disclosure.publish` would show it) and the other schools' exact totals imply."""
    answered = {key: m for key, m in district.measures.items() if m.n > 0}
    row = disclosure.publish([disclosure.Group("district", district.n, answered)],
                             disclosure.Decision(specs=specs), k)["groups"]["district"]
    out = {}
    for key, entry in row["measures"].items():
        mine = school.measures.get(key)
        if mine is None or mine.n == 0:
            continue  # no answers here: nothing to bound
        spec = specs[key]
        whole = bool(spec.get("scale")) or spec.get("integral", False)
        lo, hi = _total_bounds(_interval(disclosure.BANDING, spec, entry), entry["n"], whole)
        rest = answered[key].total - mine.total
        out[key] = (lo - rest, hi - rest)
    return out


def links(school, district, k, specs):
    """(also, same) for `disclosure.suppress` and `audit`: the part's "school" group
    with its totals bounded as `ranges` says, in a hypothetical unit (never published)."""
    if school.key != "school" or district.key != "district":
        raise ValueError("links() takes the part's 'school' group and the 'district' group")
    entries = {key: {"n": school.measures[key].n, "range": [lo, hi]}
               for key, (lo, hi) in ranges(school, district, k, specs).items()}
    row = {"suppressed": False, "n": school.n, "measures": entries}
    unit = {"k": k, "banding": [list(b) for b in disclosure.BANDING], "unit": "bound",
            "hypothetical": True, "measures": specs, "groups": {"school": row}}
    return [(unit, [])], [((0, "school"), (1, "school"))]
