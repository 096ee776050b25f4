"""CSV, safe to open in a spreadsheet.

A cell that starts with =, +, -, @, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (CSV injection, OWASP). Every text cell and header that
starts so is prefixed with a single quote, which spreadsheets show as text. Numbers are
written as numbers: a negative number is data, not a formula, and none of ours is
negative anyway.
"""

import csv
import io

import pandas as pd
import pyarrow as pa
from pyarrow import csv as pa_csv

from .base import ResponseExporter

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _text(values, categories=None):
    """Text cells that cannot be read as formulas, as an Arrow string array."""
    if categories is not None:  # codes into the categories, -1 for none
        safe = pa.array([str(safe_cell(c)) for c in categories], pa.string())
        indices = pa.array(values, mask=values < 0)
        return pa.DictionaryArray.from_arrays(indices, safe).cast(pa.string())
    return pa.array([safe_cell(v) for v in values], pa.string(), from_pandas=True)


def arrow_table(frame):
    """The frame as an Arrow table whose text cells cannot be read as formulas."""
    arrays = {}
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            arrays[name] = _text(col.cat.codes.to_numpy(), col.cat.categories)
        elif col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            arrays[name] = _text(col.to_numpy(dtype=object))
        else:
            arrays[name] = pa.array(col, from_pandas=True)
    return pa.table(arrays)


def write_csv(path, header, frames):
    """Arrow's CSV writer (C++), chunk by chunk: text cells are quoted, numbers not, an
    empty cell is a missing value."""
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    with open(path, "wb") as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
        csv.writer(text, lineterminator="\n").writerow([safe_cell(h) for h in header])
        text.flush()
        text.detach()
        for frame in frames:
            pa_csv.write_csv(arrow_table(frame), fh, write_options=options)


class CsvExporter(ResponseExporter):
    key = "csv"
    label = "CSV (UTF-8, one row per response)"
    extension = ".csv"
    media_type = "text/csv"

    def write(self, path, columns, chunks):
        write_csv(path, [c.name for c in columns], chunks)
