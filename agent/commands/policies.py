"""`finops policies list|show|approve|reject`: the review queue of Cloud Custodian policy files.

Approving moves a file to approved/ and prints the custodian commands to run; nothing is applied.
Heavy imports (c7n, yaml, pydantic models) happen inside the commands.
"""

from __future__ import annotations

import click

from agent.commands._common import emit_json, json_option, note, tool_context


@click.group(name="policies")
def command() -> None:
    """Review queue of Cloud Custodian policies: list, show, approve, reject (nothing is applied)."""


@command.command(name="list")
@click.option("--status", type=click.Choice(["pending", "approved", "rejected"]), default=None)
@json_option
@click.pass_context
def list_cmd(ctx: click.Context, status: str | None, as_json: bool) -> None:
    """List queued policy files, newest first."""
    from tools.policies import queue

    items = queue.list_policies(tool_context(ctx), status)  # type: ignore[arg-type]
    if as_json:
        emit_json({"policies": [i.model_dump(mode="json") for i in items]})
        return
    if not items:
        note("no policies in the queue")
        return
    from agent.render import print_table

    cols = ["id", "status", "actions", "resources", "confidence", "monthly_impact_usd", "title"]
    rows = [
        [i.id, i.status, ",".join(i.actions), i.resources, i.confidence, i.monthly_impact_usd, i.title]
        for i in items
    ]
    print_table(cols, rows, title="Policy review queue")


@command.command(name="show")
@click.argument("policy_id")
@json_option
@click.pass_context
def show_cmd(ctx: click.Context, policy_id: str, as_json: bool) -> None:
    """Print one policy file (evidence in its comments) and its history."""
    from tools.policies import queue

    detail = queue.show(tool_context(ctx), policy_id)
    if as_json:
        emit_json(detail)
        return
    click.echo(detail.text, nl=False)
    for event in detail.history:
        note(f"{event.at} {event.event}{': ' + event.reason if event.reason else ''}")


def _print_decision(verb: str, detail: object, as_json: bool) -> None:
    from tools.policies.queue import PolicyDetail

    assert isinstance(detail, PolicyDetail)
    if as_json:
        emit_json(detail)
        return
    click.echo(f"{detail.summary.id} {verb}: {detail.summary.path}")
    if detail.summary.status == "approved":
        click.echo("Nothing was applied. To check and then dry-run it:")
        for cmd in detail.commands:
            click.echo(f"  {cmd}")


@command.command(name="approve")
@click.argument("policy_id")
@click.option("--reason", default=None, help="Why it is approved (kept in the queue's history).")
@json_option
@click.pass_context
def approve_cmd(ctx: click.Context, policy_id: str, reason: str | None, as_json: bool) -> None:
    """Move a pending policy to approved/ and print the custodian commands (applies nothing)."""
    from tools.policies import queue

    _print_decision("approved", queue.approve(tool_context(ctx), policy_id, reason=reason), as_json)


@command.command(name="reject")
@click.argument("policy_id")
@click.option("--reason", required=True, help="Why (kept in the history; its resources are not re-proposed).")
@json_option
@click.pass_context
def reject_cmd(ctx: click.Context, policy_id: str, reason: str, as_json: bool) -> None:
    """Move a pending policy to rejected/ with a reason."""
    from tools.policies import queue

    _print_decision("rejected", queue.reject(tool_context(ctx), policy_id, reason), as_json)
