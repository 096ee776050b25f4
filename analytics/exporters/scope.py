"""What an export may contain, and what it produced.

The research app's `Agreement.scope()` builds an `ExportScope`; the exporters never
read an agreement themselves, so the privacy steps can be tested on their own.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ExportScope:
    """One agreement's view of the data.

    `agreement_id` is the agreement's public id: it names the key under which linked
    pseudonyms are re-keyed (`surveys.pseudonyms.rekey(p, f"agreement:{agreement_id}")`)
    and salts the opaque school and class codes, so two agreements' files cannot be
    joined. `wave_ids` and `school_ids` are database ids of published waves and of the
    schools whose responses may leave. `k` is the agreement's minimum group size for
    the quasi-identifiers (never below the series' k). `max_suppressed_share` is the
    share of records the exporters may suppress locally or remove to reach k and l;
    past it the export is refused.
    """

    agreement_id: str
    wave_ids: tuple[int, ...]
    school_ids: tuple[int, ...]
    k: int
    include_pseudonyms: bool = False
    max_suppressed_share: float = 0.05


@dataclass
class ExportFile:
    path: str          # absolute path of the written file
    name: str          # file name offered for download
    media_type: str


@dataclass
class ExportResult:
    files: list[ExportFile] = field(default_factory=list)
    rows: int = 0
    report: dict = field(default_factory=dict)  # what was generalised or suppressed


class ExportRefused(Exception):
    """The data cannot meet the agreement's k (or l) without dropping what the message
    names; no file is produced."""
