"""`finops tags suggest|weekly`: tag suggestions with evidence, tag policies into the review queue.

Nothing is applied: suggestions become Cloud Custodian ``tag`` policies in the review queue
(`finops policies list`). Heavy imports (duckdb, sklearn, c7n) happen inside the commands.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import click

from agent.commands._common import emit_json, ensure_data, json_option, note, settings, tool_context

if TYPE_CHECKING:
    from agent.workflows.tag_refinement import TagRefiner
    from tools.context import ToolContext

PROVIDERS = ["auto", "offline", "anthropic", "openai"]


@click.group(name="tags")
def command() -> None:
    """Suggest tags for untagged resources; weekly tagging run (policies go to the review queue)."""


def _refiner(ctx: click.Context, tctx: ToolContext, provider: str, threshold: float) -> TagRefiner | None:
    from agent.workflows.tag_refinement import refiner

    found, reason = refiner(settings(ctx), tctx, provider, threshold)
    note(reason)
    return found


def _suggestion_doc(s: Any) -> dict[str, Any]:
    return dict(s.model_dump(mode="json"))


@command.command(name="suggest")
@click.option("--min-confidence", type=click.FloatRange(0.0, 1.0), default=0.9, show_default=True)
@click.option("--provider", type=click.Choice(PROVIDERS), default="auto", show_default=True)
@click.option("--no-policies", is_flag=True, help="Only print suggestions; queue no policies.")
@click.option("--limit", type=click.IntRange(1), default=30, show_default=True, help="Rows in the human table.")
@json_option
@click.pass_context
def suggest_cmd(
    ctx: click.Context, min_confidence: float, provider: str, no_policies: bool, limit: int, as_json: bool
) -> None:
    """Suggest missing tags (most expensive first) and queue tag policies per account and key."""
    from tools.tagging.suggest import suggest

    tctx = tool_context(ctx)
    ensure_data(tctx, quiet=as_json)
    refine = _refiner(ctx, tctx, provider, min_confidence)
    report = suggest(tctx, min_confidence, propose_policies=not no_policies, refiner=refine)
    for line in refine.notes if refine else []:
        note(line)
    if as_json:
        doc = report.model_dump(mode="json")
        if refine is not None:
            doc["llm"] = {"refined": refine.refined, "cost_usd": float(refine.cost_usd), "calls": refine.meter.calls}
        emit_json(doc)
        return
    _print_report(report, limit)


def _print_report(report: Any, limit: int) -> None:
    from agent.render import print_table

    cov = report.coverage
    note(
        f"required keys ({report.required_keys_source}): {', '.join(report.required_keys) or 'none'}; "
        f"{report.untagged_resources:,} of {report.resources:,} resources miss one; "
        f"{report.uncertain:,} suggestions below the confidence bar"
    )
    rows = [
        [s.resource_name or s.resource_id, s.key, s.value, s.confidence, s.monthly_cost, (s.evidence or [""])[0]]
        for s in report.suggestions[:limit]
    ]
    if rows:
        print_table(["resource", "key", "value", "confidence", "monthly_cost", "evidence"], rows, "Tag suggestions")
    click.echo(
        f"tagged cost share: {cov.tagged_cost_share_now:.1%} now, {cov.tagged_cost_share_if_approved:.1%} if approved"
    )
    for path in report.policies:
        click.echo(f"queued for review: {path}")
    if report.new_values:
        note(f"{len(report.new_values)} suggestions name a value the org does not use yet (--json: new_values)")
    if report.not_targetable:
        note(f"{report.not_targetable} suggestions name resources no supported Custodian type covers (no policy)")


@command.command(name="weekly")
@click.option("--min-confidence", type=click.FloatRange(0.0, 1.0), default=0.9, show_default=True)
@click.option("--provider", type=click.Choice(PROVIDERS), default="auto", show_default=True)
@click.option("--no-slack", is_flag=True, help="Do not post the Slack summary.")
@click.option("--today", default=None, help="Run as of this date (YYYY-MM-DD); default today (UTC).")
@json_option
@click.pass_context
def weekly_cmd(
    ctx: click.Context, min_confidence: float, provider: str, no_slack: bool, today: str | None, as_json: bool
) -> None:
    """The weekly run: idempotent per ISO week; only new or changed items; diff; policies; Slack."""
    from agent.workflows.weekly_tags import iso_week, post_slack, run_weekly, weekly_run_id
    from tools.errors import BadInput

    try:
        day = date.fromisoformat(today) if today else datetime.now().astimezone().date()
    except ValueError:
        raise BadInput(f"--today {today!r} is not a date; use YYYY-MM-DD") from None
    tctx = tool_context(ctx)
    ensure_data(tctx, quiet=as_json)
    refine = _refiner(ctx, tctx, provider, min_confidence)

    def llm_cost() -> tuple[float, int]:
        return (float(refine.cost_usd), refine.meter.calls) if refine else (0.0, 0)

    run_id = weekly_run_id(iso_week(day))
    if refine is not None:
        refine.meter.session_id = run_id  # the run's LLM calls carry its id in the ledger
    run = run_weekly(tctx, today=day, min_confidence=min_confidence, refiner=refine, slack=not no_slack,
                     post=post_slack, llm_cost=llm_cost, run_id=run_id)  # fmt: skip
    if as_json:
        emit_json({**run.model_dump(mode="json"), "counts": run.counts()})
        return
    counts = run.counts()
    if run.already_ran:
        note(f"week {run.week} already ran ({run.ran_at}); nothing new done")
    click.echo(f"weekly tagging run {run.week}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for path in run.policies:
        click.echo(f"queued for review: {path}")
    if run.slack is not None:
        note(f"slack: {run.slack.status} {run.slack.message}".rstrip())
