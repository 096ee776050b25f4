"""Where an export's rows come from: the waves and instruments in scope, the SQL that
reads responses, and the score bands both passes of the pipeline must agree on.

Two reads of the same responses, inside one REPEATABLE READ transaction (see
`base.ResponseExporter.run`):

* `grain`: one GROUP BY per wave over the raw quasi-identifiers and the score bands,
  with a count. A few thousand rows for a district; the privacy plan is made on it.
* `stream`: the responses themselves, in chunks from a server-side cursor, so memory
  stays flat whatever the number of responses.

Bands are computed with integer arithmetic in SQL and in NumPy alike, so a band in the
file is always the band the plan counted: band = 1 + [3(t - lo*a) >= (hi - lo)*a] +
[3(t - lo*a) >= 2(hi - lo)*a] for a student with keyed total t over a answered items,
i.e. the score's third of the scale range (1 low, 2 middle, 3 high).
"""

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db import connection

from analytics import aggregation
from analytics.scoring import ItemSpec, component_scores, keyed, not_validated_key
from surveys.models import Instrument, Response, School, Series, Wave

QI_RAW = ("school_id", "class_group_id", "year_level", "gender", "home_language")
BANDS = ("low", "middle", "high")


@dataclass(frozen=True)
class Measure:
    """A scored measure: a component's validated items, or its not-validated ones."""

    name: str         # output column stem: "perceptions", "perceptions_nv"
    component: str
    validated: bool
    lo: int
    hi: int
    items: tuple      # ItemInfo, in instrument order

    @property
    def label(self):
        suffix = "" if self.validated else " (not validated)"
        return f"{self.component.capitalize()}{suffix}"

    @property
    def scoring_key(self):
        """The key analytics.scoring.component_scores uses for this measure."""
        return self.component if self.validated else not_validated_key(self.component)


@dataclass
class WaveSource:
    wave: Wave
    instrument: Instrument
    spec: aggregation.Spec
    measures: list
    linked: bool

    @property
    def season(self):
        return self.wave.season

    @property
    def month(self):
        return self.wave.starts_on.strftime("%Y-%m")


@dataclass
class Layout:
    """Everything known before any response is read."""

    waves: list
    school_ids: tuple
    items: dict = field(default_factory=dict)      # item key -> (ItemInfo, Item)
    measures: dict = field(default_factory=dict)   # measure name -> Measure
    instruments: dict = field(default_factory=dict)  # (key, version) -> Instrument
    instruments_by_id: dict = field(default_factory=dict)
    schools: dict = field(default_factory=dict)    # school id -> public id


def measures_for(spec):
    out = []
    for name, infos in spec.components.items():
        component, _, flag = name.partition(":")
        lo, hi = {i.lo for i in infos}, {i.hi for i in infos}
        if len(lo) != 1 or len(hi) != 1:
            raise ValueError(f"{name}: items on different scales cannot share one score")
        out.append(Measure(name=component if not flag else f"{component}_nv",
                           component=component, validated=not flag, lo=lo.pop(),
                           hi=hi.pop(), items=tuple(infos)))
    return out


def load_layout(scope):
    # Rows are restricted to the scope's schools in SQL; a wave of a series surveying
    # other schools (or a district-wide series) simply contributes those schools' rows.
    waves = (Wave.objects.filter(pk__in=scope.wave_ids)
             .select_related("series__instrument").order_by("starts_on", "id"))
    layout = Layout(waves=[], school_ids=tuple(sorted(scope.school_ids)))
    for wave in waves:
        instrument = wave.series.instrument
        spec = aggregation.Spec.for_instrument(instrument)
        source = WaveSource(wave=wave, instrument=instrument, spec=spec,
                            measures=measures_for(spec),
                            linked=wave.series.mode == Series.Mode.LINKED)
        layout.waves.append(source)
        layout.instruments[(instrument.key, instrument.version)] = instrument
        layout.instruments_by_id[instrument.id] = instrument
        items = {i.key: i for i in instrument.items.all()}
        for info in spec.items:
            layout.items.setdefault(info.key, (info, items[info.key]))
        for measure in source.measures:
            layout.measures.setdefault(measure.name, measure)
    layout.schools = dict(School.objects.filter(pk__in=scope.school_ids)
                          .values_list("id", "public_id"))
    return layout


def _q(name):
    return connection.ops.quote_name(name)


def _sums_sql(measure, index):
    """A measure's answered count and keyed total for one response, as a_i and t_i."""
    answered = " + ".join(f"(CASE WHEN {_q(i.column)} IS NULL THEN 0 ELSE 1 END)"
                          for i in measure.items)
    total = " + ".join(f"COALESCE({aggregation.keyed_sql(i)}, 0)" for i in measure.items)
    return f"({answered}) AS a{index}, ({total}) AS t{index}"


def band_sql(measure, index, min_share):
    """The measure's band (1..3) from a_i and t_i, NULL below the 80% rule."""
    need = math.ceil(min_share * len(measure.items) - 1e-9)
    span = measure.hi - measure.lo
    a, x = f"a{index}", f"(3 * (t{index} - {measure.lo} * a{index}))"
    return (f"(CASE WHEN {a} >= {need} THEN 1"
            f" + (CASE WHEN {x} >= {span} * {a} THEN 1 ELSE 0 END)"
            f" + (CASE WHEN {x} >= {2 * span} * {a} THEN 1 ELSE 0 END) END)")


def _where(school_ids):
    marks = ", ".join(["%s"] * len(school_ids))
    return f"WHERE wave_id = %s AND school_id IN ({marks})"


def _fence():
    """PostgreSQL would inline the innermost subquery and compute each sum three times;
    OFFSET 0 keeps it a subquery (SQLite computes it once anyway and rejects the clause)."""
    return " OFFSET 0" if connection.vendor == "postgresql" else ""


def grain(source, school_ids, *, pseudonyms=False):
    """Counts per (raw quasi-identifiers, band of each measure) for one wave.

    pseudonyms=True (a linked export): grouped by the raw pseudonym too, so a linked
    wave has one row per student; "" stands for no pseudonym (`students.py`)."""
    linked = pseudonyms and source.linked
    keys = [_q(c) for c in QI_RAW + (("pseudonym",) if linked else ())]
    sums = [_sums_sql(m, i) for i, m in enumerate(source.measures)]
    bands = [f"{band_sql(m, i, source.spec.min_share)} AS {_q('band_' + m.name)}"
             for i, m in enumerate(source.measures)]
    outer = ", ".join(keys + [_q("band_" + m.name) for m in source.measures])
    table = _q(Response._meta.db_table)
    # Innermost: each measure's sums once per response; then its band; then the counts.
    sql = (f"SELECT {outer}, COUNT(*) AS n FROM (SELECT {', '.join(keys + bands)} FROM "
           f"(SELECT {', '.join(keys + sums)} FROM {table} {_where(school_ids)}{_fence()}) s) t "
           f"GROUP BY {outer}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [source.wave.id, *school_ids])
        names = [d[0] for d in cursor.description]
        frame = frame_from_rows(cursor.fetchall(), names)
    frame["n"] = frame["n"].astype(np.int64)
    frame.insert(0, "wave_id", source.wave.id)
    return with_pseudonym_key(frame, pseudonyms)


def with_pseudonym_key(frame, pseudonyms):
    """A linked export's grain keys every row by its pseudonym ("" for none)."""
    if pseudonyms:
        values = frame["pseudonym"] if "pseudonym" in frame.columns else None
        frame["pseudonym"] = "" if values is None else values.fillna("").astype(object)
    return frame


INTEGER_COLUMNS = ("school_id", "class_group_id", "year_level")
TEXT_COLUMNS = ("gender", "home_language", "pseudonym")


def frame_from_rows(rows, columns):
    """Rows from the cursor as a DataFrame, column by column with known types (ids as
    int64, text as objects, answers as float64 with NaN): several times faster than
    letting pandas infer the type of every cell."""
    if not rows:
        return pd.DataFrame({name: [] for name in columns})
    data = {}
    for name, values in zip(columns, zip(*rows, strict=True), strict=True):
        kind = (np.int64 if name in INTEGER_COLUMNS
                else object if name in TEXT_COLUMNS else np.float64)
        data[name] = np.array(values, dtype=kind)
    return pd.DataFrame(data, columns=columns, copy=False)


def stream(source, school_ids, chunk_size, *, pseudonyms=False):
    """The wave's responses in chunks: quasi-identifiers, answer columns and (asked for
    and linked) the series pseudonym."""
    columns = list(QI_RAW) + (["pseudonym"] if pseudonyms and source.linked else [])
    columns += [i.column for i in source.spec.items]
    table = _q(Response._meta.db_table)
    sql = f"SELECT {', '.join(_q(c) for c in columns)} FROM {table} {_where(school_ids)}"
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [source.wave.id, *school_ids])
        while rows := cursor.fetchmany(chunk_size):
            yield frame_from_rows(rows, columns)


def item_specs(source):
    return [ItemSpec(i.key, i.component, i.lo, i.hi, i.reverse, i.favorable, i.validated)
            for i in source.spec.items]


def scores_and_bands(source, answers):
    """Per measure, (score, band) arrays for an answer matrix in instrument item order.

    Scores come from analytics.scoring (reverse keying, the 80% rule); bands use the same
    integer rule as `band_sql`, so they agree with the plan exactly."""
    specs = item_specs(source)
    scored = component_scores(answers, specs, source.spec.min_share)
    keyed_matrix = keyed(answers, specs)
    index = {info.key: j for j, info in enumerate(source.spec.items)}
    out = {}
    for measure in source.measures:
        scores = scored[measure.scoring_key].scores
        cols = keyed_matrix[:, [index[i.key] for i in measure.items]]
        answered = (~np.isnan(cols)).sum(axis=1).astype(np.int64)
        total = np.nansum(cols, axis=1).astype(np.int64)
        x, span = 3 * (total - measure.lo * answered), measure.hi - measure.lo
        band = 1 + (x >= span * answered).astype(int) + (x >= 2 * span * answered).astype(int)
        out[measure.name] = (scores, np.where(np.isnan(scores), 0, band))
    return out
