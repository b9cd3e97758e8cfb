"""What every command shares: settings from the global options, --json, output and data loading."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import click

from agent.config import Settings
from tools.context import ToolContext

F = TypeVar("F", bound=Callable[..., Any])


def json_option(func: F) -> F:
    """Every command takes --json: one JSON document on stdout, nothing else."""
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")(func)


def settings(ctx: click.Context, **overrides: Any) -> Settings:
    root = ctx.find_root()
    home = (root.obj or {}).get("home")
    values = {k: v for k, v in overrides.items() if v is not None}
    if home is not None:
        values["home"] = home
    return Settings(**values)


def tool_context(ctx: click.Context) -> ToolContext:
    return settings(ctx).tool_context()


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def emit_json(doc: Any) -> None:
    """Write one JSON document to stdout."""
    if hasattr(doc, "model_dump"):
        doc = doc.model_dump()  # python mode: Decimal stays a number (see _default), not a string
    sys.stdout.write(json.dumps(doc, default=_default, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def note(message: str) -> None:
    """A diagnostic for people: stderr, never stdout."""
    click.echo(message, err=True)


def ensure_data(tctx: ToolContext, quiet: bool = False) -> None:
    """Commands that need data load the demo org when nothing is loaded, and say so on stderr."""
    from tools.billing import store

    if store.has_data(tctx.db_path):
        return
    from tools.billing.demo import load_demo

    if not quiet:
        note(f"no billing data in {tctx.home}; loading the demo organisation (finops demo) ...")
    summary = load_demo(tctx, seed=42, scale="small", progress=not quiet)
    if not quiet:
        note(f"loaded demo org: {summary.rows:,} rows, {summary.first_day} to {summary.last_day}")
