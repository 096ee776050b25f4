"""Validate the instrument files and load them (docs/instruments.md).

    manage.py load_instruments              validate all files, then load all or none
    manage.py load_instruments --check      validate only; the database is not touched
    manage.py load_instruments --force      replace a changed version that no wave uses
    manage.py load_instruments --disable KEY VERSION   switch an instrument off
    manage.py load_instruments --enable KEY VERSION    switch it back on

Any error is printed, one line each, and the command exits non-zero.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from surveys.instruments import (
    INSTRUMENTS_DIR,
    InstrumentError,
    check_directory,
    instrument_files,
    load_all,
    set_enabled,
)


class Command(BaseCommand):
    help = "Validate the instrument files and load them into the database."

    def add_arguments(self, parser):
        parser.add_argument(
            "--directory",
            type=Path,
            default=INSTRUMENTS_DIR,
            help=f"where the instrument files are (default: {INSTRUMENTS_DIR})",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="replace a loaded version whose file changed, if no wave uses it",
        )
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--check", action="store_true", help="validate only; load nothing")
        action.add_argument("--disable", nargs=2, metavar=("KEY", "VERSION"))
        action.add_argument("--enable", nargs=2, metavar=("KEY", "VERSION"))

    def handle(self, *args, directory, force, check, disable, enable, **options):
        if disable or enable:
            return self.switch(*(disable or enable), enabled=bool(enable))
        errors = check_directory(directory)
        if errors:
            self.fail(errors, "nothing was loaded")
        if check:
            count = len(instrument_files(directory))
            self.stdout.write(self.style.SUCCESS(f"{count} instrument files are valid"))
            return
        try:
            instruments = load_all(directory, force=force)
        except InstrumentError as exc:
            self.fail(exc.errors, "nothing was loaded")
        for instrument in instruments:
            state = "" if instrument.enabled else ", disabled"
            count = instrument.items.count()
            self.stdout.write(f"{instrument}: {instrument.load_status} ({count} items{state})")

    def switch(self, key, version, *, enabled):
        try:
            instrument = set_enabled(key, version, enabled)
        except InstrumentError as exc:
            self.fail(exc.errors, "nothing was changed")
        self.stdout.write(f"{instrument}: {'enabled' if enabled else 'disabled'}")

    def fail(self, errors, outcome):
        for error in errors:
            self.stderr.write(error)
        raise CommandError(f"{len(errors)} error(s); {outcome}")
