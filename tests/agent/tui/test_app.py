"""Functional tests of `finops tui` with Textual's Pilot, on the real core (offline planner, real DuckDB)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import Input, TextArea

from agent.tui.app import FinopsApp
from agent.tui.messages import AgentEventPosted, AnswerReady, BudgetRead, Failed, SqlRan
from agent.tui.screens import HelpScreen, ReviewScreen, ToolScreen, parse_args
from agent.tui.widgets import ResultTable
from tests.agent.tui.conftest import ask, offline_settings, until
from tools import ledger
from tools.context import ToolContext

pytestmark = pytest.mark.anyio
SIZE = (110, 36)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_asking_a_question_shows_the_answer_a_money_table_and_its_sql(
    make_app: Callable[..., FinopsApp],
) -> None:
    app = make_app()
    seen: list[Any] = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await ask(pilot, "total cost by service")
        answers = [m for m in seen if isinstance(m, AnswerReady)]
        assert len(answers) == 1 and answers[0].answer.provider == "offline"
        table = app.query_one("#result", ResultTable)
        assert app.table_data.columns[0] == "ServiceName" and len(app.table_data.columns) == 2
        assert table.row_count == 3
        first = table.get_row_at(0)
        assert first[0].plain == "Amazon Elastic Compute Cloud"
        assert first[1].plain == "$16,770.00" and first[1].justify == "right"
        assert "FROM focus" in app.query_one("#sql", TextArea).text
        assert app.query_one("#question", Input).value == ""


async def test_editing_the_sql_and_pressing_ctrl_r_reruns_it_through_the_guard(
    make_app: Callable[..., FinopsApp],
) -> None:
    app = make_app()
    seen: list[Any] = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await ask(pilot, "total cost by service")
        editor = app.query_one("#sql", TextArea)
        editor.load_text("SELECT ServiceCategory, count(*) AS line_items FROM focus GROUP BY 1 ORDER BY 1")
        editor.focus()
        await pilot.press("ctrl+r")
        await until(pilot, lambda: any(isinstance(m, SqlRan) for m in seen))
        assert app.table_data.rows == [["Compute", 120], ["Databases", 120], ["Storage", 120]]
        assert app.query_one("#result", ResultTable).row_count == 3


async def test_rejected_sql_is_shown_inline_and_the_app_keeps_answering(
    make_app: Callable[..., FinopsApp],
) -> None:
    app = make_app()
    seen: list[Any] = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        app.query_one("#sql", TextArea).load_text("COPY focus TO '/tmp/leak.csv'")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: any(isinstance(m, Failed) for m in seen))
        failure = next(m for m in seen if isinstance(m, Failed))
        assert failure.kind == "sql"
        assert app.last_error is not None and app.last_error[0] == "sql"
        assert app.query_one("#error").display is True
        await ask(pilot, "cost by team")
        assert app.last_error is None and app.query_one("#error").display is False
        assert app.table_data.rows[0][0] == "data"


async def test_clicking_a_header_sorts_by_value_and_again_reverses(make_app: Callable[..., FinopsApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "total cost by service")
        table = app.query_one("#result", ResultTable)
        table.post_message(table.HeaderSelected(table, list(table.columns)[1], 1, Text("effective_cost")))
        await until(pilot, lambda: getattr(table, "sorted_by", None) == (1, False))
        costs = [r[1] for r in table.sorted_rows]
        assert costs == sorted(costs) and isinstance(costs[0], Decimal)
        assert table.get_row_at(0)[1].plain == "$6,630.00"
        table.post_message(table.HeaderSelected(table, list(table.columns)[1], 1, Text("effective_cost")))
        await until(pilot, lambda: table.sorted_by == (1, True))
        assert table.get_row_at(0)[1].plain == "$16,770.00"


async def test_up_arrow_recalls_earlier_questions(make_app: Callable[..., FinopsApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "total cost by service")
        await ask(pilot, "cost by team")
        await pilot.press("up")
        assert app.query_one("#question", Input).value == "cost by team"
        await pilot.press("up")
        assert app.query_one("#question", Input).value == "total cost by service"
        await pilot.press("down", "down")
        assert app.query_one("#question", Input).value == ""


async def test_the_footer_meter_shows_todays_spend_from_the_ledger(
    make_app: Callable[..., FinopsApp], tmp_path: Any
) -> None:
    from tests.mcp_server.focus_home import make_home

    ctx = make_home(tmp_path)
    call_id = ledger.reserve(
        ctx.ledger_path, reserved_usd=Decimal("0.05"), feature="ask", provider="anthropic", model="claude-haiku-4-5"
    )
    ledger.settle(ctx.ledger_path, call_id, cost_usd=Decimal("0.25"), input_tokens=1000, output_tokens=100)
    app = make_app(offline_settings(ctx.home, daily_budget_usd=1.0))
    seen: list[Any] = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await until(pilot, lambda: app.budget_view is not None)
        assert any(isinstance(m, BudgetRead) for m in seen)
        assert app.budget_view.spent_today_usd == pytest.approx(0.25)
        text = str(app.query_one("#meter").render())
        assert "budget today $0.25 / $1.00" in text


async def test_an_exhausted_budget_is_said_inline_and_the_offline_planner_answers(
    make_app: Callable[..., FinopsApp], tui_ctx: ToolContext, refusing_provider: str
) -> None:
    settings = offline_settings(
        tui_ctx.home,
        provider="anthropic",
        anthropic_api_key="fake-anthropic-key-not-a-key",
        anthropic_base_url=refusing_provider,
        daily_budget_usd=0.0,
    )
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "why did compute spend change?")
        assert app.last_answer is not None, app.last_error
        assert app.last_answer.budget_exhausted
        assert app.last_error is not None
        kind, message = app.last_error
        assert kind == "budget" and "budget exhausted" in message and "offline planner" in message


@pytest.mark.slow  # the anthropic SDK import alone takes seconds; the budget test covers the inline path
async def test_a_provider_that_refuses_is_shown_inline_not_as_a_crash(
    make_app: Callable[..., FinopsApp], tui_ctx: ToolContext, refusing_provider: str
) -> None:
    settings = offline_settings(
        tui_ctx.home,
        provider="anthropic",
        anthropic_api_key="fake-anthropic-key-not-a-key",
        anthropic_base_url=refusing_provider,
        daily_budget_usd=5.0,
    )
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "why did compute spend change?")
        assert app.last_error is not None and app.last_error[0] == "provider"
        assert "fake-anthropic-key" not in app.last_error[1]
        await pilot.press("ctrl+q")
    assert app.return_code in (0, None)


async def test_question_mark_opens_help_outside_the_input_and_types_inside_it(
    make_app: Callable[..., FinopsApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"why?")
        assert app.query_one("#question", Input).value == "why?"
        assert not isinstance(app.screen, HelpScreen)
        app.query_one("#result").focus()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)


async def test_ctrl_q_exits_cleanly(make_app: Callable[..., FinopsApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_the_policy_review_view_approves_by_moving_the_file_and_shows_the_dryrun_command(
    make_app: Callable[..., FinopsApp], tmp_path: Any
) -> None:
    from tests.mcp_server.focus_home import make_home
    from tools.policies.build import propose_mark_for_op

    ctx = make_home(tmp_path)
    path = propose_mark_for_op(
        ctx,
        resource_ids=["i-0abc1234def567890"],
        op="stop",
        days=14,
        evidence=["idle for 30 days"],
        confidence=0.9,
        monthly_impact_usd=120.0,
        run_id="t1",
        service="Amazon Elastic Compute Cloud",
        account_id="123456789012",
        region="us-east-1",
    )
    app = make_app(offline_settings(ctx.home))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        await until(pilot, lambda: bool(screen.items))
        assert screen.items[0]["status"] == "pending"
        await pilot.press("a")
        await pilot.press(*"idle, owner agreed", "enter")
        await until(pilot, lambda: screen.outcome is not None)
        assert screen.outcome.startswith(f"approved {path.stem}")
        assert "nothing was applied" in screen.outcome and "--dryrun" in screen.outcome
        assert not path.exists() and (ctx.policies_dir / "approved" / path.name).exists()


async def test_a_registry_view_takes_key_value_arguments_and_shows_bad_ones_inline(
    make_app: Callable[..., FinopsApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f3")
        screen = app.screen
        assert isinstance(screen, ToolScreen) and screen.tool == "tag_suggestions"
        args = screen.query_one("#view-args", Input)
        assert "min_confidence=…" in str(args.placeholder) and "limit=…" in str(args.placeholder)
        status = screen.query_one("#view-status")
        await until(pilot, lambda: str(status.render()) != "loading…")
        assert screen.error is None
        args.value = "limit=0"
        args.focus()
        await pilot.press("enter")
        await until(pilot, lambda: screen.error is not None)
        assert "limit" in screen.error and "bad arguments" in screen.error
        args.value = "limit"
        await pilot.press("enter")
        assert screen.error == "expected key=value, got 'limit'"


def test_view_arguments_parse_as_key_value_pairs() -> None:
    assert parse_args("since=2025-11-01  limit=10") == {"since": "2025-11-01", "limit": "10"}
    assert parse_args("") == {}
    with pytest.raises(ValueError, match="expected key=value"):
        parse_args("=x")


async def test_an_llm_answer_streams_in_shows_its_cost_and_a_repeat_comes_from_cache(
    make_app: Callable[..., FinopsApp], tui_ctx: ToolContext
) -> None:
    from tests.support.llm_stub import AnthropicWire, Turn, serve

    query = {"metric": "effective_cost", "group_by": ["ServiceName"], "period": {"kind": "all"}}
    with serve(AnthropicWire()) as (url, state):
        state.actions = [Turn(calls=[("cost_query", query)]), Turn(text="Compute leads at $16,770.00 overall.")]
        settings = offline_settings(
            tui_ctx.home, provider="anthropic", anthropic_api_key="fake-anthropic-key-x", anthropic_base_url=url
        )
        app = make_app(settings)
        seen: list[Any] = []
        async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
            question = "which resources look idle to you?"
            await ask(pilot, question)
            events = [m.event for m in seen if isinstance(m, AgentEventPosted)]
            assert any(e.kind == "tool" and "cost_query" in e.text for e in events)
            assert "".join(e.text for e in events if e.kind == "text") == "Compute leads at $16,770.00 overall."
            first = app.last_answer
            assert first is not None and first.provider == "anthropic" and first.cost_usd > 0
            assert app.table_data.rows and app.sql_editor.text.strip()
            await until(pilot, lambda: app.budget_view is not None and app.budget_view.spent_today_usd > 0)
            await ask(pilot, question)
            assert app.last_answer is not None and app.last_answer.from_cache
            assert "(from cache)" in str(app.query_one("#meter").render())
        assert len(state.requests) == 2
