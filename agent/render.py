"""Human output: money as money, readable tables (rich), dim SQL. Only for stdout's human mode."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

MONEY_HINTS = ("cost", "usd", "price", "spend", "amount", "delta", "impact", "budget", "saving", "total")


def money(value: Any, currency: str = "USD", places: int | None = None) -> str:
    """Format an amount as money: $1,234.56; tiny per-token amounts keep significant digits."""
    if value is None:
        return ""
    amount = float(value)
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency, "")
    sign = "-" if amount < 0 else ""
    a = abs(amount)
    if places is None:
        places = 2 if a >= 0.01 or a == 0 else 6
    body = f"{a:,.{places}f}"
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency}"


def is_money_column(name: str) -> bool:
    low = name.lower()
    return any(h in low for h in MONEY_HINTS) and "pct" not in low and "percent" not in low and "tokens" not in low


def cell(value: Any, money_col: bool) -> str:
    if value is None:
        return ""
    if money_col and isinstance(value, int | float | Decimal):
        return money(value)
    if isinstance(value, float | Decimal):
        return f"{float(value):,.4g}" if abs(float(value)) < 1000 else f"{float(value):,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None, limit: int = 50) -> Any:
    """A rich Table with money columns right-aligned and formatted."""
    from rich.table import Table

    t = Table(title=title, show_lines=False, header_style="bold")
    money_cols = [is_money_column(c) for c in columns]
    for name, is_money in zip(columns, money_cols, strict=True):
        numeric = is_money or any(isinstance(r[columns.index(name)], int | float | Decimal) for r in rows[:5])
        t.add_column(name, justify="right" if numeric else "left", overflow="fold")
    for r in rows[:limit]:
        t.add_row(*(cell(v, m) for v, m in zip(r, money_cols, strict=True)))
    if len(rows) > limit:
        t.caption = f"{limit} of {len(rows):,} rows shown (--json for all)"
    return t


def console(stderr: bool = False) -> Any:
    import sys

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 140  # piped output: wide enough for a cost table
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def print_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
    console().print(table(columns, rows, title=title))


def print_sql(sql: str) -> None:
    from rich.syntax import Syntax

    console().print(Syntax(sql, "sql", theme="ansi_dark", word_wrap=True, background_color="default"))
