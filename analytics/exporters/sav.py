"""SPSS .sav with variable and value labels, written chunk by chunk (`savfile.py`).

Bytecode (row) compression, which every SPSS and PSPP version reads; zlib-compressed
.zsav is smaller but needs SPSS 21 or later.

pyreadstat, which wrote this format before, takes a whole table and inserts it cell by
cell through Python, which was the largest single step of the export
(docs/performance.md). `savfile.SavWriter` compresses each chunk with NumPy as it comes,
so the rows are never gathered into one table. pyreadstat still reads the files back in
the tests.
"""

import numpy as np

from .labelled import LabelledExporter, value_labels
from .savfile import SavWriter, Variable

STRING_WIDTH = 64  # the only text column is the re-keyed pseudonym (64 hex digits)


def variables(columns, label_limit):
    out = []
    for index, c in enumerate(columns):
        out.append(Variable(index, c.stat_name, c.label[:label_limit],
                            width=STRING_WIDTH if c.kind == "string" else 0,
                            value_labels=value_labels(c) if c.value_labels else None,
                            decimals=4 if c.kind == "score" else 0))
    return out


def chunk_values(columns, frame):
    """Per column of an output chunk: (values, missing mask or None) for the writer."""
    out = []
    for c in columns:
        series = frame[c.name]
        if c.kind == "category":
            codes = series.cat.codes.to_numpy()
            out.append((codes.astype(np.float64) + 1, codes < 0))
        elif c.kind == "string":
            out.append((series.to_numpy(dtype=object), None))
        else:
            out.append((series.to_numpy(dtype=np.float64, na_value=np.nan), None))
    return out


class SavExporter(LabelledExporter):
    key = "sav"
    label = "SPSS (.sav)"
    extension = ".sav"
    media_type = "application/x-spss-sav"

    def write(self, path, columns, chunks):
        names = [c.stat_name for c in columns]
        if len({name.lower() for name in names}) != len(names):  # SPSS ignores case
            raise ValueError(f"two columns share a {self.key} variable name: {names}")
        writer = SavWriter(path, variables(columns, self.label_limit),
                           "belonging research export")
        try:
            for frame in chunks:
                writer.write(chunk_values(columns, frame))
        finally:
            writer.close()
