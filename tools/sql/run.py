"""Run guarded SQL on a hardened, read-only DuckDB connection, within engine limits.

DuckDB's own advice (operations manual, "Securing DuckDB") is that settings are defence in depth and
timeouts belong to the application. So every query here runs:

- on a short-lived read-only connection (``store.reader``); the agent's usage ledger is copied in as
  the TEMP table ``agent_usage`` only when a query reads it (and again when the ledger changed);
- after ``enable_external_access=false`` (no files, URLs, ATTACH, COPY), no extension auto-install or
  auto-load, no Python replacement scans, no spill directory (``temp_directory=''``: nothing is
  written next to the database), bounded ``threads`` and ``memory_limit``, then
  ``lock_configuration=true`` so no later statement can undo any of it;
- through :func:`tools.sql.guard.guard` (the SQL that runs is the guard's re-rendering);
- with a timer thread that calls ``con.interrupt()`` at the timeout, fetching at most
  ``max_rows + 1`` rows (never ``fetchall``) and at most ``max_chars`` characters of JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.billing import catalog, store
from tools.context import QueryLimits, ToolContext
from tools.errors import FinopsError, QueryLimit, ToolError
from tools.ledger import USAGE_COLUMNS, read_usage
from tools.sql.guard import GuardedQuery, Schema, guard

if TYPE_CHECKING:
    import duckdb

USAGE_TABLE = "agent_usage"
MAX_CELL_CHARS = 4_000


@dataclass(frozen=True)
class QueryResult:
    """Rows of a guarded query, JSON-safe except money, which stays ``Decimal``."""

    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    elapsed_ms: float
    sql: str
    note: str | None = None
    guard_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The ``finops sql --json`` document (Decimal left for the caller's JSON encoder)."""
        return {
            "columns": self.columns,
            "rows": self.rows,
            "row_count": self.row_count,
            "truncated": self.truncated,
        }


def run_query(ctx: ToolContext, sql: str) -> QueryResult:
    """Guard ``sql`` against the loaded schema and run it within ``ctx.limits``."""
    with open_runner(ctx) as runner:
        return runner.run(sql)


class Runner:
    """One hardened connection for several queries (TUI, MCP, evals): the schema is read once."""

    def __init__(self, con: duckdb.DuckDBPyConnection, limits: QueryLimits, ledger_path: Path | None = None) -> None:
        self.con = con
        self.limits = limits
        self.ledger_path = ledger_path
        self._schema: Schema | None = None
        self._usage_state: tuple[int, ...] | None = None

    @property
    def schema(self) -> Schema:
        if self._schema is None:
            self._schema = schema_for_guard(self.con)
        return self._schema

    def check(self, sql: str) -> GuardedQuery:
        """Guard only (raises SqlRejected); nothing runs."""
        return guard(sql, self.schema)

    def run(self, sql: str) -> QueryResult:
        """Guard, then execute within the limits; ``guard_ms`` says what the guard cost."""
        schema = self.schema
        started = time.perf_counter()
        guarded = guard(sql, schema)
        guard_ms = (time.perf_counter() - started) * 1000
        if USAGE_TABLE in guarded.tables:
            self._refresh_usage()
        return execute(self.con, guarded, self.limits, guard_ms=guard_ms)

    def _refresh_usage(self) -> None:
        """(Re)load ``agent_usage`` when the ledger changed since this connection last read it."""
        state = _ledger_state(self.ledger_path)
        if state != self._usage_state:
            load_usage(self.con, self.ledger_path)
            self._usage_state = state


@contextmanager
def open_runner(ctx: ToolContext) -> Iterator[Runner]:
    """A :class:`Runner` on a hardened read-only connection, closed on exit."""
    with connect(ctx) as con:
        yield Runner(con, ctx.limits, ctx.ledger_path)


@dataclass
class _Shared:
    """A hardened connection other in-process users take cursors from (same DuckDB instance)."""

    con: duckdb.DuckDBPyConnection
    users: int


_OPEN: dict[str, _Shared] = {}
_OPEN_LOCK = threading.Lock()
_OPENING = threading.Lock()


@contextmanager
def connect(ctx: ToolContext) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection with ``agent_usage`` loaded, hardened and locked.

    DuckDB shares one instance per file within a process and a locked instance refuses new
    connections with their own config; so while one hardened connection is open, later callers
    get a cursor on it (its own temp ``agent_usage``), and the last one out closes it.
    """
    key = str(ctx.db_path.resolve())
    with _OPENING:  # one opener at a time, so nobody sees a half-hardened instance
        with _OPEN_LOCK:
            shared = _OPEN.get(key)
            if shared is not None:
                shared.users += 1
        if shared is None:
            stack, opened = _open_hardened(ctx, key)
    if shared is not None:
        try:
            cursor = shared.con.cursor()
            try:
                harden(cursor, ctx.limits)
                yield cursor
            finally:
                cursor.close()
        finally:
            _release(key)
        return
    try:
        yield opened
    finally:
        _release(key, wait_for_others=True, close=stack.close)


def _open_hardened(ctx: ToolContext, key: str) -> tuple[ExitStack, duckdb.DuckDBPyConnection]:
    """Open, load the ledger, harden and register; closing the stack closes the connection."""
    stack = ExitStack()
    try:
        con = stack.enter_context(store.reader(ctx.db_path))
        harden(con, ctx.limits)
    except BaseException:
        stack.close()
        raise
    with _OPEN_LOCK:
        _OPEN[key] = _Shared(con, 1)
    return stack, con


def _release(key: str, wait_for_others: bool = False, close: Callable[[], object] | None = None) -> None:
    """Drop one user; the opener waits (bounded) for cursor users, then closes its connection and
    unregisters it in one step under the lock, so nobody opens a fresh connection while the locked
    instance is still closing."""
    deadline = time.monotonic() + 60
    while True:
        with _OPEN_LOCK:
            shared = _OPEN.get(key)
            if shared is None:
                if close is not None:
                    close()
                return
            if not wait_for_others or shared.users <= 1 or time.monotonic() > deadline:
                shared.users -= 1
                if wait_for_others:
                    if close is not None:
                        close()
                    del _OPEN[key]
                return
        time.sleep(0.01)


def load_usage(con: duckdb.DuckDBPyConnection, ledger_path: Path | None) -> None:
    """Copy the SQLite usage ledger into the TEMP table ``agent_usage`` (empty when none yet).

    One statement: each column goes in as a typed list parameter and is unnested (a VALUES list
    with one parameter per cell is ~15x slower on a 20k-row ledger).
    """
    cols = ", ".join(f'"{name}" {kind}' for name, kind in USAGE_COLUMNS.items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE {USAGE_TABLE} ({cols})")
    rows = read_usage(ledger_path) if ledger_path is not None else []
    if not rows:
        return
    columns = [list(values) for values in zip(*rows, strict=True)]
    unnested = ", ".join(f"unnest(?::{kind}[])" for kind in USAGE_COLUMNS.values())
    con.execute(f"INSERT INTO {USAGE_TABLE} SELECT {unnested}", columns)


def _ledger_state(path: Path | None) -> tuple[int, ...]:
    """Size and mtime of the ledger and its WAL: changes whenever a call is recorded."""
    state: list[int] = []
    for candidate in ([path, path.with_name(path.name + "-wal")] if path is not None else []):
        try:
            st = candidate.stat()
            state += [st.st_size, st.st_mtime_ns]
        except OSError:
            state += [-1, -1]
    return tuple(state)


_LOCKED_SETTINGS = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "python_enable_replacements": False,
}


def harden(con: duckdb.DuckDBPyConnection, limits: QueryLimits) -> None:
    """Apply the engine limits and lock the configuration (order matters: lock last).

    DuckDB shares one database instance between connections to the same file in a process, so a
    second query while another is open finds the instance already locked: then verify instead.
    """
    row = con.execute("SELECT current_setting('lock_configuration')").fetchone()
    if row and row[0]:
        _verify_locked(con)
        return
    for statement in (
        "SET GLOBAL python_enable_replacements = false",
        "SET temp_directory = ''",
        f"SET memory_limit = '{_size(limits.memory_limit)}'",
        f"SET threads = {int(limits.threads)}",
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        "SET allow_community_extensions = false",
        "SET enable_external_access = false",
        "SET lock_configuration = true",
    ):
        con.execute(statement)


def _verify_locked(con: duckdb.DuckDBPyConnection) -> None:
    names = list(_LOCKED_SETTINGS)
    values = con.execute("SELECT " + ", ".join(f"current_setting('{n}')" for n in names)).fetchone() or ()
    for name, value in zip(names, values, strict=True):
        if value != _LOCKED_SETTINGS[name]:
            raise FinopsError(f"the open database connection is locked without {name}={_LOCKED_SETTINGS[name]}")


def _size(text: str) -> str:
    """A memory size like ``2GB``; anything else is a configuration bug, not SQL to splice."""
    digits = text.rstrip("KMGTBikmgtb ")
    unit = text[len(digits) :].strip()
    units = {"KB", "MB", "GB", "TB", "KIB", "MIB", "GIB"}
    if not digits.replace(".", "", 1).isdigit() or unit.upper() not in units:
        raise ValueError(f"bad memory_limit {text!r}; use e.g. 2GB")
    return f"{digits}{unit}"


def schema_for_guard(con: duckdb.DuckDBPyConnection) -> Schema:
    """Tables guarded SQL may read: ``focus``, our views, and the TEMP ``agent_usage`` ledger."""
    rows = con.execute(
        """SELECT table_catalog, table_name, column_name, data_type FROM information_schema.columns
           WHERE table_catalog = current_database() AND table_schema = 'main'
             AND (table_name = ? OR table_name IN (
                 SELECT view_name FROM duckdb_views()
                 WHERE NOT internal AND schema_name = 'main' AND database_name = current_database()))
           ORDER BY table_name <> ?, table_name, ordinal_position""",
        [catalog.TABLE, catalog.TABLE],
    ).fetchall()
    schema: Schema = {}
    for _catalog, table, column, kind in rows:
        schema.setdefault(str(table), {})[str(column)] = str(kind)
    schema[USAGE_TABLE] = dict(USAGE_COLUMNS)  # loaded on first use (Runner.run)
    return schema


def execute(
    con: duckdb.DuckDBPyConnection, guarded: GuardedQuery, limits: QueryLimits, guard_ms: float = 0.0
) -> QueryResult:
    """Run already-guarded SQL with the timeout, row cap and character cap."""
    import duckdb

    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        con.interrupt()

    timer = threading.Timer(limits.timeout_s, stop)
    timer.daemon = True
    started = time.perf_counter()
    timer.start()
    try:
        cursor = con.execute(guarded.sql)
        columns = [str(d[0]) for d in (cursor.description or [])]
        raw = cursor.fetchmany(limits.max_rows + 1)
    except duckdb.InterruptException:
        raise _timeout(limits) from None
    except duckdb.OutOfMemoryException:
        raise QueryLimit(
            f"query needed more than the {limits.memory_limit} memory limit; aggregate or filter first"
        ) from None
    except duckdb.Error as exc:
        if timed_out.is_set():
            raise _timeout(limits) from None
        raise ToolError(f"query failed: {_first_line(str(exc))}") from None
    finally:
        timer.cancel()
        timer.join()
    elapsed_ms = (time.perf_counter() - started) * 1000
    rows, truncated, note = _cap(raw, limits)
    return QueryResult(columns, rows, len(rows), truncated, elapsed_ms, guarded.sql, note, guard_ms)


def _timeout(limits: QueryLimits) -> QueryLimit:
    return QueryLimit(f"query took longer than {limits.timeout_s:g} s; narrow the period or aggregate")


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[0] if lines else "unknown error")[:300]


def _cap(raw: Sequence[tuple[Any, ...]], limits: QueryLimits) -> tuple[list[list[Any]], bool, str | None]:
    """JSON-safe rows within ``max_rows`` and ``max_chars``; say why when anything was cut."""
    rows: list[list[Any]] = []
    used = 0
    cut_cells = False
    for values in raw[: limits.max_rows]:
        row = [to_json_safe(v) for v in values]
        for i, v in enumerate(row):
            if isinstance(v, str) and len(v) > MAX_CELL_CHARS:
                row[i] = v[:MAX_CELL_CHARS] + "…"
                cut_cells = True
        used += len(json.dumps(row, default=str, ensure_ascii=False)) + 1
        if used > limits.max_chars:
            return rows, True, (
                f"result cut at {len(rows):,} rows to stay under {limits.max_chars:,} characters; "
                "select fewer columns or aggregate"
            )
        rows.append(row)
    if len(raw) > limits.max_rows:
        note = f"only the first {limits.max_rows:,} rows are shown; aggregate (GROUP BY) or add a LIMIT"
        return rows, True, note
    if cut_cells:
        return rows, True, f"text values longer than {MAX_CELL_CHARS:,} characters were cut"
    return rows, False, None


def to_json_safe(value: Any) -> Any:
    """A DuckDB value as JSON-safe Python; ``Decimal`` is kept (money) for the caller to encode."""
    if value is None or isinstance(value, bool | int | str | Decimal):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_json_safe(v) for v in value]
    return str(value)
