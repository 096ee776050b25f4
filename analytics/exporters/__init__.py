"""Research exports: a registry of formats and one entry point.

    export(scope, "csv", out_dir) -> ExportResult

Response-level formats (csv, parquet, sav, dta) share every privacy step through
`base.ResponseExporter`; `codebook` describes the variables and `summary` re-issues the
published, suppressed snapshots. See docs/exports.md.
"""

from .base import Exporter
from .codebook import CodebookExporter
from .csvfile import CsvExporter
from .dta import DtaExporter
from .parquet import ParquetExporter
from .sav import SavExporter
from .scope import ExportFile, ExportRefused, ExportResult, ExportScope
from .summary import SummaryExporter

REGISTRY: dict[str, type[Exporter]] = {
    cls.key: cls for cls in (CsvExporter, ParquetExporter, SavExporter, DtaExporter,
                            CodebookExporter, SummaryExporter)
}


def export(scope, fmt, out_dir, progress=lambda pct, step: None) -> ExportResult:
    """Write the export `fmt` of `scope` into `out_dir`.

    Raises ExportRefused when k or l cannot be met within the suppression limit (the
    message names the quasi-identifiers that would have to be dropped), ValueError for an
    unknown format."""
    try:
        exporter = REGISTRY[fmt]
    except KeyError:
        raise ValueError(f"unknown export format {fmt!r}; one of {sorted(REGISTRY)}") from None
    return exporter(scope, out_dir, progress).run()


__all__ = ["REGISTRY", "ExportFile", "ExportRefused", "ExportResult", "ExportScope", "export"]
