"""Instrument files: reading, validation and loading.

An instrument is a YAML file in surveys/instruments/ named <id>-<version>.yaml;
docs/instruments.md describes every field. `validate` (its checks in
`surveys.instrument_schema`) checks a parsed file and returns every problem at once,
each naming the file, the item and the field, so an author can fix a file in one
pass. `load_file` and `load_all` store valid
files as Instrument and Item rows. A version that a wave has used never changes.

(The YAML files live in the directory surveys/instruments/, which has no
__init__.py, so `import surveys.instruments` finds this module, not the folder.)
"""

import hashlib
from pathlib import Path

import yaml
from django.db import transaction

from surveys.instrument_schema import canonical_json, validate
from surveys.models import AuditEvent, Instrument, Item, Wave

INSTRUMENTS_DIR = Path(__file__).resolve().parent / "instruments"
FILE_SUFFIXES = (".yaml", ".yml")


class InstrumentError(Exception):
    """Invalid instrument files or a refused load; `errors` holds one line per problem."""

    def __init__(self, *errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))



class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys.

    PyYAML silently keeps the last of two equal keys, so a second `text:` in an
    item would quietly replace the first.
    """

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool):
                continue  # unhashable keys: SafeLoader reports them itself
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def read_file(path):
    """(parsed data, errors) for one file; data is None when it cannot be parsed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        # _StrictLoader is a SafeLoader: files cannot build Python objects.
        return yaml.load(text, Loader=_StrictLoader), []
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{path.name}: cannot be read: {exc}"]
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        return None, [f"{path.name}: is not valid YAML: {detail}"]


def check_file(path):
    """Every problem in one instrument file, including its name (<id>-<version>.yaml)."""
    return _read_checked(Path(path))[1]


def _read_checked(path):
    data, errors = read_file(path)
    if errors:
        return None, errors
    errors = validate(data, path.name)
    expected = "" if errors else f"{data['id']}-{data['version']}.yaml"
    if expected and path.name != expected:
        errors.append(
            f"{path.name}: field 'id': the file must be named {expected} "
            "(<id>-<version>.yaml), so each version has exactly one file"
        )
    return data, errors


def instrument_files(directory=INSTRUMENTS_DIR):
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in FILE_SUFFIXES)


def check_directory(directory=INSTRUMENTS_DIR):
    """Every problem in every instrument file of a directory."""
    directory = Path(directory)
    if not directory.is_dir():
        return [f"{directory}: is not a directory"]
    files = instrument_files(directory)
    if not files:
        return [f"{directory}: holds no instrument files (*.yaml)"]
    return [error for path in files for error in check_file(path)]


def checksum(data):
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def load_file(path, *, force=False):
    """Validate one file and store it; return the Instrument.

    New (key, version): created with its items, positions 1..n in file order.
    Same checksum as stored: nothing changes. Different checksum: refused if a
    wave uses the version; otherwise replaced only with force=True, because an
    edited file under an old version number is usually a forgotten version bump.
    `enabled` is never changed by loading. The returned instrument carries
    `load_status`: "created", "unchanged" or "replaced".
    """
    path = Path(path)
    data, errors = _read_checked(path)
    if errors:
        raise InstrumentError(*errors)
    with transaction.atomic():
        # The row lock keeps two loaders from replacing the same version at once.
        instrument = (
            Instrument.objects.select_for_update()
            .filter(key=data["id"], version=data["version"])
            .first()
        )
        if instrument is None:
            instrument, status = Instrument(key=data["id"], version=data["version"]), "created"
        elif instrument.checksum == checksum(data):
            instrument.load_status = "unchanged"
            return instrument
        else:
            _allow_replacing(instrument, data, path.name, force)
            status = "replaced"
        _store(instrument, data)
    instrument.load_status = status
    return instrument


def _allow_replacing(instrument, data, source_name, force):
    """Raise unless a changed file may replace the stored version; audit if it may."""
    label = f"{source_name}: version {instrument.version} of {instrument.key}"
    if Wave.objects.filter(series__instrument=instrument).exists():
        raise InstrumentError(
            f"{label} is used by a wave; create a new version "
            "(a new file with a new `version`) instead of editing this one"
        )
    if not force:
        raise InstrumentError(
            f"{label} differs from the loaded copy; bump `version`, or "
            "pass --force to replace it (no wave uses it yet)"
        )
    AuditEvent.objects.create(
        action="instrument.replaced",
        target=str(instrument),
        detail={"old_checksum": instrument.checksum, "new_checksum": checksum(data)},
    )


def _store(instrument, data):
    """Write the definition and (re)create the items; `enabled` stays as it was."""
    licence = data["licence"]
    instrument.title = data["title"]
    instrument.definition = data
    instrument.checksum = checksum(data)
    instrument.licence = f"{licence['name']}\n\n{licence['terms']}\n\n{licence['url']}"
    instrument.save()
    instrument.items.all().delete()
    _create_items(instrument, data["items"])


def _create_items(instrument, items):
    Item.objects.bulk_create(
        Item(
            instrument=instrument,
            position=position,
            key=item["key"],
            component=item["component"],
            subscale=item["subscale"],
            scale=item["scale"],
            reverse_keyed=item["reverse_keyed"],
            validated=item.get("validated", True),
            text=item["text"],
            provenance=item["provenance"],
        )
        for position, item in enumerate(items, start=1)
    )


def load_all(directory=INSTRUMENTS_DIR, *, force=False):
    """Validate every file in `directory`, then load them all or none.

    Raises InstrumentError listing every problem; nothing is stored if any file
    is invalid or any load is refused.
    """
    errors = check_directory(directory)
    if errors:
        raise InstrumentError(*errors)
    with transaction.atomic():
        return [load_file(path, force=force) for path in instrument_files(directory)]


def set_enabled(key, version, enabled, *, actor=None):
    """Switch an instrument on or off (e.g. while its terms of use are not cleared)."""
    with transaction.atomic():
        instrument = Instrument.objects.select_for_update().filter(key=key, version=version).first()
        if instrument is None:
            raise InstrumentError(f"no instrument {key} version {version} is loaded")
        if instrument.enabled != enabled:
            instrument.enabled = enabled
            instrument.save(update_fields=["enabled"])
            AuditEvent.objects.create(
                actor=actor,
                action="instrument.enabled" if enabled else "instrument.disabled",
                target=str(instrument),
                detail={"key": key, "version": version},
            )
    return instrument
