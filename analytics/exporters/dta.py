"""Stata .dta (readable by Stata 14 and later) with variable and value labels (pyreadstat).
Stata allows names of 32 characters and variable labels of 80."""

import pyreadstat

from .labelled import LabelledExporter


class DtaExporter(LabelledExporter):
    key = "dta"
    label = "Stata (.dta)"
    extension = ".dta"
    media_type = "application/x-stata-dta"
    label_limit = 80

    def write(self, path, columns, chunks):
        frame = self.gather(columns, chunks)
        labels, values = self.labels(columns)
        pyreadstat.write_dta(frame, path, file_label="belonging research export",
                             column_labels=labels, variable_value_labels=values,
                             version=14)
