"""A streaming writer of SPSS system files (.sav): bytecode compression, variable labels,
value labels, long variable names, UTF-8; chunks of rows are compressed with NumPy and
appended, so no whole table is ever built.

The layout follows the system-file format as PSPP documents it ("System File Format"):
the file header, one variable record per variable (plus one continuation record per
further 8 bytes of a string), value-label records (3) each followed by the index record
(4) of its variable, the machine integer (7.3) and floating-point (7.4) records, long
variable names (7.13), the character encoding (7.20), the dictionary terminator (999),
and then the cases. A case is a sequence of 8-byte segments; bytecode compression
describes segments eight at a time with one command byte each: 1..251 a number equal to
the code minus the bias (100), 253 the 8 bytes follow uncompressed, 254 a segment of
spaces, 255 system-missing, 0 padding. The number of cases is patched into the header
when the file is closed. pyreadstat (ReadStat) reads the files back in the tests.
"""

import struct
from datetime import datetime

import numpy as np

BIAS = 100
RAW, SPACES, SYSMIS_CODE = 253, 254, 255
DBL_MAX = np.finfo(np.float64).max
MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
VARIABLE_LABEL_BYTES, VALUE_LABEL_BYTES = 255, 120
NCASES_AT = 4 + 60 + 4 * 4  # offset of ncases in the header


def fixed(text, size):
    """`text` as UTF-8, cut on a character boundary to `size` bytes, padded with spaces."""
    data = text.encode("utf-8")[:size].decode("utf-8", "ignore").encode("utf-8")
    return data + b" " * (size - len(data))


def cut(text, size):
    return text.encode("utf-8")[:size].decode("utf-8", "ignore").encode("utf-8")


class Variable:
    """One variable: `width` 0 for a number, else the string's width in bytes."""

    def __init__(self, index, name, label, width=0, value_labels=None, decimals=0):
        self.short = f"V{index + 1}".encode("ascii")
        self.name, self.label, self.width = name, label, width
        self.value_labels, self.decimals = value_labels or {}, decimals
        self.segments = max(1, -(-width // 8))

    def record(self):
        kind, size = (1, self.width) if self.width else (5, 8)
        form = kind << 16 | size << 8 | (0 if self.width else self.decimals)
        label = cut(self.label, VARIABLE_LABEL_BYTES)
        out = struct.pack("<6i", 2, self.width, 1 if label else 0, 0, form, form)
        out += self.short.ljust(8)
        if label:
            out += struct.pack("<i", len(label)) + label + b" " * (-len(label) % 4)
        for _ in range(self.segments - 1):
            out += struct.pack("<6i", 2, -1, 0, 0, 0, 0) + b" " * 8
        return out


def value_label_record(position, labels):
    out = struct.pack("<ii", 3, len(labels))
    for value, text in labels.items():
        data = cut(str(text), VALUE_LABEL_BYTES)
        entry = bytes([len(data)]) + data
        out += struct.pack("<d", float(value)) + entry + b" " * (-len(entry) % 8)
    return out + struct.pack("<iii", 4, 1, position)


def extension(subtype, size, data):
    return struct.pack("<4i", 7, subtype, size, len(data) // size) + data


def dictionary(variables, file_label):
    now = datetime.now()
    date = f"{now.day:02d} {MONTHS[now.month - 1]} {now.year % 100:02d}".encode()
    segments = sum(v.segments for v in variables)
    out = [b"$FL2", fixed("@(#) SPSS DATA FILE - belonging research export", 60),
           struct.pack("<5i", 2, segments, 1, 0, -1), struct.pack("<d", BIAS),
           date, now.strftime("%H:%M:%S").encode(), fixed(file_label, 64), b"\0" * 3]
    out += [v.record() for v in variables]
    position = 1
    for v in variables:
        if v.value_labels:
            out.append(value_label_record(position, v.value_labels))
        position += v.segments
    out.append(extension(3, 4, struct.pack("<8i", 1, 0, 0, -1, 1, 1, 2, 65001)))
    lowest = np.nextafter(-DBL_MAX, 0)
    out.append(extension(4, 8, struct.pack("<3d", -DBL_MAX, DBL_MAX, lowest)))
    names = "\t".join(f"{v.short.decode()}={v.name}" for v in variables).encode("utf-8")
    out.append(extension(13, 1, names))
    out.append(extension(20, 1, b"UTF-8"))
    out.append(struct.pack("<ii", 999, 0))
    return b"".join(out)


def numeric_segments(values, missing):
    """(command byte, 8 raw bytes) per row of a numeric column."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values) if missing is None else (missing | np.isnan(values))
    small = (~missing & (values == np.floor(values)) & (values >= 1 - BIAS)
             & (values <= 251 - BIAS))
    code = np.full(len(values), RAW, np.uint8)
    code[small] = (values[small] + BIAS).astype(np.uint8)
    code[missing] = SYSMIS_CODE
    return code[:, None], np.ascontiguousarray(values).view(np.uint8).reshape(-1, 1, 8)


def string_segments(values, width, segments):
    """(command bytes, raw bytes) per row of a string column, `segments` of 8 bytes each."""
    size = segments * 8
    encoded = [v.encode("utf-8") if isinstance(v, str) else b"" for v in values]
    if any(len(e) > width for e in encoded):
        raise ValueError(f"a text value is longer than its variable's {width} bytes")
    data = np.array([e.ljust(size) for e in encoded], dtype=f"S{size}")
    raw = data.view(np.uint8).reshape(-1, segments, 8)
    code = np.where((raw == 32).all(axis=2), SPACES, RAW).astype(np.uint8)
    return code, raw


def compress(codes, raw):
    """Bytecode for whole groups of 8 segments: each group's 8 command bytes, then the
    raw 8-byte blocks of its segments coded 253, in order."""
    groups = codes.reshape(-1, 8)
    is_raw = groups == RAW
    sizes = 8 + 8 * is_raw.sum(axis=1)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    out = np.empty(int(sizes.sum()), np.uint8)
    out[(starts[:, None] + np.arange(8)).ravel()] = groups.ravel()
    group, slot = np.nonzero(is_raw)
    order = (np.cumsum(is_raw, axis=1) - 1)[group, slot]
    at = starts[group] + 8 + 8 * order
    out[(at[:, None] + np.arange(8)).ravel()] = raw.reshape(-1, 8)[is_raw.ravel()].ravel()
    return out.tobytes()


class SavWriter:
    """`SavWriter(path, variables, label)`; `write(columns)` with one (values, missing
    mask or None) per variable, as many times as needed; then `close()`."""

    def __init__(self, path, variables, file_label=""):
        self.variables, self.cases = variables, 0
        self.file = open(path, "wb")
        self.file.write(dictionary(variables, file_label))
        self.codes = np.empty(0, np.uint8)
        self.raw = np.empty((0, 8), np.uint8)

    def write(self, columns):
        parts = []
        for v, (values, missing) in zip(self.variables, columns, strict=True):
            parts.append(string_segments(values, v.width, v.segments) if v.width
                         else numeric_segments(values, missing))
        rows = len(parts[0][0]) if parts else 0
        codes = np.concatenate([p[0] for p in parts], axis=1).ravel()
        raw = np.concatenate([p[1] for p in parts], axis=1).reshape(-1, 8)
        self.codes = np.concatenate((self.codes, codes))
        self.raw = np.concatenate((self.raw, raw))
        whole = len(self.codes) // 8 * 8
        self.file.write(compress(self.codes[:whole], self.raw[:whole]))
        self.codes, self.raw = self.codes[whole:], self.raw[whole:]
        self.cases += rows

    def close(self):
        left = len(self.codes)
        if left:
            pad = 8 - left
            self.file.write(compress(np.concatenate((self.codes, np.zeros(pad, np.uint8))),
                                     np.concatenate((self.raw, np.zeros((pad, 8), np.uint8)))))
        self.file.seek(NCASES_AT)
        self.file.write(struct.pack("<i", self.cases))
        self.file.close()
