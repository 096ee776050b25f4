"""Stata .dta (format 118: Stata 14 and later, UTF-8) with variable and value labels,
written by pandas (`DataFrame.to_stata`).

pandas converts each column to Stata's storage at once with NumPy (2-byte `int` with
Stata's missing code for the coded columns, `double` for scores) and writes the rows
as one block; pyreadstat, which wrote this format before, inserts every cell through
Python, which took most of the export's time (docs/performance.md). Stata allows names of
32 characters and variable labels of 80; text columns have no missing value in Stata,
so a missing pseudonym is "".
"""

from .labelled import LabelledExporter, pandas_frame


class DtaExporter(LabelledExporter):
    key = "dta"
    label = "Stata (.dta)"
    extension = ".dta"
    media_type = "application/x-stata-dta"
    label_limit = 80

    def write(self, path, columns, chunks):
        frame = pandas_frame(self.gather(columns, chunks), text_missing="")
        labels, values = self.labels(columns)
        frame.to_stata(path, write_index=False, version=118, variable_labels=labels,
                       value_labels=values, data_label="belonging research export")
