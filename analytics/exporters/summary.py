"""The wave summary: the published, suppressed snapshot of each wave, re-issued for
researchers. Never recomputed from responses: every number here is one a leader's
dashboard already shows (DESIGN.md privacy rules 1-4), with schools, classes and waves
replaced by the agreement's codes and every name and label left out (they are free text).

CSV (long: one row per published number) for people, JSON (per wave, the snapshot's
groups) for machines.
"""

import csv
import json

from analytics import publishing
from surveys.models import School

from . import source
from .base import Exporter
from .codes import agreement_key, codes_for, opaque
from .csvfile import safe_cell
from .scope import ExportRefused, ExportResult

HEADER = ["wave", "wave_season", "wave_month", "instrument", "instrument_version", "school",
          "group", "group_kind", "suppressed", "measure", "statistic", "value", "display", "n"]
CELL_STATS = ("value", "favorable", "sd", "ci95", "excluded_percent")


def documents(wave, school_ids):
    """(school, document) for each scope school the wave's snapshot covers."""
    snapshot = publishing.latest_snapshot(wave)
    if snapshot is None:
        raise ExportRefused("A wave of this agreement has no published results yet.")
    series = wave.series
    if not getattr(series, "district_wide", False):
        if series.school_id in school_ids:
            yield series.school, snapshot.data
        return
    # District-wide series: each school's part (analytics.publishing.document_for).
    for school in School.objects.filter(pk__in=school_ids).order_by("id"):
        document = publishing.document_for(snapshot, school)
        if document is not None:
            yield school, document


class Coder:
    """Replaces public ids in group keys by the agreement's codes."""

    def __init__(self, agreement_id):
        self.key = agreement_key(agreement_id)

    def group(self, key):
        kind, _, rest = key.partition(":")
        if kind in ("class", "school") and rest:
            return f"{kind}:{opaque(self.key, kind, rest)}"
        return key


def group_entry(group, coder):
    entry = {"group": coder.group(group["key"]), "kind": group.get("kind"),
             "suppressed": bool(group.get("suppressed"))}
    if entry["suppressed"]:
        return entry
    entry.update(n=group.get("n"), caution=group.get("caution"),
                 components=group.get("components", {}), items=group.get("items", {}))
    return entry


def _cells(entry):
    """(measure, statistic, value, display, n) for each number a group entry shows."""
    for name, cell in (entry.get("components") or {}).items():
        for stat in CELL_STATS:
            if (cell or {}).get(stat) is not None:
                display = cell.get("display") if stat == "value" else None
                yield f"component:{name}", stat, cell[stat], display, cell.get("n")
    for key, item in (entry.get("items") or {}).items():
        for stat in ("mean", "favorable"):
            if item.get(stat):
                yield f"item:{key}", stat, item[stat]["value"], item[stat]["display"], \
                    item[stat].get("n")
        for option, cell in (item.get("options") or {}).items():
            if cell:
                yield f"item:{key}", f"option:{option}", cell["value"], cell["display"], \
                    cell.get("n")


def csv_rows(wave_entry):
    head = [wave_entry[k] for k in HEADER[:6]]
    for g in wave_entry["groups"]:
        if g["suppressed"]:
            yield head + [g["group"], g["kind"], True, "", "", "", "", ""]
            continue
        for measure, stat, value, display, n in _cells(g):
            yield head + [g["group"], g["kind"], False, measure, stat, value, display, n]


class SummaryExporter(Exporter):
    key = "summary"
    label = "Wave summary (published snapshot; CSV and JSON)"

    def waves(self):
        layout = source.load_layout(self.scope)
        coder = Coder(self.scope.agreement_id)
        wave_codes = codes_for(coder.key, "wave", {w.wave.id: w.wave.public_id
                                                   for w in layout.waves})
        out = []
        for w in layout.waves:
            for school, doc in documents(w.wave, set(self.scope.school_ids)):
                out.append({
                    "wave": wave_codes[w.wave.id], "wave_season": w.season,
                    "wave_month": w.month, "instrument": w.instrument.key,
                    "instrument_version": w.instrument.version,
                    "school": coder.group(f"school:{school.public_id}").split(":")[1],
                    "k": doc.get("k"), "groups": [group_entry(g, coder)
                                                  for g in doc.get("groups", [])],
                    "reliability": doc.get("reliability") or {},
                })
        return out

    def run(self):
        waves = self.waves()
        table = self.output(".csv", "text/csv")
        with open(table.path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADER)
            for entry in waves:
                writer.writerows([safe_cell(v) for v in row] for row in csv_rows(entry))
        doc = self.output(".json", "application/json")
        with open(doc.path, "w", encoding="utf-8") as fh:
            json.dump({"schema": 1, "agreement": self.scope.agreement_id, "waves": waves},
                      fh, indent=2, ensure_ascii=False)
        self.progress(100, "done")
        return ExportResult(files=[table, doc], rows=len(waves),
                            report={"format": self.key, "documents": len(waves)})

