"""Agreements: who may grant what, the checks on their terms, what they let an
exporter read, who sees and manages them, and revocation. Checks that need the world
changed (the district's k, other waves, a linked series): test_changed_world."""

from datetime import timedelta

import pytest
from django.http import Http404

from research import services as research
from research.models import Agreement
from surveys import access
from surveys.models import AuditEvent
from surveys.services import ServiceError
from tests.research.conftest import make_agreement, today


@pytest.fixture
def world(published_copy):
    """The world and wave published once for this module (its tests only read them):
    tests/research/conftest.published_once."""
    return published_copy[0]


@pytest.fixture
def published(published_copy):
    return published_copy[1]


def test_a_leader_grants_an_agreement_for_their_school_and_it_is_audited(world, published):
    agreement = make_agreement(world, [published], k=12)
    assert agreement.researcher == world["researcher"]
    assert agreement.granted_by == world["leader"]
    assert agreement.district == world["district"]
    assert list(agreement.schools.all()) == [world["school"]]
    assert agreement.is_active
    event = AuditEvent.objects.get(action="agreement.created")
    assert event.actor == world["leader"] and event.target == agreement.public_id
    assert event.detail["waves"] == [published.public_id]
    assert event.detail["k"] == 12


def test_scope_lists_published_waves_schools_and_k(world, published):
    agreement = make_agreement(world, [published], k=11)
    scope = agreement.scope()
    assert scope.agreement_id == agreement.public_id
    assert scope.wave_ids == (published.id,)
    assert scope.school_ids == (world["school"].id,)
    assert scope.k == 11
    assert scope.include_pseudonyms is False


def test_a_leader_cannot_grant_another_schools_data(world, published):
    with pytest.raises(ServiceError, match="You may not grant access to Lakeside"):
        research.create_agreement(
            by=world["leader"], researcher=world["researcher"],
            schools=[world["school"], world["other_school"]], waves=[published],
            purpose="x", starts_on=today(), expires_on=today() + timedelta(days=30), k=10)
    assert not Agreement.objects.exists()


def test_a_district_admin_grants_across_the_districts_schools(world, published):
    agreement = research.create_agreement(
        by=world["district_admin"], researcher=world["researcher"],
        schools=[world["school"], world["other_school"]], waves=[published],
        purpose="District study", starts_on=today(), expires_on=today() + timedelta(days=30),
        k=10)
    assert set(agreement.schools.all()) == {world["school"], world["other_school"]}


@pytest.mark.parametrize("terms, message", [
    (lambda: {"expires_on": today() - timedelta(days=1)}, "expiry date must be in the future"),
    (lambda: {"expires_on": today()}, "The expiry date must be in the future"),
    (lambda: {"starts_on": today() + timedelta(days=400)}, "must start before it expires"),
    (lambda: {"k": 9}, "k cannot be below 10"),
    (lambda: {"k": 4}, "k must be between 5 and 30"),
    (lambda: {"k": 31}, "k must be between 5 and 30"),
    (lambda: {"include_pseudonyms": True}, "only for waves of a linked series"),
    (lambda: {"purpose": "  "}, "State the purpose"),
])
def test_bad_terms_are_refused_with_a_clear_message(world, published, terms, message):
    with pytest.raises(ServiceError, match=message):
        make_agreement(world, [published], **terms())
    assert not Agreement.objects.exists()


def test_the_researcher_must_hold_the_researcher_role(world, published):
    with pytest.raises(ServiceError, match="teacher does not hold the researcher role"):
        make_agreement(world, [published], researcher=world["teacher"])


def test_who_sees_and_who_manages_agreements(world, published):
    own = make_agreement(world, [published])
    district_wide = research.create_agreement(
        by=world["district_admin"], researcher=world["researcher"],
        schools=[world["school"], world["other_school"]], waves=[published],
        purpose="District study", starts_on=today(), expires_on=today() + timedelta(days=30),
        k=10)
    leader, admin, other = world["leader"], world["district_admin"], world["other_leader"]
    assert set(access.agreements_for_manager(leader)) == {own, district_wide}
    assert set(access.agreements_for_manager(admin)) == {own, district_wide}
    assert list(access.agreements_for_manager(other)) == [district_wide]
    assert list(access.agreements_for_manager(world["teacher"])) == []
    assert access.get_agreement_for_manager(leader, own.public_id) == own
    assert access.get_agreement_for_manager(admin, district_wide.public_id) == district_wide
    for user, agreement in [(leader, district_wide), (other, own), (other, district_wide),
                            (world["teacher"], own), (world["researcher"], own)]:
        with pytest.raises(Http404):
            access.get_agreement_for_manager(user, agreement.public_id)


def test_a_researcher_reaches_only_their_own_agreements(world, agreement, other_researcher):
    assert access.get_agreement_for_researcher(world["researcher"], agreement.public_id)
    for user in (other_researcher, world["leader"], world["district_admin"]):
        with pytest.raises(Http404):
            access.get_agreement_for_researcher(user, agreement.public_id)
    with pytest.raises(Http404):
        research.researcher_agreement(other_researcher, agreement.public_id)
    refused = AuditEvent.objects.get(action="export.refused")
    assert refused.actor == other_researcher and refused.target == agreement.public_id


def test_revoking_ends_the_agreement_once(world, agreement):
    research.revoke_agreement(agreement, by=world["district_admin"])
    agreement.refresh_from_db()
    assert agreement.revoked_at is not None and agreement.revoked_by == world["district_admin"]
    assert not agreement.is_active
    assert "revoked" in agreement.inactive_reason()
    assert AuditEvent.objects.filter(action="agreement.revoked",
                                     target=agreement.public_id).count() == 1
    with pytest.raises(ServiceError, match="already revoked"):
        research.revoke_agreement(agreement, by=world["leader"])


def test_expired_and_not_yet_started_agreements_are_inactive(world, agreement):
    Agreement.objects.filter(pk=agreement.pk).update(expires_on=today() - timedelta(days=1))
    agreement.refresh_from_db()
    assert agreement.inactive_reason() == f"This agreement expired on {agreement.expires_on}."
    Agreement.objects.filter(pk=agreement.pk).update(
        starts_on=today() + timedelta(days=2), expires_on=today() + timedelta(days=9))
    agreement.refresh_from_db()
    assert agreement.inactive_reason().startswith("This agreement starts on")
