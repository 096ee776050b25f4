"""The columns of a response-level export: names, kinds, variable and value labels.

Known before any response is read (categories come from the plan's lookup), so the
labelled formats can code categories as integers with value labels, and every chunk of
every format has the same columns in the same order.
"""

import re
from dataclasses import dataclass, field

from .anonymity import NOT_ASKED, POOLED_GENDER, SUPPRESSED
from .source import BANDS

CATEGORY_LABELS = {
    "gender": {"girl": "Girl", "boy": "Boy", "another": "In another way",
               "prefer_not": "Prefer not to say",
               POOLED_GENDER: "In another way or prefer not to say"},
    "home_language": {"yes": "Other language at home", "no": "English only at home",
                      "prefer_not": "Prefer not to say"},
}
COMMON_LABELS = {NOT_ASKED: "Not asked in this series", SUPPRESSED: "Suppressed for privacy"}
BAND_LABELS = {"low": "Low third of the scale range", "middle": "Middle third",
               "high": "High third"}
QI_LABELS = {"school": "School (code specific to this agreement)",
             "class": "Class (code specific to this agreement)",
             "year_level": "Year level", "gender": "Gender (self-described band)",
             "home_language": "Language other than English at home"}


@dataclass
class Column:
    name: str
    label: str
    kind: str                      # "category", "string", "item" or "score"
    categories: tuple = ()         # for "category": the values, in order
    value_labels: dict = field(default_factory=dict)  # value (or item code) -> label

    @property
    def stat_name(self):
        """A variable name SPSS and Stata accept: letters, digits, _; at most 32."""
        name = re.sub(r"[^A-Za-z0-9_]", "_", self.name)
        return (name if name[0].isalpha() else f"v_{name}")[:32]


def category(name, label, values, labels=None):
    values = tuple(values)
    labels = labels or {}
    return Column(name, label, "category", values,
                  {v: labels.get(v) or COMMON_LABELS.get(v) or str(v) for v in values})


def _year_label(value):
    if value in COMMON_LABELS:
        return COMMON_LABELS[value]
    return f"Years {value}" if "-" in value else f"Year {value}"


def _sort_years(values):
    return sorted(values, key=lambda v: (not v[0].isdigit(), int(v.split("-")[0])
                                         if v[0].isdigit() else 0, v))


def qi_columns(plan, codes):
    kept = plan.lookup[plan.lookup["keep"]]
    out = []
    for qi in plan.qis:
        values = kept[f"qi_{qi}"]
        if qi in ("school", "class"):
            values = sorted({codes[qi].get(v, v) for v in values})
        elif qi == "year_level":
            values = _sort_years(set(values))
            out.append(category(qi, QI_LABELS[qi], values, {v: _year_label(v) for v in values}))
            continue
        else:
            values = sorted(set(values))
        out.append(category(qi, QI_LABELS[qi], values, CATEGORY_LABELS.get(qi)))
    return out


def wave_columns(layout, codes):
    waves = layout.waves
    instruments = sorted({w.instrument.key for w in waves})
    versions = sorted({w.instrument.version for w in waves})
    return [
        category("wave", "Wave (code specific to this agreement)",
                 [codes["wave"][w.wave.id] for w in waves]),
        category("wave_season", "Season of the wave", sorted({w.season for w in waves})),
        category("wave_month", "Month the wave started (YYYY-MM)",
                 sorted({w.month for w in waves})),
        category("instrument", "Instrument key", instruments),
        category("instrument_version", "Instrument version", versions),
    ]


def item_columns(layout, language="en"):
    out = []
    for key, (info, item) in layout.items.items():
        scale = layout_scale(layout, item)
        labels = scale["labels"].get(language) or next(iter(scale["labels"].values()))
        reverse = " [reverse-keyed]" if info.reverse else ""  # values stay as answered
        out.append(Column(key, f"{key}{reverse}: {item.text_in(language)}", "item",
                          value_labels={info.lo + i: text for i, text in enumerate(labels)}))
    return out


def layout_scale(layout, item):
    return layout.instruments_by_id[item.instrument_id].scales[item.scale]


def score_columns(layout):
    out = []
    for measure in layout.measures.values():
        out.append(Column(f"score_{measure.name}",
                          f"{measure.label} score: mean of keyed items, 80% rule",
                          "score"))
        out.append(category(f"band_{measure.name}", f"{measure.label} score band",
                            BANDS, BAND_LABELS))
    return out


def columns(layout, plan, codes, include_pseudonyms):
    cols = wave_columns(layout, codes) + qi_columns(plan, codes)
    if include_pseudonyms and any(w.linked for w in layout.waves):
        cols.append(Column("pseudonym", "Student pseudonym, re-keyed for this agreement",
                           "string"))
    return cols + item_columns(layout) + score_columns(layout)
