"""Arrow arrays built straight from numpy buffers.

``pa.array()`` imports pandas on first use (~1.3 s of CPU here, a third of generating the small demo);
these helpers build the same arrays from buffers, so generating the demo never imports pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

EPOCH = datetime(1970, 1, 1)


def _validity(valid: np.ndarray | None) -> tuple[pa.Buffer | None, int]:
    if valid is None or bool(valid.all()):
        return None, 0
    return pa.py_buffer(np.packbits(valid, bitorder="little")), int((~valid).sum())


def f64(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """float64 column; NaN counts as null unless ``valid`` says otherwise."""
    data = np.ascontiguousarray(values, dtype=np.float64)
    if valid is None:
        valid = ~np.isnan(data)
    bitmap, nulls = _validity(valid)
    return pa.Array.from_buffers(pa.float64(), len(data), [bitmap, pa.py_buffer(data)], null_count=nulls)


def timestamps(micros: np.ndarray) -> pa.Array:
    """timestamp[us] (UTC, no zone) from int64 microseconds since the epoch."""
    data = np.ascontiguousarray(micros, dtype=np.int64)
    return pa.Array.from_buffers(pa.timestamp("us"), len(data), [None, pa.py_buffer(data)])


def strings(values: Sequence[str | None]) -> pa.Array:
    raw = [v.encode() if v is not None else b"" for v in values]
    offsets = np.zeros(len(raw) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(b) for b in raw], dtype=np.int64)
    bitmap, nulls = _validity(np.array([v is not None for v in values], dtype=bool))
    buffers = [bitmap, pa.py_buffer(offsets), pa.py_buffer(b"".join(raw))]
    return pa.Array.from_buffers(pa.string(), len(raw), buffers, null_count=nulls)


def encode(values: Sequence[str | None]) -> tuple[np.ndarray, pa.Array]:
    """(int32 codes with -1 for null, dictionary of the distinct non-null values)."""
    index: dict[str, int] = {}
    codes = np.empty(len(values), dtype=np.int32)
    for i, v in enumerate(values):
        codes[i] = -1 if v is None else index.setdefault(v, len(index))
    return codes, strings(list(index))


def dict_column(codes: np.ndarray, dictionary: pa.Array) -> pa.Array:
    """A dictionary-encoded string column: 4 bytes a row instead of the string (bounded memory)."""
    data = np.ascontiguousarray(codes, dtype=np.int32)
    bitmap, nulls = _validity(data >= 0)
    indices = pa.Array.from_buffers(pa.int32(), len(data), [bitmap, pa.py_buffer(data)], null_count=nulls)
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def column(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    """A column from a few Python values (None = null) for float64, timestamp[us] or string."""
    if pa.types.is_floating(kind):
        return f64(np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64))
    if pa.types.is_timestamp(kind):
        micros = [0 if v is None else int((v - EPOCH).total_seconds()) * 1_000_000 for v in values]
        arr = timestamps(np.array(micros, dtype=np.int64))
        return arr if all(v is not None for v in values) else _with_nulls(arr, values)
    return strings([None if v is None else str(v) for v in values])


def _with_nulls(arr: pa.Array, values: Sequence[Any]) -> pa.Array:
    bitmap, nulls = _validity(np.array([v is not None for v in values], dtype=bool))
    return pa.Array.from_buffers(arr.type, len(arr), [bitmap, arr.buffers()[1]], null_count=nulls)


def table_from_rows(rows: Sequence[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Like ``pa.Table.from_pylist(rows, schema=schema)`` for float, timestamp and string fields."""
    arrays = [column([r.get(f.name) for r in rows], f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)
