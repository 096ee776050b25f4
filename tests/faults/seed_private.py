"""Run as `python -m tests.faults.seed_private` with DATABASE_URL pointing at a private
cluster: migrates it and creates one open session of the pulse instrument; prints its
code, public id and item keys as JSON. Used by test_postgres_restart.py."""

import json
from datetime import date

import django


def main():
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from surveys import services
    from surveys.instruments import load_file
    from surveys.models import ClassGroup, District, School
    from tests.conftest import INSTRUMENTS

    call_command("migrate", verbosity=0, interactive=False)
    pulse = load_file(INSTRUMENTS / "belonging-pulse-1.0.yaml")
    user = get_user_model().objects.create_user("fault.leader")
    school = School.objects.create(district=District.objects.create(name="Fault"), name="Fault")
    series = services.create_series(school, by=user, name="Fault series", instrument=pulse,
                                    demographics=["gender"])
    wave = services.create_wave(series, by=user, label="Autumn", season="autumn",
                                starts_on=date.today())
    services.open_wave(wave, by=user)
    class_group = ClassGroup.objects.create(school=school, name="7F", year_level=7,
                                            enrolment=30)
    session = services.open_session(wave, class_group, by=user)
    keys = list(pulse.items.order_by("position").values_list("key", flat=True))
    print(json.dumps({"code": session.code, "session": session.public_id, "items": keys}))


if __name__ == "__main__":
    main()
