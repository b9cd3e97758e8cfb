"""The app's own widgets: a sortable money-aware result table and the budget meter."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.text import Text
from textual.widgets import DataTable, Static

from agent.render import cell, is_money_column, money
from agent.tui.backend import AnswerView, BudgetView, TableData


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _sort_key(value: Any) -> tuple[int, Any]:
    """None last; numbers by value; everything else by its text."""
    if value is None:
        return (2, 0)
    if _numeric(value):
        return (0, float(value))
    return (1, str(value))


class ResultTable(DataTable[Any]):
    """A DataTable of raw values: money right-aligned and formatted, click a header to sort."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True

    def show(self, data: TableData) -> None:
        self.data = data
        self.sorted_by: tuple[int, bool] | None = None
        self.order = list(range(len(data.rows)))  # displayed row i is data.rows[order[i]]
        self.sorted_rows = list(data.rows)
        self._render_rows(data.rows)

    def source_index(self, displayed: int) -> int:
        """The index in the data of the row shown at ``displayed`` (after any sort)."""
        order: list[int] = getattr(self, "order", [])
        return order[displayed] if 0 <= displayed < len(order) else displayed

    def _render_rows(self, rows: list[list[Any]]) -> None:
        data: TableData = self.data
        self.clear(columns=True)
        money_cols = [is_money_column(c) for c in data.columns]
        numeric = [
            m or any(_numeric(r[i]) for r in rows[:20] if i < len(r)) for i, m in enumerate(money_cols)
        ]
        for name, right in zip(data.columns, numeric, strict=True):
            self.add_column(Text(name, justify="right" if right else "left"), key=name)
        for row in rows:
            cells = [
                Text(cell(v, m), justify="right" if right else "left")
                for v, m, right in zip(row, money_cols, numeric, strict=False)
            ]
            self.add_row(*cells)

    def sort_by(self, index: int) -> None:
        """Sort by a column; the same column again reverses."""
        data: TableData = getattr(self, "data", TableData())
        if not data.columns:
            return
        reverse = bool(self.sorted_by and self.sorted_by[0] == index and not self.sorted_by[1])

        def key(i: int) -> tuple[int, Any]:
            row = data.rows[i]
            return _sort_key(row[index] if index < len(row) else None)

        self.order = sorted(range(len(data.rows)), key=key, reverse=reverse)
        self.sorted_by = (index, reverse)
        self.sorted_rows = [data.rows[i] for i in self.order]
        self._render_rows(self.sorted_rows)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(event.column_index)


def meter_text(budget: BudgetView | None, last: AnswerView | None) -> str:
    """``today $0.02 / $1.00 · last answer $0.00 (from cache)``."""
    parts = []
    if budget is not None:
        share = budget.spent_today_usd / budget.daily_limit_usd if budget.daily_limit_usd else 0.0
        bar_len = 10
        filled = min(bar_len, round(share * bar_len))
        bar = "█" * filled + "░" * (bar_len - filled)
        spent, limit = money(budget.spent_today_usd, places=2), money(budget.daily_limit_usd, places=2)
        parts.append(f"budget today {spent} / {limit} {bar}")
    if last is not None:
        cost = money(last.cost_usd, places=4 if 0 < last.cost_usd < 0.01 else 2)
        parts.append(f"last answer {cost}" + (" (from cache)" if last.from_cache else ""))
        if last.provider:
            parts.append(f"{last.provider}" + (f" · {last.model}" if last.model else ""))
    return "  ·  ".join(parts) if parts else "budget: reading ledger…"


class BudgetMeter(Static):
    """The footer line: spent today / limit, cost of the last answer, from cache."""

    def update_meter(self, budget: BudgetView | None, last: AnswerView | None) -> None:
        self.update(meter_text(budget, last))
