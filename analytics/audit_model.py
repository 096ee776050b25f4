"""The disclosure audit's model (see `analytics.audit`): findings, groups merged
across units, relations, measure specs and families."""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass

EPS = 1e-7
MEAN_STEP = 1.0  # (b): a hidden mean spans at least one scale point
PERCENT_STEP = 0.2  # (b): a hidden proportion spans at least 20 percentage points
DEFAULT_BANDING = ((300, 0.99), (100, 0.98), (40, 0.95), (20, 0.90), (0, 0.80))
COARSE_BELOW = 300  # an item mean of fewer answers is published to one decimal


def top_share(n, banding=DEFAULT_BANDING):
    """The share from which a value of n answers is shown as a band (1 minus it: the
    bottom band), by the banding schedule."""
    if banding is DEFAULT_BANDING:
        return _default_top_share(n)
    return next(share for least, share in banding if n >= least)


@functools.lru_cache(maxsize=4096)
def _default_top_share(n):
    return next(share for least, share in DEFAULT_BANDING if n >= least)


def mean_places(spec, n):
    """Decimals a shown mean is published to: an item's mean (a measure with a scale of
    options) of fewer than COARSE_BELOW answers to one, any other mean to two.

    Below 100 answers whole-percent option shares already give every option's count,
    so an item mean's second decimal adds nothing a reader can use (its 95% CI is wider
    than +-0.1) and, with the shares and the count, pins a band ("5% or less") of
    another share; one decimal leaves it open far more often (DESIGN rule 4)."""
    return 1 if spec.get("scale") is not None and n < COARSE_BELOW else 2


_WHY = {
    "count": "the published numbers narrow the range stated for its size",
    "value": "the published numbers narrow its hidden value to less than the width "
             "a hidden value must keep",
    "band": "the published numbers narrow the value inside the band shown for it",
}


@dataclass(frozen=True)
class Finding:
    """One way a hidden cell leaks: `condition` is "count" (a), "value" (b) or "band"
    (c); `feasible` is the range the attacker can narrow it to.

    `detail` (and `feasible`) describe the hidden cell itself: the sizes ruled out,
    the range its value is narrowed to, that everyone in it gave one answer. They are
    for tests and for a developer at a console, never for stored or shown text: a
    refused publication is reported by `str(finding)`, which names the cell and the
    condition and nothing the numbers would tell (`explain` gives the whole finding)."""

    group: str
    measure: str | None
    condition: str
    detail: str
    feasible: tuple[float, float] | None = None

    def __str__(self):
        what = f"{self.measure} of {self.group}" if self.measure else f"the size of {self.group}"
        why = _WHY.get(self.condition, "the published numbers narrow it")
        return f"{what}: {why} (condition {self.condition})"

    def explain(self):
        """The whole finding, with what it reveals: console and tests only."""
        what = f"{self.group} / {self.measure}" if self.measure else self.group
        return f"{self.condition} of {what}: {self.detail}"


# ------------------------------------------------------------------------ model


@dataclass
class _Node:
    name: str
    n: int | None
    entries: dict  # measure key -> shown entries
    families: set


class _Model:
    """Groups (merged across units), relations, measure specs and families."""

    def __init__(self, units, indices, same, k, small, skip=()):
        self.k = int(k if k is not None else max(p.get("k", 10) for p, _ in units))
        self.small = None if small is None else {
            tuple(x) if isinstance(x, tuple | list) else x for x in small}
        self.banding = tuple(tuple(b) for b in units[0][0].get("banding", DEFAULT_BANDING))
        name = _aliases(units, indices, same)
        self.nodes, self.relations, self.specs = {}, [], {}
        for (pub, rels), i in zip(units, indices, strict=True):
            self._add_unit(pub, rels, lambda key, i=i: name(i, key))
        self.own = {name(0, key) for key in units[0][0]["groups"]} if indices[0] == 0 else set()
        self.skip = {name(0, key) for key in skip} if indices[0] == 0 else set()
        for (pub, _), i in zip(units, indices, strict=True):
            if i and pub.get("checked") is False:  # another audit checks its cells
                self.skip |= {name(i, key) for key in pub["groups"]} - self.own
        for (pub, _), i in zip(units, indices, strict=True):
            if i and self.small is not None and pub.get("small") is not None:
                self._own_small(pub, lambda key, i=i: name(i, key))
        self.families = defaultdict(list)
        for key, spec in sorted(self.specs.items()):
            self.families[spec["family"]].append(key)
        self.links = self._links()

    def _links(self):
        """Family -> the families programmed with it: a component score and its items
        (`disclosure._component_links`), when every item publishes its option shares and
        mean; each family of such a set is audited over the whole set's program."""
        links = {}
        for linked in linked_sets(self.specs):
            if all(_mean_key(self, fam) is not None for fam in linked[1:]):
                links.update(dict.fromkeys(linked, linked))
        return links

    def linked(self, fam):
        """The families programmed together with `fam` (itself first if alone)."""
        return self.links.get(fam, (fam,))

    def _add_unit(self, pub, rels, name_of):
        families = {spec["family"] for spec in pub.get("measures", {}).values()}
        for key, spec in pub.get("measures", {}).items():
            known = self.specs.setdefault(key, spec)
            if _scale(known) != _scale(spec):
                raise ValueError(f"measure {key} has different scales in two publications")
            if "items" in spec:  # keep the link where an older publication has none
                self.specs[key] = spec
        for key, entry in pub["groups"].items():
            node = self.nodes.setdefault(name_of(key), _Node(name_of(key), None, {}, set()))
            node.families |= families
            if not entry.get("suppressed"):
                if node.n not in (None, entry["n"]):
                    raise ValueError(f"{node.name} is published with two sizes")
                node.n = int(entry["n"])
                for m, value in entry.get("measures", {}).items():
                    if not value.get("suppressed"):
                        node.entries.setdefault(m, []).append(value)
        for parent, kids in rels:
            names = [name_of(parent)] + [name_of(c) for c in kids]
            if any(n not in self.nodes for n in names):
                raise ValueError(f"relation {parent} names a group that is not published")
            self.relations.append((names[0], names[1:]))

    def _own_small(self, pub, name_of):
        """Another unit that lists its own small cells (`"small"`, as `Decision.small`,
        never published) is checked on those, as unit 0 is on `small`."""
        self.own |= {name_of(key) for key in pub["groups"]}
        self.small |= {(name_of(x[0]), x[1]) if isinstance(x, tuple | list) else name_of(x)
                       for x in pub["small"]}

    def checked(self, name, keys=()):
        """Whether a hidden cell is checked: named in `small`, or `small` not given, or
        it belongs to another unit (whose small cells `small` does not name); never
        one of a group in `skip`."""
        if name in self.skip:
            return False
        return (self.small is None or name not in self.own or name in self.small
                or any((name, key) in self.small for key in keys))

    def audited(self, name):
        """Whether any condition is checked for the group's cells ((b') and its bands
        included): not in `skip`, a group another audit of the same publication checks
        (`audit.View`)."""
        return name not in self.skip

    def sure(self, name):
        """Whether a checked cell is known to be small (else "proven large" exempts it)."""
        return self.small is not None and name in self.own


def _aliases(units, indices, same):
    labels = {i: "" if i == 0 else f"{pub.get('unit') or f'unit{i}'}/"
              for i, (pub, _) in zip(indices, units, strict=True)}
    merged = {}
    for a, b in same:
        if a[0] in labels and b[0] in labels:
            first, second = sorted([tuple(a), tuple(b)])
            merged[second] = merged.get(first, first)

    def name(i, key):
        unit, key = merged.get((i, key), (i, key))
        return labels[unit] + key

    return name


def _where(model, name):
    rels = [f"{p}=({len(kids)} groups)" for p, kids in model.relations if name in (p, *kids)]
    return ", ".join(rels[:3]) or "no relation"


def _ranges(values):
    parts, start = [], None
    for v, nxt in zip(values, values[1:] + [None], strict=True):
        start = v if start is None else start
        if nxt != v + 1:
            parts.append(f"{start}" if start == v else f"{start}-{v}")
            start = None
    return ", ".join(parts)


def linked_sets(specs):
    """(component family, *its item families) for every component spec that names its
    items (`disclosure._component_links`)."""
    return [(spec["family"], *spec["items"]) for spec in specs.values() if spec.get("items")]


def _scale(spec):
    """A measure's scale, without the component-to-items link (older publications have
    none; the link is the instrument's, the same in every publication)."""
    return {k: v for k, v in spec.items() if k not in ("items", "need")}


def _mean_key(model, fam):
    """The key of an item family's mean over its options (keyed weights), or None."""
    return next((k for k in model.families.get(fam, ())
                 if model.specs[k]["kind"] == "mean" and model.specs[k].get("scale")), None)
