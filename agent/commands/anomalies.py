"""`finops anomalies`: detect cost anomalies, explain them with evidence, post a Slack digest."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from agent.commands._common import emit_json, ensure_data, json_option, note, settings

if TYPE_CHECKING:
    from agent.config import Settings
    from agent.workflows.anomaly_narrative import Narrative
    from tools.anomalies import Anomaly, DetectResult
    from tools.context import ToolContext
    from tools.explain import Explained


@click.command("anomalies")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First onset day (default: 30 days).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last onset day.")
@click.option("--explain", is_flag=True, help="Find the cause in CloudTrail, git and GitHub evidence.")
@click.option(
    "--cloudtrail-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="CloudTrail log files as delivered to S3 (default: configured, or the demo's).",
)
@click.option(
    "--cloudtrail", "cloudtrail", type=click.Choice(["aws"]), default=None, help="Also ask the LookupEvents API."
)
@click.option("--git-repo", type=click.Path(file_okay=False, path_type=Path), default=None, help="Local IaC/app repo.")
@click.option("--github", "github", default=None, metavar="OWNER/REPO", help="GitHub repository to search.")
@click.option("--calendar", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Company events.")
@click.option("--country", default=None, help="Public holidays of this country (ISO code).")
@click.option("--slack", is_flag=True, help="Post a digest to Slack (implies --explain).")
@click.option("--provider", default="auto", help="Narratives: auto|offline|anthropic|openai.")
@click.option("--no-propose", is_flag=True, help="Do not queue Custodian policy proposals.")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True, help="Most anomalies shown.")
@json_option
@click.pass_context
def command(ctx: click.Context, /, **opts: Any) -> None:
    """Detect cost anomalies (weekday- and calendar-aware), explain them and optionally post to Slack."""
    from tools.anomalies import DetectOptions, detect

    if opts["cloudtrail_dir"] is not None and opts["cloudtrail"] is not None:
        raise click.UsageError("use --cloudtrail-dir DIR or --cloudtrail aws, not both")
    cfg = settings(ctx)
    tctx = _context(cfg, opts)
    ensure_data(tctx, quiet=opts["as_json"])
    since = opts["since"].date() if opts["since"] else None
    until = opts["until"].date() if opts["until"] else None
    result = detect(tctx, DetectOptions(since=since, until=until, country=opts["country"]))
    shown = result.anomalies[: opts["limit"]]
    explained: dict[str, Explained] = {}
    narratives: dict[str, Narrative] = {}
    proposals: list[str] = []
    if opts["explain"] or opts["slack"]:
        explained = _explain_all(cfg, tctx, shown, opts)
        narratives = _narrate(cfg, tctx, shown, explained, opts)
        if not opts["no_propose"]:
            proposals = _propose(tctx, shown, explained)
    slack = _post(cfg, tctx, shown, narratives) if opts["slack"] else None
    doc = _document(result, shown, explained, narratives, proposals, slack)
    if opts["as_json"]:
        emit_json(doc)
    else:
        render(result, shown, explained, narratives, proposals, slack)


def _context(cfg: Settings, opts: dict[str, Any]) -> ToolContext:
    tctx = cfg.tool_context()
    changes: dict[str, Any] = {}
    if opts["calendar"] is not None:
        changes["calendar_path"] = opts["calendar"]
    if opts["cloudtrail_dir"] is not None:
        changes["cloudtrail_dir"] = opts["cloudtrail_dir"]
    if opts["cloudtrail"] == "aws" and cfg.cloudtrail_dir is None:
        changes["cloudtrail_dir"] = None  # the API replaces the demo's files unless files were configured
    if opts["git_repo"] is not None:
        changes["git_repo"] = opts["git_repo"]
    return replace(tctx, **changes) if changes else tctx


def _explain_all(cfg: Settings, tctx: ToolContext, shown: list[Anomaly], opts: dict[str, Any]) -> dict[str, Explained]:
    from tools.explain import explain, gather

    token = cfg.github_token.get_secret_value() if cfg.github_token is not None else None
    repo = opts["github"] or cfg.github_repo
    out = {}
    for a in shown:
        report = gather(tctx, a, cloudtrail_api=opts["cloudtrail"] == "aws", github_repo=repo, github_token=token)
        out[a.id] = explain(a, report)
    notes = sorted({n for e in out.values() for n in e.evidence_notes})
    for line in notes:
        note(f"evidence: {line}")
    return out


def _narrate(
    cfg: Settings, tctx: ToolContext, shown: list[Anomaly], explained: dict[str, Explained], opts: dict[str, Any]
) -> dict[str, Narrative]:
    from agent.workflows.anomaly_narrative import narrator, template

    narrate, reason = narrator(cfg, tctx, opts["provider"])
    note(reason)
    out = {}
    for a in shown:
        out[a.id] = narrate(a, explained[a.id]) if narrate is not None else template(explained[a.id])
    for line in narrate.notes if narrate is not None else []:
        note(line)
    return out


def _propose(tctx: ToolContext, shown: list[Anomaly], explained: dict[str, Explained]) -> list[str]:
    from tools.anomalies.propose import propose_for

    run_id = "anomalies-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    paths = []
    for a in shown:
        paths += [str(p) for p in propose_for(tctx, a, explained.get(a.id), run_id)]
    if paths:
        note(f"{len(paths)} policy proposal(s) queued for review: finops policies list")
    return paths


def _post(
    cfg: Settings, tctx: ToolContext, shown: list[Anomaly], narratives: dict[str, Narrative]
) -> list[dict[str, Any]]:
    from tools.anomalies import digest
    from tools.notify import post_digest

    if not shown:
        note("slack: no anomalies, nothing posted")
        return []
    cost = sum(n.cost_usd for n in narratives.values())
    calls = sum(1 for n in narratives.values() if n.input_tokens)
    webhook = cfg.slack_webhook_url.get_secret_value() if cfg.slack_webhook_url is not None else None
    token = cfg.slack_bot_token.get_secret_value() if cfg.slack_bot_token is not None else None
    routes = digest.route(shown, cfg.team_channels if token else {}, cfg.slack_channel)
    texts = {k: n.text for k, n in narratives.items()}
    out = []
    for r in routes:
        blocks, text = digest.blocks(r.anomalies, texts, team=r.team, cost_usd=cost, llm_calls=calls)
        res = post_digest(
            tctx,
            blocks,
            text,
            dedupe_keys=[a.id for a in r.anomalies],
            webhook_url=webhook,
            bot_token=token,
            channel=r.channel,
        )
        note(f"slack {r.channel or 'webhook'}: {res.status} {res.message}".rstrip())
        out.append({"channel": r.channel, "team": r.team, **res.model_dump(mode="json")})
    return out


def _anomaly_doc(a: Anomaly, e: Explained | None, n: Narrative | None) -> dict[str, Any]:
    doc = a.model_dump(mode="json")
    doc["explanations"] = [
        {
            "grade": x.grade,
            "source": x.source,
            "summary": x.summary,
            "time": x.time.isoformat(),
            "actor": x.actor,
            "resource_ids": x.resource_ids,
            "ref": x.ref,
            "action": x.action,
            "matched": x.matched,
        }
        for x in (e.explanations if e is not None else [])
    ]
    if e is not None:
        doc["status"] = e.status
        doc["narrative"] = n.text if n is not None else e.narrative
        doc["narrative_source"] = n.source if n is not None else "template"
    return doc


def _document(
    result: DetectResult,
    shown: list[Anomaly],
    explained: dict[str, Explained],
    narratives: dict[str, Narrative],
    proposals: list[str],
    slack: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    usage = [n for n in narratives.values() if n.source == "llm" or n.input_tokens]
    return {
        "anomalies": [_anomaly_doc(a, explained.get(a.id), narratives.get(a.id)) for a in shown],
        "provisional": [a.model_dump(mode="json") for a in result.provisional],
        "announced": [a.model_dump(mode="json") for a in result.announced],
        "total": len(result.anomalies),
        "since": result.since,
        "settled_through": result.settled_through,
        "last_day": result.last_day,
        "min_daily_usd": result.min_daily_usd,
        "series": result.series,
        "proposals": proposals,
        "slack": slack,
        "usage": {
            "input_tokens": sum(n.input_tokens for n in usage),
            "output_tokens": sum(n.output_tokens for n in usage),
            "cost_usd": round(sum(n.cost_usd for n in usage), 6),
        },
    }


def render(
    result: DetectResult,
    shown: list[Anomaly],
    explained: dict[str, Explained],
    narratives: dict[str, Narrative],
    proposals: list[str],
    slack: list[dict[str, Any]] | None,
) -> None:
    """Human output: a table of anomalies, then narratives and evidence when explained."""
    from agent.render import console, money, print_table
    from tools.explain import label

    out = console()
    out.print(
        f"[bold]{len(result.anomalies)} anomal{'y' if len(result.anomalies) == 1 else 'ies'}[/bold] "
        f"since {result.since} (settled through {result.settled_through}; "
        f"minimum impact {money(result.min_daily_usd)}/day; {result.series:,} series)"
    )
    if shown:
        rows = [
            [
                a.id,
                f"{a.start}" + (f"..{a.end}" if a.end != a.start else ""),
                label(a),
                a.severity,
                money(a.expected_usd / a.days),
                money(a.actual_usd / a.days),
                money(a.impact_per_day_usd),
                money(a.impact_usd),
            ]
            for a in shown
        ]
        print_table(["id", "days", "where", "severity", "expected/day", "actual/day", "impact/day", "impact"], rows)
    for a in result.announced[:5]:
        events = ", ".join(a.calendar)
        out.print(f"[dim]announced[/dim] {label(a)} {money(a.impact_per_day_usd)}/day from {a.start} ({events})")
    for a in result.provisional[:5]:
        out.print(
            f"[yellow]provisional[/yellow] {label(a)} {money(a.impact_per_day_usd)}/day from {a.start} (unsettled)"
        )
    for a in shown:
        e = explained.get(a.id)
        if e is None:
            continue
        n = narratives.get(a.id)
        out.print(f"\n[bold]{a.id}[/bold] [{'green' if e.status == 'explained' else 'yellow'}]{e.status}[/]")
        out.print(n.text if n is not None else e.narrative, markup=False)
        for x in e.explanations[:3]:
            out.print(f"  {x.grade:9} {x.source:10} {x.time:%Y-%m-%d %H:%M} {x.action} ({x.ref})", markup=False)
    if proposals:
        out.print(f"\n{len(proposals)} policy proposal(s) queued: finops policies list")
    for s in slack or []:
        out.print(f"slack {s.get('channel') or 'webhook'}: {s.get('status')}")
