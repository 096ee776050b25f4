"""Helpers shared by the retention and erasure tests: waves with stored responses."""

import uuid
from datetime import date

from surveys import services
from surveys.models import Response
from surveys.pseudonyms import series_pseudonym


def fill(wave, class_group, n, *, by, numbers=None, offset=0):
    """Store n responses in one session of the wave (linked: one per student number)."""
    session = services.open_session(wave, class_group, by=by)
    series = wave.series
    rows = []
    for i in range(n):
        pseudonym = series_pseudonym(series, numbers[i]) if numbers else None
        rows.append(Response(
            client_id=uuid.uuid4(), wave=wave, session=session, class_group=class_group,
            school=class_group.school, year_level=class_group.year_level,
            gender="girl" if (i + offset) % 2 else "boy", pseudonym=pseudonym,
            v01=1 + (i + offset) % 4, v02=2 + (i % 2), v03=3, v04=1 + (i * 3) % 4, v05=3,
            v06=1 + (i * 7 + offset) % 4))
    Response.objects.bulk_create(rows)
    return session


def linked_series(world, name="Linked 2026"):
    return services.create_series(world["school"], by=world["leader"], name=name,
                                  instrument=world["instrument"], mode="linked",
                                  demographics=["gender"], min_cell_size=10)


def closed_wave(series, leader, classes, n, *, label="Autumn", starts_on=date(2026, 9, 15),
                numbers=None):
    """A wave opened, answered by n students in each class, and closed."""
    wave = services.create_wave(series, by=leader, label=label, season="autumn",
                                starts_on=starts_on)
    services.open_wave(wave, by=leader)
    for i, class_group in enumerate(classes):
        fill(wave, class_group, n, by=leader, offset=i,
             numbers=[f"{class_group.name}-{j:03d}" for j in range(n)] if numbers else None)
    services.close_wave(wave, by=leader)
    return wave
