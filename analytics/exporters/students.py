"""Linked series: the student, not the response, is the record (docs/exports.md,
"Linked series").

In a linked export each student has one row per wave they answered, and the re-keyed
pseudonym joins those rows. Whoever knows a student's quasi-identifiers in several waves
can intersect the groups they sit in, so the quasi-identifier of a student is the whole
*sequence* of (wave, quasi-identifier values) over the waves of the export, absence from
a wave included. An equivalence class is the set of students sharing one sequence, and it
is counted in distinct students (`distinct pseudonyms`), never in rows. Knowing only part
of a student's sequence narrows no further than knowing all of it, so k over full
sequences holds for every partial one.

l-diversity is checked per class and per wave: among the class's students who answered
that wave (all of them, since absence is part of the sequence), every score must show at
least l different bands, or the band of any one of them in that wave would be disclosed.

Rows without a pseudonym (an anonymous wave in the same export) are students of their
own, each response one student, with a one-wave sequence.
"""

import numpy as np
import pandas as pd


def student_ids(pseudonyms, weights=None):
    """(student id per row, weight per student): linked rows share the id of their
    pseudonym and weigh 1; a row without one is a student of its own and weighs its
    count (a grain row of n anonymous responses is n students)."""
    values = pd.Series(pseudonyms).replace("", None)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    alone = codes < 0
    codes[alone] = len(uniques) + np.arange(int(alone.sum()))
    weight = np.ones(len(uniques) + int(alone.sum()), np.float64)
    if weights is not None:
        weight[codes[alone]] = np.asarray(weights, np.float64)[alone]
    return codes, weight


def sequences(student, cell):
    """Per student, the id of its sequence: the sorted tuple of its `cell` ids (a cell is
    one wave with one combination of quasi-identifier values)."""
    order = np.lexsort((cell, student))
    frame = pd.DataFrame({"student": student[order], "cell": cell[order]})
    tuples = frame.groupby("student", sort=True)["cell"].agg(tuple)
    seq = np.full(int(student.max()) + 1 if len(student) else 0, -1, np.int64)
    seq[tuples.index.to_numpy()] = pd.factorize(tuples)[0]
    return seq


def classes(student, weight, cell):
    """(class id per row, class size in students): a class is one sequence."""
    seq = sequences(student, cell)
    present = seq >= 0
    sizes = np.bincount(seq[present], weights=weight[present])
    return seq[student], sizes


def spread_to_students(bad, student):
    """A student is unsafe as a whole: one unsafe row makes every row of theirs unsafe."""
    any_bad = np.zeros(int(student.max()) + 1 if len(student) else 0, bool)
    np.logical_or.at(any_bad, student, bad)
    return any_bad[student]


def measure(parts):
    """The k and l a linked export achieves, from the rows it wrote: `parts` are frames
    of `pseudonym` (re-keyed, None for unlinked rows), `key` (the class key of the row's
    wave and quasi-identifiers) and one band code per score (`b0`, `b1`, ...; -1 none)."""
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return {"k": None, "l": None, "classes": 0, "counted_in": "students"}
    rows = pd.concat(parts, ignore_index=True)
    student, weight = student_ids(rows["pseudonym"])
    cell = pd.factorize(rows["key"])[0].astype(np.int64)
    seq, sizes = classes(student, weight, cell)
    l_found = None
    for band in [c for c in rows.columns if c.startswith("b")]:
        scored = rows[band].to_numpy() >= 0
        per_cell = (pd.DataFrame({"seq": seq, "cell": cell, "band": rows[band]})[scored]
                    .groupby(["seq", "cell"])["band"].nunique())
        cells = pd.DataFrame({"seq": seq, "cell": cell}).drop_duplicates()
        distinct = per_cell.reindex(pd.MultiIndex.from_frame(cells), fill_value=0)
        l_found = int(distinct.min()) if l_found is None else min(l_found, int(distinct.min()))
    return {"k": int(sizes[sizes > 0].min()), "l": l_found, "classes": int((sizes > 0).sum()),
            "counted_in": "students"}
