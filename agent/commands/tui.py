"""`finops tui`: open the terminal app (textual is imported only here, when the command runs)."""

from __future__ import annotations

import click

from agent.commands._common import json_option, settings


@click.command(name="tui")
@click.option("--provider", type=click.Choice(["auto", "offline", "anthropic", "openai"]), default=None)
@click.option("--model", default=None, help="Override the routed model.")
@click.option("--ask", "question", default=None, help="Ask this question as soon as the app opens.")
@json_option
@click.pass_context
def command(
    ctx: click.Context, provider: str | None, model: str | None, question: str | None, as_json: bool
) -> None:
    """Chat with your billing data: answers, sortable tables, editable SQL, budget meter. ? for help."""
    from agent.commands._common import ensure_data
    from agent.tui.app import FinopsApp
    from agent.tui.backend import CoreBackend

    cfg = settings(ctx, provider=provider, model=model)
    ensure_data(cfg.tool_context())
    FinopsApp(CoreBackend(cfg), initial_question=question).run()
