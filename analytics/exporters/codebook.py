"""The codebook: every variable of the response-level files, the items with their texts,
scales, reverse keys, components and provenance, the scoring rules and the privacy steps.
Markdown for people, JSON for machines, both from one dictionary. It reads instruments
and waves only, never a response."""

import json

from . import anonymity, source, table
from .base import Exporter
from .codes import agreement_key, codes_for
from .scope import ExportResult

SCORING_RULES = [
    "Item values are stored as the student answered them (raw codes on the item's scale);"
    " reverse-keyed items are NOT flipped in the item columns.",
    "A score is the mean of the measure's answered items after reverse keying"
    " (x' = min + max - x).",
    "A score counts only if the student answered at least `min_answered_share` of the"
    " measure's items (80% unless the instrument says otherwise); otherwise it is missing.",
    "Components (perceptions, competencies, motivations, opportunities) are scored"
    " separately; no total across components is computed, because no validation supports"
    " one.",
    "Items the project wrote itself (validated: false) are scored apart, as"
    " `score_<component>_nv`, and never mixed into a validated component score.",
    "A score band is the third of the scale range the score falls in: band = 1 +"
    " [3(t - min*a) >= (max - min)*a] + [3(t - min*a) >= 2(max - min)*a] for keyed total t"
    " over a answered items (1 low, 2 middle, 3 high).",
    "Scores are comparable within one instrument version only.",
]

QI_VALUES = {
    "school": "a code specific to this agreement",
    "class": "a code specific to this agreement (present only when no generalisation was"
             " needed)",
    "year_level": "a year level (\"8\"), or a band of two or three (\"7-8\", \"7-9\")",
    "gender": "girl, boy, another, prefer_not, or other_or_not_stated when rare answers are"
              " pooled",
    "home_language": "yes, no, prefer_not",
}


def item_entry(info, item, scales):
    scale = scales[item.scale]
    return {"key": item.key, "variable": item.key,
            "stata_spss_variable": table.Column(item.key, "", "item").stat_name,
            "text": item.text, "component": item.component, "subscale": item.subscale,
            "scale": item.scale, "min": scale["min"], "max": scale["max"],
            "labels": scale["labels"], "favorable_keyed": scale.get("favorable", []),
            "reverse_keyed": item.reverse_keyed, "validated": item.validated,
            "provenance": item.provenance or {}}


def measure_entry(measure):
    return {"score_variable": f"score_{measure.name}", "band_variable": f"band_{measure.name}",
            "label": measure.label, "component": measure.component,
            "validated": measure.validated, "min": measure.lo, "max": measure.hi,
            "items": [i.key for i in measure.items]}


def instrument_entry(wave_source):
    instrument = wave_source.instrument
    scales = instrument.scales
    by_key = {i.key: i for i in instrument.items.all()}
    return {"key": instrument.key, "version": instrument.version, "title": instrument.title,
            "licence": instrument.definition.get("licence", {}),
            "min_answered_share": wave_source.spec.min_share,
            "scales": {k: {"min": s["min"], "max": s["max"], "labels": s["labels"],
                           "favorable_keyed": s.get("favorable", [])}
                       for k, s in scales.items()},
            "items": [item_entry(info, by_key[info.key], scales)
                      for info in wave_source.spec.items],
            "measures": [measure_entry(m) for m in wave_source.measures]}


def privacy_entry(scope):
    return {"k": scope.k, "l": anonymity.L_DIVERSITY,
            "max_suppressed_share": scope.max_suppressed_share,
            "quasi_identifiers": ["wave", *anonymity.QI_ORDER],
            "generalisation_ladder": [step.note for step in anonymity.LADDER],
            "local_suppression": "gender and home language, then year level, set to"
                                 f" '{anonymity.SUPPRESSED}'; records still in unsafe"
                                 " groups removed",
            "never_exported": ["names, student numbers, raw pseudonyms, response ids",
                               "submission times and dates finer than the wave's month",
                               "school, class and wave names or ids", "free text",
                               "the language the survey was taken in"],
            "pseudonyms": "in linked series and only when the agreement allows: HMAC-SHA256"
                          " of the series pseudonym under a key specific to this agreement"}


def build(scope):
    layout = source.load_layout(scope)
    wave_codes = codes_for(agreement_key(scope.agreement_id), "wave",
                           {w.wave.id: w.wave.public_id for w in layout.waves})
    instruments = {}
    for w in layout.waves:
        instruments.setdefault((w.instrument.key, w.instrument.version), instrument_entry(w))
    return {
        "schema": 1, "agreement": scope.agreement_id,
        "waves": [{"code": wave_codes[w.wave.id], "season": w.season, "month": w.month,
                   "instrument": w.instrument.key, "instrument_version": w.instrument.version,
                   "linked": w.linked} for w in layout.waves],
        "identity_variables": [{"name": c.name, "label": c.label}
                               for c in table.wave_columns(layout, {"wave": wave_codes})],
        "quasi_identifiers": {qi: {"label": table.QI_LABELS[qi], "values": QI_VALUES[qi]}
                              for qi in anonymity.QI_ORDER},
        "instruments": list(instruments.values()),
        "scoring_rules": SCORING_RULES,
        "privacy": privacy_entry(scope),
    }


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_items(lines, instrument):
    lines += ["", "| variable | text (en) | component | scale | reverse | validated | source |",
              "|---|---|---|---|---|---|---|"]
    for item in instrument["items"]:
        text = item["text"].get("en") or next(iter(item["text"].values()))
        cite = item["provenance"].get("citation", "")
        lines.append(f"| `{item['variable']}` | {_cell(text)} | {item['component']} | "
                     f"{item['scale']} ({item['min']}-{item['max']}) | "
                     f"{'yes' if item['reverse_keyed'] else 'no'} | "
                     f"{'yes' if item['validated'] else 'no'} | {_cell(cite)} |")


def _md_instrument(lines, instrument):
    lines += ["", f"## Instrument {instrument['key']} {instrument['version']}"]
    for key, scale in instrument["scales"].items():
        labels = "; ".join(f"{scale['min'] + i} = {t}"
                           for i, t in enumerate(scale["labels"].get("en", [])))
        lines.append(f"- scale `{key}`: {labels}")
    _md_items(lines, instrument)
    lines += ["", "| score | band | items | validated |", "|---|---|---|---|"]
    for m in instrument["measures"]:
        lines.append(f"| `{m['score_variable']}` | `{m['band_variable']}` | "
                     f"{', '.join(m['items'])} | {'yes' if m['validated'] else 'no'} |")


def markdown(book):
    lines = [f"# Codebook: research export under agreement {book['agreement']}", "",
             "## Waves", "", "| code | season | month | instrument | linked |",
             "|---|---|---|---|---|"]
    for w in book["waves"]:
        lines.append(f"| {w['code']} | {w['season']} | {w['month']} | "
                     f"{w['instrument']} {w['instrument_version']} | {w['linked']} |")
    lines += ["", "## Quasi-identifiers", ""]
    for qi, entry in book["quasi_identifiers"].items():
        lines.append(f"- `{qi}`: {entry['label']}; {entry['values']}")
    for instrument in book["instruments"]:
        _md_instrument(lines, instrument)
    lines += ["", "## Scoring rules", ""] + [f"- {rule}" for rule in book["scoring_rules"]]
    privacy = book["privacy"]
    lines += ["", "## Privacy", "", f"k = {privacy['k']}, l = {privacy['l']}; generalisation "
              "steps, in order, as far as needed:"]
    lines += [f"{i + 1}. {step}" for i, step in enumerate(privacy["generalisation_ladder"])]
    lines += ["", f"Then local suppression: {privacy['local_suppression']}. Each export's "
              "report says which steps it took.", "", "Never exported: "
              + "; ".join(privacy["never_exported"]) + "."]
    return "\n".join(lines) + "\n"


class CodebookExporter(Exporter):
    key = "codebook"
    label = "Codebook (Markdown and JSON)"

    def run(self):
        book = build(self.scope)
        md = self.output(".md", "text/markdown")
        js = self.output(".json", "application/json")
        with open(md.path, "w", encoding="utf-8") as fh:
            fh.write(markdown(book))
        with open(js.path, "w", encoding="utf-8") as fh:
            json.dump(book, fh, indent=2, ensure_ascii=False)
        self.progress(100, "done")
        return ExportResult(files=[md, js], rows=0, report={"format": self.key})
