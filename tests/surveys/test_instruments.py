"""Instrument files: the shipped ones are valid and load; bad files are refused with
errors naming the file, the item and the field; a version a wave uses never changes."""

import copy
import shutil
from datetime import date
from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveys.instruments import (
    INSTRUMENTS_DIR,
    InstrumentError,
    check_directory,
    check_file,
    load_all,
    load_file,
    set_enabled,
    validate,
)
from surveys.models import MAX_ITEMS, AuditEvent, District, Instrument, School, Series, Wave

CORE = "belonging-core-1.0.yaml"
PULSE = "belonging-pulse-1.0.yaml"
PRIMARY = "belonging-primary-1.0.yaml"
COMPONENTS = {"perceptions", "competencies", "motivations", "opportunities"}


def shipped(name):
    return yaml.safe_load((INSTRUMENTS_DIR / name).read_text(encoding="utf-8"))


def write(directory, name, data):
    path = directory / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def errors_after(tmp_path, change, name=CORE):
    """The errors check_file reports for a shipped file after `change(data)`."""
    data = copy.deepcopy(shipped(name))
    change(data)
    return check_file(write(tmp_path, name, data))


def make_wave(instrument):
    district = District.objects.create(name="Riverside")
    school = School.objects.create(district=district, name="Hilltop")
    series = Series.objects.create(school=school, name="Belonging 2026", instrument=instrument)
    return Wave.objects.create(
        series=series, label="Autumn 2026", season="autumn", starts_on=date(2026, 9, 15)
    )


# --- the shipped files ------------------------------------------------------------


def test_the_shipped_instrument_files_are_valid():
    assert check_directory(INSTRUMENTS_DIR) == []
    assert {p.name for p in INSTRUMENTS_DIR.glob("*.yaml")} == {CORE, PULSE, PRIMARY}


@pytest.mark.django_db
def test_the_shipped_instruments_load_with_their_items_in_file_order():
    loaded = {i.key: i for i in load_all()}
    counts = {key: instrument.items.count() for key, instrument in loaded.items()}
    assert counts == {"belonging-core": 17, "belonging-pulse": 6, "belonging-primary": 10}
    for name in (CORE, PULSE, PRIMARY):
        data = shipped(name)
        instrument = loaded[data["id"]]
        items = list(instrument.items.order_by("position"))
        assert [i.key for i in items] == [i["key"] for i in data["items"]]
        assert [i.position for i in items] == list(range(1, len(items) + 1))
        assert instrument.definition == data and len(instrument.checksum) == 64
        assert instrument.title == data["title"] and instrument.enabled


@pytest.mark.django_db
def test_the_core_instrument_covers_each_component_with_one_whole_scale():
    instrument = load_file(INSTRUMENTS_DIR / CORE)
    items = list(instrument.items.all())
    assert len(items) <= 20
    expected = {
        "PISA2018.ST034": ("perceptions", 6),
        "PISA2018.ST100": ("opportunities", 4),
        "PISA2018.ST216": ("competencies", 4),
        "WC2007.BU": ("motivations", 3),
    }
    for prefix, (component, count) in expected.items():
        group = [i for i in items if i.key.startswith(prefix)]
        assert len(group) == count
        assert {i.component for i in group} == {component}
        assert len({i.subscale for i in group}) == 1
    assert {i.component for i in items} == COMPONENTS
    assert all(i.validated for i in items)


@pytest.mark.django_db
def test_core_items_are_keyed_so_that_higher_means_more_belonging():
    instrument = load_file(INSTRUMENTS_DIR / CORE)
    reversed_keys = {i.key for i in instrument.items.filter(reverse_keyed=True)}
    # ST034's negative statements, and the two belonging-uncertainty items whose
    # agreement means uncertainty. BU3 is "reverse-scored" on the uncertainty scale
    # in the source, so toward belonging it is not reversed.
    assert reversed_keys == {
        "PISA2018.ST034Q01TA",
        "PISA2018.ST034Q04TA",
        "PISA2018.ST034Q06TA",
        "WC2007.BU1",
        "WC2007.BU2",
    }


def test_core_adaptations_and_unverified_response_labels_are_recorded():
    data = shipped(CORE)
    scales = data["scales"]
    assert {name: s["labels_verified"] for name, s in scales.items()} == {
        "agree4": True,
        "agree7": True,
        "freq4": False,
        "like5": False,
    }
    bu = [i for i in data["items"] if i["key"].startswith("WC2007.")]
    assert all("at school" in i["text"]["en"] for i in bu)
    assert all("[school or organization name]" in i["provenance"]["adaptation"] for i in bu)
    assert all("doi:10.1037/0022-3514.92.1.82" in i["provenance"]["citation"] for i in bu)


@pytest.mark.django_db
def test_the_primary_instrument_is_pictorial_read_aloud_and_marked_not_validated():
    instrument = load_file(INSTRUMENTS_DIR / PRIMARY)
    presentation = instrument.definition["presentation"]
    assert presentation["pictorial"] and presentation["read_aloud_default"]
    assert presentation["faces"] == ["sad", "ok", "happy"]
    assert instrument.definition["age_range"] == [5, 10]
    items = list(instrument.items.all())
    assert {i.component for i in items} == COMPONENTS
    assert not any(i.validated or i.reverse_keyed for i in items)
    for item in items:
        assert "written by the belonging project; not validated" in (
            item.provenance["citation"].lower()
        )
        assert item.provenance["scale_validated"] is False


def test_every_item_has_english_and_spanish_text_and_says_how_spanish_was_made():
    for name in (CORE, PULSE, PRIMARY):
        data = shipped(name)
        assert data["languages"] == ["en", "es"]
        for item in data["items"]:
            assert item["text"]["en"].strip() and item["text"]["es"].strip()
            assert item["provenance"]["translation"] == {"es": "project"}


# --- malformed files ---------------------------------------------------------------


def test_a_bad_component_names_file_item_and_field(tmp_path):
    def change(data):
        data["items"][0]["component"] = "belongingness"

    assert errors_after(tmp_path, change) == [
        "belonging-core-1.0.yaml: item PISA2018.ST034Q01TA: field 'component': "
        "'belongingness' is not one of perceptions, competencies, motivations, opportunities"
    ]


def _too_many_items(data):
    first = data["items"][0]
    data["items"] = [dict(first, key=f"X.{n}") for n in range(MAX_ITEMS + 1)]


def _duplicate_key(data):
    data["items"][2]["key"] = data["items"][0]["key"]


BAD_FILES = [
    # (what is wrong, change, expected error)
    (
        "missing Spanish text",
        lambda d: d["items"][2]["text"].pop("es"),
        "item PISA2018.ST034Q03TA: field 'text': has no 'es' text",
    ),
    (
        "favorable out of range",
        lambda d: d["scales"]["agree4"].update(favorable=[3, 5]),
        "scale agree4: field 'favorable': 5 is outside the scale's range 1..4",
    ),
    (
        "duplicate key",
        _duplicate_key,
        "item PISA2018.ST034Q01TA: field 'key': duplicates the key of item #1",
    ),
    (
        "too many items",
        _too_many_items,
        f"field 'items': has {MAX_ITEMS + 1} items; at most {MAX_ITEMS} fit",
    ),
    (
        "points inconsistent with min and max",
        lambda d: d["scales"]["freq4"].update(points=5),
        "scale freq4: field 'points': 5 does not fit min 1 and max 4",
    ),
    (
        "a label missing",
        lambda d: d["scales"]["agree7"]["labels"]["es"].pop(),
        "scale agree7: field 'labels.es': must list 7 labels, one per point",
    ),
    (
        "a string where a boolean belongs",
        lambda d: d["items"][6].update(reverse_keyed="no"),
        "item PISA2018.ST100Q01TA: field 'reverse_keyed': must be true or false, not 'no'",
    ),
    (
        "an unknown scale",
        lambda d: d["items"][16].update(scale="agree5"),
        "item WC2007.BU3: field 'scale': 'agree5' is not one of the file's scales",
    ),
    (
        "a misspelt optional field",
        lambda d: d["items"][16].update(validate=False),
        "item WC2007.BU3: field 'validate': is not a known field",
    ),
    (
        "a missing provenance field",
        lambda d: d["items"][16].update(provenance={"citation": "x"}),
        "item WC2007.BU3: field 'provenance.wording_verified': is missing",
    ),
    (
        "unverified wording claimed as validated",
        lambda d: d["items"][16].update(
            provenance=dict(d["items"][16]["provenance"], wording_verified=False)
        ),
        "item WC2007.BU3: field 'validated': provenance.wording_verified is false",
    ),
    (
        "a project item mixed into a validated component",
        lambda d: d["items"][16].update(validated=False),
        "item WC2007.BU3: field 'validated': component 'motivations' mixes validated",
    ),
    (
        "an unquoted version",
        lambda d: d.update(version=1.0),
        "field 'version': must be a quoted string",
    ),
    (
        "a translation without its kind",
        lambda d: d["items"][16].update(
            provenance=dict(d["items"][16]["provenance"], translation={})
        ),
        "item WC2007.BU3: field 'provenance.translation': es: None is not one of official",
    ),
]


@pytest.mark.parametrize("what, change, expected", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_malformed_files_produce_errors_naming_file_item_and_field(
    tmp_path, what, change, expected
):
    errors = errors_after(tmp_path, change)
    assert errors, what
    assert any(e.startswith(f"{CORE}: ") and expected in e for e in errors), errors


def test_a_pictorial_instrument_needs_one_face_per_scale_point(tmp_path):
    def fewer_faces(data):
        data["presentation"]["faces"] = ["sad", "happy"]

    assert errors_after(tmp_path, fewer_faces, PRIMARY) == [
        f"{PRIMARY}: scale faces3: field 'points': 3 points but presentation.faces has 2 faces"
    ]


def test_a_file_must_be_named_after_its_id_and_version(tmp_path):
    path = write(tmp_path, "core.yaml", shipped(CORE))
    assert check_file(path) == [
        "core.yaml: field 'id': the file must be named belonging-core-1.0.yaml "
        "(<id>-<version>.yaml), so each version has exactly one file"
    ]


def test_a_duplicate_yaml_key_is_refused_rather_than_silently_dropped(tmp_path):
    text = (INSTRUMENTS_DIR / PULSE).read_text(encoding="utf-8")
    text = text.replace("    reverse_keyed: false\n", "    reverse_keyed: false\n    scale: x\n", 1)
    (tmp_path / PULSE).write_text(text, encoding="utf-8")
    [error] = check_file(tmp_path / PULSE)
    assert error.startswith(f"{PULSE}: is not valid YAML: ") and "duplicate key 'scale'" in error


def test_validate_reports_a_document_that_is_not_a_mapping():
    assert validate(["a", "list"], "x.yaml") == ["x.yaml: must be a mapping of instrument fields"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text() | st.integers() | st.sampled_from(["en", "es", "fr"]), inner)
    ),
    max_leaves=6,
)
DELETE = object()


def all_paths(node, prefix=()):
    """Every key/index path in a parsed file, parents before children."""
    children = node.items() if isinstance(node, dict) else enumerate(node)
    for step, child in children:
        yield (*prefix, step)
        if isinstance(child, dict | list):
            yield from all_paths(child, (*prefix, step))


FUZZ_FILES = {name: shipped(name) for name in (CORE, PRIMARY)}
FUZZ_PATHS = [(name, path) for name, data in FUZZ_FILES.items() for path in all_paths(data)]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(where=st.sampled_from(FUZZ_PATHS), value=JSON_VALUES | st.just(DELETE))
def test_any_wrong_or_missing_value_gives_errors_never_a_crash(where, value):
    name, path = where
    data = copy.deepcopy(FUZZ_FILES[name])
    target = data
    for step in path[:-1]:
        target = target[step]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    errors = validate(data, name)
    assert all(isinstance(e, str) and e.startswith(f"{name}: ") for e in errors)


# --- loading and reloading -----------------------------------------------------------


@pytest.fixture
def pulse_copy(tmp_path):
    shutil.copy(INSTRUMENTS_DIR / PULSE, tmp_path / PULSE)
    return tmp_path / PULSE


def retitle(path, title):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["title"]["en"] = title
    write(path.parent, path.name, data)


@pytest.mark.django_db
def test_reloading_the_same_file_changes_nothing(pulse_copy):
    first = load_file(pulse_copy)
    item_ids = list(first.items.values_list("id", flat=True))
    # A comment is not part of the definition, so editing one is no change either.
    pulse_copy.write_text("# a new comment\n" + pulse_copy.read_text(encoding="utf-8"))
    again = load_file(pulse_copy)
    assert (again.pk, again.checksum, again.load_status) == (first.pk, first.checksum, "unchanged")
    assert list(again.items.values_list("id", flat=True)) == item_ids
    assert Instrument.objects.count() == 1


@pytest.mark.django_db
def test_changing_a_version_that_a_wave_uses_is_refused_even_with_force(pulse_copy):
    instrument = load_file(pulse_copy)
    make_wave(instrument)
    retitle(pulse_copy, "Renamed pulse")
    for force in (False, True):
        with pytest.raises(InstrumentError) as refused:
            load_file(pulse_copy, force=force)
        assert refused.value.errors == [
            f"{PULSE}: version 1.0 of belonging-pulse is used by a wave; create a new "
            "version (a new file with a new `version`) instead of editing this one"
        ]
    instrument.refresh_from_db()
    assert instrument.title["en"] == "Belonging pulse"


@pytest.mark.django_db
def test_a_changed_version_no_wave_uses_is_replaced_only_with_force(pulse_copy):
    instrument = load_file(pulse_copy)
    set_enabled("belonging-pulse", "1.0", False)
    retitle(pulse_copy, "Renamed pulse")
    with pytest.raises(InstrumentError, match="pass --force to replace it"):
        load_file(pulse_copy)
    replaced = load_file(pulse_copy, force=True)
    assert (replaced.pk, replaced.load_status) == (instrument.pk, "replaced")
    replaced.refresh_from_db()
    assert replaced.title["en"] == "Renamed pulse" and replaced.checksum != instrument.checksum
    assert replaced.items.count() == 6
    assert replaced.enabled is False  # replacing never switches an instrument back on
    assert AuditEvent.objects.filter(action="instrument.replaced").count() == 1


@pytest.mark.django_db
def test_the_enable_switch_survives_reloading(pulse_copy):
    load_file(pulse_copy)
    set_enabled("belonging-pulse", "1.0", False)
    assert load_file(pulse_copy).enabled is False
    set_enabled("belonging-pulse", "1.0", True)
    assert load_file(pulse_copy).enabled is True
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["instrument.disabled", "instrument.enabled"]


@pytest.mark.django_db
def test_switching_an_instrument_that_is_not_loaded_is_an_error():
    with pytest.raises(InstrumentError, match="no instrument nope version 9.9 is loaded"):
        set_enabled("nope", "9.9", False)


# --- the management command ----------------------------------------------------------


@pytest.fixture
def instrument_dir(tmp_path):
    directory = tmp_path / "instruments"
    shutil.copytree(INSTRUMENTS_DIR, directory)
    return directory


@pytest.mark.django_db
def test_the_command_loads_every_file_and_reports_each(instrument_dir):
    out = StringIO()
    call_command("load_instruments", directory=instrument_dir, stdout=out)
    assert "belonging-core v1.0: created (17 items)" in out.getvalue()
    assert Instrument.objects.count() == 3
    out = StringIO()
    call_command("load_instruments", directory=instrument_dir, stdout=out)
    assert out.getvalue().count(": unchanged") == 3


@pytest.mark.django_db
@pytest.mark.parametrize("check", [False, True])
def test_the_command_exits_non_zero_on_a_bad_directory_and_loads_nothing(instrument_dir, check):
    data = shipped(PRIMARY)
    data["items"][0]["component"] = "belongingness"
    write(instrument_dir, PRIMARY, data)
    err = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("load_instruments", directory=instrument_dir, check=check, stderr=err)
    assert failed.value.returncode == 1
    assert str(failed.value) == "1 error(s); nothing was loaded"
    assert f"{PRIMARY}: item BELONGING.PRIMARY.PER1: field 'component'" in err.getvalue()
    assert Instrument.objects.count() == 0


@pytest.mark.django_db
def test_the_command_refuses_a_missing_or_empty_directory(tmp_path):
    for directory in (tmp_path / "missing", tmp_path):
        with pytest.raises(CommandError):
            call_command("load_instruments", directory=directory, stderr=StringIO())


@pytest.mark.django_db
def test_check_validates_without_touching_the_database(instrument_dir):
    out = StringIO()
    call_command("load_instruments", "--check", directory=instrument_dir, stdout=out)
    assert "3 instrument files are valid" in out.getvalue()
    assert Instrument.objects.count() == 0


@pytest.mark.django_db
def test_the_command_disables_and_enables_an_instrument(instrument_dir):
    call_command("load_instruments", directory=instrument_dir, stdout=StringIO())
    call_command("load_instruments", "--disable", "belonging-core", "1.0", stdout=StringIO())
    call_command("load_instruments", directory=instrument_dir, stdout=StringIO())
    assert Instrument.objects.get(key="belonging-core").enabled is False
    call_command("load_instruments", "--enable", "belonging-core", "1.0", stdout=StringIO())
    assert Instrument.objects.get(key="belonging-core").enabled is True
    with pytest.raises(CommandError):
        call_command("load_instruments", "--disable", "belonging-core", "7.0", stderr=StringIO())
