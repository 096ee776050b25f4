"""Small-cell suppression, banding and publication (DESIGN "Privacy: part of
correctness", rules 2-4). Pure Python/NumPy/SciPy, no Django.

`suppress` decides what to hide: primary cells (fewer than k respondents, or fewer
than k answers to a measure), then complementary cells by the tau-ARGUS line rules
across every relation, then whatever the linear-programming audit
(`analytics.audit`) still finds, until the audit passes. `publish` releases the
rest, rounded and banded; the audit treats every published number as the interval
it stands for.

Hiding works on groups and on measure families. A family is everything computed
from the same answers: an item's mean, % favorable and option shares (they share
an answer count, and the audit links them through the option counts), or one
other measure such as a component score. A family is hidden or shown as a whole
within a group.
"""

from __future__ import annotations

import itertools
import math
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field

from .audit import DEFAULT_BANDING, AuditMemo, audit
from .audit_bands import band_open_within
from .audit_memo import audit_digest
from .audit_model import mean_places, top_share
from .disclosure_repair import TOLERANCE, Repair

# Top/bottom coding of percentages by group size: NCES 2011-603 (SLDS Technical Brief 3)
# as adopted by Canyons SD, shared/research/privacy.md section 1: n >= 300 -> ">=99%/<=1%",
# 100-299 -> 98/2, 40-99 -> 95/5. The brief's page cut off the 20-39 (90/10) and 11-19
# (80/20) bands; privacy.md marks them [recall], not checked against the PDF. We use them
# as stated (they are the more protective reading) and apply the last band from k up.
BANDING = DEFAULT_BANDING
ITEM_KEY = re.compile(r"^(item:.+):(mean|favorable|option:(-?\d+))$")


@dataclass(frozen=True)
class Measure:
    """One statistic family for one group, true (unsuppressed) values."""

    n: int
    total: float
    lo: float
    hi: float


@dataclass(frozen=True)
class Group:
    key: str
    n: int
    measures: dict


@dataclass(frozen=True)
class ItemScale:
    """How an item's mean and % favorable follow from its raw options: `reverse` when the
    mean is over keyed values lo + hi - raw; `favorable` the keyed values counted favorable.
    `component` names the component score ("component:<component>") the item is part of,
    and `min_share` the share of the component's items a student must answer to be scored
    (analytics.aggregation): the audit links the component's total to its items' totals."""

    reverse: bool
    favorable: frozenset
    component: str = ""
    min_share: float = 0.0


@dataclass
class Decision:
    """What to hide. `hidden_measures` lists (group, measure) for shown groups only (a
    hidden group hides all its measures). `reasons` maps a group key or a (group, measure)
    pair to why; `notes` says when a top-level group had to be hidden. `small` lists the
    cells with fewer than k respondents or answers, for `audit(..., small=...)`."""

    hidden_groups: set = field(default_factory=set)
    hidden_measures: set = field(default_factory=set)
    reasons: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    specs: dict = field(default_factory=dict)
    small: set = field(default_factory=set)
    rounds: int = 0
    audit_seconds: float = 0.0  # time spent in the audit rounds (benchmarks/publish.py)
    audited: str = ""  # `audit_digest` of the publication the last full audit passed
    # group -> (the group, its measures as shown): suppression publishes the same
    # measures round after round (`_all_shown`)
    shown: dict = field(default_factory=dict, repr=False, compare=False)


def suppressed_marker(k, what="respondents"):
    """The one marker every hidden cell carries: a reason that differed between small and
    complementary cells would tell an attacker which hidden groups have k or more."""
    return {"suppressed": True,
            "reason": f"fewer than {k} {what}, or hidden so that a smaller group "
                      "cannot be worked out"}


# ------------------------------------------------------------------- banding


def band_percent(p, n):
    """A proportion p (0..1) of n answers as published: a whole percentage, or a band
    ("95% or more") near 0 and 100 by group size. 0 and 100 are always banded."""
    top = top_share(n)
    if p >= top - 1e-9:
        bound = round(100 * top)
        return {"band": "top", "bound": bound, "display": f"{bound}% or more"}
    if p <= 1 - top + 1e-9:
        bound = round(100 * (1 - top))
        return {"band": "bottom", "bound": bound, "display": f"{bound}% or less"}
    value = _half_up(p, n, 100)
    return {"value": value, "display": f"{value}%"}


def band_mean(mean, n, lo, hi, places=2):
    """A mean on a lo..hi scale as published: `places` decimals (`audit_model.mean_places`),
    or banded at the same shares of the scale as percentages, so a group that all gave
    the top answer never shows it."""
    top = top_share(n)
    frac = (mean - lo) / (hi - lo)
    if frac >= top - 1e-9:
        bound = math.floor(100 * (lo + top * (hi - lo)) + 1e-9) / 100
        return {"band": "top", "bound": bound, "display": f"{bound:.2f} or more"}
    if frac <= 1 - top + 1e-9:
        bound = math.ceil(100 * (lo + (1 - top) * (hi - lo)) - 1e-9) / 100
        return {"band": "bottom", "bound": bound, "display": f"{bound:.2f} or less"}
    value = _half_up(mean, n, 10**places) / 10**places
    return {"value": value, "display": f"{value:.{places}f}"}


def _half_up(x, n, unit):
    """x * unit rounded half up, exactly when x is a whole total over n answers (a share,
    an item's mean): the audit reads a shown value v as the totals whose value lies in
    [v - half, v + half), so a total on the boundary must round the same way here
    (0.175 * 100 is 17.499... in floating point, and 7 of 40 is 18%)."""
    total = x * n
    if abs(total - round(total)) < 1e-6:
        return (2 * unit * round(total) + n) // (2 * n)
    return math.floor(unit * x + 0.5)


# ------------------------------------------------------------------- measure specs


def measure_specs(groups, items=None):
    """The scale of every measure and how an item's measures follow from its options:
    published with the values (a dashboard states its scales), read by the audit.
    `items` maps an item key (without "item:") to its ItemScale; without it the links
    are read off the data, and a ValueError asks for them when the data cannot tell."""
    sample, parts = {}, defaultdict(dict)
    for g in groups:
        for key, measure in g.measures.items():
            sample.setdefault(key, measure)
    specs = {}
    for key, measure in sorted(sample.items()):
        match = ITEM_KEY.match(key)
        if match and match.group(3) is not None:
            parts[match.group(1)].setdefault("options", {})[int(match.group(3))] = key
        elif match:
            parts[match.group(1)][match.group(2)] = key
        else:
            specs[key] = _generic_spec(key, measure, key)
    for fam, roles in parts.items():
        specs.update(_item_specs(fam, roles, groups, sample, (items or {}).get(fam[5:])))
    _component_links(specs, items or {})
    return specs


def _component_links(specs, items):
    """A component score's spec names its items (their families) and how many of them a
    student must answer to be scored: a student's score is the mean of their answered
    keyed items, so the component's total is tied to the items' totals, and the audit
    models that tie (`audit_family`). Published: the instrument is public."""
    for key, spec in specs.items():
        if not key.startswith("component:"):
            continue
        scales = [(f"item:{item}", scale) for item, scale in sorted(items.items())
                  if scale.component == key and f"item:{item}:mean" in specs]
        if scales:
            share = max(s.min_share for _, s in scales)
            spec["items"] = [fam for fam, _ in scales]
            spec["need"] = max(1, math.ceil(share * len(scales) - 1e-9))


def _generic_spec(key, measure, family):
    kind = "percent" if (measure.lo, measure.hi) == (0, 1) else "mean"
    return {"family": family, "kind": kind, "lo": measure.lo, "hi": measure.hi,
            "integral": key.startswith("item:"), "scale": None, "weights": None}


def _item_specs(fam, roles, groups, sample, given):
    options = roles.get("options", {})
    if not options:
        if "mean" in roles and "favorable" in roles:
            raise ValueError(f"{fam}: publish its option shares, or its mean and % favorable "
                             "cannot be audited together")
        return {key: _generic_spec(key, sample[key], key) for key in roles.values()}
    scale = list(range(min(options), max(options) + 1))
    if sorted(options) != scale:
        raise ValueError(f"{fam}: every option of the scale needs its share")
    counts = _option_counts(fam, options, scale, groups)
    specs = {key: _spec(fam, scale, [int(u == v) for u in scale], "percent")
             for v, key in options.items()}
    if "mean" in roles:
        specs[roles["mean"]] = _mean_spec(fam, roles["mean"], scale, counts, groups, given)
    if "favorable" in roles:
        specs[roles["favorable"]] = _favorable_spec(fam, roles["favorable"], scale, counts,
                                                    groups, given)
    return specs


def _spec(fam, scale, weights, kind):
    lo, hi = (scale[0], scale[-1]) if kind == "mean" else (0, 1)
    return {"family": fam, "kind": kind, "lo": lo, "hi": hi, "integral": True,
            "scale": scale, "weights": weights}


def _option_counts(fam, options, scale, groups):
    counts = {}
    for g in groups:
        row = [g.measures[options[v]].total for v in scale]
        if any(abs(c - round(c)) > TOLERANCE for c in row):
            raise ValueError(f"{fam}: option counts must be whole numbers in {g.key}")
        counts[g.key] = [round(c) for c in row]
    return counts


def _fits(weights, key, counts, groups):
    return all(abs(sum(w * c for w, c in zip(weights, counts[g.key], strict=True))
                   - g.measures[key].total) <= TOLERANCE * max(1.0, abs(g.measures[key].total))
               for g in groups)


def _mean_spec(fam, key, scale, counts, groups, given):
    lo, hi = scale[0], scale[-1]
    choices = [given.reverse] if given else [False, True]
    fitting = [r for r in choices
               if _fits([lo + hi - v if r else v for v in scale], key, counts, groups)]
    if len(fitting) != 1:
        raise ValueError(f"{fam}: cannot tell how its mean follows from its options; "
                         "pass items={...: ItemScale(...)}")
    return _spec(fam, scale, [lo + hi - v if fitting[0] else v for v in scale], "mean")


def _favorable_spec(fam, key, scale, counts, groups, given):
    lo, hi = scale[0], scale[-1]
    if given:
        keyed = [lo + hi - v if given.reverse else v for v in scale]
        candidates = [[int(u in given.favorable) for u in keyed]]
    else:
        candidates = [list(bits) for bits in itertools.product((0, 1), repeat=len(scale))]
    fitting = [w for w in candidates if _fits(w, key, counts, groups)]
    if len(fitting) != 1:
        raise ValueError(f"{fam}: cannot tell which options count as favorable; "
                         "pass items={...: ItemScale(...)}")
    return _spec(fam, scale, fitting[0], "percent")


def _check_input(groups, relations, k):
    if not 5 <= k <= 30:
        raise ValueError("k must be between 5 and 30 (DESIGN rule 2)")
    by = {g.key: g for g in groups}
    for g in groups:
        if g.n < 1:
            raise ValueError(f"{g.key}: a group with no respondents must not be listed")
        if any(m.n > g.n or m.n < 0 for m in g.measures.values()):
            raise ValueError(f"{g.key}: a measure has more answers than respondents")
    for parent, kids in relations:
        _check_relation(by, parent, kids)
    return by


def _check_relation(by, parent, kids):
    missing = [key for key in [parent, *kids] if key not in by]
    if missing:
        raise ValueError(f"relation {parent}: unknown groups {missing}")
    if by[parent].n != sum(by[c].n for c in kids):
        raise ValueError(f"relation {parent}: its size is not the sum of {len(kids)} groups")
    for key, m in by[parent].measures.items():
        parts = [by[c].measures.get(key) for c in kids]
        if None in parts:
            raise ValueError(f"relation {parent}: {key} is missing from one of its groups")
        n, total = sum(p.n for p in parts), sum(p.total for p in parts)
        if n != m.n or abs(total - m.total) > TOLERANCE * max(1.0, abs(m.total)):
            raise ValueError(f"relation {parent}: {key} is not the sum over its groups")


# ------------------------------------------------------------------- suppression


def suppress(groups, relations, k=10, *, items=None, also=(), same=(), hidden=(),
             specs=None, patience=None, views=()):
    """Decide what to hide so that the publication passes the audit.

    Primary cells first, then the line rules (in every relation the hidden children
    number 0 or at least 2, and when the parent is shown they hold at least k
    respondents; a hidden parent needs a hidden child), repeated across linked
    relations until stable; then the audit runs on what would be published and each
    finding hides one more cell next to the leak (the smallest, preferring one whose
    answers differ from the pinned value), until the audit passes. Every round hides
    at least one more cell, so this ends; a top-level group is hidden only when
    nothing else is left, and `notes` says so.

    `also` and `same` describe publications already made about the same respondents
    (see `audit.audit`): they are audited together, and groups whose numbers they
    already show are never chosen to hide. `hidden` lists group keys and (group,
    measure) pairs to hide from the start, because another publication of the same
    respondents hides them. `specs` is `measure_specs(groups, items)` when the caller
    has it already. `patience`: give up once a finding has stayed that many repairs
    (`Repair.stuck`), for a caller with another way to publish. `views`: further
    audits of the publication with other units (`audit.View`), each run every round.
    """
    by = _check_input(groups, relations, k)
    specs = measure_specs(groups, items) if specs is None else specs
    state = _State(by, relations, k, specs, _fixed(also, same),
                   _fixed(also, same, published_only=True))
    state.primary()
    state.mirror(hidden)
    counts_done, memo = False, AuditMemo()
    for rounds in itertools.count(1):
        state.complete()
        started = time.perf_counter()
        findings = _audit_round(state, groups, relations, (k, also, same, views),
                                counts_done, memo)
        state.decision.audit_seconds += time.perf_counter() - started
        if not findings and not counts_done:
            counts_done = True
            continue
        if not findings:
            state.decision.rounds = rounds
            return state.decision
        state.stuck(findings, patience)
        if not state.repair(findings):
            raise RuntimeError(f"cannot make the publication safe: {findings[0]}")


def _audit_round(state, groups, relations, given, values, memo):
    """One round's audit (sizes only until they pass, then everything) with the memo;
    when it finds nothing, a full audit with the memo in exact mode (fresh witnesses,
    only results computed from the same inputs reused: `audit_memo`), since the rounds
    keep their witnesses (`audit_sizes._kept`). What passes that is marked with its
    digest. `given`: k, also, same and views, as `suppress` takes them."""
    k, also, same, views = given
    published, small = publish(groups, state.decision, k), state.decision.small
    findings = audit(published, relations, k, also=also, same=same, values=values,
                     small=small, memo=memo, views=views)
    if findings or not values:
        return findings
    memo.closing(True)
    findings = audit(published, relations, k, also=also, same=same, small=small, memo=memo,
                     views=views)
    memo.closing(False)
    if not findings:
        state.decision.audited = audit_digest(published, relations, k, also, same, small,
                                              views)
    return findings


def _fixed(also, same, published_only=False):
    """Groups of this publication that an earlier one already shows (or, unless
    `published_only`, that a hypothetical unit, never published, states: true totals,
    analytics.snapshot.exact_unit)."""
    fixed = set()
    for a, b in same:
        for (ua, ka), (ub, kb) in ((a, b), (b, a)):
            if ua != 0 or ub == 0:
                continue
            pub = also[ub - 1][0]
            if published_only and pub.get("hypothetical"):
                continue
            if not pub["groups"][kb].get("suppressed"):
                fixed.add(ka)
    return fixed


class _State(Repair):
    """The decision being built, over group cells and (group, family) cells."""

    def __init__(self, by, relations, k, specs, fixed, shown_elsewhere):
        self.by, self.relations, self.k, self.fixed = by, relations, k, fixed
        self.shown_elsewhere = shown_elsewhere  # groups another publication shows as here
        self.decision = Decision(specs=specs)
        self.fams = defaultdict(list)
        for key, spec in specs.items():
            self.fams[spec["family"]].append(key)
        kids = {c for _, cs in relations for c in cs}
        self.top = {key for key in by if key not in kids}
        self.band_tried = {}  # (group, family): steps taken to open its bands in the group
        self.whole = set()  # (group, family) with every measure in hidden_measures

    def answers(self, group, fam):
        return self.by[group].measures[self.fams[fam][0]].n

    def cell_hidden(self, group, fam):
        """Whether the whole family is hidden in the group (some of its measures may be
        hidden alone, to keep a band open: `_open_band`)."""
        return group in self.decision.hidden_groups or (group, fam) in self.whole

    def hide_group(self, key, reason):
        if key in self.decision.hidden_groups:
            return False
        self.decision.hidden_groups.add(key)
        self.decision.reasons[key] = reason
        self.decision.hidden_measures = {c for c in self.decision.hidden_measures
                                         if c[0] != key}
        if key in self.top:
            self.decision.notes.append(f"top-level group {key} hidden: {reason}")
        return True

    def hide_measure(self, group, key, reason):
        hidden = self.decision.hidden_measures
        hidden.add((group, key))
        self.decision.reasons[(group, key)] = reason
        fam = self._fam(key)  # a key without a spec (mirrored from elsewhere) has none
        if fam in self.fams and all((group, other) in hidden for other in self.fams[fam]):
            self.whole.add((group, fam))

    def hide_cell(self, group, fam, reason):
        if self.cell_hidden(group, fam):
            return False
        for key in self.fams[fam]:
            self.hide_measure(group, key, reason)
        if group in self.top:
            self.decision.notes.append(f"{fam} hidden for top-level group {group}: {reason}")
        return True

    def band_partners(self, group, key, fam, step):
        return _band_partners(self.by[group], key, self.fams[fam], self.decision, step)

    def pools(self, key):
        """(relation text, its parent, the other members) of each relation line with key."""
        for parent, kids in self.relations:
            if key == parent or key in kids:
                text = f"{parent}={'+'.join(kids) if len(kids) < 4 else f'{len(kids)} groups'}"
                yield text, parent, [c for c in [parent, *kids] if c != key]

    def primary(self):
        for key, g in self.by.items():
            if g.n < self.k:
                self.decision.small.add(key)
                self.hide_group(key, f"primary: fewer than {self.k} respondents")
            self.decision.small |= {(key, m) for m, v in g.measures.items() if v.n < self.k}
        for key in self.by:
            for fam in self.fams:
                if key not in self.decision.hidden_groups and self.answers(key, fam) < self.k:
                    self.hide_cell(key, fam, f"primary: fewer than {self.k} answers")

    def mirror(self, hidden):
        why = "hidden in another publication of the same respondents"
        for cell in hidden:
            if isinstance(cell, str):
                self.hide_group(cell, why)
            elif cell[0] not in self.decision.hidden_groups:
                # The measure alone, as the other publication hides it (it may hide a
                # mean and one share to keep a band open, and show the rest).
                self.hide_measure(cell[0], cell[1], why)

    # -- line rules (tau-ARGUS): run until no relation changes

    def complete(self):
        changed = True
        while changed:
            changed = False
            for parent, kids in self.relations:
                changed |= self._group_line(parent, kids)
                for fam in self.fams:
                    changed |= self._cell_line(parent, kids, fam)

    def _choosable(self, keys):
        return sorted((c for c in keys if c not in self.decision.hidden_groups
                       and c not in self.fixed), key=lambda c: (c in self.top, self.by[c].n, c))

    def _group_line(self, parent, kids):
        hidden = self.decision.hidden_groups
        inside = [c for c in kids if c in hidden]
        if parent in hidden:
            if inside:
                return False
            why = f"complementary: hidden {parent} needs a hidden part in {parent}=parts"
            return any(self.hide_group(c, why) for c in self._choosable(kids)[:1])
        if not inside or (len(inside) > 1 and sum(self.by[c].n for c in inside) >= self.k):
            return False
        why = f"complementary: protects {', '.join(inside)} in relation {parent}=parts"
        for c in self._choosable(kids)[:1] or self._choosable([parent]):
            return self.hide_group(c, why)
        return False

    def _cell_line(self, parent, kids, fam):
        inside = [c for c in kids if self.cell_hidden(c, fam)]
        parent_hidden = self.cell_hidden(parent, fam)
        if (parent_hidden and inside) or (not parent_hidden and len(inside) != 1):
            return False
        free = sorted((c for c in kids if not self.cell_hidden(c, fam) and c not in self.fixed),
                      key=lambda c: (self.answers(c, fam), c))
        why = f"complementary: protects {fam} of {', '.join(inside) or parent} in {parent}=parts"
        if free:
            return self.hide_cell(free[0], fam, why)
        return not parent_hidden and parent not in self.fixed and self.hide_cell(parent, fam, why)


# ------------------------------------------------------------------- publication


def publish(groups, decision, k):
    """What is released: per shown group its exact size and each shown measure rounded
    (means to 2 decimals, an item's mean of fewer than 300 answers to 1: `mean_places`;
    proportions to whole percentages) or banded, with its answer
    count; every hidden cell gets the same marker and no number. The measure scales and
    the banding schedule go along, because the dashboard states them and the audit
    needs them."""
    specs = decision.specs or measure_specs(groups)
    out = {"k": k, "banding": [list(b) for b in BANDING], "measures": specs, "groups": {}}
    hidden_in = defaultdict(list)
    for group_key, key in decision.hidden_measures:
        hidden_in[group_key].append(key)
    for g in groups:
        if g.key in decision.hidden_groups:
            out["groups"][g.key] = suppressed_marker(k)
            continue
        measures = dict(_all_shown(g, specs, decision))
        for key in hidden_in.get(g.key, ()):
            if key in measures:
                measures[key] = suppressed_marker(k, "answers")
        out["groups"][g.key] = {"suppressed": False, "n": g.n, "measures": measures}
    return out


def _all_shown(group, specs, decision):
    """Every measure of the group as shown (value or band, and its answer count), in key
    order, kept in the decision: an entry depends only on the measure and its spec, and
    each round of `suppress` publishes every measure again (`publish` copies the group's
    entries and marks what is hidden). Kept with the group it was made from, so a
    decision used with other groups of the same keys never gets another group's entries.
    Shared between publications: nothing changes a published entry."""
    kept = decision.shown.get(group.key)
    if kept is None or kept[0] is not group:
        kept = decision.shown[group.key] = (group, {
            key: {**_shown(m, specs[key]), "n": m.n} for key, m in sorted(group.measures.items())})
    return kept[1]


def _shown(m, spec):
    if not m.n:  # nobody answered: no value (fewer than k answers, so always hidden)
        return {"value": None}
    if spec["kind"] == "percent":
        return band_percent((m.total / m.n - spec["lo"]) / (spec["hi"] - spec["lo"]), m.n)
    return band_mean(m.total / m.n, m.n, spec["lo"], spec["hi"], mean_places(spec, m.n))


def _band_partners(group, key, keys, decision, step=1):
    """What `_State._open_band` hides within the group at its first step: the item's
    mean (unless it is the banded value, or published to one decimal: `mean_places`)
    and the most answered exact option share on the banded option's side of "favorable"
    (for a banded mean or % favorable, the most answered exact share); with % favorable
    too when only the other side has one. At its second step: a one-decimal mean the
    first step left shown."""
    specs, hidden = decision.specs, decision.hidden_measures
    shown = _all_shown(group, specs, decision)

    def open_(k):
        return (group.key, k) not in hidden and "band" not in shown[k]

    fav = next((k for k in keys if k.endswith(":favorable")), None)
    mean = next((k for k in keys if k.endswith(":mean")), None)
    mean = mean if mean and mean != key and open_(mean) else None
    coarse = mean is not None and mean_places(specs[mean], group.measures[mean].n) == 1
    if step == 2:
        return [mean] if coarse else []

    def side(k):
        return specs[fav]["weights"][specs[k]["weights"].index(1)] if fav else 0

    options = sorted((k for k in keys if ":option:" in k and k != key and open_(k)),
                     key=lambda k: -group.measures[k].total)
    if ":option:" in key:
        same = [k for k in options if side(k) == side(key)]
        options = same or options[:1] + ([fav] if fav and fav != key and open_(fav) else [])
    out = options[:1] + [k for k in options[1:] if k == fav]
    if mean and not (coarse and _open_within(group, key, keys, decision, out)):
        out.insert(0, mean)
    return out


def _open_within(group, key, keys, decision, hiding):
    """Whether the band of `key` stays open within the group's item with `hiding` (and
    what is hidden already) hidden: `audit_bands.band_open_within`."""
    specs, hidden = decision.specs, decision.hidden_measures
    shown = _all_shown(group, specs, decision)
    entries = {k: None if k in hiding or (group.key, k) in hidden else shown[k] for k in keys}
    return band_open_within(entries, specs, key, BANDING) is True


def is_shown(published, group_key, measure=None):
    """Whether a publication shows this group (and this measure of it)."""
    group = published["groups"].get(group_key)
    if group is None or group.get("suppressed"):
        return False
    if measure is None:
        return True
    entry = group["measures"].get(measure)
    return entry is not None and not entry.get("suppressed")


def change_allowed(prev_published, cur_published, group_key, measure):
    """A "change since the previous wave" is a function of both waves' values, so it may
    be published only for a measure shown for the group in both waves, on the same scale.
    (Waves have disjoint respondents in anonymous mode, so their tables share no unknowns;
    a change between a shown and a hidden value would give the hidden one away.)"""
    if not (is_shown(prev_published, group_key, measure)
            and is_shown(cur_published, group_key, measure)):
        return False
    return prev_published["measures"].get(measure) == cur_published["measures"].get(measure)
