"""The dashboards as each role gets them (server-rendered HTML, no browser): what is and
is not there, that every number comes from the published snapshot, that a hidden group
shows no number, and that pages stay CSP-clean (no inline code or styles).

Here one published core wave, published once for the module and only read by its tests
(conftest.module_rows). Two waves (trends, change): test_dashboard_change_views; a
district-wide wave: test_dashboard_district_views; tests that publish again:
test_query_counts."""

import re

import pytest

from analytics import dashboards, practices
from tests.analytics.dashboard_pages import (
    dashboard_url,
    page,
    parse,
    shared_publication,
    snapshot_of,
)
from tests.analytics.dashboard_seed import publish_core_waves

pytestmark = pytest.mark.django_db


# One published wave, for what does not need an earlier one (half the publishing).
published, world, wave1 = shared_publication(
    lambda world: publish_core_waves(world, count=1), "wave1")


def test_a_hidden_group_shows_no_number_anywhere_on_the_page(client, world, wave1):
    data = snapshot_of(wave1[-1])
    hidden = [g["key"] for g in data["groups"] if g["suppressed"]]
    assert "class:" + world["classes"]["8A"].public_id in hidden  # 4 answers < k
    _, html = page(client, world["leader"], dashboard_url(wave1[-1]))
    rows = [r for r in parse(html).rows if r["group"] in hidden]
    assert len(rows) >= 2 * len(hidden)  # in the breakdowns and in the equity view
    for row in rows:
        assert "is-suppressed" in row["cls"]
        assert "Not shown" in row["cells"]
        assert not re.search(r"\d", row["cells"].replace(f"fewer than {data['k']}", "")), row


def test_the_equity_gap_is_the_difference_of_two_published_means(client, world, wave1):
    data = snapshot_of(wave1[-1])
    school = next(g for g in data["groups"] if g["key"] == "school")
    comps = dashboards.measured_components(data)
    view = dashboards.equity(data["groups"], school, comps)
    checked = 0
    for row in view["rows"]:
        for comp, cell in zip(comps, row["cells"], strict=True):
            published = dashboards.component_cell(row["group"], comp["key"])
            if published is None:
                assert cell is None  # hidden wherever the group's cell is not published
                continue
            expected = round(published["value"] - school["components"][comp["key"]]["value"], 2)
            assert cell["diff"] == expected
            assert cell["ci"][0] <= cell["diff"] <= cell["ci"][1]
            checked += 1
    assert checked > 0


def test_the_gap_of_a_group_that_is_the_whole_school_is_zero_with_no_spread():
    cell = {"value": 3.1, "sd": 0.7, "n": 40}
    assert dashboards.gap(cell, dict(cell)) == {"diff": 0.0, "ci": [0.0, 0.0], "clear": False}


def test_the_gap_interval_allows_for_the_group_being_part_of_the_school():
    group, school = {"value": 3.5, "sd": 1.0, "n": 20}, {"value": 3.0, "sd": 1.0, "n": 100}
    result = dashboards.gap(group, school)
    # Var = 1/20 + 1/100 - 2/100 = 0.04 -> half-width 1.96 * 0.2 = 0.392
    assert result["ci"] == [round(0.5 - 0.392, 2), round(0.5 + 0.392, 2)]
    assert result["clear"] is True


COMPS = [{"key": k, "component": k, "validated": True, "lo": 1, "hi": hi, "items": ["x"]}
         for k, hi in (("perceptions", 4), ("competencies", 5), ("motivations", 7),
                       ("opportunities", 4))]


def school_with(values, favorable):
    return {"key": "school", "suppressed": False, "components": {
        c["key"]: {"value": v, "favorable": f} for c, v, f in zip(COMPS, values, favorable,
                                                                   strict=True)}}


def test_the_weakest_component_is_the_lowest_published_favorable_share():
    school = school_with([3.0, 4.0, 6.0, 3.5], [70, 55, 60, 80])
    weakest = dashboards.weakest_component(school, COMPS)
    assert (weakest["key"], weakest["basis"]) == ("competencies", "favorable")


def test_without_every_favorable_share_the_mean_is_placed_on_its_own_scale():
    # Raw means would pick perceptions (2.5); on their scales motivations (3 of 1-7) is lowest.
    school = school_with([2.5, 3.0, 3.0, 3.0], [60, None, 50, 70])
    weakest = dashboards.weakest_component(school, COMPS)
    assert (weakest["key"], weakest["basis"]) == ("motivations", "scale")
    assert weakest["values"]["motivations"] == 33


def test_no_component_is_called_weakest_when_one_is_hidden():
    school = school_with([3.0, 4.0, 6.0, 3.5], [70, 55, 60, 80])
    school["components"]["opportunities"]["value"] = None
    assert dashboards.weakest_component(school, COMPS) is None


def test_the_practices_shown_are_those_of_the_weakest_component_with_sources(
        client, world, wave1):
    data = snapshot_of(wave1[-1])
    school = next(g for g in data["groups"] if g["key"] == "school")
    weakest = dashboards.weakest_component(school, dashboards.measured_components(data))
    _, html = page(client, world["leader"], dashboard_url(wave1[-1]))
    suggested = practices.for_component(weakest["key"])
    assert f"Suggested practices: {weakest['key']}" in html
    for practice in suggested["practices"]:
        assert practice["title"] in html
    for ref in suggested["references"]:
        assert ref["full"].split("(")[0].strip().replace("&", "&amp;") in html


def test_every_practice_cites_a_known_source():
    doc = practices.load()
    for comp in ("perceptions", "competencies", "motivations", "opportunities"):
        entry = practices.for_component(comp)
        assert entry["practices"] and entry["references"]
        assert all(p["sources"] for p in doc["components"][comp]["practices"])


def test_a_practice_without_a_source_is_refused():
    doc = {"references": {"a": {"short": "A 2020", "full": "A. (2020). T."}},
           "components": {c: {"meaning": "m", "practices": [{"title": "t", "text": "x",
                                                              "sources": ["a"]}]}
                          for c in ("perceptions", "competencies", "motivations",
                                    "opportunities")}}
    practices.check(doc)
    doc["components"]["motivations"]["practices"][0]["sources"] = []
    with pytest.raises(practices.PracticesError, match="motivations"):
        practices.check(doc)


def test_the_teacher_sees_only_the_classes_they_teach(client, world, wave1):
    status, html = page(client, world["teacher"], dashboard_url(wave1[-1]))
    assert status == 200
    data = snapshot_of(wave1[-1])
    own = "class:" + world["classes"]["7A"].public_id
    groups = {r["group"] for r in parse(html).rows}
    assert groups == {own}
    for other in ("Class 7B", "Class 8A", "Whole school", "Year 7", "Gender: girl"):
        assert other not in html
    for section in ("components-h", "trends-h", "equity-h", "practices-h", "participation"):
        assert f'id="{section}"' not in html
    assert f"{data['participation']['enrolment']} enrolled" not in html


def test_the_teacher_cannot_pick_another_class_for_the_item_chart(client, world, wave1):
    other = "class:" + world["classes"]["7B"].public_id
    _, html = page(client, world["teacher"], dashboard_url(wave1[-1]) + f"?group={other}")
    assert "Class 7B" not in html


@pytest.mark.parametrize("persona", ["researcher", "other_leader"])
def test_other_roles_get_404(client, world, wave1, persona):
    status, _ = page(client, world[persona], dashboard_url(wave1[-1]))
    assert status == 404


def test_the_district_admin_sees_schools_side_by_side(client, world, wave1):
    url = f"/districts/{world['district'].public_id}/results/"
    status, html = page(client, world["district_admin"], url)
    assert status == 200
    data = snapshot_of(wave1[-1])
    school = next(g for g in data["groups"] if g["key"] == "school")
    assert "Hilltop" in html and wave1[-1].label in html
    assert school["components"]["motivations"]["display"] in html
    assert "No published results yet: Lakeside." in html
    assert 'data-school="' + world["other_school"].public_id not in html
    for persona in ("leader", "teacher", "researcher", "other_leader"):
        assert page(client, world[persona], url)[0] == 404


def test_each_role_finds_its_dashboards_on_the_results_page(client, world, wave1):
    for persona in ("leader", "teacher", "district_admin"):
        _, html = page(client, world[persona], "/results/")
        assert dashboard_url(wave1[-1]) in html
    for persona in ("researcher", "other_leader"):
        _, html = page(client, world[persona], "/results/")
        assert dashboard_url(wave1[-1]) not in html


def test_the_item_answers_can_be_shown_for_a_published_group_only(client, world, wave1):
    data = snapshot_of(wave1[-1])
    shown = next(g for g in data["groups"] if g["kind"] == "class" and not g["suppressed"])
    hidden = "class:" + world["classes"]["8A"].public_id
    _, html = page(client, world["leader"], dashboard_url(wave1[-1]) + f"?group={shown['key']}")
    assert f"Shares of answers for <strong>{shown['label']}</strong>" in html
    _, html = page(client, world["leader"], dashboard_url(wave1[-1]) + f"?group={hidden}")
    assert "Shares of answers for <strong>Whole school</strong>" in html


ITEM = {"key": "q1", "text": {"en": "I feel like I belong at school."}, "lo": 1, "hi": 4,
        "labels": {"en": ["Strongly disagree", "Disagree", "Agree", "Strongly agree"]},
        "reverse_keyed": False}


DOC = {"components": [{"key": "perceptions", "component": "perceptions", "validated": True,
                       "lo": 1, "hi": 4, "items": ["q1"]}], "items": [ITEM]}


def test_a_banded_share_is_listed_as_its_band_and_not_drawn():
    options = {"1": {"value": None, "display": "5% or less"}, "2": {"value": 20,
                                                                 "display": "20%"},
               "3": {"value": 45, "display": "45%"}, "4": None}
    group = {"key": "school", "suppressed": False,
             "items": {"q1": {"options": options, "favorable": {"display": "77%"}}}}
    dist = dashboards.item_distributions(DOC, group)
    shares = dist[0]["rows"][0]["shares"]
    assert [s["display"] for s in shares] == ["5% or less", "20%", "45%", None]
    chart = dashboards.chart_data([], None, dist)["items"][0]
    assert chart["shares"] == [[None], [20], [45], [None]]  # nothing drawn for 1 and 4
    assert chart["rest"] == [35]  # 1 and 4 together: 100 - 20 - 45
    assert dist[0]["has_rest"]  # the table gets the same number in its own column


def test_a_bar_with_every_share_drawn_or_none_shown_has_no_rest():
    every = {str(v): {"value": 25, "display": "25%"} for v in range(1, 5)}
    group = {"key": "school", "suppressed": False, "items": {"q1": {"options": every}}}
    assert dashboards.item_distributions(DOC, group)[0]["rows"][0]["rest"] is None
    group["items"]["q1"]["options"] = dict.fromkeys(every)
    dist = dashboards.item_distributions(DOC, group)
    assert dist[0]["rows"][0]["hidden"] and dist[0]["rows"][0]["rest"] is None
    assert not dist[0]["has_rest"]


def test_a_trend_point_is_hidden_where_a_wave_did_not_publish_the_group():
    def doc(label, cell):
        return {"wave": {"label": label, "season": "autumn"}, "groups": [
            {"key": "school", "suppressed": False, "components": {"perceptions": cell}}]}
    shown = {"value": 2.9, "display": "2.90", "ci95": 0.1, "n": 40, "favorable": 70}
    hidden = {"value": None, "display": None}
    rows = dashboards.trends([doc("A", shown), doc("B", hidden)], DOC["components"])
    first, second = rows[0]["points"]
    assert first["ci"] == [2.8, 3.0] and first["display"] == "2.90"
    assert second == {"wave": "B", "season": "autumn", "hidden": True}
    assert dashboards.chart_data(rows, None, [])["trends"][0]["values"] == [2.9, None]


def test_when_the_whole_school_is_hidden_no_gap_and_no_weakest_component_appear():
    school = {"key": "school", "suppressed": True, "reason": "fewer than 10 respondents"}
    group = {"key": "year:7", "suppressed": False, "caution": False, "components": {
        c["key"]: {"value": 3.0, "display": "3.00", "sd": 0.5, "n": 12} for c in COMPS}}
    view = dashboards.equity([school, group], school, COMPS)
    assert [r["cells"] for r in view["rows"]] == [[None] * 4]
    assert view["rows"][0]["hidden"]
    assert dashboards.weakest_component(school, COMPS) is None
    assert dashboards.participation({"participation": {"enrolment": 30,
                                                       "responses": None}}) is None
