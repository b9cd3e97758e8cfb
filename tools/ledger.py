"""The agent's own usage ledger: one SQLite file shared by every process using the same home.

Every LLM call is a row. Before a call the agent *reserves* its worst-case cost with :func:`reserve`
(inside ``BEGIN IMMEDIATE``, so two processes cannot both pass the budget check); after the call it
:func:`settle` s the row with the actual usage. A reservation that is never settled (a crash) keeps
counting against the budget at its reserved amount, so spend is never under-stated.

Money is stored as integer units of 1e-8 USD (``DECIMAL(18,8)``) so sums are exact. The SQL helper
loads :func:`read_usage` into DuckDB as the temp table ``agent_usage`` (columns :data:`USAGE_COLUMNS`).
Stdlib only: this module must not import the agent.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from tools.errors import BudgetExhausted

#: Column name -> DuckDB type, in table order (the contract with the SQL helper).
USAGE_COLUMNS: dict[str, str] = {
    "call_id": "VARCHAR",
    "ts": "TIMESTAMP",
    "feature": "VARCHAR",
    "session_id": "VARCHAR",
    "provider": "VARCHAR",
    "model": "VARCHAR",
    "input_tokens": "BIGINT",
    "output_tokens": "BIGINT",
    "cache_write_tokens": "BIGINT",
    "cache_read_tokens": "BIGINT",
    "cost_usd": "DECIMAL(18,8)",
    "reserved_usd": "DECIMAL(18,8)",
    "latency_ms": "BIGINT",
    "outcome": "VARCHAR",
    "estimated": "BOOLEAN",
    "request_id": "VARCHAR",
    "price_version": "VARCHAR",
}

PENDING = "pending"  # outcome of a reservation not settled yet
_UNITS = Decimal("100000000")  # 1e-8 USD per stored unit
_BUSY_MS = 30_000
_DAY = timedelta(days=1)

_SQLITE_TYPES = {"BIGINT": "INTEGER", "BOOLEAN": "INTEGER", "TIMESTAMP": "TEXT", "VARCHAR": "TEXT"}
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS usage ("
    + ", ".join(
        f"{name} {'INTEGER' if kind.startswith('DECIMAL') else _SQLITE_TYPES[kind]}"
        + (" PRIMARY KEY" if name == "call_id" else "")
        for name, kind in USAGE_COLUMNS.items()
    )
    + ")"
)


def to_units(usd: Decimal | float | int) -> int:
    """USD -> stored integer units (rounded up: a reservation must never be under-stated)."""
    value = Decimal(str(usd)) * _UNITS
    return int(value.to_integral_value(rounding="ROUND_CEILING"))


def from_units(units: int | None) -> Decimal:
    return (Decimal(units or 0) / _UNITS).quantize(Decimal("0.00000001"))


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """An autocommit connection in WAL mode with a busy timeout; creates the table on first use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=_BUSY_MS / 1000, isolation_level=None)
    try:
        con.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
        _wal(con)
        con.execute(_SCHEMA)
        con.execute("CREATE INDEX IF NOT EXISTS usage_ts ON usage (ts)")
        yield con
    finally:
        con.close()


def _wal(con: sqlite3.Connection) -> None:
    """Switch to WAL once. SQLite does not call the busy handler for a journal-mode change, so two
    processes creating the ledger at the same moment can see "database is locked": retry briefly."""
    import time

    deadline = time.monotonic() + _BUSY_MS / 1000
    delay = 0.005
    while True:
        try:
            row = con.execute("PRAGMA journal_mode").fetchone()
            if row and str(row[0]).lower() == "wal":
                return
            con.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


@contextmanager
def _immediate(con: sqlite3.Connection) -> Iterator[None]:
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _stamp(ts: datetime) -> str:
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts.isoformat(sep=" ", timespec="microseconds")


def day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def month_start(now: datetime) -> datetime:
    return day_start(now).replace(day=1)


def next_month(now: datetime) -> datetime:
    first = month_start(now)
    return (first + timedelta(days=32)).replace(day=1)


_COMMITTED = f"COALESCE(SUM(CASE WHEN outcome = '{PENDING}' THEN reserved_usd ELSE cost_usd END), 0)"


def _committed(con: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> int:
    row = con.execute(f"SELECT {_COMMITTED} FROM usage WHERE {where}", params).fetchone()
    return int(row[0])


@dataclass(frozen=True)
class Spend:
    """Committed spend (settled cost + open reservations) in the current day and month (UTC)."""

    daily_usd: Decimal
    monthly_usd: Decimal


def spend(path: Path, now: datetime | None = None) -> Spend:
    now = now or _now()
    with connect(path) as con:
        day = _committed(con, "ts >= ?", (_stamp(day_start(now)),))
        month = _committed(con, "ts >= ?", (_stamp(month_start(now)),))
    return Spend(daily_usd=from_units(day), monthly_usd=from_units(month))


def _check(
    con: sqlite3.Connection,
    amount: int,
    now: datetime,
    daily_limit: Decimal | None,
    monthly_limit: Decimal | None,
    session: tuple[str, Decimal] | None,
) -> None:
    checks: list[tuple[str, str, tuple[Any, ...], Decimal | None, str]] = [
        ("daily", "ts >= ?", (_stamp(day_start(now)),), daily_limit, _stamp(day_start(now) + _DAY)),
        ("monthly", "ts >= ?", (_stamp(month_start(now)),), monthly_limit, _stamp(next_month(now))),
    ]
    if session is not None:
        checks.append(("per-command", "session_id = ?", (session[0],), session[1], "with the next command"))
    for name, where, params, limit, resets in checks:
        if limit is None:
            continue
        spent = _committed(con, where, params)
        if spent + amount > to_units(limit):
            when = resets if resets.startswith("with") else f"at {resets[:16]} UTC"
            raise BudgetExhausted(
                f"{name} LLM budget exhausted: spent ${from_units(spent):.4f} of ${Decimal(str(limit)):.4f}"
                f" (next call may cost up to ${from_units(amount):.4f}); resets {when}"
            )


def reserve(
    path: Path,
    *,
    reserved_usd: Decimal,
    feature: str,
    provider: str,
    model: str,
    session_id: str = "",
    price_version: str = "",
    daily_limit_usd: Decimal | float | None = None,
    monthly_limit_usd: Decimal | float | None = None,
    session_limit_usd: Decimal | float | None = None,
    now: datetime | None = None,
) -> str:
    """Reserve a call's worst-case cost, or raise BudgetExhausted. Returns the new ``call_id``.

    The check and the insert happen in one ``BEGIN IMMEDIATE`` transaction (a write lock across
    processes), so concurrent callers sharing a ledger can never together exceed a limit.
    """
    now = now or _now()
    amount = to_units(reserved_usd)
    call_id = uuid.uuid4().hex
    raw_limits = (daily_limit_usd, monthly_limit_usd, session_limit_usd)
    limits = [None if x is None else Decimal(str(x)) for x in raw_limits]
    session = (session_id, limits[2]) if limits[2] is not None else None
    with connect(path) as con, _immediate(con):
        _check(con, amount, now, limits[0], limits[1], session)
        con.execute(
            "INSERT INTO usage (call_id, ts, feature, session_id, provider, model, input_tokens,"
            " output_tokens, cache_write_tokens, cache_read_tokens, cost_usd, reserved_usd, latency_ms,"
            " outcome, estimated, request_id, price_version)"
            " VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, ?, 0, ?, 1, NULL, ?)",
            (call_id, _stamp(now), feature, session_id, provider, model, amount, PENDING, price_version),
        )
    return call_id


def settle(
    path: Path,
    call_id: str,
    *,
    cost_usd: Decimal,
    input_tokens: int = 0,
    output_tokens: int = 0,
    cache_write_tokens: int = 0,
    cache_read_tokens: int = 0,
    latency_ms: int = 0,
    outcome: str = "ok",
    estimated: bool = False,
    request_id: str | None = None,
    model: str | None = None,
) -> None:
    """Replace a reservation by the actual usage of the call (``outcome`` e.g. ok, error, cut)."""
    if outcome == PENDING:
        raise ValueError("settle needs a final outcome")
    with connect(path) as con, _immediate(con):
        cur = con.execute(
            "UPDATE usage SET input_tokens = ?, output_tokens = ?, cache_write_tokens = ?,"
            " cache_read_tokens = ?, cost_usd = ?, latency_ms = ?, outcome = ?, estimated = ?,"
            " request_id = ?, model = COALESCE(?, model) WHERE call_id = ?",
            (
                input_tokens,
                output_tokens,
                cache_write_tokens,
                cache_read_tokens,
                to_units(cost_usd),
                latency_ms,
                outcome,
                int(estimated),
                request_id,
                model,
                call_id,
            ),
        )
        if cur.rowcount != 1:
            raise KeyError(f"no reservation {call_id} in {path}")


def _row(raw: tuple[Any, ...]) -> tuple[Any, ...]:
    out: list[Any] = []
    for (_name, kind), value in zip(USAGE_COLUMNS.items(), raw, strict=True):
        if value is None:
            out.append(None)
        elif kind.startswith("DECIMAL"):
            out.append(from_units(value))
        elif kind == "TIMESTAMP":
            out.append(datetime.fromisoformat(value))
        elif kind == "BOOLEAN":
            out.append(bool(value))
        else:
            out.append(value)
    return tuple(out)


def read_usage(path: Path, since: datetime | None = None) -> list[tuple[Any, ...]]:
    """Every ledger row (optionally from ``since``) in :data:`USAGE_COLUMNS` order, typed for DuckDB."""
    if not Path(path).exists():
        return []
    cols = ", ".join(USAGE_COLUMNS)
    with connect(Path(path)) as con:
        if since is None:
            rows = con.execute(f"SELECT {cols} FROM usage ORDER BY ts").fetchall()
        else:
            sql = f"SELECT {cols} FROM usage WHERE ts >= ? ORDER BY ts"
            rows = con.execute(sql, (_stamp(since),)).fetchall()
    return [_row(r) for r in rows]


@dataclass(frozen=True)
class Totals:
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal


_GROUPS = {
    "feature": "feature",
    "model": "model",
    "provider": "provider",
    "day": "substr(ts, 1, 10)",
    "session": "session_id",
    "outcome": "outcome",
}


def totals(
    path: Path, *, since: datetime | None = None, session_id: str | None = None, by: str | None = None
) -> list[tuple[str | None, Totals]]:
    """Calls, tokens and committed cost (open reservations count at their reserved amount).

    ``by`` groups by feature, model, provider, day, session or outcome; without it one ``(None, Totals)``.
    """
    if by is not None and by not in _GROUPS:
        raise ValueError(f"cannot group usage by {by!r}; choose one of {', '.join(_GROUPS)}")
    where, params = ["1 = 1"], []
    if since is not None:
        where.append("ts >= ?")
        params.append(_stamp(since))
    if session_id is not None:
        where.append("session_id = ?")
        params.append(session_id)
    key = _GROUPS[by] if by else "NULL"
    sql = (
        f"SELECT {key} AS k, COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),"
        f" {_COMMITTED} FROM usage WHERE {' AND '.join(where)} GROUP BY k ORDER BY k"
    )
    if not Path(path).exists():
        return [] if by else [(None, Totals(0, 0, 0, Decimal("0")))]
    with connect(Path(path)) as con:
        rows = con.execute(sql, params).fetchall()
    out = [(k, Totals(int(n), int(i), int(o), from_units(c))) for k, n, i, o, c in rows]
    if not by and not out:
        out = [(None, Totals(0, 0, 0, Decimal("0")))]
    return out
