"""CSV, safe to open in a spreadsheet.

A cell that starts with =, +, -, @, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (CSV injection, OWASP). Every text cell and header that
starts so is prefixed with a single quote, which spreadsheets show as text. Numbers are
written as numbers: a negative number is data, not a formula, and none of ours is
negative anyway.
"""

import csv

import pandas as pd

from .base import ResponseExporter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame):
    """A copy of the frame whose text cells cannot be read as formulas."""
    out = frame.copy()
    for name in out.columns:
        col = out[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            out[name] = col.cat.rename_categories([safe_cell(c) for c in col.cat.categories])
        elif col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            out[name] = col.map(safe_cell)
    return out


def write_csv(path, header, frames):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow([safe_cell(h) for h in header])
        for frame in frames:
            safe_frame(frame).to_csv(fh, header=False, index=False, lineterminator="\n")


class CsvExporter(ResponseExporter):
    key = "csv"
    label = "CSV (UTF-8, one row per response)"
    extension = ".csv"
    media_type = "text/csv"

    def write(self, path, columns, chunks):
        write_csv(path, [c.name for c in columns], chunks)
