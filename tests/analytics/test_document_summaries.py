"""Each published document keeps a summary beside it (analytics.models.summary_of):
what the district page and the trends read, so that they do not parse whole documents.
Documents published before the summaries came get theirs from the migration."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from analytics.models import Snapshot, SnapshotPart, summary_of

BEFORE = [("analytics", "0005_publishrun_wave_opened_at")]
AFTER = [("analytics", "0006_document_summaries")]

DOCUMENT = {
    "wave": {"label": "Autumn"}, "components": [{"key": "perceptions"}], "k": 10,
    "participation": {"responses": 40, "enrolment": 50},
    "groups": [{"key": "school", "n": 40, "items": {"q1": {"value": 3.1}}},
               {"key": "class:abc", "n": 20},
               {"key": "school:xyz", "n": 12}, {"key": "district", "n": 90}],
    "reliability": {"perceptions": {"alpha": 0.8}},
}


def test_a_summary_holds_the_top_level_groups_and_what_the_tables_read():
    assert summary_of(DOCUMENT) == {
        "wave": {"label": "Autumn"}, "components": [{"key": "perceptions"}],
        "participation": {"responses": 40, "enrolment": 50},
        "groups": [{"key": "school", "n": 40}, {"key": "district", "n": 90}]}
    assert summary_of({}) == {}


def test_a_part_and_a_snapshot_are_written_with_their_summary(world):
    wave = world["wave"]
    part = SnapshotPart.objects.create(wave=wave, school=world["school"], fingerprint="f",
                                       data=DOCUMENT, published={}, relations=[])
    snapshot = Snapshot.objects.create(wave=wave, version=1, data=DOCUMENT, fingerprint="s")
    for obj in (part, snapshot):
        obj.refresh_from_db()
        assert obj.summary == summary_of(DOCUMENT)


@pytest.mark.django_db(transaction=True)
def test_the_migration_summarises_the_documents_published_before_it(world):
    wave, school = world["wave"], world["school"]
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    old.get_model("analytics", "Snapshot").objects.create(
        wave_id=wave.pk, version=1, data=DOCUMENT, fingerprint="s")
    old.get_model("analytics", "SnapshotPart").objects.create(
        wave_id=wave.pk, school_id=school.pk, fingerprint="f", data=DOCUMENT,
        published={}, relations=[])
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER + executor.loader.graph.leaf_nodes("analytics"))
    assert Snapshot.objects.get(wave=wave).summary == summary_of(DOCUMENT)
    assert SnapshotPart.objects.get(wave=wave).summary == summary_of(DOCUMENT)
