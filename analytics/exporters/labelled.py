"""What SPSS (.sav) and Stata (.dta) share: categories coded 1..n with value labels, items
with their scale's labels, a variable label on every column.

These formats read the responses once and keep them (`single_pass`, spool.py) instead of
reading them twice. pandas' Stata writer takes a whole table, so `gather` collects the
output rows into arrays allocated once for the number of records the plan keeps: 2-byte
codes with a missing mask, not Python objects (1,000,000 responses of 20 items take
about 100 MB; dta.py). The SPSS writer takes chunks and needs no gathering (sav.py).
"""

import numpy as np
import pandas as pd

from .base import ResponseExporter


class Buffer:
    def __init__(self, column, size):
        self.column = column
        if column.kind in ("category", "item"):
            self.values, self.mask = np.zeros(size, np.int16), np.ones(size, bool)
        elif column.kind == "score":
            self.values, self.mask = np.full(size, np.nan), None
        else:
            self.values, self.mask = np.empty(size, object), None

    def grow(self, size):
        self.values = np.resize(self.values, size)
        if self.mask is not None:
            self.mask = np.resize(self.mask, size)

    def fill(self, series, at):
        end = at + len(series)
        if self.column.kind == "category":
            codes = series.cat.codes.to_numpy()
            self.values[at:end] = codes + 1
            self.mask[at:end] = codes < 0
        elif self.column.kind == "item":
            self.values[at:end] = series.to_numpy(dtype=np.int16, na_value=0)
            self.mask[at:end] = series.isna().to_numpy()
        else:
            self.values[at:end] = series.to_numpy()

    def arrays(self, size):
        """(values, missing mask or None), trimmed to the rows written."""
        return self.values[:size], None if self.mask is None else self.mask[:size]


def value_labels(column):
    if column.kind == "category":
        return {i + 1: column.value_labels[v] for i, v in enumerate(column.categories)}
    return dict(column.value_labels)


class LabelledExporter(ResponseExporter):
    label_limit = 256
    single_pass = True  # one read of the responses (spool.py)

    def gather(self, columns, chunks):
        """{variable name: (values, missing mask or None)} of every row handed over."""
        size = self.context.plan.report["records_out"]
        buffers = [Buffer(c, size) for c in columns]
        at = 0
        for frame in chunks:
            if at + len(frame) > size:
                size = at + len(frame)
                for buffer in buffers:
                    buffer.grow(size)
            for buffer in buffers:
                buffer.fill(frame[buffer.column.name], at)
            at += len(frame)
        names = [c.stat_name for c in columns]
        if len(set(names)) != len(names):
            raise ValueError(f"two columns share a {self.key} variable name: {names}")
        return {c.stat_name: b.arrays(at) for c, b in zip(columns, buffers, strict=True)}

    def labels(self, columns):
        column_labels = {c.stat_name: c.label[:self.label_limit] for c in columns}
        values = {c.stat_name: value_labels(c) for c in columns if c.value_labels}
        return column_labels, values


def pandas_frame(arrays, text_missing=None):
    """The gathered arrays as a DataFrame: nullable Int16 for codes, float64 scores,
    text as objects (missing text as `text_missing`)."""
    data = {}
    for name, (values, mask) in arrays.items():
        if mask is not None:
            data[name] = pd.arrays.IntegerArray(values, mask)
        elif values.dtype == object and text_missing is not None:
            data[name] = np.where(pd.isna(values), text_missing, values).astype(object)
        else:
            data[name] = values
    return pd.DataFrame(data, copy=False)
