"""A refused publication says which cell and which condition, and nothing the audit
worked out about the hidden cell: no narrowed range, no ruled-out sizes, no "everyone
gave the same answer". The leader reads the message; the audit event stores it."""

import re

import pytest

from analytics import disclosure
from analytics import snapshot as build
from analytics.audit_model import Finding
from analytics.models import PublishRun, Snapshot
from analytics.publishing import request_publish
from surveys.models import AuditEvent
from tests.analytics.dashboard_seed import closed_wave

REVEALING = re.compile(r"\d+(\.\d+)?%|\.\.|sizes |ruled out|everyone|nobody|pins it")


def primary_only(groups, relations, k, *, items=None, also=(), same=(), hidden=(),
                 specs=None, patience=None):
    """Suppression that hides the small cells and nothing next to them: the gate audit
    then finds real leaks, with real narrowed ranges in their details."""
    by = disclosure._check_input(groups, relations, k)
    specs = disclosure.measure_specs(groups, items) if specs is None else specs
    state = disclosure._State(by, relations, k, specs, set(), set())
    state.primary()
    return state.decision


def test_a_refused_publication_names_the_cell_but_not_what_leaks(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    found, real_audit = [], build.run_audit

    def keeps_findings(*args, **kwargs):
        out = real_audit(*args, **kwargs)
        found.extend(out)
        return out

    monkeypatch.setattr(build.disclosure, "suppress", primary_only)
    monkeypatch.setattr(build, "run_audit", keeps_findings)
    wave = closed_wave(world, {"7A": 24, "7B": 3, "8A": 22})
    with pytest.raises(build.DisclosureAuditFailed):
        with django_capture_on_commit_callbacks(execute=True):
            request_publish(wave, by=world["leader"])
    run = PublishRun.objects.get(wave=wave)
    event = AuditEvent.objects.get(action="wave.publish_failed", target=wave.public_id)
    assert found and not Snapshot.objects.filter(wave=wave).exists()
    assert any(REVEALING.search(f.detail) for f in found)  # the details do reveal
    for text in (run.error, event.detail["reason"]):
        assert text.startswith("The disclosure audit refused this snapshot: Hilltop: ")
        assert "(condition " in text  # which condition failed
        assert any(f.group in text for f in found)  # which cell
        assert not REVEALING.search(text), text
        assert not any(f.detail in text for f in found)


@pytest.mark.parametrize("finding", [
    Finding("class:a", "item:q1:pct_favorable", "value",
            "can be narrowed to 0%..12%, less than 20% wide (by school=(3 groups))", (0, .12)),
    Finding("class:a", None, "count", "sizes 7-9 are ruled out, so 'fewer than 10' is "
            "narrowed (by school=(3 groups))", (1, 6)),
    Finding("class:a", "item:q1:mean", "value", "everyone in it gave the same answer, and "
            "that can be worked out (by school=(3 groups))"),
    Finding("class:a", "item:q1:pct_favorable", "band", "shown as >95%, but what is "
            "published pins it to 97%..97%, so the band hides nothing", (.97, .97)),
])
def test_a_finding_as_text_names_cell_and_condition_only(finding):
    text = str(finding)
    assert "class:a" in text and f"(condition {finding.condition})" in text
    assert not REVEALING.search(text) and finding.detail not in text
    assert finding.detail in finding.explain()  # the whole story, for a console


def test_a_last_resort_note_keeps_the_leak_out():
    groups = [disclosure.Group("school", 30, {}), disclosure.Group("class:a", 30, {})]
    state = disclosure._State({g.key: g for g in groups}, [], 10, {}, set(), set())
    leak = Finding("class:b", None, "count", "sizes 7-9 are ruled out", (1, 6))
    assert state._fallback(leak)
    assert state.decision.notes and not any("ruled out" in n for n in state.decision.notes)
    assert "the size of class:b" in state.decision.notes[0]
