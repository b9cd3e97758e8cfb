"""The DuckDB file under the home: the canonical ``focus`` table, the ingest log, connections.

DuckDB allows one writer process per file. Writers (ingest, demo) open short-lived read-write
connections; readers open read-only ones. Both retry briefly when another process holds the lock,
so a TUI, an MCP server and a cron job can share one home without a lock error reaching the user.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tools.billing import catalog
from tools.errors import DataMissing, FinopsError

if TYPE_CHECKING:
    import duckdb

INGEST_LOG = "ingest_log"
TAG_MAP = "tag_column_map"
LOCK_WAIT_S = 20.0
MAX_TAG_COLUMNS = 12
TAG_COLUMN_MIN_SHARE = 0.05


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set lock" in text or "held" in text)


def _connect(path: Path, read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
    import duckdb

    deadline = time.monotonic() + wait_s
    delay = 0.02
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config={"threads": 2})
            # DuckDB's own progress bar writes to stdout, which is the product's output: always off.
            con.execute("SET enable_progress_bar = false")
            return con
        except duckdb.Error as exc:
            if not _is_lock_error(exc) or time.monotonic() > deadline:
                if _is_lock_error(exc):
                    raise FinopsError(
                        f"{path} is busy (another finops process is writing); try again in a moment"
                    ) from None
                raise
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 0.5)


@contextmanager
def writer(db_path: Path, wait_s: float = LOCK_WAIT_S) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-write connection with the schema in place."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(db_path, read_only=False, wait_s=wait_s)
    try:
        ensure_schema(con)
        yield con
    finally:
        con.close()


@contextmanager
def reader(db_path: Path, wait_s: float = LOCK_WAIT_S) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; raises DataMissing when nothing was ever loaded."""
    if not db_path.exists():
        raise DataMissing(f"no billing data in {db_path.parent}; run `finops demo` or `finops ingest PATH`")
    try:
        con = _connect(db_path, read_only=True, wait_s=wait_s)
    except Exception as exc:
        if "configuration has been locked" not in str(exc).lower():
            raise
        # This process already holds the file through a hardened query connection (TUI, MCP server):
        # DuckDB shares one instance per file, so read through a cursor on that connection instead.
        with _shared_cursor(db_path, wait_s) as shared:
            yield shared
        return
    try:
        yield con
    finally:
        con.close()


@contextmanager
def _shared_cursor(db_path: Path, wait_s: float) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on the process's open hardened connection, or a fresh connection once the locked
    instance has closed. Never takes the hardened connection's opener lock (no re-entry deadlock)."""
    from tools.sql import run

    key = str(db_path.resolve())
    deadline = time.monotonic() + wait_s
    while True:
        with run._OPEN_LOCK:
            shared = run._OPEN.get(key)
            if shared is not None:
                shared.users += 1
        if shared is not None:
            cursor = shared.con.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
                run._release(key)
            return
        try:
            con = _connect(db_path, read_only=True, wait_s=0)
        except Exception as exc:  # the locked instance is still closing: wait a moment
            if "configuration has been locked" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
            continue
        try:
            yield con
        finally:
            con.close()
        return


def focus_ddl() -> str:
    cols = [f'"{c.name}" {c.duckdb_type}' for c in catalog.columns()]
    cols.append('"x_IngestId" INTEGER')
    return f"CREATE TABLE IF NOT EXISTS {catalog.TABLE} (\n  " + ",\n  ".join(cols) + "\n)"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(focus_ddl())
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {INGEST_LOG} (
            ingest_id INTEGER PRIMARY KEY,
            path VARCHAR NOT NULL,
            sha256 VARCHAR NOT NULL,
            format VARCHAR NOT NULL,
            focus_version VARCHAR,
            rows BIGINT NOT NULL,
            ingested_at TIMESTAMP NOT NULL,
            billing_periods VARCHAR[],
            providers VARCHAR[],
            replaced_rows BIGINT DEFAULT 0,
            active BOOLEAN DEFAULT TRUE
        )"""
    )
    con.execute(f"CREATE TABLE IF NOT EXISTS {TAG_MAP} (tag_key VARCHAR PRIMARY KEY, column_name VARCHAR NOT NULL)")


def table_columns(con: duckdb.DuckDBPyConnection, table: str = catalog.TABLE) -> dict[str, str]:
    """Column name -> DuckDB type, in table order."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return {str(n): str(t) for n, t in rows}


def row_count(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(f"SELECT count(*) FROM {catalog.TABLE}").fetchone()
    return int(row[0]) if row else 0


def has_data(db_path: Path) -> bool:
    if not db_path.exists():
        return False
    try:
        with reader(db_path) as con:
            return row_count(con) > 0
    except Exception:  # a corrupt or foreign file counts as no data; ingest will say why
        return False


def data_version(con: duckdb.DuckDBPyConnection) -> str:
    """Changes whenever the loaded data changes (used to key the answer cache)."""
    row = con.execute(f"SELECT coalesce(max(ingest_id), 0), count(*) FROM {INGEST_LOG} WHERE active").fetchone()
    total = row_count(con)
    return f"{row[0] if row else 0}:{row[1] if row else 0}:{total}"


def tag_columns(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Materialised tag key -> its column name."""
    present = set(table_columns(con))
    rows = con.execute(f"SELECT tag_key, column_name FROM {TAG_MAP} ORDER BY tag_key").fetchall()
    return {str(k): str(c) for k, c in rows if c in present}


def tag_column_name(key: str) -> str:
    safe = "".join(ch if ch.isalnum() else "_" for ch in key)
    return f"{catalog.TAG_COLUMN_PREFIX}{safe}"


def materialise_tags(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Materialise the org's frequent tag keys as VARCHAR columns (cost-by-tag ~1x a plain group-by).

    A key qualifies when it appears on at least 5% of rows; at most 12 keys. A key that becomes frequent
    gets its column filled once here; afterwards every ingest fills it in its INSERT.
    """
    total = row_count(con)
    if total == 0:
        return []
    rows = con.execute(
        f"""SELECT k, count(*) AS n FROM (SELECT unnest(map_keys(Tags)) AS k FROM {catalog.TABLE})
            GROUP BY k ORDER BY n DESC, k LIMIT {MAX_TAG_COLUMNS}"""
    ).fetchall()
    existing = tag_columns(con)
    made = list(existing.values())
    for key, n in rows:
        if n / total < TAG_COLUMN_MIN_SHARE or key in existing:
            continue  # existing columns are filled by the ingest's INSERT itself
        col = add_tag_column(con, str(key))
        if col is None:
            continue
        con.execute(f'UPDATE {catalog.TABLE} SET "{col}" = Tags[?] WHERE Tags[?] IS NOT NULL', [key, key])
        made.append(col)
    return made


def add_tag_column(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    """Add the materialised column for tag ``key`` (None when another key already maps to that name)."""
    col = tag_column_name(key)
    if col in table_columns(con):  # two keys that differ only in punctuation share no column
        return None
    con.execute(f'ALTER TABLE {catalog.TABLE} ADD COLUMN "{col}" VARCHAR')
    con.execute(f"INSERT OR REPLACE INTO {TAG_MAP} VALUES (?, ?)", [key, col])
    return col
