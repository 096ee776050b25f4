"""Spreads (SD, 95% CI) never reveal a hidden group: every shown group's SD is its
school's (or, at the district level, its own school's and the district's), so no sum of
squares of a hidden group follows from subtracting published ones."""

import math

import pytest

from analytics.models import Snapshot
from analytics.presentation import district_basis, pooled_spreads
from tests.analytics.dashboard_seed import publish_core_waves, publish_district_wave

COMP = "component:perceptions"


def sums(values):
    return len(values), sum(values), sum(v * v for v in values)


def own_spread(values):
    n, s, q = sums(values)
    sd = math.sqrt((q - s * s / n) / (n - 1))
    return {COMP: {"sd": round(sd, 2), "ci95": round(1.96 * sd / math.sqrt(n), 2)}}


def mean_from_spread(n, mean, sd):
    """What a reader rebuilds from a published n, mean and SD: the sum of squares."""
    return (n - 1) * sd * sd + n * mean * mean


CLASSES = {"class:a": [4.0] * 6,  # hidden (complementary), everyone at the top
           "class:b": [2.0, 3.0, 3.5, 2.5, 3.0, 2.0, 3.0, 2.5, 3.5, 3.0, 2.0, 3.0],
           "class:c": [1.5, 2.0, 3.0, 2.5, 3.0, 3.5, 2.0, 3.0, 2.5, 3.0, 2.0]}
SCHOOL = [v for values in CLASSES.values() for v in values]


def published():
    groups = {"school": {"suppressed": False, "n": len(SCHOOL),
                         "measures": {COMP: {"n": len(SCHOOL)}}}}
    for key, values in CLASSES.items():
        hidden = key == "class:a"
        groups[key] = {"suppressed": hidden, "n": None if hidden else len(values),
                       "measures": {} if hidden else {COMP: {"n": len(values)}}}
    return {"groups": groups}


def test_own_spreads_would_pin_a_hidden_unanimous_class_to_the_top_of_the_scale():
    # Why the rule exists: with each group's own SD, the school minus the shown classes
    # gives the hidden class's sum of squares, and with its size and sum (which the
    # means give the same way) its variance is zero: everyone answered 4.
    raw = {"school": own_spread(SCHOOL)} | {k: own_spread(v) for k, v in CLASSES.items()}
    n_s, s_s, _ = sums(SCHOOL)
    q_hidden = mean_from_spread(n_s, s_s / n_s, raw["school"][COMP]["sd"])
    s_hidden, n_hidden = s_s, n_s
    for key in ("class:b", "class:c"):
        n, s, _ = sums(CLASSES[key])
        q_hidden -= mean_from_spread(n, s / n, raw[key][COMP]["sd"])
        s_hidden, n_hidden = s_hidden - s, n_hidden - n
    variance = q_hidden / n_hidden - (s_hidden / n_hidden) ** 2
    assert abs(variance) < 0.05 and s_hidden / n_hidden == 4.0


def test_every_shown_group_publishes_the_school_spread_and_its_own_interval():
    raw = {"school": own_spread(SCHOOL)} | {k: own_spread(v) for k, v in CLASSES.items()}
    pooled = pooled_spreads(raw, published(), dict.fromkeys(published()["groups"], "school"))
    school_sd = raw["school"][COMP]["sd"]
    assert set(pooled) == {"school", "class:b", "class:c"}
    for key in pooled:
        assert pooled[key][COMP]["sd"] == school_sd
        assert pooled[key][COMP]["sd_of"] == "school"
    n_b = len(CLASSES["class:b"])
    assert pooled["class:b"][COMP]["ci95"] == round(1.96 * school_sd / math.sqrt(n_b), 2)
    # Subtracting now gives (n - 1) sd^2 + n mean^2 of numbers that share one sd: no
    # sum of squares of the hidden class, which is what the own spreads revealed.
    assert raw["class:b"][COMP]["sd"] != school_sd


def test_the_district_spread_is_withheld_while_a_school_is_hidden():
    shown = {"district": {"suppressed": False}, "school:h": {"suppressed": False},
             "school:l": {"suppressed": False}}
    assert district_basis({"groups": shown}) == {"district": "district",
                                                 "school:h": "school:h", "school:l": "school:l"}
    hidden = dict(shown, **{"school:b": {"suppressed": True}})
    assert "district" not in district_basis({"groups": hidden})


@pytest.mark.django_db
def test_a_published_school_document_carries_one_spread_per_component(world):
    wave = publish_core_waves(world, count=1)[0]
    data = Snapshot.objects.filter(wave=wave).order_by("-version").first().data
    school = next(g for g in data["groups"] if g["key"] == "school")
    checked = 0
    for group in data["groups"]:
        if group["suppressed"]:
            assert "components" not in group
            continue
        for key, cell in group["components"].items():
            if cell.get("sd") is None:
                continue
            assert cell["sd"] == school["components"][key]["sd"] and cell["sd_of"] == "school"
            assert cell["ci95"] == round(1.96 * cell["sd"] / math.sqrt(cell["n"]), 2)
            checked += 1
    assert checked > 4  # the school, two classes, two gender groups at least


@pytest.mark.django_db
def test_the_district_level_shows_each_school_with_its_own_spread(world):
    wave = publish_district_wave(world)
    snap = Snapshot.objects.filter(wave=wave).order_by("-version").first()
    groups = {g["key"]: g for g in snap.data["groups"]}
    for part in snap.parts.select_related("school"):
        row = groups[f"school:{part.school.public_id}"]
        own = next(g for g in part.data["groups"] if g["key"] == "school")
        for key, cell in row["components"].items():
            assert cell.get("sd") == own["components"][key].get("sd")
    assert all(c.get("sd_of") == "district" for c in groups["district"]["components"].values()
               if c.get("sd") is not None)
