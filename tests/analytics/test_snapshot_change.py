"""A published wave reports change against the previous published wave of its series,
with its confidence interval, the minimum detectable change and a season caution;
leaders see each item's source, wording check and translation provenance."""

import uuid
from datetime import date

import numpy as np

from analytics.publishing import publish
from surveys import services
from surveys.models import Response


def field(world, label, season, starts_on, shift, rng):
    leader = world["leader"]
    wave = services.create_wave(world["series"], by=leader, label=label, season=season,
                                starts_on=starts_on)
    services.open_wave(wave, by=leader)
    rows = []
    for name in ("7A", "7B", "8A"):
        session = services.open_session(wave, world["classes"][name], by=leader)
        for _ in range(25):
            base = np.clip(np.round(rng.normal(2.6 + shift, 0.8, 6)), 1, 4).astype(int)
            keyed = [5 - v if j in (0, 3, 5) else v for j, v in enumerate(base)]
            rows.append(Response(
                client_id=uuid.uuid4(), wave=wave, session=session,
                class_group=session.class_group, school=world["school"],
                year_level=session.class_group.year_level, gender="girl",
                **{f"v{j + 1:02d}": int(v) for j, v in enumerate(keyed)}))
    Response.objects.bulk_create(rows)
    services.close_wave(wave, by=leader)
    return publish(wave.id)


def test_the_second_wave_reports_change_with_its_uncertainty(world):
    rng = np.random.default_rng(7)
    first = field(world, "Autumn", "autumn", date(2025, 10, 1), 0.0, rng)
    second = field(world, "Spring", "spring", date(2026, 3, 1), 0.6, rng)
    assert first.data["change"] is None
    change = second.data["change"]
    assert change["from"] == "Autumn"
    assert "season" in change["caution"]
    school = change["groups"]["school"]["perceptions"]
    assert school["ci"][0] < school["diff"] < school["ci"][1]
    assert school["diff"] > 0 and school["detectable"] is True
    assert school["mdc95"] is not None and school["mdc95"] > 0
    whole = next(g for g in second.data["groups"] if g["key"] == "school")
    assert whole["components"]["perceptions"]["excluded_percent"] == 0  # nobody skipped


def test_the_dashboard_shows_item_provenance_to_leaders(client, world):
    snapshot = field(world, "Autumn", "autumn", date(2025, 10, 1), 0.0,
                     np.random.default_rng(3))
    client.force_login(world["leader"])
    page = client.get(f"/waves/{snapshot.wave.public_id}/dashboard/").content.decode()
    assert "About the questions" in page
    assert "I feel lonely at school." in page
    assert "OECD (2019)" in page  # the citation
    assert "<td>project</td>" in page  # the Spanish translation is the project's own


def test_a_band_no_suppression_can_protect_is_dropped_not_published(world, monkeypatch):
    from analytics import disclosure

    real = disclosure.suppress

    def refuses_gender(groups, relations, k, **kw):
        if any(g.key.startswith("gender:") for g in groups):
            raise RuntimeError("cannot make the publication safe")
        return real(groups, relations, k, **kw)

    monkeypatch.setattr(disclosure, "suppress", refuses_gender)
    snapshot = field(world, "Autumn", "autumn", date(2025, 10, 1), 0.0,
                     np.random.default_rng(5))
    assert snapshot.data["dropped_breakdowns"] == ["gender"]
    assert not any("gender" in g["key"] for g in snapshot.data["groups"])
    assert any(g["key"] == "school" for g in snapshot.data["groups"])
