"""The privacy plan of response-level exports, on hand-made grains (no database):
generalisation along the ladder, local suppression within the limit, refusal naming the
quasi-identifiers to drop, and the k and l measured on output chunks."""

import pandas as pd
import pytest

from analytics.exporters import anonymity
from analytics.exporters.scope import ExportRefused

COLUMNS = ["wave_id", "school_id", "class_group_id", "year_level", "gender",
           "home_language", "band_p", "n"]


def grain(rows):
    return pd.DataFrame(rows, columns=COLUMNS)


def spread(school, cls, year, gender, n, hl="no"):
    """n records of one raw combination, split over two score bands."""
    return [(1, school, cls, year, gender, hl, 1, n // 2), (1, school, cls, year, gender, hl,
                                                             3, n - n // 2)]


def test_nothing_is_generalised_when_every_class_is_already_safe():
    rows = spread(1, 10, 7, "girl", 12) + spread(1, 10, 7, "boy", 12) + spread(1, 11, 8,
                                                                                "girl", 12)
    plan = anonymity.plan(grain(rows), ["p"], k=10, max_share=0.05)
    assert plan.level == 0
    assert plan.qis == ["school", "class", "year_level", "gender", "home_language"]
    assert plan.report["generalisations"] == []
    assert plan.report["records_removed"] == 0


def test_rare_gender_answers_are_pooled_before_anything_is_dropped():
    rows = (spread(1, 10, 7, "girl", 30) + spread(1, 11, 7, "boy", 30)
            + spread(1, 10, 7, "another", 6) + spread(1, 11, 7, "prefer_not", 6))
    plan = anonymity.plan(grain(rows), ["p"], k=10, max_share=0.05)
    assert plan.report["generalisations"][:2] == [step.note for step in anonymity.LADDER[:2]]
    kept = plan.lookup[plan.lookup["keep"]]
    assert set(kept["qi_gender"]) == {"girl", "boy", anonymity.POOLED_GENDER}
    assert "gender" in plan.qis and "class" not in plan.qis


def test_a_few_unsafe_records_are_suppressed_locally_and_counted():
    rows = (spread(1, 10, 7, "girl", 40) + spread(1, 10, 7, "boy", 40)
            + spread(1, 10, 8, "girl", 40) + spread(1, 10, 8, "boy", 40)
            + [(1, 1, 10, 8, "another", "no", 2, 3)])
    g = grain(rows)
    plan = anonymity.plan(g, ["p"], k=10, max_share=0.05)
    assert plan.report["records_in"] == 163
    locally = plan.report["records_locally_suppressed"]
    assert locally.get("gender, home language", 0) + plan.report["records_removed"] == 3
    assert plan.report["records_out"] + plan.report["records_removed"] == 163
    sizes, bands = released(g, plan)
    assert sizes.min() >= 10 and bands.min() >= 2


def released(g, plan):
    """Size and band count of each equivalence class the plan releases."""
    out = g.merge(plan.lookup, on=anonymity.RAW_KEY)
    out = out[out["keep"]]
    keys = ["wave_id", *(f"qi_{q}" for q in plan.qis)]
    groups = out.groupby(keys, observed=True)
    return groups["n"].sum(), groups["band_p"].nunique()


def test_a_group_unanimous_on_a_score_band_is_never_released_as_it_is():
    rows = (spread(1, 10, 7, "girl", 40) + spread(1, 11, 8, "girl", 40)
            + [(1, 1, 12, 9, "girl", "no", 3, 30)])  # year 9: everyone in the high band
    g = grain(rows)
    plan = anonymity.plan(g, ["p"], k=10, max_share=0.5)
    sizes, bands = released(g, plan)
    assert sizes.min() >= 10 and bands.min() >= 2
    assert plan.level > 0 or plan.report["records_removed"] == 30


def test_a_k_needing_the_school_code_dropped_is_refused_and_says_so():
    rows = spread(1, 10, 7, "girl", 8) + spread(2, 20, 7, "girl", 8)
    with pytest.raises(ExportRefused) as refused:
        anonymity.plan(grain(rows), ["p"], k=10, max_share=0.05)
    message = str(refused.value)
    assert "k = 10 cannot be met" in message
    assert "class code, year level, gender, home language" in message
    assert "dropping the school code as well" in message


def test_a_k_no_generalisation_can_meet_is_refused():
    with pytest.raises(ExportRefused, match="Even dropping every quasi-identifier"):
        anonymity.plan(grain(spread(1, 10, 7, "girl", 6)), ["p"], k=10, max_share=0.05)


def test_an_empty_export_is_refused():
    with pytest.raises(ExportRefused, match="no responses"):
        anonymity.plan(grain([]), ["p"], k=10, max_share=0.05)


def test_measured_k_and_l_come_from_the_chunks_written():
    def cat(values, categories):
        return pd.Categorical(values, categories=categories)

    chunk = pd.DataFrame({
        "wave": cat(["W1"] * 5 + ["W2"] * 3, ["W1", "W2"]),
        "school": cat(["S"] * 8, ["S", "T"]),
        "band_p": cat(["low", "high", "low", "low", None, "low", "middle", "middle"],
                      ["low", "middle", "high"])})
    parts = [anonymity.class_counts(chunk.iloc[:4], ["wave", "school"], ["band_p"]),
             anonymity.class_counts(chunk.iloc[4:], ["wave", "school"], ["band_p"])]
    assert anonymity.measure(parts) == {"k": 3, "l": 2, "classes": 2}
    unanimous = chunk.assign(band_p=cat(["low"] * 8, ["low", "middle", "high"]))
    parts = [anonymity.class_counts(unanimous, ["wave", "school"], ["band_p"])]
    assert anonymity.measure(parts)["l"] == 1
    with pytest.raises(TypeError):
        anonymity.class_counts(chunk.astype({"wave": str}), ["wave"], ["band_p"])


def test_year_bands_cover_their_years():
    years = pd.Series([1, 2, 7, 8, 9, 10, 12])
    assert list(anonymity._year_band(years, 2)) == ["1-2", "1-2", "7-8", "7-8", "9-10",
                                                    "9-10", "11-12"]
    assert list(anonymity._year_band(years, 3)) == ["1-3", "1-3", "7-9", "7-9", "7-9",
                                                    "10-12", "10-12"]
