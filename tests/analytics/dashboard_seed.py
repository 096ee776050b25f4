"""Published waves for the dashboard tests: the core instrument (all four components)
at Hilltop, classes 7A (26 answers), 7B (24) and 8A (4, so suppressed), drawn from the
stated simulator, published through the real pipeline (suppression and audit)."""

import uuid
from datetime import date

import numpy as np

from analytics.models import SnapshotPart
from analytics.publishing import publish
from analytics.scoring import ItemSpec
from analytics.simulate import simulate_wave
from surveys import services
from surveys.instruments import load_file
from surveys.models import Response, Wave
from tests.conftest import INSTRUMENTS

WAVES = [("Spring 2026", "spring", date(2026, 3, 16), 0.0),
         ("Autumn 2026", "autumn", date(2026, 10, 5), 0.3)]
SIZES = {"7A": 26, "7B": 24, "8A": 4}


def item_specs(instrument):
    specs = []
    for item in instrument.items.all():
        scale = instrument.scales[item.scale]
        specs.append(ItemSpec(item.key, item.component, scale["min"], scale["max"],
                              item.reverse_keyed, tuple(scale["favorable"]), item.validated))
    return specs


def answer(wave, world, rng, shift, sizes=SIZES):
    specs = item_specs(wave.series.instrument)
    rows = []
    for name, n in sizes.items():
        cg = world["classes"][name]
        session = services.open_session(wave, cg, by=world["leader"])
        matrix = simulate_wave(specs, n, rng=rng, latent_shift=shift)
        for i, values in enumerate(matrix):
            answers = {f"v{j + 1:02d}": None if np.isnan(v) else int(v)
                       for j, v in enumerate(values)}
            rows.append(Response(client_id=uuid.uuid4(), wave=wave, session=session,
                                 class_group=cg, school=world["school"],
                                 year_level=cg.year_level,
                                 gender="girl" if i % 2 else "boy", **answers))
        services.close_session(session, by=world["leader"])
    Response.objects.bulk_create(rows)


def publish_core_waves(world, count=2, seed=11):
    """A core-instrument series at Hilltop with `count` published waves."""
    core = load_file(INSTRUMENTS / "belonging-core-1.0.yaml")
    leader = world["leader"]
    series = services.create_series(world["school"], by=leader, name="Core 2026",
                                    instrument=core, demographics=["gender"],
                                    min_cell_size=10)
    rng = np.random.default_rng(seed)
    waves = []
    for label, season, starts_on, shift in WAVES[:count]:
        wave = services.create_wave(series, by=leader, label=label, season=season,
                                    starts_on=starts_on)
        wave = services.open_wave(wave, by=leader)
        answer(wave, world, rng, shift)
        services.close_wave(wave, by=leader)
        publish(wave.id)
        wave.refresh_from_db()
        waves.append(wave)
    return waves


def publish_district_wave(world, seed=5):
    """A district-wide pulse wave over Hilltop (7A 24, 7B 22, 8A 3) and Lakeside (9Z 25),
    published: one part per school and the district level."""
    from surveys.models import School

    admin, district = world["district_admin"], world["district"]
    series = services.create_series(None, district=district, by=admin, name="District pulse",
                                    instrument=world["instrument"], demographics=["gender"])
    wave = services.create_wave(series, by=admin, label="Autumn 2026", season="autumn",
                                starts_on=date(2026, 10, 1))
    wave = services.open_wave(wave, by=admin)
    rng = np.random.default_rng(seed)
    specs = item_specs(series.instrument)
    sizes = {world["classes"]["7A"]: 24, world["classes"]["7B"]: 22,
             world["classes"]["8A"]: 3, world["other_class"]: 25}
    rows = []
    for cg, n in sizes.items():
        session = services.open_session(wave, cg, by=admin)
        for i, values in enumerate(simulate_wave(specs, n, rng=rng, latent_shift=0.1)):
            rows.append(Response(client_id=uuid.uuid4(), wave=wave, session=session,
                                 class_group=cg, school=cg.school, year_level=cg.year_level,
                                 gender="girl" if i % 2 else "boy",
                                 **{f"v{j + 1:02d}": None if np.isnan(v) else int(v)
                                    for j, v in enumerate(values)}))
    Response.objects.bulk_create(rows)
    services.close_wave(wave, by=admin)
    publish(wave.id)
    wave.refresh_from_db()
    assert School.objects.filter(district=district).count() == 2
    return wave


def closed_alike_district_wave(world):
    """A closed district-wide pulse wave over Hilltop's 7A and Lakeside's 9Z, 20
    students each, all answering every item in the same few patterns: a district of
    two single-class schools (tests/test_worker.py, tests/analytics/test_district_publish.py)."""
    admin = world["district_admin"]
    series = services.create_series(None, district=world["district"], by=admin,
                                    name="District pulse", instrument=world["instrument"])
    wave = services.create_wave(series, by=admin, label="Autumn", season="autumn",
                                starts_on=date(2026, 10, 1))
    services.open_wave(wave, by=admin)
    rows = []
    for cg, year in ((world["classes"]["7A"], 7), (world["other_class"], 9)):
        session = services.open_session(wave, cg, by=admin)
        rows += [Response(client_id=uuid.uuid4(), wave=wave, session=session, class_group=cg,
                          school=cg.school, year_level=year, v01=1 + i % 4, v02=2 + i % 3,
                          v03=3, v04=1 + i % 2, v05=3, v06=1 + (i * 7) % 4) for i in range(20)]
    Response.objects.bulk_create(rows)
    services.close_wave(wave, by=admin)
    return wave


def closed_wave(world, sizes, seed=11):
    """Hilltop's pulse wave answered by `sizes` ({class name: students}) and closed."""
    wave = world["wave"]
    services.open_wave(wave, by=world["leader"])
    answer(wave, world, np.random.default_rng(seed), 0.0, sizes)
    services.close_wave(wave, by=world["leader"])
    return wave


def closed_district_series(world):
    """(series, wave): a district-wide series and its wave "Autumn", closed and with no
    answers, for tests of its publish runs and the pages that show them."""
    admin = world["district_admin"]
    series = services.create_series(None, district=world["district"], by=admin,
                                    name="District pulse", instrument=world["instrument"],
                                    demographics=[])
    wave = services.create_wave(series, by=admin, label="Autumn", season="autumn",
                                starts_on=date(2026, 10, 1))
    Wave.objects.filter(pk=wave.pk).update(status=Wave.Status.CLOSED)
    return series, wave


def stored_part(wave, school, fingerprint, **seconds):
    """A stored part of `school` whose report says its steps took `seconds`: what the
    next run's queue and progress read (analytics.publishing.part_seconds)."""
    return SnapshotPart.objects.create(wave=wave, school=school, fingerprint=fingerprint,
                                       data={}, published={}, relations=[],
                                       audit={"seconds": seconds, "small": []})
