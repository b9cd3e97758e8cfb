"""The usage ledger: reservations, settlement, limits, and sharing one budget across processes."""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools import ledger
from tools.errors import BudgetExhausted

NOON = datetime(2026, 12, 2, 12, 0)


def reserve(path: Path, usd: str, **kw: object) -> str:
    args: dict[str, object] = {"feature": "ask", "provider": "anthropic", "model": "claude-haiku-4-5"}
    args.update(kw)
    return ledger.reserve(path, reserved_usd=Decimal(usd), **args)  # type: ignore[arg-type]


def test_a_reservation_that_would_cross_the_daily_limit_is_refused_with_one_actionable_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite"
    reserve(path, "0.95", daily_limit_usd=1, now=NOON)
    with pytest.raises(BudgetExhausted) as caught:
        reserve(path, "0.06", daily_limit_usd=1, now=NOON)
    message = str(caught.value)
    assert "\n" not in message
    assert "daily" in message and "$0.9500 of $1.0000" in message and "2026-12-03 00:00 UTC" in message
    assert caught.value.exit_code == 3


def test_the_monthly_limit_counts_every_day_of_the_month_and_resets_next_month(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    reserve(path, "4", now=datetime(2026, 12, 1, 9))
    with pytest.raises(BudgetExhausted, match=r"monthly .* resets at 2027-01-01 00:00 UTC"):
        reserve(path, "2", monthly_limit_usd=5, now=datetime(2026, 12, 20, 9))
    reserve(path, "2", monthly_limit_usd=5, now=datetime(2027, 1, 1, 9))


def test_a_per_command_limit_only_counts_that_commands_session(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    reserve(path, "0.5", session_id="other")
    reserve(path, "0.04", session_id="mine", session_limit_usd=0.05)
    with pytest.raises(BudgetExhausted, match="per-command"):
        reserve(path, "0.02", session_id="mine", session_limit_usd=0.05)


def test_settling_replaces_the_reservation_by_the_actual_cost(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    call = reserve(path, "0.5", now=NOON)
    assert ledger.spend(path, NOON).daily_usd == Decimal("0.5")
    ledger.settle(
        path,
        call,
        cost_usd=Decimal("0.00123456"),
        input_tokens=1200,
        output_tokens=80,
        cache_write_tokens=500,
        cache_read_tokens=300,
        latency_ms=42,
        request_id="req_1",
    )
    assert ledger.spend(path, NOON).daily_usd == Decimal("0.00123456")
    [(_, total)] = ledger.totals(path)
    assert (total.calls, total.input_tokens, total.output_tokens) == (1, 1200, 80)


def test_an_unsettled_reservation_keeps_counting_at_its_reserved_amount(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    reserve(path, "0.3", now=NOON)  # e.g. the process died during the call
    [(_, total)] = ledger.totals(path)
    assert total.cost_usd == Decimal("0.3")
    with pytest.raises(BudgetExhausted):
        reserve(path, "0.8", daily_limit_usd=1, now=NOON)


def test_read_usage_rows_follow_usage_columns_and_load_into_duckdb(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    call = reserve(path, "0.01", session_id="s1", price_version="genai-prices 0.2.3", now=NOON)
    ledger.settle(path, call, cost_usd=Decimal("0.004"), input_tokens=10, output_tokens=5, request_id="r")
    reserve(path, "0.02", feature="eval", now=NOON)
    rows = ledger.read_usage(path)
    assert len(rows) == 2 and all(len(r) == len(ledger.USAGE_COLUMNS) for r in rows)
    con = duckdb.connect()
    con.execute(
        "CREATE TEMP TABLE agent_usage ("
        + ", ".join(f"{c} {t}" for c, t in ledger.USAGE_COLUMNS.items())
        + ")"
    )
    con.executemany(f"INSERT INTO agent_usage VALUES ({', '.join('?' * len(ledger.USAGE_COLUMNS))})", rows)
    by_feature = con.execute(
        "SELECT feature, sum(cost_usd), bool_or(estimated) FROM agent_usage GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert by_feature == [("ask", Decimal("0.004"), False), ("eval", Decimal("0"), True)]


def test_totals_group_by_model_and_day(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    for model, day in (("a", 1), ("a", 2), ("b", 2)):
        call = reserve(path, "0.1", model=model, now=datetime(2026, 12, day, 10))
        ledger.settle(path, call, cost_usd=Decimal("0.01"), input_tokens=100)
    assert [(k, t.calls) for k, t in ledger.totals(path, by="model")] == [("a", 2), ("b", 1)]
    assert [(k, t.calls) for k, t in ledger.totals(path, by="day")] == [("2026-12-01", 1), ("2026-12-02", 2)]
    assert [k for k, _ in ledger.totals(path, by="day", since=datetime(2026, 12, 2))] == ["2026-12-02"]


def test_concurrent_threads_cannot_together_exceed_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    reserve(path, "0.90", daily_limit_usd=1)  # $0.10 left
    barrier = threading.Barrier(8)
    admitted: list[str] = []

    def worker() -> None:
        barrier.wait()
        try:
            admitted.append(reserve(path, "0.02", daily_limit_usd=1))
        except BudgetExhausted:
            pass

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(admitted) == 5
    assert ledger.spend(path).daily_usd <= Decimal("1")


def _spend_worker(path: str, amounts: list[str], limit: str, start: object, out: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    admitted = 0
    for amount in amounts:
        try:
            call = reserve(
                Path(path), amount, daily_limit_usd=Decimal(limit), monthly_limit_usd=Decimal(limit)
            )
        except BudgetExhausted:
            continue
        ledger.settle(Path(path), call, cost_usd=Decimal(amount) * Decimal("0.75"), input_tokens=1)
        admitted += 1
    out.put(admitted)  # type: ignore[attr-defined]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    limit=st.decimals(min_value="0.05", max_value="1.00", places=2),
    amounts=st.lists(
        st.decimals(min_value="0.01", max_value="0.30", places=2).map(str), min_size=4, max_size=10
    ),
)
def test_two_processes_sharing_one_ledger_never_exceed_the_limit(
    tmp_path: Path, limit: Decimal, amounts: list[str]
) -> None:
    path = tmp_path / f"ledger-{uuid.uuid4().hex}.sqlite"
    mp = multiprocessing.get_context("fork")
    start, out = mp.Event(), mp.Queue()
    procs = [
        mp.Process(target=_spend_worker, args=(str(path), amounts, str(limit), start, out)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    admitted = out.get(timeout=5) + out.get(timeout=5)
    rows = ledger.read_usage(path)
    assert len(rows) == admitted  # no lost or phantom rows
    [(_, total)] = ledger.totals(path)
    assert total.cost_usd <= limit
    if min(Decimal(a) for a in amounts) <= limit:
        assert admitted >= 1  # the budget is not refused while it still has room
