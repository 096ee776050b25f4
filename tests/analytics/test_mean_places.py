"""An item's mean of fewer than 300 answers is published to one decimal
(`audit_model.mean_places`): the audit reads it as the interval it rounds from, and
suppression, beside a banded option share, then hides one exact share and keeps the
mean where that interval leaves the band open."""

from analytics.audit import audit
from analytics.audit_bands import band_open_within
from analytics.audit_family import _interval, _total_bounds
from analytics.audit_model import DEFAULT_BANDING
from analytics.disclosure import (
    BANDING,
    Decision,
    band_mean,
    band_percent,
    measure_specs,
    publish,
    suppress,
)
from analytics.presentation import _component_favorable
from tests.analytics.test_disclosure import ITEMS, K, build, mixed
from tests.analytics.test_disclosure_bands import one_class, pinned_bands

OPTION = "item:Q0:option:{}".format


def entries_of(out, group):
    return out["groups"][group]["measures"]


def test_an_item_mean_has_one_decimal_under_300_answers_and_two_from_300():
    small = publish(*_published(mixed("a", 37)))
    assert entries_of(small, "school")["item:Q0:mean"]["display"] == "2.5"  # 2.54
    large = publish(*_published(mixed("a", 150) + mixed("b", 150)))
    assert entries_of(large, "school")["item:Q0:mean"]["display"] == "2.60"  # 780 / 300


def test_a_component_score_keeps_two_decimals_in_a_small_group():
    out = publish(*_published(mixed("a", 37)))
    assert entries_of(out, "school")["component:perceptions"]["display"] == "2.54"


def test_band_mean_rounds_to_the_places_asked_and_bands_alike():
    assert band_mean(3.1538, 26, 1, 4, 1) == {"value": 3.2, "display": "3.2"}
    assert band_mean(3.1538, 26, 1, 4) == {"value": 3.15, "display": "3.15"}
    assert band_mean(4.0, 26, 1, 4, 1)["display"] == "3.70 or more"


def test_a_one_decimal_mean_keeps_a_band_open_with_one_share_hidden():
    # 26 answers 2/3/10/11: "10% or less" of option 1; option 2 hidden; the mean 3.1538
    # shown as "3.2" stands for 81.9..84.5 of 26, i.e. totals 82..84 = 84 - (option 1):
    # option 1 may be 0, 1 or 2 answers. At two decimals ("3.15": 81.77..82.03) it is 2.
    groups, _ = one_class([2, 3, 10, 11])
    specs = measure_specs(groups, ITEMS)
    shown = _entries(groups, "class:a", specs)
    assert shown[OPTION(1)]["display"] == "10% or less"
    assert shown["item:Q0:mean"]["display"] == "3.2"
    hidden = {**shown, OPTION(2): None}
    assert band_open_within(hidden, specs, OPTION(1), BANDING) is True
    two = {**hidden, "item:Q0:mean": {**band_mean(82 / 26, 26, 1, 4), "n": 26}}
    assert band_open_within(two, specs, OPTION(1), BANDING) is False
    assert band_open_within(shown, specs, OPTION(1), BANDING) is False  # 26 - 24 = 2


def test_suppress_hides_one_share_and_keeps_the_mean_when_that_is_enough():
    groups, rels = one_class([2, 3, 10, 11])
    decision = suppress(groups, rels, K, items=ITEMS)
    out = publish(groups, decision, K)
    assert audit(out, rels, K, small=decision.small) == []
    entries = entries_of(out, "class:a")
    assert entries["item:Q0:mean"]["display"] == "3.2"
    assert entries[OPTION(2)].get("suppressed")
    assert entries[OPTION(1)]["display"] == "10% or less"
    assert pinned_bands(out, "class:a") == []


def test_suppress_hides_the_mean_too_when_its_interval_pins_the_band():
    # 26 answers 0/5/12/9: total 82, mean 3.1538 shown as "3.2" (81.9..84.5); with
    # option 2 hidden the total is 82 - (option 1), so option 1 must be 0: "nobody
    # strongly disagreed". The mean goes as well.
    groups, rels = one_class([0, 5, 12, 9])
    specs = measure_specs(groups, ITEMS)
    shown = _entries(groups, "class:a", specs)
    assert band_open_within({**shown, OPTION(2): None}, specs, OPTION(1), BANDING) is False
    decision = suppress(groups, rels, K, items=ITEMS)
    out = publish(groups, decision, K)
    assert audit(out, rels, K, small=decision.small) == []
    entries = entries_of(out, "class:a")
    assert entries["item:Q0:mean"].get("suppressed")
    assert pinned_bands(out, "class:a") == []


def test_values_round_half_up_exactly_as_the_audit_reads_them():
    # 7 of 40 is 17.5%: 0.175 * 100 is 17.4999... in floating point, which rounded 17
    assert band_percent(7 / 40, 40)["display"] == "18%"
    assert band_percent(7 / 40 - 1e-4, 40)["display"] == "17%"
    assert band_mean(33 / 12, 12, 1, 4, 1)["display"] == "2.8"  # 2.75
    assert band_mean(2.125, 8, 1, 4)["display"] == "2.13"


def test_a_mean_on_a_rounding_boundary_does_not_hold_a_band_open():
    # 12 answers 1/5/3/3: total 32, mean 2.667 shown "2.7", which stands for totals in
    # [31.8, 33.0): 32 only, since 33 (2.75) would show "2.8". With option 2 hidden the
    # total is 33 - (option 1), so option 1 is 1: the band "20% or less" cannot reach 0.
    # (Read as the closed [31.8, 33.0], 0 looked possible, and suppress kept the mean.)
    groups, rels = one_class([1, 5, 3, 3])
    specs = measure_specs(groups, ITEMS)
    shown = _entries(groups, "class:a", specs)
    assert shown["item:Q0:mean"]["display"] == "2.7"
    assert shown[OPTION(1)]["display"] == "20% or less"
    assert band_open_within({**shown, OPTION(2): None}, specs, OPTION(1), BANDING) is False
    decision = suppress(groups, rels, K, items=ITEMS)
    out = publish(groups, decision, K)
    assert audit(out, rels, K, small=decision.small) == []
    assert pinned_bands(out, "class:a") == []


def test_the_local_test_gives_up_rather_than_enumerate_too_much():
    groups, _ = one_class([2, 3, 10, 11])
    specs = measure_specs(groups, ITEMS)
    every = dict.fromkeys(_entries(groups, "class:a", specs))
    every[OPTION(1)] = {"band": "bottom", "bound": 10, "display": "10% or less", "n": 26}
    assert band_open_within(every, specs, OPTION(1), BANDING, limit=100) is None
    assert band_open_within(every, specs, OPTION(1), BANDING) is True


def _published(people):
    groups, rels = build(people, dims=("class",))
    decision = suppress(groups, rels, K, items=ITEMS)
    return groups, decision, K


def _entries(groups, key, specs):
    """The group's item entries as `publish` shows them with nothing hidden."""
    out = publish(groups, Decision(specs=specs), K)
    return {k: v for k, v in entries_of(out, key).items() if k.startswith("item:Q0:")}


def test_a_component_favorable_share_rounds_half_up_like_every_published_value():
    component = {"items": ["a", "b"]}
    values = {"item:a:favorable": {"value": 62}, "item:b:favorable": {"value": 63}}
    assert _component_favorable(values, component) == 63  # 62.5; round() gave 62
    values["item:b:favorable"] = {"value": 64}
    assert _component_favorable(values, component) == 63
    values["item:b:favorable"] = {"display": "95% or more"}
    assert _component_favorable(values, component) is None


def test_an_earlier_publication_is_read_at_the_precision_it_was_published_with():
    # a wave published before item means had one decimal under 300 answers: its "2.54"
    # of 37 answers stands for 93.795..94.165, i.e. the total 94, not 92.65..94.35
    groups, _ = one_class([2, 3, 10, 11])
    spec = measure_specs(groups, ITEMS)["item:Q0:mean"]
    then = {"value": 2.54, "display": "2.54", "n": 37}
    now = {"value": 2.5, "display": "2.5", "n": 37}
    def totals(entry):
        return _total_bounds(_interval(DEFAULT_BANDING, spec, entry), 37, True)

    assert totals(then) == (94.0, 94.0)
    assert totals(now) == (91.0, 94.0)
    assert totals({"value": 2.5, "n": 37}) == (91.0, 94.0)  # no display: by the rule
