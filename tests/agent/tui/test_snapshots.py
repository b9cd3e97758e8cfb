"""SVG snapshots of the main screens (pytest-textual-snapshot).

These pin the layout, so the answer and the refusal come from a fixed script (``LayoutBackend``):
the real core's wording (planner sentences, guard messages) belongs to other modules and changes
with them. The functional tests in test_app.py run the real core end to end.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from textual.pilot import Pilot
from textual.widgets import TextArea

from agent.tui.app import FinopsApp
from agent.tui.backend import AnswerView, CoreBackend, EventCallback, TableData
from tests.agent.tui.conftest import offline_settings, run_before_answer, steady_cursors, until
from tools.context import ToolContext
from tools.errors import SqlRejected

SIZE = (110, 36)


class LayoutBackend(CoreBackend):
    """The real backend (ledger, registry) with a fixed answer and a fixed SQL refusal."""

    def ask(self, question: str, on_event: EventCallback) -> AnswerView:
        return AnswerView(
            question=question,
            text="Effective cost for 2026-09-01 to 2026-10-30: Amazon Elastic Compute Cloud leads with $16,770.00.",
            sql="SELECT ServiceName, sum(EffectiveCost) AS effective_cost\nFROM focus\nGROUP BY 1\nORDER BY 2 DESC",
            table=TableData(
                columns=["ServiceName", "effective_cost"],
                rows=[
                    ["Amazon Elastic Compute Cloud", Decimal("16770")],
                    ["Amazon Relational Database Service", Decimal("12000")],
                    ["Amazon Simple Storage Service", Decimal("6630")],
                ],
                row_count=3,
            ),
            provider="offline",
            model="planner",
        )

    def run_sql(self, sql: str) -> TableData:
        raise SqlRejected("table function read_csv() is not allowed; query the tables focus, agent_usage")


def _app(ctx: ToolContext) -> FinopsApp:
    return FinopsApp(LayoutBackend(offline_settings(ctx.home)))


def test_main_screen_after_an_answer(tui_ctx: ToolContext, snap_compare: Any) -> None:
    assert snap_compare(_app(tui_ctx), terminal_size=SIZE, run_before=run_before_answer("total cost by service"))


def test_main_screen_with_rejected_sql_inline(tui_ctx: ToolContext, snap_compare: Any) -> None:
    async def reject(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, FinopsApp)
        steady_cursors(app)
        await until(pilot, lambda: app.budget_view is not None)
        app.query_one("#sql", TextArea).load_text("SELECT * FROM read_csv('/etc/passwd')")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: app.last_error is not None)

    assert snap_compare(_app(tui_ctx), terminal_size=SIZE, run_before=reject)


def test_keyboard_help(make_app: Callable[..., FinopsApp], snap_compare: Any) -> None:
    async def help_open(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, FinopsApp)
        steady_cursors(app)
        await until(pilot, lambda: app.budget_view is not None)
        await pilot.press("f1")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=help_open)
