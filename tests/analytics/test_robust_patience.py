"""A part's attempt robust to its school's true totals (`snapshot._suppress_part`) is
given up once a finding stays through `ROBUST_PATIENCE` repairs (`Repair.stuck`), and
the part is suppressed without the totals, as when the attempt fails outright: an
attempt that cannot succeed used to hide cell after cell, round after round, until
nothing was left to hide (43 rounds on a small generated school, 200 s on a larger one:
docs/performance.md, "A robust attempt that cannot succeed")."""

from collections import namedtuple

import pytest

from analytics import disclosure
from analytics.disclosure_repair import Repair
from tests.analytics.test_disclosure import ITEMS, K, build, students

Finding = namedtuple("Finding", "group measure condition")


def test_a_finding_that_stays_through_more_repairs_than_the_patience_gives_up():
    state, stuck = Repair(), Finding("class:a", "item:Q1:mean", "value")
    for _ in range(3):
        state.stuck([stuck, Finding("year:7", None, "count")], 3)
    with pytest.raises(RuntimeError, match="item:Q1:mean of class:a stayed narrowed through 3"):
        state.stuck([stuck], 3)


def test_a_finding_settled_for_a_round_starts_again_and_no_patience_never_gives_up():
    state, stuck = Repair(), Finding("class:a", "item:Q1:mean", "value")
    for _ in range(3):
        state.stuck([stuck], 3)
    state.stuck([Finding("class:b", "item:Q1:mean", "value")], 3)
    for _ in range(3):
        state.stuck([stuck], 3)
    patient = Repair()
    for _ in range(50):
        patient.stuck([stuck], None)
    assert state.streak == {stuck: 3} and patient.streak == {stuck: 50}


def test_suppression_with_a_patience_gives_up_where_without_it_repairs():
    """School minus class a tells class b (3 students): a finding the first repair
    settles. With no patience left it is given up; without a patience it is repaired."""
    people = students("a", 12, [3, 4]) + students("b", 3, [4, 4])
    groups, relations = build(people, dims=("class",), n_items=2)
    with pytest.raises(RuntimeError, match="stayed narrowed through 0 repairs"):
        disclosure.suppress(groups, relations, K, items=ITEMS, patience=0)
    decision = disclosure.suppress(groups, relations, K, items=ITEMS)
    assert decision.rounds > 1 and "class:a" in decision.hidden_groups
