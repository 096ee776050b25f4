"""One read of the responses for .sav and .dta.

The streaming formats read the table twice (`source.grain` in SQL for the plan, then
`source.stream` for the rows). pandas.to_stata takes a whole table, so .dta holds the
rows anyway, and .sav trades the same memory for the second scan; they read the rows
once instead: each chunk is kept in a compact form (text quasi-identifiers as
categoricals, answers as float32) and its grain is counted in pandas with the same bands
as the SQL grain (`source.scores_and_bands` implements the same integer rule as
`source.band_sql`). The plan is then made on the summed grain, exactly as on the SQL
one, and the kept chunks go through the same transformation as streamed ones.

Memory: the kept chunks of the benchmark's 1,000,000 responses of 20 items take 101 MiB
(pandas `memory_usage(deep=True)`, docs/performance.md).
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import source

TEXT = ("gender", "home_language")


@dataclass
class Spool:
    chunks: list = field(default_factory=list)   # (WaveSource, compact raw chunk)
    grains: list = field(default_factory=list)

    def grain(self):
        parts = [g for g in self.grains if len(g)]
        self.grains = []
        if not parts:
            return pd.DataFrame({c: [] for c in ("wave_id", *source.QI_RAW, "n")})
        frame = pd.concat(parts, ignore_index=True)
        keys = [c for c in frame.columns if c != "n"]
        return (frame.groupby(keys, sort=False, dropna=False, observed=True)["n"].sum()
                .reset_index())

    def drain(self):
        """The kept chunks, each released once handed over."""
        while self.chunks:
            yield self.chunks.pop(0)


def compact(raw, wave_source):
    raw = raw.copy()
    for name in TEXT:
        raw[name] = raw[name].astype("category")
    for info in wave_source.spec.items:
        raw[info.column] = raw[info.column].astype(np.float32)
    return raw


def expand(raw):
    """A kept chunk as `source.stream` yields it (text as objects, NaN for none)."""
    raw = raw.copy()
    for name in TEXT:
        raw[name] = raw[name].astype(object)
    return raw


def chunk_grain(wave_source, raw, pseudonyms):
    answers = raw[[i.column for i in wave_source.spec.items]].to_numpy(dtype=np.float64)
    keys = list(source.QI_RAW) + (["pseudonym"] if "pseudonym" in raw.columns else [])
    frame = expand(raw[keys])
    for name, (_, band) in source.scores_and_bands(wave_source, answers).items():
        frame[f"band_{name}"] = np.where(band > 0, band, np.nan)
    cols = list(frame.columns)
    counted = (frame.groupby(cols, sort=False, dropna=False).size().rename("n")
               .reset_index())
    counted.insert(0, "wave_id", wave_source.wave.id)
    return source.with_pseudonym_key(counted, pseudonyms)


def read(layout, chunk_rows, *, pseudonyms):
    """Every response in scope, once: the compact chunks and their summed grain."""
    spool = Spool()
    for wave_source in layout.waves:
        for raw in source.stream(wave_source, layout.school_ids, chunk_rows,
                                 pseudonyms=pseudonyms):
            spool.grains.append(chunk_grain(wave_source, raw, pseudonyms))
            spool.chunks.append((wave_source, compact(raw, wave_source)))
    return spool
