"""Apache Parquet: typed columns (items as int16, scores as float64, categories as text),
one row group per chunk, so memory stays flat whatever the number of responses.
Variable labels travel as field metadata ("label")."""

import pyarrow as pa
import pyarrow.parquet as pq

from .base import ResponseExporter

ARROW_TYPES = {"category": pa.string(), "string": pa.string(), "item": pa.int16(),
               "score": pa.float64()}


def arrow_schema(columns):
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.kind], metadata={"label": c.label})
                      for c in columns])


def to_arrow(frame, columns, schema):
    arrays = []
    for col in columns:
        values = frame[col.name]
        if col.kind == "category":  # decoded in Arrow, not cell by cell in Python
            arrays.append(pa.array(values, from_pandas=True).dictionary_decode()
                          .cast(pa.string()))
            continue
        arrays.append(pa.array(values, type=ARROW_TYPES[col.kind], from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


class ParquetExporter(ResponseExporter):
    key = "parquet"
    label = "Apache Parquet"
    extension = ".parquet"
    media_type = "application/vnd.apache.parquet"

    def write(self, path, columns, chunks):
        schema = arrow_schema(columns)
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            wrote = False
            for frame in chunks:
                writer.write_table(to_arrow(frame, columns, schema))
                wrote = True
            if not wrote:
                writer.write_table(schema.empty_table())
