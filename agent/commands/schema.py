"""`finops schema`: the compact schema the LLM sees, and what it costs in tokens."""

from __future__ import annotations

import click

from agent.commands._common import emit_json, ensure_data, json_option, note, tool_context


@click.command(name="schema")
@json_option
@click.pass_context
def command(ctx: click.Context, as_json: bool) -> None:
    """Show the schema prompt the model gets: columns with data, meanings, sample values, idioms.

    Its token count is compared with the full CREATE TABLE with every column's description.

    \b
    Examples:
      finops schema
      finops schema --json
    """
    from tools.sql.schema_prompt import schema_prompt

    tctx = tool_context(ctx)
    ensure_data(tctx)
    built = schema_prompt(tctx)
    if as_json:
        emit_json(built.as_dict())
        return
    click.echo(built.prompt)
    ratio = built.tokens / built.ddl_tokens if built.ddl_tokens else 0.0
    named = sum(1 for c in built.columns if c.name in built.prompt)
    note(
        f"~{built.tokens:,} tokens (estimated) vs ~{built.ddl_tokens:,} for the full DDL with descriptions "
        f"({ratio:.2f}x); {named}/{len(built.columns)} columns named"
    )
