"""k-anonymity and l-diversity for response-level exports (DESIGN.md, privacy rule 6).

Pure pandas over the *grain*: one row per combination of a wave, the raw
quasi-identifiers (school, class, year level, gender, home language) and the band of each
score, with its count `n` (`source.grain`). Nothing here reads the database.

The equivalence classes of an export are its rows grouped by the wave and every
quasi-identifier kept. A class is safe when it holds at least k records and, for every
score, at least l (= 2) different bands among its scored members, so that nobody can learn
a student's band from the group they are in.

The plan:

1. Global generalisation, one step at a time along `LADDER` (class code dropped, rare
   gender answers pooled, year levels banded in pairs then threes, home language, gender
   and year level dropped), stopping at the first step where the records in unsafe classes
   are at most `max_share` of the export.
2. Local suppression of what is still unsafe: gender and home language set to
   "suppressed" for those records, then their year level too, then the records still in
   unsafe classes are removed. Each count is reported.
3. If no step gets within `max_share`, `ExportRefused`, naming the quasi-identifiers that
   would have to be dropped. The school code is never dropped automatically: without it
   the file loses the structure researchers analyse, so that is the researcher's call.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import students
from .scope import ExportRefused

SUPPRESSED = "suppressed"
NOT_ASKED = "not_asked"
POOLED_GENDER = "other_or_not_stated"
L_DIVERSITY = 2
RAW_KEY = ["wave_id", "school_id", "class_group_id", "year_level", "gender", "home_language"]
QI_ORDER = ["school", "class", "year_level", "gender", "home_language"]
QI_NAMES = {"school": "school code", "class": "class code", "year_level": "year level",
            "gender": "gender", "home_language": "home language"}


@dataclass(frozen=True)
class Step:
    qi: str
    action: str   # "drop", "pool", "band2", "band3"
    note: str


LADDER = (
    Step("class", "drop", "class code dropped"),
    Step("gender", "pool", "gender: 'in another way' and 'prefer not to say' pooled into "
                           f"'{POOLED_GENDER}'"),
    Step("year_level", "band2", "year levels banded in pairs (7-8, 9-10, ...)"),
    Step("year_level", "band3", "year levels banded in threes (7-9, 10-12, ...)"),
    Step("home_language", "drop", "home language dropped"),
    Step("gender", "drop", "gender dropped"),
    Step("year_level", "drop", "year level dropped"),
)


@dataclass
class Plan:
    level: int
    qis: list                      # output quasi-identifier columns, in order
    lookup: pd.DataFrame           # RAW_KEY -> "qi_<name>" for each of qis, and "keep"
    report: dict = field(default_factory=dict)


def _year_band(years, width):
    low = (years - ((years - 1) % width)).clip(lower=0)
    return low.astype(str) + "-" + (low + width - 1).astype(str)


def _recode(values, label):
    """A Categorical of label(category) for a column, computed once per category (the
    grain has hundreds of thousands of rows but a handful of distinct values)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    labels = [label(u) for u in uniques]
    names = sorted(set(labels))
    remap = np.array([names.index(x) for x in labels], dtype=np.int64)
    return pd.Categorical.from_codes(remap[codes], categories=names)


def _year(width):
    def label(year):
        if not width:
            return str(int(year))
        return _year_band(pd.Series([int(year)]), width).iloc[0]
    return label


def _demographic(pooled):
    def label(value):
        value = value if isinstance(value, str) and value else NOT_ASKED
        if pooled and value in ("another", "prefer_not"):
            return POOLED_GENDER
        return value
    return label


def generalise(grain, level):
    """The quasi-identifier columns of the grain after the first `level` ladder steps."""
    actions = {}
    for step in LADDER[:level]:
        actions[step.qi] = step.action
    out = pd.DataFrame(index=grain.index)
    out["school"] = grain["school_id"]
    if actions.get("class") != "drop":
        out["class"] = grain["class_group_id"]
    year = actions.get("year_level")
    if year != "drop":
        out["year_level"] = _recode(grain["year_level"], _year(int(year[-1]) if year else 0))
    if actions.get("gender") != "drop":
        out["gender"] = _recode(grain["gender"], _demographic(actions.get("gender") == "pool"))
    if actions.get("home_language") != "drop":
        out["home_language"] = _recode(grain["home_language"], _demographic(False))
    return out


def unsafe(grain, qis, measures, k, min_bands=L_DIVERSITY):
    """Per grain row: is its equivalence class smaller than k, or unanimous on a band?

    With a `student` column (a linked export, `students.py`) the class is a student's
    sequence over the waves, its size is counted in distinct students, and an unsafe row
    makes all of that student's rows unsafe."""
    keys = [grain["wave_id"], *(qis[c] for c in qis.columns)]
    group = (pd.Series(0, index=grain.index).groupby(keys, sort=False, observed=True,
                                                     dropna=False).ngroup().to_numpy())
    if "student" in grain.columns:
        return pd.Series(_unsafe_students(grain, group, measures, k, min_bands),
                         index=grain.index)
    sizes = np.bincount(group, weights=grain["n"].to_numpy())
    bad = sizes[group] < k
    bad |= _not_diverse(grain, group, measures, min_bands)
    return pd.Series(bad, index=grain.index)


def _not_diverse(grain, group, measures, min_bands):
    """Per grain row: does its class show fewer than min_bands bands on some score?"""
    bad = np.zeros(len(group), bool)
    if not len(group):
        return bad
    for m in measures:
        band = grain[f"band_{m}"].to_numpy(dtype=np.float64)
        scored = ~np.isnan(band)
        pairs = np.unique(group[scored] * 8 + band[scored].astype(np.int64))
        distinct = np.bincount(pairs // 8, minlength=int(group.max()) + 1)
        bad |= distinct[group] < min_bands
    return bad


def _unsafe_students(grain, group, measures, k, min_bands):
    student = grain["student"].to_numpy()
    weight = np.zeros(int(student.max()) + 1)
    weight[student] = grain["student_weight"].to_numpy()
    seq, sizes = students.classes(student, weight, group)
    bad = sizes[seq] < k
    cell = pd.factorize(seq * (int(group.max()) + 1) + group)[0]  # one wave of a class
    bad |= _not_diverse(grain, cell, measures, min_bands)
    return students.spread_to_students(bad, student)


def _affected(grain, bad):
    return int(grain.loc[bad, "n"].sum())


def choose_level(grain, measures, k, max_share):
    total = int(grain["n"].sum())
    for level in range(len(LADDER) + 1):
        qis = generalise(grain, level)
        bad = unsafe(grain, qis, measures, k)
        if _affected(grain, bad) <= max_share * total:
            return level, qis, bad
    raise ExportRefused(_refusal(grain, measures, k, max_share, _affected(grain, bad), total))


def _refusal(grain, measures, k, max_share, affected, total):
    dropped = ", ".join(QI_NAMES[q] for q in QI_ORDER if q != "school")
    head = (f"k = {k} cannot be met: even with {dropped} generalised or dropped, {affected} "
            f"of {total} records ({affected / total:.0%}) sit in groups smaller than {k} or "
            f"unanimous on a score band, over the limit of {max_share:.0%} that may be "
            "suppressed.")
    only_wave = pd.DataFrame(index=grain.index)
    if _affected(grain, unsafe(grain, only_wave, measures, k)) <= max_share * total:
        return f"{head} Meeting it would need dropping the school code as well."
    return (f"{head} Even dropping every quasi-identifier ({dropped}, school code) would not "
            f"be enough: a wave has fewer than {k} responses or no spread in a score band.")


def suppress_locally(grain, qis, bad, measures, k):
    """Set unsafe records' finer quasi-identifiers to SUPPRESSED, then remove what is left."""
    qis, counts = qis.copy(), {}
    for label, cols in (("gender, home language", ["gender", "home_language"]),
                        ("year level", ["year_level"])):
        cols = [c for c in cols if c in qis.columns]
        if not cols or not bad.any():
            continue
        moved = bad.copy()
        for col in cols:
            if SUPPRESSED not in qis[col].cat.categories:
                qis[col] = qis[col].cat.add_categories([SUPPRESSED])
            qis.loc[moved, col] = SUPPRESSED
        bad = unsafe(grain, qis, measures, k)
        counts[label] = int(grain.loc[moved & ~bad, "n"].sum())
    return qis, ~bad, counts


def _with_students(grain):
    """A linked grain (one with a `pseudonym` column) gets its student ids and weights."""
    if "pseudonym" not in grain.columns:
        return grain
    student, weight = students.student_ids(grain["pseudonym"], grain["n"])
    return grain.assign(student=student, student_weight=weight[student])


def plan(grain, measures, k, max_share):
    """The generalisation and suppression that make the grain k-anonymous and l-diverse.

    A grain with a `pseudonym` column (raw pseudonyms, "" for none) is a linked export:
    classes are counted in students over their whole sequence (`students.py`), and the
    plan's lookup is keyed by the pseudonym too, since two students with the same raw
    quasi-identifiers may be treated differently."""
    total = int(grain["n"].sum())
    if total == 0:
        raise ExportRefused("There are no responses for these schools and waves.")
    grain = _with_students(grain)
    level, qis, bad = choose_level(grain, measures, k, max_share)
    qis, keep, counts = suppress_locally(grain, qis, bad, measures, k)
    key = RAW_KEY + (["pseudonym"] if "student" in grain.columns else [])
    lookup = grain[key].join(qis.add_prefix("qi_")).assign(keep=keep)
    lookup = lookup.drop_duplicates(key).reset_index(drop=True)
    removed = int(grain.loc[~keep, "n"].sum())
    report = {
        "k": k, "l": L_DIVERSITY, "max_suppressed_share": max_share,
        "quasi_identifiers": ["wave", *qis.columns],
        "generalisations": [step.note for step in LADDER[:level]],
        "records_in": total, "records_removed": removed, "records_out": total - removed,
        "records_locally_suppressed": counts,
        "counted_in": "responses",
    }
    if "student" in grain.columns:
        report.update(_student_report(grain, keep))
    return Plan(level=level, qis=list(qis.columns), lookup=lookup, report=report)


def _student_report(grain, keep):
    student = grain["student"].to_numpy()
    weight = np.zeros(int(student.max()) + 1)
    weight[student] = grain["student_weight"].to_numpy()
    kept = np.zeros(len(weight), bool)
    kept[student[keep.to_numpy()]] = True
    return {"counted_in": "students",
            "equivalence_class": "a student's sequence of (wave, quasi-identifiers) over "
                                 "the waves of the export, absence from a wave included",
            "students_in": int(weight.sum()), "students_removed": int(weight[~kept].sum())}


def class_counts(frame, qis, band_columns):
    """Per equivalence class of an output chunk and per band column, counts per band.

    The quasi-identifier columns must be Categoricals with the export's fixed categories
    (as `base.transform` makes them), so a class has the same integer key in every
    chunk: the mixed-radix number of its category codes."""
    key = class_key(frame, qis)
    parts = []
    for index, col in enumerate(band_columns):
        band = frame[col].cat.codes.to_numpy().astype(np.int64)  # -1: no score
        combined, counts = np.unique(key * 8 + band + 1, return_counts=True)
        parts.append(pd.DataFrame({"key": combined // 8, "measure": index,
                                   "band": combined % 8 - 1, "n": counts}))
    return pd.concat(parts, ignore_index=True) if parts else None


def class_key(frame, qis):
    key = np.zeros(len(frame), np.int64)
    for col in qis:
        values = frame[col]
        if not isinstance(values.dtype, pd.CategoricalDtype):
            raise TypeError(f"{col}: quasi-identifier columns must be categorical")
        key = key * (len(values.cat.categories) + 1) + values.cat.codes.to_numpy() + 1
    return key


def student_rows(frame, qis, band_columns):
    """What `students.measure` needs of an output chunk of a linked export: each row's
    pseudonym, class key and band codes."""
    out = pd.DataFrame({"pseudonym": frame["pseudonym"].to_numpy(dtype=object),
                        "key": class_key(frame, qis)})
    for index, col in enumerate(band_columns):
        out[f"b{index}"] = frame[col].cat.codes.to_numpy().astype(np.int8)
    return out


def measure(parts):
    """The k and l an export achieves, from `class_counts` of all its chunks."""
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return {"k": None, "l": None, "classes": 0}
    counts = pd.concat(parts, ignore_index=True)
    counts = counts.groupby(["key", "measure", "band"], sort=False)["n"].sum().reset_index()
    sizes = counts.groupby(["key", "measure"])["n"].sum()
    scored = counts[counts["band"] >= 0]
    bands = scored.groupby(["key", "measure"])["band"].nunique()
    bands = bands.reindex(sizes.index, fill_value=0)
    return {"k": int(sizes.min()), "l": int(bands.min()),
            "classes": int(counts["key"].nunique())}
