"""`finops ask "QUESTION"`: an answer in words, the table and the SQL behind it."""

from __future__ import annotations

import sys
from typing import Any

import click

from agent.commands._common import emit_json, ensure_data, json_option, note, settings


@click.command(name="ask")
@click.argument("question", nargs=-1, required=True)
@click.option(
    "--provider",
    type=click.Choice(["auto", "offline", "anthropic", "openai"]),
    default="auto",
    show_default=True,
    help="auto: Anthropic if ANTHROPIC_API_KEY, else OpenAI if OPENAI_API_KEY/OPENAI_BASE_URL, else offline.",
)
@click.option("--model", default=None, help="Model to use instead of the routed cheap/strong model.")
@click.option("--budget-usd", type=float, default=None, help="Most this question may cost (on top of daily/monthly).")
@json_option
@click.pass_context
def command(
    ctx: click.Context,
    question: tuple[str, ...],
    provider: str,
    model: str | None,
    budget_usd: float | None,
    as_json: bool,
) -> None:
    """Answer a question about spend: a sentence or two, the table, and the SQL that produced it.

    Questions the offline planner understands are answered at no cost and with no network;
    others go to the LLM agent when a key is configured, metered under the budget.

    \b
    Examples:
      finops ask "What did we spend last month?"
      finops ask "top 5 services by cost last month"
      finops ask "month over month change by service" --json
      finops ask "AI spend by model" --provider offline
    """
    from agent.ask import ask
    from agent.llm.select import choose

    text = " ".join(question).strip()
    cfg = settings(ctx)
    ensure_data(cfg.tool_context(), quiet=as_json)
    choice = choose(cfg, provider)
    note(f"provider: {choice.name} ({choice.reason})")
    answer = ask(cfg, text, provider=provider, model=model, budget_usd=budget_usd, on_event=_progress(as_json))
    for warning in answer.warnings:
        note(f"warning: {warning}")
    if as_json:
        emit_json(answer)
    else:
        _render(answer)
    if answer.declined and answer.budget_exhausted:
        sys.exit(3)


def _progress(as_json: bool) -> Any:
    def on_event(event: Any) -> None:
        kind = getattr(event, "type", "")
        if kind == "tool_call" and not as_json:
            note(f"  -> {getattr(event, 'name', 'tool')}")

    return on_event


def _render(answer: Any) -> None:
    from agent.render import console, print_sql, print_table

    out = console()
    out.print(answer.answer)
    if answer.rows:
        print_table(answer.columns, answer.rows)
    if answer.sql:
        print_sql(answer.sql)
    cost = f"${answer.usage.cost_usd:.4f}" if answer.usage.cost_usd else "$0"
    cached = ", from cache" if answer.cached else ""
    out.print(
        f"[dim]{answer.provider}/{answer.model or '-'} · {answer.usage.input_tokens:,} in / "
        f"{answer.usage.output_tokens:,} out tokens · {cost}{cached}[/dim]"
    )
