"""SVG snapshots of the main screens (pytest-textual-snapshot); functional behaviour is in test_app.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import TextArea

from agent.tui.app import FinopsApp
from tests.agent.tui.conftest import run_before_answer, steady_cursors, until

SIZE = (110, 36)


def test_main_screen_after_an_offline_answer(make_app: Callable[..., FinopsApp], snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before_answer("total cost by service"))


def test_main_screen_with_rejected_sql_inline(make_app: Callable[..., FinopsApp], snap_compare: Any) -> None:
    async def reject(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, FinopsApp)
        steady_cursors(app)
        await until(pilot, lambda: app.budget_view is not None)
        app.query_one("#sql", TextArea).load_text("SELECT * FROM read_csv('/etc/passwd')")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: app.last_error is not None)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=reject)


def test_keyboard_help(make_app: Callable[..., FinopsApp], snap_compare: Any) -> None:
    async def help_open(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, FinopsApp)
        steady_cursors(app)
        await until(pilot, lambda: app.budget_view is not None)
        await pilot.press("f1")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=help_open)
