"""Suppression's repair (see `analytics.disclosure.suppress`): each audit finding hides
one more cell next to the leak, preferring the cell that widens it most for what it
costs; a band the rest pins is opened within its group first. A mixin of
`disclosure._State`, which holds the decision, the groups and their relations."""

from __future__ import annotations

from .audit_model import linked_sets

TOLERANCE = 1e-6


class Repair:
    def stuck(self, findings, patience):
        """Counts the rounds each finding has stayed, in a row; with `patience` (None:
        never), RuntimeError when one has stayed that many repairs: an attempt with a
        way out (`snapshot._suppress_part`'s attempt robust to its school's true totals,
        which falls back to one without them) whose repairs hide cell after cell without
        settling it (docs/performance.md, "A robust attempt that cannot succeed")."""
        keys = {(f.group, f.measure, f.condition) for f in findings}
        last = getattr(self, "streak", {})
        self.streak = {key: last.get(key, 0) + 1 for key in keys}
        worst = max(self.streak, key=lambda key: (self.streak[key], str(key)), default=None)
        if patience is not None and worst is not None and self.streak[worst] > patience:
            raise RuntimeError(f"cannot make the publication safe: {worst[1] or 'the size'} of "
                               f"{worst[0]} stayed narrowed through {patience} repairs")

    def repair(self, findings):
        """One repair per family (and one per count finding's relations, one per group
        for a pinned band) each round: one hidden cell often settles many findings of
        its family. A finding in a group of another publication (the last resort's)
        waits a round when its family was repaired in this one: else the last resort
        would hide a linked family (the component score) before the audit has seen
        whether this round's cell settles it, and which finding came first (an order
        that follows the groups' random public ids) would decide what is hidden."""
        progress, seen, repaired = False, set(), set()
        for finding in findings:
            fam = self._fam(finding.measure) if finding.measure else None
            topic = (fam, finding.group) if finding.condition == "band" else fam
            if topic is not None and topic in seen:
                continue
            seen.add(topic)
            if finding.group not in self.by:
                if fam is not None and fam in repaired:
                    continue
                progress |= self._fallback(finding)
            elif finding.condition == "count":
                progress |= self._near_group(finding)
            elif finding.condition == "band":
                progress |= self._open_band(finding)
            else:
                progress |= self._near_cell(finding)
            repaired.add(fam)
        return progress or any(self._fallback(f) for f in findings)

    def _near_group(self, finding):
        best = []
        for text, parent, others in self.pools(finding.group):
            best += [((c in self.top, c == parent, self.by[c].n, c), c, text)
                     for c in self._choosable(others)]
        if not best:
            return False
        _, c, text = min(best)
        return self.hide_group(c, f"complementary: protects the size of {finding.group} in {text}")

    def _near_cell(self, finding):
        fam = self.decision.specs[finding.measure]["family"]
        best = []
        for text, parent, others in self.pools(finding.group):
            for c in others:
                if c in self.fixed or c in self.decision.hidden_groups or self.cell_hidden(c, fam):
                    continue
                useless = not self._differs(c, finding)
                rank = (c in self.top, self._determined(c, fam), useless,
                        -self._shared(c, finding.group), c == parent, self.answers(c, fam), c)
                best.append((rank, c, text))
        if not best:
            return False
        _, c, text = min(best)
        why = f"complementary: protects {finding.measure} of {finding.group} in {text}"
        return self.hide_cell(c, fam, why)

    def _shared(self, key, other):
        """How many relation lines hold both groups: a cell hidden in each line the
        leaking one is in widens its range in all of them at once."""
        return sum(1 for p, kids in self.relations
                   if key in (p, *kids) and other in (p, *kids))

    def _determined(self, key, fam):
        """Whether the group is the sum of parts all showing this family: hiding it there
        would only push the hiding down into those parts."""
        return any(p == key and not any(self.cell_hidden(c, fam) for c in kids)
                   for p, kids in self.relations)

    def _differs(self, key, finding):
        """Whether this group's answers lie outside the range the finding pins, so adding
        it to the hidden pool widens that range."""
        m = self.by[key].measures[finding.measure]
        if finding.feasible is None or m.n == 0:
            return True
        low, high = finding.feasible
        spec = self.decision.specs[finding.measure]
        if spec["scale"] is None:
            value = m.total / m.n
            return value < low - TOLERANCE or value > high + TOLERANCE
        counts = [0.0] * len(spec["scale"])
        for k in self.fams[spec["family"]]:
            if ":option:" in k:
                counts[self.decision.specs[k]["weights"].index(1)] = self.by[key].measures[k].total
        return any(c > 0 and not low - TOLERANCE <= w <= high + TOLERANCE
                   for c, w in zip(counts, spec["weights"], strict=True))

    def _fallback(self, finding):
        """Nothing next to the leak is left to hide: hide the family (for a size, the
        group) in the largest shown group, parents first, and say so; once the family is
        hidden everywhere it can be, the families linked to it (its component score, then
        the component's other items: `_linked`), whose numbers can carry the leak.
        Repeated, this ends with everything hidden, which the audit always accepts."""
        why = f"last resort: {finding}"
        fam = self._fam(finding.measure) if finding.measure else None
        parents = {p for p, _ in self.relations}
        order = [g for g in sorted(self.by, key=lambda g: (g not in self.top, g not in parents,
                                                            -self.by[g].n, g))
                 if g not in self.fixed and g not in self.decision.hidden_groups]
        if fam not in self.fams:
            if not order:
                return False
            self.decision.notes.append(f"{order[0]} hidden: {why}")
            return self.hide_group(order[0], why)
        for each in self._linked(fam):
            for key in order:
                if not self.cell_hidden(key, each):
                    self.decision.notes.append(f"{each} hidden for {key}: {why}")
                    return self.hide_cell(key, each, why)
        return False

    def _linked(self, fam):
        """The family, then those the audit programs with it: an item's component score
        and the component's other items, or a component's items."""
        for linked in linked_sets(self.decision.specs):
            if fam in linked:
                return [fam] + [f for f in linked if f != fam]
        return [fam]

    def _fam(self, key):
        return self.decision.specs[key]["family"] if key in self.decision.specs else key

    def _open_band(self, finding):
        """A banded value the rest pins (audit condition (c)): first, within its group,
        hide the item's mean and one exact option share on the same side of "favorable"
        (the most answered: most room to move), so that answers can move between that
        option and the banded one; if the band is still pinned (through the relations),
        hide the family in the group. A continuous measure has no parts: hide it next to
        the leak, as for a hidden cell, and so for a group another publication shows."""
        group, key = finding.group, finding.measure
        fam = self._fam(key)
        if group in self.decision.hidden_groups:
            return False  # hidden meanwhile (by another finding of this round): no band left
        if self.decision.specs[key]["scale"] is None or group in self.shown_elsewhere:
            # Hiding a value another publication shows would hide nothing.
            return self._near_cell(finding)
        tried = self.band_tried.get((group, fam), 0)
        while tried < 2:
            # First without the item's mean where it is published to one decimal (its
            # interval often leaves the band open), then with it.
            tried += 1
            self.band_tried[(group, fam)] = tried
            more = self.band_partners(group, key, fam, tried)
            why = f"keeps the band of {key} in {group} open"
            for k in more:
                self.hide_measure(group, k, f"complementary: {why}")
            if more and group in self.top:
                self.decision.notes.append(f"{', '.join(more)} hidden for top-level group "
                                           f"{group}: {why}")
            if more:
                return True
        return self.hide_cell(group, fam, f"complementary: the band of {key} is pinned")
